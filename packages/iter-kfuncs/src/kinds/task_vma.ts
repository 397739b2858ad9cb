/**
 * `bpf_iter_task_vma`: the VMAs of one task's address space (reference §7.5.4).
 *
 * `bpf_iter_task_vma_new(it, task, addr)` yields the VMAs whose end is above
 * `addr`, ascending: the first is the VMA containing `addr`, or the next one
 * above it. `-ENOENT` when the task has no address space or is a kernel
 * thread. `addr` is a `u64` address (a non-negative safe integer; model
 * addresses are below 2^53).
 *
 * Elements are snapshots (`Vma` values), as in the newest kernels, which copy
 * each VMA into the iterator under the per-VMA lock: an `munmap` between
 * steps is seen. Like the kernel's `new` (`mmget(task->mm)`), the iterator
 * takes the task's address space once and holds a reference on it
 * (`users`) until `destroy`: a task that exits mid-walk does not end it.
 * The traversal is core's `VmaWalker`.
 */
import { fail, PF_KTHREAD, VmaWalker, type Task, type Vma } from '@bpf-iter/core';
import { KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RCU, KF_RET_NULL } from '../flags.js';
import type { IterContext } from '../kernel-context.js';
import { LOOP_CLOSE, LOOP_DONE, LOOP_OPEN, LOOP_STEP } from '../loop-step.js';
import { registerIterKind } from '../registry.js';

/** `bpf_iter_task_vma_next`: the next VMA snapshot. */
const taskVmaNext = (w: VmaWalker): Vma | null => w.next();

/** `bpf_iter_task_vma_new`: a walk of the task's address space (mmget). */
const taskVmaNew = (_ctx: IterContext, task: Task, addr: number): VmaWalker => {
  // The verifier rejects a possibly-NULL KF_RCU argument: a load error, not an errno.
  if (task == null) throw new TypeError('bpf_iter_task_vma_new: Possibly NULL pointer passed to trusted arg1');
  // addr 0 (a walk of the whole address space, the usual call) needs no range check.
  if (addr !== 0 && (!Number.isSafeInteger(addr) || addr < 0)) throw new TypeError(`bpf_iter_task_vma_new: addr ${addr} is not a u64 address`);
  const mm = task.mm;
  if (mm === null || (task.flags & PF_KTHREAD) !== 0) fail('ENOENT', `bpf_iter_task_vma_new: task ${task.pid} has no address space`);
  // mmget: the walk keeps this address space until destroy (mmput).
  mm.users++;
  return new VmaWalker(mm, addr);
};

/** `bpf_iter_task_vma_destroy`. */
const taskVmaDestroy = (w: VmaWalker): void => {
  w.mm!.users--;
};

/** The `task_vma` iterator kind: `bpf_iter_task_vma_new(it, task, addr)`, elements are VMA snapshots. */
export const iterTaskVma = registerIterKind({
  // 8 bytes: the kernel keeps a pointer to allocated data there.
  state: { name: 'bpf_iter_task_vma', size: 8 },
  new: {
    name: 'bpf_iter_task_vma_new',
    flags: KF_ITER_NEW | KF_RCU,
    params: [
      { name: 'it', type: 'struct bpf_iter_task_vma *' },
      { name: 'task', type: 'struct task_struct *' },
      { name: 'addr', type: 'u64' },
    ],
    ret: 'int',
    impl: taskVmaNew,
  },
  next: {
    name: 'bpf_iter_task_vma_next',
    flags: KF_ITER_NEXT | KF_RET_NULL,
    params: [{ name: 'it', type: 'struct bpf_iter_task_vma *' }],
    ret: 'struct vm_area_struct *',
    impl: taskVmaNext,
  },
  destroy: {
    name: 'bpf_iter_task_vma_destroy',
    flags: KF_ITER_DESTROY,
    params: [{ name: 'it', type: 'struct bpf_iter_task_vma *' }],
    ret: 'void',
    // mmput; snapshots are values: nothing else to unlock or drop.
    impl: taskVmaDestroy,
  },
  // bpfForEach's construction: this kind's own, so V8 inlines taskVmaNew into every loop (see loop-step.ts).
  [LOOP_OPEN]: function () {
    let data;
    try {
      data = taskVmaNew(this.ctx, this.a0, this.a1);
    } catch (e) {
      data = this.failed(e);
    }
    return this.open(data);
  },
  // bpfForEach's destruction: this kind's own, so V8 inlines taskVmaDestroy into every loop (see loop-step.ts).
  [LOOP_CLOSE]: function () {
    if (this.close()) taskVmaDestroy(this.data);
    return LOOP_DONE;
  },
  // bpfForEach's step: this kind's own, so V8 inlines taskVmaNext into every loop (see loop-step.ts).
  [LOOP_STEP]: function () {
    let done = true;
    let value = null;
    try {
      if (this.done === false) value = taskVmaNext(this.data);
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

/** The task_vma iterator state type. */
export type BpfIterTaskVma = ReturnType<typeof iterTaskVma.alloc>;

/** `int bpf_iter_task_vma_new(struct bpf_iter_task_vma *it, struct task_struct *task, u64 addr)` */
export const bpf_iter_task_vma_new = iterTaskVma.new;
/** `struct vm_area_struct *bpf_iter_task_vma_next(struct bpf_iter_task_vma *it)`: a snapshot, or null. */
export const bpf_iter_task_vma_next = iterTaskVma.next;
/** `void bpf_iter_task_vma_destroy(struct bpf_iter_task_vma *it)` */
export const bpf_iter_task_vma_destroy = iterTaskVma.destroy;
