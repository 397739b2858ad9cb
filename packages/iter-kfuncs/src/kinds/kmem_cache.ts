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
 * `RcuListWalker` over `kernel.kmemCaches`.
 */
import { RcuListWalker, type KmemCache } from '@bpf-iter/core';
import { KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RET_NULL, KF_SLEEPABLE } from '../flags.js';
import { LOOP_STEP } from '../loop-step.js';
import { registerIterKind } from '../registry.js';

/** The iterator state: the list walk itself (the target's walker), and the cache it pins. */
class KmemCacheState extends RcuListWalker<KmemCache> {
  /** The pinned cache (the last one returned). */
  pinned: KmemCache | null = null;
}

function unpin(s: KmemCacheState): void {
  const prev = s.pinned;
  s.pinned = null;
  prev?.put();
}

/** `bpf_iter_kmem_cache_next`: the next cache, pinned until the following step or destroy. */
function kmemCacheNext(s: KmemCacheState): KmemCache | null {
  // Pin the next cache before unpinning the previous one (kernel order).
  const prev = s.pinned;
  const next = s.next();
  if (next !== null) next.getAndPut(prev);
  else prev?.put();
  s.pinned = next;
  return next;
}

/** The `kmem_cache` iterator kind: `bpf_iter_kmem_cache_new(it)`, elements are `KmemCache`s. */
export const iterKmemCache = registerIterKind({
  state: { name: 'bpf_iter_kmem_cache', size: 8 },
  new: {
    name: 'bpf_iter_kmem_cache_new',
    flags: KF_ITER_NEW | KF_SLEEPABLE,
    params: [{ name: 'it', type: 'struct bpf_iter_kmem_cache *' }],
    ret: 'int',
    impl: (ctx): KmemCacheState => new KmemCacheState(ctx.kernel.kmemCaches),
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
  // bpfForEach's step: this kind's own, so V8 inlines kmemCacheNext into every loop (see loop-step.ts).
  [LOOP_STEP]: function () {
    let done = true;
    let value = null;
    try {
      if (this.done === false) value = kmemCacheNext(this.data);
    } catch (e) {
      this.fail(e);
    }
    if (value != null) done = false;
    else value = this.end(value).value;
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
