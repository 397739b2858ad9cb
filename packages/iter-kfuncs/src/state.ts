/**
 * The iterator state (`struct bpf_iter_<type>` on the BPF stack) and the
 * contract-enforcing wrappers around an author's `new` / `next` / `destroy`.
 *
 * The state is opaque: everything lives in private class fields, so user code
 * can only change it through the trio. Objects that are not states created by
 * this module (plain objects, proxies, `Object.create(BpfIter.prototype)`)
 * fail the private-field brand check and are rejected.
 */
import './polyfill.js';
import { BpfError } from '@bpf-iter/core';
import type { IterContext } from './kernel-context.js';
import type { LoopClose, LoopOpen, LoopStep } from './loop-step.js';

declare const ITER_TYPE: unique symbol;
declare const ITER_ELEM: unique symbol;

/** Internal per-kind record shared by a kind and all views of it. */
export interface KindRecord {
  readonly type: string;
  readonly newName: string;
  readonly nextName: string;
  readonly destroyName: string;
  readonly implNew: (ctx: IterContext<any>, ...args: any[]) => unknown;
  readonly implNext: (data: any) => unknown;
  readonly implDestroy: ((data: any) => void) | undefined;
  /** Kernel quirk (css, dmabuf): `next` after NULL restarts the walk. */
  readonly restartsAfterNull: boolean;
  /**
   * Built-in fast path (num only): the author's `new` returns an integer
   * range `{ cur, end }`; the state keeps it in its own private `#cur` /
   * `#end` and `next` is specialised (same semantics as num's `next`
   * implementation).
   */
  readonly inlineRange: boolean;
  /** A built-in kind's own `bpfForEach` step (see loop-step.ts); undefined: the shared one. */
  readonly loopStep: LoopStep<unknown, any> | undefined;
  /** A built-in kind's own `bpfForEach` construction (see loop-step.ts); undefined: the shared one. */
  readonly loopOpen: LoopOpen | undefined;
  /** A built-in kind's own `bpfForEach` destruction (see loop-step.ts); undefined: the shared one. */
  readonly loopClose: LoopClose<any> | undefined;
  constructed: number;
  failed: number;
  destroyed: number;
}

/** The unbound kfuncs of one kind, as created by {@link makeKfuncs}. */
export interface RawKfuncs {
  readonly newWith: (ctx: IterContext<any>, it: unknown, args: readonly unknown[]) => number;
  readonly next: (it: unknown) => unknown;
  readonly destroy: (it: unknown) => void;
}

/** Marker for "constructor failed: empty iterator, nothing for the author to free". */
export const EMPTY: unique symbol = Object.freeze({ empty: true }) as never;
// An object, not a symbol: the states' data are objects, so `data === EMPTY` stays a pointer comparison (a
// symbol beside objects makes V8 call its generic StrictEqual for every loop's construction).

let liveTotal = 0;
let refIds = 0;

/**
 * What a {@link bpfProgram} scope tracks per construction: a state, or a
 * `bpfForEach` loop that owns its iterator without one.
 */
export interface Reference {
  /** Constructed and not destroyed yet. */
  readonly live: boolean;
  readonly refId: number;
  /** Destroys it if live. */
  [Symbol.dispose](): void;
}

/** An `Unreleased reference` check scope, see {@link bpfProgram}. */
interface ProgramScope {
  readonly states: Reference[];
  allocs: number;
}
let programScope: ProgramScope | null = null;

// Assigned by BpfIter's static block (it alone can touch the private fields).
let constructing = false;
/** `#cur` of every state that is not a live inline range: `NO_RANGE < n` throws. */
const NO_RANGE: unique symbol = Symbol('not a live range');
/** True for states created by this module (private-field brand check). */
export let isState: (x: unknown) => x is BpfIter;
/** Builds the contract-enforcing kfuncs around an author's implementation. */
export let makeKfuncs: (rec: KindRecord) => RawKfuncs;
/** Allocates an uninitialized state for a kind. */
export let allocState: (home: { rec: KindRecord; raw: RawKfuncs }) => BpfIter;
/** What the author's `new` returned for a live state ({@link EMPTY} after a failed `new`): a loop that owns the state steps it directly. */
export let stateData: (it: BpfIter) => unknown;

/**
 * The kind's `new` implementation with `argc` arguments: `a0, a1, a2`, or
 * `all` of them when more than three. Direct calls for the built-in arities, since a spread
 * call is a generic builtin call per construction.
 */
export function callNew(rec: KindRecord, ctx: IterContext<any>, argc: number, a0: unknown, a1: unknown, a2: unknown, all: readonly unknown[] | undefined): unknown {
  const implNew = rec.implNew;
  switch (argc) {
    case 0: return implNew(ctx);
    case 1: return implNew(ctx, a0);
    case 2: return implNew(ctx, a0, a1);
    case 3: return implNew(ctx, a0, a1, a2);
    default: return implNew(ctx, ...all!);
  }
}

/**
 * @internal A `bpfForEach` loop's `new` failed with `e` (a loop owns its
 * iterator without a state, nobody else can reach it): like
 * {@link RawKfuncs.newWith}, a `BpfError` is counted and leaves an empty
 * iterator ({@link EMPTY}, returned; the errno is ignored like
 * `bpf_for_each`), anything else is rethrown with nothing counted.
 */
export function newFailed(rec: KindRecord, e: unknown): typeof EMPTY {
  if (!(e instanceof BpfError)) throw e;
  rec.failed++;
  return EMPTY;
}

/**
 * @internal The counts and reference id of a loop's construction (after its
 * `new` returned or {@link newFailed}), as {@link RawKfuncs.newWith} takes
 * them. Inside a {@link bpfProgram} the caller registers itself with
 * {@link trackReference}.
 */
export function countConstructed(rec: KindRecord): void {
  rec.constructed++;
  liveTotal++;
  refIds++;
}

/** @internal A state's destruction: the counts and the kind's destroy on `data` (exactly once: the caller guarantees it). */
export function destroyData(rec: KindRecord, data: unknown): void {
  countDestroyed(rec);
  if (data !== EMPTY && rec.implDestroy !== undefined) rec.implDestroy(data);
}

/** @internal The counts of one destruction (a state's, in {@link destroyData}; a loop's, in `BpfLoopIterator.close`). */
export function countDestroyed(rec: KindRecord): void {
  rec.destroyed++;
  liveTotal--;
}

/** @internal The reference id of the last construction (a loop's {@link countConstructed} takes one like a state's `new`). */
export function lastRefId(): number {
  return refIds;
}

/** @internal True inside a {@link bpfProgram}. */
export function inProgram(): boolean {
  return programScope !== null;
}

/** @internal Lets the enclosing {@link bpfProgram} see a construction (a no-op outside one). */
export function trackReference(ref: Reference): void {
  if (programScope !== null) {
    programScope.states.push(ref);
    programScope.allocs++;
  }
}

export const errors = {
  /** The kernel's `process_iter_arg` message for non-iterator memory. */
  notStack(): BpfError {
    return new BpfError('EINVAL', 'arg#0 expected pointer to an iterator on stack');
  },
  notInitialized(type: string): BpfError {
    return new BpfError('EINVAL', `expected an initialized iter_${type} as arg #0`);
  },
  notUninitialized(type: string): BpfError {
    return new BpfError('EINVAL', `expected uninitialized iter_${type} as arg #0`);
  },
};

/**
 * An open-coded iterator's state, `struct bpf_iter_<N>`, yielding elements of
 * type `E`. Branded by kind at the type level: a `BpfIter<'num'>` cannot be
 * passed to the `bits` kfuncs. Obtain one from `kind.alloc()` (uninitialized),
 * `kind.open(...)` or `kind.create(...)` (constructed).
 *
 * It is `Disposable`: `using it = iterNum.open(0, 3)` destroys it at scope
 * exit (disposing an already destroyed state is a no-op).
 */
export class BpfIter<N extends string = string, E = unknown> implements Disposable {
  /** Type-level brand: the iterator type name. Does not exist at run time. */
  declare readonly [ITER_TYPE]: N;
  /** Type-level brand: the element type. Does not exist at run time. */
  declare readonly [ITER_ELEM]: E;

  /** Kind this state is live for; null when uninitialized or destroyed. */
  #rec: KindRecord | null = null;
  /** Kind it was allocated for, to name it in errors and in `next()`. */
  #home: { rec: KindRecord; raw: RawKfuncs };
  #data: unknown = undefined;
  #drained = false;
  #error = 0;
  #cause: BpfError | undefined = undefined;
  #id = 0;
  /** Inline range (num): `[#cur, #end)`; `#cur` is NO_RANGE unless a live range. */
  #cur: number | symbol = NO_RANGE;
  #end = 0;

  /** @internal Use `kind.alloc()`. */
  constructor(home: unknown) {
    if (!constructing) throw new TypeError('BpfIter is created by kind.alloc(), kind.open() or kind.create()');
    this.#home = home as { rec: KindRecord; raw: RawKfuncs };
  }

  /** The iterator type this state was allocated for, e.g. `"num"`. */
  get type(): N {
    return this.#home.rec.type as N;
  }

  /** True between a `new` and its `destroy`. */
  get live(): boolean {
    return this.#rec !== null;
  }

  /** What the last `new` returned: 0 or a negative errno. */
  get error(): number {
    return this.#error;
  }

  /** The error behind a negative {@link error}, if the constructor threw one. */
  get cause(): BpfError | undefined {
    return this.#cause;
  }

  /** Reference id of the current construction (1, 2, …; 0 if never constructed). */
  get refId(): number {
    return this.#id;
  }

  /** `bpf_iter_<N>_next(this)`: the next element, or null when exhausted. */
  next(): E | null {
    return this.#home.raw.next(this) as E | null;
  }

  /** `bpf_iter_<N>_destroy(this)`. Throws if not live (destroy twice). */
  destroy(): void {
    this.#home.raw.destroy(this);
  }

  /** Destroys the iterator if it is live; a no-op otherwise. */
  [Symbol.dispose](): void {
    if (this.#rec !== null) this.#home.raw.destroy(this);
  }

  /** @internal */
  static {
    isState = (x: unknown): x is BpfIter => typeof x === 'object' && x !== null && #rec in x;

    makeKfuncs = (rec: KindRecord): RawKfuncs => {
      const { implNext } = rec;

      const newWith = (ctx: IterContext<any>, it: unknown, args: readonly unknown[]): number => {
        if (!isState(it)) throw errors.notStack();
        if (it.#rec !== null) throw errors.notUninitialized(rec.type);
        let data: unknown;
        let ret = 0;
        let cause: BpfError | undefined;
        try {
          data = callNew(rec, ctx, args.length, args[0], args[1], args[2], args);
        } catch (e) {
          // Kernel contract: on error, return -errno *and* leave an empty iterator.
          if (!(e instanceof BpfError)) throw e;
          data = EMPTY;
          ret = -e.errnoValue;
          cause = e;
        }
        it.#rec = rec;
        it.#data = data;
        it.#drained = data === EMPTY;
        it.#error = ret;
        it.#cause = cause;
        it.#id = ++refIds;
        if (rec.inlineRange) {
          // Failed constructor: an exhausted range, so next() returns NULL.
          const r = data as { cur: number; end: number } | typeof EMPTY;
          it.#cur = r === EMPTY ? 0 : r.cur;
          it.#end = r === EMPTY ? 0 : r.end;
        }
        rec.constructed++;
        if (ret !== 0) rec.failed++;
        liveTotal++;
        trackReference(it);
        return ret;
      };

      // Called for every `next` once the iterator has returned NULL (cold path).
      const afterNull = (it: BpfIter): unknown => {
        const data = it.#data;
        if (data === EMPTY) return null;
        const v = implNext(data);
        if (v === null) return null;
        if (rec.restartsAfterNull && v !== undefined) {
          it.#drained = false;
          return v;
        }
        throw new BpfError(
          'EPROTO',
          `${rec.nextName} returned an element after returning NULL; the open-coded iterator contract requires NULL forever once exhausted`,
        );
      };

      // Misuse (cold path): name the problem like the verifier does.
      const misuse = (it: unknown): never => {
        throw isState(it) ? errors.notInitialized(rec.type) : errors.notStack();
      };

      // Hot path. Reading a private field is the brand check: it throws a
      // TypeError for anything that is not a BpfIter (cheaper than `#rec in it`).
      const next = (it: unknown): unknown => {
        let live: KindRecord | null;
        try {
          live = (it as BpfIter).#rec;
        } catch {
          return misuse(it);
        }
        if (live !== rec) return misuse(it);
        const st = it as BpfIter;
        if (st.#drained) return afterNull(st);
        const v = implNext(st.#data);
        if (v == null) {
          if (v === undefined) {
            throw new BpfError('EPROTO', `${rec.nextName} returned undefined; an exhausted iterator returns null`);
          }
          st.#drained = true;
        }
        return v;
      };

      const destroy = (x: unknown): void => {
        if (!isState(x) || x.#rec !== rec) misuse(x);
        const it = x as BpfIter;
        const data = it.#data;
        // Mark destroyed first: destroy runs exactly once even if the author's throws.
        it.#rec = null;
        it.#data = undefined;
        it.#drained = false;
        it.#cur = NO_RANGE;
        it.#end = 0;
        destroyData(rec, data);
      };

      /**
       * The num fast path: the range is `#cur`/`#end` on the state itself.
       * Misuse makes the `try` throw, without a check of its own: reading
       * `#cur` fails for anything that is not a BpfIter, and `cur < #end`
       * fails for every other state (uninitialized, destroyed or of another
       * kind), whose `#cur` is the NO_RANGE symbol. Explicit checks (a
       * `Range` object in `#data`, or `#rec !== rec` at the end) measured
       * 0.49 and 0.25 of a plain loop against 0.59 for this on Node 20 (the
       * direct trio of bench/num.ts): a never-taken throw or deopt in the
       * exhausted branch stops V8 from peeling the caller's loop, which then
       * keeps its running sum on the stack.
       */
      const rangeNext = (it: unknown): number | null => {
        let cur: number;
        let more: boolean;
        try {
          cur = (it as BpfIter).#cur as number;
          more = cur < (it as BpfIter).#end;
        } catch {
          return misuse(it);
        }
        if (more) {
          // `| 0`: cur < end <= INT_MAX, so no overflow check is needed.
          (it as BpfIter).#cur = (cur + 1) | 0;
          return cur;
        }
        // Exhausted: an empty range, NULL forever (the kernel zeroes it).
        (it as BpfIter).#end = cur;
        return null;
      };

      return { newWith, next: rec.inlineRange ? rangeNext : next, destroy };
    };

    allocState = (home: { rec: KindRecord; raw: RawKfuncs }): BpfIter => {
      constructing = true;
      try {
        return new BpfIter(home);
      } finally {
        constructing = false;
      }
    };

    stateData = (it: BpfIter): unknown => it.#data;
  }
}


/** Number of live (constructed and not yet destroyed) iterators of all kinds. */
export function liveIteratorsTotal(): number {
  return liveTotal;
}

/**
 * Runs `fn` like the body of a BPF program and then applies the verifier's
 * reference check: if an iterator constructed inside `fn` is still live when
 * `fn` returns, every such iterator is destroyed (so nothing leaks) and a
 * `BpfError('EINVAL', 'Unreleased reference id=<n> alloc_insn=<i>')` is
 * thrown. `id` is the iterator's {@link BpfIter.refId}; `alloc_insn` is the
 * 0-based ordinal of its `new` call within `fn` (there are no instructions
 * to count in JavaScript). Scopes nest; `fn` must be synchronous.
 */
export function bpfProgram<R>(fn: () => R): R {
  const outer = programScope;
  const scope: ProgramScope = { states: [], allocs: 0 };
  programScope = scope;
  let result: R;
  try {
    result = fn();
  } finally {
    programScope = outer;
  }
  const leaked = scope.states.find((s) => s.live);
  if (leaked !== undefined) {
    const insn = scope.states.indexOf(leaked);
    for (const s of scope.states) s[Symbol.dispose]();
    throw new BpfError('EINVAL', `Unreleased reference id=${leaked.refId} alloc_insn=${insn}`);
  }
  if (result instanceof Promise) throw new TypeError('bpfProgram(fn): fn must be synchronous');
  return result;
}

