/**
 * `bpf_iter_task`: tasks of the kernel's process list (reference §7.5.3).
 *
 * `bpf_iter_task_new(it, task__nullable, flags)`:
 *
 * - `BPF_TASK_ITER_ALL_PROCS` (0): the idle task (pid 0) first, then every
 *   thread-group leader in process-list order — creation order, not pid
 *   order. `task__nullable` is ignored.
 * - `BPF_TASK_ITER_ALL_THREADS` (1): the same processes, each with all its
 *   threads (leader first, then thread-list order).
 * - `BPF_TASK_ITER_PROC_THREADS` (2): from `task__nullable` on along its
 *   thread group's list (threads before it are not visited); NULL → -EINVAL.
 * - any other flags → -EINVAL (an empty iterator).
 *
 * No pid-namespace filtering. Like the kernel's RCU walk the iterator holds
 * no references: it stands on list nodes, so a task exiting mid-loop does
 * not break the loop. The traversal is core's `TaskListWalker`.
 *
 * Elements are the live `Task` objects (`struct task_struct *`).
 */
import {
  BPF_TASK_ITER_ALL_PROCS,
  BPF_TASK_ITER_ALL_THREADS,
  BPF_TASK_ITER_PROC_THREADS,
  fail,
  TaskListWalker,
  type Task,
} from '@bpf-iter/core';
import { KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RCU_PROTECTED, KF_RET_NULL, KF_TRUSTED_ARGS } from '../flags.js';
import type { IterContext } from '../kernel-context.js';
import { LOOP_CLOSE, LOOP_DONE, LOOP_OPEN, LOOP_STEP } from '../loop-step.js';
import { registerIterKind } from '../registry.js';


/** `bpf_iter_task_next`: one step of the list walk. */
const taskNext = (w: TaskListWalker): Task | null => w.next();

/** `bpf_iter_task_new`: a walk of the task list. */
const taskNew = (ctx: IterContext, task__nullable: Task | null, flags: number): TaskListWalker => {
  flags >>>= 0; // unsigned int
  switch (flags) {
    case BPF_TASK_ITER_ALL_PROCS:
    case BPF_TASK_ITER_ALL_THREADS:
      // The walk starts at the kernel's init_task: the only place the kernel is needed.
      return new TaskListWalker(ctx.kernel, flags, null);
    case BPF_TASK_ITER_PROC_THREADS:
      if (task__nullable == null) fail('EINVAL', 'bpf_iter_task_new: BPF_TASK_ITER_PROC_THREADS needs a task');
      return new TaskListWalker(null, flags, task__nullable);
    default:
      return fail('EINVAL', `bpf_iter_task_new: unknown flags ${flags}`);
  }
};

/** `bpf_iter_task_destroy`. */
const taskDestroy = (w: TaskListWalker): void => w.release();

/** The `task` iterator kind: `bpf_iter_task_new(it, task__nullable, flags)`, elements are `Task`s. */
export const iterTask = registerIterKind({
  state: { name: 'bpf_iter_task', size: 24 },
  new: {
    name: 'bpf_iter_task_new',
    flags: KF_ITER_NEW | KF_TRUSTED_ARGS | KF_RCU_PROTECTED,
    params: [
      { name: 'it', type: 'struct bpf_iter_task *' },
      { name: 'task__nullable', type: 'struct task_struct *' },
      { name: 'flags', type: 'unsigned int' },
    ],
    ret: 'int',
    impl: taskNew,
  },
  next: {
    name: 'bpf_iter_task_next',
    flags: KF_ITER_NEXT | KF_RET_NULL,
    params: [{ name: 'it', type: 'struct bpf_iter_task *' }],
    ret: 'struct task_struct *',
    impl: taskNext,
  },
  destroy: {
    name: 'bpf_iter_task_destroy',
    flags: KF_ITER_DESTROY,
    params: [{ name: 'it', type: 'struct bpf_iter_task *' }],
    ret: 'void',
    // No references to drop (RCU): the walker only lets go of the flattened walk it may be stepping.
    impl: taskDestroy,
  },
  // bpfForEach's construction: this kind's own, so V8 inlines taskNew into every loop (see loop-step.ts).
  [LOOP_OPEN]: function () {
    let data;
    try {
      data = taskNew(this.ctx, this.a0, this.a1);
    } catch (e) {
      data = this.failed(e);
    }
    return this.open(data);
  },
  // bpfForEach's destruction: this kind's own, so V8 inlines taskDestroy into every loop (see loop-step.ts).
  [LOOP_CLOSE]: function () {
    if (this.close()) taskDestroy(this.data);
    return LOOP_DONE;
  },
  // bpfForEach's step: this kind's own, so V8 inlines taskNext into every loop (see loop-step.ts).
  [LOOP_STEP]: function () {
    let done = true;
    let value = null;
    try {
      if (this.done === false) value = taskNext(this.data);
    } catch (e) {
      this.fail(e);
    }
    if (value !== null && value !== undefined) done = false;
    else {
      this.end(value);
      value = this.return().value;
    }
    return { done, value } as IteratorResult<NonNullable<typeof value>, undefined>;
  },
});

/** The task iterator state type. */
export type BpfIterTask = ReturnType<typeof iterTask.alloc>;

/** `int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task__nullable, unsigned int flags)` */
export const bpf_iter_task_new = iterTask.new;
/** `struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it)` */
export const bpf_iter_task_next = iterTask.next;
/** `void bpf_iter_task_destroy(struct bpf_iter_task *it)` */
export const bpf_iter_task_destroy = iterTask.destroy;
