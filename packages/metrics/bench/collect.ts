/**
 * Cost of one metrics collection against baselines measured in the same run
 * on the same objects:
 * - a synthetic kernel: tasks by state counted in a plain open-coded loop
 *   (no samples, no OpenTelemetry), then the default set and a scrape;
 * - a model kernel with one process holding FDS fds: the default set next to
 *   the default dumpers of the same targets (`cat task_file` and the rest);
 * - this host with HOST_FDS extra fds held by helper processes (Linux only):
 *   the default set over the kernel `bpf-iter serve --kernel host` reads,
 *   next to the same dumps and to Node's own /proc fd walk.
 *
 *   pnpm example packages/metrics/bench/collect.ts [PROCESSES] [FDS] [HOST_FDS]
 */
import { BPF_TASK_ITER_ALL_THREADS, syntheticKernel, withKernel, type Task } from '@bpf-iter/core';
import { bpfForEach, iterTask } from '@bpf-iter/iter-kfuncs';
import { existsSync } from 'node:fs';
import { startHolders } from '../../../scripts/bench/lib.js';
import { defaultMetrics, IterMetrics, programSource, recordSource, serveMetrics, tasksProgram } from '../src/index.js';
import { compare, hostSides, manyFdsSides, type Cost } from './measure.js';

const processes = Number(process.argv[2] ?? 2000);
const manyFds = Number(process.argv[3] ?? 200_000);
const hostFds = Number(process.argv[4] ?? 100_000);
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
console.log(`default set: ${samples} series per collection (the programs' lines summed per series as they are read)`);
const set = await best('default set, one collection (7 programs), per series', samples, () => all.read());
const srv = await serveMetrics(new IterMetrics([defaultMetrics(() => kernel)], { cacheMs: 0 }), { listen: '127.0.0.1:0' });
const scrape = await best('default set, one /metrics scrape (HTTP + serializer), per series', samples, async () => (await fetch(srv.url!)).text());
await srv.close();
console.log(`ratios to the baseline (objects/s): recordSource ${(loop / base).toFixed(3)}, task program ${(prog / base).toFixed(3)}, default set ${(set / base).toFixed(3)}, scrape ${(scrape / base).toFixed(3)}`);

const fdsPerSec = (c: Cost) => Math.round(c.n / (c.ns / 1e9)).toLocaleString('en');
const show = (label: string, c: Cost, base?: Cost) =>
  console.log(`${label.padEnd(64)} ${(c.ns / 1e6).toFixed(1).padStart(8)} ms CPU ${fdsPerSec(c).padStart(12)} fds/s${base ? `  ratio ${(base.ns / c.ns).toFixed(3)}` : ''}`);

console.log(`model kernel: one process holding ${manyFds.toLocaleString('en')} fds (CPU time, best of 5)`);
const m = await compare(5, manyFdsSides(manyFds));
show('baseline: default dumpers of the 7 targets (task_file and the rest)', m.dumps!);
show('default set, one collection', m.collect!, m.dumps);

if (existsSync('/proc/self/fd')) {
  const helpers = await startHolders(0, hostFds);
  try {
    const h = await compare(3, await hostSides());
    console.log(`this host, ${hostFds.toLocaleString('en')} extra fds held (${h.dumps!.n.toLocaleString('en')} fds in all; CPU time, best of 3)`);
    show('baseline: Node readdir + readlink of every /proc/PID/fd entry', h.procWalk!);
    show('baseline: serve\'s host kernel + the 7 default dumpers', h.dumps!);
    show('default set over serve\'s host kernel, one collection', h.collect!, h.dumps);
    console.log(`ratio to the /proc walk: ${(h.procWalk!.ns / h.collect!.ns).toFixed(3)}`);
  } finally {
    await Promise.all(helpers.map((x) => x.stop()));
  }
}
