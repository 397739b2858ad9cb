/**
 * libbpf's looping macros (`bpf_for_each`, `bpf_for`, `bpf_repeat`, §7.6)
 * as JavaScript iterables.
 *
 * Each iteration start constructs one iterator (`new` once, its error
 * ignored like libbpf: a failed constructor leaves an empty iterator), calls
 * `next` until NULL and destroys it exactly once: on normal end, `break`,
 * `return`, a throw in the loop body, or a throw from `next` itself.
 *
 * The iterators are hand-written objects (not generators) so that V8 can
 * inline `next()` into `for...of`; each built-in kind brings its own
 * construction, `next` and `return` (loop-step.ts), so that this stays true
 * when many kinds loop in one process.
 */
import './polyfill.js';
import type { IterContext } from './kernel-context.js';
import { kindInternals, type IterKind, type KindInternals } from './registry.js';
import { BpfError } from '@bpf-iter/core';
import { LOOP_DONE, type LoopCursor, type LoopOpen, type LoopOpener } from './loop-step.js';
import {
  allocState,
  callNew,
  countConstructed,
  countDestroyed,
  EMPTY,
  inProgram,
  lastRefId,
  newFailed,
  trackReference,
  type BpfIter,
  type KindRecord,
  type RawKfuncs,
} from './state.js';
import { iterNum } from './kinds/num.js';

/** The num kind's internals, for {@link bpfFor} and {@link bpfRepeat}. */
const NUM = kindInternals(iterNum);

/** @internal What a loop needs to construct iterators of a kind. */
export interface LoopSource {
  readonly home: { rec: KindRecord; raw: RawKfuncs };
  readonly ctx: IterContext<any>;
  readonly args: readonly unknown[];
}

/**
 * @internal An explicit {@link bindKernel} view fixes the kernel; otherwise
 * the constructor sees the ambient kernel when it runs (iteration start,
 * subscription), and only if the kind reads `ctx.kernel`.
 */
export function loopSource(kind: IterKind<any, any, any>, args: readonly unknown[]): LoopSource {
  const { home, ctx } = kindInternals(kind);
  return { home, ctx, args };
}

/** @internal Constructs a live iterator (constructor errors ignored). */
export function openFrom(src: LoopSource): BpfIter {
  const it = allocState(src.home);
  src.home.raw.newWith(src.ctx, it, src.args);
  return it;
}

/** The loop construction of kinds without their own (third-party kinds): the built-in ones' shape, one call site for all. */
let sharedOpen: (this: BpfLoop<unknown>) => BpfLoopIterator<unknown>;
/** The loop step of kinds without their own (third-party kinds): the built-in steps' shape, one call site for all. */
let sharedStep: (this: BpfLoopIterator<unknown>) => IteratorResult<unknown, undefined>;
/** The loop destruction of kinds without their own (third-party kinds): the built-in ones' shape. */
let sharedClose: (this: BpfLoopIterator<unknown>) => IteratorReturnResult<undefined>;
/** Lets the enclosing {@link bpfProgram} see a loop's construction (cold). */
let trackLoop: (loop: BpfLoopIterator<unknown>) => void;

/**
 * One pass of a {@link BpfLoop}: an `IterableIterator` over the elements of
 * one constructed iterator, destroyed exactly once.
 *
 * It owns its iterator: no `BpfIter` state behind it (nobody else could
 * reach one), the kind's `new` result is held here and stepped directly by
 * the kind's `next` implementation, with no state checks per element. The
 * counts, the reference id and a {@link bpfProgram} scope's leak check are
 * those of a state. `next` and `return` are own properties, the kind's
 * `LoopStep` and `LoopClose` for built-in kinds (see loop-step.ts for why
 * each has its own), else the shared {@link sharedStep} / {@link sharedClose}.
 */
export class BpfLoopIterator<E> implements IterableIterator<E>, Disposable {
  // `declare`d fields, set once in the constructor (class fields would define each one first, then set it).
  /** The next element; destroys the iterator when the kind's `next` returns NULL or throws. */
  declare readonly next: () => IteratorResult<E, undefined>;
  /**
   * Called by `for...of` on `break`, `return` and throw: destroys the
   * iterator (once). An own property: a built-in kind's own `LoopClose` (see
   * loop-step.ts), else the shared one.
   */
  declare readonly return: () => IteratorResult<E, undefined>;
  /** @internal True once ended (the iterator is destroyed). */
  protected declare done: boolean;
  /** @internal What the kind's `new` returned ({@link EMPTY}: it failed). */
  protected declare readonly data: unknown;
  /** @internal The inline range (num): `[cur, hi)`, copied from `data`; an ended loop's is empty. */
  protected declare cur: number;
  protected declare hi: number;
  /** @internal The kind while the iterator is not destroyed (`done` may already be true: a failed constructor); then null. */
  protected declare rec: KindRecord | null;

  /** @internal The iterator over `data`, what the kind's `new` returned for `loop` ({@link EMPTY}: it failed). */
  constructor(loop: BpfLoop<E>, data: unknown) {
    // Kept small, so that V8 inlines it (and the loop's own object away) into `for...of`.
    const rec = loop.rec;
    countConstructed(rec);
    this.next = (rec.loopStep ?? sharedStep) as unknown as () => IteratorResult<E, undefined>;
    this.return = (rec.loopClose ?? sharedClose) as unknown as () => IteratorResult<E, undefined>;
    // A failed constructor: an empty iterator (the kernel's `next` returns NULL at once).
    this.done = data === EMPTY;
    this.data = data;
    this.cur = 0;
    this.hi = 0;
    this.rec = rec;
    if (rec.inlineRange && data !== EMPTY) {
      this.cur = (data as { cur: number }).cur;
      this.hi = (data as { end: number }).end;
    }
    // Cold: inside bpfProgram, the scope's leak check sees the loop like a state.
    if (inProgram()) trackLoop(this);
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** Same as {@link return}: `using loop = bpfForEach(...)[Symbol.iterator]()`. */
  [Symbol.dispose](): void {
    this.return();
  }

  /** @internal See {@link LoopCursor.end}. */
  end(v: unknown): void {
    // Only a live iterator's `next` returns undefined (an ended loop's step does not call it). Cold.
    if (v === undefined) {
      const rec = this.rec;
      this.return();
      throw new BpfError('EPROTO', `${rec?.nextName} returned undefined; an exhausted iterator returns null`);
    }
  }

  /** @internal See {@link LoopCursor.close}. */
  close(): boolean {
    this.done = true;
    this.hi = this.cur;
    const rec = this.rec;
    if (rec === null) return false;
    this.rec = null;
    countDestroyed(rec);
    return this.data !== EMPTY;
  }

  /** @internal See {@link LoopCursor.fail}. */
  fail(e: unknown): never {
    this.return();
    throw e;
  }

  static {
    sharedOpen = function (this: BpfLoop<unknown>): BpfLoopIterator<unknown> {
      let data;
      try {
        data = callNew(this.rec, this.ctx, this.argc, this.a0, this.a1, this.a2, this.all);
      } catch (e) {
        data = this.failed(e);
      }
      return this.open(data);
    };
    sharedStep = function (this: BpfLoopIterator<unknown>): IteratorResult<unknown, undefined> {
      let done = true;
      let value = null;
      try {
        if (this.done === false) value = this.rec!.implNext(this.data);
      } catch (e) {
        this.fail(e);
      }
      if (value !== null && value !== undefined) done = false;
      else {
        this.end(value);
        value = this.return().value;
      }
      return { done, value } as IteratorResult<unknown, undefined>;
    };
    sharedClose = function (this: BpfLoopIterator<unknown>): IteratorReturnResult<undefined> {
      const rec = this.rec;
      if (this.close() && rec!.implDestroy !== undefined) rec!.implDestroy(this.data);
      return LOOP_DONE;
    };
    trackLoop = (loop: BpfLoopIterator<unknown>): void => {
      trackReference({
        refId: lastRefId(),
        get live() {
          return loop.rec !== null;
        },
        [Symbol.dispose]() {
          loop.return();
        },
      });
    };
  }
}

/** Async counterpart of {@link BpfLoopIterator} for `for await`. */
export class BpfAsyncLoopIterator<E> implements AsyncIterableIterator<E>, AsyncDisposable {
  #inner: BpfLoopIterator<E>;

  /** @internal */
  constructor(loop: BpfLoop<E>) {
    this.#inner = loop[Symbol.iterator]();
  }

  next(): Promise<IteratorResult<E, undefined>> {
    try {
      return Promise.resolve(this.#inner.next());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  return(): Promise<IteratorResult<E, undefined>> {
    return Promise.resolve(this.#inner.return());
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#inner.return();
    return Promise.resolve();
  }
}

/**
 * A re-iterable `bpf_for_each` loop: each `for...of` / `for await` over it
 * constructs its own iterator.
 */
export class BpfLoop<E> implements Iterable<E>, AsyncIterable<E> {
  // The arguments as fields (all of them in `all` only when more than three): no array per `bpfForEach(...)`.
  /** @internal */
  declare readonly rec: KindRecord;
  /** @internal */
  declare readonly ctx: IterContext<any>;
  /** @internal */
  declare readonly argc: number;
  /** @internal */
  declare readonly a0: unknown;
  /** @internal */
  declare readonly a1: unknown;
  /** @internal */
  declare readonly a2: unknown;
  /** @internal */
  declare readonly all: readonly unknown[] | undefined;
  /**
   * Constructs one iterator (the kind's `new` with the loop's arguments) and
   * returns it. An own property: a built-in kind's own construction (its
   * {@link LoopOpen}, see loop-step.ts), else the shared one.
   */
  declare readonly [Symbol.iterator]: () => BpfLoopIterator<E>;

  /** @internal */
  constructor(kind: KindInternals, argc: number, a0: unknown, a1: unknown, a2: unknown, all: readonly unknown[] | undefined) {
    const rec = kind.rec;
    this[Symbol.iterator] = (rec.loopOpen ?? sharedOpen) as unknown as () => BpfLoopIterator<E>;
    this.rec = rec;
    this.ctx = kind.ctx;
    this.argc = argc;
    this.a0 = a0;
    this.a1 = a1;
    this.a2 = a2;
    this.all = all;
  }

  /** @internal See {@link LoopOpener.failed}. */
  failed(e: unknown): unknown {
    return newFailed(this.rec, e);
  }

  /** @internal See {@link LoopOpener.open}. */
  open(data: unknown): BpfLoopIterator<E> {
    return new BpfLoopIterator<E>(this, data);
  }

  [Symbol.asyncIterator](): BpfAsyncLoopIterator<E> {
    return new BpfAsyncLoopIterator<E>(this);
  }

  /** All elements of one pass, in order. */
  toArray(): E[] {
    return [...this];
  }
}

/**
 * libbpf's `bpf_for_each(type, cur, args...)`:
 * `for (const v of bpfForEach(iterNum, 0, 10))`.
 *
 * The kernel for kinds that need one comes from a {@link bindKernel} view,
 * else it is the ambient kernel (core's `withKernel` / `setDefaultKernel`)
 * when iteration starts.
 *
 * @throws Never for a failed constructor: like `bpf_for_each`, the loop runs
 * zero times (EINVAL, E2BIG, ENOENT... stay in the iterator). A `next` that
 * breaks the iterator contract throws {@link @bpf-iter/core!BpfError} (EINVAL).
 *
 * @example
 * ```ts
 * import { bpfForEach, iterTask, BPF_TASK_ITER_ALL_PROCS } from '@bpf-iter/iter-kfuncs';
 * // bpf_for_each(task, pos, NULL, BPF_TASK_ITER_ALL_PROCS)
 * for (const t of bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS)) {
 *   if (t.comm === 'sshd') break; // destroyed exactly once, on break too
 * }
 * ```
 */
export function bpfForEach<N extends string, A extends unknown[], E>(kind: IterKind<N, A, E>, ...args: A): BpfLoop<E>;
// No rest parameter: its array would be built per call (`arguments` is read only past three arguments).
export function bpfForEach(kind: IterKind<string, unknown[], unknown>, a0?: unknown, a1?: unknown, a2?: unknown): BpfLoop<unknown> {
  const argc = arguments.length - 1;
  return new BpfLoop(kindInternals(kind), argc, a0, a1, a2, argc > 3 ? Array.prototype.slice.call(arguments, 1) : undefined);
}

/**
 * `for await` flavour of {@link bpfForEach}: the same loop, destroyed on
 * `break` / `return` / throw, usable with async loop bodies.
 *
 * @example
 * ```ts
 * for await (const t of bpfForEachAsync(iterTask, null, BPF_TASK_ITER_ALL_PROCS)) await record(t);
 * ```
 */
export function bpfForEachAsync<N extends string, A extends unknown[], E>(
  kind: IterKind<N, A, E>,
  ...args: A
): AsyncIterable<E> {
  return new BpfLoop<E>(kindInternals(kind), args.length, args[0], args[1], args[2], args.length > 3 ? args : undefined);
}

/**
 * libbpf's `bpf_for(i, start, end)`: the numbers `start..end-1` from a num
 * iterator. Runs zero times when the constructor fails: `bpfFor(5, 1)`
 * (-EINVAL) and `bpfFor(0, 10_000_000)` (-E2BIG, more than 8388608).
 *
 * @example
 * ```ts
 * let sum = 0;
 * for (const i of bpfFor(0, 10)) sum += i; // 45
 * ```
 */
export function bpfFor(start: number, end: number): BpfLoop<number> {
  return new BpfLoop<number>(NUM, 2, start, end, undefined, undefined);
}

/** libbpf's `bpf_repeat(n)`: `n` iterations (yielding 0..n-1); zero if n > 8388608 or n < 0. *
 * @example
 * ```ts
 * for (const _ of bpfRepeat(3)) console.log('hi');
 * ```
 */
export function bpfRepeat(n: number): BpfLoop<number> {
  return new BpfLoop<number>(NUM, 2, 0, n, undefined, undefined);
}
