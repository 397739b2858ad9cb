/**
 * The `/proc/PID/fd/N` link of every open fd, from the kernel's own
 * task_file iterator (`bpf/task_file.bpf.c`: `bpf_d_path(&file->f_path)`,
 * the `d_path()` that proc's readlink calls, run in the reading process as
 * readlink is) instead of one `readlink(2)` per fd: one pass over every
 * task's table, ~1 µs of kernel time per fd against ~6.5 µs per readlink.
 *
 * Used by the async snapshot (`readHostWithReportAsync`) for the links of
 * the fds it listed; an fd the pass did not report (opened since, in a task
 * the iterator does not show, a path longer than the record's 256 bytes)
 * is read with readlink, as before. The lazy host source (`openHost`)
 * lists fd tables with the smaller `bpf/task_fd.bpf.c` ({@link readFdOpsBpf}):
 * fds and `f_op` addresses only, one getdents' worth of kernel time less.
 */
import { closeSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { attachLightIter, loadLightObject } from '../libbpf/light.js';
import { createIterFd } from '../libbpf/link.js';
import { bpfKernelAvailable, buildBpfPrograms, prebuiltBpfDir } from './bpf.js';
import { parseStatus } from './procfs/status.js';

/** `struct rec_task_file` (bpf/records.h): 56 bytes of fields, then `char path[256]`. */
const REC = 312;
const PATH_AT = 56;
const PATH_LEN = 256;

/** One fd table as the iterator saw it: fds ascending, their links ('' where `bpf_d_path` failed). */
export interface BpfFdTable {
  fds: number[];
  links: string[];
}

/** What {@link readFdLinksBpf} read, or why it could not. */
export type BpfFdLinks = { ok: true; tables: Map<number, BpfFdTable> } | { ok: false; reason: string };

/**
 * Why the iterator's pids are not the ones /proc shows here, or null when
 * they are: `task->tgid` is the initial namespace's number, so the reader
 * must be in it, and `/proc` must be its own.
 */
function pidsDiffer(): string | null {
  try {
    if (readlinkSync('/proc/self') !== String(process.pid)) return '/proc is not this pid namespace\'s';
    if (parseStatus(readFileSync('/proc/self/status', 'utf8')).nspid.length > 1) return 'this process is in a child pid namespace (the iterator reports initial-namespace pids)';
  } catch (e) {
    return `cannot check the pid namespace: ${(e as Error).message}`;
  }
  return null;
}

/**
 * The fd tables of every process (thread-group leaders' tables: those
 * /proc/PID/fd shows), or of `pid` alone, keyed by pid. Never throws: where
 * BPF cannot run here the reason is returned and the caller reads /proc.
 * The committed objects only, unless `build` (then built on demand, as
 * {@link buildBpfPrograms}).
 */
export function readFdLinksBpf(pid?: number, opts: { build?: boolean } = {}): BpfFdLinks {
  const r = runTaskFileIter('task_file.bpf.o', pid, opts, parseRecords);
  return r.ok ? { ok: true, tables: r.value } : r;
}

/** One fd table as `task_fd.bpf.c` saw it: fds ascending, each file's `f_op` address at the same index. */
export interface BpfFdOps {
  fds: Int32Array;
  ops: BigUint64Array;
}

/** What {@link readFdOpsBpf} read, or why it could not. */
export type BpfFdOpsTables = { ok: true; tables: Map<number, BpfFdOps> } | { ok: false; reason: string };

/**
 * The fd tables of every process (or of `pid` alone), keyed by pid, with
 * each file's `f_op` address and nothing else (`bpf/task_fd.bpf.c`: no
 * `bpf_d_path`, 24 bytes per fd): how the lazy host source lists tables
 * where BPF runs. Never throws; where BPF cannot run the reason is returned.
 */
export function readFdOpsBpf(pid?: number, opts: { build?: boolean } = {}): BpfFdOpsTables {
  const r = runTaskFileIter('task_fd.bpf.o', pid, opts, parseFdOps);
  return r.ok ? { ok: true, tables: r.value } : r;
}

/**
 * Loads one of the task_file programs, runs it over every task (or `pid`'s
 * threads: `union bpf_iter_link_info`'s task.pid) and parses what it wrote;
 * the object, link and iterator fds are closed before it returns.
 */
function runTaskFileIter<T>(object: string, pid: number | undefined, opts: { build?: boolean }, parse: (fd: number) => T): { ok: true; value: T } | { ok: false; reason: string } {
  const k = bpfKernelAvailable();
  if (!k.ok) return { ok: false, reason: `${k.errno}: ${k.reason}` };
  const differ = pidsDiffer();
  if (differ) return { ok: false, reason: differ };
  let obj;
  try {
    // Only the committed objects unless asked: no compiler run, no bpffs mount for a snapshot.
    const dir = opts.build ? buildBpfPrograms() : prebuiltBpfDir();
    if (!dir) return { ok: false, reason: 'the prebuilt BPF objects do not match their sources (node packages/core/scripts/build-bpf.mjs --prebuilt)' };
    obj = loadLightObject(join(dir, object));
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  try {
    let info: Buffer | null = null;
    if (pid !== undefined) {
      info = Buffer.alloc(16);
      info.writeUInt32LE(pid, 4); // union bpf_iter_link_info: task.pid
    }
    const linkFd = attachLightIter(obj.firstIterProgram(), info);
    try {
      const iterFd = createIterFd(linkFd);
      try {
        return { ok: true, value: parse(iterFd) };
      } finally {
        closeSync(iterFd);
      }
    } finally {
      closeSync(linkFd);
    }
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  } finally {
    obj.close();
  }
}

/** `struct rec_task_fd` (bpf/records.h): tgid, pid, fd, pad, f_op. */
const FD_REC = 24;

/** Reads a task_fd iterator to EOF, keeping each leader's records (as {@link parseRecords}). */
function parseFdOps(fd: number): Map<number, BpfFdOps> {
  // Grown by doubling: most of the bytes are 100k-fd tables of a few processes.
  let buf = Buffer.allocUnsafeSlow(FD_REC * 16384);
  let have = 0;
  for (;;) {
    if (buf.length - have < FD_REC * 1024) {
      const b = Buffer.allocUnsafeSlow(buf.length * 2);
      buf.copy(b, 0, 0, have);
      buf = b;
    }
    const n = readSync(fd, buf, have, buf.length - have, null);
    if (n === 0) break;
    have += n;
  }
  // The records of one process are consecutive (the kernel walks one task's table at a time): count, then copy.
  const tables = new Map<number, BpfFdOps>();
  const u32 = new Uint32Array(buf.buffer, buf.byteOffset, (have / 4) | 0);
  const u64 = new BigUint64Array(buf.buffer, buf.byteOffset, (have / 8) | 0);
  const recs = (have / FD_REC) | 0;
  for (let i = 0; i < recs; ) {
    const w = i * 6;
    const tgid = u32[w]!;
    let j = i;
    while (j < recs && u32[j * 6] === tgid) j++;
    let k = 0;
    for (let x = i; x < j; x++) if (u32[x * 6 + 1] === tgid) k++;
    if (k > 0 && !tables.has(tgid)) {
      const fds = new Int32Array(k);
      const ops = new BigUint64Array(k);
      k = 0;
      for (let x = i; x < j; x++) {
        if (u32[x * 6 + 1] !== tgid) continue;
        fds[k] = u32[x * 6 + 2]!;
        ops[k++] = u64[x * 3 + 2]!;
      }
      tables.set(tgid, { fds, ops });
    }
    i = j;
  }
  return tables;
}

/** Reads the iterator to EOF, keeping each leader's records (a thread with its own table is not in /proc/PID/fd). */
function parseRecords(fd: number): Map<number, BpfFdTable> {
  const tables = new Map<number, BpfFdTable>();
  const buf = Buffer.allocUnsafe(REC * 1024);
  let have = 0;
  let cur: BpfFdTable | null = null;
  let curPid = -1;
  // Runs of fds of one path (100k of /dev/null) share one string: compared as bytes, decoded once.
  let prev = Buffer.alloc(0);
  let prevLink = '';
  for (;;) {
    const n = readSync(fd, buf, have, buf.length - have, null);
    if (n === 0) break;
    have += n;
    let o = 0;
    for (; o + REC <= have; o += REC) {
      const tgid = buf.readUInt32LE(o);
      if (buf.readUInt32LE(o + 4) !== tgid) continue;
      if (tgid !== curPid) {
        curPid = tgid;
        cur = tables.get(tgid) ?? null;
        if (!cur) tables.set(tgid, (cur = { fds: [], links: [] }));
      }
      const p = o + PATH_AT;
      let end = buf.indexOf(0, p);
      if (end < 0 || end > p + PATH_LEN) end = p + PATH_LEN;
      let link = '';
      if (end > p) {
        if (end - p === prev.length && buf.compare(prev, 0, prev.length, p, end) === 0) link = prevLink;
        else {
          link = buf.toString('utf8', p, end);
          prev = Buffer.from(buf.subarray(p, end));
          prevLink = link;
        }
      }
      cur!.fds.push(buf.readUInt32LE(o + 8));
      cur!.links.push(link);
    }
    buf.copy(buf, 0, o, have);
    have -= o;
  }
  return tables;
}
