/** `bpf_for_each_map_elem` (#164). */
import { BpfError, BpfMap, MapElemWalker } from '@bpf-iter/core';
import { neg } from '../errno.js';
import { runCpu } from '../run_ctx.js';
import { checkHelper } from './func_proto.js';

/**
 * `long bpf_for_each_map_elem(struct bpf_map *map, void *callback_fn, void *callback_ctx, u64 flags)`:
 * calls `callback_fn(map, key, value, callback_ctx)` for each element of a
 * hash or array map (per-CPU maps: the running CPU's copy) in the map's
 * order, until it returns 1. Returns the number of elements visited (the
 * one that returned 1 included), -EINVAL when `flags` is not 0. The
 * callback must return 0 or 1 (else the read fails EINVAL, as the
 * verifier would refuse it); other map types are what the verifier
 * rejects (EINVAL).
 *
 * @example
 * ```ts
 * let sum = 0;
 * bpf_for_each_map_elem(counts, (_m, _k, v) => ((sum += v[0]!), 0), null, 0);
 * ```
 */
export function bpf_for_each_map_elem<C>(
  map: BpfMap,
  callback_fn: (map: BpfMap, key: Uint8Array, value: Uint8Array, ctx: C) => number,
  callback_ctx: C,
  flags: number | bigint = 0,
): number {
  checkHelper('bpf_for_each_map_elem');
  if (!(map instanceof BpfMap) || !(map.isArray || map.isHash)) throw new BpfError('EINVAL', 'bpf_for_each_map_elem: map type not supported (hash and array maps only)');
  if (typeof callback_fn !== 'function') throw new BpfError('EINVAL', 'bpf_for_each_map_elem: callback is not a static subprog');
  if (BigInt(flags) !== 0n) return neg('EINVAL');
  map.checkContents();
  const stride = (map.value_size + 7) & ~7;
  const off = map.percpu ? stride * runCpu() : 0;
  const w = new MapElemWalker(map);
  let n = 0;
  try {
    for (let e = w.start(); e; e = w.next()) {
      n++;
      const value = map.percpu ? e.value.subarray(off, off + map.value_size) : e.value;
      const r = callback_fn(map, e.key, value, callback_ctx);
      if (r === 1) break;
      if (r !== 0) throw new BpfError('EINVAL', `At callback return the register R0 has value ${String(r)} should have been in [0, 1]`);
    }
  } finally {
    w.stop();
  }
  return n;
}
