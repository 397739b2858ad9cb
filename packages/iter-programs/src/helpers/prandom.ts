/** `bpf_get_prandom_u32` (#7) and `bpf_get_smp_processor_id` (#8). */
import { randomFillSync } from 'node:crypto';
import { runCpu } from '../run_ctx.js';
import { checkHelper } from './func_proto.js';

const pool = new Uint32Array(256);
let left = 0;

/**
 * `u32 bpf_get_prandom_u32(void)`: a pseudo-random u32 (not for
 * cryptography in the kernel; here from the OS generator, pooled).
 *
 * @example
 * ```ts
 * if (bpf_get_prandom_u32() % 4 === 1) return 1; // retry this object sometimes
 * ```
 */
export function bpf_get_prandom_u32(): number {
  checkHelper('bpf_get_prandom_u32');
  if (left === 0) {
    randomFillSync(pool);
    left = pool.length;
  }
  return pool[--left]!;
}

/** `u32 bpf_get_smp_processor_id(void)`: the CPU the program runs on (see `runCpu`). */
export function bpf_get_smp_processor_id(): number {
  checkHelper('bpf_get_smp_processor_id');
  return runCpu();
}
