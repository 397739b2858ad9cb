import type { Walker } from './walker.js';

/**
 * The walker behind targets that resume by position (`ksym`, `kmem_cache`,
 * `ipv6_route`): the seq position counts objects, so a paused walk resumes at
 * the same index; removals before it may make an entry be skipped, as in the
 * kernel.
 */
export class PositionWalker<T> implements Walker<T> {
  pos = 0;

  constructor(private readonly at: (pos: number) => T | null) {}

  start(): T | null {
    return this.at(this.pos);
  }

  next(): T | null {
    this.pos++;
    return this.at(this.pos);
  }

  stop(): void {}
}

import type { Kernel } from '../kernel.js';
import type { KmemCache } from '../model/kmem_cache.js';
import type { Ksym } from '../model/ksym.js';
import type { Ipv6Route } from '../model/route.js';
import type { RcuList } from '../rculist.js';

function nth<T>(list: RcuList<T>, pos: number): T | null {
  let n = list.head;
  for (let i = 0; n && i < pos; i++) n = n.next;
  return n ? n.value : null;
}

/** `ksym` target walker: `/proc/kallsyms` order. */
export function ksymWalker(kernel: Kernel): PositionWalker<Ksym> {
  return new PositionWalker((pos) => kernel.ksyms.at(pos));
}

/** `kmem_cache` target walker: the slab cache list in list order. */
export function kmemCacheWalker(kernel: Kernel): PositionWalker<KmemCache> {
  return new PositionWalker((pos) => nth(kernel.kmemCaches, pos));
}

/** `ipv6_route` target walker: FIB walk order. */
export function ipv6RouteWalker(kernel: Kernel): PositionWalker<Ipv6Route> {
  return new PositionWalker((pos) => nth(kernel.ipv6Routes, pos));
}
