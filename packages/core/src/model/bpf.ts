import { BPF_MAP_TYPES, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_SOCKMAP, BPF_MAP_TYPE_SOCKHASH, BPF_MAP_TYPE_SK_STORAGE, BPF_MAP_TYPE_INODE_STORAGE, BPF_MAP_TYPE_TASK_STORAGE, BPF_MAP_TYPE_CGRP_STORAGE, BPF_F_NO_PREALLOC, BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_PROG_TYPES, BPF_LINK_TYPES } from '../uapi.js';
import { BpfError, fail } from '../errors.js';
import { KObject } from '../refcount.js';
import { SS_CONNECTED, SOCK_STREAM, TCP_ESTABLISHED, TCP_LISTEN, type Socket } from './socket.js';

const HASH_TYPES = new Set([BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH]);
const ARRAY_TYPES = new Set([BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY]);
const PERCPU_TYPES = new Set([BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH]);
const LOCAL_STORAGE_TYPES = new Set([BPF_MAP_TYPE_SK_STORAGE, BPF_MAP_TYPE_INODE_STORAGE, BPF_MAP_TYPE_TASK_STORAGE, BPF_MAP_TYPE_CGRP_STORAGE]);

/** One element of a sockhash. */
export interface SockHashElem {
  readonly key: Uint8Array;
  readonly sk: Socket;
}

/** `sock_map_sk_is_suitable` + `sock_map_sk_state_allowed`: TCP established/listening, UDP, connected unix stream, any unix dgram. */
function sockMapAllows(sk: Socket): boolean {
  if (sk.dead || !sk.hashed) return false;
  if (sk.proto === 'tcp') return sk.skc_state === TCP_ESTABLISHED || sk.skc_state === TCP_LISTEN;
  if (sk.proto === 'unix') return sk.sk_type !== SOCK_STREAM || sk.skc_state === SS_CONNECTED;
  return sk.proto === 'udp';
}

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
    const localStorage = LOCAL_STORAGE_TYPES.has(spec.map_type);
    if (localStorage) {
      // bpf_local_storage_map_alloc_check: an int key (the fd), no max_entries, BPF_F_NO_PREALLOC.
      if (spec.key_size !== 4 || !(spec.value_size > 0) || spec.max_entries !== 0 || !((spec.map_flags ?? 0) & BPF_F_NO_PREALLOC))
        throw new BpfError('EINVAL', 'local storage maps need key_size 4, value_size > 0, max_entries 0 and BPF_F_NO_PREALLOC');
    } else if (!(spec.key_size >= 0 && spec.value_size > 0 && spec.max_entries > 0)) {
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
    } else if (spec.map_type === BPF_MAP_TYPE_SOCKMAP || spec.map_type === BPF_MAP_TYPE_SOCKHASH) {
      // sock_map_alloc / sock_hash_alloc: the value is the socket's fd (4) or cookie (8).
      if ((spec.map_type === BPF_MAP_TYPE_SOCKMAP && spec.key_size !== 4) || (spec.value_size !== 4 && spec.value_size !== 8))
        throw new BpfError('EINVAL', 'sockmap needs key_size 4 and value_size 4 or 8 (sockhash: value_size 4 or 8)');
      if (spec.map_type === BPF_MAP_TYPE_SOCKMAP) this.sockSlots = new Array<Socket | null>(spec.max_entries).fill(null);
      else {
        let n = 1;
        while (n < spec.max_entries) n *= 2;
        this.sockBuckets = Array.from({ length: n }, () => []);
      }
    } else if (localStorage) {
      this.storage = new Map();
    }
  }

  /** SOCKMAP: the socket in each slot. */
  readonly sockSlots: (Socket | null)[] | null = null;
  /** SOCKHASH: the buckets. */
  readonly sockBuckets: SockHashElem[][] | null = null;
  /** Local storage maps (sk/task/inode/cgrp storage): each owner's value, in creation order. */
  readonly storage: Map<object, Uint8Array> | null = null;

  get isSockMap(): boolean {
    return this.sockSlots !== null || this.sockBuckets !== null;
  }

  /** SOCKMAP/SOCKHASH lookup: the socket under `key`, or null. */
  sockLookup(key: Uint8Array): Socket | null {
    if (this.sockSlots) {
      const i = this.arrayIndex(key);
      return i < this.max_entries ? this.sockSlots[i]! : null;
    }
    if (!this.sockBuckets) throw new BpfError('EOPNOTSUPP', `socket lookup on a ${this.typeName} map`);
    this.checkKey(key);
    return this.sockBuckets[hashKey(key) & (this.sockBuckets.length - 1)]!.find((e) => sameBytes(e.key, key))?.sk ?? null;
  }

  /**
   * SOCKMAP/SOCKHASH update (`sock_map_update_common` / `sock_hash_update_common`):
   * -EOPNOTSUPP for a socket a sockmap cannot hold (wrong kind or state),
   * -E2BIG past max_entries / when full, -EEXIST / -ENOENT for the flags.
   */
  sockUpdate(key: Uint8Array, sk: Socket, flags = BPF_ANY): void {
    if (flags > BPF_EXIST || flags < 0) throw new BpfError('EINVAL', `bad update flags ${flags}`);
    if (!sockMapAllows(sk)) throw new BpfError('EOPNOTSUPP', `socket ${sk.ino} (${sk.proto}, state ${sk.skc_state}) cannot be in a ${this.typeName}`);
    if (this.sockSlots) {
      const i = this.arrayIndex(key);
      if (i >= this.max_entries) throw new BpfError('E2BIG', `index ${i} >= max_entries ${this.max_entries}`);
      const old = this.sockSlots[i];
      if (old && flags === BPF_NOEXIST) throw new BpfError('EEXIST', 'slot is in use');
      if (!old && flags === BPF_EXIST) throw new BpfError('ENOENT', 'slot is empty');
      if (old) this.unlinkSock(old);
      this.sockSlots[i] = sk;
    } else if (this.sockBuckets) {
      this.checkKey(key);
      const b = this.sockBuckets[hashKey(key) & (this.sockBuckets.length - 1)]!;
      const i = b.findIndex((e) => sameBytes(e.key, key));
      if (i >= 0 && flags === BPF_NOEXIST) throw new BpfError('EEXIST', 'key exists');
      if (i < 0 && flags === BPF_EXIST) throw new BpfError('ENOENT', 'key does not exist');
      if (i < 0 && this.count >= this.max_entries) throw new BpfError('E2BIG', 'map is full');
      if (i >= 0) {
        this.unlinkSock(b[i]!.sk);
        b[i] = { key: b[i]!.key, sk };
      } else {
        b.push({ key: key.slice(), sk });
        this.count++;
      }
    } else throw new BpfError('EOPNOTSUPP', `socket update on a ${this.typeName} map`);
    (sk.bpfMaps ??= new Set()).add(this);
    this.version++;
  }

  /** SOCKMAP delete: -EINVAL for an empty slot or an index past the end; SOCKHASH: -ENOENT for a missing key. */
  sockDelete(key: Uint8Array): void {
    if (this.sockSlots) {
      const i = this.arrayIndex(key);
      const sk = i < this.max_entries ? this.sockSlots[i] : null;
      if (!sk) throw new BpfError('EINVAL', `slot ${i} is empty`);
      this.sockSlots[i] = null;
      this.unlinkSock(sk);
    } else if (this.sockBuckets) {
      this.checkKey(key);
      const b = this.sockBuckets[hashKey(key) & (this.sockBuckets.length - 1)]!;
      const i = b.findIndex((e) => sameBytes(e.key, key));
      if (i < 0) throw new BpfError('ENOENT', 'no such key');
      const [e] = b.splice(i, 1);
      this.count--;
      this.unlinkSock(e!.sk);
    } else throw new BpfError('EOPNOTSUPP', `socket delete on a ${this.typeName} map`);
    this.version++;
  }

  /** A closed socket / freed task leaves every sockmap slot, sockhash element and its storage here (`sock_map_close`, `bpf_sk_storage_free`, `bpf_task_storage_free`). */
  dropOwner(sk: object): void {
    if (this.sockSlots) for (let i = 0; i < this.sockSlots.length; i++) if (this.sockSlots[i] === sk) this.sockSlots[i] = null;
    if (this.sockBuckets)
      for (const b of this.sockBuckets)
        for (let i = b.length - 1; i >= 0; i--)
          if (b[i]!.sk === sk) {
            b.splice(i, 1);
            this.count--;
          }
    this.storage?.delete(sk);
    this.version++;
  }

  private unlinkSock(sk: Socket): void {
    const still = this.sockSlots ? this.sockSlots.includes(sk) : this.sockBuckets!.some((b) => b.some((e) => e.sk === sk));
    if (!still && !this.storage?.has(sk)) sk.bpfMaps?.delete(this);
  }

  /** Local storage: the owner's value (live), or null. */
  storageGet(owner: object): Uint8Array | null {
    if (!this.storage) throw new BpfError('EOPNOTSUPP', `storage lookup on a ${this.typeName} map`);
    return this.storage.get(owner) ?? null;
  }

  /** `BPF_MAP_LOOKUP_ELEM` on a local storage map (key: the owner's fd, resolved): the value, or ENOENT. */
  storageLookup(owner: object): Uint8Array {
    return this.storageGet(owner) ?? fail('ENOENT', 'no storage for this owner');
  }

  /** Local storage: creates the owner's value (zeroed, or a copy of `init`); -EEXIST when there is one. */
  storageCreate(owner: object, init?: Uint8Array | null): Uint8Array {
    if (!this.storage) throw new BpfError('EOPNOTSUPP', `storage update on a ${this.typeName} map`);
    if (this.storage.has(owner)) throw new BpfError('EEXIST', 'storage exists');
    if (init && init.length !== this.value_size) throw new BpfError('EINVAL', `value must be ${this.value_size} bytes`);
    const v = new Uint8Array(this.value_size);
    if (init) v.set(init);
    this.storage.set(owner, v);
    // The owner (a socket, a task) lets go of its storage when it is closed / freed.
    if ('bpfMaps' in owner) ((owner as { bpfMaps: Set<unknown> | null }).bpfMaps ??= new Set()).add(this);
    this.version++;
    return v;
  }

  /** Local storage: deletes the owner's value; -ENOENT when there is none. */
  storageDelete(owner: object): void {
    if (!this.storage) throw new BpfError('EOPNOTSUPP', `storage delete on a ${this.typeName} map`);
    if (!this.storage.delete(owner)) throw new BpfError('ENOENT', 'no storage for this owner');
    this.version++;
  }

  /** Bumped by socket and storage mutations (walkers re-read their snapshot). */
  version = 0;
  /** False for a map read from a live kernel by its metadata only (its elements are unknown to the model). */
  contentsKnown = true;

  /** Throws EOPNOTSUPP when the model does not know the map's elements (see {@link contentsKnown}). */
  checkContents(): void {
    if (!this.contentsKnown) throw new BpfError('EOPNOTSUPP', `map ${this.id} (${this.typeName}): its elements are unknown to the model (read by its metadata only)`);
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
  #tag: string | (() => string);
  constructor(
    readonly prog_type: number,
    readonly name: string,
    /** `prog_tag`: 16 lowercase hex characters, or its computation, run on first read (a SHA-1 nothing may show). */
    tag: string | (() => string),
    readonly expected_attach_type = 0,
    /** For tracing programs: the BTF function attached to (e.g. `bpf_iter_task`). */
    readonly attach_func_name = '',
    readonly load_time = 0,
    readonly uid = 0,
  ) {
    super();
    this.#tag = tag;
  }
  /** `prog_tag`: 16 lowercase hex characters. */
  get tag(): string {
    const t = this.#tag;
    return typeof t === 'string' ? t : (this.#tag = t());
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
