/** `bpf_spin_lock` (#93) / `bpf_spin_unlock` (#94) on a `struct bpf_spin_lock` inside a map value. */
import { BpfError } from '@bpf-iter/core';
import { checkHelper } from './func_proto.js';

/** A `struct bpf_spin_lock` (4 bytes, `u32 val`) as a program holds it: a view of those bytes of the map value. */
export type BpfSpinLock = Uint8Array;

function word(lock: BpfSpinLock, name: string): DataView {
  if (!(lock instanceof Uint8Array) || lock.length < 4) throw new BpfError('EINVAL', `${name}: R1 is not a pointer to a struct bpf_spin_lock in a map value`);
  return new DataView(lock.buffer, lock.byteOffset, 4);
}

/**
 * `long bpf_spin_lock(struct bpf_spin_lock *lock)`: takes the lock (its
 * `val` becomes 1); returns 0. The model runs one program at a time, so a
 * lock already held can only be this program's: taking it twice is what
 * the verifier rejects ("calls are not allowed while holding a lock"), and
 * the read fails EINVAL.
 *
 * @example
 * ```ts
 * const v = bpf_map_lookup_elem(map, 0)!;
 * bpf_spin_lock(v.subarray(0, 4)); v[4]++; bpf_spin_unlock(v.subarray(0, 4));
 * ```
 */
export function bpf_spin_lock(lock: BpfSpinLock): number {
  checkHelper('bpf_spin_lock');
  const w = word(lock, 'bpf_spin_lock');
  if (w.getUint32(0, true) !== 0) throw new BpfError('EINVAL', 'bpf_spin_lock: the lock is already held (calls are not allowed while holding a lock)');
  w.setUint32(0, 1, true);
  return 0;
}

/** `long bpf_spin_unlock(struct bpf_spin_lock *lock)`: releases the lock; unlocking one not held fails EINVAL (a verifier error). */
export function bpf_spin_unlock(lock: BpfSpinLock): number {
  checkHelper('bpf_spin_unlock');
  const w = word(lock, 'bpf_spin_unlock');
  if (w.getUint32(0, true) === 0) throw new BpfError('EINVAL', 'bpf_spin_unlock: the lock is not held (bpf_spin_unlock without taking a lock)');
  w.setUint32(0, 0, true);
  return 0;
}
