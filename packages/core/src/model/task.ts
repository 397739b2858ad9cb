import { KObject } from '../refcount.js';
import { RcuList, type RcuNode } from '../rculist.js';
import type { Cgroup } from './cgroup.js';
import type { FilesStruct } from './files_struct.js';
import type { MmStruct } from './mm.js';
import type { PidNamespace } from './pid_namespace.js';

/** The state letter /proc prints (fs/proc/array.c task_state_array, "RSDTtXZPI"). */
export type TaskState = 'R' | 'S' | 'D' | 'T' | 't' | 'Z' | 'X' | 'P' | 'I';

/** `task->__state` bits (include/linux/sched.h). EXIT_DEAD/EXIT_ZOMBIE (0x10, 0x20) are `exit_state`'s. */
export const TASK_RUNNING = 0x0;
export const TASK_INTERRUPTIBLE = 0x1;
export const TASK_UNINTERRUPTIBLE = 0x2;
export const __TASK_STOPPED = 0x4;
export const __TASK_TRACED = 0x8;
export const TASK_PARKED = 0x40;
export const TASK_DEAD = 0x80;
export const TASK_WAKEKILL = 0x100;
export const TASK_WAKING = 0x200;
export const TASK_NOLOAD = 0x400;
export const TASK_NEW = 0x800;
export const TASK_RTLOCK_WAIT = 0x1000;
export const TASK_FREEZABLE = 0x2000;
export const __TASK_FREEZABLE_UNSAFE = 0x4000;
export const TASK_FROZEN = 0x8000;
/** Every `__state` bit (below TASK_STATE_MAX, 0x10000). */
export const TASK_STATE_ALL = 0xffff;

/** The `__state` a letter stands for (the usual value behind task_state_index's letter; Z and X: TASK_DEAD after do_task_dead). */
export const TASK_STATE_OF: Readonly<Record<TaskState, number>> = {
  R: TASK_RUNNING,
  S: TASK_INTERRUPTIBLE,
  D: TASK_UNINTERRUPTIBLE,
  T: __TASK_STOPPED,
  t: __TASK_TRACED,
  Z: TASK_DEAD,
  X: TASK_DEAD,
  P: TASK_PARKED,
  I: TASK_UNINTERRUPTIBLE | TASK_NOLOAD,
};

/** Bits task_state_index never reports (TASK_DEAD and above): a letter tells nothing of them. */
const UNREPORTED = TASK_STATE_ALL & ~0x7f;

/**
 * The `__state` bits a state letter cannot tell (fs/proc/array.c
 * task_state_index): every bit it does not report (TASK_WAKEKILL, TASK_WAKING,
 * TASK_NEW, TASK_FREEZABLE, TASK_FROZEN...; TASK_NOLOAD except for I), for D
 * also TASK_UNINTERRUPTIBLE (RTLOCK_WAIT and FROZEN tasks print D without it),
 * and for Z and X all of it (the letter comes from `exit_state`).
 */
export function stateUnknownOf(letter: TaskState): number {
  if (letter === 'Z' || letter === 'X') return TASK_STATE_ALL;
  if (letter === 'I') return UNREPORTED & ~TASK_NOLOAD;
  if (letter === 'D') return UNREPORTED | TASK_UNINTERRUPTIBLE;
  return UNREPORTED;
}

/** `task->flags` bit of kernel threads. */
export const PF_KTHREAD = 0x00200000;
/** `task->flags` bit of workqueue workers (kworkers). */
export const PF_WQ_WORKER = 0x00000020;

/** A source's reader of a task's uid and gid not known at creation; null when they cannot be known (the task is gone). */
export type TaskCredLoader = (task: Task) => { uid: number; gid: number } | null;

/**
 * A thread group (the shared `signal_struct` of a process): its threads in
 * thread-list order, leader first.
 */
export class ThreadGroup {
  readonly threads = new RcuList<Task>();
  /** The group's node in the kernel's process list (creation order). */
  listNode: RcuNode<Task> | null = null;

  constructor(
    /** Global thread-group id (the leader's pid). */
    readonly tgid: number,
  ) {}

  get nr_threads(): number {
    return this.threads.size;
  }
}

/**
 * A task (`struct task_struct`): a thread. Processes are thread groups;
 * `pid` is the thread id and `tgid` the process id, both as seen from the
 * initial pid namespace (as BPF programs read them).
 */
export class Task extends KObject {
  /** The group's leader; `this` for a leader. */
  group_leader: Task;
  /** Node in the group's thread list. */
  threadNode: RcuNode<Task> | null = null;
  /** Node in the member list of {@link cgroup}. */
  cgroupNode: RcuNode<Task> | null = null;
  /** Pid numbers in levels 1..pidNs.level (level 0 is {@link pid}); null for tasks of the initial namespace. */
  upids: Int32Array | null = null;
  /** `task->__state` as a source read it (bpf); null: the value {@link state} stands for (TASK_STATE_OF). */
  kernelState: number | null = null;
  /**
   * Bits of {@link __state} the source could not learn (they read as 0): 0
   * when `__state` is the kernel's or, in a synthetic kernel, when the letter
   * is all there is; the host source sets `stateUnknownOf` its letter.
   * See docs/kernel-model.md "Unknown values".
   */
  __state_unknown = 0;
  /** The task's kernel stack (return addresses, innermost first); null when unknown (see `Kernel.taskStack`). */
  kstack: bigint[] | null = null;
  /** Task storage maps holding a value for this task (`bpf_task_storage_free` at free). */
  bpfMaps: Set<{ dropOwner(owner: object): void }> | null = null;

  constructor(
    readonly pid: number,
    readonly tgid: number,
    public comm: string,
    public state: TaskState,
    /** The shared thread-group state. */
    readonly signal: ThreadGroup,
    public real_parent: Task | null,
    /** The pid namespace the task's pid belongs to (its deepest number). */
    readonly pidNs: PidNamespace,
    public files: FilesStruct | null,
    public mm: MmStruct | null,
    public cgroup: Cgroup | null,
    uid = 0,
    gid = 0,
    /** Start time in ns since boot. */
    public start_time = 0,
    public flags = 0,
    public prio = 120,
    /** Accumulated CPU time in ns (`se.sum_exec_runtime`). */
    public sum_exec_runtime = 0,
  ) {
    super();
    this.group_leader = this;
    this.#uid = uid;
    this.#gid = gid;
  }

  #uid: number;
  #gid: number;
  /** The source's reader of uid/gid not known at creation, cleared once run. */
  #credLoader: TaskCredLoader | null = null;
  #credUnknown = false;

  /** Real uid (`cred->uid`). */
  get uid(): number {
    if (this.#credLoader) this.#loadCred();
    return this.#uid;
  }

  set uid(v: number) {
    if (this.#credLoader) this.#loadCred();
    this.#uid = v;
  }

  /** Real gid (`cred->gid`). */
  get gid(): number {
    if (this.#credLoader) this.#loadCred();
    return this.#gid;
  }

  set gid(v: number) {
    if (this.#credLoader) this.#loadCred();
    this.#gid = v;
  }

  /**
   * True when the source could not learn {@link uid} and {@link gid} (they
   * read as 0): a task of the lazy host source that exited before its status
   * was read. Reading it reads them first.
   */
  get uid_unknown(): boolean {
    if (this.#credLoader) this.#loadCred();
    return this.#credUnknown;
  }

  /** See {@link uid_unknown} (one read tells both). */
  get gid_unknown(): boolean {
    return this.uid_unknown;
  }

  /**
   * Gives a source's reader of `uid` and `gid`, run once on the first access
   * to either (the lazy host source: `/proc/PID/task/TID/status`).
   */
  setCredLoader(loader: TaskCredLoader): void {
    this.#credLoader = loader;
  }

  #loadCred(): void {
    const load = this.#credLoader!;
    this.#credLoader = null;
    const c = load(this);
    if (c) {
      this.#uid = c.uid;
      this.#gid = c.gid;
    } else {
      this.#uid = 0;
      this.#gid = 0;
      this.#credUnknown = true;
    }
  }

  /** `task->__state` (TASK_* bits): the source's value, else the one {@link state} stands for. */
  get __state(): number {
    return this.kernelState ?? TASK_STATE_OF[this.state];
  }

  protected override onFree(): void {
    for (const m of this.bpfMaps ?? []) m.dropOwner(this);
    this.bpfMaps = null;
  }

  /** True for the thread-group leader (`pid == tgid`). */
  get isLeader(): boolean {
    return this.group_leader === this;
  }

  /** The task's pid number as seen from `ns`, or 0 if it has none there (`task_pid_nr_ns`). */
  pidNr(ns: PidNamespace): number {
    if (ns.level === 0) return this.pid;
    let p: PidNamespace | null = this.pidNs;
    if (p.level < ns.level) return 0;
    while (p && p.level > ns.level) p = p.parent;
    if (p !== ns) return 0;
    return this.upids![ns.level - 1]!;
  }

  /** The process id as seen from `ns` (`task_tgid_nr_ns`). */
  tgidNr(ns: PidNamespace): number {
    return this.group_leader.pidNr(ns);
  }

  /** The pid as seen from the task's own namespace (`task_pid_vnr`). */
  get vpid(): number {
    return this.pidNr(this.pidNs);
  }
}
