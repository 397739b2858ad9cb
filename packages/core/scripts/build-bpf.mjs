#!/usr/bin/env node
/**
 * Builds the bpf source's iterator programs: generates vmlinux.h from the
 * running kernel's BTF with bpftool, compiles every `bpf/*.bpf.c` with clang
 * (`-O2 -g -target bpf`) into a cache
 * directory (`bpf/.build/`, git-ignored; nothing built is committed).
 *
 * Incremental: vmlinux.h is regenerated when the kernel release or BTF size
 * changes, objects when a source or header is newer. Outputs are written to
 * a temporary name and renamed, so concurrent builds (parallel test files)
 * never see half-written files.
 *
 * Usage: node packages/core/scripts/build-bpf.mjs [--force] [--out DIR]
 * Prints one JSON line `{ ok, dir, built, errno?, message? }`; exit status 0
 * on success, 1 on failure.
 *
 * `--compile SRC.bpf.c [--cache DIR]` compiles one user program the same way
 * (`compileObject` of `bpf-compile.mjs`, which the library also calls
 * in-process) and prints `{ ok, obj, cached }`.
 */
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BPF_CFLAGS, compileObject, ensureVmlinux, run, tmpName, tools } from './bpf-compile.mjs';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../bpf');

/**
 * The variants a program source declares in a `bpf-iter variants: a b` line:
 * objects to try, in order, after the default one when the verifier of the
 * running kernel rejects it.
 */
export function bpfVariants(source) {
  const m = /bpf-iter variants:([ \w]*)/.exec(source);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -1);

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
  for (const f of readdirSync(SRC).filter((x) => x.endsWith('.bpf.c')).sort()) {
    const src = join(SRC, f);
    const base = f.slice(0, -'.bpf.c'.length);
    // The default object, then one per variant the source declares, built with -DVARIANT_<NAME>.
    for (const v of [null, ...bpfVariants(readFileSync(src, 'utf8'))]) {
      const obj = join(out, v ? `${base}.${v}.bpf.o` : `${base}.bpf.o`);
      if (!force && mtime(obj) >= Math.max(mtime(src), depTime)) continue;
      const t = tmpName(obj);
      const define = v ? [`-DVARIANT_${v.toUpperCase()}`] : [];
      run(clang, [...BPF_CFLAGS, ...define, `-I${out}`, `-I${SRC}`, '-c', src, '-o', t], `clang ${f}${v ? ` (${v})` : ''}`);
      renameSync(t, obj);
      built.push(v ? `${f}:${v}` : f);
    }
  }

  // variants.json: target -> its variants in the order to try them (read by src/sources/bpf.ts).
  const manifest = Object.fromEntries(
    readdirSync(SRC)
      .filter((x) => x.endsWith('.bpf.c'))
      .sort()
      .map((f) => [f.slice(0, -'.bpf.c'.length), bpfVariants(readFileSync(join(SRC, f), 'utf8'))])
      .filter(([, v]) => v.length),
  );
  const manifestPath = join(out, 'variants.json');
  const text = JSON.stringify(manifest);
  if (!existsSync(manifestPath) || readFileSync(manifestPath, 'utf8') !== text) {
    const t = tmpName(manifestPath);
    writeFileSync(t, text);
    renameSync(t, manifestPath);
  }

  return { dir: out, built };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const oi = args.indexOf('--out');
  const ci = args.indexOf('--compile');
  const ki = args.indexOf('--cache');
  try {
    const r =
      ci >= 0
        ? compileObject({ src: args[ci + 1], cache: ki >= 0 ? resolve(args[ki + 1]) : undefined, force: args.includes('--force') })
        : buildBpf({ force: args.includes('--force'), out: oi >= 0 ? resolve(args[oi + 1]) : undefined });
    console.log(JSON.stringify({ ok: true, ...r }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, errno: e.errno ?? 'EINVAL', message: e.message }));
    process.exitCode = 1;
  }
}
