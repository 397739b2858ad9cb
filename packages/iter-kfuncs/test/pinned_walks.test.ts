/**
 * The kmem_cache and dmabuf kinds walk their list by node and pin the object
 * they stand on (core's PinnedListWalker): under random removals while the
 * loop runs (the current entry, entries after it, entries already passed),
 * the loop yields exactly the entries still live when it reaches them, in
 * list order; the current one is held (refcount + 1, not freed) until the
 * next step or the loop's end; a removed one is freed as soon as nobody
 * holds it; and no reference is left behind (refStats.outstanding), also
 * on break.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DmaBuf, Kernel, KmemCache, refStats, type KObject } from '@bpf-iter/core';
import { bpfForEach, iterDmabuf, iterKmemCache, liveIterators, withKernel, type IterKind } from '../src/index.js';

interface Case {
  name: string;
  kind: IterKind<any, [], any>;
  add(k: Kernel, i: number): KObject;
  remove(k: Kernel, o: KObject): void;
}

const cases: Case[] = [
  {
    name: 'kmem_cache',
    kind: iterKmemCache,
    add: (k, i) => k.addKmemCache(new KmemCache(`c${i}`, 64, 64, 8, 1, 1, 64, 1)),
    remove: (k, o) => k.destroyKmemCache(o as KmemCache),
  },
  {
    name: 'dmabuf',
    kind: iterDmabuf,
    add: (k, i) => k.addDmaBuf(new DmaBuf(4096, 'system', 100 + i)),
    remove: (k, o) => k.releaseDmaBuf(o as DmaBuf),
  },
];

// Per step of the loop: which entries to remove (indices into the list as built), and maybe break there.
const plan = fc.record({
  n: fc.integer({ min: 0, max: 24 }),
  removals: fc.array(fc.array(fc.nat(23), { maxLength: 4 }), { maxLength: 30 }),
  breakAt: fc.option(fc.nat(30), { nil: undefined }),
});

describe('pinned list walks under removal', () => {
  for (const c of cases) {
    it(`${c.name}: exactly the live entries in list order, the current one pinned, nothing leaked`, () => {
      fc.assert(
        fc.property(plan, ({ n, removals, breakAt }) => {
          const k = new Kernel();
          const objs = Array.from({ length: n }, (_, i) => c.add(k, i));
          const removed = new Set<number>();
          const out0 = refStats.outstanding;
          const seen: number[] = [];
          let pos = -1; // index of the entry the loop stands on
          withKernel(k, () => {
            let step = 0;
            for (const o of bpfForEach(c.kind)) {
              const i = objs.indexOf(o);
              // The oracle: the first entry after the current one not removed yet.
              let want = pos + 1;
              while (removed.has(want)) want++;
              expect(i).toBe(want);
              pos = i;
              seen.push(i);
              // Held by the list (unless removed) and by the loop.
              expect(o.refcnt).toBe(removed.has(i) ? 1 : 2);
              for (const r of removals[step] ?? []) {
                if (r >= n || removed.has(r)) continue;
                c.remove(k, objs[r]!);
                removed.add(r);
              }
              // The current one stays alive while held; every other removed one is freed.
              objs.forEach((x, j) => expect(x.freed).toBe(removed.has(j) && j !== i));
              if (step++ === breakAt) break;
            }
          });
          if (breakAt === undefined || breakAt >= seen.length) {
            let want = pos + 1;
            while (removed.has(want)) want++;
            expect(want).toBeGreaterThanOrEqual(n); // walked to the end
          }
          objs.forEach((x, j) => {
            expect(x.freed).toBe(removed.has(j));
            expect(x.refcnt).toBe(removed.has(j) ? 0 : 1);
          });
          expect(refStats.outstanding).toBe(out0);
          expect(liveIterators(c.kind)).toBe(0);
        }),
        { numRuns: 300 },
      );
    });
  }
});
