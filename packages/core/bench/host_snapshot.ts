/**
 * Benchmark of the host source: how long a snapshot of this machine takes,
 * next to the classic tools reading the same /proc data in the same run
 * (`ps -eLf`, `lsof -n -P` if installed, `cat /proc/[0-9]* /maps`). The
 * benchmark first starts a helper process with 1,000 extra threads (python3,
 * or node worker threads as a fallback) and stops it at the end.
 *
 *   node --import tsx --conditions=@bpf-iter/source packages/core/bench/host_snapshot.ts [extraThreads] [rounds]
 */
import { readHostWithReport, type HostOptions } from '@bpf-iter/core';
// Shared with `pnpm bench` (scripts/bench/run.ts).
import { has, runCommand, startHolder } from '../../../scripts/bench/lib.js';

const extraThreads = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);

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
  return () => void runCommand(cmd, args);
}

const helper = extraThreads > 0 ? await startHolder(extraThreads, 0) : null;
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
  await helper?.stop();
}
