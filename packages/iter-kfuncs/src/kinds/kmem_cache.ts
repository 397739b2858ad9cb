/**
 * `bpf_iter_kmem_cache`: the slab caches (reference §7.5.7).
 *
 * `bpf_iter_kmem_cache_new(it)` never fails; `next` yields the caches in
 * global list order, then NULL forever. Each returned cache is pinned (a
 * reference) until the following `next` or `destroy`; a cache destroyed
 * while pinned is freed when the iterator lets go of it, and the walk goes
 * on to the caches after it. The kfuncs are `KF_SLEEPABLE`.
 *
 * The kernel is the constructor's (`ctx.kernel`). The traversal is core's
 * `PinnedListWalker` over `kernel.kmemCaches` (by list node, as the
 * `kmem_cache` target's walker).
 */
import { PinnedListWalker, type KmemCache } from '@bpf-iter/core';
import { KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RET_NULL, KF_SLEEPABLE } from '../flags.js';
import type { IterContext } from '../kernel-context.js';
import { LOOP_CLOSE, LOOP_DONE, LOOP_OPEN, LOOP_STEP } from '../loop-step.js';
import { registerIterKind } from '../registry.js';

/** The iterator state: the list walk, pinning the cache it stands on (`kit->pos`). */
class KmemCacheState extends PinnedListWalker<KmemCache> {
  /** Past `KMEM_CACHE_POS_START`: standing on no cache now means the walk ended. */
  started = false;

  /** `bpf_iter_kmem_cache_next`: the first cache, then the one after the pinned one; NULL at the end and forever after. */
  step(): KmemCache | null {
    const cur = this.node;
    if (cur !== null) return this.after(cur);
    if (this.started === true) return null;
    this.started = true;
    return this.first();
  }
}

// `const`s: a module's function declaration is a mutable binding, which optimized code re-checks on every call.
const kmemCacheNext = (s: KmemCacheState): KmemCache | null => s.step();
const unpin = (s: KmemCacheState): void => s.release();

/** `bpf_iter_kmem_cache_new`: a walk of the slab caches. */
const kmemCacheNew = (ctx: IterContext): KmemCacheState => new KmemCacheState(ctx.kernel.kmemCaches);

/** The `kmem_cache` iterator kind: `bpf_iter_kmem_cache_new(it)`, elements are `KmemCache`s. */
export const iterKmemCache = registerIterKind({
  state: { name: 'bpf_iter_kmem_cache', size: 8 },
  new: {
    name: 'bpf_iter_kmem_cache_new',
    flags: KF_ITER_NEW | KF_SLEEPABLE,
    params: [{ name: 'it', type: 'struct bpf_iter_kmem_cache *' }],
    ret: 'int',
    impl: kmemCacheNew,
  },
  next: {
    name: 'bpf_iter_kmem_cache_next',
    flags: KF_ITER_NEXT | KF_RET_NULL | KF_SLEEPABLE,
    params: [{ name: 'it', type: 'struct bpf_iter_kmem_cache *' }],
    ret: 'struct kmem_cache *',
    impl: kmemCacheNext,
  },
  destroy: {
    name: 'bpf_iter_kmem_cache_destroy',
    flags: KF_ITER_DESTROY | KF_SLEEPABLE,
    params: [{ name: 'it', type: 'struct bpf_iter_kmem_cache *' }],
    ret: 'void',
    impl: unpin,
  },
  // bpfForEach's construction: this kind's own, so V8 inlines kmemCacheNew into every loop (see loop-step.ts).
  [LOOP_OPEN]: function () {
    let data;
    try {
      data = kmemCacheNew(this.ctx);
    } catch (e) {
      data = this.failed(e);
    }
    return this.open(data);
  },
  // bpfForEach's destruction: this kind's own, so V8 inlines unpin into every loop (see loop-step.ts).
  [LOOP_CLOSE]: function () {
    if (this.close()) unpin(this.data);
    return LOOP_DONE;
  },
  // bpfForEach's step: this kind's own, so V8 inlines kmemCacheNext into every loop (see loop-step.ts).
  [LOOP_STEP]: function () {
    let done = true;
    let value = null;
    try {
      if (this.done === false) value = kmemCacheNext(this.data);
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

/** The kmem_cache iterator state type. */
export type BpfIterKmemCache = ReturnType<typeof iterKmemCache.alloc>;

/** `int bpf_iter_kmem_cache_new(struct bpf_iter_kmem_cache *it)` */
export const bpf_iter_kmem_cache_new = iterKmemCache.new;
/** `struct kmem_cache *bpf_iter_kmem_cache_next(struct bpf_iter_kmem_cache *it)` */
export const bpf_iter_kmem_cache_next = iterKmemCache.next;
/** `void bpf_iter_kmem_cache_destroy(struct bpf_iter_kmem_cache *it)` */
export const bpf_iter_kmem_cache_destroy = iterKmemCache.destroy;
