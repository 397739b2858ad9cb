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
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
export function buildBpf({ out = join(SRC, '.build'), force = false } = {}) {
  if (!existsSync(BTF)) throw new BuildError('ENOENT', `no kernel BTF at ${BTF} (CONFIG_DEBUG_INFO_BTF)`);
  const clang = which('clang');
  if (!clang) throw new BuildError('ENOENT', 'clang not found (apt-get install clang llvm)');
  const bpftool = which('bpftool');
  if (!bpftool) throw new BuildError('ENOENT', 'bpftool not found (apt-get install bpftool)');
  if (!existsSync('/usr/include/bpf/bpf_helpers.h')) throw new BuildError('ENOENT', 'libbpf headers not found: /usr/include/bpf/bpf_helpers.h (apt-get install libbpf-dev)');
  mkdirSync(out, { recursive: true });
  const built = [];

  // vmlinux.h: keyed by kernel release and BTF size (the BTF file has no useful mtime).
  const stampPath = join(out, 'vmlinux.stamp');
  const stamp = `${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()} ${statSync(BTF).size}`;
  const vmlinux = join(out, 'vmlinux.h');
  if (force || !existsSync(vmlinux) || !existsSync(stampPath) || readFileSync(stampPath, 'utf8') !== stamp) {
    const h = run(bpftool, ['btf', 'dump', 'file', BTF, 'format', 'c'], 'bpftool btf dump');
    const t = tmpName(vmlinux);
    writeFileSync(t, h);
    renameSync(t, vmlinux);
    writeFileSync(stampPath, stamp);
    built.push('vmlinux.h');
  }

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
      run(clang, ['-O2', '-g', '-target', 'bpf', '-D__TARGET_ARCH_x86', ...define, '-Wno-incompatible-pointer-types-discards-qualifiers', `-I${out}`, `-I${SRC}`, '-c', src, '-o', t], `clang ${f}${v ? ` (${v})` : ''}`);
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
  try {
    const r = buildBpf({ force: args.includes('--force'), out: oi >= 0 ? resolve(args[oi + 1]) : undefined });
    console.log(JSON.stringify({ ok: true, ...r }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, errno: e.errno ?? 'EINVAL', message: e.message }));
    process.exitCode = 1;
  }
}
