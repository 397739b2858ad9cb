/**
 * The iterator target registry: `bpf_iter_reg_target()` /
 * `bpf_iter_unreg_target()` of kernel/bpf/bpf_iter.c, with
 * `struct bpf_iter_reg` as {@link BpfIterReg}.
 */
import { fail, type BpfMap, type Cgroup, type Kernel } from '@bpf-iter/core';
import { BPF_ITER_CTX_ARG_MAX, BPF_ITER_RESCHED } from './constants.js';
import type { ErrPtr } from './ptr.js';
import type { SeqFile } from './seq_file.js';
import type { BpfProgFd } from './program.js';
import type { BpfIterLinkInfo } from './link_info.js';

/** `loff_t *pos`: a mutable position box (the seq file's `index`). */
export interface LoffT {
  value: number;
}

/**
 * `struct seq_operations` for an iterator target. Objects are any non-null
 * JS value; `null` is NULL (end of iteration); an {@link ErrPtr} is an
 * error pointer (`ERR_PTR(-errno)`).
 *
 * - `start(seq, pos)`: the object at `pos.value` (`pos.value === 0` on
 *   the very first call of a session). Called at the start of every
 *   generating `read()`.
 * - `next(seq, v, pos)`: advance; must increment `pos.value` (the engine
 *   does it for buggy targets, as the kernel does).
 * - `stop(seq, v)`: called once per generating read; `v === null` means the
 *   iteration ended and the target must make the *end call*
 *   (`show` logic with `in_stop = true`, which runs the program with NULL
 *   object pointers unless it already ran).
 * - `show(seq, v)`: run the program on `v`; returns 0, `> 0` to skip the
 *   object (`SEQ_SKIP`), or a negative errno (normally the `-EAGAIN` of
 *   {@link bpf_iter_run_prog} when the program returned 1).
 */
export interface SeqOperations<V = any, P = any> {
  start(seq: SeqFile<P>, pos: LoffT): V | null | ErrPtr;
  next(seq: SeqFile<P>, v: V, pos: LoffT): V | null | ErrPtr;
  stop(seq: SeqFile<P>, v: V | null | ErrPtr): void;
  show(seq: SeqFile<P>, v: V): number;
}

/**
 * `struct bpf_iter_seq_info`: seq ops plus the per-session private state.
 * `seq_priv()` replaces `seq_priv_size` (it allocates the zeroed private
 * area); `init_seq_private` returns 0 or a negative errno (e.g. -ENOMEM),
 * which fails `BPF_ITER_CREATE` / the bpffs open.
 */
export interface BpfIterSeqInfo<V = any, P = any, A extends BpfIterAuxInfo = BpfIterAuxInfo> {
  seq_ops: SeqOperations<V, P>;
  seq_priv: () => P;
  init_seq_private?(priv_data: P, aux: A): number | void;
  fini_seq_private?(priv_data: P): void;
}

/** Verifier register types used in `ctx_arg_info`. */
export type BpfRegType =
  | 'PTR_TO_BTF_ID'
  | 'PTR_TO_BTF_ID_OR_NULL'
  | 'PTR_TO_BTF_ID_OR_NULL|PTR_TRUSTED'
  | 'PTR_TO_RDONLY_BUF_OR_NULL'
  | 'PTR_TO_BUF|PTR_MAYBE_NULL'
  | 'PTR_TO_BUF|MEM_RDONLY|PTR_MAYBE_NULL';

/** `struct bpf_ctx_arg_aux`: a ctx pointer field that may be NULL. */
export interface BpfCtxArgAux {
  /** Byte offset in `struct bpf_iter__<target>` (8, 16, 24). */
  offset: number;
  /** The ctx field name (JS property), e.g. `'task'`. */
  field: string;
  reg_type: BpfRegType;
  /** BTF type the pointer points to, e.g. `'task_struct'`. */
  btf_type?: string;
}

/**
 * `struct bpf_iter_aux_info`: per-link state filled by `attach_target`
 * and handed to `init_seq_private`, `show_fdinfo`, `fill_link_info`.
 * Targets add their own members.
 */
export interface BpfIterAuxInfo {
  /** The kernel the link iterates (given at link creation; else the ambient one). */
  kernel?: Kernel;
  /** Map targets: the map the link holds a reference on. */
  map?: MapAux;
  /** `cgroup`: the start cgroup (referenced) and the walk order. */
  cgroup?: CgroupAux;
  /** Task targets: the tid/pid filter. */
  task?: TaskAux;
}

/** `aux->map`: the map a map target's link holds a reference on. */
export interface MapAux {
  map: BpfMap;
  map_id: number;
}

/** `aux->cgroup`: the start cgroup (the link holds a reference) and `enum bpf_cgroup_iter_order`. */
export interface CgroupAux {
  start: Cgroup;
  order: number;
}

/** `aux->task`: task link parameters as attach stored them. */
export interface TaskAux {
  type: 'ALL' | 'TID' | 'PID';
  pid: number;
}

/**
 * The aux a target's hooks see once its `attach_target` filled the members
 * `K`: a target registers as `BpfIterReg<V, P, BpfIterAuxOf<'task'>>` and its
 * `detach_target`, `show_fdinfo`, `fill_link_info` and `init_seq_private`
 * read them without casts.
 */
export type BpfIterAuxOf<K extends keyof BpfIterAuxInfo> = BpfIterAuxInfo & Required<Pick<BpfIterAuxInfo, K>>;

/** `struct bpf_link_info.iter` (§3.5), as a mutable object. */
export interface BpfLinkInfoIter {
  /** In: the user's name buffer (or null); out: NUL-terminated name bytes. */
  target_name: Uint8Array | null;
  /** In: size of `target_name`; out: `strlen(target) + 1`. */
  target_name_len: number;
  map: { map_id: number };
  cgroup: { cgroup_id: bigint; order: number };
  task: { tid: number; pid: number };
}

/** The seq_file-like text sink `show_fdinfo` prints into. */
export interface FdinfoSeq {
  /** Appends raw text. */
  puts(s: string): void;
  /** `seq_printf(seq, fmt, ...)` with kernel printf conversions. */
  printf(fmt: string, ...args: unknown[]): void;
}

/** What `get_func_proto` returns: a helper the program may call. */
export interface BpfFuncProto {
  /** Helper name, e.g. `'bpf_setsockopt'`. */
  name?: string;
  /** Implementation, used by {@link callHelper}. */
  func?: (...args: any[]) => unknown;
}

/**
 * `struct bpf_iter_reg`: everything a target registers.
 * See docs/writing-a-target.md.
 */
export interface BpfIterReg<V = any, P = any, A extends BpfIterAuxInfo = BpfIterAuxInfo> {
  /** Unique target name, e.g. `'task_file'`; programs use `SEC("iter/<target>")`. */
  target: string;
  /** Link-create hook: validate `linfo`, fill `aux`; return 0 or -errno. */
  attach_target?(prog: BpfProgFd, linfo: BpfIterLinkInfo, aux: BpfIterAuxInfo): number;
  /** Called when the link is freed (drop references taken by attach). */
  detach_target?(aux: A): void;
  /** Extra fdinfo lines after `target_name:\t<target>\n`. */
  show_fdinfo?(aux: A, seq: FdinfoSeq): void;
  /** Fill target-specific `bpf_link_info.iter` members; return 0 or -errno. */
  fill_link_info?(aux: A, info: BpfLinkInfoIter): number;
  /** Extra helpers for programs of this target (e.g. `bpf_setsockopt`). */
  get_func_proto?(func: string, prog: BpfProgFd): BpfFuncProto | null | undefined;
  /** Must equal `ctx_arg_info.length` when given (≤ {@link BPF_ITER_CTX_ARG_MAX}). */
  ctx_arg_info_size?: number;
  /** ctx pointer fields that may be NULL (at most 2). */
  ctx_arg_info?: readonly BpfCtxArgAux[];
  /** `BPF_ITER_RESCHED` or 0. */
  feature?: number;
  seq_info: BpfIterSeqInfo<V, P, A>;
}

/** A registered target (`struct bpf_iter_target_info`). */
export interface BpfIterTargetInfo {
  readonly reg: BpfIterReg;
  /** BTF id of `bpf_iter_<target>` in the modelled vmlinux BTF. */
  readonly btf_id: number;
}

const targets = new Map<string, BpfIterTargetInfo>();
let nextBtfId = 60_000;

const TARGET_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function validateReg(reg: BpfIterReg): void {
  if (!reg || typeof reg !== 'object') fail('EINVAL', 'bpf_iter_reg must be an object');
  if (typeof reg.target !== 'string' || !TARGET_NAME_RE.test(reg.target))
    fail('EINVAL', `invalid target name ${JSON.stringify(reg.target)}`);
  const info = reg.ctx_arg_info ?? [];
  if (!Array.isArray(info)) fail('EINVAL', 'ctx_arg_info must be an array');
  const size = reg.ctx_arg_info_size ?? info.length;
  if (size !== info.length) fail('EINVAL', `ctx_arg_info_size ${size} != ctx_arg_info.length ${info.length}`);
  if (size > BPF_ITER_CTX_ARG_MAX) fail('EINVAL', `ctx_arg_info_size ${size} > BPF_ITER_CTX_ARG_MAX (${BPF_ITER_CTX_ARG_MAX})`);
  for (const a of info) {
    if (!a || typeof a.field !== 'string' || typeof a.offset !== 'number' || typeof a.reg_type !== 'string')
      fail('EINVAL', 'ctx_arg_info entries need offset, field and reg_type');
  }
  const feature = reg.feature ?? 0;
  if (!Number.isInteger(feature) || (feature & ~BPF_ITER_RESCHED) !== 0) fail('EINVAL', `unknown feature bits ${feature}`);
  const si = reg.seq_info;
  if (!si || typeof si !== 'object') fail('EINVAL', `target ${reg.target}: seq_info is required`);
  const ops = si.seq_ops;
  if (!ops) fail('EINVAL', `target ${reg.target}: seq_info.seq_ops is required`);
  for (const k of ['start', 'next', 'stop', 'show'] as const)
    if (typeof ops[k] !== 'function') fail('EINVAL', `target ${reg.target}: seq_ops.${k} must be a function`);
  if (typeof si.seq_priv !== 'function') fail('EINVAL', `target ${reg.target}: seq_info.seq_priv must be a function`);
  for (const k of ['attach_target', 'detach_target', 'show_fdinfo', 'fill_link_info', 'get_func_proto'] as const)
    if (reg[k] !== undefined && typeof reg[k] !== 'function') fail('EINVAL', `target ${reg.target}: ${k} must be a function`);
}

/**
 * `bpf_iter_reg_target(reg)`: registers a target. Returns 0 like the kernel.
 *
 * Throws EINVAL for a malformed registration (bad name, more than
 * {@link BPF_ITER_CTX_ARG_MAX} ctx args, unknown feature bits, missing seq
 * ops) and EEXIST when the name is already registered. The kernel performs
 * no duplicate check (targets are built in and unique by construction, a
 * duplicate would make BTF lookup ambiguous); the model rejects it.
 */
export function bpf_iter_reg_target(reg: BpfIterReg): number {
  validateReg(reg);
  if (targets.has(reg.target)) fail('EEXIST', `target ${reg.target} is already registered`);
  targets.set(reg.target, Object.freeze({ reg, btf_id: nextBtfId++ }));
  return 0;
}

/**
 * `bpf_iter_unreg_target(reg)`: unregisters by registration object or
 * target name. Throws ENOENT when it is not registered (the kernel WARNs).
 * Existing programs/links keep their target info; new links fail ENOENT.
 */
export function bpf_iter_unreg_target(reg: BpfIterReg | string): void {
  const name = typeof reg === 'string' ? reg : reg.target;
  const t = targets.get(name);
  if (!t || (typeof reg !== 'string' && t.reg !== reg)) fail('ENOENT', `target ${name} is not registered`);
  targets.delete(name);
}

/** camelCase alias of {@link bpf_iter_reg_target}. */
export function registerTarget<V, P>(reg: BpfIterReg<V, P>): BpfIterTargetInfo {
  bpf_iter_reg_target(reg);
  return targets.get(reg.target)!;
}
/** camelCase alias of {@link bpf_iter_unreg_target}. */
export function unregisterTarget(reg: BpfIterReg | string): void {
  bpf_iter_unreg_target(reg);
}

/** The registered target of that name, or undefined. */
export function findTarget(name: string): BpfIterTargetInfo | undefined {
  return targets.get(name);
}
/** The registered target with that BTF id, or undefined. */
export function findTargetByBtfId(btfId: number): BpfIterTargetInfo | undefined {
  for (const t of targets.values()) if (t.btf_id === btfId) return t;
  return undefined;
}
/** Names of registered targets, in registration order. */
export function listTargets(): string[] {
  return [...targets.keys()];
}
/** True when the target has `BPF_ITER_RESCHED`. */
export function targetSupportsResched(t: BpfIterTargetInfo): boolean {
  return ((t.reg.feature ?? 0) & BPF_ITER_RESCHED) !== 0;
}

