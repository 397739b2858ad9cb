/**
 * Every built-in kind's loop after all kinds have run in this process, in
 * one run, next to two baselines over the same objects:
 *
 *   npx tsx --conditions=@bpf-iter/source packages/iter-kfuncs/bench/kinds.ts
 *
 * - `plain`: a `for` loop over an array of the objects (the kind collected
 *   them first), the baseline of `pnpm bench`'s all-kinds rows;
 * - task_vma: `nested`, a `for` loop over each process's own array of its
 *   VMAs inside a loop over the processes, the same per-process walk as
 *   `bpfForEach(iterTaskVma, p, 0)` (a per-task iterator) and the baseline
 *   of its all-kinds row; its ratios are printed to both (`plain` is one flat
 *   array of every process's VMAs, with no per-process cost at all);
 * - `bare walk`: the same model structure walked by hand with no iterator
 *   at all (list nodes, cgroup tree, each task's address space), the
 *   ceiling of any walker over the model as it is laid out in memory;
 *   task_vma's `task->mm` reads only each task's mm and its VMA count (no
 *   VMA), the floor every per-task walk pays before its first element;
 * - `bpfForEach` and the trio (`new` / `next` until NULL / `destroy`);
 * - task and css: `after change`, the loop after a list changed (the
 *   walkers step an array of the walk while no list changes and rebuild it
 *   as they go after a change).
 *
 * - bits also over 511 words with half their bits set at random (`bits 50%`);
 * - `fromIter(iterNum, 0, N)` + reduce against rxjs `range(0, N)` + reduce
 *   and against a bare source (a `for` loop calling `subscriber.next`, no
 *   `closed` check): the ceiling of any source under the same reduction.
 *
 * Best of ROUNDS (default 10) samples of at least 100k objects each, one
 * pass reported, process CPU time, objects/s and ratios to
 * `plain`. Same kernel as `pnpm bench` (100k tasks, 10k caches, buffers and
 * cgroups, 511 words of bits).
 */
import { loadavg } from 'node:os';
import { Observable, range, reduce } from 'rxjs';
import { withKernel, type Cgroup, type Task, type Vma } from '@bpf-iter/core';
import { allKindsKernel, bestOf, passesFor, perPass, perSec, repeated } from '../../../scripts/bench/lib.js';
import {
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_MAX_LOOPS,
  BPF_TASK_ITER_ALL_PROCS,
  BPF_TASK_ITER_ALL_THREADS,
  bpfForEach,
  iterBits,
  iterCss,
  iterCssTask,
  iterDmabuf,
  iterKmemCache,
  iterNum,
  iterTask,
  iterTaskVma,
  type IterKind,
} from '../src/index.js';
import { fromIter } from '../src/rx.js';

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const N = BPF_MAX_LOOPS;

const kernel = allKindsKernel(100_000, 10_000);
const words = new BigUint64Array(511).fill(0xffff_ffff_ffff_ffffn);
// Half the bits set at random (fixed seed): the same stepping over a bitmap that is not all runs.
const halfWords = new BigUint64Array(511);
{
  let seed = 11;
  const rnd = (): bigint => BigInt((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xffffn;
  for (let w = 0; w < 511; w++) halfWords[w] = rnd() | (rnd() << 16n) | (rnd() << 32n) | (rnd() << 48n);
}

/** The trio by hand: count the elements that pass `ok`. */
function trio<E>(kind: IterKind<string, any[], E>, args: unknown[], ok: (e: E) => boolean): number {
  const it = kind.alloc();
  kind.new(it, ...args);
  let n = 0;
  for (let e; (e = kind.next(it)) !== null; ) if (ok(e)) n++;
  kind.destroy(it);
  return n;
}

withKernel(kernel, () => {
  const root = kernel.cgroupRoot;
  const procs = bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS).toArray().filter((t) => t.mm !== null);
  const tasks: Task[] = bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS).toArray();
  const vmasOf: Vma[][] = procs.map((p) => bpfForEach(iterTaskVma, p, 0).toArray());
  const vmas: Vma[] = vmasOf.flat();
  const cgroups: Cgroup[] = bpfForEach(iterCss, root, BPF_CGROUP_ITER_DESCENDANTS_PRE).toArray();
  const caches = bpfForEach(iterKmemCache).toArray();
  const bufs = bpfForEach(iterDmabuf).toArray();
  const bits = bpfForEach(iterBits, words, 511).toArray();
  const halfBits = bpfForEach(iterBits, halfWords, 511).toArray();
  const members: Task[] = bpfForEach(iterCssTask, root, 0).toArray();
  // Any list change (here: a task re-attached to its cgroup) ends the flattened walks of tasks and cgroups.
  const mover = tasks[tasks.length - 1]!;
  const touch = (): void => kernel.attachCgroup(mover, mover.cgroup!);
  const preorder = (c: Cgroup, f: (c: Cgroup) => void): void => {
    f(c);
    for (let x = c.children.head; x; x = x.next) preorder(x.value, f);
  };

  /** `bases`: the baselines the ratios are printed to (default `plain`). */
  const rows: { kind: string; variants: Record<string, () => number>; bases?: string[] }[] = [
    {
      kind: 'num',
      variants: {
        plain: () => { let n = 0; for (let i = 0; i < N; i++) n += i & 1; return N + n * 0; },
        bpfForEach: () => { let n = 0; for (const i of bpfForEach(iterNum, 0, N)) n += i & 1; return N + n * 0; },
        trio: () => trio(iterNum, [0, N], (i) => i >= 0),
      },
    },
    {
      kind: 'bits',
      variants: {
        plain: () => { let n = 0; for (let i = 0; i < bits.length; i++) if (bits[i]! >= 0) n++; return n; },
        bpfForEach: () => { let n = 0; for (const b of bpfForEach(iterBits, words, 511)) if (b >= 0) n++; return n; },
        trio: () => trio(iterBits, [words, 511], (b) => b >= 0),
      },
    },
    {
      kind: 'bits 50%',
      variants: {
        plain: () => { let n = 0; for (let i = 0; i < halfBits.length; i++) if (halfBits[i]! >= 0) n++; return n; },
        bpfForEach: () => { let n = 0; for (const b of bpfForEach(iterBits, halfWords, 511)) if (b >= 0) n++; return n; },
      },
    },
    {
      kind: 'task',
      variants: {
        plain: () => { let n = 0; for (let i = 0; i < tasks.length; i++) if (tasks[i]!.pid >= 0) n++; return n; },
        'bare walk': () => {
          let n = kernel.initTask.pid >= 0 ? 1 : 0;
          for (let p = kernel.processes.head; p; p = p.next) for (let t = p.value.signal.threads.head; t; t = t.next) if (t.value.pid >= 0) n++;
          return n;
        },
        bpfForEach: () => { let n = 0; for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS)) if (t.pid >= 0) n++; return n; },
        trio: () => trio(iterTask, [null, BPF_TASK_ITER_ALL_THREADS], (t) => t.pid >= 0),
      },
    },
    {
      kind: 'task_vma',
      bases: ['nested', 'plain'],
      variants: {
        plain: () => { let n = 0; for (let i = 0; i < vmas.length; i++) if (vmas[i]!.vm_end > vmas[i]!.vm_start) n++; return n; },
        nested: () => {
          let n = 0;
          for (let i = 0; i < vmasOf.length; i++) {
            const vs = vmasOf[i]!;
            for (let j = 0; j < vs.length; j++) if (vs[j]!.vm_end > vs[j]!.vm_start) n++;
          }
          return n;
        },
        // Each address space read in place, no snapshot objects.
        'bare walk': () => {
          let n = 0;
          for (const p of procs) {
            const mm = p.mm!;
            for (let i = 0; i < mm.vmaCount; i++) if (mm.endOf(i) > mm.startOf(i)) n++;
          }
          return n;
        },
        // Only what any walk of a task's VMAs reads before its first VMA (task->mm, the mm's VMA count), no VMA:
        // the memory floor of a per-task walk (two dependent loads per process, in objects spread over the heap).
        'task->mm': () => { let n = 0; for (const p of procs) n += p.mm!.vmaCount; return n; },
        bpfForEach: () => { let n = 0; for (const p of procs) for (const v of bpfForEach(iterTaskVma, p, 0)) if (v.vm_end > v.vm_start) n++; return n; },
        trio: () => { let n = 0; for (const p of procs) n += trio(iterTaskVma, [p, 0], (v) => v.vm_end > v.vm_start); return n; },
      },
    },
    {
      kind: 'css',
      variants: {
        plain: () => { let n = 0; for (let i = 0; i < cgroups.length; i++) if (cgroups[i]!.level >= 0) n++; return n; },
        'bare walk': () => { let n = 0; preorder(root, (c) => { if (c.level >= 0) n++; }); return n; },
        bpfForEach: () => { let n = 0; for (const c of bpfForEach(iterCss, root, BPF_CGROUP_ITER_DESCENDANTS_PRE)) if (c.level >= 0) n++; return n; },
        trio: () => trio(iterCss, [root, BPF_CGROUP_ITER_DESCENDANTS_PRE], (c) => c.level >= 0),
      },
    },
    {
      kind: 'css_task',
      variants: {
        // Its own literal (see scripts/bench/run.ts plainOf): a 24-task loop, where construction is most of the cost.
        plain: () => { let n = 0; for (let i = 0; i < members.length; i++) if (members[i]!.pid >= 0) n++; return n; },
        bpfForEach: () => { let n = 0; for (const t of bpfForEach(iterCssTask, root, 0)) if (t.pid >= 0) n++; return n; },
        trio: () => trio(iterCssTask, [root, 0], (t) => t.pid >= 0),
      },
    },
    {
      kind: 'kmem_cache',
      variants: {
        plain: () => { let n = 0; for (let i = 0; i < caches.length; i++) if (caches[i]!.size >= 0) n++; return n; },
        'bare walk': () => { let n = 0; for (let x = kernel.kmemCaches.head; x; x = x.next) if (x.value.size >= 0) n++; return n; },
        bpfForEach: () => { let n = 0; for (const c of bpfForEach(iterKmemCache)) if (c.size >= 0) n++; return n; },
        trio: () => trio(iterKmemCache, [], (c) => c.size >= 0),
      },
    },
    {
      kind: 'dmabuf',
      variants: {
        plain: () => { let n = 0; for (let i = 0; i < bufs.length; i++) if (bufs[i]!.size >= 0) n++; return n; },
        'bare walk': () => { let n = 0; for (let x = kernel.dmabufs.head; x; x = x.next) if (x.value.size >= 0) n++; return n; },
        bpfForEach: () => { let n = 0; for (const b of bpfForEach(iterDmabuf)) if (b.size >= 0) n++; return n; },
        trio: () => trio(iterDmabuf, [], (b) => b.size >= 0),
      },
    },
  ];

  // Every kind loops first, so that every shared call site has seen them all.
  for (let r = 0; r < 3; r++) for (const row of rows) row.variants.bpfForEach!();

  console.log(`best of ${ROUNDS} rounds (process CPU time), node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}`);
  // After a list changed (a task re-attached to its cgroup before each loop): measured apart, since the
  // change ends the flattened walk for every variant measured after it in a round.
  rows.push(
    {
      kind: 'task',
      variants: {
        plain: rows.find((r) => r.kind === 'task')!.variants.plain!,
        'after change': () => { touch(); let n = 0; for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS)) if (t.pid >= 0) n++; return n; },
      },
    },
    {
      kind: 'css',
      variants: {
        plain: rows.find((r) => r.kind === 'css')!.variants.plain!,
        'after change': () => { touch(); let n = 0; for (const c of bpfForEach(iterCss, root, BPF_CGROUP_ITER_DESCENDANTS_PRE)) if (c.level >= 0) n++; return n; },
      },
    },
  );
  for (const row of rows) {
    // Samples of at least 100k objects, reported per pass (as pnpm bench's all-kinds rows).
    const reps = passesFor(Object.values(row.variants)[0]!);
    const timed = bestOf(Object.fromEntries(Object.entries(row.variants).map(([name, fn]) => [name, repeated(fn, reps)])), ROUNDS);
    const m = Object.fromEntries(Object.entries(timed).map(([name, x]) => [name, perPass(x, reps)]));
    const bases = (row.bases ?? ['plain']).filter((b) => m[b] !== undefined);
    for (const [name, x] of Object.entries(m)) {
      const ratio = bases.map((b) => `  ratio${bases.length > 1 ? ` to ${b}` : ''} ${(perSec(x) / perSec(m[b]!)).toFixed(3)}`).join('');
      console.log(`${row.kind.padEnd(11)} ${name.padEnd(12)} ${x.n.toLocaleString('en').padStart(10)} ${(perSec(x) / 1e6).toFixed(1).padStart(8)} M/s${ratio}`);
    }
  }

  // One subscription reduces N numbers; every source feeds the same rxjs reduce.
  let reduced = 0;
  const sum = (N * (N - 1)) / 2;
  const reduceOver = (src: Observable<number>): number => {
    src.pipe(reduce((a, i) => a + i, 0)).subscribe((v) => (reduced = v));
    if (reduced !== sum) throw new Error(`sum ${reduced}`);
    return N;
  };
  const rx = bestOf(
    {
      range: () => reduceOver(range(0, N)),
      fromIter: () => reduceOver(fromIter(iterNum, 0, N)),
      'bare source': () => reduceOver(new Observable<number>((s) => { for (let i = 0; i < N; i++) s.next(i); s.complete(); })),
    },
    ROUNDS,
  );
  for (const [name, x] of Object.entries(rx)) {
    console.log(`${'rx reduce'.padEnd(11)} ${name.padEnd(12)} ${x.n.toLocaleString('en').padStart(10)} ${(perSec(x) / 1e6).toFixed(1).padStart(8)} M/s  ratio ${(perSec(x) / perSec(rx.range!)).toFixed(3)}`);
  }
});
