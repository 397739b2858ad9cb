import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { major, minor, type KFile, type Vma } from '@bpf-iter/core';
import { mapsLine, mapsLineInto } from '../../src/procfs/proc_maps.js';

// Only the fields a maps line reads; a file is the same object for every VMA that maps it.
const fileArb = fc.record({
  path: fc.oneof(fc.constant('/usr/lib/x86_64-linux-gnu/libc.so.6'), fc.string({ maxLength: 90 }), fc.constant('/tmp/ünïcødé (deleted)')),
  dev: fc.nat(0xffffffff),
  ino: fc.nat(2 ** 40),
}).map(({ path, dev, ino }) => ({ path, f_inode: { s_dev: dev, i_ino: ino } }) as unknown as KFile);

const addrArb = fc.oneof(fc.nat(0xffff), fc.nat(0xffffffff), fc.integer({ min: 2 ** 32, max: 2 ** 53 - 1 }), fc.constantFrom(0, 2 ** 32, 0x7ffffffff000, 0xffffffffff600000));

const vmaArb = fc.record({
  vm_start: addrArb,
  vm_end: addrArb,
  vm_flags: fc.nat(0xff),
  vm_pgoff: fc.oneof(fc.constant(null), fc.nat(2 ** 30)),
  vm_file: fc.oneof(fc.constant(null), fileArb),
  name: fc.oneof(fc.constant(null), fc.constantFrom('[heap]', '[stack]', '[vdso]', '[anon:x]')),
}).map((v) => ({ ...v, vm_flags_unknown: 0, vm_mm: null }) as unknown as Vma);

/** The line show_map_vma prints, written out independently (BigInt hex: exact past 2^32). */
function expectedLine(v: Vma): string {
  const h = (n: number, w: number): string => BigInt(n).toString(16).padStart(w, '0');
  const f = v.vm_flags;
  const file = v.vm_file;
  const dev = file ? file.f_inode.s_dev : 0;
  let s = `${h(v.vm_start, 8)}-${h(v.vm_end, 8)} ${f & 1 ? 'r' : '-'}${f & 2 ? 'w' : '-'}${f & 4 ? 'x' : '-'}${f & 0x80 ? 's' : 'p'} `;
  s += `${h(file ? (v.vm_pgoff ?? 0) * 4096 : 0, 8)} ${h(major(dev), 2)}:${h(minor(dev), 2)} ${file ? file.f_inode.i_ino : 0} `;
  const name = file ? file.path : v.name;
  if (name !== null) s = s.padEnd(72) + ' ' + name;
  return s + '\n';
}

describe('task_vma maps line as bytes', () => {
  it('mapsLineInto writes the bytes of mapsLine (addresses past 2^32 and 2^48, files, names, UTF-8 paths)', () => {
    const out = new Uint8Array(4096 + 128);
    fc.assert(
      fc.property(vmaArb, (vma) => {
        const len = mapsLineInto(vma, out);
        expect(mapsLine(vma)).toBe(expectedLine(vma));
        expect(Buffer.from(out.subarray(0, len)).toString('utf8')).toBe(mapsLine(vma));
      }),
      { numRuns: 2000 },
    );
  });

  it('the same file at another column gets its own padding (the tail cache is per column)', () => {
    const file = { path: '/bin/x', f_inode: { s_dev: 0x801, i_ino: 12 } } as unknown as KFile;
    const out = new Uint8Array(256);
    for (const start of [0x1000, 0x7f0000000000, 0x1000]) {
      const vma = { vm_start: start, vm_end: start + 0x1000, vm_flags: 5, vm_pgoff: 1, vm_file: file, name: null } as unknown as Vma;
      expect(Buffer.from(out.subarray(0, mapsLineInto(vma, out))).toString()).toBe(mapsLine(vma));
    }
  });

  it('a line longer than the buffer is -1 (the dumper then writes the string)', () => {
    const file = { path: '/' + 'a'.repeat(300), f_inode: { s_dev: 1, i_ino: 1 } } as unknown as KFile;
    const vma = { vm_start: 0, vm_end: 4096, vm_flags: 1, vm_pgoff: 0, vm_file: file, name: null } as unknown as Vma;
    expect(mapsLineInto(vma, new Uint8Array(128))).toBe(-1);
  });
});
