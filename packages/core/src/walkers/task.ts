import type { Kernel } from '../kernel.js';
import type { PidNamespace } from '../model/pid_namespace.js';
import type { Task } from '../model/task.js';
import { RcuList, type RcuNode } from '../rculist.js';
import type { OpenCodedWalker, Walker } from './walker.js';

/** Which tasks a task walker visits (`enum bpf_iter_task_type`). */
export type TaskIterType = 'ALL' | 'TID' | 'TGID';

/** What to walk: the reader's pid namespace and the link's filter. */
export interface TaskIterSpec {
  /** The pid namespace of the process creating the iterator; numbers below are in it. */
  ns: PidNamespace;
  type: TaskIterType;
  /** The tid (TID) or tgid (TGID) filter; ignored for ALL. */
  pid: number;
}

/**
 * The cursor of the task walkers: thread ids in the reader's namespace.
 * `tid` names the next task to show (0 before the first).
 */
export interface TaskCursor {
  tid: number;
  /** TGID mode: the thread being visited. */
  pidVisiting: number;
}

/**
 * `task_seq_get_next`: the task the cursor names, or the next one in the
 * walk, in thread-id order (ALL), the single thread (TID), or the threads of
 * one process, leader first (TGID). With `skipIfDupFiles`, threads sharing
 * their leader's fd table are skipped (task_file, task_vma). Returns the task
 * with a reference taken.
 */
export function taskSeqGetNext(_kernel: Kernel, spec: TaskIterSpec, c: TaskCursor, skipIfDupFiles: boolean): Task | null {
  const ns = spec.ns;
  if (spec.type === 'TID') {
    if (c.tid && c.tid !== spec.pid) return null;
    const t = ns.pids.get(spec.pid);
    if (!t) return null;
    c.tid = spec.pid;
    return t.get();
  }
  if (spec.type === 'TGID') return taskGroupSeqGetNext(spec, c, skipIfDupFiles);
  const pids = ns.pids;
  for (;;) {
    const nr = pids.nextId(c.tid);
    if (nr < 0) return null;
    c.tid = nr;
    const t = pids.get(nr)!;
    if (skipIfDupFiles && !t.isLeader && t.files === t.group_leader.files) {
      c.tid++;
      continue;
    }
    return t.get();
  }
}

function taskGroupSeqGetNext(spec: TaskIterSpec, c: TaskCursor, skipIfDupFiles: boolean): Task | null {
  const ns = spec.ns;
  if (!c.tid) {
    // First call: the process itself, looked up as a thread-group id.
    const t = ns.pids.get(spec.pid);
    if (!t || !t.isLeader) return null;
    c.tid = c.pidVisiting = spec.pid;
    return t.get();
  }
  if (c.tid === c.pidVisiting) {
    // Resuming after a pause: the same thread again, if it still exists.
    const t = ns.pids.get(c.pidVisiting);
    return t ? t.get() : null;
  }
  const cur = ns.pids.get(c.pidVisiting);
  if (!cur || !cur.threadNode) return null;
  for (let n = RcuList.nextLive(cur.threadNode); n; n = RcuList.nextLive(n)) {
    const t = n.value;
    const nr = t.pidNr(ns);
    if (!nr) continue;
    if (skipIfDupFiles && t.files === t.group_leader.files) continue;
    c.tid = c.pidVisiting = nr;
    return t.get();
  }
  return null;
}

/**
 * The walker behind the `task` iterator target: every thread visible in the
 * reader's namespace by ascending thread id, resuming at "the first tid >= n"
 * so that a fork or exit between steps neither repeats nor skips a survivor.
 */
export class TaskWalker implements Walker<Task> {
  readonly cursor: TaskCursor = { tid: 0, pidVisiting: 0 };
  private cur: Task | null = null;

  constructor(
    readonly kernel: Kernel,
    readonly spec: TaskIterSpec,
    readonly skipIfDupFiles = false,
  ) {}

  start(): Task | null {
    this.stop();
    return (this.cur = taskSeqGetNext(this.kernel, this.spec, this.cursor, this.skipIfDupFiles));
  }

  next(): Task | null {
    this.stop();
    this.cursor.tid++;
    return (this.cur = taskSeqGetNext(this.kernel, this.spec, this.cursor, this.skipIfDupFiles));
  }

  stop(): void {
    if (this.cur) {
      this.cur.put();
      this.cur = null;
    }
  }
}

/** Flags of the open-coded task iterator (`bpf_iter_task_new`). */
export const BPF_TASK_ITER_ALL_PROCS = 0;
export const BPF_TASK_ITER_ALL_THREADS = 1;
export const BPF_TASK_ITER_PROC_THREADS = 2;

/**
 * The walker behind the open-coded `task` iterator: the kernel's process
 * list in creation order starting with the idle task (ALL_PROCS), every
 * thread of every process (ALL_THREADS), or the threads of one process from
 * a given thread on (PROC_THREADS). Like the kernel's (RCU, no references),
 * it stands on list nodes, which keep their links after removal. Open-coded:
 * the first `next()` returns the first task; `start()` the task it stands on.
 */
export class TaskListWalker implements OpenCodedWalker<Task> {
  readonly openCoded = true;
  /** The process (signal list node) being walked; null for PROC_THREADS. */
  private proc: RcuNode<Task> | null;
  /** The thread the next step returns (the kernel's `kit->pos`: it steps one ahead). */
  private pos: RcuNode<Task> | null;
  /** The task last returned; undefined before the first step. */
  private last: Task | null | undefined = undefined;

  /** `kernel` may be null for PROC_THREADS, which only follows `task`'s thread list. */
  constructor(
    kernel: Kernel | null,
    readonly flags: number,
    task: Task | null,
  ) {
    if (flags === BPF_TASK_ITER_PROC_THREADS) {
      this.proc = null;
      this.pos = task?.threadNode ?? null;
    } else {
      if (!kernel) throw new TypeError('TaskListWalker: ALL_PROCS/ALL_THREADS walk a kernel');
      this.proc = kernel.initTask.signal.listNode;
      this.pos = kernel.initTask.threadNode;
    }
  }

  /** The task last returned (the first one before any step), or null at the end. */
  start(): Task | null {
    return this.last === undefined ? this.next() : this.last;
  }

  /** The next task, or null at the end (and forever after). */
  next(): Task | null {
    const pos = this.pos;
    if (!pos) return (this.last = null);
    if (this.flags !== BPF_TASK_ITER_ALL_PROCS) {
      const n = RcuList.nextLive(pos);
      this.pos = n;
      if (n || this.flags === BPF_TASK_ITER_PROC_THREADS) return (this.last = pos.value);
    }
    const p = RcuList.nextLive(this.proc!);
    this.proc = p;
    this.pos = p ? p.value.threadNode : null;
    return (this.last = pos.value);
  }

  /** Nothing held: the walk stands on RCU list nodes. */
  stop(): void {}
}
