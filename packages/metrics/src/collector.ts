/**
 * The collector: runs every source once per read (at most one read at a
 * time; a read finished less than `cacheMs` ago is reused), sums samples
 * per series, applies the top-N and cardinality caps, and reports the
 * result through OpenTelemetry observable instruments.
 */
import type { BatchObservableCallback, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import type { MetricInfo, SampleSource } from './records.js';
import type { Sample } from './samples.js';
import { SeriesSums, type Series } from './series.js';

/** Default most series one metric reports (the rest are dropped and counted). */
export const DEFAULT_MAX_SERIES = 1000;
/** Default reuse window of a finished read, in ms. */
export const DEFAULT_CACHE_MS = 1000;
/** The metric counting series the caps dropped, per metric. */
export const DROPPED_SERIES = 'bpf_iter_dropped_series';

/** The result of one read: per metric, its series (largest first when capped). */
export interface Snapshot {
  readonly metrics: ReadonlyMap<string, { info: MetricInfo; series: Series[] }>;
  /** Series the caps left out, per metric name. */
  readonly dropped: ReadonlyMap<string, number>;
  /** When the read finished (ms since the epoch). */
  readonly at: number;
}

/** Options of {@link IterMetrics}. */
export interface IterMetricsOptions {
  /** Most series per metric (default {@link DEFAULT_MAX_SERIES}). */
  maxSeries?: number;
  /** Reuse a read finished less than this many ms ago (default {@link DEFAULT_CACHE_MS}; 0: never). */
  cacheMs?: number;
  /** Clock (ms), for tests. */
  now?: () => number;
}

/** Sums samples into series per metric and applies `topN` and `maxSeries`. */
export function aggregate(samples: Iterable<Sample>, infos: ReadonlyMap<string, MetricInfo>, maxSeries: number): Omit<Snapshot, 'at'> {
  const sums = new SeriesSums();
  for (const s of samples) sums.add(s.name, s.labels, s.value);
  const metrics = new Map<string, { info: MetricInfo; series: Series[] }>();
  const dropped = new Map<string, number>();
  for (const [name, m] of sums.byName) {
    const info = infos.get(name) ?? { name, help: `${name} (from an iterator program)` };
    const cap = Math.min(info.topN ?? Infinity, maxSeries);
    let series: Series[];
    if (m.size > cap) {
      // Largest first; ties in label order (the map's keys, built once) so a capped set is the same every read.
      const byValue = [...m].sort(([ka, a], [kb, b]) => b.value - a.value || (ka < kb ? -1 : 1));
      dropped.set(name, m.size - cap);
      series = byValue.slice(0, cap).map(([, x]) => x);
    } else series = [...m.values()];
    metrics.set(name, { info, series });
  }
  return { metrics, dropped };
}

/**
 * Iterator results as OpenTelemetry metrics.
 * @example
 * const im = new IterMetrics([defaultMetrics(() => kernel)]);
 * im.register(meterProvider.getMeter('bpf-iter'));
 */
export class IterMetrics {
  private readonly infos = new Map<string, MetricInfo>();
  private readonly maxSeries: number;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private inflight: Promise<Snapshot> | null = null;
  private last: Snapshot | null = null;
  private meters: Registration[] = [];
  /** Reads run so far (each one a fresh iteration of every source). */
  reads = 0;

  constructor(
    readonly sources: readonly SampleSource[],
    opts: IterMetricsOptions = {},
  ) {
    this.maxSeries = opts.maxSeries ?? DEFAULT_MAX_SERIES;
    this.cacheMs = opts.cacheMs ?? DEFAULT_CACHE_MS;
    this.now = opts.now ?? Date.now;
    if (!Number.isInteger(this.maxSeries) || this.maxSeries < 1) throw new RangeError('maxSeries must be a positive integer');
    for (const s of sources) for (const m of s.metrics) this.infos.set(m.name, m);
    this.infos.set(DROPPED_SERIES, { name: DROPPED_SERIES, help: 'series left out of a metric by its top-N or the cardinality cap' });
  }

  /** The metrics known so far (declared ones, plus those programs emitted). */
  get metrics(): readonly MetricInfo[] {
    return [...this.infos.values()];
  }

  /** One read of every source: shared while it runs, reused for `cacheMs` after. */
  read(): Promise<Snapshot> {
    if (this.inflight) return this.inflight;
    if (this.last && this.now() - this.last.at < this.cacheMs) return Promise.resolve(this.last);
    const p = this.readOnce().finally(() => {
      this.inflight = null;
    });
    this.inflight = p;
    return p;
  }

  private async readOnce(): Promise<Snapshot> {
    const all: Sample[] = [];
    for (const s of this.sources) for (const x of await s.collect()) all.push(x);
    this.reads++;
    const agg = aggregate(all, this.infos, this.maxSeries);
    for (const [name, m] of agg.metrics) if (!this.infos.has(name)) this.addInfo(m.info);
    this.last = { ...agg, at: this.now() };
    return this.last;
  }

  private addInfo(info: MetricInfo): void {
    this.infos.set(info.name, info);
    // A metric first seen in a read is reported from the next collection on.
    for (const m of this.meters) this.instrument(m, info);
  }

  private instrument(m: Registration, info: MetricInfo): void {
    if (m.instruments.has(info.name)) return;
    const o = { description: info.help };
    m.instruments.set(info.name, info.kind === 'counter' ? m.meter.createObservableCounter(info.name, o) : m.meter.createObservableGauge(info.name, o));
    if (m.observed.length) {
      // A batch callback observes only the instruments it was added with: add it again with the new one.
      m.meter.removeBatchObservableCallback(m.cb, m.observed);
      m.observed = [...m.instruments.values()];
      m.meter.addBatchObservableCallback(m.cb, m.observed);
    }
  }

  /**
   * Creates an observable instrument per metric on `meter` and one batch
   * callback that reads (see {@link read}) and observes every series.
   * A failed read fails the collection (the exporter reports the error): never an empty answer.
   */
  register(meter: Meter): void {
    const entry: Registration = { meter, instruments: new Map(), observed: [], cb: async () => {} };
    entry.cb = async (result: BatchObservableResult): Promise<void> => {
      const snap = await this.read();
      for (const [name, m] of snap.metrics) {
        const inst = entry.instruments.get(name);
        if (!inst || !entry.observed.includes(inst)) continue;
        for (const s of m.series) result.observe(inst, s.value, s.labels);
      }
      const dropped = entry.instruments.get(DROPPED_SERIES)!;
      for (const [name, n] of snap.dropped) result.observe(dropped, n, { metric: name });
    };
    for (const info of this.infos.values()) this.instrument(entry, info);
    entry.observed = [...entry.instruments.values()];
    meter.addBatchObservableCallback(entry.cb, entry.observed);
    this.meters.push(entry);
  }

  /** Removes the callbacks {@link register} added (the instruments stay, unobserved). */
  unregister(): void {
    for (const m of this.meters) m.meter.removeBatchObservableCallback(m.cb, m.observed);
    this.meters = [];
  }
}

interface Registration {
  meter: Meter;
  instruments: Map<string, Observable>;
  observed: Observable[];
  cb: BatchObservableCallback;
}
