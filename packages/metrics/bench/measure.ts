/**
 * What one metrics collection costs next to what walking the same objects
 * costs, measured in the same process on the same kernel (CPU time, best
 * of rounds, the two sides alternating so load hits both alike). Used by
 * `bench/collect.ts` and `pnpm bench` (scripts/bench/run.ts, group metrics).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { Kernel } from '@bpf-iter/core';
import { parseIterSec } from '@bpf-iter/iter-programs';
import { kernelReader } from '../../iter-programs/src/cli/serve.js';
import { readToEnd } from '../../../scripts/bench/lib.js';
import { DEFAULT_PROGRAMS, defaultMetrics, IterMetrics } from '../src/index.js';

/** The targets the default set walks (one program each, in its order). */
export const DEFAULT_SET_TARGETS: readonly string[] = [...new Set(DEFAULT_PROGRAMS.map((p) => parseIterSec(p.sec)!.target))];

/** CPU ns of one side's best round and the objects (fds) it walked. */
export interface Cost {
  ns: number;
  n: number;
}

/** Collections as `bpf-iter serve` runs them, one per scrape: one IterMetrics over the default set, each call a fresh read of `kernel()`. */
export function defaultSetCollector(kernel: () => Kernel): () => Promise<number> {
  const im = new IterMetrics([defaultMetrics(kernel)], { cacheMs: 0 });
  return async () => {
    await im.read();
    return 0;
  };
}

/** The default dumpers of the default set's targets read to the end (64 KiB reads); returns the task_file lines (fds). */
export function dumpDefaultTargets(k: Kernel): number {
  let fds = 0;
  for (const t of DEFAULT_SET_TARGETS) {
    const lines = readToEnd(k, t, 65536).lines;
    if (t === 'task_file') fds = lines;
  }
  return fds;
}

/** Process CPU time of `fn`, in ns. */
async function cpuNs(fn: () => unknown): Promise<number> {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) * 1000;
}

/**
 * Best of `rounds` of each side (after one untimed round of each, unless
 * `warmUp` is false: smoke runs), sides alternating. Every side returns the fds it walked; the first side's
 * count of its best round is every side's `n` (the same objects: the
 * ratio of rates is the ratio of times).
 */
export async function compare(rounds: number, sides: Record<string, () => number | Promise<number>>, warmUp = true): Promise<Record<string, Cost>> {
  const best: Record<string, Cost> = {};
  for (let r = warmUp ? 0 : 1; r <= rounds; r++) {
    for (const [name, fn] of Object.entries(sides)) {
      let n = 0;
      const ns = await cpuNs(async () => (n = await fn()));
      if (r > 0 && (!best[name] || ns < best[name].ns)) best[name] = { ns, n };
    }
  }
  const n = Object.values(best)[0]!.n;
  for (const c of Object.values(best)) c.n = n;
  return best;
}

/** A model kernel with one process holding `fds` fds of one file (fd numbers given: no lowest-free search per fd). */
export function manyFdsKernel(fds: number): Kernel {
  const k = new Kernel();
  const t = k.createTask({ comm: 'many', parent: k.initTask });
  const f = k.createFile('/dev/null');
  for (let i = 0; i < fds; i++) k.installFd(t, f, i);
  return k;
}

/** Node's own walk of every fd on the host: readdir of each /proc/PID/fd and a readlink per fd (what a /proc-based exporter does). */
export function procFdWalk(): number {
  let n = 0;
  for (const pid of readdirSync('/proc')) {
    if (pid.charCodeAt(0) < 48 || pid.charCodeAt(0) > 57) continue;
    let names: string[];
    try {
      names = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const name of names) {
      try {
        readlinkSync(`/proc/${pid}/fd/${name}`);
        n++;
      } catch {
        /* closed since the readdir */
      }
    }
  }
  return n;
}

/**
 * On this host, with the kernel `bpf-iter serve --kernel host` reads per
 * scrape: the default set's collection, the default dumpers of the same
 * targets, and Node's own /proc fd walk.
 */
export async function hostSides(): Promise<Record<string, () => number | Promise<number>>> {
  const kernel = await kernelReader('host', DEFAULT_SET_TARGETS);
  return {
    dumps: () => dumpDefaultTargets(kernel()),
    collect: defaultSetCollector(kernel),
    procWalk: procFdWalk,
  };
}

/** On a model kernel with one process holding `fds` fds: the default set's collection and the default dumpers of the same targets. */
export function manyFdsSides(fds: number): Record<string, () => number | Promise<number>> {
  const k = manyFdsKernel(fds);
  return {
    dumps: () => dumpDefaultTargets(k),
    collect: defaultSetCollector(() => k),
  };
}
