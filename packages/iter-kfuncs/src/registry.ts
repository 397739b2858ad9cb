/**
 * Registration of open-coded iterator kinds: a trio of kfuncs
 * `bpf_iter_<type>_{new,next,destroy}` over a state struct `bpf_iter_<type>`.
 *
 * Every kfunc carrying a `KF_ITER_*` flag is checked against the kernel's
 * rules (`btf_check_iter_kfuncs`, reference §7.2); the trio as a whole is
 * then checked against this library's rules (complete, consistent, unique).
 * Built-in kinds and third-party kinds go through the same code.
 */
import { BpfError, BPF_ITER_FUNC_PREFIX, errnoName, type ErrnoName, type Kernel } from '@bpf-iter/core';
import { resolveType, skipModifiers, typeToString, type BtfType, type TypeSpec, type TypeTable } from './btf.js';
import { KF_ITER_DESTROY, KF_ITER_MASK, KF_ITER_NEW, KF_ITER_NEXT, KF_RET_NULL } from './flags.js';
import { ambientContext, fixedContext, type IterContext } from './kernel-context.js';
import { LOOP_CLOSE, LOOP_OPEN, LOOP_STEP, type LoopClose, type LoopOpen, type LoopStep } from './loop-step.js';
import { allocState, BpfIter, liveIteratorsTotal, makeKfuncs, type KindRecord, type RawKfuncs } from './state.js';

/** @internal Marks the built-in num kind for the inline fast path (not exported from the package). */
export const INLINE_RANGE: unique symbol = Symbol('bpf-iter.inlineRange');

// Core's uapi value, re-exported so this package's entry keeps it.
export { BPF_ITER_FUNC_PREFIX } from '@bpf-iter/core';

/** A kfunc parameter: a type, optionally named (`{ name: 'start', type: 'int' }`). */
export type KfuncParam = TypeSpec | { readonly name?: string; readonly type: TypeSpec };

/**
 * A kfunc as its author declares it: name, `KF_*` flags, prototype and
 * implementation. `ret` accepts a {@link TypeSpec} or the shorthands
 * `'int'`, `'void'` and `'pointer'` (a `void *`).
 */
export interface KfuncDesc<F extends (...args: any[]) => any = (...args: any[]) => any> {
  readonly name: string;
  readonly flags: number;
  readonly params: readonly KfuncParam[];
  readonly ret: TypeSpec | 'pointer';
  readonly impl: F;
}

/** A registered kfunc: the author's descriptor with its prototype resolved to BTF. */
export interface RegisteredKfunc {
  readonly name: string;
  readonly flags: number;
  readonly params: readonly { readonly name: string | undefined; readonly type: BtfType }[];
  readonly ret: BtfType;
}

/**
 * What an iterator author registers.
 *
 * - `new.impl(ctx, ...args)` returns the author's private state (`D`). To
 *   fail, throw a `BpfError` (e.g. `fail('EINVAL', '...')`): the wrapper turns
 *   it into the `-errno` return value and leaves an empty iterator.
 * - `next.impl(data)` returns the next element, or `null` when exhausted;
 *   it must keep returning `null` afterwards (checked).
 * - `destroy.impl(data)` frees resources; it runs exactly once per
 *   successful construction. (After a failed `new` there is no `D`; release
 *   anything you acquired before throwing.)
 */
export interface IterKindSpec<N extends string, A extends unknown[], E, D, K = Kernel> {
  /** The state struct `bpf_iter_<N>` and its size in bytes (part of the ABI). */
  readonly state: { readonly name: `bpf_iter_${N}`; readonly size: number };
  readonly new: KfuncDesc<(ctx: IterContext<K>, ...args: A) => D>;
  readonly next: KfuncDesc<(data: D) => E | null>;
  readonly destroy: KfuncDesc<(data: D) => void>;
  /** Typedefs that string types in the prototypes may use. */
  readonly typedefs?: Readonly<Record<string, TypeSpec>>;
  /**
   * Reproduce the kernel quirk of `css` and `dmabuf`: `next` after NULL
   * restarts the walk. Without it, an element after NULL is an `EPROTO` error.
   */
  readonly restartsAfterNull?: boolean;
  /** @internal Built-in fast path, see `KindRecord.inlineRange`. */
  readonly [INLINE_RANGE]?: true;
  /** @internal A built-in kind's own `bpfForEach` step, see loop-step.ts. */
  readonly [LOOP_STEP]?: LoopStep<E, D>;
  /** @internal A built-in kind's own `bpfForEach` construction, see loop-step.ts. */
  readonly [LOOP_OPEN]?: LoopOpen;
  /** @internal A built-in kind's own `bpfForEach` destruction, see loop-step.ts. */
  readonly [LOOP_CLOSE]?: LoopClose<D>;
}

/** Construction, failure and destruction counts of a kind. */
export interface IterStats {
  readonly constructed: number;
  readonly failed: number;
  readonly destroyed: number;
  /** constructed − destroyed: iterators not yet destroyed. */
  readonly live: number;
}

/**
 * A registered iterator kind. All functions are detached-safe (no `this`),
 * so `const { next } = iterNum` works.
 */
export interface IterKind<N extends string = string, A extends unknown[] = any[], E = unknown> {
  /** The `<type>` in `bpf_iter_<type>`, e.g. `"num"`. */
  readonly type: N;
  /** The state struct name, e.g. `"bpf_iter_num"`. */
  readonly stateName: `bpf_iter_${N}`;
  /** The state struct size in bytes. */
  readonly stateSize: number;
  /** The three kfuncs as registered. */
  readonly kfuncs: { readonly new: RegisteredKfunc; readonly next: RegisteredKfunc; readonly destroy: RegisteredKfunc };
  /** An uninitialized state (stack slots) to pass to {@link IterKind.new}. */
  readonly alloc: () => BpfIter<N, E>;
  /** `bpf_iter_<N>_new(it, ...args)`: 0, or a negative errno with an empty iterator. */
  readonly new: (it: BpfIter<N, E>, ...args: A) => number;
  /** `bpf_iter_<N>_next(it)`: the next element or `null`. */
  readonly next: (it: BpfIter<N, E>) => E | null;
  /** `bpf_iter_<N>_destroy(it)`. Must be called exactly once after every `new`. */
  readonly destroy: (it: BpfIter<N, E>) => void;
  /** Throwing `new`: on error destroys the empty iterator and throws the `BpfError`. */
  readonly init: (it: BpfIter<N, E>, ...args: A) => void;
  /** `alloc()` + `new(...)`; the error (if any) is in `it.error`; the state is live either way. */
  readonly open: (...args: A) => BpfIter<N, E>;
  /** `alloc()` + {@link IterKind.init}: a live iterator, or throws (nothing left to destroy). */
  readonly create: (...args: A) => BpfIter<N, E>;
}

/** Internal: record and kfuncs behind a public kind object. */
/** @internal What loops need of a kind, built once per kind (a loop construction allocates none of it). */
export interface KindInternals {
  readonly rec: KindRecord;
  readonly raw: RawKfuncs;
  readonly kernel: { k: unknown } | undefined;
  /** The state's home (shared by every state of the kind). */
  readonly home: { rec: KindRecord; raw: RawKfuncs };
  /** The constructor's context: the bound kernel, else the ambient one. */
  readonly ctx: IterContext<any>;
  /** The kind object that owns this (an object inheriting the key is no kind). */
  readonly kind: object;
}
/**
 * Key of a kind object's own, non-enumerable {@link KindInternals} (not
 * exported from the package): one property load per loop construction,
 * where a WeakMap lookup is a hash-table call.
 */
const INTERNALS: unique symbol = Symbol('bpf-iter.kindInternals');
const registry = new Map<string, IterKind<any, any, any>>();
let inlineRangeTaken = false;

function reject(errno: ErrnoName, rule: string, message: string): never {
  throw new BpfError(errno, `${rule}: ${message}`);
}

type Role = 'new' | 'next' | 'destroy';
const ROLE_FLAG: Record<Role, number> = { new: KF_ITER_NEW, next: KF_ITER_NEXT, destroy: KF_ITER_DESTROY };

function resolveRet(ret: TypeSpec | 'pointer', table: TypeTable): BtfType {
  return ret === 'pointer' ? { kind: 'ptr', type: { kind: 'void' } } : resolveType(ret, table);
}

function resolveKfunc(desc: KfuncDesc, table: TypeTable): RegisteredKfunc {
  if (typeof desc?.name !== 'string') reject('EINVAL', 'kfunc descriptor', 'missing name');
  try {
    return {
      name: desc.name,
      flags: desc.flags,
      params: (desc.params ?? []).map((p) =>
        typeof p === 'string' || 'kind' in p
          ? { name: undefined, type: resolveType(p, table) }
          : { name: p.name, type: resolveType(p.type, table) },
      ),
      ret: resolveRet(desc.ret, table),
    };
  } catch (e) {
    if (e instanceof BpfError) throw e;
    return reject('EINVAL', 'kfunc prototype', `${desc.name}: ${(e as Error).message}`);
  }
}

/**
 * The kernel's per-kfunc check (`btf_check_iter_kfuncs`, reference §7.2,
 * rules 1–6). Applies to a kfunc with any `KF_ITER_*` bit set; returns the
 * state struct the kfunc operates on. Throws `BpfError('EINVAL')` naming the
 * rule that is broken.
 */
export function checkIterKfunc(fn: RegisteredKfunc): { struct: Extract<BtfType, { kind: 'struct' }>; role: Role } {
  const name = fn.name;
  const flags = fn.flags & KF_ITER_MASK;
  // Rule 1: exactly one of KF_ITER_NEW / KF_ITER_NEXT / KF_ITER_DESTROY.
  if (flags === 0 || (flags & (flags - 1)) !== 0) {
    reject('EINVAL', 'rule 1 (exactly one iterator flag)',
      `${name} must carry exactly one of KF_ITER_NEW, KF_ITER_NEXT, KF_ITER_DESTROY (flags 0x${fn.flags.toString(16)})`);
  }
  const role: Role = flags === KF_ITER_NEW ? 'new' : flags === KF_ITER_NEXT ? 'next' : 'destroy';
  // Rule 2: parameter 0 is a pointer to struct bpf_iter_<type> (modifiers/typedefs skipped).
  const arg0 = fn.params[0];
  if (arg0 === undefined) {
    reject('EINVAL', 'rule 2 (first parameter is struct bpf_iter_<type> *)', `${name} takes no parameters`);
  }
  const ptr = skipModifiers(arg0.type);
  const struct = ptr.kind === 'ptr' ? skipModifiers(ptr.type) : undefined;
  if (struct === undefined || struct.kind !== 'struct' || !struct.name.startsWith(BPF_ITER_FUNC_PREFIX)) {
    reject('EINVAL', 'rule 2 (first parameter is struct bpf_iter_<type> *)',
      `${name}: parameter 0 is ${typeToString(arg0.type)}, expected a pointer to a struct named ${BPF_ITER_FUNC_PREFIX}<type>`);
  }
  // Rule 3: sizeof(struct bpf_iter_<type>) is non-zero and a multiple of 8 (stack slots).
  if (!Number.isInteger(struct.size) || struct.size <= 0 || struct.size % 8 !== 0) {
    reject('EINVAL', 'rule 3 (state size is a non-zero multiple of 8)',
      `${name}: sizeof(struct ${struct.name}) is ${struct.size}`);
  }
  // Rule 4: the kfunc is named bpf_iter_<type>_{new,next,destroy}.
  const type = struct.name.slice(BPF_ITER_FUNC_PREFIX.length);
  const expected = `${BPF_ITER_FUNC_PREFIX}${type}_${role}`;
  if (name !== expected) {
    reject('EINVAL', 'rule 4 (name is bpf_iter_<type>_new/next/destroy)',
      `${name} operates on struct ${struct.name} with ${role === 'new' ? 'KF_ITER_NEW' : role === 'next' ? 'KF_ITER_NEXT' : 'KF_ITER_DESTROY'}, so it must be named ${expected}`);
  }
  // Rule 5: next and destroy take exactly one parameter.
  if (role !== 'new' && fn.params.length !== 1) {
    reject('EINVAL', 'rule 5 (next/destroy take exactly one parameter)',
      `${name} takes ${fn.params.length} parameters`);
  }
  // Rule 6: next returns a pointer and is KF_RET_NULL; destroy returns void.
  if (role === 'next') {
    const ret = skipModifiers(fn.ret);
    if (ret.kind !== 'ptr') {
      reject('EINVAL', 'rule 6 (next returns a pointer, destroy returns void)',
        `${name} returns ${typeToString(fn.ret)}, expected a pointer`);
    }
    if ((fn.flags & KF_RET_NULL) === 0) {
      reject('EINVAL', 'rule 6 (next returns a pointer, destroy returns void)',
        `${name} returns NULL at the end and must be flagged KF_RET_NULL`);
    }
  }
  // destroy: the kernel does not skip modifiers here; only plain void is accepted.
  if (role === 'destroy' && fn.ret.kind !== 'void') {
    reject('EINVAL', 'rule 6 (next returns a pointer, destroy returns void)',
      `${name} returns ${typeToString(fn.ret)}, expected void`);
  }
  return { struct, role };
}

function makeKind<N extends string, A extends unknown[], E>(
  rec: KindRecord,
  raw: RawKfuncs,
  kfuncs: IterKind['kfuncs'],
  stateSize: number,
  kernel: { k: unknown } | undefined,
): IterKind<N, A, E> {
  const home = { rec, raw };
  const ctx = kernel === undefined ? ambientContext : fixedContext(kernel.k);
  const { newWith, next, destroy } = raw;
  const newFn = (it: BpfIter<N, E>, ...args: A): number => newWith(ctx, it, args);
  const init = (it: BpfIter<N, E>, ...args: A): void => {
    const ret = newWith(ctx, it, args);
    if (ret !== 0) {
      const cause = it.cause;
      destroy(it);
      throw cause ?? new BpfError(errnoName(ret) ?? 'EINVAL', `${rec.newName} returned ${ret}`);
    }
  };
  const alloc = () => allocState(home) as BpfIter<N, E>;
  const kind: IterKind<N, A, E> = {
    type: rec.type as N,
    stateName: `${BPF_ITER_FUNC_PREFIX}${rec.type}` as `bpf_iter_${N}`,
    stateSize,
    kfuncs,
    alloc,
    new: newFn,
    next: next as (it: BpfIter<N, E>) => E | null,
    destroy: destroy as (it: BpfIter<N, E>) => void,
    init,
    open: (...args: A) => {
      const it = alloc();
      newWith(ctx, it, args);
      return it;
    },
    create: (...args: A) => {
      const it = alloc();
      init(it, ...args);
      return it;
    },
  };
  const entry: KindInternals = { rec, raw, kernel, home, ctx, kind };
  Object.defineProperty(kind, INTERNALS, { value: entry });
  return Object.freeze(kind);
}

/** @internal The record behind a kind (or a view made by {@link bindKernel}). */
export function kindInternals(kind: IterKind<any, any, any>): KindInternals {
  const i = typeof kind === 'object' && kind !== null ? ((kind as { [INTERNALS]?: KindInternals })[INTERNALS]) : undefined;
  if (i === undefined || i.kind !== kind) throw new BpfError('EINVAL', 'not a registered iterator kind');
  return i;
}

/**
 * Registers an open-coded iterator kind and returns its typed API.
 *
 * Throws `BpfError('EINVAL')` naming the broken rule: kernel rules 1–6 of
 * §7.2 for each kfunc (see {@link checkIterKfunc}) and this library's trio
 * rules — T1 the three roles are present with implementations, T2 each role
 * carries its own `KF_ITER_*` flag, T3 all three operate on the declared
 * state struct. Registering a type twice is `BpfError('EEXIST')` (rule T4).
 *
 * @example
 * ```ts
 * const iterCountdown = registerIterKind({
 *   state: { name: 'bpf_iter_countdown', size: 8 },
 *   new: { name: 'bpf_iter_countdown_new', flags: KF_ITER_NEW,
 *          params: ['struct bpf_iter_countdown *', 'int'], ret: 'int',
 *          impl: (_ctx, n: number) => ({ n }) },
 *   next: { name: 'bpf_iter_countdown_next', flags: KF_ITER_NEXT | KF_RET_NULL,
 *           params: ['struct bpf_iter_countdown *'], ret: 'int *',
 *           impl: (d) => (d.n > 0 ? d.n-- : null) },
 *   destroy: { name: 'bpf_iter_countdown_destroy', flags: KF_ITER_DESTROY,
 *              params: ['struct bpf_iter_countdown *'], ret: 'void', impl: () => {} },
 * });
 * ```
 */
export function registerIterKind<N extends string, A extends unknown[], E, D, K = Kernel>(
  spec: IterKindSpec<N, A, E, D, K>,
): IterKind<N, A, E> {
  const state = spec?.state;
  if (typeof state?.name !== 'string') reject('EINVAL', 'rule T3 (one declared state struct)', 'spec.state.name is missing');
  const table: TypeTable = { structs: { [state.name]: state.size }, typedefs: spec.typedefs ?? {} };
  const resolved = {} as Record<Role, RegisteredKfunc>;
  for (const role of ['new', 'next', 'destroy'] as const) {
    const desc = spec[role] as KfuncDesc | undefined;
    if (desc === undefined || typeof desc.impl !== 'function') {
      reject('EINVAL', 'rule T1 (complete trio)', `${state.name}: the ${role} kfunc or its implementation is missing`);
    }
    const fn = resolveKfunc(desc, table);
    const checked = checkIterKfunc(fn);
    if (checked.role !== role || (fn.flags & KF_ITER_MASK) !== ROLE_FLAG[role]) {
      reject('EINVAL', 'rule T2 (role flag)', `${fn.name} is given as the ${role} kfunc but is flagged as ${checked.role}`);
    }
    if (checked.struct.name !== state.name || checked.struct.size !== state.size) {
      reject('EINVAL', 'rule T3 (one declared state struct)',
        `${fn.name} operates on struct ${checked.struct.name} (${checked.struct.size} bytes), the kind declares struct ${state.name} (${state.size} bytes)`);
    }
    resolved[role] = fn;
  }
  const type = state.name.slice(BPF_ITER_FUNC_PREFIX.length);
  // The inline-range fast path does not tell two range kinds apart: one kind only.
  if (spec[INLINE_RANGE] === true && inlineRangeTaken) reject('EINVAL', 'internal', 'only one inline-range kind');
  if (registry.has(type)) reject('EEXIST', 'rule T4 (unique type)', `iterator type ${type} is already registered`);
  const rec: KindRecord = {
    type,
    newName: resolved.new.name,
    nextName: resolved.next.name,
    destroyName: resolved.destroy.name,
    implNew: spec.new.impl as KindRecord['implNew'],
    implNext: spec.next.impl,
    implDestroy: spec.destroy.impl,
    restartsAfterNull: spec.restartsAfterNull === true,
    inlineRange: spec[INLINE_RANGE] === true,
    loopStep: spec[LOOP_STEP] as LoopStep<unknown, any> | undefined,
    loopOpen: spec[LOOP_OPEN],
    loopClose: spec[LOOP_CLOSE] as LoopClose<unknown> | undefined,
    constructed: 0,
    failed: 0,
    destroyed: 0,
  };
  if (rec.inlineRange) inlineRangeTaken = true;
  const kind = makeKind<N, A, E>(rec, makeKfuncs(rec), Object.freeze(resolved), state.size, undefined);
  registry.set(type, kind);
  return kind;
}

/** A kfunc id set as passed to {@link register_btf_kfunc_id_set}. */
export interface KfuncIdSet extends TypeTable {
  readonly owner?: string;
  readonly kfuncs: readonly KfuncDesc[];
}

/**
 * Kernel-style facade over {@link registerIterKind}: registers every iterator
 * trio in `set` (kfuncs without `KF_ITER_*` flags are accepted and ignored)
 * and returns 0, or a negative errno with nothing registered. `log` receives
 * the reason on failure (the kernel would `pr_err` it).
 */
export function register_btf_kfunc_id_set(
  _progType: number | string,
  set: KfuncIdSet,
  log?: (message: string) => void,
): number {
  try {
    const trios = new Map<string, { size: number; fns: Partial<Record<Role, KfuncDesc>> }>();
    for (const desc of set.kfuncs) {
      if ((desc.flags & KF_ITER_MASK) === 0) continue;
      const { struct, role } = checkIterKfunc(resolveKfunc(desc, set));
      const trio = trios.get(struct.name) ?? { size: struct.size, fns: {} };
      if (trio.fns[role] !== undefined) reject('EEXIST', 'rule T4 (unique type)', `${desc.name} is listed twice`);
      trio.fns[role] = desc;
      trios.set(struct.name, trio);
    }
    for (const [name] of trios) {
      if (registry.has(name.slice(BPF_ITER_FUNC_PREFIX.length))) {
        reject('EEXIST', 'rule T4 (unique type)', `iterator type ${name.slice(BPF_ITER_FUNC_PREFIX.length)} is already registered`);
      }
    }
    const specs = [...trios].map(([name, t]) => ({
      state: { name, size: t.size },
      new: t.fns.new,
      next: t.fns.next,
      destroy: t.fns.destroy,
      typedefs: set.typedefs,
    }));
    // Validate every trio before registering any, so failure registers nothing.
    for (const s of specs) {
      for (const role of ['new', 'next', 'destroy'] as const) {
        if (s[role] === undefined) reject('EINVAL', 'rule T1 (complete trio)', `${s.state.name}: the ${role} kfunc is missing`);
      }
    }
    for (const s of specs) registerIterKind(s as unknown as IterKindSpec<string, unknown[], unknown, unknown>);
    return 0;
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    log?.(e.message);
    return e.negative;
  }
}

/** The registered kind for `type` (e.g. `"num"`), if any. */
export function getIterKind(type: string): IterKind<string, any[], unknown> | undefined {
  return registry.get(type);
}

/** All registered kinds, in registration order. */
export function listIterKinds(): IterKind<string, any[], unknown>[] {
  return [...registry.values()];
}

/**
 * Removes a kind from the registry (like unloading the module that provided
 * it). Existing states keep working; the type name becomes free again.
 */
export function unregisterIterKind(kind: IterKind<any, any, any>): boolean {
  const { rec } = kindInternals(kind);
  return registry.get(rec.type) === kind && registry.delete(rec.type);
}

/**
 * A view of `kind` whose constructors use `kernel` (explicit kernel
 * selection). States are shared with `kind`: a state constructed through the
 * view is a state of `kind`.
 */
export function bindKernel<N extends string, A extends unknown[], E>(kind: IterKind<N, A, E>, kernel: Kernel): IterKind<N, A, E> {
  const { rec, raw } = kindInternals(kind);
  return makeKind<N, A, E>(rec, raw, kind.kfuncs, kind.stateSize, { k: kernel });
}

/** Counters of one kind (all views of it share them). */
export function iterStats(kind: IterKind<any, any, any>): IterStats {
  const { rec } = kindInternals(kind);
  return { constructed: rec.constructed, failed: rec.failed, destroyed: rec.destroyed, live: rec.constructed - rec.destroyed };
}

/**
 * Live iterators: constructed by `new` (successfully or not) and not yet
 * destroyed. Of one kind, or of all kinds when `kind` is omitted. Tests use
 * it to assert that nothing leaks.
 */
export function liveIterators(kind?: IterKind<any, any, any>): number {
  return kind === undefined ? liveIteratorsTotal() : iterStats(kind).live;
}
