/**
 * A property-based contract checker (fast-check) for iterator authors:
 * run it on your own trio to test the open-coded iterator contract (§7.1).
 */
import fc from 'fast-check';
import { BpfError, errnoName, withKernel, type Kernel } from '@bpf-iter/core';
import { iterStats, liveIterators, type IterKind } from './registry.js';
import { bpfForEach } from './loops.js';

/** Options of {@link checkIterContract}. */
export interface IterContractOptions<A extends unknown[], E> {
  /** Fail if `next` has not returned NULL after this many elements (default 100 000). */
  readonly maxElements?: number;
  /** Extra `next` calls after NULL, all of which must return NULL (default 3). */
  readonly extraNextCalls?: number;
  /**
   * The same arguments always give the same elements (default true): then a
   * `bpfForEach` pass broken early must see a prefix of the full sequence.
   */
  readonly deterministic?: boolean;
  /** Expected result per arguments: `new`'s return value and, optionally, the elements. */
  readonly oracle?: (...args: A) => { readonly ret: number; readonly elements?: readonly E[] };
  /** Element equality for the comparisons above (default `Object.is`). */
  readonly equals?: (a: E, b: E) => boolean;
  /** Run under this kernel (see `withKernel`). */
  readonly kernel?: Kernel;
  /** fast-check parameters (numRuns, seed, …). */
  readonly fc?: fc.Parameters<[A, number]>;
}

function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(`iterator contract: ${message}`);
}

function expectInitError(f: () => unknown, type: string, what: string, uninit = false): void {
  const want = uninit ? `expected uninitialized iter_${type} as arg #0` : `expected an initialized iter_${type} as arg #0`;
  try {
    f();
  } catch (e) {
    check(e instanceof BpfError && e.errno === 'EINVAL' && e.message.includes(want), `${what} threw ${String(e)}, expected "${want}"`);
    return;
  }
  check(false, `${what} did not fail with "${want}"`);
}

/**
 * The contract as a fast-check property over constructor arguments and an
 * early-break point. See {@link checkIterContract}.
 */
export function iterContractProperty<N extends string, A extends unknown[], E>(
  kind: IterKind<N, A, E>,
  args: fc.Arbitrary<A>,
  opts: IterContractOptions<A, E> = {},
): fc.IProperty<[A, number]> {
  const maxElements = opts.maxElements ?? 100_000;
  const extra = opts.extraNextCalls ?? 3;
  const eq = opts.equals ?? Object.is;
  const t = kind.type;
  const run = (a: A, cut: number): void => {
    const it = kind.alloc();
    const it2 = kind.alloc();
    try {
      runWith(a, cut, it, it2);
    } finally {
      // A failed check must not leak iterators into the next run.
      it[Symbol.dispose]();
      it2[Symbol.dispose]();
    }
  };
  const runWith = (a: A, cut: number, it: ReturnType<typeof kind.alloc>, it2: ReturnType<typeof kind.alloc>): void => {
    const live0 = liveIterators(kind);
    const stats0 = iterStats(kind);
    const ret = kind.new(it, ...a);
    check(ret === 0 || (Number.isInteger(ret) && ret < 0 && errnoName(ret) !== undefined), `new returned ${ret}, expected 0 or -errno`);
    check(liveIterators(kind) === live0 + 1, 'new did not make the iterator live');
    const elements: E[] = [];
    for (;;) {
      const v = kind.next(it);
      if (v === null) break;
      check(ret === 0, `new failed with ${ret} but next returned an element (a failed constructor must leave an empty iterator)`);
      elements.push(v);
      check(elements.length <= maxElements, `next did not return NULL within ${maxElements} elements`);
    }
    for (let i = 0; i < extra; i++) check(kind.next(it) === null, `next returned an element after NULL (call ${i + 1} after the end)`);
    kind.destroy(it);
    check(liveIterators(kind) === live0, 'destroy did not release the iterator');
    expectInitError(() => kind.destroy(it), t, 'destroy after destroy');
    expectInitError(() => kind.next(it), t, 'next after destroy');

    if (opts.oracle !== undefined) {
      const want = opts.oracle(...a);
      check(ret === want.ret, `new returned ${ret}, oracle expects ${want.ret}`);
      if (want.elements !== undefined) {
        check(
          want.elements.length === elements.length && want.elements.every((w, i) => eq(w, elements[i]!)),
          `elements differ from the oracle (got ${elements.length}, expected ${want.elements.length})`,
        );
      }
    }

    // Double new on live slots is rejected; the first construction stays intact.
    kind.new(it2, ...a);
    expectInitError(() => kind.new(it2, ...a), t, 'new on a live iterator', true);
    kind.destroy(it2);

    // bpf_for_each broken early: destroyed exactly once, sees a prefix.
    const seen: E[] = [];
    if (cut > 0) {
      for (const v of bpfForEach(kind, ...a)) {
        seen.push(v);
        if (seen.length >= cut) break;
      }
    }
    if (opts.deterministic !== false) {
      const n = Math.min(cut, elements.length);
      check(seen.length === n && seen.every((v, i) => eq(v, elements[i]!)), 'bpfForEach did not see the same elements as the trio');
    }
    check(liveIterators(kind) === live0, 'bpfForEach leaked an iterator');
    const stats = iterStats(kind);
    check(stats.constructed - stats0.constructed === stats.destroyed - stats0.destroyed, 'constructions and destructions do not match');
  };
  return fc.property(args, fc.nat({ max: 64 }), (a, cut) => {
    if (opts.kernel !== undefined) withKernel(opts.kernel, () => run(a, cut));
    else run(a, cut);
  });
}

/**
 * Checks the open-coded iterator contract on `kind` for arguments drawn
 * from `args`. On a violation it throws an `Error` naming the broken clause,
 * the shrunk arguments and the seed/path to reproduce it. Checked for every
 * generated argument tuple:
 *
 * - `new` returns 0 or a negative errno, and the iterator is live either way;
 * - after a failed `new`, `next` returns NULL at once;
 * - `next` returns NULL within `maxElements` and keeps returning NULL;
 * - `destroy` releases it; destroy again and next after destroy fail with
 *   `expected an initialized iter_<type> as arg #0`;
 * - `new` on a live iterator fails with `expected uninitialized iter_<type> as arg #0`;
 * - a `bpfForEach` loop broken early destroys its iterator (no leaks) and,
 *   for deterministic kinds, sees a prefix of the same elements;
 * - optionally, results match `opts.oracle`.
 */
export function checkIterContract<N extends string, A extends unknown[], E>(
  kind: IterKind<N, A, E>,
  args: fc.Arbitrary<A>,
  opts: IterContractOptions<A, E> = {},
): void {
  const details = fc.check(iterContractProperty(kind, args, opts), opts.fc ?? { numRuns: 100 });
  if (!details.failed) return;
  const cause = details.errorInstance;
  const why = cause instanceof Error ? cause.message : String(cause);
  throw new Error(
    `bpf_iter_${kind.type} breaks the iterator contract: ${why}\n` +
      `  arguments: ${fc.stringify(details.counterexample?.[0])}, early break after: ${details.counterexample?.[1]}\n` +
      `  reproduce with fc: { seed: ${details.seed}, path: "${details.counterexamplePath}" }`,
    { cause },
  );
}
