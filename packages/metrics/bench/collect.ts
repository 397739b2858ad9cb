/**
 * Cost of one metrics collection on a synthetic kernel, against a baseline
 * measured in the same run on the same objects: tasks by state counted in a
 * plain open-coded loop (no samples, no OpenTelemetry).
 *
 *   pnpm example packages/metrics/bench/collect.ts [PROCESSES]
 */
import { BPF_TASK_ITER_ALL_THREADS, syntheticKernel, withKernel, type Task } from '@bpf-iter/core';
import { bpfForEach, iterTask } from '@bpf-iter/iter-kfuncs';
import { defaultMetrics, IterMetrics, programSource, recordSource, serveMetrics, tasksProgram } from '../src/index.js';

const processes = Number(process.argv[2] ?? 2000);
const kernel = syntheticKernel({ seed: 1, processes });
const tasks = withKernel(kernel, () => [...bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS)].length);

function best(label: string, objects: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  return (async () => {
    let bestS = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      await fn();
      bestS = Math.min(bestS, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    const rate = objects / bestS;
    console.log(`${label.padEnd(52)} ${(bestS * 1e3).toFixed(1).padStart(8)} ms  ${Math.round(rate).toLocaleString().padStart(12)} objects/s`);
    return rate;
  })();
}

console.log(`synthetic kernel: ${processes} processes, ${tasks} tasks`);
const base = await best('baseline: open-coded loop, count by state', tasks, () =>
  withKernel(kernel, () => {
    const c: Record<string, number> = {};
    for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS)) c[t.state] = (c[t.state] ?? 0) + 1;
    return c;
  }),
);
const loop = await best('recordSource over the loop (tasks by state)', tasks, () =>
  new IterMetrics([recordSource(() => withKernel(kernel, () => [...bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS)]), [{ name: 't', help: 't', labels: (t: Task) => ({ state: t.state }) }])], { cacheMs: 0 }).read(),
);
const prog = await best('iter/task program, sample lines (2 metrics)', tasks, () => new IterMetrics([programSource(tasksProgram, () => kernel)], { cacheMs: 0 }).read());
let samples = 0;
const counting = defaultMetrics(() => kernel);
const all = new IterMetrics([{ metrics: counting.metrics, collect: async () => { const s = await counting.collect(); samples = s.length; return s; } }], { cacheMs: 0 });
await all.read();
console.log(`default set: ${samples} samples per collection (one per task, fd, VMA (2), socket, slab cache (2))`);
const set = await best('default set, one collection (7 programs), per sample', samples, () => all.read());
const srv = await serveMetrics(new IterMetrics([defaultMetrics(() => kernel)], { cacheMs: 0 }), { listen: '127.0.0.1:0' });
const scrape = await best('default set, one /metrics scrape (HTTP + serializer), per sample', samples, async () => (await fetch(srv.url!)).text());
await srv.close();
console.log(`ratios to the baseline (objects/s): recordSource ${(loop / base).toFixed(3)}, task program ${(prog / base).toFixed(3)}, default set ${(set / base).toFixed(3)}, scrape ${(scrape / base).toFixed(3)}`);
