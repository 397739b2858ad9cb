import { KObject } from '../refcount.js';
import { RcuList, type RcuNode } from '../rculist.js';
import type { Cgroup } from './cgroup.js';
import type { FilesStruct } from './files_struct.js';
import type { MmStruct } from './mm.js';
import type { PidNamespace } from './pid_namespace.js';

/** Task states as `/proc/PID/stat` prints them. */
/** The state letter /proc prints (fs/proc/array.c task_state_array, "RSDTtXZPI"). */
export type TaskState = 'R' | 'S' | 'D' | 'T' | 't' | 'Z' | 'X' | 'P' | 'I';

/** `task->flags` bit of kernel threads. */
export const PF_KTHREAD = 0x00200000;
/** `task->flags` bit of workqueue workers (kworkers). */
export const PF_WQ_WORKER = 0x00000020;

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
    public uid = 0,
    public gid = 0,
    /** Start time in ns since boot. */
    public start_time = 0,
    public flags = 0,
    public prio = 120,
    /** Accumulated CPU time in ns (`se.sum_exec_runtime`). */
    public sum_exec_runtime = 0,
  ) {
    super();
    this.group_leader = this;
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
