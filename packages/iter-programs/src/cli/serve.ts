/**
 * `bpf-iter serve`: iterator results as metrics — `/metrics` in the
 * Prometheus text format (each scrape a fresh iteration) and, with
 * `--otlp URL`, OTLP/HTTP pushes on an interval. The metrics SDK
 * (`@bpf-iter/metrics`, OpenTelemetry) is imported only when the command
 * runs, so no other command loads it.
 */
import { BpfError, fail, type BpfSourceOptions, type HostOptions, type Kernel } from '@bpf-iter/core';
import type { CliIo, KernelSpec } from './common.js';
import { isBpfObjectFile } from './real.js';

// The command's options are defined in `cli.ts`; this module, the sources, `common.js`
// (programs, targets, links) and the metrics SDK are imported when `serve` runs.

/** Options of `serve` (commander's parsed options). */
export interface ServeCliOptions {
  listen: string;
  kernel?: string;
  program?: string;
  prog?: string;
  set?: string[];
  pid?: number;
  tid?: number;
  otlp?: string;
  otlpInterval: number;
  maxSeries: number;
  top: number;
  cacheMs: number;
}

/** The targets the default metric set walks. */
const DEFAULT_TARGETS = ['task', 'task_file', 'task_vma', 'tcp', 'udp', 'unix', 'kmem_cache'];

function union<T extends object>(parts: T[]): T {
  const o: Record<string, boolean> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p)) o[k] = o[k] || v === true;
  return o as T;
}

/**
 * The kernel of each collection: a synthetic kernel is built once (the
 * same objects every scrape), `host` and `bpf` are read afresh each time,
 * only for what `targets` walk (`host` lazily: /proc as the programs walk it). Never silently empty: a bpf read that
 * skipped a target is an error.
 */
export async function kernelReader(spec: KernelSpec, targets: readonly string[]): Promise<() => Kernel> {
  const { bpfOptionsFor, hostOptionsFor, kernelCache } = await import('./common.js');
  const { readBpfWithReport, openHost } = await import('@bpf-iter/core');
  if (spec === 'host') {
    const o: HostOptions = { ...union(targets.map(hostOptionsFor)), vmFlags: false };
    // Lazy: each fd table and address space is read as a program walks it, fdinfo only when a program reads flags or pos.
    return () => openHost(o);
  }
  if (spec === 'bpf') {
    const o: BpfSourceOptions = union(targets.map(bpfOptionsFor));
    return () => {
      const { kernel, report } = readBpfWithReport(o);
      const bad = report.skipped[0];
      if (bad) throw new BpfError(bad.errno, bad.message.startsWith(`${bad.target}: `) ? bad.message : `${bad.target}: ${bad.message}`);
      return kernel;
    };
  }
  const k = kernelCache().get(spec);
  return () => k;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Waits for SIGINT/SIGTERM in place of the bin's handlers (which exit at
 * once), so serve can shut down cleanly; the first signal gives them back,
 * so a second one during shutdown exits at once (128+signal). `release()`
 * gives them back too.
 */
function takeStopSignals(): { stopped: Promise<string>; release(): void } {
  const saved = STOP_SIGNALS.map((sig) => [sig, process.listeners(sig)] as const);
  let resolve!: (sig: string) => void;
  const stopped = new Promise<string>((r) => (resolve = r));
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    for (const [sig, ls] of saved) {
      process.removeListener(sig, on);
      for (const l of ls) process.on(sig, l as never);
    }
  };
  const on = (sig: string): void => {
    release();
    resolve(sig);
  };
  for (const [sig] of saved) {
    process.removeAllListeners(sig);
    process.on(sig, on);
  }
  return { stopped, release };
}

/**
 * `bpf-iter serve`: runs until SIGINT/SIGTERM (or `stop` resolves), then
 * stops everything it started and returns (exit 0: stopping is how serve ends).
 */
export async function serve(io: CliIo, o: ServeCliOptions, stop?: Promise<unknown>): Promise<void> {
  const m = await import('@bpf-iter/metrics').catch((e: unknown) => {
    throw new BpfError('ENOENT', `bpf-iter serve needs @bpf-iter/metrics (npm install @bpf-iter/metrics): ${(e as Error).message}`);
  });
  if (o.top < 1 || o.maxSeries < 1) fail('EINVAL', '--top and --max-series must be at least 1');
  const { attachWith, paramsFromOpts, parseKernelSpec } = await import('./common.js');
  const cleanups: (() => void)[] = [];
  try {
    let source;
    if (o.program === undefined) {
      if (o.prog !== undefined || o.set?.length || o.pid !== undefined || o.tid !== undefined) fail('EINVAL', '--prog, --set, --pid and --tid apply to --program');
      source = m.defaultMetrics(await kernelReader(parseKernelSpec(o.kernel), DEFAULT_TARGETS), { topN: o.top });
    } else if (isBpfObjectFile(o.program)) {
      const { openCliObject, attachObjectProgram } = await import('./object.js');
      const { obj, prog } = openCliObject(io, o.program, o);
      cleanups.push(() => obj.close());
      const link = attachObjectProgram(obj, prog, o);
      cleanups.push(() => link.close());
      source = m.sessionSource(link);
    } else {
      const { loadProgramModule, openSkeleton } = await import('./run.js');
      const mp = await loadProgramModule(io, o.program, o.prog);
      const kernel = await kernelReader(parseKernelSpec(o.kernel), [mp.target]);
      const params = paramsFromOpts(o);
      source = {
        metrics: [],
        async collect() {
          const k = kernel();
          const skel = openSkeleton(mp, k, o.set ?? []);
          try {
            const link = attachWith(skel.prog, params, k);
            try {
              return m.readSamples(link.open());
            } finally {
              link.close();
            }
          } finally {
            skel.destroy();
          }
        },
      };
    }
    const im = new m.IterMetrics([source], { maxSeries: o.maxSeries, cacheMs: o.cacheMs });
    // The first iteration runs before listening: a program that cannot run fails here, with its errno.
    await im.read();
    const srv = await m.serveMetrics(im, {
      listen: o.listen,
      ...(o.otlp !== undefined ? { otlp: o.otlp, otlpIntervalMs: o.otlpInterval } : {}),
      onError: (e) => io.stderr.write(`bpf-iter: serve: ${e instanceof Error ? e.message : String(e)}\n`),
    });
    cleanups.push(() => void srv.close());
    io.stdout.write(`serving ${srv.url}${o.otlp !== undefined ? ` and pushing OTLP to ${o.otlp} every ${o.otlpInterval} ms` : ''}\n`);
    if (stop) await stop;
    else {
      const signals = takeStopSignals();
      cleanups.push(signals.release);
      await signals.stopped;
    }
    await srv.close();
  } finally {
    for (const c of cleanups.reverse()) c();
  }
}
