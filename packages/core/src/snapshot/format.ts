/**
 * The snapshot format (docs/snapshots.md): gzip-compressed JSON Lines, one
 * record per line, each an object whose `k` names its kind. The first line
 * is the header, the last the trailer; objects refer to each other by the
 * index they were written under (fops, pid namespaces, sockets, files, fd
 * tables, address spaces), by pid (tasks) or by id (cgroups, BPF objects).
 */

/** The `format` field of every snapshot header. */
export const SNAPSHOT_FORMAT = 'bpf-iter-snapshot';
/** The format version this code writes and the newest it reads. */
export const SNAPSHOT_VERSION = 1;

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
