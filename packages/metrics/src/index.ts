/**
 * @packageDocumentation
 * `@bpf-iter/metrics`: iterator results as OpenTelemetry metrics — any
 * iterator stream (open-coded loop, iterator program, Observable) as
 * observable gauges/counters, a default set over the built-in targets, and
 * {@link serveMetrics} (Prometheus `/metrics` and OTLP/HTTP push) behind
 * `bpf-iter serve`.
 */
export * from './samples.js';
export * from './series.js';
export * from './records.js';
export * from './collector.js';
export * from './program.js';
export * from './defaults.js';
export * from './serve.js';
