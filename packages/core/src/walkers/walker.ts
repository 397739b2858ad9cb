/**
 * The shape shared by every walker: the seq_file operations the kernel's
 * iterator targets implement, over a cursor that survives between reads.
 *
 * - `start()` finds the object the cursor names (looking it up again after a
 *   pause, or the next one if it vanished), or null at the end;
 * - `next()` moves past the current object and returns the following one;
 * - `stop()` drops the references held while stepping; the cursor stays, so
 *   a later `start()` resumes where the walk paused.
 *
 * A walker holds a reference on the object it last returned, until the
 * following `next()` or `stop()`.
 */
export interface Walker<T> {
  start(): T | null;
  next(): T | null;
  stop(): void;
}
