/**
 * The CLI's bpffs across invocations: a state file (`$BPF_ITER_STATE`, else
 * `$XDG_STATE_HOME/bpf-iter/bpffs.json`, else
 * `~/.local/state/bpf-iter/bpffs.json`) holding `BpfFs.serialize()` plus,
 * per pin, the kernel it iterates and its link parameters. Every invocation
 * restores the pins into a fresh {@link BpfFs} (programs reloaded, links
 * re-attached), so a `cat` of a pin is a fresh iteration, like `cat` of a
 * bpffs file.
 *
 * The file is the user's own: created 0600 in a 0700 folder, refused (EPERM)
 * when another user owns it or its folder or either is group/world-writable.
 * Writers hold a lock (proper-lockfile) across read-modify-write and replace
 * the file with a temp file + rename, so parallel `pin`s all persist and a
 * failed write leaves the old file and no temp file. A character device
 * (`/dev/null`, `/dev/full`) reads as no state and is written in place.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { pathToFileURL } from 'node:url';
import { BpfError, fail, withKernel } from '@bpf-iter/core';
import { BpfFs, type BpffsState, type PinnedLinkState } from '../bpffs.js';
import { encodeLinkInfo } from '../link_info.js';
import { defineProgram, isProgramSpec, type BpfProgramSpec } from '../program.js';
import { buildLinkInfo, closeFds, kernelCache, parseKernelSpec, type KernelCache, type CliIo, type KernelSpec, type LinkParams } from './common.js';
import { JSON_ORIGIN, jsonDumper } from './json.js';

export { BUILTIN_ORIGIN, builtinDumper, withOrigin } from './dumpers.js';
import { BUILTIN_ORIGIN, builtinDumper, withOrigin } from './dumpers.js';

/** What the CLI records per pin besides `PinnedLinkState`. */
export interface PinMeta {
  /** `synthetic:SEED` or `host`. */
  kernel: KernelSpec;
  /** Link parameters; fds (map, cgroup) are reopened on restore, so the ids/paths are kept, not fd numbers. */
  params: LinkParams;
  /** For a program module: the sha256 of its bytes when pinned (it is imported again only while they match). */
  sha256?: string;
}

/** The state file. */
export interface CliStateFile {
  version: 1;
  bpffs: BpffsState;
  pins: Record<string, PinMeta>;
}

/**
 * Finds the program of a pin again. A built-in/JSON dumper is ours: found by
 * target. A program module is code: it is imported again only when
 * `importModule` (the user runs this pin: `cat PIN`), only while it is
 * byte-for-byte what was pinned (sha256) and only when no one else can
 * write it. Otherwise the pin is restored from its record (name, section,
 * tag, globals) with a body that refuses to run (EPERM): `link show`, `rm`
 * and `pin` never run code named in a data file.
 */
export async function resolvePin(pin: PinnedLinkState, meta: PinMeta, importModule: boolean): Promise<BpfProgramSpec> {
  const origin = pin.prog.origin;
  if (!origin) fail('ENOENT', `pin ${pin.path}: program ${pin.prog.name} has no recorded origin`);
  if (origin.module === BUILTIN_ORIGIN || origin.module === JSON_ORIGIN) {
    const spec = origin.module === BUILTIN_ORIGIN ? builtinDumper(origin.export ?? '') : jsonDumper(origin.export ?? '');
    if (!spec) fail('ENOENT', `pin ${pin.path}: no dumper for target '${origin.export}'`);
    return spec;
  }
  if (!importModule) return recordedSpec(pin, origin);
  checkModule(pin, origin.module, meta.sha256);
  const mod = (await import(pathToFileURL(origin.module).href)) as Record<string, unknown>;
  await new Promise((r) => setImmediate(r)); // a stray rejection of the module surfaces before it runs
  const cand = origin.export ? mod[origin.export] : Object.values(mod).find((v) => isProgramSpec(v) && v.name === pin.prog.name);
  if (!isProgramSpec(cand)) fail('ENOENT', `pin ${pin.path}: program ${origin.export ?? pin.prog.name} not exported by ${origin.module}`);
  return cand.origin ? cand : withOrigin(cand, origin);
}

/** The sha256 of a program module's bytes (recorded by `pin`, checked before a re-import). */
export function moduleSha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** EPERM unless the pinned module is still the user's own, unwritable by others, and unchanged. */
function checkModule(pin: PinnedLinkState, file: string, sha256: string | undefined): void {
  if (!isAbsolute(file)) fail('EPERM', `pin ${pin.path}: program module path ${file} is not absolute: not importing it`);
  const st = statOrNull(file);
  if (!st) fail('ENOENT', `pin ${pin.path}: program module ${file} no longer exists`);
  checkOwned(dirname(file), statSync(dirname(file)), 'program module folder');
  checkOwned(file, st, 'program module');
  if (typeof sha256 !== 'string') fail('EPERM', `pin ${pin.path}: no sha256 recorded for ${file}: not importing it (pin it again)`);
  const now = moduleSha256(file);
  if (now !== sha256) fail('EPERM', `pin ${pin.path}: program module ${file} changed since it was pinned (sha256 ${now.slice(0, 12)}…, pinned ${sha256.slice(0, 12)}…): not importing it (pin it again)`);
}

/** A pinned module program as the record describes it; its body is not loaded, so running it is EPERM. */
function recordedSpec(pin: PinnedLinkState, origin: { module: string; export?: string }): BpfProgramSpec {
  const spec = defineProgram({
    name: pin.prog.name,
    sec: pin.prog.sec,
    origin,
    fn: () => fail('EPERM', `pin ${pin.path}: program module ${origin.module} was not imported by this command`),
  });
  return typeof pin.prog.tag === 'string' ? Object.freeze({ ...spec, tag: pin.prog.tag }) : spec;
}

/** A pin that could not be restored: kept in the file as it was, reported when used, removable with `rm`. */
interface BrokenPin {
  /** The entry as read (JSON). */
  raw: unknown;
  /** Its `pins[path]` record as read. */
  meta: unknown;
  error: BpfError;
}

/** A state entry that is not usable, as `link show` reports it. */
export interface StateProblem {
  /** The entry's path, when it has one (then `rm PATH` removes it). */
  path?: string;
  /** Where in the file: `dirs[0]`, `pins[2]`. */
  where: string;
  error: BpfError;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** EINVAL unless `x` has the shape of a pin entry (so restore never meets a TypeError). */
function checkPinEntry(x: Record<string, unknown>): PinnedLinkState {
  const prog = x.prog;
  if (typeof x.target !== 'string') fail('EINVAL', 'no target');
  if (!isObj(prog) || typeof prog.name !== 'string' || typeof prog.sec !== 'string') fail('EINVAL', 'no prog name/sec');
  if (prog.origin !== undefined && (!isObj(prog.origin) || typeof prog.origin.module !== 'string' || (prog.origin.export !== undefined && typeof prog.origin.export !== 'string')))
    fail('EINVAL', 'bad prog origin');
  if (prog.tag !== undefined && (typeof prog.tag !== 'string' || !/^[0-9a-f]{16}$/.test(prog.tag))) fail('EINVAL', 'bad prog tag');
  if (typeof x.link_info !== 'string' || !/^([0-9a-f]{2})*$/.test(x.link_info)) fail('EINVAL', 'bad link_info');
  if (x.globals !== undefined && !isObj(x.globals)) fail('EINVAL', 'bad globals');
  return x as unknown as PinnedLinkState;
}

/** EINVAL unless `x` is a pin's CLI record (kernel, u32 ids, string paths). */
function checkPinMeta(x: unknown): PinMeta {
  if (x === undefined) return { kernel: 'synthetic:1', params: {} };
  if (!isObj(x) || typeof x.kernel !== 'string' || !isObj(x.params)) fail('EINVAL', 'bad kernel/params record');
  const p = x.params;
  for (const k of ['pid', 'tid', 'map'] as const) if (p[k] !== undefined && !(Number.isInteger(p[k]) && (p[k] as number) >= 0 && (p[k] as number) <= 0xffffffff)) fail('EINVAL', `bad ${k}`);
  for (const k of ['cgroup', 'order'] as const) if (p[k] !== undefined && typeof p[k] !== 'string') fail('EINVAL', `bad ${k}`);
  if (x.sha256 !== undefined && typeof x.sha256 !== 'string') fail('EINVAL', 'bad sha256');
  return x as unknown as PinMeta;
}

const asBpfError = (e: unknown): BpfError => (e instanceof BpfError ? e : new BpfError('EINVAL', `malformed entry (${(e as Error).message ?? String(e)})`));

/** One invocation's view of the persisted bpffs. */
export class CliState {
  /** This invocation's bpffs (not the process-wide one: tests run commands in-process). */
  readonly fs = new BpfFs();
  readonly kernels: KernelCache;
  readonly meta = new Map<string, PinMeta>();
  private readonly broken = new Map<string, BrokenPin>();
  /** Directory entries that could not be made (kept as they were, removable with `rm`). */
  private readonly brokenDirs = new Map<string, BpfError>();
  /** Entries with no path at all (`null`, `{}`): reported, and dropped at the next write. */
  private readonly dropped: StateProblem[] = [];

  private constructor(
    readonly file: string,
    io: CliIo,
  ) {
    this.kernels = kernelCache(io);
  }

  /**
   * The state file path for an environment: `$BPF_ITER_STATE` (relative to
   * the cwd), else `$XDG_STATE_HOME/bpf-iter/bpffs.json` (an absolute
   * `XDG_STATE_HOME` only, as the XDG spec says), else
   * `$HOME/.local/state/bpf-iter/bpffs.json`.
   */
  static pathFor(io: CliIo): string {
    const env = io.env ?? process.env;
    if (env.BPF_ITER_STATE) return resolve(io.cwd ?? process.cwd(), env.BPF_ITER_STATE);
    const xdg = env.XDG_STATE_HOME;
    const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.local', 'state');
    return join(base, 'bpf-iter', 'bpffs.json');
  }

  /**
   * Reads the state file (if any) and restores every pin; only the module
   * of the pin at `opts.run` (the one `cat` reads) may be imported. A bad
   * entry does not fail the load: it is kept aside ({@link problems}).
   */
  static async load(io: CliIo, opts: { run?: string } = {}): Promise<CliState> {
    const st = new CliState(CliState.pathFor(io), io);
    const text = readState(st.file);
    if (text === null) return st;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      fail('EINVAL', `cannot parse state file ${st.file}: ${(e as Error).message}`);
    }
    if (!isObj(data) || data.version !== 1 || !isObj(data.bpffs)) fail('EINVAL', `state file ${st.file}: unknown format (want version 1 with a bpffs object)`);
    const metas = isObj(data.pins) ? data.pins : {};
    const list = (k: 'dirs' | 'pins'): unknown[] => {
      const v = (data as { bpffs: Record<string, unknown> }).bpffs[k];
      if (v === undefined) return [];
      if (Array.isArray(v)) return v;
      st.dropped.push({ where: k, error: new BpfError('EINVAL', `not a list (${JSON.stringify(v)})`) });
      return [];
    };
    list('dirs').forEach((d, i) => {
      if (typeof d !== 'string') return st.dropped.push({ where: `dirs[${i}]`, error: new BpfError('EINVAL', `not a path (${JSON.stringify(d)})`) });
      try {
        st.fs.mkdir(d, { recursive: true });
      } catch (e) {
        st.brokenDirs.set(d, asBpfError(e));
      }
    });
    let run: string | undefined;
    try {
      run = opts.run === undefined ? undefined : st.fs.realpath(opts.run);
    } catch {
      // a path that does not walk: no pin of it is run
    }
    const pins = list('pins');
    for (let i = 0; i < pins.length; i++) {
      const raw = pins[i];
      if (!isObj(raw) || typeof raw.path !== 'string') {
        st.dropped.push({ where: `pins[${i}]`, error: new BpfError('EINVAL', `not a pin (${JSON.stringify(raw)})`) });
        continue;
      }
      const path = raw.path;
      try {
        const pin = checkPinEntry(raw);
        const meta = checkPinMeta(metas[path]);
        await st.restorePin(pin, meta, run === path);
        st.meta.set(path, meta);
      } catch (e) {
        st.broken.set(path, { raw, meta: metas[path], error: asBpfError(e) });
      }
    }
    return st;
  }

  private async restorePin(pin: PinnedLinkState, meta: PinMeta, importModule: boolean): Promise<void> {
    const kspec = parseKernelSpec(meta.kernel);
    const kernel = this.kernels.get(kspec, pin.target);
    await withKernel(kernel, async () => {
      // Map/cgroup fds from the pinning process are gone: open them again by id/path.
      const built = buildLinkInfo(pin.target, meta.params, kernel);
      try {
        const link_info = Buffer.from(encodeLinkInfo(built.linkInfo ?? {})).toString('hex');
        await this.fs.restore({ version: 1, mount: this.fs.mount, dirs: [], pins: [{ ...pin, link_info }] }, (p) => resolvePin(p, meta, importModule));
      } finally {
        closeFds(built.fds);
      }
    });
  }

  /** Throws the restore error of a broken pin at `path` (so `cat` says why). */
  checkUsable(path: string): void {
    const b = this.broken.get(path);
    if (b) throw new BpfError(b.error.errno, `cannot restore pin ${path}: ${b.error.message.replace(/^E[A-Z0-9]+: /, '')}`);
  }

  /** EEXIST when a broken entry occupies `path` (it is not in {@link fs}). */
  checkFree(path: string): void {
    if (this.broken.has(path) || this.brokenDirs.has(path)) fail('EEXIST', `${path} exists`);
  }

  /** Removes a broken entry (pin or directory) named exactly `path`; true if there was one. */
  removeBroken(path: string): boolean {
    return this.broken.delete(path) || this.brokenDirs.delete(path);
  }

  /** Entries that could not be used, in file order: broken dirs, broken pins, then pathless ones. */
  problems(): StateProblem[] {
    return [
      ...[...this.brokenDirs].map(([path, error]) => ({ path, where: 'dirs', error })),
      ...[...this.broken].map(([path, b]) => ({ path, where: 'pins', error: b.error })),
      ...this.dropped,
    ];
  }

  /**
   * Runs `fn` on the state under the state file's lock and saves it if `fn`
   * succeeded: the read-modify-write of one writer never loses another's.
   * EAGAIN when the lock cannot be taken (another writer holds it too long).
   */
  static async update(io: CliIo, fn: (st: CliState) => void | Promise<void>): Promise<void> {
    const file = CliState.pathFor(io);
    const release = await lockState(file);
    try {
      const st = await CliState.load(io);
      try {
        await fn(st);
        st.save();
      } finally {
        st.dispose();
      }
    } finally {
      await release();
    }
  }

  /** Writes the state file (temp file + rename; in place for a device). */
  save(): void {
    const s = this.fs.serialize();
    // Broken entries are written back as they were read; pathless ones are dropped.
    const pins: unknown[] = [...s.pins];
    const meta: Record<string, unknown> = {};
    for (const p of s.pins) meta[p.path] = this.meta.get(p.path);
    for (const [path, b] of this.broken) {
      pins.push(b.raw);
      if (b.meta !== undefined) meta[path] = b.meta;
    }
    const pathOf = (p: unknown) => (p as { path: string }).path;
    pins.sort((a, b) => (pathOf(a) < pathOf(b) ? -1 : pathOf(a) > pathOf(b) ? 1 : 0));
    const file = { version: 1, bpffs: { ...s, dirs: [...s.dirs, ...this.brokenDirs.keys()], pins }, pins: meta };
    writeState(this.file, JSON.stringify(file, null, 2) + '\n');
  }

  /** Pinned paths (restored ones) in path order. */
  pinPaths(): string[] {
    return this.fs.serialize().pins.map((p) => p.path);
  }

  /** Drops this invocation's links (pins are persisted, not the objects). */
  dispose(): void {
    for (const p of this.pinPaths()) {
      try {
        this.fs.rm(p);
      } catch {
        // already gone
      }
    }
  }
}

// ---- the state file on disk --------------------------------------------------

/** The failure of a file operation as a BpfError with its errno and the file named. */
function fsError(e: unknown, what: string): BpfError {
  if (e instanceof BpfError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const errno = typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : 'EIO';
  const msg = ((e as Error).message ?? String(e)).replace(/^E[A-Z0-9]+: /, '');
  return new BpfError(errno as never, `${what}: ${msg}`);
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(e, `cannot stat ${p}`);
  }
}

const euid = (): number => process.geteuid?.() ?? 0;

/** EPERM unless `st` is owned by this user (or root) and not group/world-writable. */
function checkOwned(p: string, st: Stats, what: string): void {
  if (st.uid !== euid() && st.uid !== 0) fail('EPERM', `${what} ${p} is owned by uid ${st.uid}, not this user (${euid()}): refusing it`);
  if (st.mode & 0o022) fail('EPERM', `${what} ${p} is group/world-writable (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}): refusing it`);
}

/**
 * Checks the state file and its folder; returns the file's stats (null if
 * there is none yet). The folder must be this user's and not writable by
 * others (anyone who can write it could replace the file); so must the file.
 * Character devices are taken as they are (`/dev/null`: no state).
 */
function checkStatePath(file: string): Stats | null {
  const st = statOrNull(file);
  if (st?.isCharacterDevice()) return st;
  if (st && !st.isFile()) fail('EINVAL', `state file ${file} is not a regular file`);
  const dir = statOrNull(dirname(file));
  if (dir) {
    if (!dir.isDirectory()) fail('ENOTDIR', `state folder ${dirname(file)} is not a directory`);
    checkOwned(dirname(file), dir, 'state folder');
  }
  if (st) checkOwned(file, st, 'state file');
  return st;
}

/** The state file's text, or null when there is none (or it is a device). */
function readState(file: string): string | null {
  const st = checkStatePath(file);
  if (!st || st.isCharacterDevice()) return null;
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw fsError(e, `cannot read state file ${file}`);
  }
}

let tmpSeq = 0;

/** Replaces the state file: a 0600 temp file beside it, fsync, rename; the temp file is removed on any failure. */
function writeState(file: string, text: string): void {
  const st = checkStatePath(file);
  if (st?.isCharacterDevice()) {
    // Renaming over a device node would replace it: write in place (/dev/full: ENOSPC).
    try {
      writeFileSync(file, text);
    } catch (e) {
      throw fsError(e, `cannot write state file ${file}`);
    }
    return;
  }
  ensureStateDir(file);
  const tmp = `${file}.${process.pid}.${tmpSeq++}.tmp`;
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    const buf = Buffer.from(text);
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, file);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw fsError(e, `cannot write state file ${file}`);
  }
}

/** Creates the state folder (0700) if missing. */
function ensureStateDir(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw fsError(e, `cannot create state folder ${dirname(file)}`);
  }
}

/**
 * Takes the writers' lock of the state file (`FILE.lock`, a directory made
 * with mkdir, stale after 10 s so a killed writer does not block forever).
 * No lock for a device (nothing is read back).
 */
async function lockState(file: string): Promise<() => Promise<void>> {
  if (checkStatePath(file)?.isCharacterDevice()) return async () => {};
  ensureStateDir(file);
  let compromised: Error | null = null;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, {
      realpath: false,
      lockfilePath: `${file}.lock`,
      stale: 10_000,
      retries: { retries: 1000, factor: 1.2, minTimeout: 5, maxTimeout: 100, randomize: true },
      onCompromised: (e) => {
        compromised = e;
      },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') fail('EAGAIN', `state file ${file} is locked by another bpf-iter (${file}.lock)`);
    throw fsError(e, `cannot lock state file ${file}`);
  }
  return async () => {
    try {
      await release();
    } catch {
      // already released (compromised)
    }
    if (compromised) fail('EAGAIN', `state file lock ${file}.lock was taken over: ${(compromised as Error).message}`);
  };
}


