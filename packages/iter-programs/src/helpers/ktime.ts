/** Clocks: `bpf_ktime_get_ns` (#5, CLOCK_MONOTONIC) and `bpf_ktime_get_boot_ns` (#125, CLOCK_BOOTTIME). */
import { readFileSync } from 'node:fs';
import type { Kernel } from '@bpf-iter/core';
import { runKernel } from '../run_ctx.js';
import { checkHelper } from './func_proto.js';

/** Per model kernel: the hrtime at which its clock (`nowNs`) was first read. */
const anchors = new WeakMap<Kernel, bigint>();

function monotonic(k: Kernel): bigint {
  const now = process.hrtime.bigint();
  // Node's hrtime is CLOCK_MONOTONIC: on a host model, the kernel's own clock.
  if (k.source === 'host' || k.source === 'bpf') return now;
  let a = anchors.get(k);
  if (a === undefined) anchors.set(k, (a = now));
  return BigInt(Math.round(k.nowNs)) + (now - a);
}

/** Time suspended (CLOCK_BOOTTIME - CLOCK_MONOTONIC) on the host, measured once from /proc/uptime (10 ms resolution). */
let suspendedNs: bigint | null = null;
function suspended(): bigint {
  if (suspendedNs === null) {
    let d = 0n;
    try {
      const up = BigInt(Math.round(parseFloat(readFileSync('/proc/uptime', 'latin1')) * 100)) * 10_000_000n;
      const diff = up - process.hrtime.bigint();
      // Below the file's resolution there was no suspend.
      d = diff > 20_000_000n ? diff : 0n;
    } catch {
      d = 0n;
    }
    suspendedNs = d;
  }
  return suspendedNs;
}

/**
 * `u64 bpf_ktime_get_ns(void)`: ns since boot, not counting suspend
 * (the host's CLOCK_MONOTONIC; a model kernel's `nowNs` advancing in real time).
 *
 * @example
 * ```ts
 * const t0 = bpf_ktime_get_ns();
 * ```
 */
export function bpf_ktime_get_ns(): bigint {
  checkHelper('bpf_ktime_get_ns');
  return monotonic(runKernel());
}

/** `u64 bpf_ktime_get_boot_ns(void)`: ns since boot including suspend (a model never suspends). */
export function bpf_ktime_get_boot_ns(): bigint {
  checkHelper('bpf_ktime_get_boot_ns');
  const k = runKernel();
  return monotonic(k) + (k.source === 'host' || k.source === 'bpf' ? suspended() : 0n);
}
