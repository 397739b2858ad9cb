/**
 * Benchmark of kernel snapshots: save a synthetic kernel of N tasks
 * (default 1,000,000: 250,000 processes of 4 threads), load it back with
 * `loadKernelSync`, next to the baseline of gunzip + JSON.parse of the same
 * lines (what any JSON Lines reader pays before building anything). Prints
 * records/s, the ratio, and the heap of the loaded kernel next to the
 * heap of the kernel that was saved.
 *
 *   node --expose-gc --max-old-space-size=8192 --import tsx --conditions=@bpf-iter/source packages/core/bench/snapshot.ts [processes]
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadKernelSync, saveKernel, syntheticKernel, type Kernel } from '@bpf-iter/core';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const processes = Number(process.argv[2] ?? 250_000);
const file = join(tmpdir(), `bpf-iter-bench-${process.pid}.snap`);

const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const h0 = heap();
let k: Kernel | null = syntheticKernel({ seed: 7, processes, threadsPerProcess: 4, filesPerProcess: 16, vmasPerProcess: 24, sockets: 10_000 });
const modelBytes = heap() - h0;
const tasks = k.taskCount;
let t0 = performance.now();
await saveKernel(k, file);
const saveMs = performance.now() - t0;
k = null;
const size = statSync(file).size;
console.log(`save: ${tasks} tasks in ${(saveMs / 1000).toFixed(2)} s, ${(size / 1e6).toFixed(1)} MB on disk; model heap ${(modelBytes / 1e6).toFixed(0)} MB`);

// Baseline: gunzip + JSON.parse of every line, nothing built.
const h1 = heap();
t0 = performance.now();
const buf = gunzipSync(readFileSync(file));
let lines = 0;
for (let s = 0, nl = buf.indexOf(10); nl >= 0; s = nl + 1, nl = buf.indexOf(10, s)) {
  JSON.parse(buf.toString('utf8', s, nl));
  lines++;
}
const parseMs = performance.now() - t0;
void h1;

t0 = performance.now();
let loaded: Kernel | null = loadKernelSync(file);
const loadMs = performance.now() - t0;
const loadedBytes = heap() - h1;
const rate = (n: number, ms: number) => `${((n / ms) * 1000 / 1e6).toFixed(2)}M records/s`;
console.log(`load: ${loaded.taskCount} tasks, ${lines} records in ${(loadMs / 1000).toFixed(2)} s (${rate(lines, loadMs)}); baseline gunzip+JSON.parse ${(parseMs / 1000).toFixed(2)} s (${rate(lines, parseMs)}); ratio ${(parseMs / loadMs).toFixed(3)}`);
console.log(`memory: loaded kernel heap ${(loadedBytes / 1e6).toFixed(0)} MB vs the saved model's ${(modelBytes / 1e6).toFixed(0)} MB (${(loadedBytes / modelBytes).toFixed(2)}x)`);
loaded = null;
rmSync(file, { force: true });
