import { major, minor, VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE, type KFile, type Vma } from '@bpf-iter/core';
import { hex } from './format.js';

/** Width the kernel pads a maps line to before the name (`25 + sizeof(void *) * 6 - 1`). */
const MAPS_WIDTH = 72;

const PERMS: string[] = [];
for (let f = 0; f < 16; f++) {
  PERMS[f] = (f & VM_READ ? 'r' : '-') + (f & VM_WRITE ? 'w' : '-') + (f & VM_EXEC ? 'x' : '-');
}

/**
 * The part of a line after the pgoff column depends only on the backing
 * file (or name) and on where the line stands when the name is padded, so
 * it is computed once per file and column and reused for every VMA.
 */
const tailCache = new WeakMap<KFile, { col: number; tail: string }>();
const nameTailCache = new Map<string, string>();

function tail(file: KFile | null, name: string | null, col: number): string {
  if (file) {
    const c = tailCache.get(file);
    if (c && c.col === col) return c.tail;
    const t = buildTail(file.f_inode.s_dev, file.f_inode.i_ino, file.path, col);
    tailCache.set(file, { col, tail: t });
    return t;
  }
  const key = `${col}|${name ?? ''}|${name === null ? 0 : 1}`;
  let t = nameTailCache.get(key);
  if (t === undefined) {
    t = buildTail(0, 0, name, col);
    if (nameTailCache.size < 4096) nameTailCache.set(key, t);
  }
  return t;
}

function buildTail(dev: number, ino: number, name: string | null, col: number): string {
  let s = hex(major(dev), 2) + ':' + hex(minor(dev), 2) + ' ' + ino + ' ';
  if (name !== null) {
    const len = col + s.length;
    if (len < MAPS_WIDTH) s += ' '.repeat(MAPS_WIDTH - len);
    s += ' ' + name;
  }
  return s + '\n';
}

/** One line of `/proc/PID/maps` (`show_map_vma`), newline included. */
export function mapsLine(vma: Vma): string {
  const f = vma.vm_flags;
  const file = vma.vm_file;
  const head =
    hex(vma.vm_start, 8) +
    '-' +
    hex(vma.vm_end, 8) +
    ' ' +
    PERMS[f & 7]! +
    (f & VM_MAYSHARE ? 's ' : 'p ') +
    hex(file ? (vma.vm_pgoff ?? 0) * 4096 : 0, 8) +
    ' ';
  return head + tail(file, file ? file.path : vma.name, head.length);
}
