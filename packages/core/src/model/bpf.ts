import { BpfError } from '../errors.js';
import { KObject } from '../refcount.js';

/** `enum bpf_map_type` (include/uapi/linux/bpf.h), index = value. */
export const BPF_MAP_TYPES = [
  'unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array', 'stack_trace',
  'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps', 'hash_of_maps', 'devmap', 'sockmap',
  'cpumap', 'xskmap', 'sockhash', 'cgroup_storage', 'reuseport_sockarray', 'percpu_cgroup_storage', 'queue', 'stack',
  'sk_storage', 'devmap_hash', 'struct_ops', 'ringbuf', 'inode_storage', 'task_storage', 'bloom_filter', 'user_ringbuf',
  'cgrp_storage', 'arena',
] as const;
export type BpfMapTypeName = (typeof BPF_MAP_TYPES)[number];

export const BPF_MAP_TYPE_HASH = 1;
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_PERCPU_HASH = 5;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
export const BPF_MAP_TYPE_LRU_HASH = 9;
export const BPF_MAP_TYPE_LRU_PERCPU_HASH = 10;
export const BPF_MAP_TYPE_SOCKMAP = 15;
export const BPF_MAP_TYPE_SOCKHASH = 18;
export const BPF_MAP_TYPE_SK_STORAGE = 24;
export const BPF_MAP_TYPE_RINGBUF = 27;

/** Update flags of `bpf_map_update_elem`. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

/** `enum bpf_prog_type` names, index = value. */
export const BPF_PROG_TYPES = [
  'unspec', 'socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event', 'cgroup_skb',
  'cgroup_sock', 'lwt_in', 'lwt_out', 'lwt_xmit', 'sock_ops', 'sk_skb', 'cgroup_device', 'sk_msg', 'raw_tracepoint',
  'cgroup_sock_addr', 'lwt_seg6local', 'lirc_mode2', 'sk_reuseport', 'flow_dissector', 'cgroup_sysctl',
  'raw_tracepoint_writable', 'cgroup_sockopt', 'tracing', 'struct_ops', 'ext', 'lsm', 'sk_lookup', 'syscall',
  'netfilter',
] as const;
export const BPF_PROG_TYPE_TRACING = 26;

/** `enum bpf_link_type` names, index = value. */
export const BPF_LINK_TYPES = [
  'unspec', 'raw_tracepoint', 'tracing', 'cgroup', 'iter', 'netns', 'xdp', 'perf_event', 'kprobe_multi',
  'struct_ops', 'netfilter', 'tcx', 'uprobe_multi', 'netkit', 'sockmap',
] as const;
export const BPF_LINK_TYPE_ITER = 4;

const HASH_TYPES = new Set([BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH]);
const ARRAY_TYPES = new Set([BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY]);
const PERCPU_TYPES = new Set([BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH]);

/** One element of a hash map. */
export interface HtabElem {
  readonly key: Uint8Array;
  /** The value; for per-CPU maps all CPUs' copies, each `round_up(value_size, 8)` bytes. */
  value: Uint8Array;
}

/** Options of {@link BpfMap}. */
export interface BpfMapSpec {
  map_type: number;
  name?: string;
  key_size: number;
  value_size: number;
  max_entries: number;
  map_flags?: number;
}

function roundUp8(n: number): number {
  return (n + 7) & ~7;
}

/** FNV-1a over the key: the bucket choice (the kernel uses jhash; only "some fixed order" is promised). */
function hashKey(key: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A BPF map with its elements. Hash maps keep the kernel's bucket structure
 * (`n_buckets` = max_entries rounded up to a power of two) because the
 * `bpf_map_elem` walker resumes by (bucket, skip).
 */
export class BpfMap extends KObject {
  id = 0;
  readonly map_type: number;
  readonly name: string;
  readonly key_size: number;
  readonly value_size: number;
  readonly max_entries: number;
  readonly map_flags: number;
  /** Bytes per element value as stored (all CPUs for per-CPU maps). */
  readonly valueStride: number;
  /** Array maps: all values back to back. */
  readonly arrayData: Uint8Array | null = null;
  /** Hash maps: the buckets. */
  readonly buckets: HtabElem[][] | null = null;
  /** Number of elements in a hash map. */
  count = 0;

  constructor(
    spec: BpfMapSpec,
    /** Number of possible CPUs, for per-CPU maps. */
    readonly nrCpus = 1,
  ) {
    super();
    if (!(spec.key_size >= 0 && spec.value_size > 0 && spec.max_entries > 0)) {
      throw new BpfError('EINVAL', 'map key_size, value_size and max_entries must be positive');
    }
    this.map_type = spec.map_type;
    this.name = spec.name ?? '';
    this.key_size = spec.key_size;
    this.value_size = spec.value_size;
    this.max_entries = spec.max_entries;
    this.map_flags = spec.map_flags ?? 0;
    this.valueStride = this.percpu ? roundUp8(spec.value_size) * nrCpus : spec.value_size;
    if (ARRAY_TYPES.has(spec.map_type)) {
      if (spec.key_size !== 4) throw new BpfError('EINVAL', 'array maps need key_size 4');
      this.arrayData = new Uint8Array(this.valueStride * spec.max_entries);
    } else if (HASH_TYPES.has(spec.map_type)) {
      let n = 1;
      while (n < spec.max_entries) n *= 2;
      this.buckets = Array.from({ length: n }, () => []);
    }
  }

  get typeName(): string {
    return BPF_MAP_TYPES[this.map_type] ?? `type_${this.map_type}`;
  }
  get isArray(): boolean {
    return this.arrayData !== null;
  }
  get isHash(): boolean {
    return this.buckets !== null;
  }
  get percpu(): boolean {
    return PERCPU_TYPES.has(this.map_type);
  }

  private checkKey(key: Uint8Array): void {
    if (key.length !== this.key_size) throw new BpfError('EINVAL', `key must be ${this.key_size} bytes`);
  }

  private arrayIndex(key: Uint8Array): number {
    this.checkKey(key);
    return new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
  }

  /** `bpf_map_lookup_elem`: a live view of the value (all CPUs for per-CPU maps). */
  lookup(key: Uint8Array): Uint8Array {
    if (this.arrayData) {
      const i = this.arrayIndex(key);
      if (i >= this.max_entries) throw new BpfError('ENOENT', `index ${i} >= max_entries`);
      return this.arrayData.subarray(i * this.valueStride, (i + 1) * this.valueStride);
    }
    if (this.buckets) {
      this.checkKey(key);
      const e = this.buckets[hashKey(key) & (this.buckets.length - 1)]!.find((x) => sameBytes(x.key, key));
      if (!e) throw new BpfError('ENOENT', 'no such key');
      return e.value;
    }
    throw new BpfError('EOPNOTSUPP', `lookup on a ${this.typeName} map`);
  }

  /**
   * `bpf_map_update_elem` with BPF_ANY / BPF_NOEXIST / BPF_EXIST. With `cpu`
   * (a program's update of a per-CPU map), `value` is that CPU's copy only:
   * written in place, and a new element's other CPUs are zeroed.
   */
  update(key: Uint8Array, value: Uint8Array, flags = BPF_ANY, cpu?: number): void {
    if (cpu !== undefined && this.percpu) return this.updateCpu(key, value, flags, cpu);
    if (flags > BPF_EXIST || flags < 0) throw new BpfError('EINVAL', `bad update flags ${flags}`);
    if (value.length !== this.value_size && value.length !== this.valueStride) {
      throw new BpfError('EINVAL', `value must be ${this.value_size} bytes`);
    }
    if (this.arrayData) {
      const i = this.arrayIndex(key);
      if (i >= this.max_entries) throw new BpfError('E2BIG', `index ${i} >= max_entries ${this.max_entries}`);
      if (flags === BPF_NOEXIST) throw new BpfError('EEXIST', 'array elements always exist');
      this.writeValue(this.arrayData.subarray(i * this.valueStride, (i + 1) * this.valueStride), value);
      return;
    }
    if (!this.buckets) throw new BpfError('EOPNOTSUPP', `update on a ${this.typeName} map`);
    this.checkKey(key);
    const bucket = this.buckets[hashKey(key) & (this.buckets.length - 1)]!;
    const e = bucket.find((x) => sameBytes(x.key, key));
    if (e) {
      if (flags === BPF_NOEXIST) throw new BpfError('EEXIST', 'key exists');
      // The kernel replaces the element (RCU), so a walker holding the old one keeps its old value.
      const v = new Uint8Array(this.valueStride);
      this.writeValue(v, value);
      bucket[bucket.indexOf(e)] = { key: e.key, value: v };
      return;
    }
    if (flags === BPF_EXIST) throw new BpfError('ENOENT', 'key does not exist');
    if (this.count >= this.max_entries) throw new BpfError('E2BIG', 'map is full');
    const v = new Uint8Array(this.valueStride);
    this.writeValue(v, value);
    bucket.push({ key: key.slice(), value: v });
    this.count++;
  }

  private updateCpu(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): void {
    if (flags > BPF_EXIST || flags < 0) throw new BpfError('EINVAL', `bad update flags ${flags}`);
    if (value.length !== this.value_size) throw new BpfError('EINVAL', `value must be ${this.value_size} bytes`);
    const off = roundUp8(this.value_size) * cpu;
    let cur: Uint8Array | null;
    if (this.arrayData) {
      const i = this.arrayIndex(key);
      if (i >= this.max_entries) throw new BpfError('E2BIG', `index ${i} >= max_entries ${this.max_entries}`);
      cur = this.arrayData.subarray(i * this.valueStride, (i + 1) * this.valueStride);
    } else {
      this.checkKey(key);
      cur = this.buckets![hashKey(key) & (this.buckets!.length - 1)]!.find((x) => sameBytes(x.key, key))?.value ?? null;
    }
    if (cur) {
      if (flags === BPF_NOEXIST) throw new BpfError('EEXIST', this.arrayData ? 'array elements always exist' : 'key exists');
      cur.set(value, off);
      return;
    }
    if (flags === BPF_EXIST) throw new BpfError('ENOENT', 'key does not exist');
    if (this.count >= this.max_entries) throw new BpfError('E2BIG', 'map is full');
    const v = new Uint8Array(this.valueStride);
    v.set(value, off);
    this.buckets![hashKey(key) & (this.buckets!.length - 1)]!.push({ key: key.slice(), value: v });
    this.count++;
  }

  private writeValue(dst: Uint8Array, value: Uint8Array): void {
    if (value.length === this.valueStride) {
      dst.set(value);
      return;
    }
    // A single value for a per-CPU map is written to every CPU.
    const stride = this.percpu ? roundUp8(this.value_size) : this.value_size;
    for (let off = 0; off < dst.length; off += stride) dst.set(value, off);
  }

  /** `bpf_map_delete_elem`. */
  delete(key: Uint8Array): void {
    if (this.arrayData) throw new BpfError('EINVAL', 'array elements cannot be deleted');
    if (!this.buckets) throw new BpfError('EOPNOTSUPP', `delete on a ${this.typeName} map`);
    this.checkKey(key);
    const bucket = this.buckets[hashKey(key) & (this.buckets.length - 1)]!;
    const i = bucket.findIndex((x) => sameBytes(x.key, key));
    if (i < 0) throw new BpfError('ENOENT', 'no such key');
    bucket.splice(i, 1);
    this.count--;
  }
}

/** A loaded BPF program as the `bpf_prog` iterator and `bpftool prog` see it. */
export class BpfProg extends KObject {
  id = 0;
  constructor(
    readonly prog_type: number,
    readonly name: string,
    /** `prog_tag`: 16 lowercase hex characters. */
    readonly tag: string,
    readonly expected_attach_type = 0,
    /** For tracing programs: the BTF function attached to (e.g. `bpf_iter_task`). */
    readonly attach_func_name = '',
    readonly load_time = 0,
    readonly uid = 0,
  ) {
    super();
  }
  get typeName(): string {
    return BPF_PROG_TYPES[this.prog_type] ?? `type_${this.prog_type}`;
  }
}

/** A BPF link as the `bpf_link` iterator sees it. */
export class BpfLink extends KObject {
  id = 0;
  constructor(
    readonly type: number,
    public prog: BpfProg,
  ) {
    super();
  }
  get typeName(): string {
    return BPF_LINK_TYPES[this.type] ?? `type_${this.type}`;
  }
}
