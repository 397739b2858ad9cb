import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BITS_ITER_NR_WORDS_MAX,
  bpf_iter_bits_destroy,
  bpf_iter_bits_new,
  bpf_iter_bits_next,
  bpfForEach,
  iterBits,
  liveIterators,
  type BitsWords,
} from '../src/index.js';

function run(words: BitsWords, nrWords?: number): { ret: number; seq: (number | null)[] } {
  const it = iterBits.alloc();
  const ret = nrWords === undefined ? bpf_iter_bits_new(it, words) : bpf_iter_bits_new(it, words, nrWords);
  const seq: (number | null)[] = [];
  for (let v = bpf_iter_bits_next(it); ; v = bpf_iter_bits_next(it)) {
    seq.push(v);
    if (v === null) break;
  }
  seq.push(bpf_iter_bits_next(it), bpf_iter_bits_next(it));
  bpf_iter_bits_destroy(it);
  return { ret, seq };
}

describe('bpf_iter_bits (§7.5.2, observable behaviour 4)', () => {
  it('4: words {0x5, 0x8000000000000000} yield 0, 2, 127, then NULL forever', () => {
    expect(run(new BigUint64Array([0x5n, 0x8000000000000000n]), 2)).toEqual({ ret: 0, seq: [0, 2, 127, null, null, null] });
  });

  it('4: nr_words = 512 → -E2BIG (empty iterator); 511 words are accepted', () => {
    expect(run(new BigUint64Array(512), 512)).toEqual({ ret: -7, seq: [null, null, null] });
    const words = new BigUint64Array(BITS_ITER_NR_WORDS_MAX);
    words[510] = 1n << 63n;
    expect(run(words, 511)).toEqual({ ret: 0, seq: [511 * 64 - 1, null, null, null] });
  });

  it('4: nr_words = 0 → -EINVAL; a NULL bitmap → -EINVAL', () => {
    expect(run(new BigUint64Array([1n]), 0)).toEqual({ ret: -22, seq: [null, null, null] });
    expect(run(null, 1)).toEqual({ ret: -22, seq: [null, null, null] });
    expect(run([])).toEqual({ ret: -22, seq: [null, null, null] });
  });

  it('nr_words is a u32: -1 is 4294967295 → -E2BIG', () => {
    expect(run([1n], -1).ret).toBe(-7);
  });

  it('reading past the bitmap (unreadable memory) → -EFAULT', () => {
    expect(run([1n], 2)).toEqual({ ret: -14, seq: [null, null, null] });
  });

  it('a bitmap with no bits set yields nothing; new still returns 0', () => {
    expect(run(new BigUint64Array(3))).toEqual({ ret: 0, seq: [null, null, null] });
  });

  it('one word (the inline copy) and every bit position', () => {
    expect(run([0xffffffffffffffffn]).seq.slice(0, 64)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(run([1n << 31n, 1n << 32n, 1n << 63n]).seq).toEqual([31, 96, 191, null, null, null]);
  });

  it('only the first nr_words words are read', () => {
    expect(run([1n, 2n, 4n], 2).seq).toEqual([0, 65, null, null, null]);
  });

  it('bigint[] input and values taken modulo 2^64', () => {
    expect(run([-1n & 0x3n, (1n << 64n) | 1n]).seq).toEqual([0, 1, 64, null, null, null]);
  });

  it('the bitmap is copied at construction: later changes are not seen', () => {
    const words = new BigUint64Array([0b1010n, 0n]);
    const it = iterBits.alloc();
    expect(bpf_iter_bits_new(it, words, 2)).toBe(0);
    words[0] = 0n;
    words[1] = 1n;
    expect([bpf_iter_bits_next(it), bpf_iter_bits_next(it), bpf_iter_bits_next(it)]).toEqual([1, 3, null]);
    bpf_iter_bits_destroy(it);
  });

  it('works with bpf_for_each and the kind-mismatch check', () => {
    expect([...bpfForEach(iterBits, [0x5n, 0x8000000000000000n])]).toEqual([0, 2, 127]);
    expect(liveIterators(iterBits)).toBe(0);
  });
});

/** The set bits of `words`, written from §7.5.2 with BigInt arithmetic (independent of the kind's chunks). */
function setBits(words: readonly bigint[]): number[] {
  const out: number[] = [];
  words.forEach((w, i) => {
    for (let b = 0; b < 64; b++) if ((BigInt.asUintN(64, w) >> BigInt(b)) & 1n) out.push(64 * i + b);
  });
  return out;
}

describe('bits stepping: exactly the set bits, ascending', () => {
  // Words of every density: empty, full, one bit, runs, and random ones (chunk edges at bits 16, 32, 48, 63).
  const word = fc.oneof(
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.constantFrom(0n, (1n << 64n) - 1n, 1n, 1n << 15n, 1n << 16n, 1n << 31n, 1n << 32n, 1n << 47n, 1n << 48n, 1n << 63n, 0xffffn << 16n, 0x8000_0001n),
    fc.nat(63).map((b) => 1n << BigInt(b)),
  );

  it('bpfForEach and the trio, for random bitmaps up to BITS_ITER_NR_WORDS_MAX words', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 40 }), fc.nat(BITS_ITER_NR_WORDS_MAX - 40), (head, pad) => {
        // Padding with zero words up to 511 words: the last chunks are scanned too.
        const words = [...head, ...new Array<bigint>(pad).fill(0n)];
        const want = setBits(words);
        expect([...bpfForEach(iterBits, new BigUint64Array(words))]).toEqual(want);
        expect([...bpfForEach(iterBits, words)]).toEqual(want);
        const { ret, seq } = run(words);
        expect(ret).toBe(0);
        expect(seq).toEqual([...want, null, null, null]);
      }),
      { numRuns: 200 },
    );
    expect(liveIterators(iterBits)).toBe(0);
  });

  it('iterators live at the same time keep their own copies (made and destroyed in any order)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(word, { minLength: 1, maxLength: 60 }), { minLength: 2, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 200 }), (bitmaps, picks) => {
        // Each bitmap gets an iterator; steps go to a random live one; one that ends is destroyed and
        // the next bitmap's iterator is made then, until all are done.
        const want = bitmaps.map(setBits);
        const got: number[][] = bitmaps.map(() => []);
        const live: { i: number; it: ReturnType<typeof iterBits.alloc> }[] = [];
        let next = 0;
        const open = (): void => {
          const it = iterBits.alloc();
          expect(bpf_iter_bits_new(it, new BigUint64Array(bitmaps[next]!))).toBe(0);
          live.push({ i: next++, it });
        };
        open();
        open();
        let p = 0;
        while (live.length > 0) {
          const k = (picks[p++ % Math.max(1, picks.length)] ?? 0) % live.length;
          const { i, it } = live[k]!;
          const v = bpf_iter_bits_next(it);
          if (v !== null) got[i]!.push(v);
          else {
            bpf_iter_bits_destroy(it);
            live.splice(k, 1);
            if (next < bitmaps.length) open();
          }
        }
        expect(got).toEqual(want);
      }),
      { numRuns: 100 },
    );
    expect(liveIterators(iterBits)).toBe(0);
  });

  it('511 words of ones: every index 0..32703', () => {
    const words = new BigUint64Array(BITS_ITER_NR_WORDS_MAX).fill((1n << 64n) - 1n);
    const got = [...bpfForEach(iterBits, words)];
    expect(got).toEqual(Array.from({ length: 64 * BITS_ITER_NR_WORDS_MAX }, (_, i) => i));
  });
});
