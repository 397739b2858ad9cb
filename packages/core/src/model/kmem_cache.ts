import { KObject } from '../refcount.js';

/** A slab cache (`struct kmem_cache`) with the fields `/proc/slabinfo` shows. */
export class KmemCache extends KObject {
  constructor(
    readonly name: string,
    readonly object_size: number,
    readonly size: number,
    readonly align: number,
    public active_objs: number,
    public num_objs: number,
    readonly objs_per_slab: number,
    readonly pages_per_slab: number,
  ) {
    super();
  }
}
