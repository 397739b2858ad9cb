/**
 * `bpf_iter_bits`: indices of the set bits of a u64 bitmap (reference §7.5.2).
 *
 * Mirrors `bpf_iter_bits_new(it, const u64 *unsafe_ptr__ign, u32 nr_words)`:
 * the bitmap is a `BigUint64Array` or an array of `bigint` words (values
 * are taken modulo 2^64), `null` is the NULL pointer. `nrWords` defaults to
 * the array length; it is a `u32` (ToUint32, so -1 is 4294967295 → -E2BIG).
 * Reading more words than the array holds is "unreadable memory" → -EFAULT.
 * The words are copied at construction: later changes are not seen.
 * Bit `b` of word `w` is index `64 * w + b`; `next` yields them ascending.
 */
import { fail } from '@bpf-iter/core';
import { KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RET_NULL } from '../flags.js';
import { registerIterKind } from '../registry.js';

/** `BITS_ITER_NR_WORDS_MAX`: the largest accepted `nr_words`. */
export const BITS_ITER_NR_WORDS_MAX = 511;

/** A bitmap as `bpf_iter_bits_new` accepts it (`null` is a NULL pointer). */
export type BitsWords = BigUint64Array | readonly bigint[] | null | undefined;

interface BitsState {
  /** The copy, as 32-bit halves (low half first), for cheap bit scans. */
  halves: Uint32Array;
  /** Current 32-bit half and the bits of it not yet returned. */
  idx: number;
  rest: number;
}

/** The `bits` iterator kind: `bpf_iter_bits_new(it, words, nrWords?)`, elements are bit indices. */
export const iterBits = registerIterKind({
  state: { name: 'bpf_iter_bits', size: 16 },
  new: {
    name: 'bpf_iter_bits_new',
    flags: KF_ITER_NEW,
    params: [
      { name: 'it', type: 'struct bpf_iter_bits *' },
      { name: 'unsafe_ptr__ign', type: 'const u64 *' },
      { name: 'nr_words', type: 'u32' },
    ],
    ret: 'int',
    impl: (_ctx, words: BitsWords, nrWords?: number): BitsState => {
      const n = nrWords === undefined ? (words?.length ?? 0) : nrWords >>> 0;
      if (words == null || n === 0) fail('EINVAL', 'bpf_iter_bits_new: NULL bitmap or nr_words == 0');
      if (n > BITS_ITER_NR_WORDS_MAX) {
        fail('E2BIG', `bpf_iter_bits_new: nr_words ${n} exceeds ${BITS_ITER_NR_WORDS_MAX}`);
      }
      if (n > words.length) fail('EFAULT', `bpf_iter_bits_new: reading ${n} words from a ${words.length}-word bitmap`);
      const halves = new Uint32Array(2 * n);
      for (let w = 0; w < n; w++) {
        const v = BigInt.asUintN(64, BigInt(words[w]!));
        halves[2 * w] = Number(v & 0xffffffffn);
        halves[2 * w + 1] = Number(v >> 32n);
      }
      return { halves, idx: 0, rest: halves[0]! };
    },
  },
  next: {
    name: 'bpf_iter_bits_next',
    flags: KF_ITER_NEXT | KF_RET_NULL,
    params: [{ name: 'it', type: 'struct bpf_iter_bits *' }],
    ret: 'int *',
    impl: (s: BitsState): number | null => {
      const h = s.halves;
      while (s.rest === 0) {
        if (++s.idx >= h.length) {
          s.idx = h.length; // stays exhausted: NULL forever
          return null;
        }
        s.rest = h[s.idx]!;
      }
      const low = s.rest & -s.rest; // lowest set bit
      s.rest ^= low;
      return s.idx * 32 + (31 - Math.clz32(low));
    },
  },
  destroy: {
    name: 'bpf_iter_bits_destroy',
    flags: KF_ITER_DESTROY,
    params: [{ name: 'it', type: 'struct bpf_iter_bits *' }],
    ret: 'void',
    impl: (s: BitsState): void => {
      // Frees the copy (the kernel's bpf_mem_free for > 1 word).
      s.halves = new Uint32Array(0);
      s.rest = 0;
    },
  },
});

/** The bits iterator state type. */
export type BpfIterBits = ReturnType<typeof iterBits.alloc>;

/** `int bpf_iter_bits_new(struct bpf_iter_bits *it, const u64 *unsafe_ptr__ign, u32 nr_words)` */
export const bpf_iter_bits_new = iterBits.new;
/** `int *bpf_iter_bits_next(struct bpf_iter_bits *it)`: the bit index, or null. */
export const bpf_iter_bits_next = iterBits.next;
/** `void bpf_iter_bits_destroy(struct bpf_iter_bits *it)` */
export const bpf_iter_bits_destroy = iterBits.destroy;
