/**
 * `bpf_iter_num`: integers in `[start, end)` (reference §7.5.1).
 *
 * Arguments have C `int` semantics: they are converted with ToInt32 (as
 * passing a JS number to an `int` parameter would truncate), so
 * `2 ** 31` becomes `INT_MIN`.
 *
 * Element: the kernel returns `int *` pointing at the current value. In
 * JavaScript there is no `int *`; `next` returns the number itself, or
 * `null` at the end. That avoids an allocation per element and reads
 * naturally: `while ((v = bpf_iter_num_next(it)) !== null) sum += v`.
 */
import { fail } from '@bpf-iter/core';
import { KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RET_NULL } from '../flags.js';
import type { IterContext } from '../kernel-context.js';
import { LOOP_CLOSE, LOOP_DONE, LOOP_OPEN, LOOP_STEP } from '../loop-step.js';
import { INLINE_RANGE, registerIterKind } from '../registry.js';

/** `BPF_MAX_LOOPS`: the most elements one num iterator may produce. */
export const BPF_MAX_LOOPS = 8388608;

/** Mirrors `struct bpf_iter_num_kern { int cur; int end; }`. */
interface NumState {
  cur: number;
  end: number;
}

/** `bpf_iter_num_next`: the current value, or NULL at the end. */
function numNext(s: NumState): number | null {
  const cur = s.cur;
  if (cur < s.end) {
    s.cur = cur + 1;
    return cur;
  }
  // Like the kernel, zero the state: cur == end keeps returning NULL.
  s.cur = s.end = 0;
  return null;
}

/** `bpf_iter_num_new`: a range `[start, end)`. */
const numNew = (_ctx: IterContext, start: number, end: number): NumState => {
  start |= 0;
  end |= 0;
  // start == end is legal: an empty range, the first next() returns NULL.
  if (start > end) fail('EINVAL', `bpf_iter_num_new: start ${start} > end ${end}`);
  // In JS doubles, end - start is exact (no s32 overflow for INT_MIN..INT_MAX).
  if (end - start > BPF_MAX_LOOPS) {
    fail('E2BIG', `bpf_iter_num_new: ${end - start} elements exceed BPF_MAX_LOOPS (${BPF_MAX_LOOPS})`);
  }
  // The kernel starts one step behind; starting at `start` is equivalent.
  return { cur: start, end };
};

/** `bpf_iter_num_destroy`. */
const numDestroy = (s: NumState): void => {
  s.cur = s.end = 0;
};

/** The `num` iterator kind: `bpf_iter_num_new(it, start, end)`, elements are numbers. */
export const iterNum = registerIterKind({
  state: { name: 'bpf_iter_num', size: 8 },
  new: {
    name: 'bpf_iter_num_new',
    flags: KF_ITER_NEW,
    params: [
      { name: 'it', type: 'struct bpf_iter_num *' },
      { name: 'start', type: 'int' },
      { name: 'end', type: 'int' },
    ],
    ret: 'int',
    impl: numNew,
  },
  next: {
    name: 'bpf_iter_num_next',
    flags: KF_ITER_NEXT | KF_RET_NULL,
    params: [{ name: 'it', type: 'struct bpf_iter_num *' }],
    ret: 'int *',
    impl: numNext,
  },
  destroy: {
    name: 'bpf_iter_num_destroy',
    flags: KF_ITER_DESTROY,
    params: [{ name: 'it', type: 'struct bpf_iter_num *' }],
    ret: 'void',
    impl: numDestroy,
  },
  // The state is just { cur, end }: keep it inline in the iterator state so
  // next() is a couple of field accesses (same semantics as impl above).
  [INLINE_RANGE]: true,
  // bpfForEach's construction: this kind's own, so V8 inlines numNew into every loop (see loop-step.ts).
  [LOOP_OPEN]: function () {
    let data;
    try {
      data = numNew(this.ctx, this.a0, this.a1);
    } catch (e) {
      data = this.failed(e);
    }
    return this.open(data);
  },
  // bpfForEach's destruction: this kind's own, so V8 inlines numDestroy into every loop (see loop-step.ts).
  [LOOP_CLOSE]: function () {
    if (this.close()) numDestroy(this.data);
    return LOOP_DONE;
  },
  // bpfForEach's step (see loop-step.ts): numNext on the loop's own copy of
  // the range (an ended loop's is empty); a range cannot throw.
  [LOOP_STEP]: function () {
    const cur = this.cur;
    let done = true;
    let value: number | undefined;
    if (cur < this.hi) {
      this.cur = cur + 1;
      done = false;
      value = cur;
    } else {
      // The end of the range: the loop's copy of it is the state, so only the counts (close), no destroy.
      this.close();
    }
    return { done, value } as IteratorResult<number, undefined>;
  },
});

/** The num iterator state type. */
export type BpfIterNum = ReturnType<typeof iterNum.alloc>;

/** `int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end)` */
export const bpf_iter_num_new = iterNum.new;
/** `int *bpf_iter_num_next(struct bpf_iter_num *it)`: the number itself, or null. */
export const bpf_iter_num_next = iterNum.next;
/** `void bpf_iter_num_destroy(struct bpf_iter_num *it)` */
export const bpf_iter_num_destroy = iterNum.destroy;
