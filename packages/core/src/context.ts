/**
 * Which kernel an iterator runs against, shared by the open-coded iterators
 * and the iterator programs. Resolved, first match wins, from an explicit
 * argument, the innermost {@link withKernel} scope (an AsyncLocalStorage
 * scope, so it flows through `await`), the process default set with
 * {@link setDefaultKernel}, and finally the embedded default kernel
 * ({@link defaultKernel}).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kernel } from './kernel.js';
import { defaultKernel } from './sources/synthetic.js';

const scope = new AsyncLocalStorage<Kernel>();
let processDefault: Kernel | undefined;

/** Sets (or with `undefined` clears) the process-wide default kernel. */
export function setDefaultKernel(kernel: Kernel | undefined): void {
  processDefault = kernel;
}

/** Runs `fn` with `kernel` as the ambient kernel. */
export function withKernel<R>(kernel: Kernel, fn: () => R): R {
  return scope.run(kernel, fn);
}

/** The kernel iterators use when none is given: the innermost {@link withKernel}, else the process default, else the embedded default kernel. */
export function currentKernel(): Kernel {
  return scope.getStore() ?? processDefault ?? defaultKernel();
}
