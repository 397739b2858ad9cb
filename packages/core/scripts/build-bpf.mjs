#!/usr/bin/env node
/**
 * Builds the bpf source's iterator programs: generates vmlinux.h from the
 * running kernel's BTF with bpftool, compiles every `bpf/*.bpf.c` (and each
 * variant it declares) with clang (`-O2 -g -target bpf`, CO-RE).
 *
 * Two outputs:
 * - `--prebuilt`: the committed objects, `bpf/prebuilt/` (shipped in the
 *   package, loaded when no clang is present): every object rebuilt,
 *   stripped of DWARF (`llvm-strip -g`; .BTF/.BTF.ext stay for CO-RE), with
 *   `variants.json` and `manifest.json` (a digest of the sources they were
 *   built from and of each object). Run it after changing a program.
 * - default: the on-demand fallback cache `bpf/.build/` (git-ignored), used
 *   when the prebuilt objects are older than the sources. Incremental:
 *   vmlinux.h is regenerated when the kernel release or BTF size changes,
 *   objects when a source or header is newer.
 *
 * Outputs are written to a temporary name and renamed, so concurrent builds
 * (parallel test files) never see half-written files.
 *
 * Usage: node packages/core/scripts/build-bpf.mjs [--force] [--out DIR] [--prebuilt]
 * Prints one JSON line `{ ok, dir, built, errno?, message? }`; exit status 0
 * on success, 1 on failure.
 *
 * `--compile SRC.bpf.c [--cache DIR]` compiles one user program the same way
 * (`compileObject` of `bpf-compile.mjs`, which the library also calls
 * in-process) and prints `{ ok, obj, cached }`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BuildError,
  bpfVariants,
  compileObject,
  ensureVmlinux,
  fileDigest,
  PREBUILT,
  programArgs,
  programObjects,
  run,
  sourcesDigest,
  stripTool,
  tmpName,
  tools,
  variantsManifest,
} from './bpf-compile.mjs';

export { bpfVariants };

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../bpf');

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -1);

/** Writes `text` to `path` through a temporary name, unless it already holds it. */
function writeIfChanged(path, text) {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  const t = tmpName(path);
  writeFileSync(t, text);
  renameSync(t, path);
}

/**
 * Compiles one object of `programObjects(src)` into `path` (temp + rename),
 * stripped with `strip` when given.
 */
export function buildProgram(o, { src = SRC, vmlinuxDir, path, clang, strip = null }) {
  const t = tmpName(path);
  run(clang, programArgs(src, vmlinuxDir, o.src, o.variant, t), `clang ${o.file}${o.variant ? ` (${o.variant})` : ''}`);
  if (strip) run(strip, ['-g', t], `llvm-strip ${o.name}`);
  renameSync(t, path);
}

/**
 * Builds into `out` (default `bpf/.build`). Returns `{ dir, built }` where
 * `built` lists what was (re)built; throws BuildError with an errno name.
 */
export function buildBpf({ out = join(SRC, '.build'), force = false } = {}) {
  const { clang, bpftool } = tools();
  const built = [];
  const { vmlinux, built: vmlinuxBuilt } = ensureVmlinux(out, bpftool, force);
  if (vmlinuxBuilt) built.push('vmlinux.h');

  const headers = readdirSync(SRC).filter((f) => f.endsWith('.h')).map((f) => join(SRC, f));
  const depTime = Math.max(mtime(vmlinux), ...headers.map(mtime));
  for (const o of programObjects(SRC)) {
    const path = join(out, o.name);
    if (!force && mtime(path) >= Math.max(mtime(o.src), depTime)) continue;
    buildProgram(o, { vmlinuxDir: out, path, clang });
    built.push(o.variant ? `${o.file}:${o.variant}` : o.file);
  }
  writeIfChanged(join(out, 'variants.json'), JSON.stringify(variantsManifest(SRC)));
  return { dir: out, built };
}

/**
 * Rebuilds the committed objects in `bpf/prebuilt/` (vmlinux.h comes from
 * the `bpf/.build/` cache and is not committed): every object, stripped,
 * then `variants.json` and `manifest.json`; objects of removed programs are
 * deleted.
 */
export function buildPrebuilt({ out = join(SRC, PREBUILT), vmlinuxDir = join(SRC, '.build') } = {}) {
  const { clang, bpftool } = tools();
  const strip = stripTool();
  if (!strip) throw new BuildError('ENOENT', 'llvm-strip not found (apt-get install llvm)');
  const { stamp } = ensureVmlinux(vmlinuxDir, bpftool, false);
  mkdirSync(out, { recursive: true });
  const objects = {};
  for (const o of programObjects(SRC)) {
    const path = join(out, o.name);
    buildProgram(o, { vmlinuxDir, path, clang, strip });
    objects[o.name] = fileDigest(path);
  }
  for (const f of readdirSync(out)) if (f.endsWith('.bpf.o') && !(f in objects)) rmSync(join(out, f));
  writeIfChanged(join(out, 'variants.json'), JSON.stringify(variantsManifest(SRC)));
  const clangVersion = run(clang, ['--version'], 'clang --version').toString().split('\n')[0].trim();
  const manifest = { sources: sourcesDigest(SRC), objects, built_with: { clang: clangVersion, kernel: stamp } };
  writeIfChanged(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir: out, built: Object.keys(objects) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const oi = args.indexOf('--out');
  const ci = args.indexOf('--compile');
  const ki = args.indexOf('--cache');
  const outDir = oi >= 0 ? resolve(args[oi + 1]) : undefined;
  try {
    const r =
      ci >= 0
        ? compileObject({ src: args[ci + 1], cache: ki >= 0 ? resolve(args[ki + 1]) : undefined, force: args.includes('--force') })
        : args.includes('--prebuilt')
          ? buildPrebuilt({ out: outDir })
          : buildBpf({ force: args.includes('--force'), out: outDir });
    console.log(JSON.stringify({ ok: true, ...r }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, errno: e.errno ?? 'EINVAL', message: e.message }));
    process.exitCode = 1;
  }
}
