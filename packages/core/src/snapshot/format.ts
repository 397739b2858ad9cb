/**
 * The snapshot format (docs/snapshots.md): gzip-compressed JSON Lines, one
 * record per line, each an object whose `k` names its kind. The first line
 * is the header, the last the trailer; objects refer to each other by the
 * index they were written under (fops, pid namespaces, sockets, files, fd
 * tables, VMA layouts, address spaces), by pid (tasks) or by id (cgroups,
 * BPF objects). Version 2 writes the many-object kinds (task, files,
 * layout, mm) as blocks of rows held column-wise, each numeric column a
 * base64 little-endian typed array; version 1 (one keyed object per
 * object) still loads.
 */
import { endianness } from 'node:os';

/** The `format` field of every snapshot header. */
export const SNAPSHOT_FORMAT = 'bpf-iter-snapshot';
/** The format version this code writes and the newest it reads. */
export const SNAPSHOT_VERSION = 2;

/** Record kinds, in the order a snapshot holds them (a record refers only to kinds before it; tasks name parents anywhere). */
export const SNAPSHOT_KINDS = [
  'kernel',
  'fops',
  'pidns',
  'cgroup',
  'socket',
  'dmabuf',
  'file',
  'files',
  'layout',
  'mm',
  'unlisted',
  'task',
  'members',
  'route',
  'ksyms',
  'kmem_cache',
  'map',
  'prog',
  'link',
] as const;
export type SnapshotKind = (typeof SNAPSHOT_KINDS)[number];

/** The header line: what the snapshot holds and where it came from. */
export interface SnapshotHeader {
  k: 'snapshot';
  format: typeof SNAPSHOT_FORMAT;
  version: number;
  /** `host`, `bpf`, `synthetic:SEED`, `synthetic` (hand-built) or `empty`; a snapshot of a snapshot keeps its source. */
  source: string;
  /** Host name of the machine, when known. */
  machine?: string;
  /** `uname -r` of the kernel the model came from, when known. */
  release?: string;
  /** When the snapshot was written (ISO 8601). */
  time: string;
  /** Objects per kind (see {@link snapshotCounts}). */
  counts: Record<string, number>;
  /** The fields pseudonymised at save (`comm`, `paths`, `addresses`), if any. */
  redacted?: string[];
}

/** The trailer line: its record count proves the file is whole. */
export interface SnapshotTrailer {
  k: 'end';
  /** Lines before the trailer, header included. */
  records: number;
}

/** Lowercase hex of bytes (addresses, keys, values). */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** A u64 as the format holds it: a decimal string (JSON numbers stop at 2^53). */
export function u64(v: bigint): string {
  return v.toString();
}

/** Element types of the numeric columns of version 2 blocks (little-endian). */
export type ColumnArray = Int32Array | Uint32Array | Float64Array | Uint8Array;

const bigEndian = endianness() === 'BE';

/** Bytes of a typed array in little-endian order (a copy, byte-swapped, only on a big-endian machine). */
function littleEndian(a: ColumnArray): Buffer {
  const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (!bigEndian || a.BYTES_PER_ELEMENT === 1) return b;
  const c = Buffer.from(b);
  if (a.BYTES_PER_ELEMENT === 4) c.swap32();
  else c.swap64();
  return c;
}

/** A numeric column as a version 2 block holds it: base64 of its little-endian bytes. */
export function encodeColumn(a: ColumnArray): string {
  return littleEndian(a).toString('base64');
}

/**
 * The typed array a base64 column holds, or null when it is not `n` values
 * of that type (the caller names the column in its error). Copied into an
 * array of its own (aligned, the machine's byte order).
 */
export function decodeColumn<T extends ColumnArray>(s: unknown, type: { new (n: number): T; BYTES_PER_ELEMENT: number }, n: number): T | null {
  if (typeof s !== 'string' || s.length !== Math.ceil((n * type.BYTES_PER_ELEMENT) / 3) * 4) return null;
  const out = new type(n);
  const bytes = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  // Decoded straight into the column. Whatever bytes decode, the loader range-checks every
  // value: only the length must fit.
  if (bytes.write(s, 'base64') !== bytes.length) return null;
  if (bigEndian && type.BYTES_PER_ELEMENT === 4) bytes.swap32();
  if (bigEndian && type.BYTES_PER_ELEMENT === 8) bytes.swap64();
  return out;
}
