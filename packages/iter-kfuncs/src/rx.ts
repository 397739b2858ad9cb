/**
 * `@bpf-iter/iter-kfuncs/rx`: an open-coded iterator as a cold RxJS
 * Observable. `rxjs` (7.x) is a peer dependency: install it beside this
 * package so that one `Observable` type exists in your app.
 *
 * @packageDocumentation
 */
import { Observable } from 'rxjs';
import type { IterKind } from './registry.js';
import { loopSource, openFrom } from './loops.js';
import { EMPTY, stateData } from './state.js';

/**
 * A cold Observable over `kind`'s elements: every subscription constructs
 * its own iterator (constructor error ignored, like `bpf_for_each`: the
 * Observable completes empty), emits synchronously, and destroys the
 * iterator exactly once on completion, error or unsubscription (including
 * `take(n)`, which unsubscribes between elements: no element is produced
 * after that). A throw from `next` (a contract violation) becomes an error
 * notification.
 *
 * The kernel is resolved like `bpfForEach`: a `bindKernel` view,
 * else the ambient kernel at subscription.
 *
 * @throws Never at call time; a contract violation of `next` is an error
 * notification carrying {@link @bpf-iter/core!BpfError} (EINVAL).
 *
 * @example
 * ```ts
 * import { fromIter } from '@bpf-iter/iter-kfuncs/rx';
 * import { iterTask, BPF_TASK_ITER_ALL_PROCS } from '@bpf-iter/iter-kfuncs';
 * import { filter, map, take } from 'rxjs';
 * fromIter(iterTask, null, BPF_TASK_ITER_ALL_PROCS)
 *   .pipe(filter((t) => t.state === 'R'), map((t) => t.comm), take(5))
 *   .subscribe(console.log); // the iterator is destroyed once take(5) unsubscribes
 * ```
 */
export function fromIter<N extends string, A extends unknown[], E>(kind: IterKind<N, A, E>, ...args: A): Observable<E> {
  const src = loopSource(kind, args);
  const { next, destroy } = src.home.raw;
  const inlineRange = src.home.rec.inlineRange;
  return new Observable<E>((subscriber) => {
    const it = openFrom(src);
    let live = true;
    subscriber.add(() => {
      if (live) {
        live = false;
        destroy(it);
      }
    });
    let v: unknown;
    try {
      if (inlineRange) {
        // num: rxjs `range`'s own loop over the state's range (nobody else can see the state step).
        const r = stateData(it) as { cur: number; end: number } | typeof EMPTY;
        if (r !== EMPTY) for (let i = r.cur, end = r.end; i < end && !subscriber.closed; i++) subscriber.next(i as E);
      } else {
        while (!subscriber.closed && (v = next(it)) !== null) subscriber.next(v as E);
      }
    } catch (e) {
      subscriber.error(e);
      return;
    }
    subscriber.complete();
  });
}

