/**
 * Benchmark of the host source: how long a snapshot of this machine takes,
 * next to the classic tools reading the same /proc data in the same run
 * (`ps -eLf`, `lsof -n -P` if installed, `cat /proc/[0-9]* /maps`). The
 * benchmark first starts a helper process with 1,000 extra threads (python3,
 * or node worker threads as a fallback) and stops it at the end.
 *
 *   node --import tsx --conditions=@bpf-iter/source packages/core/bench/host_snapshot.ts [extraThreads] [rounds]
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readHostWithReport, type HostOptions } from '@bpf-iter/core';

const extraThreads = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Starts a process holding `n` sleeping threads; resolves once they all exist. */
async function startThreads(n: number): Promise<ChildProcess | null> {
  if (n <= 0) return null;
  let child: ChildProcess;
  if (has('python3')) {
    const py = `import threading,sys
ev = threading.Event()
ts = [threading.Thread(target=ev.wait, daemon=True) for _ in range(${n})]
for t in ts: t.start()
print('ready', flush=True)
sys.stdin.read()
ev.set()`;
    child = spawn('python3', ['-c', py], { stdio: ['pipe', 'pipe', 'inherit'] });
  } else {
    const js = `const { Worker } = require('node:worker_threads');
let up = 0; for (let i = 0; i < ${n}; i++) new Worker('require("node:worker_threads").parentPort.postMessage(1); setInterval(()=>{},1e6)', { eval: true, resourceLimits: { maxOldGenerationSizeMb: 4 } }).once('message', () => { if (++up === ${n}) console.log('ready'); });
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`;
    child = spawn(process.execPath, ['-e', js], { stdio: ['pipe', 'pipe', 'inherit'] });
  }
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (c) => reject(new Error(`thread helper exited (${c})`)));
  });
  return child;
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function best(fn: () => void): number {
  let m = Infinity;
  for (let i = 0; i < rounds; i++) m = Math.min(m, time(fn));
  return m;
}

function sh(cmd: string, args: string[]): () => void {
  return () => {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 30 });
  };
}

const helper = await startThreads(extraThreads);
try {
  const configs: [string, HostOptions][] = [
    ['full snapshot (threads, fds, maps, sockets, routes, cgroups, slabs, ksyms)', {}],
    ['snapshot without ksyms/slabs (threads, fds, maps, sockets, cgroups)', { ksyms: false, slabs: false }],
    ['tasks + threads only', { files: false, vmas: false, sockets: false, routes: false, ksyms: false, slabs: false, cgroups: false }],
  ];
  readHostWithReport({ ksyms: false }); // warm up the JIT
  for (const [label, opts] of configs) {
    let counts = readHostWithReport(opts).report.counts;
    const ms = best(() => {
      counts = readHostWithReport(opts).report.counts;
    });
    const objects = counts.threads + counts.fds + counts.vmas + counts.sockets + counts.ksyms + counts.cgroups + counts.routes + counts.slabs;
    console.log(
      `${label}: ${(ms / 1000).toFixed(3)} s  ` +
        `(${counts.processes} processes, ${counts.threads} threads, ${counts.fds} fds, ${counts.vmas} vmas, ${counts.sockets} sockets, ` +
        `${counts.ksyms} ksyms, ${counts.cgroups} cgroups; ${((objects / ms) * 1000 / 1e6).toFixed(2)}M objects/s)`,
    );
  }
  console.log(`ps -eLf: ${(best(sh('ps', ['-eLf'])) / 1000).toFixed(3)} s`);
  if (has('lsof')) console.log(`lsof -n -P: ${(best(sh('lsof', ['-n', '-P'])) / 1000).toFixed(3)} s`);
  else console.log('lsof -n -P: skipped (lsof not installed)');
  console.log(`cat /proc/[0-9]*/maps: ${(best(sh('sh', ['-c', 'cat /proc/[0-9]*/maps 2>/dev/null; true'])) / 1000).toFixed(3)} s`);
} finally {
  if (helper) {
    helper.stdin!.end();
    helper.kill('SIGTERM');
  }
}
