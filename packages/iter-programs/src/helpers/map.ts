/**
 * `bpf_map_lookup_elem` (#1), `bpf_map_update_elem` (#2),
 * `bpf_map_delete_elem` (#3) as a program calls them (kernel/bpf/helpers.c
 * over the map's own ops): per-CPU maps act on the running CPU's copy.
 */
import { BpfError, BpfMap, Socket } from '@bpf-iter/core';
import { neg } from '../errno.js';
import { runCpu } from '../run_ctx.js';
import { checkHelper } from './func_proto.js';

/** A key as a program passes it: `key_size` bytes, or a number for a 4-byte (u32) key. */
export type MapKey = Uint8Array | number;

function keyBytes(key: MapKey): Uint8Array {
  if (typeof key !== 'number') return key;
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, key >>> 0, true);
  return b;
}

function checkMap(map: unknown): asserts map is BpfMap {
  // The verifier only accepts a map pointer here.
  if (!(map instanceof BpfMap)) throw new BpfError('EINVAL', 'R1 type is not a map pointer (expected const_ptr_to_map)');
}

/**
 * `void *bpf_map_lookup_elem(struct bpf_map *map, const void *key)`: a live
 * view of the element's value (this CPU's copy for per-CPU maps), or null
 * when there is none (an array index past `max_entries` included).
 *
 * @example
 * ```ts
 * const v = bpf_map_lookup_elem(counts, ctx.task.pid);
 * if (v) new DataView(v.buffer, v.byteOffset).setUint32(0, 1, true);
 * ```
 */
export function bpf_map_lookup_elem(map: BpfMap, key: MapKey): Uint8Array | null;
/** On a SOCKMAP / SOCKHASH: the socket, or null. */
export function bpf_map_lookup_elem(map: BpfMap, key: MapKey): Uint8Array | Socket | null;
export function bpf_map_lookup_elem(map: BpfMap, key: MapKey): Uint8Array | Socket | null {
  checkHelper('bpf_map_lookup_elem');
  checkMap(map);
  if (map.isSockMap) return map.sockLookup(keyBytes(key));
  let v: Uint8Array;
  try {
    v = map.lookup(keyBytes(key));
  } catch (e) {
    if (e instanceof BpfError && e.errno === 'ENOENT') return null;
    throw e;
  }
  if (!map.percpu) return v;
  const off = ((map.value_size + 7) & ~7) * runCpu();
  return v.subarray(off, off + map.value_size);
}

/**
 * `long bpf_map_update_elem(struct bpf_map *map, const void *key, const void *value, u64 flags)`:
 * `flags` BPF_ANY (0), BPF_NOEXIST (1) or BPF_EXIST (2). Returns 0,
 * -EEXIST (BPF_NOEXIST on an existing element, any array element),
 * -ENOENT (BPF_EXIST on a missing one), -E2BIG (map full, array index out
 * of range) or -EINVAL (other flags, BPF_F_LOCK without a spin lock, wrong
 * key/value size). On a SOCKMAP / SOCKHASH `value` is the socket (-EOPNOTSUPP
 * for a socket a sockmap cannot hold).
 */
export function bpf_map_update_elem(map: BpfMap, key: MapKey, value: Uint8Array | Socket, flags = 0): number {
  checkHelper('bpf_map_update_elem');
  checkMap(map);
  try {
    // A SOCKMAP / SOCKHASH takes the socket itself (`sock_map_update_elem`): -EOPNOTSUPP for one it cannot hold.
    if (map.isSockMap) {
      if (!(value instanceof Socket)) return neg('EINVAL');
      map.sockUpdate(keyBytes(key), value, flags);
    } else {
      if (!(value instanceof Uint8Array)) return neg('EINVAL');
      map.update(keyBytes(key), value, flags, runCpu());
    }
    return 0;
  } catch (e) {
    if (e instanceof BpfError) return e.negative;
    throw e;
  }
}

/**
 * `long bpf_map_delete_elem(struct bpf_map *map, const void *key)`: 0,
 * -ENOENT (no such key; a SOCKHASH's missing key) or -EINVAL (array maps,
 * an empty SOCKMAP slot).
 */
export function bpf_map_delete_elem(map: BpfMap, key: MapKey): number {
  checkHelper('bpf_map_delete_elem');
  checkMap(map);
  try {
    if (map.isSockMap) map.sockDelete(keyBytes(key));
    else map.delete(keyBytes(key));
    return 0;
  } catch (e) {
    if (e instanceof BpfError) return e.negative;
    throw e;
  }
}

