/**
 * Any iterator stream as samples: an open-coded loop (`bpfForEach`), an
 * async loop, an RxJS Observable (`fromIter`, `iterLines$`) or a plain
 * iterable, mapped record by record through {@link RecordMetric}s.
 */
import type { Labels, Sample } from './samples.js';
import { checkName } from './samples.js';

/** What a metric is: its name, help text and OpenTelemetry instrument kind. */
export interface MetricInfo {
  /** Prometheus name (`bpf_iter_tasks`); a counter gets `_total` from the exporter. */
  readonly name: string;
  readonly help: string;
  /** `gauge` (ObservableGauge, the default) or `counter` (ObservableCounter, monotonic). */
  readonly kind?: 'gauge' | 'counter';
  /** Keep only the N series with the largest values (e.g. top processes). */
  readonly topN?: number;
}

/** How one record adds to one metric. */
export interface RecordMetric<R> extends MetricInfo {
  /** The series' labels, or null when the record does not count here. */
  labels?(r: R): Record<string, string | number> | null;
  /** What the record adds (default 1: a count). null/undefined: unknown, so left out — never counted as 0. */
  value?(r: R): number | null | undefined;
}

/** Something subscribable (an RxJS Observable or anything with its shape). */
export interface Subscribable<R> {
  subscribe(o: { next: (v: R) => void; error: (e: unknown) => void; complete: () => void }): { unsubscribe(): void };
}

/** A stream of records: sync or async iterable, or Observable. */
export type RecordStream<R> = Iterable<R> | AsyncIterable<R> | Subscribable<R>;

/** Where samples come from: the metrics it declares and a fresh read each call. */
export interface SampleSource {
  /** Metrics known before the first read (a program's may appear only when it runs). */
  readonly metrics: readonly MetricInfo[];
  /** One fresh iteration. */
  collect(): Promise<Sample[]>;
}

/**
 * Runs `fn` on every record of the stream; resolves when it ends. A loop is
 * closed (its `return()`), an Observable unsubscribed, when `fn` throws.
 */
export async function forEachRecord<R>(stream: RecordStream<R>, fn: (r: R) => void): Promise<void> {
  if (typeof (stream as Subscribable<R>).subscribe === 'function') {
    const obs = stream as Subscribable<R>;
    await new Promise<void>((resolve, reject) => {
      let sub: { unsubscribe(): void } | undefined;
      let done = false;
      const finish = (e?: unknown): void => {
        if (done) return;
        done = true;
        sub?.unsubscribe();
        if (e === undefined) resolve();
        else reject(e);
      };
      sub = obs.subscribe({
        next: (v) => {
          if (done) return;
          try {
            fn(v);
          } catch (e) {
            finish(e);
          }
        },
        error: (e) => finish(e ?? new Error('observable failed')),
        complete: () => finish(),
      });
      if (done) sub.unsubscribe();
    });
    return;
  }
  if (Symbol.asyncIterator in (stream as object)) {
    for await (const r of stream as AsyncIterable<R>) fn(r);
    return;
  }
  for (const r of stream as Iterable<R>) fn(r);
}

/**
 * A {@link SampleSource} over records: each collection opens a fresh
 * stream with `open()` and maps every record through `metrics`.
 * @example
 * import { bpfForEach, bpf_iter_task } from '@bpf-iter/iter-kfuncs';
 * const src = recordSource(() => bpfForEach(bpf_iter_task, null, BPF_TASK_ITER_ALL_THREADS), [
 *   { name: 'tasks', help: 'tasks by state', labels: (t) => ({ state: t.state }) },
 * ]);
 */
export function recordSource<R>(open: () => RecordStream<R>, metrics: readonly RecordMetric<R>[]): SampleSource {
  for (const m of metrics) checkName(m.name);
  return {
    metrics,
    async collect() {
      const out: Sample[] = [];
      await forEachRecord(open(), (r) => {
        for (const m of metrics) {
          const labels = m.labels ? m.labels(r) : {};
          if (labels === null) continue;
          const value = m.value ? m.value(r) : 1;
          if (value === null || value === undefined) continue;
          out.push({ name: m.name, labels: stringLabels(labels), value });
        }
      });
      return out;
    },
  };
}

function stringLabels(l: Record<string, string | number>): Labels {
  const o: Record<string, string> = {};
  for (const k of Object.keys(l)) o[k] = String(l[k]);
  return o;
}
