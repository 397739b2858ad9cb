/**
 * The compile steps shared by `build-bpf.mjs` (the bpf source's programs)
 * and the library's `openObject('x.bpf.c')` (imported in-process, bundled
 * into dist): the tools check, vmlinux.h from this kernel's BTF, the clang
 * flags, and one user program compiled into a content-hash cache.
 * No top-level `import.meta`: it is also bundled into the CommonJS build.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

export const BTF = '/sys/kernel/btf/vmlinux';

export class BuildError extends Error {
  constructor(errno, message) {
    super(message);
    this.errno = errno;
  }
}

export function which(tool) {
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = join(d, tool);
    if (existsSync(p)) return p;
  }
  return null;
}

export function run(cmd, args, what) {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  } catch (e) {
    const err = String(e.stderr ?? e.message).trim().split('\n').slice(-8).join('\n');
    throw new BuildError('EINVAL', `${what} failed: ${err}`);
  }
}

let seq = 0;
export const tmpName = (p) => `${p}.tmp-${process.pid}-${seq++}`;

/** The tools a build needs; throws ENOENT naming the missing one. */
export function tools() {
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
export function ensureVmlinux(out, bpftool, force) {
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
export const BPF_CFLAGS = ['-O2', '-g', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-Wno-incompatible-pointer-types-discards-qualifiers'];

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


/**
 * The variants a program source declares in a `bpf-iter variants: a b` line:
 * objects to try, in order, after the default one when the verifier of the
 * running kernel rejects it.
 */
export function bpfVariants(source) {
  const m = /bpf-iter variants:([ \w]*)/.exec(source);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

/**
 * Every object of the programs in `srcDir` (`*.bpf.c`): the default one and
 * one per declared variant, as `{ src, file, base, variant, name }`.
 */
export function programObjects(srcDir) {
  const out = [];
  for (const file of readdirSync(srcDir).filter((x) => x.endsWith('.bpf.c')).sort()) {
    const base = file.slice(0, -'.bpf.c'.length);
    for (const variant of [null, ...bpfVariants(readFileSync(join(srcDir, file), 'utf8'))])
      out.push({ src: join(srcDir, file), file, base, variant, name: variant ? `${base}.${variant}.bpf.o` : `${base}.bpf.o` });
  }
  return out;
}

/** target -> its variants in the order to try them (`variants.json`, read by src/sources/bpf.ts). */
export function variantsManifest(srcDir) {
  const m = {};
  for (const o of programObjects(srcDir)) if (o.variant) (m[o.base] ??= []).push(o.variant);
  return m;
}

/**
 * The clang arguments of one of the bpf source's programs. Paths under
 * `srcDir` are recorded relative to it (`-fdebug-prefix-map`) and the
 * compilation folder as `.` (`-fdebug-compilation-dir`: BTF line info
 * otherwise names the build's working folder), so a rebuild from any
 * clone and any working folder gives the same bytes.
 */
export function programArgs(srcDir, vmlinuxDir, src, variant, out) {
  const define = variant ? [`-DVARIANT_${variant.toUpperCase()}`] : [];
  return [...BPF_CFLAGS, `-fdebug-prefix-map=${srcDir}=.`, '-fdebug-compilation-dir=.', ...define, `-I${vmlinuxDir}`, `-I${srcDir}`, '-c', src, '-o', out];
}

/** `llvm-strip` (drops DWARF; CO-RE needs only .BTF and .BTF.ext), or null. */
export function stripTool() {
  return which('llvm-strip') ?? which('llvm-strip-14');
}

/**
 * What the prebuilt objects were built from: sha256 over the name and bytes
 * of every `*.bpf.c` and `*.h` in `srcDir`, the clang flags and the strip
 * step. Not the kernel: the objects are CO-RE, relocated at load.
 */
export function sourcesDigest(srcDir) {
  const h = createHash('sha256').update(`${BPF_CFLAGS.join(' ')}\0-fdebug-prefix-map\0-fdebug-compilation-dir=.\0llvm-strip -g\0`);
  for (const f of readdirSync(srcDir).filter((x) => x.endsWith('.bpf.c') || x.endsWith('.h')).sort()) h.update(`${f}\0`).update(readFileSync(join(srcDir, f))).update('\0');
  return h.digest('hex');
}

/**
 * {@link sourcesDigest}, remembered in `srcDir/.build/sources-digest.json`
 * with what `stat` says of every source (inode, size, mtime and ctime in ns,
 * as git's index keeps them): a start-up then costs a directory listing and
 * a stat per source, not reading and hashing them. Any change of a source,
 * one added or removed, hashes again. Where the cache cannot be written (a
 * read-only install) every call hashes.
 */
export function cachedSourcesDigest(srcDir) {
  const files = readdirSync(srcDir).filter((x) => x.endsWith('.bpf.c') || x.endsWith('.h')).sort();
  const sig = files
    .map((f) => {
      const s = statSync(join(srcDir, f), { bigint: true });
      return `${f}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    })
    .join('\n');
  const cache = join(srcDir, '.build', 'sources-digest.json');
  try {
    const c = JSON.parse(readFileSync(cache, 'utf8'));
    if (c.sig === sig && typeof c.digest === 'string') return c.digest;
  } catch {
    // no cache yet, or an unreadable one: hashed below
  }
  const digest = sourcesDigest(srcDir);
  try {
    mkdirSync(dirname(cache), { recursive: true });
    const tmp = `${cache}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ sig, digest }));
    renameSync(tmp, cache);
  } catch {
    // read-only: the next start hashes again
  }
  return digest;
}

/** sha256 of a file, hex. */
export function fileDigest(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Where the bpf source's committed CO-RE objects live, under its `bpf/` folder. */
export const PREBUILT = 'prebuilt';

/**
 * The prebuilt objects' folder (`srcDir/prebuilt`) when its manifest was
 * built from exactly these sources, else `{ dir: null, reason }`.
 */
export function prebuiltDir(srcDir) {
  const dir = join(srcDir, PREBUILT);
  let m;
  try {
    m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return { dir: null, reason: `no prebuilt objects (${join(dir, 'manifest.json')})` };
  }
  if (m.sources !== cachedSourcesDigest(srcDir)) return { dir: null, reason: `the prebuilt objects in ${dir} are older than the sources (regenerate: node packages/core/scripts/build-bpf.mjs --prebuilt)` };
  return { dir, reason: null };
}
