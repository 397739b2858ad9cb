/**
 * `bpf_iter_css`: a walk of the cgroup hierarchy (reference §7.5.5).
 *
 * `bpf_iter_css_new(it, start, flags)` with flags one of
 * `BPF_CGROUP_ITER_DESCENDANTS_PRE` (2: start, then descendants pre-order),
 * `_DESCENDANTS_POST` (3: post-order, start last), `_ANCESTORS_UP` (4: start,
 * parent, …, root) or `_CHILDREN` (5: the children of start). Anything else,
 * including 0 and `SELF_ONLY` (1), is `-EINVAL`.
 *
 * **Kernel quirk** (declared with `restartsAfterNull`): the state does not
 * remember exhaustion, so a `next` after NULL restarts the walk from the
 * beginning. `bpfForEach` never calls `next` after NULL.
 *
 * The model folds `struct cgroup` and its `cgroup_subsys_state` into one
 * object: `start` and the elements are `Cgroup`s. The traversal is core's
 * `CssWalker` over `cgroupWalkNext` (shared with the `cgroup` iterator target).
 */
import {
  BPF_CGROUP_ITER_ANCESTORS_UP,
  BPF_CGROUP_ITER_CHILDREN,
  BPF_CGROUP_ITER_DESCENDANTS_POST,
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  CssWalker,
  fail,
  type Cgroup,
} from '@bpf-iter/core';
import { KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RCU_PROTECTED, KF_RET_NULL, KF_TRUSTED_ARGS } from '../flags.js';
import type { IterContext } from '../kernel-context.js';
import { LOOP_CLOSE, LOOP_DONE, LOOP_OPEN, LOOP_STEP } from '../loop-step.js';
import { registerIterKind } from '../registry.js';

/** `bpf_iter_css_next`: one step of core's `CssWalker` (which mirrors `struct bpf_iter_css_kern { start; pos; flags; }`). */
const cssNext = (w: CssWalker): Cgroup | null => w.next();

/** `bpf_iter_css_new`: a walk of the cgroup tree from `start`. */
const cssNew = (_ctx: IterContext, start: Cgroup, flags: number): CssWalker => {
  if (start == null) throw new TypeError('bpf_iter_css_new: Possibly NULL pointer passed to trusted arg1');
  flags >>>= 0;
  switch (flags) {
    case BPF_CGROUP_ITER_DESCENDANTS_PRE:
    case BPF_CGROUP_ITER_DESCENDANTS_POST:
    case BPF_CGROUP_ITER_ANCESTORS_UP:
    case BPF_CGROUP_ITER_CHILDREN:
      return new CssWalker(start, flags);
    default:
      return fail('EINVAL', `bpf_iter_css_new: unsupported order ${flags}`);
  }
};

/** `bpf_iter_css_destroy`. */
const cssDestroy = (w: CssWalker): void => w.release();

/** The `css` iterator kind: `bpf_iter_css_new(it, start, flags)`, elements are `Cgroup`s. */
export const iterCss = registerIterKind({
  state: { name: 'bpf_iter_css', size: 24 },
  new: {
    name: 'bpf_iter_css_new',
    flags: KF_ITER_NEW | KF_TRUSTED_ARGS | KF_RCU_PROTECTED,
    params: [
      { name: 'it', type: 'struct bpf_iter_css *' },
      { name: 'start', type: 'struct cgroup_subsys_state *' },
      { name: 'flags', type: 'unsigned int' },
    ],
    ret: 'int',
    impl: cssNew,
  },
  next: {
    name: 'bpf_iter_css_next',
    flags: KF_ITER_NEXT | KF_RET_NULL,
    params: [{ name: 'it', type: 'struct bpf_iter_css *' }],
    ret: 'struct cgroup_subsys_state *',
    impl: cssNext,
  },
  destroy: {
    name: 'bpf_iter_css_destroy',
    flags: KF_ITER_DESTROY,
    params: [{ name: 'it', type: 'struct bpf_iter_css *' }],
    ret: 'void',
    impl: cssDestroy,
  },
  restartsAfterNull: true,
  // bpfForEach's construction: this kind's own, so V8 inlines cssNew into every loop (see loop-step.ts).
  [LOOP_OPEN]: function () {
    let data;
    try {
      data = cssNew(this.ctx, this.a0, this.a1);
    } catch (e) {
      data = this.failed(e);
    }
    return this.open(data);
  },
  // bpfForEach's destruction: this kind's own, so V8 inlines cssDestroy into every loop (see loop-step.ts).
  [LOOP_CLOSE]: function () {
    if (this.close()) cssDestroy(this.data);
    return LOOP_DONE;
  },
  // bpfForEach's step: this kind's own, so V8 inlines cssNext into every loop (see loop-step.ts).
  [LOOP_STEP]: function () {
    let done = true;
    let value = null;
    try {
      if (this.done === false) value = cssNext(this.data);
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

/** The css iterator state type. */
export type BpfIterCss = ReturnType<typeof iterCss.alloc>;

/** `int bpf_iter_css_new(struct bpf_iter_css *it, struct cgroup_subsys_state *start, unsigned int flags)` */
export const bpf_iter_css_new = iterCss.new;
/** `struct cgroup_subsys_state *bpf_iter_css_next(struct bpf_iter_css *it)` */
export const bpf_iter_css_next = iterCss.next;
/** `void bpf_iter_css_destroy(struct bpf_iter_css *it)` */
export const bpf_iter_css_destroy = iterCss.destroy;
