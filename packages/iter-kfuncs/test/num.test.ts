import { describe, expect, it } from 'vitest';
import { BpfError } from '@bpf-iter/core';
import {
  BPF_MAX_LOOPS,
  bpf_iter_num_destroy,
  bpf_iter_num_new,
  bpf_iter_num_next,
  bpfFor,
  bpfForEach,
  bpfProgram,
  bpfRepeat,
  iterBits,
  iterNum,
  liveIterators,
} from '../src/index.js';

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** new + drain (with two extra next calls) + destroy, through the kernel-named kfuncs. */
function run(start: number, end: number): { ret: number; seq: (number | null)[] } {
  const it = iterNum.alloc();
  const ret = bpf_iter_num_new(it, start, end);
  const seq: (number | null)[] = [];
  let v: number | null;
  do {
    v = bpf_iter_num_next(it);
    seq.push(v);
  } while (v !== null && seq.length < BPF_MAX_LOOPS + 2);
  seq.push(bpf_iter_num_next(it), bpf_iter_num_next(it));
  bpf_iter_num_destroy(it);
  return { ret, seq };
}

describe('bpf_iter_num (§7.5.1, observable behaviours 1–3)', () => {
  it('1: new(3, 6) → 0; next yields 3, 4, 5 then NULL, NULL', () => {
    expect(run(3, 6)).toEqual({ ret: 0, seq: [3, 4, 5, null, null, null] });
  });

  it('2: new(5, 5) → 0 and the first next is NULL (empty range is legal)', () => {
    expect(run(5, 5)).toEqual({ ret: 0, seq: [null, null, null] });
  });

  it('2: new(6, 3) → -EINVAL and next is NULL', () => {
    expect(run(6, 3)).toEqual({ ret: -22, seq: [null, null, null] });
  });

  it('2: new(0, 8388608) → 0 (exactly BPF_MAX_LOOPS elements)', () => {
    const it = iterNum.alloc();
    expect(bpf_iter_num_new(it, 0, 8388608)).toBe(0);
    let n = 0;
    let last = -1;
    for (let v = bpf_iter_num_next(it); v !== null; v = bpf_iter_num_next(it)) {
      n++;
      last = v;
    }
    expect([n, last]).toEqual([8388608, 8388607]);
    bpf_iter_num_destroy(it);
  });

  it('2: new(0, 8388609) → -E2BIG and next is NULL', () => {
    expect(run(0, 8388609)).toEqual({ ret: -7, seq: [null, null, null] });
  });

  it('2: new(INT_MIN, INT_MAX) → -E2BIG (no overflow)', () => {
    expect(run(INT_MIN, INT_MAX)).toEqual({ ret: -7, seq: [null, null, null] });
  });

  it('negative ranges and the int32 edges work', () => {
    expect(run(-2, 1).seq).toEqual([-2, -1, 0, null, null, null]);
    expect(run(INT_MAX - 2, INT_MAX).seq).toEqual([INT_MAX - 2, INT_MAX - 1, null, null, null]);
    expect(run(INT_MIN, INT_MIN + 2).seq).toEqual([INT_MIN, INT_MIN + 1, null, null, null]);
  });

  it('arguments have C int semantics (ToInt32): 2**31 is INT_MIN, so new(0, 2**31) is -EINVAL', () => {
    expect(run(0, 2 ** 31).ret).toBe(-22);
    expect(run(1.9, 3.2).seq).toEqual([1, 2, null, null, null]);
  });

  it('the failing new leaves a live, empty iterator that must still be destroyed', () => {
    const live = liveIterators(iterNum);
    const it = iterNum.alloc();
    expect(bpf_iter_num_new(it, 6, 3)).toBe(-22);
    expect(it.error).toBe(-22);
    expect(it.cause?.errno).toBe('EINVAL');
    expect(liveIterators(iterNum)).toBe(live + 1);
    bpf_iter_num_destroy(it);
    expect(liveIterators(iterNum)).toBe(live);
  });

  it('create() throws the constructor error and leaves nothing to destroy; open() does not throw', () => {
    const live = liveIterators(iterNum);
    expect(() => iterNum.create(0, 8388609)).toThrow(/E2BIG/);
    expect(liveIterators(iterNum)).toBe(live);
    const it = iterNum.open(0, 8388609);
    expect([it.error, it.next()]).toEqual([-7, null]);
    it.destroy();
  });

  it('3: bpf_for(i, 0, 10000000) never executes its body (-E2BIG ignored)', () => {
    let body = 0;
    for (const _ of bpfFor(0, 10_000_000)) body++;
    expect(body).toBe(0);
    expect(liveIterators(iterNum)).toBe(0);
  });

  it('bpf_for(i, 5, 1) runs zero times; bpf_for(i, 0, 3) runs 0, 1, 2', () => {
    expect([...bpfFor(5, 1)]).toEqual([]);
    expect([...bpfFor(0, 3)]).toEqual([0, 1, 2]);
  });

  it('bpf_repeat(N) runs N times; more than BPF_MAX_LOOPS runs zero times', () => {
    let n = 0;
    for (const _ of bpfRepeat(5)) n++;
    expect(n).toBe(5);
    expect([...bpfRepeat(BPF_MAX_LOOPS + 1)]).toHaveLength(0);
  });

  it('bpf_for_each(num, cur, 0, 10) sums to 45', () => {
    let sum = 0;
    for (const v of bpfForEach(iterNum, 0, 10)) sum += v;
    expect(sum).toBe(45);
  });
});

describe('observable 8: verifier-style rejections', () => {
  it('new without destroy fails with "Unreleased reference"', () => {
    const e = (() => {
      try {
        bpfProgram(() => {
          const it = iterNum.alloc();
          bpf_iter_num_new(it, 0, 3);
          return 0;
        });
      } catch (err) {
        return err as BpfError;
      }
    })();
    expect(e).toBeInstanceOf(BpfError);
    expect(e?.errno).toBe('EINVAL');
    expect(e?.message).toMatch(/^EINVAL: Unreleased reference id=\d+ alloc_insn=0$/);
    expect(liveIterators(iterNum)).toBe(0); // the check destroyed the leftover
  });

  it('a program that destroys what it constructs is accepted', () => {
    expect(
      bpfProgram(() => {
        const it = iterNum.alloc();
        bpf_iter_num_new(it, 0, 3);
        let s = 0;
        for (let v = bpf_iter_num_next(it); v !== null; v = bpf_iter_num_next(it)) s += v;
        bpf_iter_num_destroy(it);
        return s;
      }),
    ).toBe(3);
  });

  it('a bpfForEach loop left unfinished inside bpfProgram is an unreleased reference, and is destroyed', () => {
    const e = (() => {
      try {
        bpfProgram(() => {
          const loop = bpfForEach(iterNum, 0, 10)[Symbol.iterator]();
          loop.next(); // constructed, never run to the end nor returned
          expect(liveIterators(iterNum)).toBe(1);
          return 0;
        });
      } catch (err) {
        return err as BpfError;
      }
    })();
    expect(e).toBeInstanceOf(BpfError);
    expect(e?.message).toMatch(/^EINVAL: Unreleased reference id=\d+ alloc_insn=0$/);
    expect(liveIterators(iterNum)).toBe(0);
  });

  it('bpfForEach loops ended by break, throw or to the end inside bpfProgram are accepted, each destroyed once', () => {
    const before = liveIterators(iterNum);
    const s = bpfProgram(() => {
      let n = 0;
      for (const v of bpfForEach(iterNum, 0, 10)) if (v === 3) break; else n += v;
      try {
        for (const v of bpfForEach(iterNum, 0, 10)) if (v === 2) throw new Error('x');
      } catch {
        n += 100;
      }
      for (const v of bpfForEach(iterNum, 0, 4)) n += v;
      return n;
    });
    expect(s).toBe(3 + 100 + 6);
    expect(liveIterators(iterNum)).toBe(before);
  });

  it('new twice on the same slots fails with "expected uninitialized iter_num"', () => {
    const it = iterNum.alloc();
    bpf_iter_num_new(it, 0, 3);
    expect(() => bpf_iter_num_new(it, 0, 3)).toThrow(new BpfError('EINVAL', 'expected uninitialized iter_num as arg #0'));
    expect(bpf_iter_num_next(it)).toBe(0); // the live iterator is untouched
    bpf_iter_num_destroy(it);
  });

  it('destroy twice fails with "expected an initialized iter_num"', () => {
    const it = iterNum.alloc();
    bpf_iter_num_new(it, 0, 3);
    bpf_iter_num_destroy(it);
    expect(() => bpf_iter_num_destroy(it)).toThrow(new BpfError('EINVAL', 'expected an initialized iter_num as arg #0'));
  });

  it('next on never-initialised or destroyed slots fails with "expected an initialized iter_num"', () => {
    const it = iterNum.alloc();
    expect(() => bpf_iter_num_next(it)).toThrow(/expected an initialized iter_num as arg #0/);
    expect(() => bpf_iter_num_destroy(it)).toThrow(/expected an initialized iter_num as arg #0/);
    bpf_iter_num_new(it, 0, 1);
    bpf_iter_num_destroy(it);
    expect(() => bpf_iter_num_next(it)).toThrow(/expected an initialized iter_num as arg #0/);
  });

  it("a live bits state passed to num's next/destroy is rejected (kind mismatch)", () => {
    const bits = iterBits.open([1n]);
    expect(() => bpf_iter_num_next(bits as never)).toThrow(new BpfError('EINVAL', 'expected an initialized iter_num as arg #0'));
    expect(() => bpf_iter_num_destroy(bits as never)).toThrow(/expected an initialized iter_num as arg #0/);
    expect(bits.next()).toBe(0);
    bits.destroy();
  });

  it('9: the same slots can be reused for a second iterator after destroy', () => {
    const it = iterNum.alloc();
    bpf_iter_num_new(it, 0, 2);
    bpf_iter_num_destroy(it);
    expect(bpf_iter_num_new(it, 7, 9)).toBe(0);
    expect([bpf_iter_num_next(it), bpf_iter_num_next(it), bpf_iter_num_next(it)]).toEqual([7, 8, null]);
    bpf_iter_num_destroy(it);
  });

  it('10: memory that is not an iterator fails with "expected pointer to an iterator on stack"', () => {
    for (const bad of [{}, null, undefined, 42, { cur: 0, end: 3 }, Object.create(Object.getPrototypeOf(iterNum.alloc()))]) {
      expect(() => bpf_iter_num_next(bad as never)).toThrow(new BpfError('EINVAL', 'arg#0 expected pointer to an iterator on stack'));
      expect(() => bpf_iter_num_new(bad as never, 0, 1)).toThrow(/arg#0 expected pointer to an iterator on stack/);
      expect(() => bpf_iter_num_destroy(bad as never)).toThrow(/arg#0 expected pointer to an iterator on stack/);
    }
  });
});
