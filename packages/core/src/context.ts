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

/** The kernel set by an enclosing {@link withKernel} or by {@link setDefaultKernel}, if any (no fallback). */
export function explicitKernel(): Kernel | undefined {
  return scope.getStore() ?? processDefault;
}

/** The kernel iterators use when none is given: the innermost {@link withKernel}, else the process default, else the embedded default kernel. */
export function currentKernel(): Kernel {
  return scope.getStore() ?? processDefault ?? defaultKernel();
}

const taskScope = new AsyncLocalStorage<import('./model/task.js').Task>();

/**
 * Runs `fn` as if `task` were the calling process (`current`): iterators
 * created inside see the kernel from `task`'s pid namespace, as the
 * kernel's task iterators capture the creator's namespace.
 */
export function asTask<R>(task: import('./model/task.js').Task, fn: () => R): R {
  return taskScope.run(task, fn);
}

/** The task {@link asTask} set, if any. */
export function currentTask(): import('./model/task.js').Task | undefined {
  return taskScope.getStore();
}

/** The pid namespace of the calling process in `kernel`: {@link asTask}'s task's, else the initial one. */
export function currentPidNs(kernel: Kernel): import('./model/pid_namespace.js').PidNamespace {
  const t = taskScope.getStore();
  return t && t.pidNs && kernel.initPidNs.isAncestorOf(t.pidNs) ? t.pidNs : kernel.initPidNs;
}
