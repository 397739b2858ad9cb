import type { BpfMap } from '../model/bpf.js';
import type { Walker } from './walker.js';

/** One element of a map as the `bpf_map_elem` target hands it to a program. */
export interface MapElem {
  readonly map: BpfMap;
  /** The key (u32 little-endian index for arrays). */
  readonly key: Uint8Array;
  /** The live value for ARRAY/HASH/LRU_HASH (writes go to the map); all CPUs' copies for per-CPU maps. */
  readonly value: Uint8Array;
}

/**
 * The walker behind the `bpf_map_elem` target: arrays by index, every slot;
 * hash maps bucket by bucket, each bucket in list order. The cursor of a
 * hash map is (bucket, number of elements to skip in it), so concurrent
 * inserts and deletes can make an element be skipped or seen twice, as in
 * the kernel.
 */
export class MapElemWalker implements Walker<MapElem> {
  /** Array index, or hash bucket. */
  bucket = 0;
  /** Elements of `bucket` already shown (hash maps). */
  skip = 0;

  constructor(readonly map: BpfMap) {}

  private getNext(): MapElem | null {
    const map = this.map;
    if (map.arrayData) {
      const i = this.bucket;
      if (i >= map.max_entries) return null;
      const key = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, i, true);
      return { map, key, value: map.arrayData.subarray(i * map.valueStride, (i + 1) * map.valueStride) };
    }
    const buckets = map.buckets;
    if (!buckets) return null;
    while (this.bucket < buckets.length) {
      const b = buckets[this.bucket]!;
      if (this.skip < b.length) {
        const e = b[this.skip]!;
        return { map, key: e.key, value: e.value };
      }
      this.bucket++;
      this.skip = 0;
    }
    return null;
  }

  start(): MapElem | null {
    return this.getNext();
  }

  next(): MapElem | null {
    if (this.map.arrayData) this.bucket++;
    else this.skip++;
    return this.getNext();
  }

  stop(): void {}
}
