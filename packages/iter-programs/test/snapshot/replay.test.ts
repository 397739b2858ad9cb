/**
 * A dump over a replayed snapshot is byte-identical to the dump over the
 * kernel it was saved from, for every target (text and JSON dumpers, every
 * map and cgroup order): synthetic seeds, and this host (one in-memory
 * kernel, saved and dumped, so nothing races with the live machine).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKernel, loadKernelSync, readHost, saveKernel, syntheticKernel, type Kernel } from '@bpf-iter/core';
import '../../src/targets/index.js';
import { dumpTargets } from './dumps.js';

const dir = mkdtempSync(join(tmpdir(), 'bpf-iter-snap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function replay(k: Kernel, name: string): Promise<Kernel> {
  const file = join(dir, `${name}.snap`);
  await saveKernel(k, file);
  return loadKernel(file);
}

function expectSameDumps(a: Kernel, b: Kernel): void {
  const da = dumpTargets(a);
  const db = dumpTargets(b);
  expect([...db.keys()]).toEqual([...da.keys()]);
  for (const [key, text] of da) expect(db.get(key), key).toBe(text);
}

describe('snapshot replay: every target dumps the same bytes', () => {
  for (const seed of [1, 7, 42]) {
    it(`synthetic:${seed}`, async () => {
      const k = syntheticKernel({ seed });
      const r = await replay(k, `syn${seed}`);
      expect(r.taskCount).toBe(k.taskCount);
      expectSameDumps(k, r);
    });
  }

  it('the synchronous loader builds the same kernel', async () => {
    const k = syntheticKernel({ seed: 3 });
    const file = join(dir, 'sync.snap');
    await saveKernel(k, file);
    expectSameDumps(await loadKernel(file), loadKernelSync(file));
  });

  it('this host (readHost: one in-memory kernel saved and dumped)', async () => {
    const k = readHost();
    const r = await replay(k, 'host');
    expect(r.source).toBe('host');
    expectSameDumps(k, r);
  });
});
