import { BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_PROG_TYPE_TRACING, BPF_LINK_TYPE_ITER } from '../uapi.js';
import { Kernel } from '../kernel.js';
import { BpfLink, BpfProg } from '../model/bpf.js';
import type { Cgroup } from '../model/cgroup.js';
import { type KFile, mkdev, S_IFCHR, S_IFIFO, S_IFREG } from '../model/file.js';
import { FilesStruct } from '../model/files_struct.js';
import { DmaBuf } from '../model/dmabuf.js';
import { KmemCache } from '../model/kmem_cache.js';
import { MmStruct, PGOFF_ANON, PGOFF_STACK, VM_EXEC, VM_GROWSDOWN, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE, vmaLayout, type VmaLayout } from '../model/mm.js';
import type { PidNamespace } from '../model/pid_namespace.js';
import { Ipv6Route, RTF_ADDRCONF, RTF_DEFAULT, RTF_EXPIRES, RTF_NONEXTHOP, RTF_UP } from '../model/route.js';
import {
  AF_INET,
  AF_INET6,
  AF_NETLINK,
  AF_UNIX,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_STREAM,
  Socket,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  TCP_TIME_WAIT,
} from '../model/socket.js';
import { PF_KTHREAD, type Task, type TaskState } from '../model/task.js';
import { Prng } from './prng.js';

/** Sizes of a synthetic kernel. Every count is exact when given; omitted ones follow each program's profile. */
export interface SyntheticOptions {
  /** Seed of the PRNG: the same seed and sizes give the same kernel, object for object. */
  seed?: number;
  /** User-space processes (kernel threads come on top, see `kthreads`). Default 96. */
  processes?: number;
  /** Tasks per process, leader included (default: per program, 1 to 24). */
  threadsPerProcess?: number;
  /** Open fds per process (default: per program, 4 to 40). */
  filesPerProcess?: number;
  /** VMAs per process (default: per program, 20 to 60). */
  vmasPerProcess?: number;
  /** Kernel threads (no mm). Default: 2 per CPU plus 8. */
  kthreads?: number;
  /** Socket budget: fds that a program opens as sockets become sockets until it runs out. Default 2 per process. */
  sockets?: number;
  /** BPF maps. Default 4. */
  maps?: number;
  /** Extra cgroups besides the standard slices. Default 8. */
  cgroups?: number;
  /** Containers: processes started in their own pid namespace. Default 1 (0 when processes < 8). */
  containers?: number;
  /** Possible CPUs. Default 8. */
  nrCpus?: number;
}

interface Profile {
  comm: string;
  exe: string;
  libs: string[];
  threads: [number, number];
  /** fd kinds after 0, 1, 2. */
  fds: string[];
  uid: number;
  slice: string;
  /** TCP ports it listens on. */
  listen?: number[];
}

const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
const LIBM = '/usr/lib/x86_64-linux-gnu/libm.so.6';
const LD = '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2';
const LIBSSL = '/usr/lib/x86_64-linux-gnu/libssl.so.3';
const LIBCRYPTO = '/usr/lib/x86_64-linux-gnu/libcrypto.so.3';
const LIBSTDCXX = '/usr/lib/x86_64-linux-gnu/libstdc++.so.6';
const LIBSYSTEMD = '/usr/lib/x86_64-linux-gnu/libsystemd-shared-252.so';
const LIBZ = '/usr/lib/x86_64-linux-gnu/libz.so.1.2.13';

const PROFILES: Profile[] = [
  { comm: 'systemd-journal', exe: '/usr/lib/systemd/systemd-journald', libs: [LIBSYSTEMD, LIBC], threads: [1, 1], fds: ['unix', 'unix', 'unix', 'epoll', 'signalfd', 'timerfd', 'log', 'log', 'inotify', 'netlink', 'eventfd'], uid: 0, slice: 'system.slice/systemd-journald.service' },
  { comm: 'systemd-udevd', exe: '/usr/bin/udevadm', libs: [LIBSYSTEMD, LIBC], threads: [1, 1], fds: ['epoll', 'unix', 'netlink', 'inotify', 'signalfd', 'timerfd', 'eventfd'], uid: 0, slice: 'system.slice/systemd-udevd.service' },
  { comm: 'systemd-logind', exe: '/usr/lib/systemd/systemd-logind', libs: [LIBSYSTEMD, LIBC], threads: [1, 1], fds: ['unix', 'epoll', 'signalfd', 'netlink', 'unix', 'timerfd', 'file'], uid: 0, slice: 'system.slice/systemd-logind.service' },
  { comm: 'dbus-daemon', exe: '/usr/bin/dbus-daemon', libs: [LIBSYSTEMD, LIBC], threads: [1, 1], fds: ['unix', 'unix', 'epoll', 'unix', 'unix', 'inotify'], uid: 101, slice: 'system.slice/dbus.service' },
  { comm: 'cron', exe: '/usr/sbin/cron', libs: [LIBC], threads: [1, 1], fds: ['file', 'unix'], uid: 0, slice: 'system.slice/cron.service' },
  { comm: 'rsyslogd', exe: '/usr/sbin/rsyslogd', libs: [LIBZ, LIBC], threads: [4, 4], fds: ['unix', 'log', 'log', 'log', 'file', 'epoll'], uid: 0, slice: 'system.slice/rsyslog.service' },
  { comm: 'sshd', exe: '/usr/sbin/sshd', libs: [LIBCRYPTO, LIBZ, LIBC], threads: [1, 1], fds: ['tcp', 'tcp6', 'pipe'], uid: 0, slice: 'system.slice/ssh.service', listen: [22] },
  { comm: 'bash', exe: '/usr/bin/bash', libs: [LIBC], threads: [1, 1], fds: ['tty'], uid: 1000, slice: 'user.slice/user-1000.slice/session-1.scope' },
  { comm: 'node', exe: '/usr/bin/node', libs: [LIBSTDCXX, LIBM, LIBSSL, LIBCRYPTO, LIBC], threads: [7, 11], fds: ['epoll', 'eventfd', 'pipe', 'pipe', 'eventfd', 'tcp', 'file', 'unix', 'timerfd', 'pipe'], uid: 1000, slice: 'user.slice/user-1000.slice/session-1.scope', listen: [3000] },
  { comm: 'postgres', exe: '/usr/lib/postgresql/15/bin/postgres', libs: [LIBSSL, LIBCRYPTO, LIBZ, LIBM, LIBC], threads: [1, 1], fds: ['log', 'tcp', 'tcp6', 'unix', 'pipe', 'pipe', 'file', 'file', 'udp6', 'epoll'], uid: 105, slice: 'system.slice/postgresql.service', listen: [5432] },
  { comm: 'nginx', exe: '/usr/sbin/nginx', libs: [LIBSSL, LIBCRYPTO, LIBZ, LIBC], threads: [1, 1], fds: ['log', 'log', 'tcp', 'tcp6', 'epoll', 'eventfd', 'unix'], uid: 33, slice: 'system.slice/nginx.service', listen: [80, 443] },
  { comm: 'containerd', exe: '/usr/bin/containerd', libs: [LIBC], threads: [12, 20], fds: ['log', 'unix', 'epoll', 'pipe', 'unix', 'unix', 'file', 'tcp'], uid: 0, slice: 'system.slice/containerd.service' },
  { comm: 'redis-server', exe: '/usr/bin/redis-server', libs: [LIBSSL, LIBCRYPTO, LIBM, LIBC], threads: [4, 5], fds: ['pipe', 'pipe', 'epoll', 'tcp', 'tcp6', 'log'], uid: 110, slice: 'system.slice/redis-server.service', listen: [6379] },
  { comm: 'python3', exe: '/usr/bin/python3.11', libs: [LIBZ, LIBM, LIBC], threads: [1, 3], fds: ['file', 'pipe', 'udp', 'file'], uid: 1000, slice: 'user.slice/user-1000.slice/session-1.scope' },
  { comm: 'agetty', exe: '/usr/sbin/agetty', libs: [LIBC], threads: [1, 1], fds: [], uid: 0, slice: 'system.slice/system-getty.slice' },
  { comm: 'chronyd', exe: '/usr/sbin/chronyd', libs: [LIBM, LIBC], threads: [1, 1], fds: ['udp', 'udp6', 'unix', 'file'], uid: 104, slice: 'system.slice/chrony.service' },
];

const KTHREAD_NAMES = ['rcu_gp', 'rcu_par_gp', 'slub_flushwq', 'netns', 'mm_percpu_wq', 'rcu_tasks_kthread', 'rcu_preempt', 'kdevtmpfs', 'inet_frag_wq', 'kauditd', 'khungtaskd', 'oom_reaper', 'writeback', 'kcompactd0', 'ksmd', 'khugepaged', 'kintegrityd', 'kblockd', 'blkcg_punt_bio', 'kswapd0', 'kthrotld', 'jbd2/vda1-8', 'ext4-rsv-conver'];

const PAGE = 4096;

/** Sizes of a mapped file's segments in pages (r--, r-x, r--, rw-). */
function segPages(rng: Prng): [number, number, number, number] {
  return [rng.int(1, 40), rng.int(4, 400), rng.int(1, 60), rng.int(1, 8)];
}

/**
 * Builds a synthetic kernel: deterministic from the seed and sizes, with
 * realistic contents (a systemd machine running services, shells, node,
 * postgres, a container in its own pid namespace), compact enough to hold
 * a million tasks: processes of one program share one VMA layout, shifted
 * per process by ASLR biases, and share their mapped files.
 */
export function syntheticKernel(options: SyntheticOptions = {}): Kernel {
  return new SyntheticBuilder(options).build();
}

let defaultKernelInstance: Kernel | null = null;

/** The embedded default kernel (`syntheticKernel({ seed: 1 })`), built once and shared. */
export function defaultKernel(): Kernel {
  return (defaultKernelInstance ??= syntheticKernel({ seed: 1 }));
}

class SyntheticBuilder {
  private readonly rng: Prng;
  private readonly k: Kernel;
  private readonly o: Required<Omit<SyntheticOptions, 'threadsPerProcess' | 'filesPerProcess' | 'vmasPerProcess'>> &
    Pick<SyntheticOptions, 'threadsPerProcess' | 'filesPerProcess' | 'vmasPerProcess'>;
  private readonly fileCache = new Map<string, KFile>();
  private readonly layoutCache = new Map<string, VmaLayout>();
  private readonly cgroupCache = new Map<string, Cgroup>();
  private socketBudget: number;
  private nextPid = 1;
  private clock = 2_000_000_000; // 2 s after boot
  private ttyFiles: KFile[] = [];
  private nullFile!: KFile;
  private initFiles = new FilesStruct();
  private nextPort = 32768;
  private readonly pools = new Map<string, KFile[]>();
  private readonly listening = new Set<string>();

  constructor(options: SyntheticOptions) {
    const processes = options.processes ?? 96;
    const nrCpus = options.nrCpus ?? 8;
    this.o = {
      seed: options.seed ?? 1,
      processes,
      threadsPerProcess: options.threadsPerProcess,
      filesPerProcess: options.filesPerProcess,
      vmasPerProcess: options.vmasPerProcess,
      kthreads: options.kthreads ?? 2 * nrCpus + 8,
      sockets: options.sockets ?? 2 * processes,
      maps: options.maps ?? 4,
      cgroups: options.cgroups ?? 8,
      containers: options.containers ?? (processes >= 8 ? 1 : 0),
      nrCpus,
    };
    for (const [name, v] of Object.entries(this.o)) {
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < 0)) throw new RangeError(`syntheticKernel: ${name} must be a non-negative integer`);
    }
    if (this.o.processes === 0) throw new RangeError('syntheticKernel: processes must be at least 1 (pid 1 is systemd)');
    if (this.o.threadsPerProcess === 0) throw new RangeError('syntheticKernel: threadsPerProcess must be at least 1');
    this.rng = new Prng(this.o.seed);
    this.k = new Kernel({ source: 'synthetic', nrCpus });
    this.socketBudget = this.o.sockets;
  }

  build(): Kernel {
    const k = this.k;
    k.description = `synthetic seed=${this.o.seed} processes=${this.o.processes}`;
    k.bootTimeNs = 1_764_000_000_000_000_000 + this.o.seed * 1_000_000_000;
    this.ksyms();
    this.cgroups();
    this.nullFile = this.sharedFile('/dev/null', 'null_fops', S_IFCHR | 0o666, mkdev(1, 3), 0);
    this.ttyFiles = [0, 1, 2, 3].map((n) => this.sharedFile(`/dev/pts/${n}`, 'tty_fops', S_IFCHR | 0o620, mkdev(136, n), 0o2));

    // pid 1 and kthreadd, then kernel threads, then user space.
    const init = this.process(this.profileFor('systemd'), null, this.cg('init.scope'));
    // `kthreads` counts every kernel thread, kthreadd (pid 2) included.
    if (this.o.kthreads > 0) this.kthreads(this.kthread('kthreadd', null));
    const users = this.o.processes - 1;
    const containerProcs = this.o.containers > 0 ? Math.min(users, Math.max(2, Math.floor(users / 16))) : 0;
    const parents: Task[] = [init];
    for (let i = 0; i < users - containerProcs; i++) {
      const p = this.rng.pick(PROFILES);
      const parent = p.comm === 'bash' || p.comm === 'python3' || p.comm === 'node' ? this.rng.pick(parents) : init;
      const t = this.process(p, parent, this.cg(p.slice));
      if (p.comm === 'sshd' || p.comm === 'bash') parents.push(t);
      if (this.rng.chance(0.05)) this.nextPid += this.rng.int(1, 30); // pids of exited processes
    }
    this.containers(containerProcs, init);
    this.sockets();
    this.bpfObjects();
    this.routes();
    this.kmemCaches();
    this.dmabufs();
    this.stacks();
    this.packAddressSpaces();
    k.nowNs = this.clock;
    return k;
  }

  /**
   * Moves every process's address space next to the others (the kernel's
   * `mm_struct` slab cache). Built one process at a time, each sat among that
   * process's tasks, files and sockets: a walk of many address spaces then
   * missed the cache (and the TLB) once per process. Values are unchanged.
   */
  private packAddressSpaces(): void {
    for (let p = this.k.processes.head; p; p = p.next) {
      const mm = p.value.mm;
      if (mm === null) continue;
      const moved = mm.moved();
      for (let t = p.value.signal.threads.head; t; t = t.next) if (t.value.mm === mm) t.value.mm = moved;
    }
  }

  /** A few DMA buffers of the system heap (deterministic, after everything else). */
  private dmabufs(): void {
    const k = this.k;
    for (let i = 0; i < 4; i++) k.addDmaBuf(new DmaBuf(4096 << (i * 2), 'system', k.allocIno(), i === 1 ? 'gpu-scanout' : ''));
  }

  /** Kernel stacks from the model's kallsyms: sleepers wait in a read, others in the scheduler (no randomness consumed). */
  private stacks(): void {
    const k = this.k;
    const addr = new Map<string, bigint>();
    for (let i = 0; i < k.ksyms.count; i++) addr.set(k.ksyms.names[i]!, k.ksyms.values[i]!);
    const at = (name: string, off: number) => (addr.get(name) ?? 0n) + BigInt(off);
    const sleeping = [at('schedule', 0x2f), at('vfs_read', 0x9c), at('ksys_read', 0x6b), at('do_sys_open', 0x1a)];
    const idle = [at('schedule', 0x2f), at('do_one_initcall', 0x44)];
    for (let p = k.processes.head; p; p = p.next)
      for (let t = p.value.signal.threads.head; t; t = t.next) {
        const task = t.value;
        if (task.state === 'Z' || task.state === 'X') continue;
        task.kstack = task.flags & PF_KTHREAD ? idle : task.state === 'R' ? [at('schedule', 0x2f)] : sleeping;
      }
  }

  // ------------------------------------------------------------ tasks

  private profileFor(comm: string): Profile {
    if (comm === 'systemd')
      return { comm: 'systemd', exe: '/usr/lib/systemd/systemd', libs: [LIBSYSTEMD, LIBC], threads: [1, 1], fds: ['unix', 'epoll', 'signalfd', 'inotify', 'timerfd', 'netlink', 'unix', 'unix', 'unix', 'file'], uid: 0, slice: 'init.scope' };
    return PROFILES.find((p) => p.comm === comm)!;
  }

  private tick(): number {
    this.clock += this.rng.int(1_000_000, 80_000_000);
    return this.clock;
  }

  private kthread(comm: string, parent: Task | null): Task {
    const t = this.k.createTask({
      pid: this.nextPid++,
      comm,
      parent,
      files: this.initFiles,
      mm: null,
      cgroup: this.k.cgroupRoot,
      state: comm.startsWith('kworker') ? 'I' : 'S',
      flags: PF_KTHREAD,
      start_time: this.tick(),
    });
    return t;
  }

  private kthreads(kthreadd: Task): void {
    const n = this.o.kthreads - 1;
    const names: string[] = [];
    for (let cpu = 0; names.length < n && cpu < this.o.nrCpus; cpu++) names.push(`cpuhp/${cpu}`, `migration/${cpu}`, `ksoftirqd/${cpu}`);
    for (const s of KTHREAD_NAMES) if (names.length < n) names.push(s);
    for (let i = 0; names.length < n; i++) names.push(`kworker/${i % this.o.nrCpus}:${i >> 3}${i % 3 === 0 ? 'H' : ''}`);
    for (const name of names.slice(0, n)) this.kthread(name, kthreadd);
  }

  private process(p: Profile, parent: Task | null, cgroup: Cgroup, pidNs?: PidNamespace): Task {
    const k = this.k;
    const start = this.tick();
    const files = new FilesStruct();
    const mm = this.mm(p);
    const leader = k.createTask({
      pid: this.nextPid++,
      comm: p.comm,
      parent,
      pidNs,
      files,
      mm,
      cgroup,
      uid: p.uid,
      gid: p.uid,
      state: this.state(),
      start_time: start,
      prio: 120,
      sum_exec_runtime: this.rng.int(1_000_000, 9_000_000_000),
    });
    this.fillFds(leader, p);
    const threads = this.o.threadsPerProcess ?? this.rng.int(p.threads[0], p.threads[1]);
    for (let i = 1; i < threads; i++) {
      k.createTask({
        pid: this.nextPid++,
        comm: i === 1 && p.comm === 'node' ? 'node' : p.comm.length < 13 ? `${p.comm.slice(0, 9)}-w${i}` : p.comm,
        group: leader,
        state: this.state(),
        start_time: start + i * 1000,
        sum_exec_runtime: this.rng.int(100_000, 900_000_000),
      });
    }
    return leader;
  }

  private state(): TaskState {
    const r = this.rng.next();
    return r < 0.9 ? 'S' : r < 0.97 ? 'R' : r < 0.99 ? 'D' : 'T';
  }

  private containers(n: number, init: Task): void {
    if (n === 0) return;
    const count = this.o.containers;
    const cgroups = this.cg('system.slice/containerd.service');
    for (let c = 0; c < count; c++) {
      const perContainer = Math.floor(n / count) + (c < n % count ? 1 : 0);
      if (perContainer === 0) continue;
      const ns = this.k.createPidNs();
      // A one-process container has no room for its shim in the process count.
      const shim = perContainer > 1 ? this.process(this.profileFor('containerd'), init, cgroups) : init;
      if (shim !== init) shim.comm = 'containerd-shim';
      const cg = this.cg(`system.slice/docker-${(0x3f2a0000 + c * 7919).toString(16)}.scope`);
      const first = this.process(this.profileFor('node'), shim, cg, ns);
      for (let i = 1; i < perContainer - 1; i++) this.process(this.rng.pick(PROFILES), first, cg, ns);
    }
  }

  // ------------------------------------------------------------ files

  private sharedFile(path: string, fop: string, mode: number, dev: number, flags: number): KFile {
    let f = this.fileCache.get(path);
    if (!f) {
      f = this.k.createFile(path, { f_op: this.k.fops(fop), inode: { i_mode: mode, s_dev: dev }, flags });
      this.fileCache.set(path, f);
    }
    return f;
  }

  /**
   * Pipes and anon-inode files come from a pool per kind: like files
   * inherited through fork, many tables point at one file, which keeps a
   * million-task kernel small.
   */
  private pooled(kind: string, make: () => KFile): KFile {
    let pool = this.pools.get(kind);
    if (!pool) this.pools.set(kind, (pool = []));
    if (pool.length < 256) {
      const f = make();
      pool.push(f);
      return f;
    }
    return pool[this.rng.int(0, pool.length - 1)]!;
  }

  private anonFile(kind: string): KFile {
    return this.pooled(kind, () => this.newAnonFile(kind));
  }

  private newAnonFile(kind: string): KFile {
    const fop = { eventfd: 'eventfd_fops', epoll: 'eventpoll_fops', signalfd: 'signalfd_fops', timerfd: 'timerfd_fops', inotify: 'inotify_fops' }[kind]!;
    const name = kind === 'epoll' ? '[eventpoll]' : kind === 'inotify' ? 'inotify' : `[${kind}]`;
    // One anon inode is shared by all anon files, as in the kernel.
    return this.k.createFile(`anon_inode:${name}`, { f_op: this.k.fops(fop), inode: { i_ino: 1057, i_mode: 0o600, s_dev: mkdev(0, 14) }, flags: 0o2 | 0o4000 });
  }

  private fillFds(t: Task, p: Profile): void {
    const k = this.k;
    const tty = p.uid === 1000 ? this.rng.pick(this.ttyFiles) : this.nullFile;
    const want = this.o.filesPerProcess;
    const kinds = want === undefined ? ['std', 'std', 'std', ...p.fds] : Array.from({ length: want }, (_, i) => (i < 3 ? 'std' : p.fds.length ? p.fds[(i - 3) % p.fds.length]! : 'file'));
    kinds.forEach((kind, fd) => {
      switch (kind) {
        case 'std':
        case 'tty':
          k.installFd(t, tty, fd);
          return;
        case 'tcp':
        case 'tcp6':
        case 'udp':
        case 'udp6':
        case 'unix':
        case 'netlink':
          if (this.socketBudget > 0) {
            this.socketBudget--;
            k.installSocket(t, this.socket(kind, p, t), fd);
            return;
          }
          k.installFd(t, this.pipe(), fd);
          return;
        case 'pipe':
          k.installFd(t, this.pipe(), fd);
          return;
        case 'log':
          k.installFd(t, this.sharedFile(`/var/log/${p.comm}.log`, 'ext4_file_operations', S_IFREG | 0o640, mkdev(254, 1), 0o2001), fd);
          return;
        case 'file':
          k.installFd(t, this.sharedFile(this.rng.pick([`/etc/${p.comm}.conf`, '/etc/passwd', '/var/lib/dpkg/status', `/home/user/data-${this.rng.int(0, 9)}.db`, '/etc/ld.so.cache']), 'ext4_file_operations', S_IFREG | 0o644, mkdev(254, 1), 0o100000), fd);
          return;
        default:
          k.installFd(t, this.anonFile(kind), fd);
      }
    });
  }

  private pipe(): KFile {
    return this.pooled('pipe', () => this.newPipe());
  }

  private newPipe(): KFile {
    const ino = this.k.allocIno();
    return this.k.createFile(`pipe:[${ino}]`, { f_op: this.k.fops('pipefifo_fops'), inode: { i_ino: ino, i_mode: S_IFIFO | 0o600, s_dev: mkdev(0, 13) } });
  }

  // ------------------------------------------------------------ address spaces

  private mm(p: Profile): MmStruct {
    const n = this.o.vmasPerProcess;
    const key = `${p.exe}|${n ?? ''}`;
    let layout = this.layoutCache.get(key);
    if (!layout) {
      layout = this.layout(p, n);
      this.layoutCache.set(key, layout);
    }
    // Region biases: exe (0x55..), heap right after it, mmap area (0x7f..), stack (0x7ff...).
    const exeBase = 0x550000000000 + this.rng.int(0, 0xfffffff) * PAGE;
    const heapGap = this.rng.int(1, 0x1fff) * PAGE;
    const mmapBase = 0x7f0000000000 + this.rng.int(0, 0x3ffffff) * PAGE;
    const stackBase = 0x7ffc00000000 + this.rng.int(0, 0x3ffff) * PAGE;
    const exeEnd = layout.end[layout.region.indexOf(1) - 1] ?? 0;
    return new MmStruct(layout, Float64Array.of(exeBase, exeBase + exeEnd + heapGap, mmapBase, stackBase));
  }

  /** A process layout in four regions (exe, heap, mmap area, stack), with exactly `n` VMAs when given. */
  private layout(p: Profile, n: number | undefined): VmaLayout {
    const rows: { start: number; end: number; flags: number; pgoff: number; file: KFile | null; name: string | null; region: number }[] = [];
    const R = VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    const segs = [R, R | VM_EXEC, R, R | VM_WRITE];
    const mapFile = (path: string, region: number, at: number): number => {
      const file = this.sharedFile(path, 'ext4_file_operations', S_IFREG | 0o755, mkdev(254, 1), 0o100000);
      const pages = segPages(new Prng(file.f_inode.i_ino));
      let off = 0;
      pages.forEach((pg, i) => {
        rows.push({ start: at, end: at + pg * PAGE, flags: segs[i]!, pgoff: i === 3 ? off - 1 : off, file, name: null, region });
        at += pg * PAGE;
        off += pg;
      });
      return at;
    };
    // exe at region 0
    mapFile(p.exe, 0, 0);
    let at = 0;
    // heap at region 1
    rows.push({ start: 0, end: this.rng.int(33, 2000) * PAGE, flags: R | VM_WRITE, pgoff: PGOFF_ANON, file: null, name: '[heap]', region: 1 });
    // libraries and anonymous mappings in the mmap area, region 2, growing up from its base
    const libs = [...p.libs];
    const tail = 4 + 4; // ld.so (4) + stack, vvar, vdso, vsyscall... counted below
    const budget = n === undefined ? undefined : n - rows.length - tail;
    let used = 0;
    let li = 0;
    while (budget === undefined ? li < libs.length : used + 4 <= budget) {
      const lib = budget === undefined ? libs[li]! : li < libs.length ? libs[li]! : `/usr/lib/x86_64-linux-gnu/libextra${li}.so.1`;
      at = mapFile(lib, 2, at) + PAGE * this.rng.int(0, 2);
      used += 4;
      li++;
    }
    while (budget !== undefined && used < budget) {
      const pages = this.rng.int(1, 2048);
      rows.push({ start: at, end: at + pages * PAGE, flags: R | VM_WRITE, pgoff: PGOFF_ANON, file: null, name: null, region: 2 });
      at += (pages + 1) * PAGE;
      used++;
    }
    at = mapFile(LD, 2, at + 16 * PAGE);
    // stack, vvar, vdso in region 3
    const stackPages = 33;
    rows.push({ start: 0, end: stackPages * PAGE, flags: R | VM_WRITE | VM_GROWSDOWN, pgoff: PGOFF_STACK, file: null, name: '[stack]', region: 3 });
    const vvar = (stackPages + 64) * PAGE;
    rows.push({ start: vvar, end: vvar + 4 * PAGE, flags: VM_READ | VM_MAYREAD, pgoff: 0, file: null, name: '[vvar]', region: 3 });
    rows.push({ start: vvar + 4 * PAGE, end: vvar + 6 * PAGE, flags: VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYEXEC, pgoff: 0, file: null, name: '[vdso]', region: 3 });
    if (n !== undefined) {
      // Trim (tiny n) or pad with anonymous mappings below the stack to hit n exactly.
      while (rows.length > n) rows.splice(rows.length - 4, 1);
      let extra = vvar + 16 * PAGE;
      while (rows.length < n) {
        rows.push({ start: extra, end: extra + PAGE, flags: R | VM_WRITE, pgoff: PGOFF_ANON, file: null, name: null, region: 3 });
        extra += 2 * PAGE;
      }
    }
    return vmaLayout(rows);
  }

  // ------------------------------------------------------------ cgroups

  private cg(path: string): Cgroup {
    let cg = this.cgroupCache.get(path);
    if (cg) return cg;
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? this.k.cgroupRoot : this.cg(path.slice(0, slash));
    cg = this.k.mkdirCgroup(parent, path.slice(slash + 1));
    this.cgroupCache.set(path, cg);
    return cg;
  }

  private cgroups(): void {
    for (const p of ['init.scope', 'system.slice', 'user.slice', 'user.slice/user-1000.slice']) this.cg(p);
    for (let i = 0; i < this.o.cgroups; i++) {
      const svc = this.rng.pick(['app', 'worker', 'batch', 'web', 'db']);
      this.cg(`system.slice/${svc}-${i}.service`);
    }
  }

  // ------------------------------------------------------------ sockets

  private addr4(): Uint8Array {
    return this.rng.chance(0.5) ? Uint8Array.of(127, 0, 0, 1) : Uint8Array.of(10, 0, this.rng.int(0, 3), this.rng.int(2, 250));
  }

  private addr6(): Uint8Array {
    const a = new Uint8Array(16);
    if (this.rng.chance(0.5)) a[15] = 1;
    else {
      a[0] = 0xfd;
      a[1] = 0x00;
      for (let i = 8; i < 16; i++) a[i] = this.rng.int(0, 255);
    }
    return a;
  }

  private socket(kind: string, p: Profile, t: Task): Socket {
    const k = this.k;
    const ino = k.allocIno();
    const cookie = k.allocCookie();
    const addr = 0xffff888000000000n + BigInt(ino) * 0x800n;
    const inet = (tail: string) => ({ tr: 0, tm_when: 0, retrnsmt: 0, timeout: 0, tail });
    switch (kind) {
      case 'tcp':
      case 'tcp6': {
        const v6 = kind === 'tcp6';
        // One listener per port and family, as bind() enforces; later sockets of the program are connections.
        const listenPort = p.listen?.find((port) => !this.listening.has(`${kind}:${port}`));
        if (listenPort !== undefined) this.listening.add(`${kind}:${listenPort}`);
        const zero = new Uint8Array(v6 ? 16 : 4);
        if (listenPort !== undefined) {
          return new Socket({ proto: 'tcp', skc_family: v6 ? AF_INET6 : AF_INET, sk_type: SOCK_STREAM, sk_protocol: IPPROTO_TCP, skc_state: TCP_LISTEN, skc_rcv_saddr: zero, skc_daddr: zero, skc_num: listenPort, sk_uid: p.uid, ino, cookie, rx_queue: this.rng.int(0, 128), addr, inet: inet('1 0000000000000000 100 0 0 10 0') });
        }
        const state = this.rng.chance(0.9) ? TCP_ESTABLISHED : TCP_TIME_WAIT;
        const local = v6 ? this.addr6() : this.addr4();
        const port = this.nextPort++;
        return new Socket({ proto: 'tcp', skc_family: v6 ? AF_INET6 : AF_INET, sk_type: SOCK_STREAM, sk_protocol: IPPROTO_TCP, skc_state: state, skc_rcv_saddr: local, skc_daddr: v6 ? this.addr6() : this.addr4(), skc_num: port, dport: this.rng.pick([22, 443, 5432, 6379, 80, 3000]), sk_uid: p.uid, ino, cookie, tx_queue: this.rng.int(0, 4) * 100, rx_queue: this.rng.int(0, 3) * 50, addr, inet: inet('2 0000000000000000 20 4 30 10 -1') });
      }
      case 'udp':
      case 'udp6': {
        const v6 = kind === 'udp6';
        const zero = new Uint8Array(v6 ? 16 : 4);
        return new Socket({ proto: 'udp', skc_family: v6 ? AF_INET6 : AF_INET, sk_type: SOCK_DGRAM, sk_protocol: IPPROTO_UDP, skc_state: 7, skc_rcv_saddr: zero, skc_daddr: zero, skc_num: this.rng.pick([123, 323, 53, 5353, this.nextPort++]), sk_uid: p.uid, ino, cookie, addr, inet: inet('2 0000000000000000 0') });
      }
      case 'netlink': {
        const proto = this.rng.pick([0, 9, 15, 16]);
        const sk = new Socket({ proto: 'netlink', skc_family: AF_NETLINK, sk_type: SOCK_RAW, sk_protocol: proto, skc_state: 7, sk_uid: p.uid, ino, cookie, addr });
        sk.netlink = { portid: t.pid, groups: proto === 15 ? 1 : 0, rmem: 0, wmem: 0, dump: 0, locks: 2, drops: 0 };
        return sk;
      }
      default: {
        const listening = this.rng.chance(0.2);
        const path = listening ? `/run/${p.comm}.sock` : '';
        return new Socket({ proto: 'unix', skc_family: AF_UNIX, sk_type: this.rng.chance(0.8) ? SOCK_STREAM : SOCK_DGRAM, sk_protocol: 0, skc_state: listening ? TCP_LISTEN : TCP_ESTABLISHED, sk_uid: p.uid, ino, cookie, path, addr });
      }
    }
  }

  /** Sockets without an fd in any modeled task (kernel sockets, TIME_WAIT leftovers). */
  private sockets(): void {
    const k = this.k;
    for (let i = 0; i < 2; i++) {
      const ino = k.allocIno();
      const sk = new Socket({ proto: 'netlink', skc_family: AF_NETLINK, sk_type: SOCK_RAW, sk_protocol: i === 0 ? 0 : 15, skc_state: 7, ino, cookie: k.allocCookie(), addr: 0xffff888000100000n + BigInt(i) * 0x800n });
      sk.netlink = { portid: 0, groups: 0, rmem: 0, wmem: 0, dump: 0, locks: 2, drops: 0 };
      k.addSocket(sk);
    }
  }

  // ------------------------------------------------------------ the rest

  private bpfObjects(): void {
    const k = this.k;
    const specs = [
      { map_type: BPF_MAP_TYPE_HASH, name: 'conn_track', key_size: 8, value_size: 8, max_entries: 64 },
      { map_type: BPF_MAP_TYPE_ARRAY, name: 'counters', key_size: 4, value_size: 8, max_entries: 16 },
      { map_type: BPF_MAP_TYPE_PERCPU_ARRAY, name: 'pcpu_stats', key_size: 4, value_size: 4, max_entries: 4 },
      { map_type: BPF_MAP_TYPE_HASH, name: 'pid_filter', key_size: 4, value_size: 4, max_entries: 128 },
    ];
    for (let i = 0; i < this.o.maps; i++) {
      const spec = specs[i % specs.length]!;
      const m = k.createMap({ ...spec, name: i < specs.length ? spec.name : `${spec.name}_${i}` });
      const n = m.isArray ? m.max_entries : Math.min(m.max_entries, this.rng.int(3, 12));
      for (let e = 0; e < n; e++) {
        const key = new Uint8Array(m.key_size);
        const dv = new DataView(key.buffer);
        if (m.key_size >= 4) dv.setUint32(0, m.isArray ? e : 1000 + e * 7, true);
        const value = new Uint8Array(m.value_size);
        new DataView(value.buffer).setUint32(0, this.rng.int(0, 100000), true);
        m.update(key, value);
      }
    }
    const prog = k.addProg(new BpfProg(BPF_PROG_TYPE_TRACING, 'dump_task', '3b185187f1855c4c', 28, 'bpf_iter_task', this.tick()));
    k.addProg(new BpfProg(8, 'sd_fw_egress', '6deef7357e7b4530', 0, '', this.tick()));
    k.addProg(new BpfProg(8, 'sd_fw_ingress', '6deef7357e7b4530', 0, '', this.tick()));
    k.addLink(new BpfLink(BPF_LINK_TYPE_ITER, prog));
  }

  private routes(): void {
    const k = this.k;
    const z = new Uint8Array(16);
    const a = (...b: number[]) => {
      const x = new Uint8Array(16);
      b.forEach((v, i) => (x[i] = v));
      return x;
    };
    const lo = a(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    const fe80 = a(0xfe, 0x80);
    k.addRoute(new Ipv6Route(lo, 128, z, 0, z, 256, 1, 0, RTF_UP | RTF_NONEXTHOP, 'lo'));
    k.addRoute(new Ipv6Route(a(0xfd, 0, 0, 0, 0, 0, 0, 0), 64, z, 0, z, 256, 1, 0, RTF_UP | RTF_ADDRCONF | RTF_EXPIRES, 'eth0'));
    k.addRoute(new Ipv6Route(fe80, 64, z, 0, z, 256, 1, 0, RTF_UP, 'eth0'));
    k.addRoute(new Ipv6Route(z, 0, z, 0, a(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 1024, 2, 0, RTF_UP | RTF_DEFAULT | RTF_ADDRCONF | RTF_EXPIRES, 'eth0'));
    k.addRoute(new Ipv6Route(lo, 128, z, 0, z, 0, 3, 0, RTF_UP | RTF_NONEXTHOP | 0x80000000, 'lo'));
    k.addRoute(new Ipv6Route(a(0xff), 8, z, 0, z, 256, 4, 0, RTF_UP, 'eth0'));
  }

  private kmemCaches(): void {
    const list: [string, number][] = [
      ['task_struct', 10880], ['mm_struct', 1344], ['vm_area_struct', 232], ['files_cache', 704], ['filp', 256],
      ['dentry', 192], ['inode_cache', 608], ['ext4_inode_cache', 1184], ['sock_inode_cache', 832], ['TCP', 2496],
      ['TCPv6', 2624], ['UDP', 1344], ['UNIX', 1152], ['signal_cache', 1152], ['sighand_cache', 2112],
      ['pid', 128], ['cred_jar', 192], ['anon_vma', 104], ['kmalloc-64', 64], ['kmalloc-128', 128],
      ['kmalloc-256', 256], ['kmalloc-512', 512], ['kmalloc-1k', 1024], ['kmalloc-4k', 4096],
    ];
    for (const [name, size] of list) {
      const per = Math.max(1, Math.floor(8 * 4096 / size));
      const num = per * this.rng.int(1, 40);
      this.k.addKmemCache(new KmemCache(name, size, size, 8, this.rng.int(0, num), num, per, size > 2048 ? 8 : 1));
    }
  }

  /** A kallsyms of the model: the file kinds' ops tables at their addresses, and some text symbols. */
  private ksyms(): void {
    const k = this.k;
    const fopNames = ['null_fops', 'tty_fops', 'ptmx_fops', 'ext4_file_operations', 'ext4_dir_operations', 'pipefifo_fops', 'socket_file_ops', 'eventfd_fops', 'eventpoll_fops', 'signalfd_fops', 'timerfd_fops', 'inotify_fops', 'bpf_map_fops', 'bpf_prog_fops', 'bpf_link_fops', 'shmem_file_operations'];
    const text = ['_stext', 'do_one_initcall', 'schedule', 'do_sys_open', 'ksys_read', 'vfs_read', 'bpf_iter_run_prog', 'bpf_seq_read', 'bpf_iter_task_new', 'task_seq_get_next', 'find_ge_pid', 'tcp_v4_rcv', 'udp_rcv', '__x64_sys_bpf', 'bpf_prog_load', 'bpf_link_create'];
    let addr = 0xffffffff81000000n;
    for (const name of text) {
      k.ksyms.add(name, 'T', addr);
      addr += BigInt(this.rng.int(16, 4096)) & ~0xfn;
    }
    const entries = fopNames.map((n) => k.fops(n)).sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    for (const f of entries) k.ksyms.add(f.name, 'D', f.addr);
    k.ksyms.add('init_task', 'D', 0xffffffff82a0c940n);
    k.ksyms.add('bpf_testmod_init', 't', 0xffffffffc0a01000n, 'bpf_testmod');
  }
}

