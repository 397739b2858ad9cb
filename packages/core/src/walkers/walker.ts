/**
 * The one protocol of every walker, behind both the iterator targets and
 * the open-coded kinds (the kernel doc: "iteration logic and code will be
 * maximally shared"): the seq_file operations over a cursor that survives
 * between reads.
 *
 * - `start()` finds the object the cursor names (looking it up again after a
 *   pause, or the next one if it vanished), or null at the end;
 * - `next()` moves past the current object and returns the following one;
 * - `stop()` drops the references held while stepping; the cursor stays, so
 *   a later `start()` resumes where the walk paused.
 *
 * A walker holds a reference on the object it last returned, until the
 * following `next()` or `stop()` (walkers that stand on RCU list nodes, as
 * the kernel's open-coded iterators do, hold none).
 */
export interface Walker<T> {
  start(): T | null;
  next(): T | null;
  stop(): void;
}

/**
 * A {@link Walker} an open-coded kind steps with `next()` alone (its `_next`
 * kfunc has no start): the first `next()` before any `start()` returns the
 * first object, and after the end `next()` stays null.
 */
export interface OpenCodedWalker<T> extends Walker<T> {
  readonly openCoded: true;
}
