/**
 * Benchmark of the num iterator against a plain `for` loop, in one run:
 *
 *   npx tsx --conditions=@bpf-iter/source packages/iter-kfuncs/bench/num.ts
 *
 * Each variant sums 0..N-1 with N = 8,388,608 (BPF_MAX_LOOPS, the largest
 * range one num iterator accepts), repeated; the best of several rounds is
 * reported as iterations/s with its ratio to the plain loop. Times are the
 * process's CPU time, which other load disturbs less than wall time; still,
 * prefer an idle machine (the load average is printed).
 * Targets: bpfForEach >= 1/8 of the plain loop, the direct trio >= 1/2,
 * fromIter + reduce >= rxjs range + reduce. Then every other kind runs a
 * loop in this process (task, task_vma, kmem_cache, css, bits) and
 * bpfForEach(iterNum) is measured again: a loop call site shared by many
 * kinds must stay fast.
 */
import {
  BPF_MAX_LOOPS,
  bpf_iter_num_destroy,
  bpf_iter_num_new,
  bpf_iter_num_next,
  bpfFor,
  bpfForEach,
  iterNum,
} from '../src/index.js';
import { fromIter } from '../src/rx.js';

import { loadavg } from 'node:os';
import { range, reduce } from 'rxjs';
import { syntheticKernel, withKernel } from '@bpf-iter/core';
import { iterBits, iterKmemCache, iterTask, iterTaskVma, BPF_TASK_ITER_ALL_THREADS } from '../src/index.js';

const N = BPF_MAX_LOOPS;
const ROUNDS = Number(process.env.ROUNDS ?? 15);

function plain(): number {
  let sum = 0;
  for (let i = 0; i < N; i++) sum += i;
  return sum;
}

function forEach(): number {
  let sum = 0;
  for (const i of bpfForEach(iterNum, 0, N)) sum += i;
  return sum;
}

function forLoop(): number {
  let sum = 0;
  for (const i of bpfFor(0, N)) sum += i;
  return sum;
}

function trio(): number {
  let sum = 0;
  const it = iterNum.alloc();
  bpf_iter_num_new(it, 0, N);
  let p: number | null;
  while ((p = bpf_iter_num_next(it)) !== null) sum += p;
  bpf_iter_num_destroy(it);
  return sum;
}

function rx(): number {
  let sum = 0;
  fromIter(iterNum, 0, N).subscribe((i) => (sum += i));
  return sum;
}

/** The same reduction through RxJS (both sources emit synchronously). */
let reduced = 0;
function rxReduce(): number {
  fromIter(iterNum, 0, N)
    .pipe(reduce((a, i) => a + i, 0))
    .subscribe((s) => (reduced = s));
  return reduced;
}
function rxRange(): number {
  range(0, N)
    .pipe(reduce((a, i) => a + i, 0))
    .subscribe((s) => (reduced = s));
  return reduced;
}

const expected = (N * (N - 1)) / 2;
const variants: [string, () => number][] = [
  ['plain for loop', plain],
  ['direct trio (while next !== null)', trio],
  ['for..of bpfForEach(iterNum, 0, N)', forEach],
  ['for..of bpfFor(0, N)', forLoop],
  ['fromIter(iterNum, 0, N).subscribe', rx],
  ['fromIter(iterNum, 0, N) + reduce', rxReduce],
  ['rxjs range(0, N) + reduce', rxRange],
];

// Warm-up: let every variant run to completion (including its destroy and
// the sum leaving the small-integer range) before timing anything.
for (let r = 0; r < 2; r++) for (const [, fn] of variants) fn();

const best = new Map<string, number>();
function measure(variants: [string, () => number][]): void {
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of variants) {
    // CPU time of this process (not wall time): less sensitive to other load.
    const t0 = process.cpuUsage();
    const s = fn();
    const d = process.cpuUsage(t0);
    const ns = (d.user + d.system) * 1000;
    if (s !== expected) throw new Error(`${name}: sum ${s}, expected ${expected}`);
    best.set(name, Math.min(best.get(name) ?? Infinity, ns));
  }
}
}
measure(variants);

// Every other built-in kind runs loops in this process; then num again.
const k = syntheticKernel({ seed: 2, processes: 200, threadsPerProcess: 2, filesPerProcess: 2, vmasPerProcess: 8, sockets: 10, containers: 0 });
withKernel(k, () => {
  for (let r = 0; r < 20; r++) {
    let n = 0;
    for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS)) {
      n += t.pid;
      if (t.mm) for (const v of bpfForEach(iterTaskVma, t, 0)) n += v.vm_end > v.vm_start ? 1 : 0;
    }
    for (const c of bpfForEach(iterKmemCache)) n += c.size;
    for (const b of bpfForEach(iterBits, [0xf0f0n, 0xffn], 2)) n += b;
    if (n < 0) throw new Error('unreachable');
  }
});
const afterName = 'for..of bpfForEach(iterNum), after all kinds';
// A loop compiled only now (forEach above was optimized while num was the only kind).
function afterFn(): number {
  let sum = 0;
  for (const i of bpfForEach(iterNum, 0, N)) sum += i;
  return sum;
}
variants.push([afterName, afterFn]);
for (let r = 0; r < 2; r++) afterFn();
measure([['plain for loop', plain], [afterName, afterFn]]);

const base = N / (best.get('plain for loop')! / 1e9);
console.log(`N = ${N} per run, best of ${ROUNDS} rounds, node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}`);
for (const [name] of variants) {
  const ips = N / (best.get(name)! / 1e9);
  console.log(`${name.padEnd(36)} ${(ips / 1e6).toFixed(1).padStart(8)} M it/s   ratio ${(ips / base).toFixed(3)}`);
}
