/**
 * Cleanups of real-kernel side effects in flight (bpffs pins, temp dirs):
 * code that creates them registers how to undo them, and a signal handler
 * (the `bpf-iter` bin's SIGINT/SIGTERM) runs whatever is still registered
 * before the process exits. Normal paths undo their own work in `finally`
 * and unregister.
 *
 * @example
 * const undo = () => rmSync(pin, { force: true });
 * const unregister = registerCleanup(undo);
 * try { work(); } finally { undo(); unregister(); }
 */
const pending = new Set<() => void>();

/** Registers `fn` to run if the process is stopped before it unregisters; returns the unregister function. */
export function registerCleanup(fn: () => void): () => void {
  pending.add(fn);
  return () => {
    pending.delete(fn);
  };
}

/** Runs (once) and forgets every registered cleanup; a failing one does not stop the others. */
export function runCleanups(): void {
  for (const fn of [...pending]) {
    pending.delete(fn);
    try {
      fn();
    } catch {
      // best effort: the process is going away
    }
  }
}
