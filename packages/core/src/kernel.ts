import { PAGE_SIZE } from './uapi.js';
import { BpfError, fail, type ErrnoName } from './errors.js';
import { Idr } from './idr.js';
import { RcuList } from './rculist.js';
import { refStats } from './refcount.js';
import { BpfLink, BpfMap, BpfProg, type BpfMapSpec } from './model/bpf.js';
import { Cgroup } from './model/cgroup.js';
import { FileOperations, KFile, O_CLOEXEC, S_IFREG, type Inode, type KFileFields } from './model/file.js';
import { FilesStruct } from './model/files_struct.js';
import { KmemCache } from './model/kmem_cache.js';
import type { DmaBuf } from './model/dmabuf.js';
import { KsymTable } from './model/ksym.js';
import { MmStruct, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE, vmaLayout, type Vma } from './model/mm.js';
import { initialSockOpts, NetConfig, type SockOpts } from './model/net.js';
import { PidNamespace, RESERVED_PIDS } from './model/pid_namespace.js';
import type { Ipv6Route } from './model/route.js';
import { Socket, type SockProto, TCP_LISTEN } from './model/socket.js';
import { SockTable } from './model/sock_table.js';
import { PF_KTHREAD, Task, ThreadGroup, type TaskState } from './model/task.js';

/** Where a kernel model came from. */
export type KernelSource = 'synthetic' | 'host' | 'bpf' | 'empty';

/** Options of the {@link Kernel} constructor. */
export interface KernelOptions {
  source?: KernelSource;
  /** Number of possible CPUs; default 1. */
  nrCpus?: number;
  /**
   * Slots of the UDP hash table (`udp_table.mask + 1`, the kernel's
   * `net.ipv4.udp_hash_entries`); default 128. A real host's sockets keep
   * the slot /proc/net/udp prints only if their table is as large.
   */
  udpHashEntries?: number;
}

/** {@link nsLevels} for the initial namespace as createTask reads it: no level below 0. */
const NO_LEVELS: readonly PidNamespace[] = [];

/** The pid namespaces from the initial one (level 0) down to `ns`. */
function nsLevels(ns: PidNamespace): PidNamespace[] {
  const levels: PidNamespace[] = [];
  for (let n: PidNamespace | null = ns; n; n = n.parent) levels.unshift(n);
  return levels;
}

/** Options of {@link Kernel.createTask}. */
export interface CreateTaskOptions {
  /** Global pid; allocated when omitted. */
  pid?: number;
  comm: string;
  /** The process to join as a thread (CLONE_THREAD); a new process when omitted. */
  group?: Task;
  parent?: Task | null;
  /** The pid namespace of the new task (default: the parent's, else the initial one). */
  pidNs?: PidNamespace;
  /** Pid numbers inside pidNs and its ancestors below level 0, outermost first; allocated when omitted. */
  nsPids?: number[];
  files?: FilesStruct | null;
  mm?: MmStruct | null;
  cgroup?: Cgroup | null;
  state?: TaskState;
  /** `task->__state` when the source read it (else the value `state` stands for). */
  __state?: number;
  /** Bits of `__state` the source could not learn (default 0). */
  __state_unknown?: number;
  uid?: number;
  gid?: number;
  start_time?: number;
  flags?: number;
  prio?: number;
  sum_exec_runtime?: number;
}

/** Options of {@link Kernel.open}. */
export interface OpenOptions {
  /** The file kind (default: a regular file on ext4). */
  f_op?: FileOperations;
  inode?: Partial<Inode>;
  /** Open flags; O_CLOEXEC sets the fd's close-on-exec bit (`FilesStruct.close_on_exec`) and is not kept in `f_flags`. */
  flags?: number;
  /** Install at this fd (replacing what was there, like dup2) instead of the lowest free one. */
  fd?: number;
  private_data?: unknown;
  /** Reader of `f_op` (when `f_op` is omitted) and of `f_flags`/`f_pos` (instead of `flags`), run on first access. */
  fields?: KFileFields;
}

/** Options of {@link Kernel.mmap}. */
export interface MmapOptions {
  /** Fixed address (page aligned); chosen below the lowest mapping when omitted. */
  addr?: number;
  length: number;
  /** VM_READ | VM_WRITE | VM_EXEC (| VM_SHARED). */
  prot?: number;
  file?: KFile | null;
  /** Offset in the file, in bytes (page aligned). */
  offset?: number;
  name?: string | null;
}

/**
 * The kernel model: every object the iterators walk, with the kernel's
 * mutations (fork, exit, open, close, mmap, ...) so that iterations can run
 * while the model changes. Fill it with a source (synthetic, host, bpf).
 */
export class Kernel {
  /** The initial pid namespace. */
  readonly initPidNs: PidNamespace;
  /** The idle task of CPU 0 (pid 0): first in the process list, never in a pid table. */
  readonly initTask: Task;
  /** Thread-group leaders in creation order (`init_task.tasks`). */
  readonly processes = new RcuList<Task>();
  readonly cgroupRoot: Cgroup;
  readonly cgroups = new Idr<Cgroup>(1);
  readonly maps = new Idr<BpfMap>(1);
  readonly progs = new Idr<BpfProg>(1);
  readonly links = new Idr<BpfLink>(1);
  readonly ksyms = new KsymTable();
  readonly kmemCaches = new RcuList<KmemCache>();
  /** Every DMA buffer (`db_list` of drivers/dma-buf/dma-buf.c), in export order. */
  readonly dmabufs = new RcuList<DmaBuf>();
  /**
   * Object kinds the source could not read (e.g. `dmabuf` without debugfs),
   * with the errno and why: their iterators fail instead of looking empty.
   */
  readonly unreadable = new Map<string, { errno: ErrnoName; reason: string }>();
  /** IPv6 FIB entries in walk order. */
  readonly ipv6Routes = new RcuList<Ipv6Route>();
  readonly tcpListen = new SockTable(32);
  readonly tcpEstablished = new SockTable(256);
  /** UDP sockets by primary (port) hash slot: the `sl` column of /proc/net/udp and the udp iterator's `bucket`. */
  readonly udp: SockTable;
  readonly unix = new SockTable(256);
  /** Netlink sockets, one bucket per protocol (MAX_LINKS = 32). */
  readonly netlink = new SockTable(32);
  /** The network sysctls socket options read (congestion algorithms, buffer limits). */
  readonly net = new NetConfig();
  /** Number of possible CPUs (per-CPU maps keep this many copies). */
  nrCpus: number;
  /** The CPU a modelled reader runs on (programs' `bpf_get_smp_processor_id`, their per-CPU map copy); a host model uses the real one. */
  currentCpu = 0;
  /** `/sys/kernel/tracing/trace_pipe`: the lines `bpf_trace_printk` wrote. */
  readonly tracePipe: string[] = [];
  /** Boot time of the model, ns since the epoch (for printing start times). */
  bootTimeNs = 0;
  /** Monotonic clock of the model in ns since boot; mutations stamp start times with it. */
  nowNs = 0;
  /** Where the contents came from. */
  source: KernelSource;
  /** Free-form description (hostname, seed, ...). */
  description = '';

  /**
   * Reads a task's kernel stack when the model holds none (the host source
   * reads `/proc/PID/task/TID/stack`); null when it cannot be known.
   */
  stackReader: ((task: Task) => bigint[] | null) | null = null;

  private readonly fopsByName = new Map<string, FileOperations>();
  private nextIno = 100000;
  private nextCookie = 1n;
  private nextNsInum = 0xeffffffc;
  private tasksTotal = 0;

  constructor(options: KernelOptions = {}) {
    this.source = options.source ?? 'empty';
    this.nrCpus = options.nrCpus ?? 1;
    this.udp = new SockTable(options.udpHashEntries ?? 128);
    this.initPidNs = new PidNamespace(null, 0xeffffffc);
    this.nextNsInum = 0xeffffffc + 1;
    this.cgroupRoot = new Cgroup(1, '', null);
    this.cgroups.set(1, this.cgroupRoot);
    const tg = new ThreadGroup(0);
    this.initTask = new Task(0, 0, 'swapper/0', 'R', tg, null, this.initPidNs, null, null, this.cgroupRoot, 0, 0, 0, PF_KTHREAD);
    this.initTask.threadNode = tg.threads.push(this.initTask);
    tg.listNode = this.processes.push(this.initTask);
  }

  /** Live reference statistics (iterators' outstanding references must end at zero). */
  get refs(): typeof refStats {
    return refStats;
  }

  /** Number of live tasks (threads), not counting the idle task. */
  get taskCount(): number {
    return this.tasksTotal;
  }

  // ---------------------------------------------------------------- file kinds

  /**
   * The shared {@link FileOperations} of a file kind, created on first use.
   * Without an address, one is made up deterministically from the name.
   */
  fops(name: string, addr?: bigint, synthetic = addr === undefined): FileOperations {
    let f = this.fopsByName.get(name);
    if (!f) {
      if (addr === undefined) {
        let h = 0x811c9dc5;
        for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
        addr = 0xffffffff82000000n + BigInt(((h >>> 0) % 0x3fffff) & ~0x1f);
      }
      // A made-up address is the kernel's own only in a made-up kernel.
      f = new FileOperations(name, addr, synthetic, synthetic && (this.source === 'host' || this.source === 'bpf'));
      this.fopsByName.set(name, f);
    }
    return f;
  }

  /** Every file kind known to the model. */
  /** The table named `name`, if one is registered (without creating it). */
  fopsNamed(name: string): FileOperations | undefined {
    return this.fopsByName.get(name);
  }

  allFops(): FileOperations[] {
    return [...this.fopsByName.values()];
  }

  /** A fresh inode number. */
  allocIno(): number {
    return this.nextIno++;
  }

  /** A fresh socket cookie. */
  allocCookie(): bigint {
    return this.nextCookie++;
  }

  /** Creates a file (not yet installed in any fd table). */
  createFile(path: string, o: OpenOptions = {}): KFile {
    const inode: Inode = {
      i_ino: o.inode?.i_ino ?? this.allocIno(),
      i_mode: o.inode?.i_mode ?? S_IFREG | 0o644,
      s_dev: o.inode?.s_dev ?? 0x00800001,
    };
    // build_open_flags strips O_CLOEXEC: it lives in the fd table, not the file.
    const f_op = o.f_op ?? (o.fields ? null : this.fops('ext4_file_operations'));
    return new KFile(f_op, path, inode, (o.flags ?? 0) & ~O_CLOEXEC, 0, o.private_data ?? null, o.fields ?? null);
  }

  // ---------------------------------------------------------------- namespaces

  /** Creates a pid namespace below `parent` (`unshare(CLONE_NEWPID)`); the next task forked into it is its pid 1. */
  createPidNs(parent: PidNamespace = this.initPidNs): PidNamespace {
    if (parent.level >= 32) fail('ENOSPC', 'pid namespaces nest at most 32 deep (MAX_PID_NS_LEVEL)');
    return new PidNamespace(parent, this.nextNsInum++);
  }

  // ---------------------------------------------------------------- tasks

  /** Finds a task by its pid number in `ns` (`find_task_by_pid_ns`). */
  findTask(nr: number, ns: PidNamespace = this.initPidNs): Task | undefined {
    return ns.pids.get(nr);
  }

  /** Like {@link findTask} but throws ESRCH. */
  task(nr: number, ns: PidNamespace = this.initPidNs): Task {
    return this.findTask(nr, ns) ?? fail('ESRCH', `no task with pid ${nr}`);
  }

  /**
   * A task other tasks name (as their `real_parent`) that no iterator shows:
   * not in the pid table, the task list or a cgroup. The bpf source uses it
   * for PID 1 where the task iterators cannot see init, so its children keep
   * ppid 1 as the kernel has it.
   */
  unlistedTask(pid: number, comm: string, state: TaskState): Task {
    const t = new Task(pid, pid, comm, state, new ThreadGroup(pid), this.initTask, this.initPidNs, null, null, null);
    t.threadNode = t.signal.threads.push(t);
    return t;
  }

  /**
   * Low-level task creation used by sources and by fork/clone: allocates pid
   * numbers in the task's namespace and every ancestor, links it into its
   * thread group, the process list and its cgroup.
   */
  createTask(o: CreateTaskOptions): Task {
    const leader = o.group?.group_leader;
    if (leader && leader.dead) fail('ESRCH', `process ${leader.pid} has exited`);
    const parent = o.parent ?? (leader ? leader.real_parent : null);
    const pidNs = o.pidNs ?? leader?.pidNs ?? parent?.pidNs ?? this.initPidNs;
    // The namespaces from the initial one down to pidNs; none below it for a task of the initial one (no array per task).
    const levels: readonly PidNamespace[] = pidNs.parent ? nsLevels(pidNs) : NO_LEVELS;
    const pid = o.pid ?? this.allocPidNr(this.initPidNs);
    if (this.initPidNs.pids.has(pid)) fail('EEXIST', `pid ${pid} in use`);
    const nrs: number[] = [];
    for (let l = 1; l < levels.length; l++) {
      const ns = levels[l]!;
      const nr = o.nsPids?.[l - 1] ?? this.allocPidNr(ns);
      if (ns.pids.has(nr)) fail('EEXIST', `pid ${nr} in use in namespace level ${l}`);
      nrs.push(nr);
    }
    const tg = leader ? leader.signal : new ThreadGroup(pid);
    const files = o.files !== undefined ? o.files : leader ? leader.files : new FilesStruct();
    const mm = o.mm !== undefined ? o.mm : leader ? leader.mm : null;
    const cgroup = o.cgroup !== undefined ? o.cgroup : leader ? leader.cgroup : this.cgroupRoot;
    const t = new Task(
      pid,
      leader ? leader.tgid : pid,
      o.comm,
      o.state ?? 'S',
      tg,
      parent,
      pidNs,
      files,
      mm,
      cgroup,
      o.uid ?? leader?.uid ?? 0,
      o.gid ?? leader?.gid ?? 0,
      o.start_time ?? this.nowNs,
      o.flags ?? 0,
      o.prio ?? 120,
      o.sum_exec_runtime ?? 0,
    );
    if (leader) t.group_leader = leader;
    if (nrs.length) t.upids = Int32Array.from(nrs);
    if (o.__state !== undefined) t.kernelState = o.__state;
    t.__state_unknown = o.__state_unknown ?? 0;
    this.initPidNs.pids.set(pid, t);
    for (let l = 1; l < levels.length; l++) {
      levels[l]!.pids.set(nrs[l - 1]!, t);
      if (nrs[l - 1] === 1 && !levels[l]!.child_reaper) levels[l]!.child_reaper = t;
    }
    if (files) files.users++;
    if (mm) mm.users++;
    t.threadNode = tg.threads.push(t);
    if (!leader) tg.listNode = this.processes.push(t);
    if (cgroup) t.cgroupNode = cgroup.tasks.push(t);
    this.tasksTotal++;
    return t;
  }

  private allocPidNr(ns: PidNamespace): number {
    return ns.pids.reserve(RESERVED_PIDS);
  }

  /**
   * `fork()`: a new process that copies `parent`'s fd table (sharing the open
   * files) and address space (copy on write). With `newPidNs`, the child is
   * created in a new pid namespace below the parent's, as its pid 1.
   */
  fork(parent: Task, o: { comm?: string; newPidNs?: boolean | PidNamespace; uid?: number } = {}): Task {
    if (parent.dead) fail('ESRCH', `task ${parent.pid} has exited`);
    const pidNs = o.newPidNs === true ? this.createPidNs(parent.pidNs) : o.newPidNs || parent.pidNs;
    const files = parent.files ? this.dupFiles(parent.files) : null;
    const mm = parent.mm ? parent.mm.fork() : null;
    return this.createTask({
      comm: o.comm ?? parent.comm,
      parent,
      pidNs,
      files,
      mm,
      cgroup: parent.cgroup,
      uid: o.uid ?? parent.uid,
      gid: parent.gid,
      state: 'S',
      start_time: this.nowNs,
    });
  }

  /** `clone(CLONE_THREAD|CLONE_VM|...)`: a new thread of `task`'s process; `privateFiles` drops CLONE_FILES. */
  clone(task: Task, o: { comm?: string; privateFiles?: boolean } = {}): Task {
    if (task.dead) fail('ESRCH', `task ${task.pid} has exited`);
    const leader = task.group_leader;
    return this.createTask({
      comm: o.comm ?? task.comm,
      group: leader,
      files: o.privateFiles && task.files ? this.dupFiles(task.files) : task.files,
      mm: task.mm,
      cgroup: task.cgroup,
      start_time: this.nowNs,
    });
  }

  private dupFiles(src: FilesStruct): FilesStruct {
    const fds = src.fd.slice();
    for (const f of fds) if (f) f.fdRefs++;
    return new FilesStruct(fds, src.close_on_exec);
  }

  /**
   * A task exits. A thread leaves its group at once; a leader's exit ends the
   * whole process (`exit_group`). With `zombie`, the task stays visible in
   * state `Z` until {@link reap}.
   */
  exit(task: Task, o: { zombie?: boolean } = {}): void {
    if (task.dead || task === this.initTask) return;
    if (task.isLeader) {
      for (const t of task.signal.threads.toArray()) if (t !== task) this.release(t);
    }
    if (o.zombie) {
      task.state = 'Z';
      task.kernelState = null;
      this.dropResources(task);
      return;
    }
    this.release(task);
  }

  /** Removes a zombie left by `exit(task, { zombie: true })`. */
  reap(task: Task): void {
    if (task.state !== 'Z') fail('EINVAL', `task ${task.pid} is not a zombie`);
    this.release(task);
  }

  private dropResources(task: Task): void {
    const files = task.files;
    if (files) {
      task.files = null;
      if (--files.users === 0) {
        for (let fd = 0; fd < files.fd.length; fd++) if (files.fd[fd]) this.closeFile(files, fd);
      }
    }
    if (task.mm) {
      task.mm.users--;
      task.mm = null;
    }
  }

  private release(task: Task): void {
    this.dropResources(task);
    this.initPidNs.pids.remove(task.pid);
    let ns: PidNamespace | null = task.pidNs;
    while (ns && ns.level > 0) {
      ns.pids.remove(task.upids![ns.level - 1]!);
      ns = ns.parent;
    }
    if (task.threadNode) task.signal.threads.remove(task.threadNode);
    if (task.isLeader && task.signal.listNode) this.processes.remove(task.signal.listNode);
    if (task.cgroup && task.cgroupNode) task.cgroup.tasks.remove(task.cgroupNode);
    task.state = 'X';
    task.kernelState = null;
    this.tasksTotal--;
    task.kill();
  }

  // ---------------------------------------------------------------- files

  /**
   * Installs `file` in `task`'s fd table at the lowest free fd (or `fd`),
   * with close-on-exec set if `cloexec`, returning the fd.
   */
  installFd(task: Task, file: KFile, fd?: number, cloexec = false): number {
    return this.fdInstall(task.files ?? fail('EBADF', `task ${task.pid} has no file table`), file, fd, cloexec);
  }

  /** Installs `file` in the table `files` at the lowest free fd (or `fd`), returning the fd (`fd_install`). */
  fdInstall(files: FilesStruct, file: KFile, fd?: number, cloexec = false): number {
    const n = fd ?? files.unusedFd(0);
    if (!Number.isInteger(n) || n < 0) fail('EBADF', `bad fd ${fd}`);
    const fds = files.fd;
    if (fds[n]) this.closeFile(files, n);
    while (fds.length < n) fds.push(null);
    fds[n] = file;
    if (cloexec) files.setCloseOnExec(n, true);
    file.fdRefs++;
    if (file.dead) fail('EBADF', 'file already released');
    if (file.fdRefs === 1 && file.refcnt === 0) file.refcnt = 1;
    return n;
  }

  /** `open()`: creates a file and installs it; returns the fd. */
  open(task: Task, path: string, o: OpenOptions = {}): number {
    return this.installFd(task, this.createFile(path, o), o.fd, ((o.flags ?? 0) & O_CLOEXEC) !== 0);
  }

  /** `close(fd)`: EBADF if not open. */
  close(task: Task, fd: number): void {
    const files = task.files;
    if (!files || !files.fd[fd]) fail('EBADF', `fd ${fd} is not open in task ${task.pid}`);
    this.closeFile(files, fd);
  }

  private closeFile(files: FilesStruct, fd: number): void {
    const f = files.fd[fd]!;
    files.fd[fd] = null;
    files.setCloseOnExec(fd, false);
    while (files.fd.length && !files.fd[files.fd.length - 1]) files.fd.pop();
    if (--f.fdRefs === 0) {
      if (f.private_data instanceof Socket) this.closeSocket(f.private_data);
      f.kill();
    }
  }

  /** `dup(fd)` / `dup2(fd, newfd)`: the new fd has close-on-exec clear. */
  dup(task: Task, fd: number, newfd?: number): number {
    const f = task.files?.fd[fd] ?? fail('EBADF', `fd ${fd} is not open in task ${task.pid}`);
    if (newfd === fd) return fd;
    return this.installFd(task, f, newfd);
  }

  // ---------------------------------------------------------------- memory

  /** `mmap()`: maps `length` bytes (rounded up to pages) and returns the start address. */
  mmap(task: Task, o: MmapOptions): number {
    const mm = task.mm ?? fail('EINVAL', `task ${task.pid} has no address space`);
    const len = Math.ceil(o.length / PAGE_SIZE) * PAGE_SIZE;
    if (!(len > 0)) fail('EINVAL', 'mmap length must be positive');
    const vmas = mm.vmas();
    let start = o.addr;
    if (start === undefined) {
      // Top-down allocation below the lowest mapping above 2^32 (the mmap base area).
      const top = vmas.find((v) => v.vm_start >= 0x7f0000000000)?.vm_start ?? 0x7f0000000000;
      start = top - len;
      for (let i = vmas.length - 1; i >= 0; i--) {
        const v = vmas[i]!;
        if (v.vm_start < start + len && v.vm_end > start) start = v.vm_start - len;
      }
    }
    if (start % PAGE_SIZE !== 0 || start < 0) fail('EINVAL', 'mmap address must be page aligned');
    const prot = o.prot ?? VM_READ | VM_WRITE;
    const flags = prot | VM_MAYREAD | VM_MAYWRITE | (prot & VM_SHARED ? VM_MAYSHARE : 0);
    const rest = this.cut(vmas, start, start + len);
    rest.push({
      vm_start: start,
      vm_end: start + len,
      vm_flags: flags,
      vm_flags_unknown: 0,
      // An anonymous mapping's vm_pgoff is the page number of its address (mmap_region).
      vm_pgoff: o.file ? Math.floor((o.offset ?? 0) / PAGE_SIZE) : start / PAGE_SIZE,
      vm_file: o.file ?? null,
      vm_mm: mm,
      name: o.name ?? null,
    });
    rest.sort((a, b) => a.vm_start - b.vm_start);
    mm.setVmas(rest);
    return start;
  }

  /** `munmap()`: removes [addr, addr+length), splitting VMAs at the edges. */
  munmap(task: Task, addr: number, length: number): void {
    const mm = task.mm ?? fail('EINVAL', `task ${task.pid} has no address space`);
    if (addr % PAGE_SIZE !== 0 || !(length > 0)) fail('EINVAL', 'munmap needs a page-aligned address and a positive length');
    const len = Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    mm.setVmas(this.cut(mm.vmas(), addr, addr + len));
  }

  private cut(vmas: Vma[], start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (const v of vmas) {
      if (v.vm_end <= start || v.vm_start >= end) {
        out.push(v);
        continue;
      }
      if (v.vm_start < start) out.push({ ...v, vm_end: start });
      // __split_vma: the upper part's pgoff moves by the pages cut off, file or anonymous.
      if (v.vm_end > end) out.push({ ...v, vm_start: end, vm_pgoff: v.vm_pgoff === null ? null : v.vm_pgoff + (end - v.vm_start) / PAGE_SIZE });
    }
    return out;
  }

  /** A new empty address space, for tasks built by hand. */
  newMm(): MmStruct {
    return new MmStruct(vmaLayout([]));
  }

  // ---------------------------------------------------------------- sockets

  /** The table(s) a socket of `proto` is hashed in. */
  sockTable(sk: Socket): SockTable {
    switch (sk.proto) {
      case 'tcp':
        return sk.skc_state === TCP_LISTEN ? this.tcpListen : this.tcpEstablished;
      case 'udp':
        return this.udp;
      case 'unix':
        return this.unix;
      case 'netlink':
        return this.netlink;
    }
  }

  /** Hashes a socket into its table (bucket chosen by hash unless given). */
  addSocket(sk: Socket, bucket?: number): Socket {
    const table = this.sockTable(sk);
    if (sk.proto === 'netlink') table.insert(sk, bucket ?? sk.sk_protocol);
    else table.insert(sk, bucket);
    return sk;
  }

  /** Unhashes and releases a socket (close of its last fd). */
  closeSocket(sk: Socket): void {
    if (!sk.hashed) return;
    for (const m of sk.bpfMaps ?? []) m.dropOwner(sk);
    sk.bpfMaps = null;
    sk.hashed = false;
    for (const t of [this.tcpListen, this.tcpEstablished, this.udp, this.unix, this.netlink]) if (t.remove(sk)) break;
    sk.kill();
  }

  /**
   * The option state of a socket, initialised from {@link net} on first use.
   * Throws EOPNOTSUPP for a host socket whose options the source could not read.
   */
  sockOpts(sk: Socket): SockOpts {
    if (!sk.optsKnown) throw new BpfError('EOPNOTSUPP', `the options of socket ${sk.ino} are unknown (${this.source} source reads no socket options)`);
    return (sk.opts ??= initialSockOpts(sk, this.net));
  }

  /**
   * The kernel stack of a task (return addresses, innermost first): the
   * modelled one, else what {@link stackReader} finds; null when unknown.
   */
  taskStack(task: Task): bigint[] | null {
    return task.kstack ?? this.stackReader?.(task) ?? null;
  }

  /** Every socket of one protocol, in iterator order. */
  sockets(proto: SockProto): Socket[] {
    if (proto === 'tcp') return [...this.tcpListen.all(), ...this.tcpEstablished.all()];
    return (proto === 'udp' ? this.udp : proto === 'unix' ? this.unix : this.netlink).all();
  }

  /** `socket()` + install: creates the socket's file in `task` and hashes the socket. Returns the fd. */
  installSocket(task: Task, sk: Socket, fd?: number): number {
    this.addSocket(sk);
    const file = this.createFile(`socket:[${sk.ino}]`, {
      f_op: this.fops('socket_file_ops'),
      inode: { i_ino: sk.ino, i_mode: 0o140777, s_dev: 8 },
      private_data: sk,
    });
    return this.installFd(task, file, fd);
  }

  // ---------------------------------------------------------------- BPF objects

  /** `BPF_MAP_CREATE`: a new map with the next map id. */
  createMap(spec: BpfMapSpec): BpfMap {
    const m = new BpfMap(spec, this.nrCpus);
    m.id = this.maps.alloc(m);
    return m;
  }

  /** Drops the last user reference of a map (close of its last fd and pins). */
  destroyMap(map: BpfMap): void {
    if (this.maps.get(map.id) === map) this.maps.remove(map.id);
    map.kill();
  }

  /** Registers a loaded program (gives it the next prog id). */
  addProg(prog: BpfProg): BpfProg {
    prog.id = this.progs.alloc(prog);
    return prog;
  }

  removeProg(prog: BpfProg): void {
    if (this.progs.get(prog.id) === prog) this.progs.remove(prog.id);
    prog.kill();
  }

  /** Registers a link (gives it the next link id). */
  addLink(link: BpfLink): BpfLink {
    link.id = this.links.alloc(link);
    return link;
  }

  removeLink(link: BpfLink): void {
    if (this.links.get(link.id) === link) this.links.remove(link.id);
    link.kill();
  }

  // ---------------------------------------------------------------- cgroups

  /** `mkdir` in the cgroup filesystem. EEXIST if the name is taken. */
  mkdirCgroup(parent: Cgroup, name: string, id?: number): Cgroup {
    if (parent.dead) fail('ENOENT', `cgroup ${parent.path} was removed`);
    if (!name || name.includes('/')) fail('EINVAL', `bad cgroup name '${name}'`);
    if (parent.childList().some((c) => c.name === name)) fail('EEXIST', `cgroup ${parent.path}/${name} exists`);
    const cg = new Cgroup(0, name, parent);
    (cg as { id: number }).id = id ?? this.cgroups.alloc(cg);
    if (id !== undefined) this.cgroups.set(id, cg);
    cg.siblingNode = parent.children.push(cg);
    return cg;
  }

  /** `rmdir`: EBUSY while the cgroup has tasks or live children. */
  rmdirCgroup(cg: Cgroup): void {
    if (!cg.parent) fail('EBUSY', 'cannot remove the root cgroup');
    if (cg.dead) fail('ENOENT', `cgroup ${cg.path} was removed`);
    if (cg.tasks.size > 0) fail('EBUSY', `cgroup ${cg.path} has tasks`);
    if (cg.childList().length > 0) fail('EBUSY', `cgroup ${cg.path} has children`);
    // It stays listed under its parent while referenced (a dying cgroup), see Cgroup.onFree.
    this.cgroups.remove(cg.id);
    cg.kill();
  }

  /** Finds a cgroup by path (`/` is the root). */
  cgroupByPath(path: string): Cgroup | undefined {
    let cg: Cgroup | undefined = this.cgroupRoot;
    for (const part of path.split('/').filter(Boolean)) {
      cg = cg.childList().find((c) => c.name === part);
      if (!cg) return undefined;
    }
    return cg;
  }

  /** Moves a task (thread) into a cgroup. */
  attachCgroup(task: Task, cg: Cgroup): void {
    if (cg.dead) fail('ENOENT', `cgroup ${cg.path} was removed`);
    if (task.dead) fail('ESRCH', `task ${task.pid} has exited`);
    if (task.cgroup && task.cgroupNode) task.cgroup.tasks.remove(task.cgroupNode);
    task.cgroup = cg;
    task.cgroupNode = cg.tasks.push(task);
  }

  // ---------------------------------------------------------------- slab caches, routes

  addKmemCache(c: KmemCache): KmemCache {
    (c as KmemCache & { node?: unknown }).node = this.kmemCaches.push(c);
    return c;
  }

  destroyKmemCache(c: KmemCache): void {
    for (let n = this.kmemCaches.head; n; n = n.next) if (n.value === c) this.kmemCaches.remove(n);
    c.kill();
  }

  /** Throws the recorded error when the source could not read objects of `kind` (see {@link unreadable}). */
  checkReadable(kind: string): void {
    const u = this.unreadable.get(kind);
    if (u) throw new BpfError(u.errno, `${kind}: ${u.reason}`);
  }

  /** `dma_buf_export`: adds a buffer to the global list. */
  addDmaBuf(b: DmaBuf): DmaBuf {
    this.dmabufs.push(b);
    return b;
  }

  /** The last fd of a buffer closed: it leaves the list (an iterator holding it keeps it until it lets go). */
  releaseDmaBuf(b: DmaBuf): void {
    for (let n = this.dmabufs.head; n; n = n.next) if (n.value === b) this.dmabufs.remove(n);
    b.kill();
  }

  addRoute(r: Ipv6Route): Ipv6Route {
    this.ipv6Routes.push(r);
    return r;
  }

  delRoute(r: Ipv6Route): void {
    for (let n = this.ipv6Routes.head; n; n = n.next) if (n.value === r) this.ipv6Routes.remove(n);
    r.kill();
  }
}

export { BpfError };
