import type { Kernel } from '../kernel.js';
import type { PidNamespace } from '../model/pid_namespace.js';
import type { Task } from '../model/task.js';
import { FlatWalk, RcuList, rcuGeneration, type RcuNode } from '../rculist.js';
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
 * A kernel's ALL_PROCS or ALL_THREADS walk flattened: `proc`/`pos` are the
 * node walk's state after `items[count - 1]` (pos null: the walk is done).
 */
class TaskOrder extends FlatWalk<Task> {
  proc: RcuNode<Task> | null = null;
  pos: RcuNode<Task> | null = null;
}

/** The order of walkers that step nodes (PROC_THREADS, or after a change): always empty. */
const NO_ORDER = new TaskOrder();

/** Per kernel: the flattened walks of ALL_PROCS (0) and ALL_THREADS (1). */
const orders = new WeakMap<Kernel, [TaskOrder | null, TaskOrder | null]>();

/** The current flattened walk of `kernel` for `flags` (ALL_PROCS/ALL_THREADS): the cached one, or one started over. */
function taskOrder(kernel: Kernel, flags: number): TaskOrder {
  let pair = orders.get(kernel);
  if (pair === undefined) orders.set(kernel, (pair = [null, null]));
  const o = pair[flags];
  if (o != null && o.gen === rcuGeneration.value) return o;
  const fresh = (o ?? new TaskOrder()).renewed();
  fresh.proc = kernel.initTask.signal.listNode;
  fresh.pos = kernel.initTask.threadNode;
  pair[flags] = fresh;
  return fresh;
}

/**
 * One step of the node walk (`bpf_iter_task_next` on `kit->pos`, one task
 * ahead): returns the task at `s.pos` and moves `s` to the next one.
 */
function stepNodes(s: { proc: RcuNode<Task> | null; pos: RcuNode<Task> | null }, flags: number): Task | null {
  const pos = s.pos;
  if (!pos) return null;
  if (flags !== BPF_TASK_ITER_ALL_PROCS) {
    const n = RcuList.nextLive(pos);
    s.pos = n;
    if (n || flags === BPF_TASK_ITER_PROC_THREADS) return pos.value;
  }
  const p = RcuList.nextLive(s.proc!);
  s.proc = p;
  s.pos = p ? p.value.threadNode : null;
  return pos.value;
}

/** Tasks the node walk appends to a flattened walk at a time (a loop that breaks early builds little). */
const ORDER_CHUNK = 4096;

/**
 * The walker behind the open-coded `task` iterator: the kernel's process
 * list in creation order starting with the idle task (ALL_PROCS), every
 * thread of every process (ALL_THREADS), or the threads of one process from
 * a given thread on (PROC_THREADS). Like the kernel's (RCU, no references),
 * it stands on list nodes, which keep their links after removal. Open-coded:
 * the first `next()` returns the first task; `start()` the task it stands on.
 *
 * ALL_PROCS and ALL_THREADS step an array of the walk (shared by the
 * kernel's walkers, one cache miss per task like a loop over an array)
 * while no task list changes; after a change the walker goes on from the
 * nodes of the task it stands on, so it sees exactly what the node walk
 * sees.
 */
export class TaskListWalker implements OpenCodedWalker<Task> {
  readonly openCoded = true;
  /** @internal The process (signal list node) being walked; null for PROC_THREADS. */
  proc: RcuNode<Task> | null;
  /** @internal The thread the next step returns (the kernel's `kit->pos`: it steps one ahead). */
  pos: RcuNode<Task> | null;
  /** The flattened walk stepped while it is valid; {@link NO_ORDER} once the walker steps nodes. */
  private order: TaskOrder = NO_ORDER;
  /** `order.gen`: the array is the walk while `rcuGeneration.value` equals it. */
  private gen = -1;
  /** `order.items` and the `order.count` last seen (the step reads no other object). */
  private items: readonly Task[] = NO_ORDER.items;
  private end = 0;
  /** Index in `order.items` of the task the next step returns (stands for `pos`). */
  private index = 0;
  /** The task last returned by a node step; undefined before the first step. */
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
      const o = (this.order = taskOrder(kernel, flags));
      o.attach();
      this.gen = o.gen;
      this.items = o.items;
      this.end = o.count;
    }
  }

  /** The task last returned (the first one before any step), or null at the end. */
  start(): Task | null {
    if (this.order !== NO_ORDER && this.index > 0) return this.order.items[this.index - 1]!;
    return this.last === undefined ? this.next() : this.last;
  }

  /** The next task, or null at the end (and forever after). */
  next(): Task | null {
    const i = this.index;
    if (i < this.end && this.gen === rcuGeneration.value) {
      this.index = i + 1;
      return this.items[i]!;
    }
    return this.slowNext();
  }

  /** The end of the array so far (extend it), a changed list (leave it), or the node walk. */
  private slowNext(): Task | null {
    const o = this.order;
    if (o !== NO_ORDER) {
      if (o.gen === rcuGeneration.value && (this.index < o.count || !o.done)) {
        // Another walker extended the array, or this one reached its end: extend it.
        if (this.index === o.count) {
          for (let k = 0; k < ORDER_CHUNK && o.pos !== null; k++) o.add(stepNodes(o, this.flags)!);
          if (o.pos === null) o.finish();
        }
        this.end = o.count;
        return this.next();
      }
      this.leave();
    }
    return (this.last = stepNodes(this, this.flags));
  }

  /** From the array to the nodes: the node walk's state at `index` (the task there, or the order's own at its end). */
  private leave(): void {
    const o = this.order;
    if (this.index < o.count) {
      const t = o.items[this.index]!;
      this.pos = t.threadNode;
      this.proc = t.signal.listNode;
    } else {
      this.pos = o.pos;
      this.proc = o.proc;
    }
    if (this.index > 0) this.last = o.items[this.index - 1]!;
    this.release();
  }

  /** Lets go of the flattened walk (`bpf_iter_task_destroy`; also when the walker leaves it): the next generation may reuse its array. */
  release(): void {
    if (this.order === NO_ORDER) return;
    this.order.detach();
    this.order = NO_ORDER;
    this.gen = -1;
    this.end = 0;
  }

  /** Nothing held: the walk stands on RCU list nodes. */
  stop(): void {}
}
