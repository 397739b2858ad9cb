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

/**
 * One fd table as `task_fd.bpf.c` saw it: fds ascending; each file's `f_op`
 * address at the same index, as two 32-bit halves (`opsLo`, `opsHi`: no
 * bigint per fd; {@link fdOpAt} makes one).
 */
export interface BpfFdOps {
  fds: Int32Array;
  opsLo: Uint32Array;
  opsHi: Uint32Array;
}

/** The `f_op` address of entry `i` of a table. */
export function fdOpAt(t: BpfFdOps, i: number): bigint {
  return (BigInt(t.opsHi[i]!) << 32n) | BigInt(t.opsLo[i]!);
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

/** Open files on the machine (`/proc/sys/fs/file-nr`'s first field), to size the tables; 0 when unreadable. */
function openFilesHint(): number {
  try {
    return parseInt(readFileSync('/proc/sys/fs/file-nr', 'latin1'), 10) || 0;
  } catch {
    return 0;
  }
}

/** @internal What {@link parseFdOps} has gathered so far: one array per field for every table, each table a span of them. */
export interface FdOpsAcc {
  fds: Int32Array;
  opsLo: Uint32Array;
  opsHi: Uint32Array;
  /** Records kept. */
  k: number;
  /** The leader whose records are being kept (-1: none yet), and where its span began. */
  cur: number;
  from: number;
  /** tgid, from, to of each span. */
  spans: number[];
}

/** Reads a task_fd iterator to EOF, keeping each leader's records (as {@link parseRecords}). */
function parseFdOps(fd: number): Map<number, BpfFdOps> {
  // Parsed read by read from one buffer (fresh memory costs a page fault per page): reads of a
  // multiple of the record size give whole records, the seq_file buffer holding whole records only.
  const buf = Buffer.allocUnsafeSlow(FD_REC * 2048);
  const u32 = new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  // Sized from the open-file count.
  const cap = Math.max(4096, Math.ceil(openFilesHint() * 1.1));
  const acc: FdOpsAcc = { fds: new Int32Array(cap), opsLo: new Uint32Array(cap), opsHi: new Uint32Array(cap), k: 0, cur: -1, from: 0, spans: [] };
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) keepFdRecords(acc, u32, (n / FD_REC) | 0);
  if (acc.k > acc.from) acc.spans.push(acc.cur, acc.from, acc.k);
  const { fds, opsLo, opsHi, spans } = acc;
  const tables = new Map<number, BpfFdOps>();
  for (let i = 0; i < spans.length; i += 3) {
    const [tgid, a, b] = [spans[i]!, spans[i + 1]!, spans[i + 2]!];
    if (!tables.has(tgid)) tables.set(tgid, { fds: fds.subarray(a, b), opsLo: opsLo.subarray(a, b), opsHi: opsHi.subarray(a, b) });
  }
  return tables;
}

/**
 * The `n` records of one read into `acc` (a function of its own: called once per read, it is
 * optimised as a whole, without the on-stack replacement and exit of one loop over the file).
 * The arrays grow (doubled) when the open-file count undersized them.
 * @internal exported for its test
 */
export function keepFdRecords(acc: FdOpsAcc, u32: Uint32Array, n: number): void {
  let k = acc.k;
  if (k + n > acc.fds.length) {
    const cap = Math.max(acc.fds.length * 2, k + n);
    const grow = <T extends Int32Array | Uint32Array>(a: T, b: T): T => (b.set(a.subarray(0, k)), b);
    acc.fds = grow(acc.fds, new Int32Array(cap));
    acc.opsLo = grow(acc.opsLo, new Uint32Array(cap));
    acc.opsHi = grow(acc.opsHi, new Uint32Array(cap));
  }
  const { fds, opsLo, opsHi } = acc;
  let cur = acc.cur;
  // A leader's records are consecutive (the kernel walks one task's table at a time); a thread
  // with a table of its own is not /proc/PID/fd's.
  for (let w = 0, end = n * 6; w < end; w += 6) {
    const tgid = u32[w]!;
    if (u32[w + 1] !== tgid) continue;
    if (tgid !== cur) {
      if (k > acc.from) acc.spans.push(cur, acc.from, k);
      cur = tgid;
      acc.from = k;
    }
    fds[k] = u32[w + 2]!;
    opsLo[k] = u32[w + 4]!;
    opsHi[k++] = u32[w + 5]!;
  }
  acc.k = k;
  acc.cur = cur;
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
