/**
 * Open-coded BPF iterators from Node.js: the kfunc trio, libbpf's loop
 * macros, RxJS, and a third-party iterator kind checked with the contract
 * checker.
 *
 *   npx tsx --conditions=@bpf-iter/source examples/open-coded-iterators.ts
 */
import fc from 'fast-check';
import { take, toArray, map } from 'rxjs';
import { fail } from '@bpf-iter/core';
import {
  bpf_iter_num_destroy,
  bpf_iter_num_new,
  bpf_iter_num_next,
  bpfFor,
  bpfForEach,
  bpfRepeat,
  iterBits,
  iterNum,
  KF_ITER_DESTROY,
  KF_ITER_NEW,
  KF_ITER_NEXT,
  KF_RET_NULL,
  liveIterators,
  registerIterKind,
} from '@bpf-iter/iter-kfuncs';
import { checkIterContract } from '@bpf-iter/iter-kfuncs/testing';
import { fromIter } from '@bpf-iter/iter-kfuncs/rx';
import { quietOnEpipe } from './main.js';

quietOnEpipe();

// 1. The trio, as a BPF program would call it.
const it = iterNum.alloc(); // struct bpf_iter_num it;  (uninitialized stack slots)
console.log('bpf_iter_num_new(&it, 3, 6) =', bpf_iter_num_new(it, 3, 6));
for (let v = bpf_iter_num_next(it); v !== null; v = bpf_iter_num_next(it)) console.log('  next ->', v);
bpf_iter_num_destroy(it);
console.log('bpf_iter_num_new(&it, 0, 8388609) =', bpf_iter_num_new(it, 0, 8388609), '(-E2BIG), next ->', bpf_iter_num_next(it));
bpf_iter_num_destroy(it);

// 2. libbpf's macros: bpf_for_each / bpf_for / bpf_repeat.
let sum = 0;
for (const i of bpfFor(0, 100)) sum += i;
console.log('bpf_for(i, 0, 100) sum =', sum);
console.log('bpf_for(i, 0, 10000000) iterations =', [...bpfFor(0, 10_000_000)].length, '(constructor error ignored)');
console.log('bpf_repeat(3) iterations =', [...bpfRepeat(3)].length);
console.log('set bits of {0x5, 1<<63} =', [...bpfForEach(iterBits, [0x5n, 1n << 63n])]);

// 3. `using`: the state is Disposable.
{
  using st = iterNum.open(10, 13);
  console.log('using: first two', st.next(), st.next());
} // destroyed here

// 4. RxJS: a cold observable, destroyed on take(n)/error/completion.
fromIter(iterNum, 0, 1_000_000)
  .pipe(map((v) => v * v), take(5), toArray())
  .subscribe((squares) => console.log('squares via RxJS:', squares));

// 5. A third-party kind: words of a string, registered through the same rules.
const iterWords = registerIterKind({
  state: { name: 'bpf_iter_words', size: 16 },
  new: {
    name: 'bpf_iter_words_new', flags: KF_ITER_NEW,
    params: ['struct bpf_iter_words *', 'const char *'], ret: 'int',
    impl: (_ctx, text: string) => {
      if (typeof text !== 'string') fail('EINVAL', 'text must be a string');
      return { words: text.split(/\s+/).filter(Boolean), i: 0 };
    },
  },
  next: {
    name: 'bpf_iter_words_next', flags: KF_ITER_NEXT | KF_RET_NULL,
    params: ['struct bpf_iter_words *'], ret: 'const char *',
    impl: (d) => (d.i < d.words.length ? d.words[d.i++]! : null),
  },
  destroy: {
    name: 'bpf_iter_words_destroy', flags: KF_ITER_DESTROY,
    params: ['struct bpf_iter_words *'], ret: 'void', impl: () => {},
  },
});
console.log('words:', [...bpfForEach(iterWords, 'open coded  bpf iterators')]);
checkIterContract(iterWords, fc.tuple(fc.string()), { fc: { numRuns: 200 } });
console.log('checkIterContract(iterWords): ok');

console.log('live iterators at exit:', liveIterators());
