import type { Kernel } from '../kernel.js';
import type { DmaBuf } from '../model/dmabuf.js';
import type { KmemCache } from '../model/kmem_cache.js';
import type { Ksym } from '../model/ksym.js';
import type { Ipv6Route } from '../model/route.js';
import type { KObject } from '../refcount.js';
import { RcuList, type RcuNode } from '../rculist.js';
import type { OpenCodedWalker, Walker } from './walker.js';

/**
 * `RcuList.liveFrom` in a module constant: optimized code calls it directly,
 * where `RcuList.liveFrom(...)` re-checks the imported class binding and
 * loads the static method on every call (a third of a kmem_cache step).
 */
const liveFrom = RcuList.liveFrom;

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


/** `ksym` target walker: `/proc/kallsyms` order. */
export function ksymWalker(kernel: Kernel): PositionWalker<Ksym> {
  return new PositionWalker((pos) => kernel.ksyms.at(pos));
}

/**
 * The walk over an {@link RcuList} by position (the `kmem_cache` and
 * `ipv6_route` targets; the open-coded kinds that pin what they stand on
 * use {@link PinnedListWalker}), standing on a list node:
 * `start()` finds the live entry at the position from the head (the
 * kernel's `seq_start` walking `*pos` entries), `next()` follows the node it
 * stands on (`list_next_entry`), so a read costs its start plus O(1) per
 * entry, and an entry removed while the walker stands on it still leads to
 * the live entries after it (its node keeps its `next`). `stop()` lets go of
 * the node: the next `start()` counts from the head again, with the kernel's
 * resume-by-position semantics. Open-coded: the first `next()` starts at the
 * head; null at the end and forever after.
 */
export class RcuListWalker<T> extends PositionWalker<T> implements OpenCodedWalker<T> {
  readonly openCoded = true;
  private node: RcuNode<T> | null = null;
  private started = false;

  constructor(private readonly list: RcuList<T>) {
    super((pos) => {
      let n = list.head;
      for (let i = 0; n && i < pos; i++) n = n.next;
      return n ? n.value : null;
    });
  }

  override start(): T | null {
    this.started = true;
    let n = this.list.head;
    for (let i = 0; n && i < this.pos; i++) n = n.next;
    this.node = n;
    return n ? n.value : null;
  }

  override next(): T | null {
    const cur = this.node;
    if (cur === null) {
      if (!this.started) return this.start();
      this.pos++;
      return null;
    }
    this.pos++;
    const n = liveFrom(cur.next);
    this.node = n;
    return n !== null ? n.value : null;
  }

  override stop(): void {
    this.node = null;
  }
}

/** `kmem_cache` target walker: the slab cache list in list order. */
export function kmemCacheWalker(kernel: Kernel): RcuListWalker<KmemCache> {
  return new RcuListWalker(kernel.kmemCaches);
}

/** `ipv6_route` target walker: FIB walk order. */
export function ipv6RouteWalker(kernel: Kernel): RcuListWalker<Ipv6Route> {
  return new RcuListWalker(kernel.ipv6Routes);
}

/**
 * A walk over an {@link RcuList} that holds a reference on the object it
 * stands on (the kernel's `bpf_iter_kmem_cache` and `dma_buf_iter_*`), by
 * list node: {@link moveTo} pins the next object before letting go of the
 * current one (so one that is both stays alive), and a node removed while
 * the walker stands on it still leads to the live entries after it.
 *
 * @example
 * ```ts
 * // The first cache, then the one after each; NULL at the end (and the step after starts over).
 * class CacheWalk extends PinnedListWalker<KmemCache> {
 *   step(): KmemCache | null {
 *     return this.node !== null ? this.after(this.node) : this.first();
 *   }
 * }
 * const w = new CacheWalk(kernel.kmemCaches);
 * for (let c = w.step(); c !== null; c = w.step()) console.log(c.name); // each pinned while current
 * w.release();
 * ```
 */
export class PinnedListWalker<T extends KObject> {
  /** The node it stands on (its object referenced), or null. */
  protected node: RcuNode<T> | null = null;

  constructor(protected readonly list: RcuList<T>) {}

  /** The object the walker stands on (referenced), or null. */
  get current(): T | null {
    return this.node !== null ? this.node.value : null;
  }

  /** Moves to the first live entry: its object, pinned, or null for an empty list. */
  protected first(): T | null {
    return this.moveTo(liveFrom(this.list.head));
  }

  /** Moves to the live entry after `cur` (the node it stands on): its object, pinned, or null at the end. */
  protected after(cur: RcuNode<T>): T | null {
    return this.moveTo(liveFrom(cur.next));
  }

  /** Lets go of the object it stands on (the end of the walk). */
  release(): void {
    const prev = this.node;
    this.node = null;
    if (prev !== null) prev.value.put();
  }

  /** Stands on `n`: takes `n`'s object before dropping the current one (the kernel's order). */
  protected moveTo(n: RcuNode<T> | null): T | null {
    const prev = this.node;
    this.node = n;
    if (n !== null) return n.value.getAndPut(prev !== null ? prev.value : null);
    if (prev !== null) prev.value.put();
    return null;
  }
}

/**
 * The walk over the global DMA buffer list (kernel/bpf/dmabuf_iter.c with the
 * 6.18.y resume fix), shared by the `dmabuf` target and kind as the kernel
 * shares `dma_buf_iter_begin`/`dma_buf_iter_next`: it holds a reference on
 * the buffer it stands on. `start` resumes at the buffer fetched but not
 * shown by the previous read (kept referenced by `stop`); NULL at the end.
 */
export class DmaBufWalker extends PinnedListWalker<DmaBuf> implements Walker<DmaBuf> {
  private started = false;

  /** The kept buffer, or the first one on the very first call. */
  start(): DmaBuf | null {
    if (!this.started) {
      this.started = true;
      return this.begin();
    }
    return this.current;
  }

  /** `dma_buf_iter_begin`: takes the first live buffer, dropping the current one. */
  begin(): DmaBuf | null {
    return this.first();
  }

  /** `dma_buf_iter_next`: drops the current buffer and takes the next live one. */
  next(): DmaBuf | null {
    const cur = this.node;
    return cur !== null ? this.after(cur) : this.moveTo(null);
  }

  /**
   * The open-coded kind's step: `dma_buf_iter_next` from the buffer it
   * stands on, else `dma_buf_iter_begin` (also after NULL: the kernel's
   * restart).
   */
  advance(): DmaBuf | null {
    const cur = this.node;
    return cur !== null ? this.after(cur) : this.first();
  }

  /** Nothing to do: the current buffer stays referenced for the next read. */
  stop(): void {}
}
