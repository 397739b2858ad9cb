/**
 * `bpf-iter serve`'s engine: an OpenTelemetry MeterProvider fed by an
 * {@link IterMetrics}, read by the Prometheus exporter behind an HTTP
 * `/metrics` endpoint and, optionally, pushed over OTLP/HTTP (JSON) on an
 * interval.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BpfError, fail } from '@bpf-iter/core';
import type { IterMetrics } from './collector.js';

/** Default `/metrics` address (the OpenTelemetry Prometheus exporter's port). */
export const DEFAULT_LISTEN = '127.0.0.1:9464';
/** Default OTLP push interval, ms. */
export const DEFAULT_OTLP_INTERVAL_MS = 10_000;

/** Options of {@link serveMetrics}. */
export interface ServeOptions {
  /** `HOST:PORT` for `/metrics` (port 0: any free one); null: no HTTP endpoint. */
  listen?: string | null;
  /** OTLP/HTTP metrics endpoint (`http://collector:4318/v1/metrics`). */
  otlp?: string;
  /** OTLP push interval in ms (default {@link DEFAULT_OTLP_INTERVAL_MS}). */
  otlpIntervalMs?: number;
  /** Where export errors go (default: nowhere). */
  onError?: (e: unknown) => void;
}

/** A running server; {@link close} stops everything it started. */
export interface MetricsServer {
  /** `http://HOST:PORT/metrics`, when listening. */
  readonly url: string | null;
  /** Stops the HTTP server, pushes a last OTLP export and shuts the MeterProvider down. Idempotent. */
  close(): Promise<void>;
}

/** Parses `HOST:PORT` (`[::1]:9464` for IPv6). EINVAL otherwise. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) fail('EINVAL', `--listen wants HOST:PORT, not '${s}'`);
  return { host: (m[1] ?? m[2])!, port };
}

function message(e: unknown): string {
  if (e instanceof BpfError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Starts serving `metrics`. Each scrape of `/metrics` is one collection
 * (a fresh iteration, shared and cached as {@link IterMetrics.read} says);
 * a failed iteration answers 500 with the error, never an empty page.
 * @example
 * const srv = await serveMetrics(new IterMetrics([defaultMetrics(() => kernel)]), { listen: '127.0.0.1:9464' });
 * // ... later
 * await srv.close();
 */
export async function serveMetrics(metrics: IterMetrics, o: ServeOptions = {}): Promise<MetricsServer> {
  const listen = o.listen === null ? null : parseListen(o.listen ?? DEFAULT_LISTEN);
  const readers: MetricReader[] = [];
  const prom = listen ? new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true }) : null;
  if (prom) readers.push(prom);
  if (o.otlp !== undefined) {
    let u: URL;
    try {
      u = new URL(o.otlp);
    } catch {
      fail('EINVAL', `--otlp wants an http(s) URL, not '${o.otlp}'`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') fail('EINVAL', `--otlp wants an http(s) URL, not '${o.otlp}'`);
    const interval = o.otlpIntervalMs ?? DEFAULT_OTLP_INTERVAL_MS;
    readers.push(new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: u.href }), exportIntervalMillis: interval, exportTimeoutMillis: Math.min(interval, 30_000) }));
  }
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'bpf-iter' }), readers });
  metrics.register(provider.getMeter('@bpf-iter/metrics'));

  let server: Server | null = null;
  let url: string | null = null;
  if (prom && listen) {
    const serializer = new PrometheusSerializer(undefined, undefined, undefined, undefined, true);
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('ENOENT: only /metrics is served\n');
        return;
      }
      prom.collect().then(
        ({ resourceMetrics, errors }) => {
          if (errors.length) {
            o.onError?.(errors[0]);
            res.writeHead(500, { 'content-type': 'text/plain' }).end(`${message(errors[0])}\n`);
          } else res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : serializer.serialize(resourceMetrics));
        },
        (e) => {
          o.onError?.(e);
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${message(e)}\n`);
        },
      );
    });
    const srv = server;
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(listen.port, listen.host, () => {
          srv.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      await provider.shutdown().catch(() => {});
      // EADDRINUSE / EACCES / EADDRNOTAVAIL, kept as the error's code (the CLI prints it first).
      throw Object.assign(new Error(`cannot listen on ${listen.host}:${listen.port}: ${message(e)}`), { code: (e as NodeJS.ErrnoException).code ?? 'EINVAL' });
    }
    const a = srv.address() as AddressInfo;
    url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics`;
  }

  let closing: Promise<void> | null = null;
  return {
    url,
    close() {
      closing ??= (async () => {
        if (server) {
          const s = server;
          s.closeAllConnections?.();
          await new Promise<void>((r) => s.close(() => r()));
        }
        await provider.forceFlush().catch((e) => o.onError?.(e));
        await provider.shutdown().catch((e) => o.onError?.(e));
        metrics.unregister();
      })();
      return closing;
    },
  };
}
