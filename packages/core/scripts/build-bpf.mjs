#!/usr/bin/env node
/**
 * Builds the bpf source's iterator programs: generates vmlinux.h from the
 * running kernel's BTF with bpftool, compiles every `bpf/*.bpf.c` with clang
 * (`-O2 -g -target bpf`) and the libbpf loader `bpf/loader.c`, into a cache
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
 * (same flags, same vmlinux.h logic, `-I` the source's folder) into
 * `DIR/<sha256 of source, sibling headers, flags and vmlinux stamp>.bpf.o`
 * (default DIR `$BPF_ITER_CACHE`, else `$XDG_CACHE_HOME/bpf-iter`, else
 * `~/.cache/bpf-iter`) and prints `{ ok, obj, cached }`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BTF = '/sys/kernel/btf/vmlinux';
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../bpf');

class BuildError extends Error {
  constructor(errno, message) {
    super(message);
    this.errno = errno;
  }
}

function which(tool) {
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = join(d, tool);
    if (existsSync(p)) return p;
  }
  return null;
}

function run(cmd, args, what) {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  } catch (e) {
    const err = String(e.stderr ?? e.message).trim().split('\n').slice(-8).join('\n');
    throw new BuildError('EINVAL', `${what} failed: ${err}`);
  }
}

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
let seq = 0;
const tmpName = (p) => `${p}.tmp-${process.pid}-${seq++}`;

/**
 * Builds into `out` (default `bpf/.build`). Returns `{ dir, built }` where
 * `built` lists what was (re)built; throws BuildError with an errno name.
 */
/** The tools a build needs; throws ENOENT naming the missing one. */
function tools() {
  if (!existsSync(BTF)) throw new BuildError('ENOENT', `no kernel BTF at ${BTF} (CONFIG_DEBUG_INFO_BTF)`);
  const clang = which('clang');
  if (!clang) throw new BuildError('ENOENT', 'clang not found (apt-get install clang llvm)');
  const bpftool = which('bpftool');
  if (!bpftool) throw new BuildError('ENOENT', 'bpftool not found (apt-get install bpftool)');
  if (!existsSync('/usr/include/bpf/bpf_helpers.h')) throw new BuildError('ENOENT', 'libbpf headers not found: /usr/include/bpf/bpf_helpers.h (apt-get install libbpf-dev)');
  return { clang, bpftool };
}

/**
 * `out/vmlinux.h` from this kernel's BTF, regenerated when the kernel
 * release or BTF size changes (the BTF file has no useful mtime). Returns
 * the stamp and whether it was rebuilt.
 */
function ensureVmlinux(out, bpftool, force) {
  mkdirSync(out, { recursive: true });
  const stampPath = join(out, 'vmlinux.stamp');
  const stamp = `${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()} ${statSync(BTF).size}`;
  const vmlinux = join(out, 'vmlinux.h');
  if (force || !existsSync(vmlinux) || !existsSync(stampPath) || readFileSync(stampPath, 'utf8') !== stamp) {
    const h = run(bpftool, ['btf', 'dump', 'file', BTF, 'format', 'c'], 'bpftool btf dump');
    const t = tmpName(vmlinux);
    writeFileSync(t, h);
    renameSync(t, vmlinux);
    writeFileSync(stampPath, stamp);
    return { vmlinux, stamp, built: true };
  }
  return { vmlinux, stamp, built: false };
}

/** The clang flags of every BPF object (kernel-style CO-RE build). */
const BPF_CFLAGS = ['-O2', '-g', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-Wno-incompatible-pointer-types-discards-qualifiers'];

/** The default cache folder of compiled user programs. */
export function defaultCacheDir() {
  if (process.env.BPF_ITER_CACHE) return resolve(process.env.BPF_ITER_CACHE);
  return join(process.env.XDG_CACHE_HOME ? resolve(process.env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'bpf-iter');
}

/**
 * Compiles one user `.bpf.c` against this kernel's vmlinux.h into the
 * cache, keyed by a content hash; returns `{ obj, cached }`.
 */
export function compileObject({ src, cache = defaultCacheDir(), force = false }) {
  src = resolve(src);
  if (!existsSync(src)) throw new BuildError('ENOENT', `no such file: ${src}`);
  const { clang, bpftool } = tools();
  const { stamp } = ensureVmlinux(cache, bpftool, false);
  // Key: the source, the headers beside it (what `#include "x.h"` can reach), flags, kernel.
  const h = createHash('sha256').update(readFileSync(src)).update(`\0${BPF_CFLAGS.join(' ')}\0${stamp}\0`);
  const dir = dirname(src);
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.h')).sort()) h.update(`${f}\0`).update(readFileSync(join(dir, f)));
  const obj = join(cache, `${basename(src).replace(/\.bpf\.c$|\.c$/, '')}-${h.digest('hex').slice(0, 16)}.bpf.o`);
  if (!force && existsSync(obj)) return { obj, cached: true };
  const t = tmpName(obj);
  run(clang, [...BPF_CFLAGS, `-I${cache}`, `-I${dir}`, '-c', src, '-o', t], `clang ${basename(src)}`);
  renameSync(t, obj);
  return { obj, cached: false };
}

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

  const loaderSrc = join(SRC, 'loader.c');
  const loader = join(out, 'loader');
  if (force || mtime(loader) < mtime(loaderSrc)) {
    const t = tmpName(loader);
    run(clang, ['-O2', '-Wall', loaderSrc, '-o', t, '-lbpf'], 'clang loader.c (-lbpf)');
    renameSync(t, loader);
    built.push('loader');
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
