/**
 * Which kernel an iterator constructor runs against.
 *
 * Kinds such as `num` and `bits` need no kernel and ignore this. Kinds that
 * walk kernel objects (task, css, …) read {@link IterContext.kernel} inside
 * their `new`. It is resolved lazily (only when a kind reads it), first
 * match wins, from:
 *
 * 1. a kind view made with {@link bindKernel} (explicit),
 * 2. the ambient kernel of `@bpf-iter/core` when the loop or observable was
 *    created (`withKernel(kernel, fn)` scope, else `setDefaultKernel`, else
 *    core's embedded default kernel) — for `bpfForEach` / `fromIter`,
 * 3. the ambient kernel when `new` runs — for direct kfunc calls.
 */
import { currentKernel, type Kernel } from '@bpf-iter/core';

/** What a kind's constructor implementation receives as its first argument. */
export interface IterContext<K = Kernel> {
  /** The kernel to iterate. */
  readonly kernel: K;
}

/** A context reading the ambient kernel at the time `new` runs. */
export const ambientContext: IterContext = Object.freeze({
  get kernel(): Kernel {
    return currentKernel();
  },
});

/** A context with a fixed kernel. */
export function fixedContext(kernel: unknown): IterContext<any> {
  return Object.freeze({ kernel });
}
