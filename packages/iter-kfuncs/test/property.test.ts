import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fail } from '@bpf-iter/core';
import {
  BITS_ITER_NR_WORDS_MAX,
  BPF_MAX_LOOPS,
  iterBits,
  iterNum,
  KF_ITER_DESTROY,
  KF_ITER_NEW,
  KF_ITER_NEXT,
  KF_RET_NULL,
  liveIterators,
  registerIterKind,
  type BitsWords,
} from '../src/index.js';
import { checkIterContract } from '../src/testing.js';
import { countingKind, uniqueType } from './helpers.js';

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** The kernel's bpf_iter_num_new, written independently from §7.5.1. */
function numOracle(start: number, end: number): { ret: number; elements?: number[] } {
  if (start > end) return { ret: -22, elements: [] };
  if (end - start > BPF_MAX_LOOPS) return { ret: -7, elements: [] };
  return end - start <= 4096 ? { ret: 0, elements: Array.from({ length: end - start }, (_, i) => start + i) } : { ret: 0 };
}

const int32 = fc.integer({ min: INT_MIN, max: INT_MAX });

describe('checkIterContract', () => {
  it('num: contract and §7.5.1 semantics over int32 ranges', () => {
    const near = fc.tuple(int32, fc.integer({ min: -8, max: 300 })).map(([s, d]) => [s, Math.max(INT_MIN, Math.min(INT_MAX, s + d))] as [number, number]);
    const edges = fc.constantFrom<[number, number]>([0, BPF_MAX_LOOPS + 1], [INT_MIN, INT_MAX], [5, 5], [6, 3], [INT_MAX - 1, INT_MAX]);
    checkIterContract(iterNum, fc.oneof(near, edges, fc.tuple(int32, int32)), {
      oracle: numOracle,
      maxElements: BPF_MAX_LOOPS,
      fc: { numRuns: 150 },
    });
  });

  it('bits: contract and §7.5.2 semantics over random bitmaps', () => {
    const word = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const words = fc.array(word, { minLength: 0, maxLength: 12 });
    const args: fc.Arbitrary<[BitsWords, number?]> = fc.oneof(
      words.map((w) => [w] as [bigint[]]),
      fc.tuple(words, fc.integer({ min: -1, max: 16 })).map(([w, n]) => [new BigUint64Array(w), n] as [BigUint64Array, number]),
      fc.constant([new BigUint64Array(BITS_ITER_NR_WORDS_MAX + 1)] as [BigUint64Array]),
      fc.constant([null, 1] as [null, number]),
    );
    checkIterContract(iterBits, args, {
      oracle: (w: BitsWords, n?: number) => {
        const nr = n === undefined ? (w?.length ?? 0) : n >>> 0;
        if (w == null || nr === 0) return { ret: -22, elements: [] };
        if (nr > BITS_ITER_NR_WORDS_MAX) return { ret: -7, elements: [] };
        if (nr > w.length) return { ret: -14, elements: [] };
        const out: number[] = [];
        for (let i = 0; i < nr * 64; i++) if ((BigInt.asUintN(64, w[Math.floor(i / 64)]!) >> BigInt(i % 64)) & 1n) out.push(i);
        return { ret: 0, elements: out };
      },
      fc: { numRuns: 150 },
    });
  });

  it('a third-party kind passes', () => {
    const { kind } = countingKind();
    checkIterContract(kind, fc.tuple(fc.integer({ min: -3, max: 50 })), {
      oracle: (n) => (n < 0 ? { ret: -22, elements: [] } : { ret: 0, elements: Array.from({ length: n }, (_, i) => `e${i}`) }),
    });
  });

  it('a third-party kind needing a kernel passes under opts.kernel', () => {
    const type = uniqueType('kscan');
    const st = `bpf_iter_${type}` as const;
    const kernel = { tasks: ['init', 'kthreadd', 'bash'] } as never;
    const kind = registerIterKind({
      state: { name: st as `bpf_iter_${string}`, size: 24 },
      new: { name: `${st}_new`, flags: KF_ITER_NEW, params: [`struct ${st} *`, 'unsigned int'], ret: 'int',
        impl: (ctx, flags: number) => {
          if (flags !== 0) fail('EINVAL', 'flags');
          return { names: (ctx.kernel as unknown as { tasks: string[] }).tasks, i: 0 };
        } },
      next: { name: `${st}_next`, flags: KF_ITER_NEXT | KF_RET_NULL, params: [`struct ${st} *`], ret: 'pointer',
        impl: (d: { names: string[]; i: number }) => d.names[d.i++] ?? null },
      destroy: { name: `${st}_destroy`, flags: KF_ITER_DESTROY, params: [`struct ${st} *`], ret: 'void', impl: () => {} },
    });
    checkIterContract(kind, fc.tuple(fc.integer({ min: 0, max: 2 })), {
      kernel,
      oracle: (f) => (f === 0 ? { ret: 0, elements: ['init', 'kthreadd', 'bash'] } : { ret: -22, elements: [] }),
    });
  });

  it('catches a kind that restarts after NULL', () => {
    const { kind } = countingKind({ bad: true });
    expect(() => checkIterContract(kind, fc.tuple(fc.integer({ min: 0, max: 5 })), { fc: { numRuns: 20 } })).toThrow(/returned an element after returning NULL/);
  });

  it('catches a kind that never ends (no NULL within maxElements)', () => {
    const type = uniqueType('forever');
    const st = `bpf_iter_${type}` as const;
    const kind = registerIterKind({
      state: { name: st as `bpf_iter_${string}`, size: 8 },
      new: { name: `${st}_new`, flags: KF_ITER_NEW, params: [`struct ${st} *`], ret: 'int', impl: () => ({ i: 0 }) },
      next: { name: `${st}_next`, flags: KF_ITER_NEXT | KF_RET_NULL, params: [`struct ${st} *`], ret: 'int *', impl: (d: { i: number }) => d.i++ },
      destroy: { name: `${st}_destroy`, flags: KF_ITER_DESTROY, params: [`struct ${st} *`], ret: 'void', impl: () => {} },
    });
    expect(() => checkIterContract(kind, fc.constant([] as []), { maxElements: 1000, fc: { numRuns: 1 } })).toThrow(/did not return NULL within 1000/);
    // the checker destroys what it constructed even when a check fails
    expect(liveIterators(kind)).toBe(0);
  });

  it('catches a wrong oracle answer (non-deterministic or wrong elements)', () => {
    expect(() => checkIterContract(iterNum, fc.constant([0, 3] as [number, number]), { oracle: () => ({ ret: 0, elements: [0, 1] }), fc: { numRuns: 1 } })).toThrow(/oracle/);
  });
});
