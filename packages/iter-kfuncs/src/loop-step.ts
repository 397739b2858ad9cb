/**
 * @internal The `bpfForEach` step of a built-in kind: the one piece of the
 * loop each kind file writes itself.
 *
 * Why per kind: V8 keeps type feedback per function literal. A loop `next()`
 * shared by every kind calls `kind.next(data)` at one call site; once a
 * process has looped over several kinds that site is megamorphic, nothing
 * behind it is inlined, and each element costs a real call chain plus a
 * `{ done, value }` object (measured: 0.07–0.2 of a plain loop). A step
 * written in the kind's own file calls only that kind's `next`
 * implementation, so `for...of` inlines the step, the walk behind it and
 * the result object away, whatever else runs in the process. The kind's
 * construction and destruction are its own too (below); the rest of the
 * loop (the counts, the errno-free empty iterator, destroy exactly once,
 * EPROTO for `undefined`, the leak check) stays shared in `loops.ts`, where
 * no kind code is called.
 *
 * Every built-in step has the same shape and calls the same function its
 * kind registers as `next.impl`, so the loop and the trio cannot differ
 * (the contract checker and test/loop_steps.test.ts compare them). One
 * result object per step, built after the branches: V8 then elides it; a
 * fresh `{ done: false, value }` on one branch and a shared DONE object on
 * the other make it allocate every element (measured 2x slower).
 * `this.done === false`, not `!this.done`: V8 does not track that a field
 * holds a boolean, and plain truthiness costs five tests per element.
 * `value !== null && value !== undefined`, not `value != null`: the loose
 * test also loads the element's map to rule out an undetectable object
 * (`document.all`), every element.
 *
 * ```ts
 * [LOOP_STEP]: function () {
 *   let done = true;
 *   let value = null;
 *   try {
 *     if (this.done === false) value = kindNext(this.data);
 *   } catch (e) {
 *     this.fail(e);
 *   }
 *   if (value !== null && value !== undefined) done = false;
 *   else {
 *     this.end(value);
 *     value = this.return().value;
 *   }
 *   return { done, value } as IteratorResult<NonNullable<typeof value>, undefined>;
 * },
 * ```
 *
 * num's step is the one exception: its range lives in the loop itself
 * (`cur`, `hi`), see kinds/num.ts.
 *
 * The construction, for the same reason: a loop starts at `for...of`'s
 * `loop[Symbol.iterator]()`, a call site in the caller's own code. One
 * shared constructor calls every kind's `new` at one call site (megamorphic
 * once all kinds ran: a generic call per loop, the kind's walker built out
 * of line, which dominates short loops: a cgroup's few tasks, a process's
 * few VMAs). So each built-in kind also writes its own `[Symbol.iterator]`
 * (its {@link LoopOpen}) calling its `new` implementation directly; the
 * counts, the empty iterator after a failed `new` and the leak check stay
 * shared (`BpfLoop.failed`, `BpfLoop.open`), where no kind code is called:
 *
 * ```ts
 * [LOOP_OPEN]: function () {
 *   let data;
 *   try {
 *     data = kindNew(this.ctx, this.a0, this.a1);
 *   } catch (e) {
 *     data = this.failed(e);
 *   }
 *   return this.open(data);
 * },
 * ```
 *
 * And the destruction, for the same reason: `for...of` calls the loop's
 * `return` on break and throw from the caller's code, and the kind's step
 * calls it at the end (`this.return()` above). A shared one would call every
 * kind's `destroy` at one call site. The counts and "exactly once" stay
 * shared (`close`):
 *
 * ```ts
 * [LOOP_CLOSE]: function () {
 *   if (this.close()) kindDestroy(this.data);
 *   return LOOP_DONE;
 * },
 * ```
 */

/** What a loop's `return` returns (and its step at the end). */
export const LOOP_DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;

import type { IterContext } from './kernel-context.js';

/** What a kind's loop construction sees as `this` (a `BpfLoop`). */
export interface LoopOpener {
  /** The constructor's context (the bound kernel, else the ambient one). */
  readonly ctx: IterContext<any>;
  /** The loop's first three arguments (a built-in `new` takes at most two). */
  readonly a0: any;
  readonly a1: any;
  readonly a2: any;
  /** The kind's `new` threw `e`: a `BpfError` is counted and leaves an empty iterator (returned), anything else is rethrown. */
  failed(e: unknown): unknown;
  /** The loop iterator over `data` (what `new` returned, or what {@link failed} did): counted, tracked by `bpfProgram`. */
  open(data: unknown): Iterator<unknown, undefined>;
}

/** A kind's loop construction: the `[Symbol.iterator]` of its `bpfForEach` loops. */
export type LoopOpen = (this: LoopOpener) => Iterator<unknown, undefined>;

/** Spec key of a built-in kind's loop construction (not exported from the package). */
export const LOOP_OPEN: unique symbol = Symbol('bpf-iter.loopOpen');

/** What a kind's loop step sees as `this` (a `BpfLoopIterator`). */
export interface LoopCursor<D> {
  /** What the kind's `new` returned (when it failed, `done` is already true). */
  readonly data: D;
  /** True once the loop has ended and its iterator is destroyed. */
  readonly done: boolean;
  /** The inline range kind (num) only: the loop's copy of its range `[cur, hi)`, empty once ended. */
  cur: number;
  readonly hi: number;
  /** Checks what the kind's `next` returned at the end: `undefined` is an EPROTO error (the loop is destroyed first). */
  end(v: unknown): void;
  /** Destroys the iterator if it is not yet (the kind's {@link LoopClose}, or the shared one): the loop's end. */
  return(): IteratorReturnResult<undefined>;
  /**
   * Marks the loop ended and counts its destruction, once: true when the
   * kind's destroy must now run on {@link data} (live, and its `new` did not
   * fail); false when already destroyed.
   */
  close(): boolean;
  /** Destroys the iterator and rethrows `e`, a throw from the kind's `next`. */
  fail(e: unknown): never;
}

/** A kind's loop step: the `next` of its `for...of` iterator. */
export type LoopStep<E, D> = (this: LoopCursor<D>) => IteratorResult<E, undefined>;

/** Spec key of a built-in kind's loop step (not exported from the package). */
export const LOOP_STEP: unique symbol = Symbol('bpf-iter.loopStep');

/** A kind's loop destruction: the `return` of its `for...of` iterator. */
export type LoopClose<D> = (this: LoopCursor<D>) => IteratorReturnResult<undefined>;

/** Spec key of a built-in kind's loop destruction (not exported from the package). */
export const LOOP_CLOSE: unique symbol = Symbol('bpf-iter.loopClose');
