/**
 * Every built-in kind's own `bpfForEach` step (loop-step.ts): the loop sees
 * exactly the trio's elements, destroys its iterator exactly once on end,
 * break and a failed constructor, and stays ended (the css and dmabuf
 * restart-after-NULL quirk is the trio's, never the loop's).
 */
import { describe, expect, it } from 'vitest';
import { DmaBuf, KmemCache, PF_KTHREAD, syntheticKernel, type Kernel } from '@bpf-iter/core';
import {
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_TASK_ITER_ALL_THREADS,
  bpfForEach,
  iterBits,
  iterCss,
  iterCssTask,
  iterDmabuf,
  iterKmemCache,
  iterNum,
  iterStats,
  iterTask,
  iterTaskVma,
  withKernel,
  type IterKind,
} from '../src/index.js';

function testKernel(): Kernel {
  const k = syntheticKernel({ seed: 3, processes: 6, threadsPerProcess: 3, filesPerProcess: 1, vmasPerProcess: 5, sockets: 1, containers: 1 });
  for (let i = 0; i < 5; i++) k.addKmemCache(new KmemCache(`loop-${i}`, 64, 64, 8, 1, 1, 64, 1));
  for (let i = 0; i < 5; i++) k.addDmaBuf(new DmaBuf(4096, 'system', k.allocIno(), ''));
  const top = k.mkdirCgroup(k.cgroupRoot, 'loop');
  for (let j = 0; j < 3; j++) k.mkdirCgroup(top, `c${j}`);
  return k;
}

/** Each built-in kind with arguments that yield several elements, and (where it can fail) arguments that fail. */
function cases(k: Kernel): { name: string; kind: IterKind<any, any, any>; args: unknown[]; bad?: unknown[]; key?: (v: any) => unknown }[] {
  const proc = k.processes.head!.next!.value;
  const kthread = k.createTask({ pid: 90_000, comm: 'kloop', mm: null, flags: PF_KTHREAD });
  return [
    { name: 'num', kind: iterNum, args: [3, 9], bad: [9, 3] },
    { name: 'bits', kind: iterBits, args: [[0x8000_0000_0000_0101n, 0n, 0xf0n]], bad: [null] },
    { name: 'task', kind: iterTask, args: [null, BPF_TASK_ITER_ALL_THREADS], bad: [null, 7] },
    // Snapshots: compared by value.
    { name: 'task_vma', kind: iterTaskVma, args: [proc, 0], bad: [kthread, 0], key: (v) => `${v.vm_start}-${v.vm_end}` },
    { name: 'css', kind: iterCss, args: [k.cgroupRoot, BPF_CGROUP_ITER_DESCENDANTS_PRE], bad: [k.cgroupRoot, 0] },
    { name: 'css_task', kind: iterCssTask, args: [k.cgroupRoot, 0], bad: [k.cgroupRoot, 2] },
    { name: 'kmem_cache', kind: iterKmemCache, args: [] },
    { name: 'dmabuf', kind: iterDmabuf, args: [] },
  ];
}

function trio(kind: IterKind<any, any, any>, args: unknown[]): unknown[] {
  const it = kind.alloc();
  kind.new(it, ...args);
  const out: unknown[] = [];
  for (let v; (v = kind.next(it)) !== null; ) out.push(v);
  kind.destroy(it);
  return out;
}

describe('built-in loop steps', () => {
  const k = testKernel();
  const all = withKernel(k, () => cases(k));
  for (const c of all) {
    const key = c.key ?? ((v: unknown) => v);
    it(`${c.name}: the loop yields the trio's elements; ended loops stay ended; destroyed once`, () => {
      withKernel(k, () => {
        const want = trio(c.kind, c.args).map(key);
        expect(want.length).toBeGreaterThan(1);
        const s0 = iterStats(c.kind);
        expect([...bpfForEach(c.kind, ...c.args)].map(key)).toEqual(want);

        // Natural end: next() stays done (no restart, not even for css and dmabuf).
        const loop = bpfForEach(c.kind, ...c.args)[Symbol.iterator]();
        for (let i = 0; i < want.length; i++) expect(key(loop.next().value)).toEqual(want[i]);
        expect(loop.next()).toEqual({ done: true, value: undefined });
        expect(loop.next()).toEqual({ done: true, value: undefined });

        // Break after the first element: destroyed then, and done afterwards.
        const broken = bpfForEach(c.kind, ...c.args)[Symbol.iterator]();
        expect(key(broken.next().value)).toEqual(want[0]);
        expect(broken.return()).toEqual({ done: true, value: undefined });
        expect(broken.next()).toEqual({ done: true, value: undefined });

        const s1 = iterStats(c.kind);
        expect([s1.constructed - s0.constructed, s1.destroyed - s0.destroyed, s1.live]).toEqual([3, 3, 0]);
      });
    });
    it(`${c.name}: after the natural end, return() and dispose do not destroy again`, () => {
      withKernel(k, () => {
        const s0 = iterStats(c.kind);
        const loop = bpfForEach(c.kind, ...c.args)[Symbol.iterator]();
        while (!loop.next().done);
        expect(iterStats(c.kind).destroyed - s0.destroyed).toBe(1); // destroyed at the end, by the step itself
        expect(loop.return()).toEqual({ done: true, value: undefined });
        loop[Symbol.dispose]();
        const s1 = iterStats(c.kind);
        expect([s1.constructed - s0.constructed, s1.destroyed - s0.destroyed, s1.live]).toEqual([1, 1, 0]);
      });
    });
    if (c.bad) {
      const bad = c.bad;
      it(`${c.name}: a failed constructor runs zero times and is destroyed once`, () => {
        withKernel(k, () => {
          const s0 = iterStats(c.kind);
          const loop = bpfForEach(c.kind, ...bad)[Symbol.iterator]();
          expect(iterStats(c.kind).live).toBe(1); // constructed at iteration start, like bpf_for_each
          expect(loop.next()).toEqual({ done: true, value: undefined });
          expect(loop.next()).toEqual({ done: true, value: undefined });
          const s1 = iterStats(c.kind);
          expect([s1.constructed - s0.constructed, s1.failed - s0.failed, s1.destroyed - s0.destroyed, s1.live]).toEqual([1, 1, 1, 0]);
        });
      });
    }
  }

  it('kmem_cache: the loop pins the cache it stands on and lets go of it on the next step and on break', () => {
    withKernel(k, () => {
      const caches = trio(iterKmemCache, []) as KmemCache[];
      const base = caches.map((c) => c.refcnt);
      let i = 0;
      for (const c of bpfForEach(iterKmemCache)) {
        expect(c).toBe(caches[i]);
        expect(caches.map((x) => x.refcnt)).toEqual(base.map((r, j) => (j === i ? r + 1 : r)));
        if (++i === 3) break;
      }
      expect(caches.map((x) => x.refcnt)).toEqual(base);
    });
  });

  it('a throw in the loop body destroys the iterator once (every kind)', () => {
    withKernel(k, () => {
      for (const c of all) {
        const s0 = iterStats(c.kind);
        expect(() => {
          for (const _ of bpfForEach(c.kind, ...c.args)) throw new Error(`body ${c.name}`);
        }).toThrow(`body ${c.name}`);
        const s1 = iterStats(c.kind);
        expect([c.name, s1.destroyed - s0.destroyed, s1.live]).toEqual([c.name, 1, 0]);
      }
    });
  });
});
