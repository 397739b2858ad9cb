/** `bpf_loop` (#181). */
import { BpfError } from '@bpf-iter/core';
import { neg } from '../errno.js';
import { checkHelper } from './func_proto.js';

/** `BPF_MAX_LOOPS`: the most iterations one `bpf_loop` call makes. */
export const BPF_MAX_LOOPS = 1 << 23;

/**
 * `long bpf_loop(u32 nr_loops, void *callback_fn, void *callback_ctx, u64 flags)`:
 * calls `callback_fn(index, callback_ctx)` for index 0 … nr_loops-1 until it
 * returns 1. Returns the number of callback calls (a call that returned 1
 * counts), -E2BIG when `nr_loops` > 2^23, -EINVAL when `flags` is not 0.
 * The callback must return 0 (continue) or 1 (stop): anything else is what
 * the verifier rejects, and fails the read with EINVAL.
 *
 * @example
 * ```ts
 * let sum = 0;
 * bpf_loop(10, (i) => ((sum += i), 0), null, 0); // 10
 * ```
 */
export function bpf_loop<C>(nr_loops: number, callback_fn: (index: number, ctx: C) => number, callback_ctx: C, flags = 0): number {
  checkHelper('bpf_loop');
  if (typeof callback_fn !== 'function') throw new BpfError('EINVAL', 'R2 is not a static subprog (bpf_loop callback)');
  if (flags !== 0) return neg('EINVAL');
  const n = nr_loops >>> 0;
  if (n > BPF_MAX_LOOPS) return neg('E2BIG');
  for (let i = 0; i < n; i++) {
    const r = callback_fn(i, callback_ctx);
    if (r === 0) continue;
    if (r === 1) return i + 1;
    throw new BpfError('EINVAL', `At callback return the register R0 has value ${String(r)} should have been in [0, 1]`);
  }
  return n;
}
