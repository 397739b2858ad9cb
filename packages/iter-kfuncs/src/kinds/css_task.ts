/**
 * `bpf_iter_css_task`: the tasks attached to a cgroup (reference §7.5.6).
 *
 * `bpf_iter_css_task_new(it, css, flags)`: flags 0 yields every thread in the
 * cgroup (attach order), `CSS_TASK_ITER_PROCS` (1) thread-group leaders
 * only, `CSS_TASK_ITER_PROCS | CSS_TASK_ITER_THREADED` (3) leaders across
 * the threaded subtree (the model has no threaded cgroups, so the same as
 * PROCS). Any other value, `THREADED` (2) alone included, is `-EINVAL`.
 * After the end `next` stays NULL.
 *
 * The kernel also restricts the constructor to LSM, iterator and sleepable
 * programs (it takes the css_set lock); the model has no program types, so
 * that verifier rule is not enforced here. The traversal is core's
 * `CssTaskWalker`.
 */
import { CSS_TASK_ITER_PROCS, CSS_TASK_ITER_THREADED, CssTaskWalker, fail, type Cgroup, type Task } from '@bpf-iter/core';
import { KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RET_NULL, KF_TRUSTED_ARGS } from '../flags.js';
import type { IterContext } from '../kernel-context.js';
import { LOOP_CLOSE, LOOP_DONE, LOOP_OPEN, LOOP_STEP } from '../loop-step.js';
import { registerIterKind } from '../registry.js';


/** `bpf_iter_css_task_new`: a walk of `css`'s tasks. */
const cssTaskNew = (_ctx: IterContext, css: Cgroup, flags: number): CssTaskWalker => {
  if (css == null) throw new TypeError('bpf_iter_css_task_new: Possibly NULL pointer passed to trusted arg1');
  flags >>>= 0;
  switch (flags) {
    case 0:
    case CSS_TASK_ITER_PROCS:
    case CSS_TASK_ITER_PROCS | CSS_TASK_ITER_THREADED:
      return new CssTaskWalker(css, flags);
    default:
      return fail('EINVAL', `bpf_iter_css_task_new: unsupported flags ${flags}`);
  }
};

/** `bpf_iter_css_task_next`: the next member task. */
const cssTaskNext = (w: CssTaskWalker): Task | null => w.next();

/** `bpf_iter_css_task_destroy`. */
const cssTaskDestroy = (_w: CssTaskWalker): void => {};

/** The `css_task` iterator kind: `bpf_iter_css_task_new(it, css, flags)`, elements are `Task`s. */
export const iterCssTask = registerIterKind({
  state: { name: 'bpf_iter_css_task', size: 8 },
  new: {
    name: 'bpf_iter_css_task_new',
    flags: KF_ITER_NEW | KF_TRUSTED_ARGS,
    params: [
      { name: 'it', type: 'struct bpf_iter_css_task *' },
      { name: 'css', type: 'struct cgroup_subsys_state *' },
      { name: 'flags', type: 'unsigned int' },
    ],
    ret: 'int',
    impl: cssTaskNew,
  },
  next: {
    name: 'bpf_iter_css_task_next',
    flags: KF_ITER_NEXT | KF_RET_NULL,
    params: [{ name: 'it', type: 'struct bpf_iter_css_task *' }],
    ret: 'struct task_struct *',
    impl: cssTaskNext,
  },
  destroy: {
    name: 'bpf_iter_css_task_destroy',
    flags: KF_ITER_DESTROY,
    params: [{ name: 'it', type: 'struct bpf_iter_css_task *' }],
    ret: 'void',
    // css_task_iter_end + free: the walker holds nothing beyond its list node.
    impl: cssTaskDestroy,
  },
  // bpfForEach's construction: this kind's own, so V8 inlines cssTaskNew into every loop (see loop-step.ts).
  [LOOP_OPEN]: function () {
    let data;
    try {
      data = cssTaskNew(this.ctx, this.a0, this.a1);
    } catch (e) {
      data = this.failed(e);
    }
    return this.open(data);
  },
  // bpfForEach's destruction: this kind's own, so V8 inlines cssTaskDestroy into every loop (see loop-step.ts).
  [LOOP_CLOSE]: function () {
    if (this.close()) cssTaskDestroy(this.data);
    return LOOP_DONE;
  },
  // bpfForEach's step: this kind's own, so V8 inlines cssTaskNext into every loop (see loop-step.ts).
  [LOOP_STEP]: function () {
    let done = true;
    let value = null;
    try {
      if (this.done === false) value = cssTaskNext(this.data);
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

/** The css_task iterator state type. */
export type BpfIterCssTask = ReturnType<typeof iterCssTask.alloc>;

/** `int bpf_iter_css_task_new(struct bpf_iter_css_task *it, struct cgroup_subsys_state *css, unsigned int flags)` */
export const bpf_iter_css_task_new = iterCssTask.new;
/** `struct task_struct *bpf_iter_css_task_next(struct bpf_iter_css_task *it)` */
export const bpf_iter_css_task_next = iterCssTask.next;
/** `void bpf_iter_css_task_destroy(struct bpf_iter_css_task *it)` */
export const bpf_iter_css_task_destroy = iterCssTask.destroy;
