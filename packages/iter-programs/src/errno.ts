import { BpfError, ERRNO, errnoName, type ErrnoName } from '@bpf-iter/core';

/** `-ERRNO` for a name, e.g. `neg('EINVAL') === -22` (kernel return convention). */
export function neg(name: ErrnoName): number {
  return -ERRNO[name];
}

/** Turns a negative kernel return value into a thrown {@link BpfError}; returns non-negative values. */
export function check(ret: number, what: string): number {
  if (ret < 0) throw errorFor(ret, what);
  return ret;
}

/** A {@link BpfError} for a negative kernel return value. */
export function errorFor(ret: number, what: string): BpfError {
  const name = errnoName(ret) ?? 'EINVAL';
  return new BpfError(name, what);
}
