/**
 * Object lifetimes, as in the kernel: an object is created with one
 * reference (the kernel's own, e.g. its place in the pid table). Removing it
 * drops that reference and marks it dead; holders that took a reference with
 * `get()` can still read it; it is freed when the last reference drops.
 */

/** Counts references taken by iterators and walkers across all objects, to prove nothing leaks. */
export class RefStats {
  /** References taken with `get()` and not yet dropped with `put()`. */
  outstanding = 0;
  /** Objects freed so far. */
  freed = 0;
}

/** The process-wide reference statistics (one per process, like the kernel's refcount debugging). */
export const refStats = new RefStats();

/** A reference-counted kernel object. */
export abstract class KObject {
  // Declared, and set in the constructor: an initialised class field is a define in a separate
  // initialiser, which V8 (Node 20) runs through its slow path once many subclasses share it
  // (~1 µs per object: a walk making a file per fd made 100k of them).
  /** Reference count; the owning table holds one while the object is alive. */
  declare refcnt: number;
  /** Set when the object is removed from the kernel (exit, close, munmap, rmdir...). */
  declare dead: boolean;
  /** Set when the last reference dropped. */
  declare freed: boolean;

  constructor() {
    this.refcnt = 1;
    this.dead = false;
    this.freed = false;
  }

  /** Takes a reference (`get_task_struct`, `get_file`...). */
  get(): this {
    // A freed object has no reference left: the count just read rules it out on the common path
    // (`freed === true`, not truthiness: a field's boolean type is not tracked).
    const r = this.refcnt;
    if (r <= 0 && this.freed === true) throw new Error(`use after free: ${this.constructor.name}`);
    this.refcnt = r + 1;
    refStats.outstanding++;
    return this;
  }

  /** Drops a reference taken with {@link get}. */
  put(): void {
    refStats.outstanding--;
    this.release();
  }

  /**
   * `get()` on this object, then `put()` on `prev` (null: none): a walker
   * stepping from `prev` to here, in the kernel's order (the next object
   * pinned before the previous one is let go, so one that is both stays
   * alive). The process-wide count is left alone when `prev` is held: on
   * every step of a walk it would otherwise be written twice, each write
   * waiting for the one before.
   *
   * @example
   * ```ts
   * const next = walker.next();
   * if (next !== null) next.getAndPut(pinned);
   * else pinned?.put();
   * pinned = next;
   * ```
   */
  getAndPut(prev: KObject | null): this {
    const r = this.refcnt;
    if (r <= 0 && this.freed === true) throw new Error(`use after free: ${this.constructor.name}`);
    this.refcnt = r + 1;
    if (prev === null) refStats.outstanding++;
    else prev.release();
    return this;
  }

  /** Marks the object dead and drops the owner's reference. Idempotent. */
  kill(): void {
    if (this.dead) return;
    this.dead = true;
    this.release();
  }

  private release(): void {
    // One test on the common path (still referenced); the last put and an underflow apart.
    if (--this.refcnt <= 0) this.dropped();
  }

  private dropped(): void {
    if (this.refcnt < 0) throw new Error(`refcount underflow: ${this.constructor.name}`);
    this.freed = true;
    refStats.freed++;
    this.onFree();
  }

  /** Hook run when the object is freed. */
  protected onFree(): void {}
}
