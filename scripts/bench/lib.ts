/**
 * Shared pieces of the benchmarks: timing (CPU and wall, best of N), the
 * host helpers (command detection, a process holding extra threads or fds),
 * reading an iterator program to the end, and the result record with its
 * table / SVG renderings. Used by `scripts/bench/run.ts` (`pnpm bench`) and
 * by the per-package scripts under `packages/*\/bench/`.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { DmaBuf, KmemCache, syntheticKernel, type Kernel } from '@bpf-iter/core';
import { attachIter, defaultDumper, loadProgram } from '@bpf-iter/iter-programs';

/** One measurement: `n` objects (and `bytes`, if any) in `ns` nanoseconds. */
export interface Sample {
  ns: number;
  n: number;
  bytes?: number;
}

/** Objects per second of a sample. */
export const perSec = (s: Sample): number => s.n / (s.ns / 1e9);
/** MB (10^6 bytes) per second of a sample, or null without a byte count. */
export const mbPerSec = (s: Sample): number | null => (s.bytes === undefined ? null : s.bytes / 1e6 / (s.ns / 1e9));

/**
 * The kernel of the all-kinds loops (`pnpm bench`'s open-coded/all-kinds rows
 * and packages/iter-kfuncs/bench/kinds.ts): `tasks` threads (4 per process,
 * 8 VMAs each) plus `extra` slab caches, `extra` DMA buffers and `extra`
 * cgroups (100 per top-level one), so every kind loops over thousands.
 */
export function allKindsKernel(tasks: number, extra: number): Kernel {
  const kernel = syntheticKernel({ seed: 11, processes: tasks / 4, threadsPerProcess: 4, filesPerProcess: 4, vmasPerProcess: 8, sockets: 100, containers: 0 });
  for (let i = 0; i < extra; i++) kernel.addKmemCache(new KmemCache(`bench-${i}`, 64, 64, 8, 1, 1, 64, 1));
  for (let i = 0; i < extra; i++) kernel.addDmaBuf(new DmaBuf(4096, 'system', kernel.allocIno(), ''));
  for (let i = 0; i < extra / 100; i++) {
    const top = kernel.mkdirCgroup(kernel.cgroupRoot, `bench-${i}`);
    for (let j = 0; j < 99; j++) kernel.mkdirCgroup(top, `c${j}`);
  }
  return kernel;
}

/** Runs `fn` once and returns its process CPU time (user + system; less disturbed by other load than wall time). */
export function cpu(fn: () => number): Sample {
  const c0 = process.cpuUsage();
  const n = fn();
  const d = process.cpuUsage(c0);
  // A run shorter than the clock tick reads as 0: count it as one microsecond.
  return { ns: Math.max(1, d.user + d.system) * 1000, n };
}

/** Runs `fn` once and returns its wall time. */
export function wall(fn: () => number | { n: number; bytes?: number }): Sample {
  const t0 = process.hrtime.bigint();
  const r = fn();
  const ns = Math.max(1, Number(process.hrtime.bigint() - t0));
  return typeof r === 'number' ? { ns, n: r } : { ns, n: r.n, ...(r.bytes !== undefined ? { bytes: r.bytes } : {}) };
}

/**
 * How many passes of `fn` a sample needs to walk at least `min` objects:
 * two `process.cpuUsage()` calls read 2-4 us, which inflates a pass of tens
 * of microseconds by up to a quarter. Time {@link repeated} passes with
 * {@link bestOf}; report one pass with {@link perPass}.
 */
export function passesFor(fn: () => number, min = 100_000): number {
  return Math.max(1, Math.ceil(min / Math.max(1, fn())));
}

/** `fn` run `reps` times as one sample (its element counts summed). */
export function repeated(fn: () => number, reps: number): () => number {
  return () => {
    let n = 0;
    for (let r = 0; r < reps; r++) n += fn();
    return n;
  };
}

/** One pass of a sample of `reps` passes (see {@link passesFor}). */
export function perPass(x: Sample, reps: number): Sample {
  return { ns: x.ns / reps, n: x.n / reps };
}

/**
 * Interleaves the variants for `rounds` rounds after `warmup` untimed rounds
 * and keeps each one's fastest run (so a burst of load hits all variants
 * alike). Throws if a variant's element count changes between rounds.
 */
export function bestOf(variants: Record<string, () => number>, rounds: number, opts: { warmup?: number; clock?: 'cpu' | 'wall' } = {}): Record<string, Sample> {
  const measure = opts.clock === 'wall' ? wall : cpu;
  for (let r = 0; r < (opts.warmup ?? 2); r++) for (const fn of Object.values(variants)) fn();
  const best: Record<string, Sample> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      const m = measure(fn);
      const prev = best[name];
      if (prev && prev.n !== m.n) throw new Error(`${name}: ${m.n} elements, earlier ${prev.n}`);
      if (!prev || m.ns < prev.ns) best[name] = m;
    }
  }
  return best;
}

/** True when `cmd` is on PATH. */
export function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Runs a command to completion with its output captured; returns the output's line count and byte count. */
export function runCommand(cmd: string, args: string[]): { n: number; bytes: number } {
  const out = execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 });
  let n = 0;
  for (let i = 0; i < out.length; i++) if (out[i] === 10) n++;
  return { n, bytes: out.length };
}

/** Best wall time of a shell command over `rounds` runs (its output is captured, as a consumer would). */
export function bestCommand(cmd: string, args: string[], rounds: number): Sample {
  let best: Sample | null = null;
  for (let r = 0; r < rounds; r++) {
    const s = wall(() => runCommand(cmd, args));
    if (!best || s.ns < best.ns) best = s;
  }
  return best!;
}

/**
 * Best CPU time (user + system of the command and its children, as `times`
 * reports them) of a command over `rounds` runs, with its output discarded
 * and its lines counted in a separate run. CPU time is what a loaded machine
 * disturbs least; wall time is in `wallNs` (best of the same runs). bash's
 * `times` reads getrusage (1 ms); dash's, /bin/sh on Debian, counts clock
 * ticks (10 ms), too coarse for a 100 ms command.
 */
export function bestCommandCpu(cmd: string, args: string[], rounds: number): Sample & { wallNs: number } {
  const { n, bytes } = runCommand(cmd, args);
  let best = Infinity;
  let bestWall = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    const out = execFileSync('bash', ['-c', '"$0" "$@" > /dev/null; times', cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    bestWall = Math.min(bestWall, Number(process.hrtime.bigint() - t0));
    // `times`: the shell's user/system, then its children's ("0m1.234s 0m0.567s").
    const child = out.trim().split('\n').pop()!.trim().split(/\s+/);
    const sec = (t: string) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
    };
    const cpuNs = (sec(child[0]!) + sec(child[1]!)) * 1e9;
    if (!Number.isFinite(cpuNs)) throw new Error(`times printed '${out.trim()}'`);
    best = Math.min(best, Math.max(cpuNs, 1e6));
  }
  return { ns: best, n, bytes, wallNs: bestWall };
}

/** A helper process; `stop()` ends it and waits for its exit. */
export interface Helper {
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

function waitReady(child: ChildProcess, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (c) => reject(new Error(`${what} helper exited (${c}) before it was ready`)));
  });
}

function helper(child: ChildProcess): Helper {
  return {
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
        // Ending stdin lets it exit by itself; the signal is the fallback.
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/**
 * Starts a process holding `threads` sleeping threads and `fds` open
 * descriptors of /dev/null (python3, or node as a fallback); resolves once
 * they all exist. One process may hold at most `ulimit -n` fds (20,000
 * here), so callers split large fd counts over several helpers.
 */
export async function startHolder(threads: number, fds: number): Promise<Helper> {
  let child: ChildProcess;
  if (has('python3')) {
    const py = `import os,resource,sys,threading
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
fds = [os.open('/dev/null', os.O_RDONLY) for _ in range(${fds})]
ev = threading.Event()
ts = [threading.Thread(target=ev.wait, daemon=True) for _ in range(${threads})]
for t in ts: t.start()
print('ready', flush=True)
sys.stdin.read()
ev.set()`;
    child = spawn('python3', ['-c', py], { stdio: ['pipe', 'pipe', 'inherit'] });
  } else {
    // Node cannot raise its own fd limit: the caller's ulimit applies.
    const js = `const fs = require('node:fs'); const { Worker } = require('node:worker_threads');
const fds = []; for (let i = 0; i < ${fds}; i++) fds.push(fs.openSync('/dev/null', 'r'));
let up = 0; const n = ${threads}; if (n === 0) console.log('ready');
for (let i = 0; i < n; i++) new Worker('require("node:worker_threads").parentPort.postMessage(1); setInterval(()=>{},1e6)', { eval: true, resourceLimits: { maxOldGenerationSizeMb: 4 } }).once('message', () => { if (++up === n) console.log('ready'); });
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`;
    child = spawn(process.execPath, ['-e', js], { stdio: ['pipe', 'pipe', 'inherit'] });
  }
  await waitReady(child, 'holder');
  return helper(child);
}

/**
 * Starts helpers holding `threads` threads (one process) and `fds` fds in
 * total (other processes, at most `perChild` each). Threads and fds live in
 * different processes: `lsof` lists a process's fds once per thread, which
 * would turn 1,000 threads x 17,000 fds into 17M lines.
 */
export async function startHolders(threads: number, fds: number, perChild = 18_000): Promise<Helper[]> {
  const n = Math.max(1, Math.ceil(fds / perChild));
  const out: Helper[] = [];
  try {
    if (threads > 0) out.push(await startHolder(threads, 0));
    for (let i = 0; i < n; i++) {
      const f = Math.floor(fds / n) + (i < fds % n ? 1 : 0);
      out.push(await startHolder(0, f));
    }
  } catch (e) {
    await Promise.all(out.map((h) => h.stop()));
    throw e;
  }
  return out;
}

/**
 * Starts a python3 process holding `conns` established IPv4 TCP connections
 * over loopback (a listener on 127.0.0.1, `conns` clients and their accepted
 * peers: 2 x conns + 1 sockets), so the tcp rows have something to read.
 * The sockets close with SO_LINGER 0 (RST): no TIME_WAIT left for later runs.
 * Rejects without python3.
 */
export async function startTcpHolder(conns: number): Promise<Helper> {
  if (!has('python3')) throw new Error('python3 not installed');
  const py = `import resource,socket,struct,sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(4096)
socks = [ls]
for _ in range(${conns}):
    c = socket.create_connection(ls.getsockname()); a, _ = ls.accept(); socks += [c, a]
print('ready', flush=True)
sys.stdin.read()
for s in socks: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); s.close()`;
  const child = spawn('python3', ['-c', py], { stdio: ['pipe', 'pipe', 'inherit'] });
  await waitReady(child, 'tcp');
  return helper(child);
}

/** What {@link readToEnd} measured. */
export interface ReadResult {
  /** Lines (newlines) read. */
  lines: number;
  bytes: number;
  ns: number;
  /** Largest RSS above `baseRss` seen while reading (sampled about every MiB). */
  peakRssGrowth: number;
}

/**
 * Loads `target`'s default dumper on `kernel` (with `bss`, e.g. `{ family: 4 }`
 * for tcp), attaches it, and reads one session to the end with `read()`s of
 * `readSize` bytes into one buffer.
 */
export function readToEnd(kernel: Kernel, target: string, readSize: number, baseRss = process.memoryUsage().rss, bss?: Record<string, unknown>): ReadResult {
  const spec = defaultDumper(target) ?? fail(`no default dumper for ${target}`);
  const prog = loadProgram(spec, { kernel, ...(bss ? { globals: { bss: { ...bss } } } : {}) });
  const link = attachIter(prog, { kernel });
  prog.put();
  const it = link.open();
  const buf = Buffer.allocUnsafe(readSize);
  let bytes = 0;
  let lines = 0;
  let peak = 0;
  let nextSample = 0;
  const t0 = process.hrtime.bigint();
  try {
    for (let n; (n = it.readInto(buf)) > 0; ) {
      bytes += n;
      for (let i = 0; i < n; i++) if (buf[i] === 10) lines++;
      if (bytes >= nextSample) {
        nextSample = bytes + (1 << 20);
        peak = Math.max(peak, process.memoryUsage().rss - baseRss);
      }
    }
  } finally {
    it.close();
    link.close();
  }
  const ns = Number(process.hrtime.bigint() - t0);
  peak = Math.max(peak, process.memoryUsage().rss - baseRss);
  return { lines, bytes, ns, peakRssGrowth: peak };
}

function fail(msg: string): never {
  throw new Error(msg);
}

// ------------------------------------------------------------------ results

/** A rate: objects per second and, where bytes are produced, MB per second. */
export interface Rate {
  objectsPerSec: number;
  mbPerSec: number | null;
}

/** One row of the results. */
export interface WorkloadResult {
  /** Stable id, e.g. `open-coded/num/bpfForEach`. */
  id: string;
  group: 'open-coded' | 'programs' | 'host' | 'memory' | 'snapshots';
  /** What bpf-iter ran. */
  name: string;
  /** Objects per run (the unit named by `unit`). */
  objects: number;
  unit: string;
  rate: Rate;
  /** The baseline measured in the same run on the same objects. */
  baseline: { name: string; rate: Rate } | { name: string; skipped: string };
  /** bpf-iter's objects/s over the baseline's; null when the baseline was skipped. */
  ratio: number | null;
  /** The target: a minimum ratio or a minimum rate (objects/s), and whether it was met. */
  target?: { ratio?: number; rate?: number; met: boolean | null; text: string };
  /** Extra figures (peak RSS growth, counts, ...). */
  extra?: Record<string, number | string>;
}

/** A rate from a sample. */
export function rateOf(s: Sample): Rate {
  return { objectsPerSec: perSec(s), mbPerSec: mbPerSec(s) };
}

function fmtRate(r: Rate | null): [string, string] {
  if (!r) return ['', ''];
  const o = r.objectsPerSec;
  const os = o >= 1e6 ? `${(o / 1e6).toFixed(1)}M` : o >= 1e3 ? `${(o / 1e3).toFixed(1)}k` : o.toFixed(0);
  return [`${os}/s`, r.mbPerSec === null ? '' : `${r.mbPerSec.toFixed(1)} MB/s`];
}

/** The results as a fixed-width text table (one line per workload). */
export function renderTable(rows: readonly WorkloadResult[]): string {
  const head = ['workload', 'objects', 'bpf-iter', 'MB/s', 'baseline', 'baseline rate', 'MB/s', 'ratio', 'target'];
  const body = rows.map((r) => {
    const [a, am] = fmtRate(r.rate);
    const [b, bm] = 'rate' in r.baseline ? fmtRate(r.baseline.rate) : ['skipped', ''];
    const target = r.target ? `${r.target.text} ${r.target.met === null ? '(n/a)' : r.target.met ? 'met' : 'NOT met'}` : '';
    return [r.id, `${r.objects.toLocaleString('en')} ${r.unit}`, a, am, r.baseline.name, b, bm, r.ratio === null ? '-' : `${r.ratio.toFixed(3)}x`, target];
  });
  const w = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 7 && i !== 4 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

/** The results as a Markdown table (for docs/performance.md). */
export function renderMarkdown(rows: readonly WorkloadResult[]): string {
  const out = ['| workload | objects | bpf-iter | MB/s | baseline | baseline rate | MB/s | ratio | target |', '|---|---:|---:|---:|---|---:|---:|---:|---|'];
  for (const r of rows) {
    const [a, am] = fmtRate(r.rate);
    const [b, bm] = 'rate' in r.baseline ? fmtRate(r.baseline.rate) : ['skipped', ''];
    const target = r.target ? `${r.target.text}: ${r.target.met === null ? 'n/a' : r.target.met ? 'met' : '**not met**'}` : '';
    out.push(`| \`${r.id}\` | ${r.objects.toLocaleString('en')} ${r.unit} | ${a} | ${am} | ${r.baseline.name} | ${b} | ${bm} | ${r.ratio === null ? '–' : `${r.ratio.toFixed(3)}×`} | ${target} |`);
  }
  return out.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A hand-written SVG bar chart of the ratios (bpf-iter over baseline), log
 * scale, with the 1× line and each row's target ratio marked.
 */
export function renderSvg(rows: readonly WorkloadResult[], title: string): string {
  const bars = rows.filter((r) => r.ratio !== null && r.ratio > 0);
  const rowH = 22;
  const left = 330;
  const plotW = 520;
  const top = 48;
  const h = top + bars.length * rowH + 40;
  const width = left + plotW + 90;
  const lo = -3; // 10^-3 .. 10^2
  const hi = 2;
  const x = (ratio: number) => left + ((Math.log10(Math.min(Math.max(ratio, 10 ** lo), 10 ** hi)) - lo) / (hi - lo)) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="36" fill="#555">ratio = bpf-iter objects/s ÷ baseline objects/s (log scale); | = target</text>`,
  ];
  for (let e = lo; e <= hi; e++) {
    const gx = x(10 ** e);
    parts.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${h - 30}" stroke="${e === 0 ? '#000' : '#ddd'}"/>`);
    parts.push(`<text x="${gx}" y="${h - 14}" text-anchor="middle" fill="#555">${10 ** e}×</text>`);
  }
  bars.forEach((r, i) => {
    const y = top + i * rowH;
    const ratio = r.ratio!;
    const x1 = x(1);
    const x2 = x(ratio);
    const color = r.target?.met === false ? '#d9534f' : ratio >= 1 ? '#2e7d32' : '#1f77b4';
    parts.push(`<text x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(r.id)}</text>`);
    parts.push(`<rect x="${Math.min(x1, x2)}" y="${y + 3}" width="${Math.max(1, Math.abs(x2 - x1))}" height="${rowH - 8}" fill="${color}"/>`);
    parts.push(`<text x="${Math.max(x1, x2) + 4}" y="${y + 14}" fill="#333">${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(3)}×</text>`);
    if (r.target?.ratio !== undefined) {
      const tx = x(r.target.ratio);
      parts.push(`<line x1="${tx}" y1="${y + 1}" x2="${tx}" y2="${y + rowH - 3}" stroke="#000" stroke-width="2"/>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
