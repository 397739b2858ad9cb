/**
 * Robustness of the open-coded iterators (reference §7): random
 * interleavings of kernel mutations with task / task_vma loops (survivors
 * once, nothing twice, every iterator destroyed), and hostile use of the
 * trio (foreign or tampered states, double destroy, bad arguments) that
 * must fail with a typed BpfError and leave `liveIterators()` unchanged.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { BpfError, Kernel, PAGE_SIZE, refStats, withKernel, type Task } from '@bpf-iter/core';
import {
  BPF_MAX_LOOPS,
  BPF_TASK_ITER_ALL_THREADS,
  bpf_iter_num_destroy,
  bpf_iter_num_new,
  bpf_iter_num_next,
  bpf_iter_task_destroy,
  bpf_iter_task_new,
  bpf_iter_task_next,
  bpf_iter_task_vma_destroy,
  bpf_iter_task_vma_new,
  bpf_iter_task_vma_next,
  iterNum,
  iterTask,
  iterTaskVma,
  liveIterators,
} from '../src/index.js';

const SEED = 20240607;
const RUNS = 100;
const BASE = 0x10000000;

type Op = { k: 'fork' | 'exit' | 'clone'; p: number } | { k: 'mmap' | 'munmap'; page: number; pages: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constantFrom('fork' as const, 'exit' as const, 'clone' as const), p: fc.nat({ max: 15 }) }),
  fc.record({ k: fc.constantFrom('mmap' as const, 'munmap' as const), page: fc.nat({ max: 24 }), pages: fc.integer({ min: 1, max: 4 }) }),
);
const scheduleArb = fc.array(fc.record({ at: fc.nat({ max: 30 }), op: opArb }), { maxLength: 25 });

function errnoOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof BpfError) return e.errno;
    throw e;
  }
}

describe('open-coded loops under random interleavings (seeded)', () => {
  test(`bpf_iter_task ALL_THREADS: survivors once, nothing twice (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), scheduleArb, (n, schedule) => {
        const refs0 = refStats.outstanding;
        const live0 = liveIterators();
        const k = new Kernel();
        const all: Task[] = [];
        for (let i = 0; i < n; i++) all.push(k.createTask({ comm: 'p', mm: k.newMm() }));
        const alive = () => new Set(all.filter((t) => !t.dead).map((t) => t));
        const before = alive();
        const seen: Task[] = [];
        withKernel(k, () => {
          const it = iterTask.alloc();
          bpf_iter_task_new(it, null, BPF_TASK_ITER_ALL_THREADS);
          let t: Task | null;
          for (let step = 0; ; step++) {
            for (const s of schedule) {
              if (s.at !== step || !('p' in s.op)) continue;
              const live = all.filter((x) => !x.dead);
              const target = live[s.op.p % live.length]!;
              if (s.op.k === 'fork') all.push(k.fork(target));
              else if (s.op.k === 'clone') all.push(k.clone(target));
              else if (live.length > 1) k.exit(target);
            }
            if ((t = bpf_iter_task_next(it)) === null) break;
            if (t.pid !== 0) seen.push(t);
          }
          // The contract: NULL again after the end (§7.1).
          expect(bpf_iter_task_next(it)).toBeNull();
          bpf_iter_task_destroy(it);
        });
        const after = alive();
        expect(new Set(seen).size).toBe(seen.length);
        for (const t of before) if (after.has(t)) expect(seen.includes(t), `survivor ${t.pid}`).toBe(true);
        expect(liveIterators()).toBe(live0);
        expect(refStats.outstanding).toBe(refs0);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test(`bpf_iter_task_vma: untouched VMAs once, ascending, nothing twice (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.nat({ max: 8 }), scheduleArb, (vmas, schedule) => {
        const live0 = liveIterators();
        const k = new Kernel();
        const t = k.createTask({ comm: 'p', mm: k.newMm() });
        for (let i = 0; i < vmas; i++) k.mmap(t, { addr: BASE + i * 3 * PAGE_SIZE, length: PAGE_SIZE * (1 + (i % 2)) });
        const ids = () => new Set(t.mm!.vmas().map((v) => `${v.vm_start}-${v.vm_end}`));
        const before = ids();
        const touched: [number, number][] = [];
        const seen: string[] = [];
        let last = -1;
        const it = iterTaskVma.alloc();
        expect(bpf_iter_task_vma_new(it, t, 0)).toBe(0);
        for (let step = 0; ; step++) {
          for (const s of schedule) {
            if (s.at !== step || 'p' in s.op) continue;
            const start = BASE + s.op.page * PAGE_SIZE;
            const len = s.op.pages * PAGE_SIZE;
            if (s.op.k === 'mmap') k.mmap(t, { addr: start, length: len });
            else k.munmap(t, start, len);
            touched.push([start, start + len]);
          }
          const v = bpf_iter_task_vma_next(it);
          if (v === null) break;
          // Each next yields the VMA ending above the previous end (a new mapping may start below it).
          expect(v.vm_end).toBeGreaterThan(last);
          last = v.vm_end;
          seen.push(`${v.vm_start}-${v.vm_end}`);
        }
        bpf_iter_task_vma_destroy(it);
        const after = ids();
        expect(new Set(seen).size).toBe(seen.length);
        for (const id of before) {
          const [s, e] = id.split('-').map(Number) as [number, number];
          if (after.has(id) && !touched.some(([a, b]) => a < e && b > s)) expect(seen, id).toContain(id);
        }
        expect(liveIterators()).toBe(live0);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe('hostile use of the trio', () => {
  test('foreign and tampered states → EINVAL; nothing constructed', () => {
    const live0 = liveIterators();
    const foreign = [{}, null, undefined, 42, Object.create(null), new Proxy({}, {})];
    for (const s of foreign) {
      expect(errnoOf(() => bpf_iter_num_new(s as never, 0, 3))).toBe('EINVAL');
      expect(errnoOf(() => bpf_iter_num_next(s as never))).toBe('EINVAL');
      expect(errnoOf(() => bpf_iter_num_destroy(s as never))).toBe('EINVAL');
    }
    // Stack memory is untyped (the verifier checks slots, not the declared struct):
    // another kind's uninitialized state may hold a num iterator, but then only num's kfuncs accept it.
    const other = iterTask.alloc();
    expect(bpf_iter_num_new(other as never, 0, 3)).toBe(0);
    expect(errnoOf(() => bpf_iter_task_next(other as never))).toBe('EINVAL');
    expect(errnoOf(() => bpf_iter_task_destroy(other as never))).toBe('EINVAL');
    bpf_iter_num_destroy(other as never);
    // A copy of a live state's own properties is not a state (the fields are private).
    const it = iterNum.alloc();
    bpf_iter_num_new(it, 0, 3);
    const copy = Object.assign(Object.create(Object.getPrototypeOf(it) as object), it);
    expect(errnoOf(() => bpf_iter_num_next(copy))).toBe('EINVAL');
    bpf_iter_num_destroy(it);
    expect(liveIterators()).toBe(live0);
  });

  test('double new, next after destroy, double destroy → EINVAL; live count balanced', () => {
    const live0 = liveIterators();
    const it = iterNum.alloc();
    expect(bpf_iter_num_new(it, 0, 2)).toBe(0);
    expect(errnoOf(() => bpf_iter_num_new(it, 0, 2))).toBe('EINVAL');
    bpf_iter_num_destroy(it);
    expect(errnoOf(() => bpf_iter_num_next(it))).toBe('EINVAL');
    expect(errnoOf(() => bpf_iter_num_destroy(it))).toBe('EINVAL');
    expect(liveIterators()).toBe(live0);
  });

  test(`bad num ranges → a negative errno and an empty iterator, destroy still required (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 1.5, BPF_MAX_LOOPS + 1, 2 ** 31, -(2 ** 31) - 1)),
        fc.oneof(fc.integer(), fc.constantFrom(Number.NaN, Infinity, 0.5, 2 ** 32)),
        (a, b) => {
          const live0 = liveIterators();
          const it = iterNum.alloc();
          let r: number | string;
          try {
            r = bpf_iter_num_new(it, a, b);
          } catch (e) {
            // Non-integers are not C ints: a typed error, not a crash.
            expect(e).toBeInstanceOf(BpfError);
            r = 'threw';
          }
          if (typeof r === 'number' && r < 0) expect(bpf_iter_num_next(it)).toBeNull();
          if (typeof r === 'number') {
            let n = 0;
            while (bpf_iter_num_next(it) !== null && n <= BPF_MAX_LOOPS) n++;
            expect(n).toBeLessThanOrEqual(BPF_MAX_LOOPS);
            bpf_iter_num_destroy(it);
          }
          expect(liveIterators()).toBe(live0);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('bpf_iter_task_new with unknown flags → -EINVAL and an empty iterator; task_vma on a kernel thread → -ENOENT', () => {
    const live0 = liveIterators();
    const k = new Kernel();
    const kt = k.createTask({ comm: 'kworker', files: null, mm: null });
    withKernel(k, () => {
      const it = iterTask.alloc();
      expect(bpf_iter_task_new(it, null, 7)).toBe(-22);
      expect(bpf_iter_task_next(it)).toBeNull();
      bpf_iter_task_destroy(it);
    });
    const v = iterTaskVma.alloc();
    expect(bpf_iter_task_vma_new(v, kt, 0)).toBe(-2);
    expect(bpf_iter_task_vma_next(v)).toBeNull();
    bpf_iter_task_vma_destroy(v);
    expect(liveIterators()).toBe(live0);
  });
});
