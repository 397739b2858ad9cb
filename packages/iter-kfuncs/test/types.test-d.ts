import { describe, expectTypeOf, it } from 'vitest';
import type { Observable } from 'rxjs';
import {
  bpf_iter_bits_destroy,
  bpf_iter_bits_new,
  bpf_iter_bits_next,
  bpf_iter_num_destroy,
  bpf_iter_num_new,
  bpf_iter_num_next,
  bpfFor,
  bpfForEach,
  iterBits,
  iterNum,
  KF_ITER_DESTROY,
  KF_ITER_NEW,
  KF_ITER_NEXT,
  KF_RET_NULL,
  registerIterKind,
  type BpfIter,
  type BpfIterBits,
  type BpfIterNum,
  type IterKind,
} from '../src/index.js';
import { fromIter } from '../src/rx.js';

describe('iterator states are branded by kind', () => {
  it('num and bits states have distinct types', () => {
    expectTypeOf(iterNum.alloc()).toEqualTypeOf<BpfIter<'num', number>>();
    expectTypeOf(iterBits.alloc()).toEqualTypeOf<BpfIter<'bits', number>>();
    expectTypeOf<BpfIterNum>().not.toMatchTypeOf<BpfIterBits>();
    expectTypeOf<BpfIterBits>().not.toMatchTypeOf<BpfIterNum>();
  });

  it("a num state cannot be passed to the bits kfuncs (and vice versa)", () => {
    const num = iterNum.alloc();
    const bits = iterBits.alloc();
    bpf_iter_num_new(num, 0, 3);
    bpf_iter_bits_new(bits, [1n]);
    // @ts-expect-error num state into bits next
    bpf_iter_bits_next(num);
    // @ts-expect-error num state into bits destroy
    bpf_iter_bits_destroy(num);
    // @ts-expect-error num state into bits new
    bpf_iter_bits_new(num, [1n]);
    // @ts-expect-error bits state into num next
    bpf_iter_num_next(bits);
    // @ts-expect-error bits state into num destroy
    iterNum.destroy(bits);
    // @ts-expect-error a plain object is not a state
    bpf_iter_num_next({ cur: 0, end: 3 });
    bpf_iter_num_destroy(num);
    bpf_iter_bits_destroy(bits);
  });

  it('constructor arguments are typed', () => {
    const num = iterNum.alloc();
    // @ts-expect-error start/end are numbers
    bpf_iter_num_new(num, '0', 3);
    // @ts-expect-error missing end
    bpf_iter_num_new(num, 0);
    // @ts-expect-error bits takes u64 words
    bpf_iter_bits_new(iterBits.alloc(), [1, 2]);
    expectTypeOf(bpf_iter_num_new).returns.toEqualTypeOf<number>();
    expectTypeOf(bpf_iter_num_next).returns.toEqualTypeOf<number | null>();
    expectTypeOf(bpf_iter_num_destroy).returns.toEqualTypeOf<void>();
  });

  it('loops and observables carry the element type', () => {
    expectTypeOf([...bpfForEach(iterNum, 0, 3)]).toEqualTypeOf<number[]>();
    expectTypeOf([...bpfFor(0, 3)]).toEqualTypeOf<number[]>();
    expectTypeOf(fromIter(iterBits, [1n])).toEqualTypeOf<Observable<number>>();
    // @ts-expect-error wrong constructor arguments for the kind
    bpfForEach(iterNum, 'a', 'b');
  });

  it('third-party kinds infer their type name, arguments and element type', () => {
    const kind = registerIterKind({
      state: { name: 'bpf_iter_words', size: 16 },
      new: {
        name: 'bpf_iter_words_new', flags: KF_ITER_NEW, params: ['struct bpf_iter_words *', 'const char *'], ret: 'int',
        impl: (_ctx, text: string) => ({ words: text.split(' '), i: 0 }),
      },
      next: {
        name: 'bpf_iter_words_next', flags: KF_ITER_NEXT | KF_RET_NULL, params: ['struct bpf_iter_words *'], ret: 'char *',
        impl: (d) => d.words[d.i++] ?? null,
      },
      destroy: { name: 'bpf_iter_words_destroy', flags: KF_ITER_DESTROY, params: ['struct bpf_iter_words *'], ret: 'void', impl: () => {} },
    });
    expectTypeOf(kind).toEqualTypeOf<IterKind<'words', [text: string], string>>();
    const st = kind.alloc();
    expectTypeOf(st).toEqualTypeOf<BpfIter<'words', string>>();
    // @ts-expect-error a words state is not a num state
    iterNum.next(st);
  });

  it('the state struct name must start with bpf_iter_', () => {
    registerIterKind({
      // @ts-expect-error not a bpf_iter_<type> struct
      state: { name: 'foo_state', size: 8 },
      new: { name: 'x', flags: 0, params: [], ret: 'int', impl: () => ({}) },
      next: { name: 'x', flags: 0, params: [], ret: 'int', impl: () => null },
      destroy: { name: 'x', flags: 0, params: [], ret: 'void', impl: () => {} },
    });
  });

  it('states are Disposable', () => {
    expectTypeOf(iterNum.open(0, 1)).toMatchTypeOf<Disposable>();
  });
});
