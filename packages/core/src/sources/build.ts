/**
 * Records to Kernel: the one builder per concept that every source (host,
 * bpf, synthetic) uses to turn what it read into the model — CPUs, task
 * trees, fd tables, address spaces, socket tables. A source only says where
 * its records come from and what it cannot know; how a record becomes a
 * task, a file, a VMA or a hashed socket is written here once.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { CreateTaskOptions, Kernel, OpenOptions } from '../kernel.js';
import type { FileOperations, KFile } from '../model/file.js';
import type { FilesStruct } from '../model/files_struct.js';
import { vmaLayout, type VmaLayout } from '../model/mm.js';
import { TCP_LISTEN, type Socket } from '../model/socket.js';
import type { Task } from '../model/task.js';
import { errCode, readText } from './procfs/read.js';

// ---------------------------------------------------------------- CPUs

/**
 * `cpu_possible_mask` as `/sys/devices/system/cpu/possible` prints it
 * (`0-3,8`), counted. Unreadable: this machine's CPU count for the live
 * root, else 1.
 *
 * @example
 * new Kernel({ nrCpus: possibleCpus() });
 */
export function possibleCpus(root = '/'): number {
  try {
    let n = 0;
    for (const part of readText(join(root, 'sys/devices/system/cpu/possible')).trim().split(',')) {
      const [a, b] = part.split('-').map(Number);
      n += b === undefined ? 1 : b - a! + 1;
    }
    if (n > 0) return n;
  } catch {
    // a captured tree or a sandbox without sysfs: fall through
  }
  return root === '/' ? cpus().length || 1 : 1;
}

/**
 * The text of a file, or null when it is absent: by default when it does not
 * exist (ENOENT: smaps without CONFIG_PROC_PAGE_MONITOR, a captured tree
 * without it); `absent` widens that (a sysctl that older kernels lack and
 * some network namespaces refuse with ENOMEM). Other errors are thrown.
 */
export function readIfExists(path: string, read: (path: string) => string = readText, absent: (code: string) => boolean = (c) => c === 'ENOENT'): string | null {
  try {
    return read(path);
  } catch (e) {
    if (absent(errCode(e))) return null;
    throw e;
  }
}

/** `net.ipv4.udp_hash_entries` under `proc`, or null where it cannot be read (before 6.2: missing; some namespaces: ENOMEM). */
export function readUdpHashEntries(proc = '/proc'): string | null {
  return readIfExists(join(proc, 'sys/net/ipv4/udp_hash_entries'), readText, () => true);
}

// ---------------------------------------------------------------- tasks

/**
 * Builds the task tree from records in fork order: leaders (with their
 * parent's pid) and their threads. A parent that is not created yet when its
 * child is (pid reuse, equal start ticks) or never is (PID 1 is invisible to
 * BPF task iterators) is linked by {@link linkParents} at the end.
 */
export class TaskTreeBuilder {
  /** Every task created, by pid. */
  readonly byPid = new Map<number, Task>();
  private readonly orphans: { leader: Task; ppid: number }[] = [];

  constructor(private readonly kernel: Kernel) {}

  /** `copy_process` of a thread-group leader whose parent has pid `ppid` (0: the kernel's init task). `o` is taken over (its `parent` set). */
  addLeader(ppid: number, o: Omit<CreateTaskOptions, 'parent' | 'group'>): Task {
    const parent = ppid === 0 ? this.kernel.initTask : this.byPid.get(ppid);
    // `o` is the caller's fresh record, taken over (no copy per task: a host has thousands).
    const opts = o as CreateTaskOptions;
    opts.parent = parent ?? null;
    const t = this.kernel.createTask(opts);
    if (!parent) this.orphans.push({ leader: t, ppid });
    this.byPid.set(t.pid, t);
    return t;
  }

  /** `copy_process` with CLONE_THREAD: a thread of `leader` (its fd table too, unless `o.files` gives its own). `o` is taken over (its `group` set). */
  addThread(leader: Task, o: Omit<CreateTaskOptions, 'parent' | 'group'>): Task {
    const opts = o as CreateTaskOptions;
    opts.group = leader;
    const t = this.kernel.createTask(opts);
    this.byPid.set(t.pid, t);
    return t;
  }

  /**
   * Links the leaders whose parent was not there when they were created;
   * `missing(ppid)` gives a parent no record showed (the source decides:
   * an unlisted task, or the init task).
   */
  linkParents(missing: (ppid: number) => Task): void {
    for (const { leader, ppid } of this.orphans) {
      let parent = this.byPid.get(ppid);
      if (!parent) this.byPid.set(ppid, (parent = missing(ppid)));
      for (const th of leader.signal.threads.values()) th.real_parent = parent;
    }
    this.orphans.length = 0;
  }
}

// ---------------------------------------------------------------- files

/** One open fd as a source read it. */
export interface FdRecord extends OpenOptions {
  fd: number;
  path: string;
  f_pos?: number;
  /** The fd's close-on-exec bit (the table's, not the file's). */
  cloexec?: boolean;
}

/**
 * `fd_install` of a new file made from the record into `files`.
 *
 * @example
 * installFdRecord(kernel, task.files!, { fd: 3, path: '/etc/hosts', f_op: kernel.fops('ext4_file_operations') });
 */
export function installFdRecord(kernel: Kernel, files: FilesStruct, r: FdRecord): KFile {
  const file = kernel.createFile(r.path, r);
  if (r.f_pos) file.f_pos = r.f_pos;
  kernel.fdInstall(files, file, r.fd, r.cloexec === true);
  return file;
}

// ---------------------------------------------------------------- address spaces

/** One VMA as a source read it; a file mapping names its file by path, inode and device. */
export interface VmaRecord {
  start: number;
  end: number;
  flags: number;
  /** Bits of `flags` the source could not know. */
  flagsUnknown?: number;
  /** `vm_pgoff`; null where unknown. */
  pgoff: number | null;
  /** `[heap]`, `[stack]`, `[vdso]`... for an anonymous mapping with a name. */
  name: string | null;
  file: { path: string; i_ino: number; s_dev: number } | null;
}

/**
 * The VMA layout of one mm from its rows: `toRecord` turns a source row into
 * a {@link VmaRecord} (null: not a VMA of the mm, e.g. the gate area), and
 * each distinct (device, inode, path) becomes one file shared by the
 * mappings of it, as a library's segments share their `struct file`;
 * `fopsOf` is asked once per such file.
 */
export function buildVmaLayout<R>(kernel: Kernel, rows: Iterable<R>, toRecord: (r: R) => VmaRecord | null, fopsOf: (r: R) => FileOperations): VmaLayout {
  const files = new Map<string, KFile>();
  const out = [];
  for (const row of rows) {
    const r = toRecord(row);
    if (!r) continue;
    let file: KFile | null = null;
    if (r.file) {
      const key = `${r.file.s_dev}:${r.file.i_ino}:${r.file.path}`;
      file = files.get(key) ?? null;
      if (!file) {
        file = kernel.createFile(r.file.path, { f_op: fopsOf(row), inode: { i_ino: r.file.i_ino, i_mode: 0o100644, s_dev: r.file.s_dev } });
        files.set(key, file);
      }
    }
    out.push({ start: r.start, end: r.end, flags: r.flags, flagsUnknown: r.flagsUnknown ?? 0, pgoff: r.pgoff, file, name: r.name });
  }
  return vmaLayout(out);
}

// ---------------------------------------------------------------- sockets

/**
 * Hashes read sockets into the kernel's tables, each where the kernel's
 * iterator would meet it in the order the source listed them, and indexes
 * them by inode for the socket files that point at them. No source sees
 * socket options: every socket's options are marked unknown.
 */
export class SocketTableBuilder {
  /** Every socket added, by inode (0 left out). */
  readonly byIno = new Map<number, Socket>();

  constructor(private readonly kernel: Kernel) {}

  /** Hashes one socket in `bucket` (default: the table's own choice). */
  add(sk: Socket, bucket?: number): void {
    sk.optsKnown = false;
    this.kernel.addSocket(sk, bucket);
    if (sk.ino) this.byIno.set(sk.ino, sk);
  }

  /** TCP in the order of the kernel's walk (listening hash, then established): spread in order over each hash. */
  addTcp(socks: readonly Socket[]): void {
    const listen = socks.filter((s) => s.skc_state === TCP_LISTEN);
    const est = socks.filter((s) => s.skc_state !== TCP_LISTEN);
    listen.forEach((s, i) => this.add(s, spread(i, listen.length, this.kernel.tcpListen.nBuckets)));
    est.forEach((s, i) => this.add(s, spread(i, est.length, this.kernel.tcpEstablished.nBuckets)));
  }

  /** Unix sockets in walk order, spread over the unix hash. */
  addUnix(socks: readonly Socket[]): void {
    socks.forEach((s, i) => this.add(s, spread(i, socks.length, this.kernel.unix.nBuckets)));
  }
}

/** Spreads `n` rows in order over `nBuckets`: bucket order = row order. */
function spread(i: number, n: number, nBuckets: number): number {
  return Math.floor((i * nBuckets) / Math.max(n, 1));
}
