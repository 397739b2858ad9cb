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
  bpfProgram,
  iterBits,
  iterCss,
  iterCssTask,
  iterDmabuf,
  iterKmemCache,
  iterNum,
  iterStats,
  iterTask,
  iterTaskVma,
  KF_ITER_DESTROY,
  KF_ITER_NEW,
  KF_ITER_NEXT,
  KF_RET_NULL,
  liveIterators,
  registerIterKind,
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
function cases(k: Kernel): { name: string; kind: IterKind<any, any, any>; args: unknown[]; bad?: unknown[]; key?: (v: any) => unknown; misuse?: unknown[] }[] {
  const proc = k.processes.head!.next!.value;
  const kthread = k.createTask({ pid: 90_000, comm: 'kloop', mm: null, flags: PF_KTHREAD });
  return [
    { name: 'num', kind: iterNum, args: [3, 9], bad: [9, 3] },
    { name: 'bits', kind: iterBits, args: [[0x8000_0000_0000_0101n, 0n, 0xf0n]], bad: [null] },
    { name: 'task', kind: iterTask, args: [null, BPF_TASK_ITER_ALL_THREADS], bad: [null, 7] },
    // Snapshots: compared by value.
    { name: 'task_vma', kind: iterTaskVma, args: [proc, 0], bad: [kthread, 0], key: (v) => `${v.vm_start}-${v.vm_end}`, misuse: [null, 0] },
    { name: 'css', kind: iterCss, args: [k.cgroupRoot, BPF_CGROUP_ITER_DESCENDANTS_PRE], bad: [k.cgroupRoot, 0] },
    { name: 'css_task', kind: iterCssTask, args: [k.cgroupRoot, 0], bad: [k.cgroupRoot, 2], misuse: [null, 0] },
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

/** A third-party kind: no construction or step of its own, the loop's shared path. */
const iterCountdown = registerIterKind({
  state: { name: 'bpf_iter_loopcount', size: 8 },
  new: { name: 'bpf_iter_loopcount_new', flags: KF_ITER_NEW, params: ['struct bpf_iter_loopcount *', 'int'], ret: 'int',
    impl: (_ctx, n: number) => ({ n }) },
  next: { name: 'bpf_iter_loopcount_next', flags: KF_ITER_NEXT | KF_RET_NULL, params: ['struct bpf_iter_loopcount *'], ret: 'int *',
    impl: (d: { n: number }) => (d.n > 0 ? d.n-- : null) },
  destroy: { name: 'bpf_iter_loopcount_destroy', flags: KF_ITER_DESTROY, params: ['struct bpf_iter_loopcount *'], ret: 'void', impl: () => {} },
});

/** The counts `fn` makes: of its kind, of all kinds, and the reference ids it takes (probes: states of `args`). */
function counted(kind: IterKind<any, any, any>, args: unknown[], fn: () => void): number[] {
  const probe = (): number => {
    const it = kind.open(...args);
    it.destroy();
    return it.refId;
  };
  const s0 = iterStats(kind);
  const all0 = liveIterators();
  const id0 = probe();
  fn();
  const id1 = probe();
  const s1 = iterStats(kind);
  // The two probes: constructed and destroyed.
  return [s1.constructed - s0.constructed - 2, s1.failed - s0.failed, s1.destroyed - s0.destroyed - 2, s1.live - s0.live, liveIterators() - all0, id1 - id0 - 1];
}

describe("each built-in kind's own loop construction", () => {
  const k = testKernel();
  const all = withKernel(k, () => cases(k));
  it('every built-in kind constructs its loops itself; third-party kinds share one construction', () => {
    withKernel(k, () => {
      const opens = all.map((c) => bpfForEach(c.kind, ...c.args)[Symbol.iterator]);
      expect(new Set(opens).size).toBe(all.length);
      expect(bpfForEach(iterCountdown, 3)[Symbol.iterator]).not.toBe(opens[0]);
      expect(bpfForEach(iterCountdown, 3)[Symbol.iterator]).toBe(bpfForEach(iterCountdown, 5)[Symbol.iterator]);
    });
  });

  const shared = { name: 'third-party (shared)', kind: iterCountdown as IterKind<any, any, any>, args: [3] as unknown[], bad: undefined as unknown[] | undefined };
  for (const c of [...all, shared]) {
    it(`${c.name}: a loop counts like a state: one construction, one reference id, one destruction`, () => {
      withKernel(k, () => {
        // Constructed at iteration start, live until the end.
        let live: number[] = [];
        expect(counted(c.kind, c.args, () => {
          const loop = bpfForEach(c.kind, ...c.args)[Symbol.iterator]();
          live = [iterStats(c.kind).live, liveIterators()];
          while (!loop.next().done);
        })).toEqual([1, 0, 1, 0, 0, 1]);
        expect(live[0]).toBeGreaterThan(0);
        // The same as the trio's construction of a state.
        expect(counted(c.kind, c.args, () => c.kind.open(...c.args).destroy())).toEqual([1, 0, 1, 0, 0, 1]);
        if (c.bad) {
          expect(counted(c.kind, c.args, () => [...bpfForEach(c.kind, ...c.bad!)])).toEqual([1, 1, 1, 0, 0, 1]);
          expect(counted(c.kind, c.args, () => c.kind.open(...c.bad!).destroy())).toEqual([1, 1, 1, 0, 0, 1]);
        }
      });
    });

    it(`${c.name}: bpfProgram's leak check sees an unfinished loop (id, alloc_insn) and destroys it`, () => {
      withKernel(k, () => {
        for (const args of c.bad ? [c.args, c.bad] : [c.args]) {
          const s0 = iterStats(c.kind);
          const before = c.kind.open(...args);
          before.destroy();
          let err: Error | undefined;
          try {
            bpfProgram(() => {
              for (const _ of bpfForEach(c.kind, ...args)) break; // released: fine
              bpfForEach(c.kind, ...args)[Symbol.iterator](); // never ended
            });
          } catch (e) {
            err = e as Error;
          }
          expect(err?.message).toBe(`EINVAL: Unreleased reference id=${before.refId + 2} alloc_insn=1`);
          const s1 = iterStats(c.kind);
          expect([s1.constructed - s0.constructed, s1.destroyed - s0.destroyed, s1.live - s0.live]).toEqual([3, 3, 0]);
        }
      });
    });
  }

  for (const c of all.filter((x) => x.misuse)) {
    it(`${c.name}: a constructor that throws something else than a BpfError throws from the loop, nothing counted`, () => {
      withKernel(k, () => {
        const s0 = iterStats(c.kind);
        const all0 = liveIterators();
        expect(() => bpfForEach(c.kind, ...c.misuse!)[Symbol.iterator]()).toThrow(TypeError);
        expect(() => c.kind.open(...c.misuse!)).toThrow(TypeError);
        expect(iterStats(c.kind)).toEqual(s0);
        expect(liveIterators()).toBe(all0);
      });
    });
  }
});
