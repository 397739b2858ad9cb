/**
 * The cost of constructing and destroying one `bpfForEach` loop, which
 * dominates short loops (a cgroup's few tasks, a process's few VMAs), after
 * every kind has looped in this process:
 *
 *   npx tsx --conditions=@bpf-iter/source packages/iter-kfuncs/bench/ctor.ts
 *
 * Rows, in nanoseconds per loop (best of ROUNDS, default 10, process CPU
 * time, samples of 200k loops; `ONLY=regex` picks rows):
 * - `css_task plain` / `css_task walker` / `css_task bpfForEach`: the root
 *   cgroup's tasks, a plain loop over them in an array, core's walker by
 *   hand, and the loop (the all-kinds row);
 * - `empty bpfFor(0, 0)`: a loop of num's that yields nothing, the bare
 *   construction + destroy;
 * - `failed css_task`: a loop whose constructor fails (EINVAL flags);
 * - `task_vma per process`: one loop per process over its VMAs.
 */
import { loadavg } from 'node:os';
import { CssTaskWalker, withKernel, type Task } from '@bpf-iter/core';
import { allKindsKernel, bestOf } from '../../../scripts/bench/lib.js';
import {
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_TASK_ITER_ALL_PROCS,
  BPF_TASK_ITER_ALL_THREADS,
  bpfFor,
  bpfForEach,
  iterBits,
  iterCss,
  iterCssTask,
  iterDmabuf,
  iterKmemCache,
  iterNum,
  iterTask,
  iterTaskVma,
} from '../src/index.js';

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const LOOPS = 200_000;
const kernel = allKindsKernel(100_000, 1_000);
const words = new BigUint64Array(16).fill(0xffff_ffff_ffff_ffffn);

withKernel(kernel, () => {
  const root = kernel.cgroupRoot;
  const members: Task[] = bpfForEach(iterCssTask, root, 0).toArray();
  const procs = bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS).toArray().filter((t) => t.mm !== null).slice(0, 1000);

  // Every kind loops first, so that the loop's shared call sites have seen them all.
  const warm = (): void => {
    let n = 0;
    for (const x of bpfForEach(iterNum, 0, 100)) n += x;
    for (const x of bpfForEach(iterBits, words, 16 * 64)) n += x;
    for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS)) n += t.pid;
    for (const p of procs) for (const v of bpfForEach(iterTaskVma, p, 0)) n += v.vm_start > 0 ? 1 : 0;
    for (const c of bpfForEach(iterCss, root, BPF_CGROUP_ITER_DESCENDANTS_PRE)) n += c.level;
    for (const t of bpfForEach(iterCssTask, root, 0)) n += t.pid;
    for (const c of bpfForEach(iterKmemCache)) n += c.size;
    for (const b of bpfForEach(iterDmabuf)) n += b.size;
    if (n < 0) throw new Error('unreachable');
  };
  for (let r = 0; r < 3; r++) warm();

  const variants: Record<string, () => number> = {
    'css_task plain': () => {
      let n = 0;
      for (let l = 0; l < LOOPS; l++) for (let i = 0; i < members.length; i++) if (members[i]!.pid >= 0) n++;
      return n;
    },
    // core's walker by hand: the walk itself, without the loop.
    'css_task walker': () => {
      let n = 0;
      for (let l = 0; l < LOOPS; l++) {
        const w = new CssTaskWalker(root, 0);
        for (let t = w.next(); t !== null; t = w.next()) if (t.pid >= 0) n++;
      }
      return n;
    },
    'css_task bpfForEach': () => {
      let n = 0;
      for (let l = 0; l < LOOPS; l++) for (const t of bpfForEach(iterCssTask, root, 0)) if (t.pid >= 0) n++;
      return n;
    },
    'empty bpfFor(0, 0)': () => {
      let n = 0;
      for (let l = 0; l < LOOPS; l++) for (const i of bpfFor(0, 0)) n += i;
      return n + LOOPS;
    },
    'failed css_task': () => {
      let n = 0;
      // A BpfError (with its stack) per construction: far fewer loops.
      for (let l = 0; l < LOOPS / 50; l++) for (const t of bpfForEach(iterCssTask, root, 2)) if (t.pid >= 0) n++;
      return n + LOOPS / 50;
    },
    'task_vma per process': () => {
      let n = 0;
      for (let l = 0; l < LOOPS / procs.length; l++) for (const p of procs) for (const v of bpfForEach(iterTaskVma, p, 0)) if (v.vm_end > v.vm_start) n++;
      return n;
    },
  };
  // ONLY=regex: just the rows it matches.
  const only = process.env.ONLY === undefined ? null : new RegExp(process.env.ONLY);
  const m = bestOf(Object.fromEntries(Object.entries(variants).filter(([name]) => only === null || only.test(name))), ROUNDS);
  console.log(`best of ${ROUNDS} rounds (process CPU time), node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}`);
  for (const [name, x] of Object.entries(m)) {
    const loops = name.startsWith('task_vma') ? Math.floor(LOOPS / procs.length) * procs.length : name.startsWith('failed') ? LOOPS / 50 : LOOPS;
    console.log(`${name.padEnd(22)} ${(x.ns / loops).toFixed(1).padStart(8)} ns/loop  ${(x.n / loops).toFixed(0).padStart(4)} objects/loop`);
  }
});
