/**
 * Benchmark of the default dumpers read to the end through the seq_file
 * engine: task_file and task_vma on a synthetic kernel of 100,000 tasks and
 * 1,000,000 open files, next to `cat /proc/[0-9]*\/maps` on this host in the
 * same run. Prints lines/s, MB/s and the peak RSS growth while reading.
 *
 *   node --expose-gc --import tsx --conditions=@bpf-iter/source packages/iter-programs/bench/dumpers.ts [tasks]
 */
import { execSync } from 'node:child_process';
import { syntheticKernel } from '@bpf-iter/core';
// Shared with `pnpm bench` (scripts/bench/run.ts).
import { readToEnd as readKernelToEnd } from '../../../scripts/bench/lib.js';

const tasks = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const kernel = syntheticKernel({ seed: 3, processes: tasks, threadsPerProcess: 1, filesPerProcess: 10, vmasPerProcess: 24, sockets: 1000 });
gc();
const baseRss = process.memoryUsage().rss;

function readToEnd(target: string, readSize: number): { lines: number; bytes: number; s: number; peak: number } {
  const r = readKernelToEnd(kernel, target, readSize, baseRss);
  return { lines: r.lines, bytes: r.bytes, s: r.ns / 1e9, peak: r.peakRssGrowth };
}

function report(name: string, r: { lines: number; bytes: number; s: number; peak?: number }): void {
  const peak = r.peak === undefined ? '' : `, RSS growth ${(r.peak / 1e6).toFixed(1)} MB`;
  console.log(`${name.padEnd(34)} ${String(r.lines).padStart(9)} lines  ${(r.lines / r.s / 1e6).toFixed(2)} M lines/s  ${(r.bytes / r.s / 1e6).toFixed(1)} MB/s${peak}`);
}

console.log(`synthetic kernel: ${kernel.taskCount} tasks`);
for (const target of ['task_file', 'task_vma']) {
  for (const size of [4096, 65536]) {
    readToEnd(target, size); // warm-up
    report(`${target} (read ${size} B)`, readToEnd(target, size));
  }
}
// The host's own text: cat of every process's maps, same run.
const t0 = performance.now();
const out = execSync('cat /proc/[0-9]*/maps 2>/dev/null || true', { maxBuffer: 1 << 30, shell: '/bin/bash' });
const s = (performance.now() - t0) / 1000;
let lines = 0;
for (const b of out) if (b === 10) lines++;
report('host: cat /proc/[0-9]*/maps', { lines, bytes: out.length, s });
