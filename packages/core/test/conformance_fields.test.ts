/**
 * Conformance, every field: for each target the bpf source reads, the
 * kernel's own iterator against the SDK's iterator over the bpf model and
 * over the host (/proc) model, on the objects that held still. Prints one
 * table (objects, matched, mismatched by field, unknown fields) — the table
 * in docs/sources.md comes from it. See conformance_fields.ts for how fields
 * are compared, and the per-target declarations of what /proc cannot tell.
 *
 * Per target and source: a kernel read, the model (only the parts the target
 * needs), a second kernel read; objects equal in both kernel reads are
 * compared. Counters that move on a busy machine (a task's state, a slab's
 * object count) can change between three reads even so: a target with a
 * mismatch is read again, up to three times, and the last result counts.
 */
import { buildBpfPrograms } from '@bpf-iter/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availability, startFixture, suiteTitle, type Fixture } from './bpf_fixture.js';
import { compareTarget, kernelObjects, readModel, resultTable, sdkObjects, SPECS, stable, type ModelSource, type TargetResult, type TargetSpec } from './conformance_fields.js';

const avail = availability('conformance (every field)');
const ATTEMPTS = 3;

/** One comparison of a target on a source, read afresh. */
function attempt(spec: TargetSpec<any>, source: ModelSource): { result: TargetResult; model: Map<string, unknown>; kernel: Map<string, unknown> } {
  const before = kernelObjects(spec);
  const model = sdkObjects(spec, readModel(source, spec.part));
  const after = kernelObjects(spec);
  let kernel = stable(spec, before, after);
  const [skip, why] = spec.skip?.[source] ?? [null, null];
  if (skip) kernel = new Map([...kernel].filter(([, f]) => !skip(f)));
  // An object the model has and the kernel had in neither read is one the model made up.
  return { result: compareTarget(spec, source, kernel, model, why, (k) => before.has(k) || after.has(k)), model, kernel };
}

const clean = (r: TargetResult): boolean => r.missing.length === 0 && r.extra.length === 0 && Object.values(r.fields).every((f) => f.mismatched === 0);

describe.skipIf(!avail.ok)(suiteTitle('conformance, every field: kernel iterators vs SDK iterators over the bpf and host models', avail), () => {
  let fx: Fixture;
  const results: TargetResult[] = [];

  beforeAll(async () => {
    buildBpfPrograms();
    fx = await startFixture();
  }, 120_000);

  afterAll(async () => {
    if (results.length) console.log(`conformance, every field (stable objects):\n${resultTable(results)}`);
    await fx?.stop();
  });

  for (const spec of SPECS) {
    for (const source of ['bpf', 'host'] as const) {
      // /proc has no BPF object tables: the host model holds only what the SDK itself loads into it,
      // so there is nothing of the kernel's to compare there.
      if (source === 'host' && spec.part === 'bpfObjects') continue;
      it(`${spec.target} over the ${source} model: every field of every stable object equals the kernel's`, () => {
        let a = attempt(spec, source);
        // Objects that exist only while the model is read (a JIT's mapping, another test's program)
        // are extra in one attempt, not in all: only those in every attempt are the model's own.
        let extra = new Set(a.result.extra);
        for (let i = 1; i < ATTEMPTS && !clean(a.result); i++) {
          a = attempt(spec, source);
          extra = new Set(a.result.extra.filter((k) => extra.has(k)));
        }
        const r = { ...a.result, extra: [...extra] };
        results.push(r);
        expect(r.objects, `${spec.target}: stable objects found in the ${source} model`).toBeGreaterThan(0);
        const bad = Object.fromEntries(Object.entries(r.fields).filter(([, f]) => f.mismatched).map(([n, f]) => [n, f.examples]));
        expect(bad).toEqual({});
        expect(r.missing.slice(0, 5), `${r.missing.length} stable kernel objects missing from the model`).toEqual([]);
        expect(r.extra.slice(0, 5), `${r.extra.length} model objects the kernel never showed`).toEqual([]);
        // The fixture's own objects are among those compared.
        const own: Record<string, string[]> = {
          task: [String(fx.child.pid)],
          task_file: [`${fx.child.pid} ${fx.child.fileFd}`],
          netlink: [String(fx.child.netlink.ino)],
          unix: [String(fx.child.unix.ino)],
          tcp: [`ino ${fx.child.tcp.ino}`],
          udp: [`ino ${fx.child.udp.ino}`],
          bpf_prog: (fx.pin?.progIds ?? []).map(String),
          bpf_link: (fx.pin?.linkIds ?? []).map(String),
          bpf_map: (fx.pin?.mapIds ?? []).map(String),
        };
        for (const k of own[spec.target] ?? []) expect(a.kernel.has(k) && a.model.has(k), `${spec.target} ${k} of the fixture compared`).toBe(true);
        if (spec.target === 'cgroup') expect(r.objects).toBeGreaterThanOrEqual(1 + fx.cgroups.length);
      });
    }
  }
});
