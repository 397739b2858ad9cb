import { major, minor, VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE, type KFile, type Vma } from '@bpf-iter/core';
import { hex } from './format.js';

/** Width the kernel pads a maps line to before the name (`25 + sizeof(void *) * 6 - 1`). */
const MAPS_WIDTH = 72;

/**
 * The part of a line after the pgoff column depends only on the backing
 * file (or name) and on where the line stands when the name is padded, so
 * it is computed once per file and column and reused for every VMA.
 */
interface Tail {
  readonly col: number;
  readonly tail: string;
  /** `tail` as UTF-8, made on first use ({@link mapsLineInto}). */
  bytes: Uint8Array | null;
}
const tailCache = new WeakMap<KFile, Tail>();
const nameTailCache = new Map<string, Tail>();

function tailOf(file: KFile | null, name: string | null, col: number): Tail {
  if (file) {
    const c = tailCache.get(file);
    if (c && c.col === col) return c;
    const t = { col, tail: buildTail(file.f_inode.s_dev, file.f_inode.i_ino, file.path, col), bytes: null };
    tailCache.set(file, t);
    return t;
  }
  const key = `${col}|${name ?? ''}|${name === null ? 0 : 1}`;
  let t = nameTailCache.get(key);
  if (t === undefined) {
    t = { col, tail: buildTail(0, 0, name, col), bytes: null };
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

/** Hex digit bytes ('0'..'9', 'a'..'f'). */
const DIGIT = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** Writes `%0{w}lx` of an integer below 2^53 at `at` in `out`; returns the end. */
function hexInto(out: Uint8Array, at: number, n: number, w: number): number {
  const hi = n >= 0x100000000 ? Math.floor(n / 0x100000000) : 0;
  let lo = n >>> 0;
  // Digits of the low 32 bits (all 8 of them when the high part prints too).
  let nd = 1;
  while (nd < 8 && lo >>> (4 * nd) !== 0) nd++;
  if (hi !== 0) nd = 8;
  let hd = 0;
  for (let h = hi; h !== 0; h = Math.floor(h / 16)) hd++;
  for (let pad = w - nd - hd; pad > 0; pad--) out[at++] = 0x30;
  for (let i = hd - 1, h = hi; i >= 0; i--, h = Math.floor(h / 16)) out[at + i] = DIGIT[h % 16]!;
  at += hd;
  for (let i = nd - 1; i >= 0; i--, lo >>>= 4) out[at + i] = DIGIT[lo & 15]!;
  return at + nd;
}

/**
 * Writes the columns before the device of a maps line (`start-end perms
 * pgoff `, at most 56 bytes) into `out` from 0; returns their length.
 */
function mapsHeadInto(vma: Vma, out: Uint8Array): number {
  const f = vma.vm_flags;
  let at = hexInto(out, 0, vma.vm_start, 8);
  out[at++] = 0x2d; // '-'
  at = hexInto(out, at, vma.vm_end, 8);
  out[at++] = 0x20;
  out[at++] = f & VM_READ ? 0x72 : 0x2d;
  out[at++] = f & VM_WRITE ? 0x77 : 0x2d;
  out[at++] = f & VM_EXEC ? 0x78 : 0x2d;
  out[at++] = f & VM_MAYSHARE ? 0x73 : 0x70;
  out[at++] = 0x20;
  at = hexInto(out, at, vma.vm_file ? (vma.vm_pgoff ?? 0) * 4096 : 0, 8);
  out[at++] = 0x20;
  return at;
}

const headBuf = Buffer.alloc(64);

/** One line of `/proc/PID/maps` (`show_map_vma`), newline included. */
export function mapsLine(vma: Vma): string {
  const n = mapsHeadInto(vma, headBuf);
  return headBuf.toString('latin1', 0, n) + tailOf(vma.vm_file, vma.name, n).tail;
}

/**
 * {@link mapsLine} written as bytes into `out` (at least 64 bytes) from 0 (a
 * program's own buffer, handed to `bpf_seq_write`): no string per line.
 * Returns the length, or -1 when the line does not fit in `out` (call
 * {@link mapsLine}).
 */
export function mapsLineInto(vma: Vma, out: Uint8Array): number {
  const at = mapsHeadInto(vma, out);
  const tail = tailOf(vma.vm_file, vma.name, at);
  const t = (tail.bytes ??= Buffer.from(tail.tail, 'utf8'));
  if (at + t.length > out.length) return -1;
  out.set(t, at);
  return at + t.length;
}
