/**
 * Benchmark of the kernel model: build a 1,000,000-task synthetic kernel
 * (250,000 processes of 4 threads, 16 files and 24 VMAs each) and walk it
 * with the core walkers, next to plain loops over arrays of the same size.
 *
 *   node --expose-gc --max-old-space-size=8192 --import tsx --conditions=@bpf-iter/source packages/core/bench/model.ts [processes]
 */
import { syntheticKernel, TaskFileWalker, TaskVmaWalker, TaskWalker } from '@bpf-iter/core';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const processes = Number(process.argv[2] ?? 250_000);

function rate(n: number, ms: number): string {
  return `${((n / ms) * 1000 / 1e6).toFixed(1)}M/s`;
}

gc();
const before = process.memoryUsage().heapUsed;
let t0 = performance.now();
const k = syntheticKernel({ seed: 7, processes, threadsPerProcess: 4, filesPerProcess: 16, vmasPerProcess: 24, sockets: 10_000 });
const buildMs = performance.now() - t0;
gc();
const bytes = process.memoryUsage().heapUsed - before;
console.log(`build: ${k.taskCount} tasks in ${(buildMs / 1000).toFixed(2)} s, ${(bytes / 1e6).toFixed(0)} MB heap, ${(bytes / k.taskCount).toFixed(0)} bytes/task`);

// Tasks: the core walker vs a plain loop over an array of the same count.
const arr = new Array<{ pid: number }>(k.taskCount);
for (let i = 0; i < arr.length; i++) arr[i] = { pid: i };
for (let round = 0; round < 3; round++) {
  t0 = performance.now();
  const w = new TaskWalker(k, { ns: k.initPidNs, type: 'ALL', pid: 0 });
  let n = 0;
  let sum = 0;
  for (let t = w.start(); t; t = w.next()) {
    n++;
    sum += t.pid;
  }
  w.stop();
  const walkMs = performance.now() - t0;
  t0 = performance.now();
  let s2 = 0;
  for (let i = 0; i < arr.length; i++) s2 += arr[i]!.pid;
  const loopMs = performance.now() - t0;
  console.log(`tasks: walker ${n} in ${walkMs.toFixed(0)} ms (${rate(n, walkMs)}), plain loop ${arr.length} in ${loopMs.toFixed(1)} ms (${rate(arr.length, loopMs)}), ratio ${(loopMs / walkMs).toFixed(3)} [${sum > 0 && s2 >= 0}]`);
}

t0 = performance.now();
const fw = new TaskFileWalker(k, { ns: k.initPidNs, type: 'ALL', pid: 0 });
let files = 0;
for (let e = fw.start(); e; e = fw.next()) files++;
fw.stop();
const filesMs = performance.now() - t0;
console.log(`task_file walker: ${files} files in ${filesMs.toFixed(0)} ms (${rate(files, filesMs)})`);

t0 = performance.now();
const vw = new TaskVmaWalker(k, { ns: k.initPidNs, type: 'ALL', pid: 0 });
let vmas = 0;
for (let e = vw.start(); e; e = vw.next()) vmas++;
vw.stop();
const vmaMs = performance.now() - t0;
console.log(`task_vma walker: ${vmas} VMAs in ${vmaMs.toFixed(0)} ms (${rate(vmas, vmaMs)})`);
console.log(`outstanding references after the walks: ${k.refs.outstanding}`);
