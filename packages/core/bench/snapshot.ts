/**
 * Benchmark of kernel snapshots, per size (default 100,000 and 1,000,000
 * tasks: processes of 4 threads, the synthetic default shape otherwise as
 * scripts/bench uses it): saves a synthetic kernel (the writer), loads it
 * back with `loadKernelSync` and `loadKernel`, next to the baseline of
 * gunzip + JSON.parse of every line of the same file (what any JSON Lines
 * reader pays before building anything). Each step runs in a child process
 * of its own, so its peak RSS is its own: printed next to the heap of the
 * model that was saved.
 *
 *   node --import tsx --conditions=@bpf-iter/source packages/core/bench/snapshot.ts [processes...]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { loadKernel, loadKernelSync, saveKernel, syntheticKernel } from '@bpf-iter/core';

/** The kernel a size stands for (the rows of scripts/bench/run.ts use the same). */
export function benchKernelOptions(processes: number) {
  return { seed: 7, processes, threadsPerProcess: 4, filesPerProcess: 16, vmasPerProcess: 24, sockets: 10_000 };
}

/** gunzip + JSON.parse of every line: the baseline. Returns the line count. */
export function parseLines(file: string): number {
  const buf = gunzipSync(readFileSync(file));
  let n = 0;
  for (let s = 0, nl = buf.indexOf(10); nl >= 0; s = nl + 1, nl = buf.indexOf(10, s)) {
    JSON.parse(buf.toString('utf8', s, nl));
    n++;
  }
  return n;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/** One step in this (child) process; prints its result as JSON. */
async function child(step: string, file: string, processes: number): Promise<void> {
  const h0 = heap();
  const t0 = performance.now();
  let r: Record<string, number>;
  if (step === 'save') {
    const k = syntheticKernel(benchKernelOptions(processes));
    const built = performance.now();
    const model = heap() - h0;
    const s0 = performance.now();
    await saveKernel(k, file);
    r = { buildMs: built - t0, saveMs: performance.now() - s0, tasks: k.taskCount, heap: model };
  } else if (step === 'parse') {
    const lines = parseLines(file);
    r = { ms: performance.now() - t0, lines };
  } else {
    const k = step === 'load' ? loadKernelSync(file) : await loadKernel(file);
    const ms = performance.now() - t0;
    r = { ms, tasks: k.taskCount, heap: heap() - h0 };
  }
  process.stdout.write(JSON.stringify({ ...r, maxRss: process.resourceUsage().maxRSS * 1024 }) + '\n');
}

function run(step: string, file: string, processes: number): Record<string, number> {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=12288', '--import', 'tsx', '--conditions=@bpf-iter/source', fileURLToPath(import.meta.url), '--child', step, file, String(processes)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (r.status !== 0) throw new Error(`${step}: exit ${r.status}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') await child(argv[1]!, argv[2]!, Number(argv[3]));
else {
  const sizes = argv.length ? argv.map(Number) : [25_000, 250_000];
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const rate = (n: number, ms: number) => `${(n / ms).toFixed(1)}k/s`;
  for (const processes of sizes) {
    const file = join(tmpdir(), `bpf-iter-bench-${process.pid}-${processes}.snap`);
    try {
      const save = run('save', file, processes);
      const size = statSync(file).size;
      const parse = run('parse', file, processes);
      const load = run('load', file, processes);
      const stream = run('stream', file, processes);
      const t = save.tasks!;
      console.log(`${t} tasks (${processes} processes), ${(size / 1e6).toFixed(1)} MB on disk, ${parse.lines} records; model heap ${mb(save.heap!)} (syntheticKernel built it in ${s(save.buildMs!)})`);
      console.log(`  save        ${s(save.saveMs!)}  ${rate(t, save.saveMs!)} tasks, ${rate(parse.lines!, save.saveMs!)} records`);
      console.log(`  baseline    ${s(parse.ms!)}  ${rate(parse.lines!, parse.ms!)} records (gunzip + JSON.parse of every line, nothing built)   peak RSS ${mb(parse.maxRss!)}`);
      for (const [name, l] of [['loadSync', load], ['loadStream', stream]] as const) {
        console.log(`  ${name.padEnd(10)}  ${s(l.ms!)}  ${rate(t, l.ms!)} tasks, ${rate(parse.lines!, l.ms!)} records, ratio to baseline ${(parse.ms! / l.ms!).toFixed(3)}   heap ${mb(l.heap!)} (${(l.heap! / save.heap!).toFixed(2)}x the model's), peak RSS ${mb(l.maxRss!)} (${(l.maxRss! / save.heap!).toFixed(2)}x)`);
      }
    } finally {
      rmSync(file, { force: true });
    }
  }
}
