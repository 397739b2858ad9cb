/**
 * The bin's bundles (scripts/build-bin.mjs) loaded through a V8 code cache:
 * what Node 22's `module.enableCompileCache()` does, for Node 20. A
 * bundle's first run compiles it as usual and, at exit, saves V8's code for
 * every function it compiled (`vm.Script#createCachedData`); later runs
 * start from that code instead of parsing and compiling the bundle again.
 *
 * The cache is data V8 executes, so it is used only from a place only this
 * user can write, and only for the exact bundle it was made from:
 *
 * - the directory is `$XDG_CACHE_HOME/bpf-iter/v8` (else `~/.cache/...`, else
 *   `$TMPDIR/bpf-iter-UID/v8`), created mode 0700; it and each file are used
 *   only when they are owned by this user (effective uid) and writable by no
 *   one else, and files are opened without following symlinks;
 * - a file holds a header (the Node version, arch and flags it was made
 *   with, the lengths), a copy of the bundle it was made from and V8's code.
 *   V8 itself checks only the source's length (a cache of another source of
 *   the same length is accepted and its code run) and, in release builds, no
 *   checksum: a file is used only when its copy of the bundle is byte for
 *   byte the bundle being loaded, and its header and a checksum of a sample
 *   of its code (a file cut, zeroed or overwritten) match; else it is
 *   ignored, and replaced at exit;
 * - files are written whole or not at all (a temporary file renamed), and
 *   any error reading or writing the cache only costs the cache: the bundle
 *   is compiled from its source. `BPF_ITER_CODE_CACHE=0` turns it off.
 */
import { closeSync, constants as fsConstants, fstatSync, lstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

/**
 * V8's interrupt budget for the bin: 8x the default (67584 bytes of
 * bytecode). A CLI run is short: with the default budget V8 tiers functions
 * run a thousand times (a /proc parser, the printf formatter) up to
 * TurboFan, whose compiles cost more CPU than they save before the process
 * exits (`cat task --kernel host` on ~1,100 threads: ~45 ms of its ~150 ms
 * beyond `node -e 0`); long runs still tier up, a little later (8x: `cat
 * task_file --kernel host` on ~120k fds takes the same CPU; 16x cost it ~10%).
 */
export const CLI_INTERRUPT_BUDGET = 8 * 67584;

/**
 * The V8 flags the bin sets before it compiles a bundle
 * ({@link setCliV8Flags}): none that the user's own `node` flags or
 * `NODE_OPTIONS` already set.
 */
export function cliV8Flags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--(interrupt[-_]budget|no[-_]opt|max[-_]opt|jitless)\b/.test(a));
  return given ? [] : [`--interrupt-budget=${CLI_INTERRUPT_BUDGET}`];
}

/**
 * Sets {@link cliV8Flags} (bin/bpf-iter.cjs, before the first bundle: V8
 * keeps a code cache only for the flags it was made with, so every run sets
 * the same ones first). Returns the flags set.
 */
export function setCliV8Flags(): string[] {
  const flags = cliV8Flags();
  // node:v8 is required on first use (scripts/build-bin.mjs: it loads Node's streams, ~4 ms).
  if (flags.length) setFlagsFromString(flags.join(' '));
  return flags;
}

/** What happened to a bundle's cache when it was loaded. */
export type CodeCacheStatus =
  /** Used: V8 took the cached code. */
  | 'hit'
  /** No cache file yet. */
  | 'miss'
  /** A file that does not match the bundle, Node or itself (header, lengths, copy of the bundle, checksum): ignored. */
  | 'stale'
  /** The file matched but V8 refused it (another V8 build or flags). */
  | 'rejected'
  /** The directory or file is not safe to run code from (owner, mode, symlink): not read, not written. */
  | 'unsafe'
  /** No cache: turned off (`BPF_ITER_CODE_CACHE=0`) or no directory to keep it in. */
  | 'off';

/** A bundle loaded by {@link requireBundle}. */
export interface LoadedBundle {
  exports: unknown;
  status: CodeCacheStatus;
}

const MAGIC = 0x43544942; // "BITC"
const FORMAT = 2;
/** Header: magic, format, source length, cache length, cache checksum, key length (u32 each); then the key, the source, the cache. */
const HEADER = 6 * 4;
/** The checksum reads one 32-bit word in this many (and the last bytes): cheap before the JIT warms up. */
const SAMPLE_STRIDE = 16;

/**
 * A 32-bit checksum of a sample of `b`: FNV-1a over every
 * {@link SAMPLE_STRIDE}th 32-bit word and the tail bytes. Tells a file that
 * was cut short, zeroed or overwritten; alignment-independent.
 */
export function checksum(b: Uint8Array): number {
  // The words of an aligned copy when `b` is not aligned (a slice of a larger buffer).
  const a = b.byteOffset % 4 === 0 ? b : Uint8Array.prototype.slice.call(b);
  const words = new Int32Array(a.buffer, a.byteOffset, a.byteLength >>> 2);
  let h = 0x811c9dc5 ^ a.byteLength;
  for (let w = 0; w < words.length; w += SAMPLE_STRIDE) h = Math.imul(h ^ words[w]!, 0x01000193);
  for (let i = words.length * 4; i < a.byteLength; i++) h = Math.imul(h ^ a[i]!, 0x01000193);
  return h >>> 0;
}

/** What a cache was made with besides its bundle: V8 rejects code of another build or other flags, and the file name keeps them apart. */
function cacheKey(filename: string, env: NodeJS.ProcessEnv): string {
  return `${process.version} ${process.arch} ${process.execArgv.join(' ')} ${env.NODE_OPTIONS ?? ''} ${filename}`;
}

/** A short hash of a string for a file name (FNV-1a). */
function nameHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * The directory of the code caches, or null when there is none to use
 * (`BPF_ITER_CODE_CACHE=0`, or no usable base directory).
 */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.BPF_ITER_CODE_CACHE === '0') return null;
  if (env.XDG_CACHE_HOME?.startsWith('/')) return join(env.XDG_CACHE_HOME, 'bpf-iter', 'v8');
  if (env.HOME?.startsWith('/')) return join(env.HOME, '.cache', 'bpf-iter', 'v8');
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
  if (uid < 0) return null;
  const tmp = env.TMPDIR?.startsWith('/') ? env.TMPDIR : '/tmp';
  return join(tmp, `bpf-iter-${uid}`, 'v8');
}

/** True when a stat is this user's and writable by no one else (group or other). */
function ownedSafe(st: { uid: number; mode: number }): boolean {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
  return st.uid === uid && (st.mode & 0o022) === 0;
}

/**
 * The cache directory, checked (a directory, not a symlink, this user's,
 * writable by no one else); with `create`, made (mode 0700) when missing.
 * 'missing' or 'unsafe' otherwise.
 */
/** lstat, undefined for a path that cannot be there (ENOENT, ENOTDIR, EACCES...). */
function lstatOrNone(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function checkedDir(dir: string, create: boolean): string | 'missing' | 'unsafe' {
  let st = lstatOrNone(dir);
  if (!st) {
    if (!create) return 'missing';
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch {
      return 'missing';
    }
    st = lstatOrNone(dir);
    if (!st) return 'missing';
  }
  if (!st.isDirectory() || !ownedSafe(st)) return 'unsafe';
  // The directory holding it too (the $TMPDIR/bpf-iter-UID level): no one else may swap it.
  const up = lstatOrNone(dirname(dir));
  if (!up || !up.isDirectory() || !ownedSafe(up)) return 'unsafe';
  return dir;
}

/** Reads the whole file at an open fd. */
function readFd(fd: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, b, off, size - off, null);
    if (n <= 0) break;
    off += n;
  }
  return off === size ? b : b.subarray(0, off);
}

/** The cached code of a bundle from its file, or the reason there is none. */
function readCache(path: string, key: string, source: Buffer): Buffer | 'miss' | 'stale' | 'unsafe' {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as { code?: string }).code;
    return code === 'ENOENT' ? 'miss' : code === 'ELOOP' ? 'unsafe' : 'stale';
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !ownedSafe(st)) return 'unsafe';
    if (st.size < HEADER) return 'stale';
    const b = readFd(fd, st.size);
    if (b.length < HEADER) return 'stale';
    const keyBytes = Buffer.from(key, 'utf8');
    const u = (i: number) => b.readUInt32LE(i * 4);
    if (u(0) !== MAGIC || u(1) !== FORMAT || u(2) !== source.length || u(5) !== keyBytes.length) return 'stale';
    const at = HEADER + keyBytes.length;
    const code = at + source.length;
    if (b.length !== code + u(3) || !b.subarray(HEADER, at).equals(keyBytes)) return 'stale';
    // The bundle it was made from, byte for byte (memcmp): V8 would take any source of its length.
    if (!b.subarray(at, code).equals(source)) return 'stale';
    const data = b.subarray(code);
    if (checksum(data) !== u(4)) return 'stale';
    return data;
  } catch {
    return 'stale';
  } finally {
    closeSync(fd);
  }
}

/** Writes a cache file whole (a temporary file in the same directory, renamed over it) or not at all. */
function writeCache(path: string, key: string, source: Buffer, data: Buffer): void {
  const keyBytes = Buffer.from(key, 'utf8');
  const head = Buffer.alloc(HEADER);
  [MAGIC, FORMAT, source.length, data.length, checksum(data), keyBytes.length].forEach((v, i) => head.writeUInt32LE(v, i * 4));
  const tmp = `${path}.${process.pid}.tmp`;
  let fd = -1;
  try {
    fd = openSync(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
    for (const part of [head, keyBytes, source, data]) for (let off = 0; off < part.length; ) off += writeSync(fd, part, off, part.length - off);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // not created
    }
  }
}

/**
 * `import()` of a command module next to a bundle (`dir/spec`, tsup's ESM
 * build): the main bundle's dynamic imports call this (scripts/build-bin.mjs
 * rewrites them), since code compiled by `vm.Script` cannot import without
 * an experimental loader option.
 */
export function importCommand(dir: string, spec: string): Promise<unknown> {
  return import(pathToFileURL(join(dir, spec)).href);
}

/** Scripts whose cache is to be written at exit. */
const pending: { script: Script; path: string; key: string; source: Buffer; dir: string }[] = [];
const loaded = new Map<string, LoadedBundle>();

/** Writes the caches of the bundles loaded without a usable one (at exit: V8's code of every function compiled by then). */
export function saveCodeCaches(): void {
  for (const p of pending.splice(0)) {
    try {
      if (checkedDir(p.dir, true) !== p.dir) continue;
      writeCache(p.path, p.key, p.source, p.script.createCachedData());
    } catch {
      // No cache this time.
    }
  }
}

/**
 * Loads a CommonJS bundle (once per process, like `require`) through the
 * code cache in `cacheDir` (default {@link codeCacheDir}); what the cache
 * did is in `status`. Errors of the bundle itself propagate; the cache's
 * never do.
 *
 * @example
 * ```ts
 * // bin/bpf-iter.cjs
 * require('../dist/cli/code_cache.cjs').requireBundle(join(__dirname, '../dist/cli/bpf-iter.cjs'));
 * ```
 */
export function requireBundle(filename: string, cacheDir: string | null = codeCacheDir()): { exports: unknown; status: CodeCacheStatus } {
  const done = loaded.get(filename);
  if (done) return done;
  const r: LoadedBundle = { exports: {}, status: 'off' };
  // Registered before it runs, as require does: a bundle requiring itself back gets its exports so far.
  loaded.set(filename, r);
  try {
    return loadBundle(filename, cacheDir, r);
  } catch (e) {
    loaded.delete(filename);
    throw e;
  }
}

/**
 * {@link requireBundle} without the once-per-process registry: compiles
 * (through the cache) and runs the bundle every call. `into` receives the
 * exports as they are set.
 */
export function loadBundle(filename: string, cacheDir: string | null, into: LoadedBundle = { exports: {}, status: 'off' }): LoadedBundle {
  const req = createRequire(filename);
  const module = { exports: into.exports, filename, id: filename, loaded: false };
  const fd = openSync(filename, 'r');
  let source: Buffer;
  try {
    source = readFd(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
  let status: CodeCacheStatus = 'off';
  let cached: Buffer | undefined;
  const key = cacheKey(filename, process.env);
  const path = cacheDir === null ? '' : join(cacheDir, `${basename(filename)}.${nameHash(key)}.v8`);
  if (cacheDir !== null) {
    const dir = checkedDir(cacheDir, false);
    if (dir === 'unsafe') status = 'unsafe';
    else if (dir === 'missing') status = 'miss';
    else {
      const r = readCache(path, key, source);
      if (typeof r === 'string') status = r;
      else {
        cached = r;
        status = 'hit';
      }
    }
  }
  // The bundle's text as CommonJS wraps it, on its first line (line numbers kept); a shebang becomes a comment.
  let text = source.toString(isAscii(source) ? 'latin1' : 'utf8');
  if (text.startsWith('#!')) text = '//' + text.slice(2);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${text}\n})`, { filename, ...(cached ? { cachedData: cached } : {}) });
  if (cached && script.cachedDataRejected) status = 'rejected';
  if (cacheDir !== null && status !== 'hit' && status !== 'unsafe') {
    if (!pending.length) process.once('exit', saveCodeCaches);
    pending.push({ script, path, key, source, dir: cacheDir });
  }
  into.status = status;
  (script.runInThisContext() as (...a: unknown[]) => void).call(module.exports, module.exports, req, module, filename, dirname(filename));
  module.loaded = true;
  into.exports = module.exports;
  return into;
}
