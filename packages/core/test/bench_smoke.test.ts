/**
 * Smoke run of `pnpm bench` (scripts/bench/run.ts --smoke): every workload
 * runs at tiny sizes and the JSON it writes has a positive rate for each.
 * The full benchmark is not part of the test run (see docs/performance.md).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const out = mkdtempSync(join(tmpdir(), 'bpf-iter-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Row {
  id: string;
  group: string;
  objects: number;
  rate: { objectsPerSec: number; mbPerSec: number | null };
  baseline: { name: string; rate?: { objectsPerSec: number }; skipped?: string };
  ratio: number | null;
}

// ~90 s on an idle 2-core machine (lsof and the whole-command rows run real tools); the limit
// leaves room for a loaded one, since the test asserts coverage, not time.
test('pnpm bench --smoke covers every workload with positive rates', { timeout: 300_000 }, () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@bpf-iter/source', 'scripts/bench/run.ts', '--smoke', '--out', out], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  expect(r.status, r.stderr + r.stdout.slice(-2000)).toBe(0);
  expect(existsSync(join(out, 'results.svg'))).toBe(true);
  const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { smoke: boolean; machine: Record<string, unknown>; workloads: Row[] };
  expect(doc.smoke).toBe(true);
  expect(doc.machine.cpus).toBeGreaterThan(0);
  const ids = doc.workloads.map((w) => w.id);
  const expected = [
    'open-coded/num/bpfForEach',
    'open-coded/num/trio',
    'open-coded/task/1k/bpfForEach',
    'open-coded/task/1k/trio',
    'open-coded/task_vma/1k/bpfForEach',
    'open-coded/task_vma/1k/trio',
    // task_vma next to a nested loop over per-process Vma[] (above) and to one flat Vma[].
    'open-coded/task_vma/1k/bpfForEach-vs-flat',
    'open-coded/task_vma/1k/trio-vs-flat',
    'open-coded/all-kinds/task_vma/bpfForEach-vs-flat',
    // Every kind next to a plain loop over the same objects, after all kinds ran.
    ...['num', 'bits', 'task', 'task_vma', 'css', 'css_task', 'kmem_cache', 'dmabuf'].map((k) => `open-coded/all-kinds/${k}/bpfForEach`),
    'open-coded/all-kinds/fromIter-vs-range',
    ...['task_file', 'task_vma', 'tcp'].flatMap((t) => ['synthetic/1B', 'synthetic/4KiB', 'synthetic/64KiB'].map((s) => `programs/${t}/${s}`)),
    // On this host's objects, next to the real kernel's iterators (or a skip reason); 1 B without the extra fds.
    ...['task_file', 'task_vma', 'tcp'].flatMap((t) => ['host/1B', 'host/4KiB', 'host/64KiB'].map((s) => `programs/${t}/${s}`)),
    'programs/kmem_cache/synthetic/64KiB',
    'host/snapshot-vs-ps',
    'host/snapshot-vs-lsof',
    'host/snapshot-vs-ss',
    'host/snapshot-vs-cat-maps',
    'host/lazy-vs-snapshot/task_file',
    'memory/task_file/2k',
    'memory/task_file/5k',
    'memory/task_file/10k',
    'host/cli/targets-vs-node',
    'snapshot/save-2k',
    'snapshot/load-2k',
    // The metrics default set's collection next to the dumps of the same targets, and on this host to Node's /proc fd walk.
    'metrics/default-set/model-fds',
    'metrics/default-set/host-vs-dumps',
    'metrics/default-set/host-vs-proc-walk',
  ];
  for (const id of expected) expect(ids).toContain(id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const w of doc.workloads) {
    expect(w.objects, w.id).toBeGreaterThan(0);
    expect(w.rate.objectsPerSec, w.id).toBeGreaterThan(0);
    // A baseline either ran (positive rate and a ratio) or says why not.
    if (w.baseline.rate) {
      expect(w.baseline.rate.objectsPerSec, w.id).toBeGreaterThan(0);
      expect(w.ratio, w.id).toBeGreaterThan(0);
    } else {
      expect(w.baseline.skipped, w.id).toMatch(/\S/);
      expect(w.ratio).toBeNull();
    }
  }
  // The open-coded baselines always run (plain loops in the same process).
  for (const w of doc.workloads.filter((x) => x.group === 'open-coded')) expect(w.ratio, w.id).not.toBeNull();
});
