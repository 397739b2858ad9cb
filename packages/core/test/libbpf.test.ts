/**
 * The libbpf module on the real kernel: globals typed from BTF (every mapped
 * kind), set before load and live after (the program's own counter reads
 * back), `.rodata` frozen by the kernel, bad values one clear errno each;
 * objects, programs and links destroyed once. Skips with the reason where
 * BPF cannot run.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attachKernelIter } from '@bpf-iter/core/internal';
import { openObject, Btf, type BpfObject } from '@bpf-iter/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availability, suiteTitle } from './bpf_fixture.js';

const SRC = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char _license[] SEC("license") = "GPL";
struct cfg { int a; char tag[8]; __u64 b; };
const volatile int limit = 5;
char name[16] = "abc";
__u64 big = 1;
bool flag;
struct cfg cfg;
int arr[3];
__s8 small;
__u32 seen = 0;
SEC("iter/task")
int count(struct bpf_iter__task *ctx)
{
	if (!ctx->task)
		return 0;
	if (seen < limit && flag)
		seen++;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(ctx->meta->seq, "%s %llu %d %s %llu %d %d\\n", name, big, cfg.a, cfg.tag, cfg.b, arr[2], small);
	return 0;
}
`;

function readAll(fd: number): string {
  const b = Buffer.alloc(65536);
  let s = '';
  try {
    for (let n; (n = readSync(fd, b, 0, b.length, null)) > 0; ) s += b.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
  return s;
}

const a = availability('libbpf');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

it('importing the libraries does not load koffi (the FFI loads on first use)', () => {
  const script = `
import { createRequire } from 'node:module';
const M = createRequire(import.meta.url)('module');
await import('./packages/iter-programs/src/index.ts');
await import('./packages/core/src/index.ts');
process.stdout.write(String(Object.keys(M._cache).some((k) => k.includes('/koffi/'))));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--conditions=@bpf-iter/source', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  expect(out).toBe('false');
});

describe.skipIf(!a.ok)(suiteTitle('libbpf in-process: objects, BTF-typed globals, links', a), () => {
  let dir: string;
  let src: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpf-libbpf-'));
    src = join(dir, 'globals.bpf.c');
    writeFileSync(src, SRC);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists each section\'s globals with their C types and offsets (static format strings left out)', () => {
    using o = openObject(src);
    expect(o.globals('.bss').map((v) => `${v.type} ${v.name}@${v.offset}`)).toEqual(['__u32 seen@0', 'bool flag@4', 'struct cfg cfg@8', 'int[3] arr@32', '__s8 small@44']);
    expect(o.globals('.data').map((v) => `${v.type} ${v.name}`)).toEqual(['char[16] name', '__u64 big']);
    expect(o.globals('.rodata').map((v) => `${v.type} ${v.name}`)).toEqual(['const volatile int limit']);
    expect(o.btf).toBeInstanceOf(Btf);
    expect(Object.keys(o.bss)).toEqual(['seen', 'flag', 'cfg', 'arr', 'small']);
  });

  it('initial values decode by type; values set before load are what the program sees', () => {
    using o = openObject(src);
    expect([o.bss.flag, o.data.name, o.data.big, o.bss.arr, o.rodata.limit, o.bss.small]).toEqual([false, 'abc', 1n, [0, 0, 0], 5, 0]);
    const cfg = o.bss.cfg as { a: number; tag: string; b: bigint };
    expect({ ...cfg }).toEqual({ a: 0, tag: '', b: 0n });
    o.data.name = 'xyz';
    o.data.big = 2n ** 63n;
    o.bss.flag = true;
    cfg.a = 7; // a struct member writes through
    cfg.tag = 'tg';
    o.bss.arr = [1, 2, 3];
    o.bss.small = -3;
    o.rodata.limit = 2;
    o.load();
    const link = attachKernelIter(o.program('count'), null, 0);
    try {
      expect(readAll(link.createIterFd())).toBe('xyz 9223372036854775808 7 tg 0 3 -3\n');
      // After load the globals are the live map: the program counted up to limit (2).
      expect(o.bss.seen).toBe(2);
      o.bss.seen = 0;
      expect(o.bss.seen).toBe(0);
      readAll(link.createIterFd());
      expect(o.bss.seen).toBe(2);
      // .rodata is frozen at load: the kernel refuses the write.
      expect(() => (o.rodata.limit = 9)).toThrow(/^EPERM: write \.rodata/);
      expect(o.rodata.limit).toBe(2);
    } finally {
      link.destroy();
    }
  });

  it('a wrong value is one clear errno and changes nothing', () => {
    using o = openObject(src);
    expect(() => (o.data.name = 'x'.repeat(16))).toThrow(/^E2BIG: \.data\.name: 16 bytes do not fit char\[16\] with its NUL/);
    expect(() => (o.bss.small = 128)).toThrow(/^EINVAL: \.bss\.small \(__s8\): 128 out of range \[-128, 127\]/);
    expect(() => (o.bss.seen = -1)).toThrow(/^EINVAL: .*out of range/);
    expect(() => (o.bss.seen = 1.5)).toThrow(/^EINVAL: .*not an integer/);
    expect(() => (o.bss.flag = 'yes')).toThrow(/^EINVAL: .*expected a boolean/);
    expect(() => (o.bss.arr = [1, 2, 3, 4])).toThrow(/^EINVAL: .*at most 3 elements/);
    expect(() => (o.bss.cfg = { nope: 1 })).toThrow(/^ENOENT: .*no member 'nope' in struct cfg/);
    expect(() => (o.bss.missing = 1)).toThrow(/^ENOENT: no global 'missing' in \.bss/);
    expect(() => delete o.bss.seen).toThrow(/^EINVAL/);
    expect([o.data.name, o.bss.small, o.bss.seen, o.bss.arr]).toEqual(['abc', 0, 0, [0, 0, 0]]);
  });

  it('lifetimes: close is idempotent, use after close is EBADF, links outlive their object', () => {
    const o: BpfObject = openObject(src).load();
    const link = attachKernelIter(o.program('count'), null, 0);
    o.close();
    o.close();
    expect(o.state).toBe('closed');
    expect(() => o.bss.seen).toThrow(/^EBADF/);
    expect(() => o.program('count')).toThrow(/^EBADF/);
    expect(readAll(link.createIterFd())).toMatch(/^abc 1 0/); // the kernel keeps the program and its maps
    link.destroy();
    link.destroy();
    expect(link.destroyed).toBe(true);
    expect(() => link.createIterFd()).toThrow(/^EBADF/);
  });

  it('load twice is EINVAL; a program of another kind is named, not attached', () => {
    using o = openObject(src).load();
    expect(() => o.load()).toThrow(/^EINVAL: .*already loaded/);
    expect(o.program('count').target).toBe('task');
    expect(o.firstIterProgram().name).toBe('count');
  });
});
