/**
 * The CLI's bpffs across invocations: a state file (`$BPF_ITER_STATE`,
 * else `.bpf-iter/bpffs.json` under the current directory) holding
 * `BpfFs.serialize()` plus, per pin, the kernel it iterates and its link
 * parameters. Every invocation restores the pins into a fresh {@link BpfFs}
 * (programs reloaded, links re-attached), so a `cat` of a pin is a fresh
 * iteration, like `cat` of a bpffs file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BpfError, fail, withKernel } from '@bpf-iter/core';
import { BpfFs, type BpffsState, type PinnedLinkState } from '../bpffs.js';
import { encodeLinkInfo } from '../link_info.js';
import { isProgramSpec, type BpfProgramSpec } from '../program.js';
import { defaultDumper } from '../targets/index.js';
import { buildLinkInfo, closeFds, KernelCache, parseKernelSpec, type CliIo, type KernelSpec, type LinkParams } from './common.js';
import { JSON_ORIGIN, jsonDumper } from './json.js';

/** `origin.module` marking a built-in target's default dumper (restored with `defaultDumper`). */
export const BUILTIN_ORIGIN = 'bpf-iter:builtin';

/** What the CLI records per pin besides `PinnedLinkState`. */
export interface PinMeta {
  /** `synthetic:SEED` or `host`. */
  kernel: KernelSpec;
  /** Link parameters; fds (map, cgroup) are reopened on restore, so the ids/paths are kept, not fd numbers. */
  params: LinkParams;
}

/** The state file. */
export interface CliStateFile {
  version: 1;
  bpffs: BpffsState;
  pins: Record<string, PinMeta>;
}

/** A copy of `spec` that remembers where it comes from (so a pin can be restored). */
export function withOrigin(spec: BpfProgramSpec, origin: { module: string; export?: string }): BpfProgramSpec {
  // A spread keeps the brand symbol and any extra fields (e.g. `access`).
  return Object.freeze({ ...spec, origin });
}

/** The default dumper of a built-in target, marked for restore. */
export function builtinDumper(target: string): BpfProgramSpec | undefined {
  const d = defaultDumper(target);
  return d && withOrigin(d, { module: BUILTIN_ORIGIN, export: target });
}

/** Finds the program of a pin again: a built-in/JSON dumper by target, else the export of its module. */
export async function resolvePin(pin: PinnedLinkState): Promise<BpfProgramSpec> {
  const origin = pin.prog.origin;
  if (!origin) fail('ENOENT', `pin ${pin.path}: program ${pin.prog.name} has no recorded origin`);
  if (origin.module === BUILTIN_ORIGIN || origin.module === JSON_ORIGIN) {
    const spec = origin.module === BUILTIN_ORIGIN ? builtinDumper(origin.export ?? '') : jsonDumper(origin.export ?? '');
    if (!spec) fail('ENOENT', `pin ${pin.path}: no dumper for target '${origin.export}'`);
    return spec;
  }
  if (!existsSync(origin.module)) fail('ENOENT', `pin ${pin.path}: program module ${origin.module} no longer exists`);
  const mod = (await import(pathToFileURL(origin.module).href)) as Record<string, unknown>;
  const cand = origin.export ? mod[origin.export] : Object.values(mod).find((v) => isProgramSpec(v) && v.name === pin.prog.name);
  if (!isProgramSpec(cand)) fail('ENOENT', `pin ${pin.path}: program ${origin.export ?? pin.prog.name} not exported by ${origin.module}`);
  return cand.origin ? cand : withOrigin(cand, origin);
}

/** A pin that could not be restored: kept in the file, reported when used. */
interface BrokenPin {
  pin: PinnedLinkState;
  meta: PinMeta;
  error: BpfError;
}

/** One invocation's view of the persisted bpffs. */
export class CliState {
  /** This invocation's bpffs (not the process-wide one: tests run commands in-process). */
  readonly fs = new BpfFs();
  readonly kernels = new KernelCache();
  readonly meta = new Map<string, PinMeta>();
  private readonly broken = new Map<string, BrokenPin>();

  private constructor(readonly file: string) {}

  /** The state file path for an environment. */
  static pathFor(io: CliIo): string {
    const env = io.env ?? process.env;
    return env.BPF_ITER_STATE ? resolve(io.cwd ?? process.cwd(), env.BPF_ITER_STATE) : resolve(io.cwd ?? process.cwd(), '.bpf-iter', 'bpffs.json');
  }

  /** Reads the state file (if any) and restores every pin. */
  static async load(io: CliIo): Promise<CliState> {
    const st = new CliState(CliState.pathFor(io));
    if (!existsSync(st.file)) return st;
    let data: CliStateFile;
    try {
      data = JSON.parse(readFileSync(st.file, 'utf8')) as CliStateFile;
    } catch (e) {
      fail('EINVAL', `cannot parse state file ${st.file}: ${(e as Error).message}`);
    }
    if (data.version !== 1 || !data.bpffs) fail('EINVAL', `state file ${st.file}: unknown format`);
    for (const d of data.bpffs.dirs) st.fs.mkdir(d, { recursive: true });
    for (const pin of data.bpffs.pins) {
      const meta = data.pins?.[pin.path] ?? { kernel: 'synthetic:1', params: {} };
      try {
        await st.restorePin(pin, meta);
        st.meta.set(pin.path, meta);
      } catch (e) {
        const err = e instanceof BpfError ? e : new BpfError('EINVAL', (e as Error).message ?? String(e));
        st.broken.set(pin.path, { pin, meta, error: err });
      }
    }
    return st;
  }

  private async restorePin(pin: PinnedLinkState, meta: PinMeta): Promise<void> {
    const kspec = parseKernelSpec(meta.kernel);
    const kernel = this.kernels.get(kspec, pin.target);
    await withKernel(kernel, async () => {
      // Map/cgroup fds from the pinning process are gone: open them again by id/path.
      const built = buildLinkInfo(pin.target, meta.params, kernel);
      try {
        const link_info = Buffer.from(encodeLinkInfo(built.linkInfo ?? {})).toString('hex');
        await this.fs.restore({ version: 1, mount: this.fs.mount, dirs: [], pins: [{ ...pin, link_info }] }, resolvePin);
      } finally {
        closeFds(built.fds);
      }
    });
  }

  /** Throws the restore error of a broken pin at `path` (so `cat` says why). */
  checkUsable(path: string): void {
    const b = this.broken.get(normalize(path));
    if (b) throw new BpfError(b.error.errno, `cannot restore pin ${b.pin.path}: ${b.error.message.replace(/^E[A-Z0-9]+: /, '')}`);
  }

  /** EEXIST when a broken pin occupies `path` (it is not in {@link fs}). */
  checkFree(path: string): void {
    if (this.broken.has(normalize(path))) fail('EEXIST', `${path} exists`);
  }

  /** Removes a broken pin; true if there was one. */
  removeBroken(path: string): boolean {
    return this.broken.delete(normalize(path));
  }

  /** Pins that could not be restored, with the reason. */
  brokenPins(): { path: string; error: BpfError }[] {
    return [...this.broken.values()].map((b) => ({ path: b.pin.path, error: b.error }));
  }

  /** Writes the state file (atomically). */
  save(): void {
    const s = this.fs.serialize();
    const pins = [...s.pins, ...[...this.broken.values()].map((b) => b.pin)].sort((a, b) => (a.path < b.path ? -1 : 1));
    const meta: Record<string, PinMeta> = {};
    for (const p of pins) meta[p.path] = this.meta.get(p.path) ?? this.broken.get(p.path)!.meta;
    const file: CliStateFile = { version: 1, bpffs: { ...s, pins }, pins: meta };
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n');
    renameSync(tmp, this.file);
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

function normalize(p: string): string {
  return p.replace(/\/+$/, '').replace(/\/+/g, '/');
}
