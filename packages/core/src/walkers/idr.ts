import type { Idr } from '../idr.js';
import type { KObject } from '../refcount.js';
import type { Walker } from './walker.js';

/**
 * The walker behind the `bpf_map`, `bpf_prog` and `bpf_link` targets
 * (`bpf_map_get_curr_or_next` and friends): objects by ascending id. The
 * cursor is the id to look at next; objects removed meanwhile are skipped,
 * objects added above the cursor are seen.
 */
export class IdrWalker<T extends KObject> implements Walker<T> {
  /** The id of the object to show next. */
  id = 0;
  private cur: T | null = null;

  constructor(readonly idr: Idr<T>) {}

  private getNext(): T | null {
    for (;;) {
      const id = this.idr.nextId(this.id);
      if (id < 0) return null;
      this.id = id;
      const v = this.idr.get(id)!;
      if (v.freed || v.dead) {
        this.id++;
        continue;
      }
      return (this.cur = v.get());
    }
  }

  start(): T | null {
    this.stop();
    return this.getNext();
  }

  next(): T | null {
    this.stop();
    this.id++;
    return this.getNext();
  }

  stop(): void {
    if (this.cur) {
      this.cur.put();
      this.cur = null;
    }
  }
}
