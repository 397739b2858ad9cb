import { fail } from '@bpf-iter/core';
import { KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RET_NULL, registerIterKind } from '../src/index.js';

let seq = 0;
/** A fresh, unique iterator type name (the registry is process-wide). */
export function uniqueType(base: string): string {
  return `${base}_${++seq}`;
}

/** Counters a third-party kind records about calls into its implementation. */
export interface Calls {
  news: number;
  nexts: number;
  destroys: number;
}

/**
 * A third-party kind `bpf_iter_<type>` yielding `0..n-1` strings ("e0", …);
 * `new(n)` fails with -EINVAL for n < 0. `bad` makes `next` restart after
 * NULL (a contract violation) unless `restartsAfterNull` declares the quirk.
 */
export function countingKind(opts: { bad?: boolean; restartsAfterNull?: boolean } = {}) {
  const type = uniqueType('count');
  const calls: Calls = { news: 0, nexts: 0, destroys: 0 };
  const st = `bpf_iter_${type}` as const;
  const kind = registerIterKind({
    state: { name: st as `bpf_iter_${string}`, size: 16 },
    new: {
      name: `${st}_new`,
      flags: KF_ITER_NEW,
      params: [`struct ${st} *`, 'int'],
      ret: 'int',
      impl: (_ctx, n: number) => {
        calls.news++;
        if (n < 0) fail('EINVAL', `negative count ${n}`);
        return { i: 0, n };
      },
    },
    next: {
      name: `${st}_next`,
      flags: KF_ITER_NEXT | KF_RET_NULL,
      params: [`struct ${st} *`],
      ret: 'pointer',
      impl: (d: { i: number; n: number }) => {
        calls.nexts++;
        if (d.i < d.n) return `e${d.i++}`;
        if (opts.bad || opts.restartsAfterNull) d.i = 0; // restart on the following call
        return null;
      },
    },
    destroy: {
      name: `${st}_destroy`,
      flags: KF_ITER_DESTROY,
      params: [`struct ${st} *`],
      ret: 'void',
      impl: () => {
        calls.destroys++;
      },
    },
    restartsAfterNull: opts.restartsAfterNull ?? false,
  });
  return { kind, calls, type };
}
