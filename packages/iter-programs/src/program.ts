/**
 * Iterator programs: `SEC("iter/<target>")` functions, their loading
 * (`BPF_PROG_LOAD` of a `BPF_PROG_TYPE_TRACING` / `BPF_TRACE_ITER`
 * program, resolved the way libbpf and the kernel do) and the loaded
 * `struct bpf_prog`.
 */
import { createHash } from 'node:crypto';
import { BPF_ITER_FUNC_PREFIX, BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, BpfProg as KernelProg, currentKernel, fail, type Kernel } from '@bpf-iter/core';
import { BPF_TAG_SIZE, BTF_TYPE_NAME_MAX } from './constants.js';
import { allocModelId, freeModelId } from './ids.js';
import { findTarget, type BpfCtxArgAux, type BpfIterTargetInfo } from './registry.js';
import type { FdObject } from './fd_table.js';
import type { SeqFile } from './seq_file.js';
import { bpf_iter_func_proto, helperId } from './helpers/func_proto.js';

/** `struct bpf_iter_meta`: the first member of every iterator ctx. */
export interface BpfIterMeta {
  /** Output handle for the `bpf_seq_*` helpers. */
  readonly seq: SeqFile;
  /** Per-session id, globally increasing, first session gets 1n. */
  readonly session_id: bigint;
  /** 0-based index of the current object within the session. */
  readonly seq_num: bigint;
}

/** `struct bpf_iter__<target>`: `{ meta, ...targetFields }`, read-only. */
export type BpfIterCtx<F extends object = Record<string, unknown>> = Readonly<{ meta: BpfIterMeta } & F>;

/**
 * Skeleton-style global data of a program object: `.bss`, `.data`,
 * `.rodata` sections, shared by the programs of one object and visible to
 * user space as `skel.bss.target_pid` etc.
 */
export interface BpfGlobals<B extends object = Record<string, any>, D extends object = Record<string, any>, R extends object = Record<string, any>> {
  bss: B;
  data: D;
  rodata: R;
}

/**
 * The program body. Called as `fn.call(globals, ctx, globals)`; must return
 * 0 (continue) or 1 (retry this object, `-EAGAIN`). Anything else is what
 * the verifier would have rejected ("R0 should have been in [0, 1]"): the
 * read fails with EINVAL.
 */
export type BpfIterProgFn<F extends object = any, G = BpfGlobals> = (this: G, ctx: BpfIterCtx<F>, globals: G) => number;

/** Brand of program specs (so a module's exports can be scanned). */
export const BPF_PROGRAM_SPEC: unique symbol = Symbol.for('bpf-iter.program-spec') as never;

/** An unloaded program: what `SEC("iter/task") int prog(ctx) {...}` declares. */
export interface BpfProgramSpec<F extends object = any, G = any> {
  readonly [BPF_PROGRAM_SPEC]: true;
  /** Program (function) name. */
  readonly name: string;
  /** Section name: `iter/<target>` or `iter.s/<target>` (sleepable). */
  readonly sec: string;
  readonly fn: BpfIterProgFn<F, G>;
  /** Helpers the program calls; checked at load like the verifier does. */
  readonly helpers?: readonly string[];
  /** `char _license[] SEC("license")`; the bpf_seq_* helpers are GPL-only. */
  readonly license?: string;
  /** Where the program comes from (module path + export), for persisting pins. */
  readonly origin?: { module: string; export?: string };
  /** How far the program reaches into the ctx's key/value buffers (checked at link creation). */
  readonly access?: BpfProgAccess;
  /**
   * @internal The `prog_tag` of a program restored from a record without its
   * text (a pin whose module was not imported): the tag it had when pinned.
   */
  readonly tag?: string;
}

/**
 * The furthest byte (offset + size) a program touches in the ctx buffers,
 * what the verifier records as `max_rdonly_access` (the read-only `key`) and
 * `max_rdwr_access` (the writable `value`). Links of `bpf_map_elem`,
 * `sockmap` and `bpf_sk_storage_map` fail with EACCES when it exceeds the
 * map's key_size / value_size. Declare it with `SEC(sec, fn, { access })`.
 */
export interface BpfProgAccess {
  /** Bytes of `ctx.key` read (e.g. 4 for a `u32` key). */
  key?: number;
  /** Bytes of `ctx.value` read or written. */
  value?: number;
}

/** Options of {@link SEC}. */
export interface SecOptions {
  name?: string;
  helpers?: readonly string[];
  license?: string;
  origin?: { module: string; export?: string };
  /** See {@link BpfProgAccess}. */
  access?: BpfProgAccess;
}

/**
 * Declares an iterator program, like `SEC("iter/task_file") int
 * dump_task_file(struct bpf_iter__task_file *ctx)`.
 * The name defaults to the function's name.
 *
 * @throws Never: the section is checked by {@link loadProgram} (EINVAL for a non-`iter/` section).
 *
 * @example
 * ```ts
 * export const dump_task = SEC<BpfIterTaskCtx>('iter/task', function dump_task(ctx) {
 *   if (ctx.task === null) return 0; // the stop call
 *   BPF_SEQ_PRINTF(ctx.meta.seq, '%8d %s\n', ctx.task.pid, ctx.task.comm);
 *   return 0;
 * });
 * ```
 */
export function SEC<F extends object = any, G = any>(sec: string, fn: BpfIterProgFn<F, G>, opts: SecOptions = {}): BpfProgramSpec<F, G> {
  return defineProgram({ sec, fn, name: opts.name ?? fn.name, helpers: opts.helpers, license: opts.license, origin: opts.origin, access: opts.access });
}

/** Declares a program from a spec object (see {@link SEC}). */
export function defineProgram<F extends object = any, G = any>(spec: {
  name: string;
  sec: string;
  fn: BpfIterProgFn<F, G>;
  helpers?: readonly string[] | undefined;
  license?: string | undefined;
  origin?: { module: string; export?: string } | undefined;
  access?: BpfProgAccess | undefined;
}): BpfProgramSpec<F, G> {
  if (typeof spec.fn !== 'function') fail('EINVAL', 'program fn must be a function');
  const access = spec.access;
  if (access !== undefined) {
    // A negative offset into the buffers fails verification (selftest buf-neg-offset).
    for (const k of ['key', 'value'] as const)
      if (access[k] !== undefined && !(Number.isInteger(access[k]) && access[k]! >= 0)) fail('EINVAL', `prog '${spec.name}': access.${k} must be a non-negative integer (R1 min value is negative)`);
  }
  const out: BpfProgramSpec<F, G> = {
    [BPF_PROGRAM_SPEC]: true,
    name: spec.name || 'anon',
    sec: spec.sec,
    fn: spec.fn,
    license: spec.license ?? 'GPL',
    ...(spec.helpers ? { helpers: [...spec.helpers] } : {}),
    ...(spec.origin ? { origin: spec.origin } : {}),
    ...(access ? { access: Object.freeze({ ...access }) } : {}),
  };
  return Object.freeze(out);
}

/** True for values made by {@link SEC} / {@link defineProgram}. */
export function isProgramSpec(x: unknown): x is BpfProgramSpec {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[BPF_PROGRAM_SPEC] === true;
}

/** Parses `iter/<target>` / `iter.s/<target>`; null for other sections. */
export function parseIterSec(sec: string): { target: string; sleepable: boolean } | null {
  if (sec.startsWith('iter/')) return { target: sec.slice(5), sleepable: false };
  if (sec.startsWith('iter.s/')) return { target: sec.slice(7), sleepable: true };
  return null;
}

/**
 * What a program fd refers to: the iterator program as this package runs it
 * (spec, body, globals, verified target) around core's `struct bpf_prog`
 * ({@link BpfProgFd.kprog}), the one object the `bpf_prog` iterator walks.
 * There is one reference count, the core object's: fds, links and iterator
 * sessions take and drop references on it.
 */
export class BpfProgFd implements FdObject {
  readonly fdKind = 'prog';
  readonly type = 'tracing' as const;
  readonly expected_attach_type = 'BPF_TRACE_ITER' as const;
  /** Program id (`prog_id`). */
  readonly id: number;
  readonly name: string;
  readonly sec: string;
  /** Target name from the section. */
  readonly targetName: string;
  readonly sleepable: boolean;
  /** BTF id of `bpf_iter_<target>` (the target's). */
  readonly attach_btf_id: number;
  /** The target the program was verified against. */
  readonly target: BpfIterTargetInfo;
  /** This program's own copy of the target's `ctx_arg_info`. */
  readonly ctx_arg_info: readonly BpfCtxArgAux[];
  readonly globals: BpfGlobals;
  readonly spec: BpfProgramSpec;
  /** `license_is_gpl_compatible(license)`: GPL-only helpers need it. */
  readonly gpl_compatible: boolean;
  /** The kernel the program is loaded into; its links and sessions iterate it. */
  readonly kernel: Kernel;
  /** The program as the kernel model (and the `bpf_prog` iterator) sees it. */
  readonly kprog: KernelProg;
  private readonly fn: BpfIterProgFn;

  /** @internal use {@link loadProgram}. */
  constructor(spec: BpfProgramSpec, target: BpfIterTargetInfo, sleepable: boolean, globals: BpfGlobals, kernel: Kernel = currentKernel()) {
    this.spec = spec;
    this.name = spec.name;
    this.sec = spec.sec;
    this.targetName = target.reg.target;
    this.sleepable = sleepable;
    this.target = target;
    this.attach_btf_id = target.btf_id;
    this.ctx_arg_info = Object.freeze((target.reg.ctx_arg_info ?? []).map((a) => Object.freeze({ ...a })));
    this.globals = globals;
    this.fn = spec.fn;
    this.gpl_compatible = isGplCompatible(spec.license ?? 'GPL');
    this.kernel = kernel;
    // The tag is computed when something shows it (bpffs fdinfo, prog show, bpf_prog iterator): node:crypto loads then.
    this.kprog = new KernelProg(BPF_PROG_TYPE_TRACING, this.name.slice(0, 15), spec.tag ?? (() => progTag(spec)), BPF_TRACE_ITER, BPF_ITER_FUNC_PREFIX + target.reg.target);
    this.id = allocModelId('prog', kernel, this.kprog);
  }

  /** 16 hex chars (`prog_tag`): first 8 bytes of a SHA-1 of the program text (computed on first read). */
  get tag(): string {
    return this.kprog.tag;
  }

  /** Kernel-visible name (`BPF_OBJ_NAME_LEN` 16 incl. NUL). */
  get kernelName(): string {
    return this.name.slice(0, 15);
  }

  /** Runs the body on a ctx (no return-value check; see `bpf_iter_run_prog`). */
  run(ctx: object): unknown {
    return this.fn.call(this.globals, ctx as never, this.globals);
  }

  /** References (fds, links, iterator sessions): the core object's count. */
  get refcnt(): number {
    return this.kprog.refcnt;
  }
  /** `bpf_prog_inc`. */
  get(): this {
    if (this.kprog.refcnt <= 0) fail('EINVAL', `prog ${this.id} already freed`);
    this.kprog.get();
    return this;
  }
  /** `bpf_prog_put`: the last reference (the one the load created) frees the id. */
  put(): void {
    if (this.kprog.refcnt === 1) freeModelId('prog', this.kernel, this.kprog);
    else this.kprog.put();
  }
  fdRelease(): void {
    this.put();
  }
}

/** A model program's `prog_tag`: the first 8 bytes of a SHA-1 of its section, name and body, in hex. */
function progTag(spec: BpfProgramSpec): string {
  return createHash('sha1').update(`${spec.sec}\0${spec.name}\0${spec.fn.toString()}`).digest('hex').slice(0, BPF_TAG_SIZE * 2);
}

/** Options of {@link loadProgram}. */
export interface LoadProgramOptions {
  /** Global data the program sees as `this` / second argument. */
  globals?: Partial<BpfGlobals>;
  /** The kernel to load into (default: the ambient one, see `withKernel`). */
  kernel?: Kernel;
}

/**
 * Loads (verifies) an iterator program: `BPF_PROG_LOAD` as libbpf drives
 * it for `SEC("iter/<target>")`.
 *
 * Errors (thrown {@link BpfError}):
 * - section not `iter/…` / `iter.s/…` → EINVAL (libbpf: missing BPF prog type);
 * - `bpf_iter_<target>` 128 bytes or longer → ENAMETOOLONG (libbpf);
 * - no such target → ESRCH, message
 *   `prog '<p>': failed to find kernel BTF type ID of '<target>': -3` (libbpf);
 * - a declared helper the program type/target does not offer → EINVAL
 *   `unknown func <name>#<id>` (verifier);
 * - a bpf_seq_* helper declared by a non-GPL program → EINVAL
 *   (`cannot call GPL-restricted function from non-GPL compatible program`).
 *
 * @throws {@link @bpf-iter/core!BpfError}: EINVAL, ENAMETOOLONG or ESRCH as listed.
 *
 * @example
 * ```ts
 * import { attachIter, loadProgram, SEC, BPF_SEQ_PRINTF, type BpfIterTaskCtx } from '@bpf-iter/iter-programs';
 * const dump = SEC<BpfIterTaskCtx>('iter/task', (ctx) => {
 *   if (ctx.task) BPF_SEQ_PRINTF(ctx.meta.seq, '%d %s\n', ctx.task.pid, ctx.task.comm);
 *   return 0;
 * });
 * const link = attachIter(loadProgram(dump));
 * ```
 */
export function loadProgram(spec: BpfProgramSpec, opts: LoadProgramOptions = {}): BpfProgFd {
  if (!isProgramSpec(spec)) fail('EINVAL', 'not a program spec (use SEC() or defineProgram())');
  const parsed = parseIterSec(spec.sec);
  if (!parsed) fail('EINVAL', `prog '${spec.name}': missing BPF prog type, check ELF section name '${spec.sec}'`);
  const btfName = BPF_ITER_FUNC_PREFIX + parsed.target;
  if (Buffer.byteLength(btfName) >= BTF_TYPE_NAME_MAX)
    fail('ENAMETOOLONG', `prog '${spec.name}': BTF type name '${btfName.slice(0, 40)}…' too long`);
  const target = findTarget(parsed.target);
  if (!target) fail('ESRCH', `prog '${spec.name}': failed to find kernel BTF type ID of '${parsed.target}': -3`);
  const g = opts.globals ?? {};
  const globals: BpfGlobals = { bss: g.bss ?? {}, data: g.data ?? {}, rodata: Object.freeze(g.rodata ?? {}) };
  const prog = new BpfProgFd(spec, target, parsed.sleepable, globals, opts.kernel ?? currentKernel());
  try {
    for (const h of spec.helpers ?? []) {
      if (!bpf_iter_func_proto(h, prog)) fail('EINVAL', `unknown func ${h}#${helperId(h)}`);
      if (h.startsWith('bpf_seq_') && !isGplCompatible(spec.license ?? 'GPL'))
        fail('EINVAL', 'cannot call GPL-restricted function from non-GPL compatible program');
    }
  } catch (e) {
    prog.put();
    throw e;
  }
  return prog;
}

/** `license_is_gpl_compatible`. */
export function isGplCompatible(license: string): boolean {
  return ['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL'].includes(license);
}

