import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BPF_TASK_ITER_ALL_THREADS, defaultKernel, Kernel, syntheticKernel, withKernel, type Task } from '@bpf-iter/core';
import { bpfForEach, iterKmemCache, iterTask } from '@bpf-iter/iter-kfuncs';
import { fromIter } from '@bpf-iter/iter-kfuncs/rx';
import { catTaskStates } from './helpers.js';
import {
  aggregate,
  defaultMetrics,
  DROPPED_SERIES,
  IterMetrics,
  parseSampleLine,
  recordSource,
  sampleLine,
  serveMetrics,
  SeriesSums,
  SeriesTexts,
  type Sample,
  type SampleSource,
} from '../src/index.js';

const byLabel = (snapSeries: { labels: Record<string, string>; value: number }[], k: string): Record<string, number> =>
  Object.fromEntries(snapSeries.map((s) => [s.labels[k]!, s.value]));

describe('sample lines', () => {
  it('round-trips names, labels with quotes/backslashes/newlines, and values', () => {
    const line = sampleLine('bpf_iter_x', { comm: 'a"b\\c\nd', tgid: 7 }, 2.5);
    expect(parseSampleLine(line)).toEqual({ name: 'bpf_iter_x', labels: { comm: 'a"b\\c\nd', tgid: '7' }, value: 2.5 });
    expect(parseSampleLine('up 1')).toEqual({ name: 'up', labels: {}, value: 1 });
    expect(parseSampleLine('# comment')).toBeNull();
    expect(parseSampleLine('   ')).toBeNull();
  });
  it('refuses what is not a sample with EINVAL, naming the line', () => {
    for (const bad of ['1abc 1', 'x{a=b} 1', 'x{a="b} 1', 'x abc', 'x', 'x{1a="v"} 1']) expect(() => parseSampleLine(bad)).toThrow(/^EINVAL: not a sample line/);
  });
});

describe('series sums', () => {
  const errorOf = (f: () => unknown): string | null => {
    try {
      f();
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  };
  const series = (samples: Sample[]) => [...aggregate(samples, new Map(), Infinity).metrics].map(([name, m]) => [name, m.series]);
  it('sums lines as parsing each line and summing would: same series, same values, the same EINVAL line by line', () => {
    // Lines that share a series text with different values, timestamps, stray whitespace, reordered labels and bad values.
    const part = fc.constantFrom('m', 'm{a="1"}', 'm{b="2",a="1"}', 'm{a="1",b="2"}', 'n{a="x y"}', 'n{a="q\\"z"}', ' m', 'm{a="1"}\t', '#m', '');
    const value = fc.constantFrom('1', '2.5', '-3', '1e3', 'NaN', '+Inf', 'x', '', ' ', '\t', '1 1700000000', '1\t', '0x10', '1-2');
    const line = fc.tuple(part, fc.constantFrom(' ', '  ', '\t', ''), value).map(([p, sp, v]) => `${p}${sp}${v}`);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const sums = new SeriesSums();
        const oneByOne: Sample[] = [];
        for (const l of lines) {
          const want = errorOf(() => {
            const s = parseSampleLine(l);
            if (s) oneByOne.push(s);
          });
          expect(errorOf(() => sums.addLine(l)), l).toBe(want);
        }
        expect(series(sums.samples())).toEqual(series(oneByOne));
      }),
      { numRuns: 2000 },
    );
  });
  it('sums a text cut anywhere into chunks as it sums its lines one by one, up to the same first EINVAL', () => {
    const part = fc.constantFrom('m', 'm1', 'm{a="1"}', 'm{b="2",a="1"}', 'n{a="x y"}', ' m', '#m', '');
    const value = fc.constantFrom('1', '1', '22', '2.5', '1e3', '1234567890123456789', 'NaN', 'x', '', '\t', '1 1700000000', '1\r');
    const line = fc.tuple(part, fc.constantFrom(' ', '  ', '\t', ''), value).map(([p, sp, v]) => `${p}${sp}${v}`);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 16 }), fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), (lines, cuts, lastNewline) => {
        const text = lines.join('\n') + (lastNewline && lines.length ? '\n' : '');
        const oneByOne: Sample[] = [];
        const want = errorOf(() => {
          for (const l of text.split('\n')) {
            const s = parseSampleLine(l);
            if (s) oneByOne.push(s);
          }
        });
        const sums = new SeriesSums();
        const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const got = errorOf(() => {
          let rest = '';
          let from = 0;
          for (const c of [...at, text.length]) {
            rest = sums.addText(rest + text.slice(from, c));
            from = c;
          }
          if (rest !== '') sums.addLine(rest);
        });
        expect(got).toBe(want);
        if (want === null) expect(series(sums.samples())).toEqual(series(oneByOne));
      }),
      { numRuns: 2000 },
    );
  });
  it('series texts kept between collections: each collection sums only its own lines, also past the cap', () => {
    for (const max of [1, 2, 50_000]) {
      const texts = new SeriesTexts(max);
      const collect = (lines: string[]) => {
        const sums = new SeriesSums(texts);
        sums.addText(lines.map((l) => `${l}\n`).join(''));
        return sums.samples();
      };
      const lines = ['a{x="1"} 1', 'b 2', 'a{x="1"} 3', 'a{x="2"} 4', 'b 5'];
      const want = [
        { name: 'a', labels: { x: '1' }, value: 4 },
        { name: 'a', labels: { x: '2' }, value: 4 },
        { name: 'b', labels: {}, value: 7 },
      ];
      expect(collect(lines), `max ${max}`).toEqual(want);
      expect(collect(lines), `max ${max}, again`).toEqual(want);
      expect(collect(['b 1']), `max ${max}, fewer`).toEqual([{ name: 'b', labels: {}, value: 1 }]);
      expect(() => collect(['b 1', 'b x']), `max ${max}, bad`).toThrow(/^EINVAL: not a sample line \(value\)/);
    }
  });
  it('keeps one object per series however many lines add to it', () => {
    const sums = new SeriesSums();
    for (let i = 0; i < 1000; i++) sums.addLine(`bytes{comm="a"} ${i}`);
    sums.addLine('bytes{comm="b"} 7');
    expect(sums.samples()).toEqual([
      { name: 'bytes', labels: { comm: 'a' }, value: 499_500 },
      { name: 'bytes', labels: { comm: 'b' }, value: 7 },
    ]);
    expect(() => sums.addLine('bytes{comm="a"} 1x')).toThrow(/^EINVAL: not a sample line \(value\)/);
  });
});

describe('aggregation and caps', () => {
  const s = (name: string, v: number, k = 'a'): Sample => ({ name, labels: { k }, value: v });
  it('sums one series, keeps the top N, counts what the cap dropped', () => {
    const infos = new Map([['m', { name: 'm', help: 'h', topN: 2 }]]);
    const agg = aggregate([s('m', 1, 'a'), s('m', 1, 'a'), s('m', 5, 'b'), s('m', 3, 'c'), s('m', 1, 'd')], infos, 1000);
    expect(agg.metrics.get('m')!.series).toEqual([
      { labels: { k: 'b' }, value: 5 },
      { labels: { k: 'c' }, value: 3 },
    ]);
    expect(agg.dropped.get('m')).toBe(2);
    const capped = aggregate([s('n', 1, 'a'), s('n', 2, 'b'), s('n', 3, 'c')], new Map(), 1);
    expect(capped.metrics.get('n')!.series).toEqual([{ labels: { k: 'c' }, value: 3 }]);
    expect(capped.dropped.get('n')).toBe(2);
  });
});

describe('any iterator stream as metrics', () => {
  // The open-coded task iterator starts at init_task (the idle task, pid 0), which the task target's pid walk never visits.
  const states = (t: Task) => (t.pid === 0 ? null : { state: t.state });
  it('an open-coded loop, an Observable and the default task program count the same tasks by state as `cat task`', async () => {
    const kernel = defaultKernel();
    const spec = [{ name: 'tasks', help: 'tasks by state', labels: states }];
    const loop = new IterMetrics([recordSource(() => bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_THREADS), spec)]);
    const rx = new IterMetrics([recordSource(() => fromIter(iterTask, null, BPF_TASK_ITER_ALL_THREADS), spec)]);
    const prog = new IterMetrics([defaultMetrics(() => kernel)]);
    const a = byLabel((await loop.read()).metrics.get('tasks')!.series, 'state');
    const b = byLabel((await rx.read()).metrics.get('tasks')!.series, 'state');
    const c = byLabel((await prog.read()).metrics.get('bpf_iter_tasks')!.series, 'state');
    const cat = await catTaskStates('synthetic');
    expect(Object.keys(cat).length).toBeGreaterThan(1);
    expect(a).toEqual(cat);
    expect(b).toEqual(cat);
    expect(c).toEqual(cat);
  });

  it('an unknown value (null) is left out, not counted as 0', async () => {
    const src = recordSource(() => [1, null, 3], [{ name: 'v', help: 'v', value: (x: number | null) => x }]);
    const snap = await new IterMetrics([src]).read();
    expect(snap.metrics.get('v')!.series).toEqual([{ labels: {}, value: 4 }]);
    const counted = await new IterMetrics([recordSource(() => [null], [{ name: 'v', help: 'v', value: (x: null) => x }])]).read();
    expect(counted.metrics.has('v')).toBe(false);
  });

  it('the default set reports per-process fds, VMAs, sockets; its slab objects equal the open-coded kmem_cache loop', async () => {
    const k = syntheticKernel({ seed: 3 });
    const snap = await new IterMetrics([defaultMetrics(() => k, { topN: 5 })]).read();
    for (const n of ['bpf_iter_process_fds', 'bpf_iter_process_vmas', 'bpf_iter_process_vma_bytes', 'bpf_iter_sockets', 'bpf_iter_kmem_cache_objects'])
      expect(snap.metrics.get(n)?.series.length, n).toBeGreaterThan(0);
    expect(snap.metrics.get('bpf_iter_process_fds')!.series.length).toBe(5);
    expect(snap.dropped.get('bpf_iter_process_fds')).toBeGreaterThan(0);
    const loop = recordSource(() => withKernel(k, () => [...bpfForEach(iterKmemCache)]), [
      { name: 'active', help: 'active objects', labels: (s) => ({ cache: s.name }), value: (s) => s.active_objs },
    ]);
    const want = byLabel((await new IterMetrics([loop]).read()).metrics.get('active')!.series, 'cache');
    expect(Object.keys(want).length).toBeGreaterThan(0);
    expect(byLabel(snap.metrics.get('bpf_iter_kmem_cache_active_objects')!.series, 'cache')).toEqual(want);
  });

  it('the default set counts a process holding 200,000 fds exactly, one sample per series', async () => {
    const k = new Kernel();
    const t = k.createTask({ comm: 'many', parent: k.initTask });
    const f = k.createFile('/dev/null');
    // Explicit fd numbers: the lowest-free-fd search would make setting up 200k fds quadratic.
    for (let i = 0; i < 200_000; i++) k.installFd(t, f, i);
    // Summed while read: one sample per series, not one per fd (200k samples once overflowed a spread call).
    const samples = await defaultMetrics(() => k).collect();
    const fds = samples.filter((s) => s.name === 'bpf_iter_process_fds');
    expect(fds).toEqual([{ name: 'bpf_iter_process_fds', labels: { tgid: String(t.tgid), comm: 'many' }, value: 200_000 }]);
    const snap = await new IterMetrics([defaultMetrics(() => k)]).read();
    expect(snap.metrics.get('bpf_iter_process_fds')!.series).toEqual([{ labels: { tgid: String(t.tgid), comm: 'many' }, value: 200_000 }]);
  }, 300_000);

  it('labels each process by its tgid and comm of the moment: a renamed process, two processes of one name, a comm with quotes', async () => {
    const k = new Kernel();
    const a = k.createTask({ comm: 'same', parent: k.initTask });
    const b = k.createTask({ comm: 'same', parent: k.initTask });
    const f = k.createFile('/dev/null');
    for (let i = 0; i < 3; i++) k.installFd(a, f);
    for (let i = 0; i < 2; i++) k.installFd(b, f);
    const fds = async () => (await new IterMetrics([defaultMetrics(() => k)], { cacheMs: 0 }).read()).metrics.get('bpf_iter_process_fds')!.series;
    expect(await fds()).toEqual([
      { labels: { tgid: String(a.tgid), comm: 'same' }, value: 3 },
      { labels: { tgid: String(b.tgid), comm: 'same' }, value: 2 },
    ]);
    a.comm = 'x"y\\z';
    expect(await fds()).toEqual([
      { labels: { tgid: String(a.tgid), comm: 'x"y\\z' }, value: 3 },
      { labels: { tgid: String(b.tgid), comm: 'same' }, value: 2 },
    ]);
  });

  it('reads at most once at a time and reuses a read within cacheMs', async () => {
    let now = 0;
    let runs = 0;
    const src: SampleSource = {
      metrics: [{ name: 'runs', help: 'runs' }],
      async collect() {
        runs++;
        await new Promise((r) => setTimeout(r, 5));
        return [{ name: 'runs', labels: {}, value: runs }];
      },
    };
    const im = new IterMetrics([src], { cacheMs: 100, now: () => now });
    const [x, y] = await Promise.all([im.read(), im.read()]);
    expect(x).toBe(y);
    expect(runs).toBe(1);
    now = 99;
    await im.read();
    expect(runs).toBe(1);
    now = 100;
    await im.read();
    expect(runs).toBe(2);
  });

  it('reports through OpenTelemetry instruments, including a metric first seen in a read', async () => {
    const { MetricReader } = await import('@opentelemetry/sdk-metrics');
    class Reader extends MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const reader = new Reader();
    const provider = new MeterProvider({ readers: [reader] });
    let n = 0;
    const im = new IterMetrics([{ metrics: [], collect: async () => [{ name: 'late', labels: { n: String(++n) }, value: 1 }] }], { cacheMs: 0 });
    im.register(provider.getMeter('t'));
    const names = async () => (await reader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
    expect(await names()).not.toContain('late');
    expect(await names()).toContain('late');
    im.unregister();
    await provider.shutdown();
  });
});

describe('serveMetrics', () => {
  it('answers a failed iteration with 500 and its errno line, never an empty page', async () => {
    const im = new IterMetrics([{ metrics: [{ name: 'x', help: 'x' }], collect: async () => Promise.reject(new Error('EACCES: target not readable')) }]);
    const srv = await serveMetrics(im, { listen: '127.0.0.1:0' });
    try {
      const r = await fetch(srv.url!);
      expect(r.status).toBe(500);
      expect(await r.text()).toContain('EACCES: target not readable');
      expect((await fetch(srv.url!.replace('/metrics', '/nope'))).status).toBe(404);
    } finally {
      await srv.close();
    }
  });
  it('refuses a bad --listen and --otlp with EINVAL', async () => {
    const im = new IterMetrics([]);
    await expect(serveMetrics(im, { listen: 'nope' })).rejects.toThrow(/^EINVAL: --listen/);
    await expect(serveMetrics(im, { listen: null, otlp: 'ftp://x' })).rejects.toThrow(/^EINVAL: --otlp/);
  });
  it('serves the cardinality cap count as bpf_iter_dropped_series', async () => {
    const src = recordSource(() => [1, 2, 3], [{ name: 'per_x', help: 'x', labels: (x: number) => ({ x }) }]);
    const srv = await serveMetrics(new IterMetrics([src], { maxSeries: 2 }), { listen: '127.0.0.1:0' });
    try {
      const t = await (await fetch(srv.url!)).text();
      expect(t.split('\n').filter((l) => l.startsWith('per_x{'))).toHaveLength(2);
      expect(t).toContain(`${DROPPED_SERIES}{metric="per_x"} 1`);
    } finally {
      await srv.close();
    }
  });
  it('serves a counter as a Prometheus counter with _total, its value the sum of the iteration', async () => {
    const src = recordSource(() => [5, 7], [{ name: 'cpu_ns', help: 'cpu', kind: 'counter', value: (x: number) => x }]);
    const srv = await serveMetrics(new IterMetrics([src]), { listen: '127.0.0.1:0' });
    try {
      const t = await (await fetch(srv.url!)).text();
      expect(t).toContain('# TYPE cpu_ns_total counter\ncpu_ns_total 12\n');
    } finally {
      await srv.close();
    }
  });
});
