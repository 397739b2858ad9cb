/**
 * The host source: a snapshot of this Linux machine, read from /proc and
 * /sys into a {@link Kernel} (source `'host'`).
 *
 * Reading is synchronous (a few small reads per task and fd; sync syscalls
 * beat the promise machinery by far for thousands of tiny /proc files) and
 * happens in two phases: first every process is read into plain records, so
 * a process that vanishes half-way is dropped whole; then the model is
 * built from the records. {@link readHostWithReportAsync} reads the fd
 * links (one readlink per fd, most of the time) on several threads and
 * builds the same model.
 */
import { lstatSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, hostname } from 'node:os';
import { BpfError } from '../errors.js';
import { Kernel, type CreateTaskOptions } from '../kernel.js';
import type { Cgroup } from '../model/cgroup.js';
import { KFile, mkdev, O_CLOEXEC, S_IFCHR, S_IFREG, type FileOperations, type Inode, type KFileFields } from '../model/file.js';
import { FilesStruct, type FdList, type FilesLoader } from '../model/files_struct.js';
import { KmemCache } from '../model/kmem_cache.js';
import { DmaBuf } from '../model/dmabuf.js';
import { MmStruct, VM_EXEC, VM_FLAGS_ALL, VM_MAYSHARE, VM_READ, VM_WRITE, vmaLayout, type VmaLayout } from '../model/mm.js';
import type { PidNamespace } from '../model/pid_namespace.js';
import { Ipv6Route, RTF_GATEWAY } from '../model/route.js';
import { AF_INET, AF_INET6, AF_NETLINK, AF_UNIX, Socket, SS_CONNECTED, SS_CONNECTING, SS_UNCONNECTED, TCP_CLOSE, TCP_ESTABLISHED, TCP_LISTEN, __SO_ACCEPTCON } from '../model/socket.js';
import { PF_KTHREAD, PF_WQ_WORKER, stateUnknownOf, type Task, type TaskCredLoader, type TaskState } from '../model/task.js';
import { buildVmaLayout, possibleCpus, readIfExists, readUdpHashEntries, SocketTableBuilder, TaskTreeBuilder, type VmaRecord } from './build.js';
import { parseCgroupV2Path } from './procfs/cgroup.js';
import { parseFdinfo, type FdInfo } from './procfs/fdinfo.js';
import { configLacksKallsymsAll, fileHasDataObjects, findSymbols, forEachKsym, hasDataObjects } from './procfs/kallsyms.js';
import { fopsName, modeOfLink } from './procfs/fops.js';
import { parseIpv6Route } from './procfs/ipv6_route.js';
import { parseMaps, type MapsRow } from './procfs/maps.js';
import { parseMountinfo, type MountInfo } from './procfs/mountinfo.js';
import { parseInetTable, parseNetlink, parseUnix, udpHashSlots, type InetRow, type UnixRow } from './procfs/net.js';
import { errCode, isGone, listDir, readLink, readSingle, readText, readUtf8 } from './procfs/read.js';
import { readLinksParallel } from './procfs/readlinks.js';
import { fdOpAt, readFdOpsBpf, type BpfFdOps } from './bpf_fd_links.js';
import { parseSlabinfo } from './procfs/slabinfo.js';
import { parseSmaps, type SmapsRow } from './procfs/smaps.js';
import { parseStat, type ProcStat } from './procfs/stat.js';
import { parseStatus, type ProcStatus } from './procfs/status.js';

/** Options of {@link readHost}. Every part is on by default. */
export interface HostOptions {
  /** Root of the tree to read (`<root>/proc`, `<root>/sys`); default `/`. Point it at a captured tree in tests. */
  root?: string;
  /** Read every thread (`/proc/PID/task/*`); when false, only thread-group leaders. */
  threads?: boolean;
  /** Read fd tables (`/proc/PID/fd`). */
  files?: boolean;
  /** Read `/proc/PID/fdinfo/N` for each fd (`pos`, `flags`, `ino` of anon inodes). */
  fdinfo?: boolean;
  /** Read address spaces (`/proc/PID/maps`, or smaps with {@link vmFlags}). */
  vmas?: boolean;
  /**
   * Read the VMAs from `/proc/PID/smaps` for the kernel's `vm_flags` (its
   * `VmFlags:` line). smaps also computes every VMA's page counters: about
   * 12x the time of maps (on the reference machine ~0.3 s more per
   * snapshot). When false, `vm_flags` holds only the bits maps shows
   * (VM_READ, VM_WRITE, VM_EXEC, VM_MAYSHARE) and marks the rest unknown
   * (`vm_flags_unknown`).
   */
  vmFlags?: boolean;
  /** Read `/proc/net/{tcp,tcp6,udp,udp6,unix,netlink}`. */
  sockets?: boolean;
  /** Read `/proc/net/ipv6_route`. */
  routes?: boolean;
  /** Load every kernel symbol from `/proc/kallsyms` into `kernel.ksyms`. */
  ksyms?: boolean;
  /**
   * Use the real addresses of the `file_operations` tables from kallsyms
   * (needs root and CONFIG_KALLSYMS_ALL; otherwise kernel.fops makes them
   * up and marks them synthetic). Defaults to the value of `ksyms`, since
   * it costs the same kallsyms read.
   */
  realFops?: boolean;
  /** Read `/proc/slabinfo` (root only) into kmem caches. */
  slabs?: boolean;
  /** Read the cgroup v2 tree and each task's cgroup. */
  cgroups?: boolean;
  /** The cgroup v2 mount point; found in mountinfo when omitted. */
  cgroupMount?: string;
  /** Only these processes (by pid as /proc shows it); all when omitted. */
  pids?: readonly number[];
}

/** One read that failed for a reason other than the task vanishing. */
export interface HostReadError {
  path: string;
  /** errno name (`EACCES`, `EPERM`, `EISDIR`...). */
  code: string;
}

/** What a snapshot skipped or could not see, and what it holds. */
export interface HostReport {
  /** Pids and tids that vanished while being read (skipped). */
  vanished: number[];
  /**
   * Pids of tasks kept but only partly read: access to their fds or maps
   * was refused, so `files` or `mm` is null in the model.
   */
  denied: number[];
  /** The failed reads behind {@link denied} and other unreadable sources (kallsyms, slabinfo...). */
  errors: HostReadError[];
  /** Real inode numbers of the pid namespaces (the model numbers namespaces itself). */
  pidNsInodes: Map<PidNamespace, number>;
  counts: {
    processes: number;
    threads: number;
    fds: number;
    vmas: number;
    sockets: number;
    ksyms: number;
    cgroups: number;
    routes: number;
    slabs: number;
  };
  /** Wall time of the snapshot. */
  elapsedMs: number;
  /** Where {@link readHostWithReportAsync} read the fd links: the kernel's task_file iterator or readlink (see `fdLinks`). */
  fdLinks?: 'bpf' | 'procfs';
  /** Of the fds listed, how many links were read by readlink (all of them with `'procfs'`; with `'bpf'`, those the iterator did not report). */
  fdLinksByReadlink?: number;
  /** Where {@link openHostWithReport} listed the fd tables (see `fdTables`); set when the first table is listed. */
  fdTables?: 'bpf' | 'procfs';
}

/** Nanoseconds per clock tick: USER_HZ is 100 on every Linux ABI. */
const NS_PER_TICK = 10_000_000;
/** `MAX_RT_PRIO`: stat's `priority` column is `task->prio - MAX_RT_PRIO`. */
const MAX_RT_PRIO = 100;

interface RawTask {
  tid: number;
  stat: ProcStat;
  /**
   * null: not read (the lazy source, for a task of the reader's pid
   * namespace: its NSpid is its tid alone, and uid/gid are read on first access).
   */
  status: ProcStatus | null;
  cgroup: string | null;
}

/** The `NSpid:` numbers of a task: its tid alone when its status was not read (the reader's pid namespace). */
function nspidOf(t: RawTask): number[] {
  return t.status ? t.status.nspid : [t.tid];
}

/** One stat shared by many fds: of a pseudo-filesystem kind, or of one path in one mount namespace. */
interface StatEntry {
  mode: number;
  /** Userspace dev_t. */
  dev: number;
  /** The path's inode (kinds have none: each pipe or socket has its own). */
  ino?: number;
  /** Phase 2's memo: the inode the path's files share. */
  inode?: Inode;
  /** Phase 2's memo: the fops name of this path's fds with fdinfo flags `fopsFlags`. */
  fops?: string;
  fopsFlags?: number;
}

interface RawFd {
  fd: number;
  link: string;
  info: FdInfo | null;
  ino: number;
  mode: number;
  /** Userspace dev_t from stat, -1 if unknown. */
  dev: number;
  /** The cached stat of the link's path, if any (shared with the other fds of that path). */
  st: StatEntry | null;
  /** Name of the file's fops (set in phase 2). */
  fops: string;
}

interface RawProc {
  pid: number;
  /** Inode of /proc/PID/ns/pid, -1 when unreadable. */
  nsIno: number;
  kthread: boolean;
  tasks: RawTask[];
  /** null: not read (kthread, option off) or refused. */
  fds: RawFd[] | null;
  /** Rows of maps, or of smaps (with the kernel's vm_flags). */
  maps: (MapsRow | SmapsRow)[] | null;
}

const TASK_STATES = new Set<string>(['R', 'S', 'D', 'T', 't', 'Z', 'X', 'P', 'I']);

function taskState(s: string): TaskState {
  if (TASK_STATES.has(s)) return s as TaskState;
  if (s === 'x') return 'X';
  return s === 'W' || s === 'K' ? 'D' : 'S';
}

/** Userspace `dev_t` (glibc/`new_encode_dev`) -> the kernel's internal {@link mkdev} encoding. */
function kdevOfStat(dev: number): number {
  const lo = dev % 0x100000000;
  const hi = Math.floor(dev / 0x100000000);
  const maj = ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
  const min = (lo & 0xff) | ((lo >>> 12) & 0xfff00) | ((hi & 0xfff) << 20);
  return mkdev(maj, min);
}

/** The inode number in links like `socket:[123]`, `pipe:[45]`, or -1. */
function linkIno(link: string): number {
  const b = link.indexOf(':[');
  if (b <= 0 || !link.endsWith(']')) return -1;
  const s = link.slice(b + 2, -1);
  return /^\d+$/.test(s) ? Number(s) : -1;
}

/** Reads the host into a new {@link Kernel} (source `'host'`). See {@link readHostWithReport}. *
 * @throws The fs error (its `code` the errno name, e.g. EACCES, ENOENT) when a
 * system-wide table (/proc/net/*, /proc/kallsyms, the cgroup tree...) cannot be
 * read; per-task failures never throw (the task keeps `files`/`mm` null).
 *
 * @example
 * ```ts
 * import { readHost, setDefaultKernel } from '@bpf-iter/core';
 * setDefaultKernel(readHost()); // iterators now walk this machine's /proc snapshot
 * ```
 */
export function readHost(options: HostOptions = {}): Kernel {
  return readHostWithReport(options).kernel;
}

/**
 * Reads the host into a new {@link Kernel} and reports what could not be read.
 *
 * - Tasks: `/proc/PID/task/TID/{stat,status,cgroup}`; pid namespaces from
 *   `/proc/PID/ns/pid` and the `NSpid:` line. The reader's pid namespace
 *   becomes the model's initial one.
 * - Threads share their leader's fd table and address space (the default
 *   of `pthread_create`); a thread with a private fd table (`clone` without
 *   CLONE_FILES) cannot be told apart from /proc cheaply and is modeled as sharing.
 * - Files: one `KFile` per (process, fd); files shared between processes
 *   (after fork or fd passing) are not identifiable from /proc and become
 *   separate objects. Socket files point (`private_data`) at the socket of
 *   the same inode.
 * - VMAs: `/proc/PID/maps`, every field kept so the lines can be printed again.
 * - Sockets: the /proc/net tables of the reader's network namespace, hashed
 *   so that walk order equals file order.
 *
 * Processes that vanish mid-read are skipped; refused reads keep the task
 * with `files`/`mm` null and list it in `report.denied`. Never throws for
 * per-task failures.
 */
export function readHostWithReport(options: HostOptions = {}): { kernel: Kernel; report: HostReport } {
  const s = startSnapshot(options);
  for (const pid of s.pids) {
    const h = readProcessHead(s, pid);
    if (!h) continue;
    const { fdDir, fdNames } = h;
    const raw = readProcessRest(s, h, (i) => readLink(fdDir + fdNames![i]!));
    if (raw) s.procs.push(raw);
  }
  return buildHost(s);
}

/** Options of {@link readHostAsync}: those of {@link readHost}, and how many threads read fd links. */
export interface HostAsyncOptions extends HostOptions {
  /**
   * Threads reading the `/proc/PID/fd/N` links, the calling one included;
   * the others are worker threads started for the call (not below 2,048
   * fds). Default: `os.availableParallelism()`, at most 4.
   */
  readers?: number;
  /**
   * Where the fd links come from: `'procfs'`, one `readlink` of
   * `/proc/PID/fd/N` per fd; `'bpf'`, the kernel's task_file iterator
   * (`bpf_d_path`, the `d_path()` proc's readlink runs: the same strings),
   * with readlink for the fds it did not report; an error (the errno and the
   * reason) where BPF cannot run (objects built on demand if the committed
   * ones are stale). Default `'auto'`: `'bpf'` where it runs as it is
   * (root, kernel BTF, this pid namespace the initial one, the committed
   * objects current, no `root` tree: nothing compiled or mounted), else
   * `'procfs'`. {@link HostReport.fdLinks} says which one read them.
   */
  fdLinks?: 'auto' | 'bpf' | 'procfs';
}

/** {@link readHost} with the fd links read on several threads. See {@link readHostWithReportAsync}. */
export async function readHostAsync(options: HostAsyncOptions = {}): Promise<Kernel> {
  return (await readHostWithReportAsync(options)).kernel;
}

/**
 * {@link readHostWithReport} with the fd links read on several threads:
 * the same model, sooner when processes hold many fds (one `readlink` per
 * fd is most of a snapshot's time; each thread does a share of them).
 *
 * Every process's tasks are read and its fd directory listed first, then
 * all links (this thread and `readers - 1` worker threads, not the libuv
 * threadpool), then fdinfo, stats and maps per process as in the
 * synchronous version, which also builds the model. The calling thread is
 * busy throughout; the promise only frees it at the end.
 */
export async function readHostWithReportAsync(options: HostAsyncOptions = {}): Promise<{ kernel: Kernel; report: HostReport }> {
  const how = fdLinksOption(options);
  const s = startSnapshot(options);
  // The kernel's own fd tables first (where it can): a process it reported is not listed or readlinked.
  const tables = how !== 'procfs' && s.o.files && !s.lazy ? await fdTablesBpf(how, options.pids) : null;
  s.report.fdLinks = tables ? 'bpf' : 'procfs';
  const heads: ProcHead[] = [];
  /** Per head, the links the iterator gave (aligned with fdNames; '' where it gave none), or null. */
  const known: (readonly string[] | null)[] = [];
  for (const pid of s.pids) {
    // This process's own table moves while we read (the iterator's fds, worker threads): listed and readlinked.
    const t = tables && pid !== process.pid ? tables.get(pid) : undefined;
    const h = readProcessHead(s, pid, t?.fds);
    if (!h) continue;
    heads.push(h);
    known.push(t && h.fdNames ? t.links : null);
  }
  // Every link not known yet, read by readlink on `readers` threads: its index in `paths` per fd.
  const paths: string[] = [];
  const slot: (Int32Array | null)[] = heads.map((h, k) => {
    const names = h.fdNames;
    if (!names) return null;
    const have = known[k];
    const at = new Int32Array(names.length).fill(-1);
    for (let i = 0; i < names.length; i++) if (!have || !have[i]) at[i] = paths.push(h.fdDir + names[i]!) - 1;
    return at;
  });
  s.report.fdLinksByReadlink = paths.length;
  const readers = options.readers ?? Math.min(availableParallelism(), 4);
  const links = await readLinksParallel(paths, readers);
  heads.forEach((h, k) => {
    const have = known[k];
    const at = slot[k];
    const raw = readProcessRest(s, h, (i) => {
      const j = at ? at[i]! : -1;
      if (j < 0) return have![i]!;
      const l = links[j]!;
      if (typeof l === 'string') return l;
      throw l;
    });
    if (raw) s.procs.push(raw);
  });
  return buildHost(s);
}

/**
 * The fd tables of the kernel's task_file iterator (of `pids[0]` alone when
 * just one is asked for), or null where BPF cannot run and `how` is
 * `'auto'`; `'bpf'` there is ENOENT with the reason.
 */
async function fdTablesBpf(how: 'auto' | 'bpf', pids: readonly number[] | undefined): Promise<Map<number, { fds: number[]; links: string[] }> | null> {
  const { readFdLinksBpf } = await import('./bpf_fd_links.js');
  const r = readFdLinksBpf(pids?.length === 1 ? pids[0] : undefined, { build: how === 'bpf' });
  if (r.ok) return r.tables;
  if (how === 'bpf') throw new BpfError('ENOENT', `fdLinks 'bpf': ${r.reason}`);
  return null;
}

/** `options.fdLinks` (named `what` in errors), checked: EINVAL for another value, or for `'bpf'` over a captured tree; `'procfs'` where only that can read. */
function fdLinksOption(options: HostAsyncOptions, what = 'fdLinks'): 'auto' | 'bpf' | 'procfs' {
  const how = options.fdLinks ?? 'auto';
  if (how !== 'auto' && how !== 'bpf' && how !== 'procfs') throw new BpfError('EINVAL', `${what} must be 'auto', 'bpf' or 'procfs', not ${String(how)}`);
  if (options.root !== undefined && options.root !== '/') {
    if (how === 'bpf') throw new BpfError('EINVAL', `${what} 'bpf' reads the running kernel, not the tree at ${options.root}`);
    return 'procfs';
  }
  return how;
}

/** Options of {@link openHost}: those of {@link readHost}, and where the fd tables are listed from. */
export interface OpenHostOptions extends HostOptions {
  /**
   * Where a process's fd table (its fds, and each file's `f_op` address) is
   * listed from: `'procfs'`, a readdir of `/proc/PID/fd` when the table is
   * first accessed (the addresses then from kallsyms, unknown without its
   * data symbols); `'bpf'`, one pass of the kernel's task_file iterator
   * (`bpf/task_fd.bpf.c`: fds and `f_op`, no paths) when the first table is
   * accessed, with /proc for the tables it did not report (this process's
   * own, processes started since), an error (ENOENT, the reason) where BPF
   * cannot run; default `'auto'`: `'bpf'` where it runs as it is (as
   * `fdLinks` of {@link readHostAsync}), else `'procfs'`. Paths, inodes,
   * flags and positions are read from /proc on first access either way.
   * {@link HostReport.fdTables} says which one listed them.
   */
  fdTables?: 'auto' | 'bpf' | 'procfs';
}

/** Opens the host as a lazy {@link Kernel} (source `'host'`). See {@link openHostWithReport}. */
export function openHost(options: OpenHostOptions = {}): Kernel {
  return openHostWithReport(options).kernel;
}

/**
 * Opens the host as a {@link Kernel} that reads /proc as it is walked, so a
 * walk costs what it visits rather than the whole machine. Tasks, pid
 * namespaces, cgroups, sockets, routes, kmem caches and kernel symbols are
 * read at once as by {@link readHostWithReport}; then
 *
 * - a process's fd table (`/proc/PID/fd`, one readlink per fd) is read when
 *   it is first accessed (`task.files.fd`, `nextFd`: the task_file walker
 *   when it reaches the task);
 * - its address space (`/proc/PID/maps`) when it is first accessed (the
 *   task_vma walker, `task.mm.findVma`...);
 * - a file's `f_flags` and `f_pos` (`/proc/PID/fdinfo/N`) when a program
 *   first reads one of them, and the `f_op` of a path fd when first read
 *   (an lstat of the fd link tells an O_PATH fd, whose kind is `empty_fops`,
 *   without fdinfo in all but rare cases).
 *
 * As in the kernel, what is gone when it is reached is skipped: a process
 * that exited before its table was read has no files (`task.files` becomes
 * null, as after `exit_files`), one without VMAs no `mm`, an fd closed
 * before its link was read is left out. The report is live: reads made
 * later add to its counts, `vanished`, `denied` and `errors`.
 * Use {@link readHost} for a frozen model.
 *
 * @example
 * ```ts
 * import { openHost } from '@bpf-iter/core';
 * const kernel = openHost({ vmas: false });
 * const self = kernel.task(process.pid);
 * console.log(self.files!.count); // reads /proc/<pid>/fd now
 * ```
 */
export function openHostWithReport(options: OpenHostOptions = {}): { kernel: Kernel; report: HostReport } {
  const fdTables = fdLinksOption({ ...options, fdLinks: options.fdTables }, 'fdTables');
  const s = startSnapshot(options, true, fdTables);
  for (const pid of s.pids) {
    const h = readProcessHead(s, pid);
    if (h) s.procs.push({ pid, nsIno: h.nsIno, kthread: h.kthread, tasks: h.tasks, fds: null, maps: null });
  }
  return buildHost(s);
}

/** A predicate accepting every kernel symbol name (the lazy source keeps every data symbol's address). */
const ANY_NAME: ReadonlySet<string> = { has: () => true } as unknown as ReadonlySet<string>;

/** What an fd's link and its stat tell (the lazy source reads it on first access). */
interface FdLink {
  link: string;
  ino: number;
  mode: number;
  dev: number;
  fstype: string;
  /** The shared stat of the fd's path, which memoises the path's fops name. */
  st: StatEntry | null;
}

/**
 * A file of the lazy source: its fd, its `f_op` address where the kernel's
 * task_file iterator listed the table, and, once read, its link; the fields
 * are read by its process's {@link LazyFiles} on first access. Made when a
 * walk looks its fd up ({@link FdList}), one at a time.
 */
class HostFile extends KFile {
  // Declared and set in the constructor, not class fields (see KObject's): one is made per fd walked.
  declare readonly hostFd: number;
  /** `file->f_op` as the kernel's iterator read it, undefined when the table was listed from /proc. */
  declare readonly hostOp: bigint | undefined;
  /** undefined: not read yet; null: closed since the listing. */
  declare hostLink: FdLink | null | undefined;

  /**
   * @param link the link when read already
   * @param hostOp `file->f_op` as the kernel's iterator read it, undefined when the table was listed from /proc
   */
  constructor(fields: LazyFiles, hostFd: number, link: FdLink | undefined, hostOp: bigint | undefined) {
    super(null, null, null, 0, 0, null, fields);
    (this as { hostFd: number }).hostFd = hostFd;
    (this as { hostOp: bigint | undefined }).hostOp = hostOp;
    this.hostLink = link;
  }
}

/**
 * The readers of the fields of one process's files, each run on first
 * access: the link (`/proc/PID/fd/N`: path, inode, socket) and, from it,
 * `f_op`; `f_flags` and `f_pos` from `/proc/PID/fdinfo/N`. A listing costs
 * one readdir: what a program never reads is never read. A path fd's `f_op`
 * depends on O_PATH. An O_PATH file has neither FMODE_READ nor FMODE_WRITE,
 * and /proc gives the fd link's inode the permission bits of those
 * (`tid_fd_update_inode`): an lstat with any bit set rules O_PATH out; only
 * a link without any (O_PATH, or the rare `O_RDWR|O_WRONLY`) needs the
 * fdinfo. An fd closed between the listing and the first read was open
 * when its table was read, but what it was is not known: empty path and
 * kind name, inode 0, unknown address.
 */
class LazyFiles implements KFileFields {
  constructor(private readonly proc: LazyProc) {}

  #link(file: KFile): FdLink | null {
    const f = file as HostFile;
    return f.hostLink !== undefined ? f.hostLink : (f.hostLink = this.proc.readLink(f.hostFd));
  }

  link(file: KFile): { path: string; f_inode: Inode; private_data: unknown } {
    const l = this.#link(file);
    if (!l) return { path: '', f_inode: { i_ino: 0, i_mode: 0, s_dev: 0 }, private_data: null };
    return { path: l.link, f_inode: { i_ino: l.ino, i_mode: l.mode, s_dev: l.dev >= 0 ? kdevOfStat(l.dev) : 0 }, private_data: this.proc.socketOf(l) };
  }

  fopsUnknown(): boolean {
    return this.proc.fopsUnknown();
  }

  f_opAddr(file: KFile): bigint | undefined {
    return (file as HostFile).hostOp;
  }

  f_op(file: KFile): FileOperations {
    const p = this.proc;
    const op = (file as HostFile).hostOp;
    // The kernel's address, named from the link (kallsyms names it where it can).
    const named = (name: string): FileOperations => (op === undefined ? p.fopsOf(name) : p.fopsAt(name, op));
    const l = this.#link(file);
    if (!l) return named('');
    // fdinfo `flags` change the kind only for O_PATH (empty_fops), which only a path fd can be.
    let flags = 0;
    if (l.link.charCodeAt(0) === 47) {
      const ls = lstatSync(`${p.base}/fd/${(file as HostFile).hostFd}`, { throwIfNoEntry: false });
      if (!ls || (ls.mode & 0o777) === 0) flags = file.f_flags;
    }
    const st = l.st;
    if (st && st.fops !== undefined && st.fopsFlags === flags) return named(st.fops);
    const name = fopsName({ link: l.link, mode: l.mode, fstype: l.fstype, flags, osrelease: p.osrelease });
    if (st && flags === 0) {
      st.fops = name;
      st.fopsFlags = 0;
    }
    return named(name);
  }

  info(file: KFile): { f_flags: number; f_pos: number } {
    const p = this.proc;
    const fd = (file as HostFile).hostFd;
    const path = `${p.base}/fdinfo/${fd}`;
    try {
      const i = parseFdinfo(readText(path));
      // fdinfo ORs in O_CLOEXEC from the fd table's close_on_exec bit.
      p.files.setCloseOnExec(fd, (i.flags & O_CLOEXEC) !== 0);
      return { f_flags: i.flags & ~O_CLOEXEC, f_pos: i.pos };
    } catch (e) {
      // Closed since its link was read: what it was is unknown; 0 as a snapshot without fdinfo says.
      if (!isGone(e)) p.deny(p.pid, path, e);
      return { f_flags: 0, f_pos: 0 };
    }
  }
}

/** What the lazy fields of one process's files share. */
interface LazyProc {
  /** `/proc/PID`. */
  base: string;
  pid: number;
  /** The table the files are in (fdinfo tells their close-on-exec bits). */
  files: FilesStruct;
  fopsOf: (name: string) => FileOperations;
  /** The kernel's release, which names some tables (pipes). */
  osrelease: string | null;
  /** The table at a real address (the kernel's iterator read it), named `name` unless kallsyms or another table says otherwise. */
  fopsAt: (name: string, addr: bigint) => FileOperations;
  /** True when kallsyms gives no fops address at all. */
  fopsUnknown: () => boolean;
  /** Reads fd `fd`'s link and stat; null when it is closed by now. */
  readLink: (fd: number) => FdLink | null;
  socketOf: (l: FdLink) => Socket | null;
  deny: Deny;
}

type Opts = Required<Omit<HostOptions, 'root' | 'pids' | 'cgroupMount'>>;

/** One snapshot in progress: options, report, phase 1's caches and records. */
interface Snapshot {
  t0: number;
  options: HostOptions;
  o: Opts;
  root: string;
  P: string;
  report: HostReport;
  denied: Set<number>;
  deny: Deny;
  pids: number[];
  /** Device and mode of pseudo-filesystem files (sockfs, pipefs, anon_inodefs...): one stat per kind. */
  kindStat: Map<string, StatEntry>;
  /** Stats of fd targets by mount namespace (its /proc/PID/ns/mnt link), then path. */
  pathStat: Map<string, Map<string, StatEntry>>;
  procs: RawProc[];
  /** A lazy source ({@link openHost}): fd tables, address spaces, fdinfo and the tasks' status are read on first access. */
  lazy: boolean;
  /** Inode of the reader's pid namespace (`/proc/self/ns/pid`), -1 when unreadable. */
  selfNsIno: number;
  /** Where the lazy source lists fd tables ({@link OpenHostOptions.fdTables}). */
  fdTables: 'auto' | 'bpf' | 'procfs';
}

function startSnapshot(options: HostOptions, lazy = false, fdTables: Snapshot['fdTables'] = 'procfs'): Snapshot {
  // process.hrtime, not the performance global (whose first use loads perf_hooks).
  const t0 = msNow();
  const o = {
    threads: true,
    files: true,
    fdinfo: true,
    vmas: true,
    vmFlags: true,
    sockets: true,
    routes: true,
    ksyms: true,
    realFops: true,
    slabs: true,
    cgroups: true,
    ...options,
  };
  o.realFops = options.realFops ?? o.ksyms;
  const root = options.root ?? '/';
  const P = join(root, 'proc');
  const report: HostReport = {
    vanished: [],
    denied: [],
    errors: [],
    pidNsInodes: new Map(),
    counts: { processes: 0, threads: 0, fds: 0, vmas: 0, sockets: 0, ksyms: 0, cgroups: 0, routes: 0, slabs: 0 },
    elapsedMs: 0,
  };
  const denied = new Set<number>();
  const deny = (pid: number, path: string, e: unknown): void => {
    denied.add(pid);
    report.errors.push({ path, code: errCode(e) });
  };

  let pids: number[] = [];
  if (options.pids) pids = [...options.pids];
  else {
    try {
      for (const name of listDir(P)) {
        const c = name.charCodeAt(0);
        if (c >= 48 && c <= 57) pids.push(Number(name));
      }
    } catch (e) {
      // No /proc at all: an empty snapshot, with the reason in the report.
      report.errors.push({ path: P, code: errCode(e) });
    }
  }
  let selfNsIno = -1;
  try {
    selfNsIno = nsInode(readLink(join(P, 'self/ns/pid')));
  } catch {
    // a captured tree may have no /proc/self
  }
  return { t0, options, o, root, P, report, denied, deny, pids, kindStat: new Map(), pathStat: new Map(), procs: [], lazy, selfNsIno, fdTables };
}

/** A monotonic clock in ms. */
function msNow(): number {
  const [sec, ns] = process.hrtime();
  return sec * 1e3 + ns / 1e6;
}

/** Phase 2: the model from the process records (and the system-wide files). */
function buildHost(s: Snapshot): { kernel: Kernel; report: HostReport } {
  const { t0, options, o, root, P, report, denied, procs, fdTables } = s;
  const tryRead = (path: string, read: (p: string) => string = readText): string | null => {
    try {
      return read(path);
    } catch (e) {
      report.errors.push({ path, code: errCode(e) });
      return null;
    }
  };

  // ------------------------------------------------------------ phase 2: build the model
  const nrCpus = possibleCpus(root);
  const udpRows = o.sockets ? readUdp(P, tryRead) : [];
  const kernel = new Kernel({ source: 'host', nrCpus, udpHashEntries: udpHashEntries(P, udpRows) });
  const uptime = tryRead(join(P, 'uptime'));
  if (uptime) kernel.nowNs = Math.round(parseFloat(uptime) * 1e9);
  const statText = tryRead(join(P, 'stat'));
  const btime = statText ? /\nbtime (\d+)/.exec(statText) : null;
  if (btime) kernel.bootTimeNs = Number(btime[1]) * 1e9;
  const osrelease = tryRead(join(P, 'sys/kernel/osrelease'));
  const host = tryRead(join(P, 'sys/kernel/hostname'))?.trim() ?? (root === '/' ? hostname() : '');
  kernel.description = `host ${host}${osrelease ? ` (Linux ${osrelease.trim()})` : ''}`;

  const mounts = readMounts(P, report);
  const fsByDev = new Map<number, string>();
  for (const m of mounts) if (!fsByDev.has(mkdev(m.major, m.minor))) fsByDev.set(mkdev(m.major, m.minor), m.fstype);

  // f_op names of every file first, so the tables can get their real addresses before first use.
  const fopsNames = new Set<string>(['socket_file_ops']);
  for (const p of procs) {
    if (!p.fds) continue;
    for (const f of p.fds) {
      const flags = f.info?.flags ?? 0;
      // The fds of one cached path share link, mode and device: one name per path (and flags).
      const st = f.st;
      if (st && st.fopsFlags === flags) {
        f.fops = st.fops!;
        continue;
      }
      const fstype = f.dev >= 0 ? (fsByDev.get(kdevOfStat(f.dev)) ?? '') : '';
      const name = fopsName({ link: f.link, mode: f.mode, fstype, flags, osrelease });
      f.fops = name;
      fopsNames.add(name);
      if (st) {
        st.fops = name;
        st.fopsFlags = flags;
      }
    }
  }
  const vmaFops = (row: MapsRow): string => {
    const fstype = fsByDev.get(mkdev(row.devMajor, row.devMinor)) ?? '';
    if (row.path.startsWith('/SYSV')) return 'shm_file_operations';
    // Anonymous shared memory and memfds live on the kernel-internal tmpfs (device 0:1, not mounted).
    if (!fstype && row.devMajor === 0) return 'shmem_file_operations';
    const mode = row.path.startsWith('/dev/') && fstype === 'devtmpfs' ? S_IFCHR : S_IFREG;
    return fopsName({ link: row.path, mode, fstype, flags: 0, osrelease });
  };
  if (o.vmas) for (const p of procs) for (const r of p.maps ?? []) if (r.ino || r.path.startsWith('/')) fopsNames.add(vmaFops(r));

  // Real fops addresses: of the names above, or (lazy: files are read later) of every data
  // symbol, read when the first file needs one.
  let fopsAddrs: Map<string, bigint> | null = null;
  let kallsyms: string | null | undefined;
  const readKallsyms = (): string | null => (kallsyms === undefined ? (kallsyms = tryRead(join(P, 'kallsyms'))) : kallsyms);
  if (o.ksyms || (o.realFops && !s.lazy)) {
    const text = readKallsyms();
    if (text && o.realFops && !s.lazy) fopsAddrs = findSymbols(text, fopsNames);
    if (text && o.ksyms) forEachKsym(text, (name, type, value, mod) => kernel.ksyms.add(name, type, value, mod));
  }
  if (o.ksyms) kernel.stackReader = procStackReader(kernel, P);
  /** The fops table of a name, with its real address when kallsyms has it. */
  /** kallsyms' address of a table, read with the first one asked for. */
  const kallsymsAddr = (name: string): bigint | undefined => {
    if (!fopsAddrs) {
      const text = o.realFops ? readKallsyms() : null;
      fopsAddrs = text ? findSymbols(text, ANY_NAME) : new Map();
      kallsyms = null; // not needed any more
    }
    return fopsAddrs.get(name);
  };
  const fopsOf = (name: string): FileOperations => {
    const addr = kallsymsAddr(name);
    return addr === undefined ? kernel.fops(name) : kernel.fops(name, addr, false);
  };
  // Without CONFIG_KALLSYMS_ALL kallsyms lists text and the linker's section markers (`__start_*`,
  // `__stop_*`, `__init_begin`) only: no fops table, nor any other named data object, has an address.
  let noDataSymbols: boolean | undefined;
  const fopsUnknown = (): boolean => {
    if (noDataSymbols === undefined) {
      if (fopsAddrs) {
        noDataSymbols = true;
        for (const name of fopsAddrs.keys()) if (!name.startsWith('__')) noDataSymbols = false;
      } else {
        // The text when it was read already; else a scan that keeps none of it.
        let has = false;
        if (o.realFops) {
          if (typeof kallsyms === 'string') has = hasDataObjects(kallsyms);
          else if (kallsyms === undefined && !configLacksKallsymsAll(join(P, 'config.gz'))) {
            try {
              has = fileHasDataObjects(join(P, 'kallsyms'));
            } catch {
              // Unreadable: no address is known.
            }
          }
        }
        noDataSymbols = !has;
        // Nothing for fopsOf to look up: every name's address is unknown.
        if (noDataSymbols) {
          fopsAddrs = new Map();
          kallsyms = null;
        }
      }
    }
    return noDataSymbols;
  };

  // Cgroups before tasks, so each task is attached as it is created.
  const cgByPath = new Map<string, Cgroup>([['/', kernel.cgroupRoot]]);
  if (o.cgroups) readCgroupTree(kernel, root, mounts, options.cgroupMount, cgByPath, report);
  const cgroupOf = (path: string | null): Cgroup => {
    if (path === null) return kernel.cgroupRoot;
    const cg = cgByPath.get(path);
    if (cg) return cg;
    // Created after the tree walk (or outside the mount): add the missing levels.
    let cur = kernel.cgroupRoot;
    let sofar = '';
    for (const part of path.split('/').filter(Boolean)) {
      sofar += '/' + part;
      let next = cgByPath.get(sofar);
      if (!next) {
        next = kernel.mkdirCgroup(cur, part);
        cgByPath.set(sofar, next);
      }
      cur = next;
    }
    return cur;
  };

  // Sockets before files, so socket fds can point at them.
  const sockByIno = o.sockets ? readSockets(kernel, P, udpRows, tryRead).byIno : new Map<number, Socket>();

  // Pid namespaces: one per /proc/PID/ns/pid inode, nested by NSpid depth.
  let nsOf = new Map<RawProc, PidNamespace>();
  try {
    nsOf = buildPidNamespaces(kernel, procs, s.selfNsIno, report);
  } catch (e) {
    // Deeper than MAX_PID_NS_LEVEL cannot happen on a real kernel; keep everyone in the initial namespace.
    report.errors.push({ path: join(P, 'self/ns/pid'), code: errCode(e) });
  }

  // The fds of one cached path share its inode, as in the kernel (100k fds of /dev/null: one inode).
  const inodeOf = (f: RawFd): Inode => {
    const st = f.st;
    if (st) return st.inode ?? (st.inode = { i_ino: f.ino, i_mode: f.mode, s_dev: f.dev >= 0 ? kdevOfStat(f.dev) : 0 });
    return { i_ino: f.ino, i_mode: f.mode, s_dev: f.dev >= 0 ? kdevOfStat(f.dev) : 0 };
  };
  const socketOf = (f: RawFd): Socket | null => (sockByIno.size && f.link.startsWith('socket:[') ? (sockByIno.get(f.ino) ?? null) : null);

  // ---- the lazy source's readers, run on first access to a process's table or address space
  const lateDeny: Deny = (pid, path, e) => {
    s.deny(pid, path, e);
    report.denied = [...denied].sort((a, b) => a - b);
  };
  /** A process whose table or address space cannot be read from /proc any more: gone (as after exit_files/exit_mm) or refused. */
  const lost = (pid: number, path: string, e: unknown): void => {
    if (isGone(e)) report.vanished.push(pid);
    else lateDeny(pid, path, e);
  };
  // Real f_op addresses the kernel's iterator read, one table per address (named as the bpf source names them).
  const fopsByAddr = new Map<bigint, FileOperations>();
  const fopsAt = (name: string, addr: bigint): FileOperations => {
    let f = fopsByAddr.get(addr);
    if (!f) {
      // kallsyms' table of that name where it is this one (a host with data symbols).
      if (!fopsUnknown() && kallsymsAddr(name) === addr) f = fopsOf(name);
      else {
        // The name from the link may give two real tables one name (proc files, devices): kept apart.
        const prev = kernel.fopsNamed(name);
        f = kernel.fops(prev && prev.addr !== addr ? `${name}@${addr.toString(16)}` : name, addr, false);
      }
      fopsByAddr.set(addr, f);
    }
    return f;
  };
  /** The tables of the kernel's task_file iterator (one pass at the first table's listing), or null where /proc lists them. */
  let bpfTables: Map<number, BpfFdOps> | null | undefined = fdTables === 'procfs' ? null : undefined;
  const tablesFromBpf = (): Map<number, BpfFdOps> | null => {
    if (bpfTables === undefined) {
      const r = readFdOpsBpf(options.pids?.length === 1 ? options.pids[0] : undefined, { build: fdTables === 'bpf' });
      if (!r.ok && fdTables === 'bpf') throw new BpfError('ENOENT', `fdTables 'bpf': ${r.reason}`);
      bpfTables = r.ok ? r.tables : null;
    }
    report.fdTables ??= bpfTables ? 'bpf' : 'procfs';
    return bpfTables;
  };
  const listFiles = (files: FilesStruct, pid: number, leader: Task): FdList | null => {
    const base = `${P}/${pid}`;
    const fdDir = `${base}/fd/`;
    // This process's own table moves while it is read (the iterator's fds, the listing's): always from /proc.
    const self = P === '/proc' && pid === process.pid;
    const tables = tablesFromBpf();
    const bpf = self ? null : (tables?.get(pid) ?? null);
    let fds: Int32Array;
    if (bpf) fds = bpf.fds;
    else {
      let names: string[];
      try {
        names = listDir(`${base}/fd`);
      } catch (e) {
        lost(pid, `${base}/fd`, e);
        for (const t of leader.signal.threads.toArray()) if (t.files === files) t.files = null;
        return null;
      }
      // Node lists a directory sorted by name ("10" before "9"): the fds in numeric order (a typed array sorts natively).
      fds = new Int32Array(names.length);
      for (let i = 0; i < names.length; i++) fds[i] = +names[i]!;
      fds.sort();
    }
    // The stat cache of the process's mount namespace, read with the first link.
    let paths: Map<string, StatEntry> | null | undefined;
    const readFdLink = (fd: number): FdLink | null => {
      let link: string;
      try {
        link = readLink(fdDir + fd);
      } catch (e) {
        if (!isGone(e)) lateDeny(pid, fdDir + fd, e);
        return null;
      }
      if (paths === undefined) paths = statCacheOf(s, base);
      const { ino, mode, dev, st } = statFd(s, fdDir, paths, String(fd), link, null);
      return { link, ino, mode, dev, st, fstype: dev >= 0 ? (fsByDev.get(kdevOfStat(dev)) ?? '') : '' };
    };
    const proc: LazyProc = {
      base,
      pid,
      files,
      fopsOf,
      osrelease,
      fopsAt,
      fopsUnknown,
      readLink: readFdLink,
      socketOf: (l) => (sockByIno.size && l.link.startsWith('socket:[') ? (sockByIno.get(l.ino) ?? null) : null),
      deny: lateDeny,
    };
    const fields = new LazyFiles(proc);
    if (self) {
      // The listing holds the fd that listed it, closed by now: links read at once, fds gone by then skipped, as a snapshot does.
      const open: number[] = [];
      const links: FdLink[] = [];
      for (const fd of fds) {
        const l = readFdLink(fd);
        if (l) {
          open.push(fd);
          links.push(l);
        }
      }
      report.counts.fds += open.length;
      return { fds: Int32Array.from(open), file: (i) => new HostFile(fields, open[i]!, links[i]!, undefined) };
    }
    report.counts.fds += fds.length;
    if (!bpf) return { fds, file: (i) => new HostFile(fields, fds[i]!, undefined, undefined) };
    // Runs of one kind (100k fds of /dev/null) share one bigint.
    const { opsLo, opsHi } = bpf;
    let lo = -1;
    let hi = -1;
    let op = 0n;
    return {
      fds,
      file: (i) => {
        if (opsLo[i] !== lo || opsHi[i] !== hi) {
          lo = opsLo[i]!;
          hi = opsHi[i]!;
          op = fdOpAt(bpf, i);
        }
        return new HostFile(fields, fds[i]!, undefined, op);
      },
    };
  };
  const loadMm = (mm: MmStruct, pid: number, leader: Task): VmaLayout => {
    const path = { at: `${P}/${pid}/maps` };
    let rows: (MapsRow | SmapsRow)[] = [];
    try {
      rows = readVmaRows(o, `${P}/${pid}`, path);
    } catch (e) {
      lost(pid, path.at, e);
    }
    // No VMAs: an exiting process or a zombie, which the kernel shows without an mm (as a snapshot does).
    if (!rows.length) for (const t of leader.signal.threads.toArray()) if (t.mm === mm) t.mm = null;
    report.counts.vmas += rows.length;
    return buildVmaLayout(kernel, rows, vmaRecordOf, (r) => fopsOf(vmaFops(r)));
  };

  // Tasks in creation order (start time), so kernel.processes is in fork order.
  procs.sort((a, b) => a.tasks[0]!.stat.starttime - b.tasks[0]!.stat.starttime || a.pid - b.pid);
  const tree = new TaskTreeBuilder(kernel);
  const kthreadFiles = new FilesStruct(); // kthreads share init's (empty) table via CLONE_FILES
  let lastFopsName = '';
  let fops: FileOperations | undefined;
  const credLoader = lazyCredLoader(P, report);
  for (const p of procs) {
    const lead = p.tasks[0]!;
    const pidNs = nsOf.get(p) ?? kernel.initPidNs;
    let mm = p.maps && p.maps.length ? new MmStruct(buildVmaLayout(kernel, p.maps, vmaRecordOf, (r) => fopsOf(vmaFops(r)))) : null;
    let files = p.kthread ? kthreadFiles : p.fds ? new FilesStruct() : null;
    if (s.lazy && !p.kthread) {
      // Read when a walker (or program) first looks: the process may be gone by then, as in the kernel.
      if (o.files) {
        const loader: FilesLoader = { list: (fs) => listFiles(fs, p.pid, leader) };
        // close-on-exec is per fd, in fdinfo's flags: reading the set reads every fd's fdinfo.
        if (o.fdinfo) loader.closeOnExec = (fs) => fs.fd.forEach((f) => f?.f_flags);
        files = new FilesStruct([], [], loader);
      }
      if (o.vmas) mm = new MmStruct(vmaLayout([]), null, (m) => loadMm(m, p.pid, leader));
    }
    let leader: Task;
    try {
      leader = tree.addLeader(lead.stat.ppid, taskOptions(lead, pidNs, cgroupOf(lead.cgroup), files, mm));
    } catch (e) {
      report.errors.push({ path: join(P, String(p.pid)), code: errCode(e) });
      continue;
    }
    if (!lead.status) leader.setCredLoader(credLoader);
    report.counts.processes++;
    report.counts.threads++;
    if (mm && !s.lazy) report.counts.vmas += mm.vmaCount;
    for (let i = 1; i < p.tasks.length; i++) {
      const t = p.tasks[i]!;
      try {
        const th = tree.addThread(leader, taskOptions(t, pidNs, cgroupOf(t.cgroup)));
        if (!t.status) th.setCredLoader(credLoader);
        report.counts.threads++;
      } catch (e) {
        report.errors.push({ path: join(P, String(p.pid), 'task', String(t.tid)), code: errCode(e) });
      }
    }
    if (files && p.fds) {
      for (const f of p.fds) {
        if (f.fops !== lastFopsName) fops = fopsOf((lastFopsName = f.fops));
        // fdinfo's flags are f_flags with O_CLOEXEC ORed in from the fd table's close_on_exec bit.
        const flags = f.info?.flags ?? 0;
        // build_open_flags strips O_CLOEXEC: it lives in the fd table, not the file.
        const file = new KFile(fops!, f.link, inodeOf(f), flags & ~O_CLOEXEC, f.info?.pos ?? 0, socketOf(f));
        kernel.fdInstall(files, file, f.fd, (flags & O_CLOEXEC) !== 0);
        report.counts.fds++;
      }
    }
  }
  // Parents created later than their children (pid reuse, equal start ticks) or not visible at all.
  tree.linkParents(() => kernel.initTask);

  if (o.routes) {
    const text = tryRead(join(P, 'net/ipv6_route'));
    for (const r of text ? parseIpv6Route(text) : []) {
      // /proc ORs RTF_GATEWAY in for a route with a gateway; the kernel's fib6_flags never hold it.
      kernel.addRoute(new Ipv6Route(r.dst, r.dst_len, r.src, r.src_len, r.gateway, r.metric, r.refcnt, r.use, (r.flags & ~RTF_GATEWAY) >>> 0, r.dev));
      report.counts.routes++;
    }
  }
  if (o.slabs) report.counts.slabs = readSlabs(kernel, root, P, tryRead);
  readDmaBufs(kernel, root);

  report.vanished.sort((a, b) => a - b);
  report.denied = [...denied].sort((a, b) => a - b);
  report.counts.sockets = sockByIno.size;
  report.counts.ksyms = kernel.ksyms.count;
  report.counts.cgroups = kernel.cgroups.size;
  report.elapsedMs = msNow() - t0;
  return { kernel, report };
}

/** The `nsPids` of a task with no pid numbers below its global one (shared: the host source makes one record per thread). */
const NO_NS_PIDS: number[] = [];

/** `TASK_COMM_LEN - 1`: the bytes of name `task->comm` holds. */
const TASK_COMM_MAX = 15;
/** A workqueue worker's name as wq_worker_comm prints it: `kworker/<cpu>:<id>[H]` or `kworker/u<pool>:<id>`, then `-desc` or `+desc`. */
const WQ_WORKER = /^kworker\/u?\d+:\d+H?(?=[-+])/;

/**
 * The kernel's `task->comm` from stat's name. For user tasks they are the
 * same; a kernel thread's /proc name (proc_task_name) is its full name
 * (`kthread->full_name`, e.g. `kworker/R-kvfree_rcu_reclaim`), a workqueue
 * worker's is `task->comm` plus `-desc` or `+desc` (`kworker/0:1-events`),
 * while `task->comm` holds the first 15 bytes of the base name. (stat is
 * read as latin1, so a char is a byte.)
 */
function taskComm(st: ProcStat): string {
  if (!(st.flags & PF_KTHREAD)) return st.comm;
  const name = (st.flags & PF_WQ_WORKER && WQ_WORKER.exec(st.comm)?.[0]) || st.comm;
  return name.slice(0, TASK_COMM_MAX);
}

/**
 * A task's creation options from its /proc record, in one object (no spread:
 * the host source makes one per thread). `files` and `mm` are a leader's; a
 * thread's are left undefined (it shares its leader's).
 */
function taskOptions(t: RawTask, pidNs: PidNamespace, cgroup: Cgroup, files?: FilesStruct | null, mm?: MmStruct | null): Omit<CreateTaskOptions, 'parent' | 'group'> {
  const state = taskState(t.stat.state);
  // Not read (the reader's pid namespace): the tid alone, no numbers below it.
  const nspid = t.status?.nspid;
  return {
    pid: t.tid,
    comm: taskComm(t.stat),
    pidNs,
    nsPids: nspid && nspid.length > 1 ? nspid.slice(1) : NO_NS_PIDS,
    files,
    mm,
    cgroup,
    state,
    // /proc shows one letter: the __state bits it does not report are unknown, not zero.
    __state_unknown: stateUnknownOf(state),
    // Not read yet (lazy): read on first access (lazyCredLoader).
    uid: t.status?.uid ?? 0,
    gid: t.status?.gid ?? 0,
    start_time: t.stat.starttime * NS_PER_TICK,
    flags: t.stat.flags,
    prio: t.stat.priority + MAX_RT_PRIO,
    // Ticks, not the scheduler's ns: /proc/PID/schedstat has the exact value but costs a read per task.
    sum_exec_runtime: (t.stat.utime + t.stat.stime) * NS_PER_TICK,
  };
}

/**
 * The reader of `uid` and `gid` of the tasks whose status the lazy source
 * has not read (one for all of them): `/proc/TGID/task/PID/status`, read on
 * the first access to either (a dumper that prints neither never reads the
 * file). A task gone by then has them unknown (`uid_unknown`): its
 * credentials were never seen. Such tasks are of the reader's pid
 * namespace, where the model's numbers are /proc's.
 */
function lazyCredLoader(P: string, report: HostReport): TaskCredLoader {
  return (task) => {
    const path = `${P}/${task.tgid}/task/${task.pid}/status`;
    try {
      const st = parseStatus(readSingle(path));
      return { uid: st.uid, gid: st.gid };
    } catch (e) {
      if (!isGone(e)) report.errors.push({ path, code: errCode(e) });
      return null;
    }
  };
}

// ---------------------------------------------------------------- phase 1 helpers

type Deny = (pid: number, path: string, e: unknown) => void;

/** A task's stat (unless given), and its status unless `withStatus` is false (the lazy source reads it on first access). */
function readTask(P: string, pid: number, tid: number, cgroups: boolean, withStatus: boolean, readStat?: ProcStat): RawTask {
  const dir = `${P}/${pid}/task/${tid}`;
  const stat = readStat ?? parseStat(readSingle(`${dir}/stat`));
  const status = withStatus ? parseStatus(readSingle(`${dir}/status`)) : null;
  if (status && !status.nspid.length) status.nspid = [tid];
  let cgroup: string | null = null;
  if (cgroups) {
    try {
      cgroup = parseCgroupV2Path(readUtf8(`${dir}/cgroup`));
    } catch (e) {
      if (isGone(e)) throw e;
    }
  }
  return { tid, stat, status, cgroup };
}

/** A process read up to the listing of its fd directory; its fd links are read next. */
interface ProcHead {
  pid: number;
  base: string;
  nsIno: number;
  kthread: boolean;
  tasks: RawTask[];
  /** `/proc/PID/fd/`, slash included. */
  fdDir: string;
  /** Entries of the fd directory; null: not read (kthread, option off) or refused. */
  fdNames: readonly (string | number)[] | null;
  /** The path stats of the process's mount namespace; null when unknown (no caching then). */
  paths: Map<string, StatEntry> | null;
}

/** The inode number in a namespace link (`pid:[4026531836]`). */
function nsInode(link: string): number {
  return Number(link.slice(link.indexOf('[') + 1, -1));
}

/** Inode of a process's pid namespace (`/proc/PID/ns/pid`), -1 when unreadable (an error unless the process is gone). */
function readNsIno(s: Snapshot, base: string): number {
  try {
    return nsInode(readLink(`${base}/ns/pid`));
  } catch (e) {
    if (!isGone(e)) s.report.errors.push({ path: `${base}/ns/pid`, code: errCode(e) });
    return -1;
  }
}

/** Reads a process's tasks, pid namespace and fd listing; null when it vanished (or is unreadable as a whole). */
/** `fds`: the process's table as the task_file iterator reported it, used instead of listing `/proc/PID/fd`. */
function readProcessHead(s: Snapshot, pid: number, fds?: readonly number[]): ProcHead | null {
  const { P, o, report, deny } = s;
  const base = `${P}/${pid}`;
  // The lazy source reads no status for a process of the reader's pid namespace (NSpid is its pid alone).
  let withStatus = true;
  let tasks: RawTask[];
  let nsIno = -1;
  try {
    const stat = parseStat(readSingle(`${base}/task/${pid}/stat`));
    nsIno = readNsIno(s, base);
    withStatus = !s.lazy || s.selfNsIno <= 0 || nsIno !== s.selfNsIno;
    const t = readTask(P, pid, pid, o.cgroups, withStatus, stat);
    tasks = [t];
  } catch (e) {
    if (isGone(e)) report.vanished.push(pid);
    else deny(pid, `${base}/task/${pid}`, e);
    return null;
  }
  const kthread = (tasks[0]!.stat.flags & PF_KTHREAD) !== 0;
  if (o.threads) {
    let tids: string[];
    try {
      tids = listDir(`${base}/task`);
    } catch (e) {
      if (isGone(e)) {
        report.vanished.push(pid);
        return null;
      }
      deny(pid, `${base}/task`, e);
      tids = [];
    }
    for (const name of tids) {
      const tid = Number(name);
      if (tid === pid || !Number.isInteger(tid)) continue;
      try {
        tasks.push(readTask(P, pid, tid, o.cgroups, withStatus));
      } catch (e) {
        // A thread that exited: skip it, the process lives on.
        if (isGone(e)) report.vanished.push(tid);
        else deny(pid, `${base}/task/${tid}`, e);
      }
    }
  }
  let listing: FdListing = { fdNames: null, paths: null };
  if (o.files && !kthread && !s.lazy) {
    try {
      listing = readFdListing(s, base, fds);
    } catch (e) {
      if (isGone(e)) {
        report.vanished.push(pid);
        return null;
      }
      deny(pid, `${base}/fd`, e);
    }
  }
  return { pid, base, nsIno, kthread, tasks, fdDir: `${base}/fd/`, ...listing };
}

/** A process's fd directory listing and the stat cache of its mount namespace. */
type FdListing = Pick<ProcHead, 'fdNames' | 'paths'>;

/** Lists `/proc/PID/fd` (throws the listing's error), or takes the fds the task_file iterator reported. */
function readFdListing(s: Snapshot, base: string, fds?: readonly number[]): FdListing {
  const paths = statCacheOf(s, base);
  // The iterator's fd numbers as they are: a string per fd is made only where a path needs one.
  return { fdNames: fds ?? listDir(`${base}/fd`), paths };
}

/** The stat cache of a process's fd targets: paths resolve per mount namespace, so it is keyed by it; null when that is unreadable. */
function statCacheOf(s: Snapshot, base: string): Map<string, StatEntry> | null {
  let mntNs = '';
  try {
    mntNs = readLink(`${base}/ns/mnt`);
  } catch {
    // Unreadable: no caching for this process.
  }
  let paths: Map<string, StatEntry> | null = null;
  if (mntNs) {
    paths = s.pathStat.get(mntNs) ?? null;
    if (!paths) s.pathStat.set(mntNs, (paths = new Map()));
  }
  return paths;
}

/**
 * Reads the rest of a process (fds, maps) into a record; null when it
 * vanished. `linkAt(i)` gives the link of `h.fdNames[i]` (read now, or
 * earlier by {@link readHostWithReportAsync}) or throws the read's error.
 */
function readProcessRest(s: Snapshot, h: ProcHead, linkAt: (i: number) => string): RawProc | null {
  const { o, report, deny } = s;
  const { pid, base } = h;
  let fds: RawFd[] | null = null;
  if (h.fdNames) {
    try {
      fds = readFds(s, h, linkAt);
    } catch (e) {
      if (isGone(e)) {
        report.vanished.push(pid);
        return null;
      }
      deny(pid, `${base}/fd`, e);
    }
  }
  let maps: (MapsRow | SmapsRow)[] | null = null;
  if (o.vmas && !h.kthread && !s.lazy) {
    const path = { at: `${base}/maps` };
    try {
      maps = readVmaRows(o, base, path);
    } catch (e) {
      if (isGone(e)) {
        report.vanished.push(pid);
        return null;
      }
      deny(pid, path.at, e);
    }
  }
  return { pid, nsIno: h.nsIno, kthread: h.kthread, tasks: h.tasks, fds, maps };
}

/** A process's VMAs from smaps (exact vm_flags, with `vmFlags`) or maps; `path.at` names the file read. Throws the read's error. */
function readVmaRows(o: Opts, base: string, path: { at: string }): (MapsRow | SmapsRow)[] {
  path.at = `${base}/maps`;
  // smaps needs CONFIG_PROC_PAGE_MONITOR (and a captured tree may lack it): maps then.
  const smaps = o.vmFlags ? readIfExists(`${base}/smaps`, readUtf8) : null;
  if (smaps !== null) path.at = `${base}/smaps`;
  return smaps !== null ? parseSmaps(smaps) : parseMaps(readUtf8(path.at));
}

function readFds(s: Snapshot, h: ProcHead, linkAt: (i: number) => string): RawFd[] {
  const names = h.fdNames!;
  const { fdDir, paths, base, pid } = h;
  const { deny } = s;
  const fdinfo = s.o.fdinfo && !s.lazy;
  const out: RawFd[] = [];
  let sorted = true;
  let last = -1;
  // The previous fd of a cached path: a run of fds of one path (100k of /dev/null) shares its link string and stat.
  let prev: RawFd | null = null;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    let link: string;
    try {
      link = linkAt(i);
    } catch (e) {
      // Closed since the listing: skip the fd. Refused: the whole table is (ptrace access check).
      if (isGone(e)) continue;
      throw e;
    }
    let info: FdInfo | null = null;
    if (fdinfo) {
      try {
        info = parseFdinfo(readText(`${base}/fdinfo/${name}`));
      } catch (e) {
        if (isGone(e)) continue;
        deny(pid, `${base}/fdinfo/${name}`, e);
      }
    }
    const fd = Number(name);
    if (fd < last) sorted = false;
    last = fd;
    if (prev !== null && link === prev.link) {
      out.push({ fd, link: prev.link, info, ino: prev.ino, mode: prev.mode, dev: prev.dev, st: prev.st, fops: '' });
      continue;
    }
    const { ino, mode, dev, st } = statFd(s, fdDir, paths, name, link, info);
    const f: RawFd = { fd, link, info, ino, mode, dev, st, fops: '' };
    out.push(f);
    prev = st ? f : null;
  }
  // /proc lists a table in fd order: sort only if it did not.
  if (!sorted) out.sort((a, b) => a.fd - b.fd);
  return out;
}


/**
 * The inode, mode and device of fd `name` of `fdDir` from its link: one stat
 * per pseudo-filesystem kind (sockfs, pipefs and anon_inodefs each have one
 * superblock), one per path of a mount namespace (cached in `paths`).
 */
function statFd(s: Snapshot, fdDir: string, paths: Map<string, StatEntry> | null, name: string | number, link: string, info: FdInfo | null): Pick<RawFd, 'ino' | 'mode' | 'dev' | 'st'> {
  const { kindStat } = s;
  let ino: number;
  let mode = 0;
  let dev = -1;
  let st: StatEntry | null = null;
  if (link.charCodeAt(0) !== 47) {
    // Not a path: socket:, pipe:, anon_inode:, net:...
    // One stat per kind: sockfs, pipefs and anon_inodefs each have one superblock.
    const path = fdDir + name;
    ino = linkIno(link);
    const kind = link.startsWith('anon_inode:') ? link : link.slice(0, link.indexOf(':'));
    let k = kindStat.get(kind);
    if (!k) {
      const x = statSync(path, { throwIfNoEntry: false });
      if (x) {
        k = { mode: x.mode, dev: x.dev };
        kindStat.set(kind, k);
        if (ino < 0) ino = x.ino;
      }
    }
    mode = k?.mode ?? modeOfLink(link);
    dev = k?.dev ?? -1;
    if (ino < 0 && info && info.ino >= 0) ino = info.ino;
    if (ino < 0) ino = statSync(path, { throwIfNoEntry: false })?.ino ?? 0;
  } else {
    // The same path in the same mount namespace is the same file (100k fds of /dev/null: one stat);
    // deleted files and memfds are not cached (their paths do not name one inode).
    const cacheable = paths !== null && !link.endsWith(' (deleted)') && !link.startsWith('/memfd:');
    st = cacheable ? (paths.get(link) ?? null) : null;
    if (st) {
      ino = st.ino!;
      mode = st.mode;
      dev = st.dev;
    } else {
      try {
        const x = statSync(fdDir + name);
        ino = x.ino;
        mode = x.mode;
        dev = x.dev;
        if (cacheable) paths.set(link, (st = { mode, dev, ino }));
      } catch {
        // Unreachable target (other mount namespace, fake tree): what the link and fdinfo tell.
        ino = info && info.ino >= 0 ? info.ino : 0;
        mode = modeOfLink(link);
      }
    }
  }
  return { ino, mode, dev, st };
}


// ---------------------------------------------------------------- phase 2 helpers

function readMounts(P: string, report: HostReport): MountInfo[] {
  try {
    return parseMountinfo(readUtf8(join(P, 'self/mountinfo')));
  } catch (e) {
    report.errors.push({ path: join(P, 'self/mountinfo'), code: errCode(e) });
    return [];
  }
}

/** The bits a maps line's permissions show: r, w, x, and s/p (VM_MAYSHARE, not VM_SHARED: show_map_vma tests MAYSHARE). */
const MAPS_KNOWN = VM_READ | VM_WRITE | VM_EXEC | VM_MAYSHARE;

/** `vm_flags` of a row: smaps' exact ones, or what the maps permissions tell with the rest unknown. */
function vmFlagsOf(r: MapsRow | SmapsRow): { flags: number; flagsUnknown: number } {
  if ('vm_flags' in r) return { flags: r.vm_flags, flagsUnknown: r.vm_flags_unknown };
  const p = r.perms;
  let flags = 0;
  if (p.charCodeAt(0) === 114) flags |= VM_READ;
  if (p.charCodeAt(1) === 119) flags |= VM_WRITE;
  if (p.charCodeAt(2) === 120) flags |= VM_EXEC;
  if (p.charCodeAt(3) === 115) flags |= VM_MAYSHARE;
  return { flags, flagsUnknown: VM_FLAGS_ALL - MAPS_KNOWN };
}

/** x86-64's vsyscall page (ffffffffff600000) and everything above 2^63: kernel addresses, not the mm's. */
const GATE_AREA_START = 2 ** 63;

/**
 * A maps/smaps row as a VMA: /proc/PID/maps appends the gate area
 * ([vsyscall]), not a VMA of the mm and never walked by task_vma; it prints 0
 * for an anonymous mapping's offset, whose vm_pgoff (a page number) is unknown here.
 */
function vmaRecordOf(r: MapsRow | SmapsRow): VmaRecord | null {
  if (r.start >= GATE_AREA_START) return null;
  const { flags, flagsUnknown } = vmFlagsOf(r);
  const isFile = r.ino !== 0 || r.path.startsWith('/');
  return {
    start: r.start,
    end: r.end,
    flags,
    flagsUnknown,
    pgoff: isFile ? Math.floor(r.offset / 4096) : null,
    name: !isFile && r.path ? r.path : null,
    file: isFile ? { path: r.path, i_ino: r.ino, s_dev: mkdev(r.devMajor, r.devMinor) } : null,
  };
}

function buildPidNamespaces(kernel: Kernel, procs: RawProc[], selfIno: number, report: HostReport): Map<RawProc, PidNamespace> {
  const out = new Map<RawProc, PidNamespace>();
  if (selfIno > 0) report.pidNsInodes.set(kernel.initPidNs, selfIno);
  // Namespace key: its inode, or (unreadable link) a key of its own per process.
  const keyOf = (p: RawProc): string => (p.nsIno > 0 ? `i${p.nsIno}` : `p${p.pid}`);
  const levelOf = (p: RawProc): number => nspidOf(p.tasks[0]!).length - 1;
  const byKey = new Map<string, PidNamespace>();
  const byPid = new Map<number, RawProc>();
  for (const p of procs) byPid.set(p.pid, p);
  const nested = procs.filter((p) => levelOf(p) > 0).sort((a, b) => levelOf(a) - levelOf(b));
  for (const p of nested) {
    const key = keyOf(p);
    let ns = byKey.get(key);
    if (!ns) {
      const level = levelOf(p);
      // The parent namespace is that of the namespace's first process's parent (who forked it).
      const members = nested.filter((q) => keyOf(q) === key);
      const reaper = members.find((q) => nspidOf(q.tasks[0]!)[level] === 1) ?? p;
      let parent: PidNamespace = kernel.initPidNs;
      const pp = byPid.get(reaper.tasks[0]!.stat.ppid);
      if (pp && levelOf(pp) === level - 1 && level > 1) parent = byKey.get(keyOf(pp)) ?? parent;
      else if (level > 1) {
        // Fall back to any namespace one level up.
        const up = nested.find((q) => levelOf(q) === level - 1);
        if (up) parent = byKey.get(keyOf(up)) ?? parent;
      }
      // Missing intermediate levels (their processes unseen): make them up so nesting depth is right.
      while (parent.level < level - 1) parent = kernel.createPidNs(parent);
      ns = kernel.createPidNs(parent);
      byKey.set(key, ns);
      if (p.nsIno > 0) report.pidNsInodes.set(ns, p.nsIno);
    }
    out.set(p, ns);
  }
  return out;
}

/** The rows of /proc/net/udp and udp6, by family. */
interface UdpRows {
  family: number;
  row: InetRow;
}

function readUdp(P: string, tryRead: (p: string) => string | null): UdpRows[] {
  const out: UdpRows[] = [];
  for (const [name, family] of [['udp', AF_INET], ['udp6', AF_INET6]] as const) {
    const t = tryRead(join(P, 'net', name));
    if (t) for (const row of parseInetTable(t)) out.push({ family, row });
  }
  return out;
}

/**
 * Slots of the kernel's UDP hash table: `net.ipv4.udp_hash_entries` (negative
 * when the namespace shares the initial one's table), else the smallest
 * power of two above every `sl` seen (at least 128), so each socket keeps its slot.
 */
function udpHashEntries(P: string, rows: UdpRows[]): number {
  return udpHashSlots(readUdpHashEntries(P), rows.reduce((m, r) => Math.max(m, r.row.sl), -1));
}

/**
 * DMA buffers from debugfs `dma_buf/bufinfo` (root, debugfs mounted). When
 * unreadable the kernel records why, and the dmabuf iterators fail with it.
 */
function readDmaBufs(kernel: Kernel, root: string): void {
  const path = join(root, 'sys/kernel/debug/dma_buf/bufinfo');
  let text: string;
  try {
    text = readUtf8(path);
  } catch (e) {
    const code = errCode(e);
    kernel.unreadable.set('dmabuf', { errno: code === 'EACCES' || code === 'EPERM' ? code : 'ENOENT', reason: `${path} is not readable (${code}; debugfs mounted and root needed)` });
    return;
  }
  // size flags mode count exp_name ino name, one buffer a line (attachment lines follow, indented).
  for (const line of text.split('\n')) {
    const m = /^(\d+)\t([0-9a-f]+)\t([0-9a-f]+)\t(\d+)\t(\S+)\t(\d+)\t?(.*)$/.exec(line);
    if (!m) continue;
    const name = m[7] === '<none>' ? '' : m[7]!;
    kernel.addDmaBuf(new DmaBuf(Number(m[1]), m[5]!, Number(m[6]), name, parseInt(m[2]!, 16), parseInt(m[3]!, 16)));
  }
}

/**
 * Reads a task's kernel stack from `/proc/PID/task/TID/stack` at call time
 * (root only). The file hides addresses (`[<0>]`), so each `sym+off/size`
 * is resolved with the model's kallsyms; null when unreadable or a symbol
 * is not in kallsyms.
 */
function procStackReader(kernel: Kernel, P: string): (task: Task) => bigint[] | null {
  let byName: Map<string, bigint> | null = null;
  return (task) => {
    let text: string;
    try {
      text = readText(join(P, String(task.tgid), 'task', String(task.pid), 'stack'));
    } catch {
      return null;
    }
    if (!byName) {
      byName = new Map();
      const t = kernel.ksyms;
      for (let i = 0; i < t.count; i++) if (!byName.has(t.names[i]!)) byName.set(t.names[i]!, t.values[i]!);
    }
    const out: bigint[] = [];
    for (const line of text.split('\n')) {
      const m = /^\[<([0-9a-f]+)>\] ([^+\s]+)\+0x([0-9a-f]+)\/0x[0-9a-f]+/.exec(line);
      if (!m) continue;
      const shown = BigInt('0x' + m[1]);
      const base = byName.get(m[2]!);
      if (shown !== 0n) out.push(shown);
      else if (base !== undefined && base !== 0n) out.push(base + BigInt('0x' + m[3]));
      else return null;
    }
    return out;
  };
}

/** The sysctls socket options depend on (`/proc/sys/net/...`); an unreadable one keeps the kernel's default. */
function readNetSysctls(kernel: Kernel, P: string): void {
  const text = (name: string): string | null => {
    try {
      return readText(join(P, 'sys/net', name)).trim();
    } catch {
      return null;
    }
  };
  const int = (name: string): number | null => {
    const t = text(name);
    return t !== null && /^-?\d+$/.test(t) ? Number(t) : null;
  };
  const triple = (name: string): [number, number, number] | null => {
    const v = text(name)?.split(/\s+/).map(Number);
    return v && v.length === 3 && v.every(Number.isFinite) ? [v[0]!, v[1]!, v[2]!] : null;
  };
  const net = kernel.net;
  const avail = text('ipv4/tcp_available_congestion_control');
  if (avail) net.tcp_available_congestion_control = avail.split(/\s+/);
  net.tcp_congestion_control = text('ipv4/tcp_congestion_control') ?? net.tcp_congestion_control;
  net.wmem_max = int('core/wmem_max') ?? net.wmem_max;
  net.rmem_max = int('core/rmem_max') ?? net.rmem_max;
  net.wmem_default = int('core/wmem_default') ?? net.wmem_default;
  net.rmem_default = int('core/rmem_default') ?? net.rmem_default;
  net.tcp_wmem = triple('ipv4/tcp_wmem') ?? net.tcp_wmem;
  net.tcp_rmem = triple('ipv4/tcp_rmem') ?? net.tcp_rmem;
  net.tcp_keepalive_time = int('ipv4/tcp_keepalive_time') ?? net.tcp_keepalive_time;
  net.tcp_keepalive_intvl = int('ipv4/tcp_keepalive_intvl') ?? net.tcp_keepalive_intvl;
  net.tcp_keepalive_probes = int('ipv4/tcp_keepalive_probes') ?? net.tcp_keepalive_probes;
  net.tcp_syn_retries = int('ipv4/tcp_syn_retries') ?? net.tcp_syn_retries;
  net.txrehash = int('core/txrehash') ?? net.txrehash;
}

function readSockets(kernel: Kernel, P: string, udpRows: UdpRows[], tryRead: (p: string, r?: (p: string) => string) => string | null): SocketTableBuilder {
  readNetSysctls(kernel, P);
  const b = new SocketTableBuilder(kernel);
  const inet = (proto: 'tcp' | 'udp', family: number, r: InetRow): Socket => {
    const refcnt = Number(r.tail.split(' ')[0]);
    return unknownCookie(
      new Socket({ proto, skc_family: family, skc_state: r.state, skc_rcv_saddr: r.saddr, skc_daddr: r.daddr, skc_num: r.sport, dport: r.dport, sk_uid: r.uid, ino: r.ino, cookie: kernel.allocCookie(), tx_queue: r.tx_queue, rx_queue: r.rx_queue, addr: r.addr, inet: { tr: r.tr, tm_when: r.tm_when, retrnsmt: r.retrnsmt, timeout: r.timeout, tail: r.tail }, sk_refcnt: Number.isFinite(refcnt) ? refcnt : 2 }),
    );
  };
  const table = (name: string): InetRow[] => {
    const t = tryRead(join(P, 'net', name));
    return t ? parseInetTable(t) : [];
  };

  // TCP: /proc/net/tcp lists the listening hash, then the established hash. The v4
  // and v6 files are merged (the BPF iterator walks both families in one table).
  b.addTcp([...table('tcp').map((r) => inet('tcp', AF_INET, r)), ...table('tcp6').map((r) => inet('tcp', AF_INET6, r))]);

  // UDP: `sl` is the socket's hash slot, and the table is as large as the kernel's: keep it.
  // Within a slot each file keeps its order (the v4 and v6 files are walked separately).
  const udp = udpRows.map((u) => ({ sl: u.row.sl, sk: inet('udp', u.family, u.row) })).sort((a, b) => a.sl - b.sl);
  for (const u of udp) b.add(u.sk, u.sl);

  const unixText = tryRead(join(P, 'net/unix'), readUtf8);
  const unix = unixText ? parseUnix(unixText) : [];
  b.addUnix(
    unix.map((r) => {
      const { sk_state, sk_socket } = unixSkState(r);
      const sk = unknownCookie(new Socket({ proto: 'unix', skc_family: AF_UNIX, sk_type: r.type, sk_protocol: r.protocol, skc_state: sk_state, ino: r.ino, cookie: kernel.allocCookie(), path: r.path, sk_socket, addr: r.addr, sk_refcnt: r.refcnt }));
      sk.sk_uid_unknown = true; // /proc/net/unix prints no uid
      return sk;
    }),
  );

  const nlText = tryRead(join(P, 'net/netlink'));
  for (const r of nlText ? parseNetlink(nlText) : []) {
    const sk = unknownCookie(new Socket({ proto: 'netlink', skc_family: AF_NETLINK, sk_protocol: r.protocol, skc_state: 0, ino: r.ino, cookie: kernel.allocCookie(), addr: r.addr, netlink: { portid: r.portid, groups: r.groups, rmem: r.rmem, wmem: r.wmem, dump: r.dump, locks: r.locks, drops: r.drops }, sk_refcnt: r.locks }));
    sk.sk_uid_unknown = true; // /proc/net/netlink prints no uid
    b.add(sk, r.protocol);
  }
  return b;
}

/** /proc/net prints no cookie: the model's allocCookie() is only an identity. */
function unknownCookie(sk: Socket): Socket {
  sk.cookie_unknown = true;
  return sk;
}

/**
 * The kernel's `sk_state` of a unix socket and whether it has a `struct
 * socket`, from the two columns unix_seq_show derives from them: Flags is
 * __SO_ACCEPTCON exactly when sk_state is TCP_LISTEN, and St is
 * SS_CONNECTED/SS_UNCONNECTED with a socket, SS_CONNECTING/SS_DISCONNECTING
 * without one, by whether sk_state is TCP_ESTABLISHED. Unix sockets use no
 * other state than TCP_CLOSE, so the mapping is exact.
 */
function unixSkState(r: UnixRow): { sk_state: number; sk_socket: boolean } {
  const sk_socket = r.state === SS_UNCONNECTED || r.state === SS_CONNECTED;
  if (r.flags & __SO_ACCEPTCON) return { sk_state: TCP_LISTEN, sk_socket };
  const established = r.state === SS_CONNECTED || r.state === SS_CONNECTING;
  return { sk_state: established ? TCP_ESTABLISHED : TCP_CLOSE, sk_socket };
}

function readCgroupTree(
  kernel: Kernel,
  root: string,
  mounts: MountInfo[],
  mountOpt: string | undefined,
  byPath: Map<string, Cgroup>,
  report: HostReport,
): void {
  let mountPoint = mountOpt;
  let mountRoot = '/';
  if (!mountPoint) {
    const m = mounts.find((x) => x.fstype === 'cgroup2');
    if (!m) return;
    mountPoint = join(root, m.mountPoint);
    mountRoot = m.root;
  }
  // A mount of a subtree (cgroup namespace, bind mount): its directories live below `mountRoot`.
  let top = kernel.cgroupRoot;
  if (mountRoot !== '/') {
    let sofar = '';
    for (const part of mountRoot.split('/').filter(Boolean)) {
      sofar += '/' + part;
      top = kernel.mkdirCgroup(top, part);
      byPath.set(sofar, top);
    }
  }
  const walk = (dir: string, cg: Cgroup, path: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (!isGone(e)) report.errors.push({ path: dir, code: errCode(e) });
      return;
    }
    const kids: { name: string; ino: number }[] = [];
    for (const d of entries) {
      if (!d.isDirectory()) continue;
      try {
        const st = statSync(join(dir, d.name), { throwIfNoEntry: false });
        if (st) kids.push({ name: d.name, ino: st.ino });
      } catch (e) {
        report.errors.push({ path: join(dir, d.name), code: errCode(e) });
      }
    }
    // kernfs ids grow with creation, so id order is the children list's creation order.
    kids.sort((a, b) => a.ino - b.ino);
    for (const k of kids) {
      let child: Cgroup;
      try {
        // On cgroup v2 the directory's inode number is the kernfs id, i.e. cgroup_id.
        child = kernel.mkdirCgroup(cg, k.name, kernel.cgroups.has(k.ino) ? undefined : k.ino);
      } catch (e) {
        report.errors.push({ path: join(dir, k.name), code: errCode(e) });
        continue;
      }
      const p = path === '/' ? `/${k.name}` : `${path}/${k.name}`;
      byPath.set(p, child);
      walk(join(dir, k.name), child, p);
    }
  };
  walk(mountPoint, top, mountRoot === '/' ? '/' : mountRoot);
}

function readSlabs(kernel: Kernel, root: string, P: string, tryRead: (p: string) => string | null): number {
  const text = tryRead(join(P, 'slabinfo'));
  if (!text) return 0;
  const sys = join(root, 'sys/kernel/slab');
  let n = 0;
  for (const r of parseSlabinfo(text)) {
    // slabinfo prints s->size; SLUB's sysfs has the object size and alignment.
    let objectSize = r.objsize;
    let align = 8;
    try {
      objectSize = Number(readText(`${sys}/${r.name}/object_size`));
      align = Number(readText(`${sys}/${r.name}/align`));
    } catch {
      // no SLUB sysfs (or a captured tree without it)
    }
    kernel.addKmemCache(new KmemCache(r.name, objectSize, r.objsize, align, r.active_objs, r.num_objs, r.objperslab, r.pagesperslab));
    n++;
  }
  return n;
}
