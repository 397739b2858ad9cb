/**
 * The committed CO-RE objects of the bpf source (packages/core/bpf/prebuilt):
 * built from the sources as they are now (a changed program without
 * `build-bpf.mjs --prebuilt` fails here), reproducible, and enough for a
 * first readBpf() on a machine without clang.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureVmlinux, fileDigest, prebuiltDir, programArgs, programObjects, sourcesDigest, stripTool, which } from '../scripts/bpf-compile.mjs';
import { availability, suiteTitle } from './bpf_fixture.js';

const CORE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(CORE, 'bpf');
const PRE = join(SRC, 'prebuilt');
const ROOT = resolve(CORE, '../..');

interface Manifest {
  sources: string;
  objects: Record<string, string>;
  built_with: { clang: string; kernel: string };
}
const manifest = JSON.parse(readFileSync(join(PRE, 'manifest.json'), 'utf8')) as Manifest;

describe('prebuilt bpf objects', () => {
  it('were built from the sources as they are now (regenerate: node packages/core/scripts/build-bpf.mjs --prebuilt)', () => {
    expect(manifest.sources).toBe(sourcesDigest(SRC));
    expect(prebuiltDir(SRC)).toEqual({ dir: PRE, reason: null });
  });

  it('hold exactly one object per program and variant, each with the recorded digest, and the variants manifest', () => {
    expect(Object.keys(manifest.objects).sort()).toEqual(programObjects(SRC).map((o) => o.name).sort());
    for (const [name, digest] of Object.entries(manifest.objects)) expect(fileDigest(join(PRE, name)), name).toBe(digest);
    const variants: Record<string, string[]> = {};
    for (const o of programObjects(SRC)) if (o.variant) (variants[o.base] ??= []).push(o.variant);
    expect(JSON.parse(readFileSync(join(PRE, 'variants.json'), 'utf8'))).toEqual(variants);
  });

  it('are refused as stale once a program or header changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpf-prebuilt-'));
    try {
      cpSync(SRC, dir, { recursive: true, filter: (p) => !p.includes('.build') });
      expect(prebuiltDir(dir).dir).toBe(join(dir, 'prebuilt'));
      writeFileSync(join(dir, 'common.h'), readFileSync(join(dir, 'common.h'), 'utf8') + '\n/* changed */\n');
      const r = prebuiltDir(dir);
      expect(r.dir).toBeNull();
      expect(r.reason).toMatch(/older than the sources .*build-bpf\.mjs --prebuilt/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Byte for byte only with the clang and kernel BTF they were built with (vmlinux.h comes from the BTF).
  const clang = which('clang');
  const bpftool = which('bpftool');
  const strip = stripTool();
  const clangVersion = clang ? execFileSync(clang, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim() : null;
  const btfSize = (() => {
    try {
      return readFileSync('/sys/kernel/btf/vmlinux').length;
    } catch {
      return -1;
    }
  })();
  const kernel = `${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()} ${btfSize}`;
  const why = !clang || !bpftool || !strip ? 'clang, bpftool or llvm-strip missing' : clangVersion !== manifest.built_with.clang || kernel !== manifest.built_with.kernel ? `built with ${manifest.built_with.clang} on ${manifest.built_with.kernel}, this is ${clangVersion} on ${kernel}` : null;
  it.skipIf(why !== null)(`rebuild byte for byte from the sources${why ? ` [skipped: ${why}]` : ''}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpf-rebuild-'));
    try {
      ensureVmlinux(dir, bpftool!, true);
      // A plain one and a variant (built with -DVARIANT_...): enough to show the recorded pipeline reproduces them.
      const objs = programObjects(SRC);
      for (const o of [objs.find((x) => x.name === 'bpf_link.bpf.o')!, objs.find((x) => x.variant !== null)!]) {
        const out = join(dir, o.name);
        execFileSync(clang!, programArgs(SRC, dir, o.src, o.variant, out));
        execFileSync(strip!, ['-g', out]);
        expect(fileDigest(out), o.name).toBe(manifest.objects[o.name]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const avail = availability('bpf_prebuilt');
describe.skipIf(!avail.ok)(suiteTitle('prebuilt bpf objects on the running kernel', avail), () => {
  it('a first readBpf() with no clang on PATH loads them (no build)', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-clang-path-'));
    const script = `
      import { bpfAvailable, buildBpfPrograms, readBpfWithReport } from '@bpf-iter/core';
      import { which } from './packages/core/scripts/bpf-compile.mjs';
      const a = bpfAvailable();
      const { report } = readBpfWithReport({ ksyms: false });
      console.log(JSON.stringify({ clang: which('clang'), bpftool: which('bpftool'), a, dir: buildBpfPrograms(), counts: report.counts, skipped: report.skipped }));
    `;
    try {
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--conditions=@bpf-iter/source', '--input-type=module', '-e', script], {
        cwd: ROOT,
        env: { ...process.env, PATH: empty },
        encoding: 'utf8',
      });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { clang: string | null; a: { ok: boolean }; dir: string; counts: Record<string, number>; skipped: unknown[] };
      expect(r.clang).toBeNull();
      expect(r.a.ok).toBe(true);
      expect(r.dir).toBe(PRE);
      expect(r.skipped).toEqual([]);
      for (const t of ['task', 'task_file', 'task_vma', 'bpf_prog', 'cgroup']) expect(r.counts[t], t).toBeGreaterThan(0);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 120_000);
});
