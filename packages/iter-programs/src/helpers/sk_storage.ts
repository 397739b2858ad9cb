/** `bpf_sk_storage_get` (#107) / `bpf_sk_storage_delete` (#108), the tracing variants (net/core/bpf_sk_storage.c). */
import { BPF_MAP_TYPE_SK_STORAGE, BpfError, BpfMap, Socket, sk_fullsock } from '@bpf-iter/core';
import { neg } from '../errno.js';
import { checkHelper } from './func_proto.js';

/** `bpf_sk_storage_get` flag: create the storage when the socket has none. */
export const BPF_SK_STORAGE_GET_F_CREATE = 1;

function checkStorageMap(map: unknown): asserts map is BpfMap {
  if (!(map instanceof BpfMap) || map.map_type !== BPF_MAP_TYPE_SK_STORAGE)
    throw new BpfError('EINVAL', 'R1 is not a BPF_MAP_TYPE_SK_STORAGE map (cannot pass map_type to func bpf_sk_storage_*)');
}

/**
 * `void *bpf_sk_storage_get(struct bpf_map *map, void *sk, void *value, u64 flags)`:
 * the socket's storage in `map` (live, writable), or null. With
 * BPF_SK_STORAGE_GET_F_CREATE a missing storage is created, initialised
 * from `value` (zeroed when null). Null for a NULL / non-full socket, flags
 * other than 0 and F_CREATE, or a socket being freed.
 *
 * @example
 * ```ts
 * const v = bpf_sk_storage_get(map, ctx.sk_common, null, BPF_SK_STORAGE_GET_F_CREATE);
 * if (v) v[0]++;
 * ```
 */
export function bpf_sk_storage_get(map: BpfMap, sk: Socket | null, value: Uint8Array | null = null, flags: number | bigint = 0): Uint8Array | null {
  checkHelper('bpf_sk_storage_get');
  checkStorageMap(map);
  const f = BigInt(flags);
  if (!(sk instanceof Socket) || !sk_fullsock(sk) || f < 0n || f > BigInt(BPF_SK_STORAGE_GET_F_CREATE)) return null;
  const v = map.storageGet(sk);
  if (v) return v;
  // refcount_inc_not_zero(&sk->sk_refcnt): no new storage for a socket on its way out.
  if (f !== BigInt(BPF_SK_STORAGE_GET_F_CREATE) || sk.dead) return null;
  if (value && value.length < map.value_size) return null;
  return map.storageCreate(sk, value ? value.subarray(0, map.value_size) : null);
}

/**
 * `long bpf_sk_storage_delete(struct bpf_map *map, void *sk)`: 0, -ENOENT
 * (no storage, or the socket is being freed), -EINVAL (NULL / non-full socket).
 */
export function bpf_sk_storage_delete(map: BpfMap, sk: Socket | null): number {
  checkHelper('bpf_sk_storage_delete');
  checkStorageMap(map);
  if (!(sk instanceof Socket) || !sk_fullsock(sk)) return neg('EINVAL');
  if (sk.dead) return neg('ENOENT');
  try {
    map.storageDelete(sk);
    return 0;
  } catch (e) {
    if (e instanceof BpfError) return e.negative;
    throw e;
  }
}
