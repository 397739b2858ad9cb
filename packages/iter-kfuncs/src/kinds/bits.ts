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
import type { IterContext } from '../kernel-context.js';
import { LOOP_CLOSE, LOOP_DONE, LOOP_OPEN, LOOP_STEP } from '../loop-step.js';
import { registerIterKind } from '../registry.js';

/** The host's byte order: a `BigUint64Array`'s bytes are then its words' 16-bit chunks, lowest first. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `BITS_ITER_NR_WORDS_MAX`: the largest accepted `nr_words`. */
export const BITS_ITER_NR_WORDS_MAX = 511;

/** A bitmap as `bpf_iter_bits_new` accepts it (`null` is a NULL pointer). */
export type BitsWords = BigUint64Array | readonly bigint[] | null | undefined;

interface BitsState {
  /** The copy, as 16-bit chunks (lowest first). */
  chunks: Uint16Array;
  /**
   * The walk in one small integer: `(chunk << 16) | bits of that chunk not
   * yet returned`. A step then loads and stores one field: clearing the
   * lowest set bit (`cell & (cell - 1)`) never reaches the chunk number
   * while bits are left, and the chunk number is at most 2044 (511 words),
   * so the cell always fits a small integer (no boxing, even with 31-bit smis).
   */
  cell: number;
}

// The step's functions are `const`s: a module's function declaration is a
// mutable binding, which optimized code re-checks on every call (measured ~10%).

/** Bit index of the lowest set bit of the cell's low half, plus its chunk's first index. */
const indexOf = (cell: number): number => ((cell >>> 12) & ~15) | (31 - Math.clz32(cell & -cell));

/** The next non-empty chunk after the cell's, or NULL (and exhausted for good) when none is left. */
const bitsRefill = (s: BitsState, cell: number): number | null => {
  const c = s.chunks;
  let i = cell >>> 16;
  let rest: number;
  do {
    if (++i >= c.length) {
      s.cell = c.length << 16; // past the last chunk: NULL forever
      return null;
    }
    rest = c[i]!;
  } while (rest === 0);
  cell = (i << 16) | rest;
  s.cell = cell & (cell - 1);
  return indexOf(cell);
};

/** `bpf_iter_bits_next`: the next set bit's index, or NULL at the end. */
const bitsNext = (s: BitsState): number | null => {
  const cell = s.cell;
  if ((cell & 0xffff) === 0) return bitsRefill(s, cell);
  s.cell = cell & (cell - 1); // the lowest set bit cleared
  return indexOf(cell);
};

/** `bpf_iter_bits_new`: a copy of the bitmap. */
const bitsNew = (_ctx: IterContext, words: BitsWords, nrWords?: number): BitsState => {
  const n = nrWords === undefined ? (words?.length ?? 0) : nrWords >>> 0;
  if (words == null || n === 0) fail('EINVAL', 'bpf_iter_bits_new: NULL bitmap or nr_words == 0');
  if (n > BITS_ITER_NR_WORDS_MAX) {
    fail('E2BIG', `bpf_iter_bits_new: nr_words ${n} exceeds ${BITS_ITER_NR_WORDS_MAX}`);
  }
  if (n > words.length) fail('EFAULT', `bpf_iter_bits_new: reading ${n} words from a ${words.length}-word bitmap`);
  let chunks: Uint16Array;
  if (words instanceof BigUint64Array && LITTLE_ENDIAN) {
    // Already u64 words: copy their bytes (lowest chunk first on a little-endian host), no BigInt work.
    // Up to 8 words the copy stays in the JS heap (V8 keeps typed arrays of <= 64 bytes there): no
    // new ArrayBuffer, 6x faster for the common small bitmaps (one to eight words, as cpumasks).
    if (n <= 8) (chunks = new Uint16Array(4 * n)).set(new Uint16Array(words.buffer, words.byteOffset, 4 * n));
    else chunks = new Uint16Array(words.buffer.slice(words.byteOffset, words.byteOffset + 8 * n));
  } else {
    chunks = new Uint16Array(4 * n);
    for (let w = 0; w < n; w++) {
      const v = BigInt.asUintN(64, BigInt(words[w]!));
      for (let k = 0; k < 4; k++) chunks[4 * w + k] = Number(BigInt.asUintN(16, v >> BigInt(16 * k)));
    }
  }
  return { chunks, cell: chunks[0]! };
};

/** `bpf_iter_bits_destroy`. */
const bitsDestroy = (s: BitsState): void => {
  // Frees the copy (the kernel's bpf_mem_free for > 1 word).
  s.chunks = new Uint16Array(0);
  s.cell = 0;
};

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
    impl: bitsNew,
  },
  next: {
    name: 'bpf_iter_bits_next',
    flags: KF_ITER_NEXT | KF_RET_NULL,
    params: [{ name: 'it', type: 'struct bpf_iter_bits *' }],
    ret: 'int *',
    impl: bitsNext,
  },
  destroy: {
    name: 'bpf_iter_bits_destroy',
    flags: KF_ITER_DESTROY,
    params: [{ name: 'it', type: 'struct bpf_iter_bits *' }],
    ret: 'void',
    impl: bitsDestroy,
  },
  // bpfForEach's construction: this kind's own, so V8 inlines bitsNew into every loop (see loop-step.ts).
  [LOOP_OPEN]: function () {
    let data;
    try {
      data = bitsNew(this.ctx, this.a0, this.a1);
    } catch (e) {
      data = this.failed(e);
    }
    return this.open(data);
  },
  // bpfForEach's destruction: this kind's own, so V8 inlines bitsDestroy into every loop (see loop-step.ts).
  [LOOP_CLOSE]: function () {
    if (this.close()) bitsDestroy(this.data);
    return LOOP_DONE;
  },
  // bpfForEach's step: this kind's own, so V8 inlines bitsNext into every loop (see loop-step.ts).
  [LOOP_STEP]: function () {
    let done = true;
    let value = null;
    try {
      if (this.done === false) value = bitsNext(this.data);
    } catch (e) {
      this.fail(e);
    }
    if (value !== null && value !== undefined) done = false;
    else {
      this.end(value);
      value = this.return().value;
    }
    return { done, value } as IteratorResult<NonNullable<typeof value>, undefined>;
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
