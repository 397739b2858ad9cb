import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultKernel, Kernel, KmemCache, refStats } from '@bpf-iter/core';
import {
  bindKernel,
  bpf_iter_kmem_cache_destroy,
  bpf_iter_kmem_cache_new,
  bpf_iter_kmem_cache_next,
  bpfForEach,
  iterKmemCache,
  iterStats,
  liveIterators,
  setDefaultKernel,
  withKernel,
} from '../src/index.js';
import { checkIterContract } from '../src/testing.js';

function slabKernel() {
  const k = new Kernel();
  const caches = ['task_struct', 'mm_struct', 'filp', 'dentry'].map((n, i) => k.addKmemCache(new KmemCache(n, 64 << i, 64 << i, 8, 1, 2, 1, 1)));
  return { k, caches };
}

const names = (cs: Iterable<KmemCache>) => [...cs].map((c) => c.name);

afterEach(() => setDefaultKernel(undefined));

describe('bpf_iter_kmem_cache (§7.5.7)', () => {
  it('never fails; yields the caches in list order, then NULL forever', () => {
    const { k } = slabKernel();
    withKernel(k, () => {
      const it = iterKmemCache.alloc();
      expect(bpf_iter_kmem_cache_new(it)).toBe(0);
      const out: string[] = [];
      for (let c = bpf_iter_kmem_cache_next(it); c !== null; c = bpf_iter_kmem_cache_next(it)) out.push(c.name);
      expect(out).toEqual(['task_struct', 'mm_struct', 'filp', 'dentry']);
      expect([bpf_iter_kmem_cache_next(it), bpf_iter_kmem_cache_next(it)]).toEqual([null, null]);
      bpf_iter_kmem_cache_destroy(it);
    });
    expect(iterKmemCache.stateSize).toBe(8);
  });

  it('the current cache is pinned until the following next/destroy', () => {
    const { k, caches } = slabKernel();
    const out0 = refStats.outstanding;
    const it = bindKernel(iterKmemCache, k).open();
    const first = bpf_iter_kmem_cache_next(it)!;
    expect(first.refcnt).toBe(2);
    bpf_iter_kmem_cache_next(it);
    expect(first.refcnt).toBe(1);
    expect(caches[1]!.refcnt).toBe(2);
    bpf_iter_kmem_cache_destroy(it);
    expect(caches[1]!.refcnt).toBe(1);
    expect(refStats.outstanding).toBe(out0);
  });

  it('a cache destroyed while pinned is freed when the iterator lets go, and the walk goes on after it', () => {
    const { k, caches } = slabKernel();
    const seen: string[] = [];
    withKernel(k, () => {
      for (const c of bpfForEach(iterKmemCache)) {
        seen.push(c.name);
        if (c.name === 'mm_struct') {
          k.destroyKmemCache(c);
          expect(c.freed).toBe(false); // still pinned
        }
        if (c.name === 'filp') expect(caches[1]!.freed).toBe(true);
      }
    });
    expect(seen).toEqual(['task_struct', 'mm_struct', 'filp', 'dentry']);
    expect(names(bpfForEach(bindKernel(iterKmemCache, k)))).toEqual(['task_struct', 'filp', 'dentry']);
  });

  it('a cache added mid-walk (list tail) is visited; an empty list yields nothing', () => {
    const { k } = slabKernel();
    const seen = withKernel(k, () => {
      const out: string[] = [];
      for (const c of bpfForEach(iterKmemCache)) {
        out.push(c.name);
        if (out.length === 1) k.addKmemCache(new KmemCache('late', 8, 8, 8, 0, 0, 1, 1));
      }
      return out;
    });
    expect(seen).toEqual(['task_struct', 'mm_struct', 'filp', 'dentry', 'late']);
    expect([...bpfForEach(bindKernel(iterKmemCache, new Kernel()))]).toEqual([]);
  });

  it("uses the ambient kernel: the embedded default kernel's caches with nothing configured", () => {
    expect(names(bpfForEach(iterKmemCache))).toEqual(defaultKernel().kmemCaches.toArray().map((c) => c.name));
    expect(names(bpfForEach(iterKmemCache))[0]).toBe('task_struct');
  });

  it('checkIterContract with an oracle (list order) and no leaked pins', () => {
    const { k } = slabKernel();
    const out0 = refStats.outstanding;
    checkIterContract(iterKmemCache, fc.constant([] as []), {
      kernel: k,
      oracle: () => ({ ret: 0, elements: k.kmemCaches.toArray() }),
      fc: { numRuns: 20 },
    });
    expect(liveIterators(iterKmemCache)).toBe(0);
    expect(refStats.outstanding).toBe(out0);
  });

  it('destroy runs exactly once on break and throw, and unpins', () => {
    const { k, caches } = slabKernel();
    const s0 = iterStats(iterKmemCache);
    withKernel(k, () => {
      for (const c of bpfForEach(iterKmemCache)) if (c.name === 'filp') break;
      expect(caches[2]!.refcnt).toBe(1);
      expect(() => {
        for (const c of bpfForEach(iterKmemCache)) if (c.name === 'mm_struct') throw new Error('body');
      }).toThrow('body');
      expect(caches[1]!.refcnt).toBe(1);
    });
    expect(iterStats(iterKmemCache).destroyed - s0.destroyed).toBe(2);
    expect(liveIterators(iterKmemCache)).toBe(0);
  });
});
