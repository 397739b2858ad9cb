/**
 * Real parts: Debian's Prometheus scrapes `bpf-iter serve --kernel
 * synthetic` on loopback and the values read back through its HTTP API
 * equal what `bpf-iter cat task` counts; an OTLP/HTTP receiver on loopback
 * gets the push. Skips (with the reason in the title) where Prometheus is
 * not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catTaskStates } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const MAIN = 'packages/iter-programs/src/cli/main.ts';
const prom = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
const reason = prom.error ? `prometheus not installed (${(prom.error as NodeJS.ErrnoException).code}); .ci/run installs Debian's prometheus` : null;
const title = reason ? `Prometheus scrapes bpf-iter serve [skipped: ${reason}]` : 'Prometheus scrapes bpf-iter serve';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
    s.on('error', rej);
  });
}

/** Polls `fn` until it returns a value (at most `tries` times, `ms` apart). */
async function poll<T>(what: string, fn: () => Promise<T | undefined>, tries = 120, ms = 500): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(ms);
  }
  throw new Error(`${what}: gave up after ${tries} tries${last ? `: ${String(last)}` : ''}`);
}

interface OtlpGauge {
  name: string;
  gauge?: { dataPoints: { attributes: { key: string; value: { stringValue?: string } }[]; asDouble?: number; asInt?: string | number }[] };
}

describe.skipIf(reason !== null)(title, () => {
  let dir = '';
  let serve: ChildProcess | null = null;
  let prometheus: ChildProcess | null = null;
  let receiver: Server | null = null;
  let metricsUrl = '';
  let promPort = 0;
  let serveOut = '';
  const pushes: { resourceMetrics: { scopeMetrics: { metrics: OtlpGauge[] }[] }[] }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bpf-iter-prom-'));
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url === '/v1/metrics' && String(req.headers['content-type']).startsWith('application/json')) pushes.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', () => r()));
    const otlp = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/v1/metrics`;

    serve = spawn(process.execPath, ['--import', 'tsx', '--conditions=@bpf-iter/source', MAIN, 'serve', '--kernel', 'synthetic', '--listen', '127.0.0.1:0', '--otlp', otlp, '--otlp-interval', '500'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    serve.stdout!.on('data', (c) => (serveOut += c));
    serve.stderr!.on('data', (c) => (serveOut += c));
    metricsUrl = await poll('serve start', async () => /serving (http:\S+)/.exec(serveOut)?.[1]);

    promPort = await freePort();
    const target = new URL(metricsUrl).host;
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: bpf-iter\n    static_configs:\n      - targets: ['${target}']\n`);
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
  });

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    if (serve && serve.exitCode === null) {
      serve.kill('SIGTERM');
      await new Promise((r) => serve!.once('exit', r));
    }
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    if (prometheus && prometheus.exitCode === null) await new Promise((r) => prometheus!.once('exit', r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('returns bpf_iter_tasks by state equal to `bpf-iter cat task` counts on the same kernel', async () => {
    const expected = await catTaskStates('synthetic');
    const got = await poll('prometheus query', async () => {
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent('bpf_iter_tasks{job="bpf-iter"}')}`);
      const j = (await r.json()) as { data: { result: { metric: { state: string }; value: [number, string] }[] } };
      return j.data.result.length ? Object.fromEntries(j.data.result.map((x) => [x.metric.state, Number(x.value[1])])) : undefined;
    });
    expect(got).toEqual(expected);
    const up = await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=up`)).json();
    expect((up as { data: { result: { value: [number, string] }[] } }).data.result[0]!.value[1]).toBe('1');
  });

  it('pushes OTLP/HTTP to a loopback receiver with the same task counts', async () => {
    const expected = await catTaskStates('synthetic');
    const points = await poll('OTLP push', async () => {
      for (const p of pushes)
        for (const rm of p.resourceMetrics)
          for (const sm of rm.scopeMetrics)
            for (const m of sm.metrics) if (m.name === 'bpf_iter_tasks' && m.gauge?.dataPoints.length) return m.gauge.dataPoints;
      return undefined;
    });
    const got = Object.fromEntries(points.map((d) => [d.attributes.find((a) => a.key === 'state')!.value.stringValue!, Number(d.asDouble ?? d.asInt)]));
    expect(got).toEqual(expected);
  });

  it('stops cleanly on SIGTERM', async () => {
    serve!.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => (serve!.exitCode !== null ? r(serve!.exitCode) : serve!.once('exit', (c) => r(c))));
    expect(code, serveOut).toBe(0);
  });
});
