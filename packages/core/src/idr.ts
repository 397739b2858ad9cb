/**
 * An id -> object table with "find the first id >= n" in O(words), like the
 * kernel's IDR (`find_ge_pid`, `idr_get_next`). Backs pid numbers and the
 * ids of BPF maps, programs, links and cgroups.
 */
export class Idr<T> {
  private slots: (T | undefined)[] = [];
  private bits = new Uint32Array(64);
  /** Number of allocated ids. */
  size = 0;
  /** Highest id ever handed out by {@link alloc} (cyclic allocation resumes after it). */
  private last: number;

  /**
   * @param first the smallest id {@link alloc} hands out (1 for BPF ids, 1 for pids)
   * @param max the largest id (exclusive), like pid_max
   */
  constructor(
    readonly first = 1,
    readonly max = 0x7fffffff,
  ) {
    this.last = first - 1;
  }

  /** Highest id handed out so far (where cyclic allocation resumes); settable to restore a saved table. */
  get cursor(): number {
    return this.last;
  }

  set cursor(id: number) {
    this.last = id;
  }

  get(id: number): T | undefined {
    return this.slots[id];
  }

  has(id: number): boolean {
    return this.slots[id] !== undefined;
  }

  /** Stores `value` at `id` (which must be free). */
  set(id: number, value: T): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.max) throw new RangeError(`id ${id} out of range`);
    if (this.slots[id] !== undefined) throw new RangeError(`id ${id} in use`);
    // Grown in one step, at least doubling (a host's pids start in the tens of thousands and
    // rise by a few per task: no push per id, no copy of the whole table per task).
    const len = this.slots.length;
    if (len <= id) {
      this.slots.length = Math.max(id + 1, 2 * len);
      this.slots.fill(undefined, len);
    }
    this.slots[id] = value;
    const w = id >>> 5;
    if (w >= this.bits.length) {
      let n = this.bits.length;
      while (n <= w) n *= 2;
      const b = new Uint32Array(n);
      b.set(this.bits);
      this.bits = b;
    }
    this.bits[w]! |= 1 << (id & 31);
    this.size++;
    if (id > this.last) this.last = id;
  }

  /** Allocates the next free id cyclically after the last one handed out (`idr_alloc_cyclic`). */
  alloc(value: T, wrapTo = this.first): number {
    const id = this.reserve(wrapTo);
    this.set(id, value);
    return id;
  }

  /** Picks the id {@link alloc} would use and moves the cyclic cursor past it, without storing anything. */
  reserve(wrapTo = this.first): number {
    let id = this.last + 1;
    for (let tries = 0; tries < 2; tries++) {
      for (; id < this.max; id++) {
        if (this.slots[id] === undefined) {
          this.last = id;
          return id;
        }
      }
      id = wrapTo;
    }
    throw new RangeError('id space exhausted');
  }

  remove(id: number): T | undefined {
    const v = this.slots[id];
    if (v === undefined) return undefined;
    this.slots[id] = undefined;
    this.bits[id >>> 5]! &= ~(1 << (id & 31));
    this.size--;
    return v;
  }

  /** The smallest allocated id >= `id`, or -1. */
  nextId(id: number): number {
    if (id < 0) id = 0;
    const bits = this.bits;
    let w = id >>> 5;
    if (w >= bits.length) return -1;
    let word = bits[w]! & (~0 << (id & 31));
    while (word === 0) {
      if (++w >= bits.length) return -1;
      word = bits[w]!;
    }
    // lowest set bit: 31 - clz32(word & -word)
    return (w << 5) + (31 - Math.clz32(word & -word));
  }

  /** The object with the smallest id >= `id`, or undefined. */
  findGe(id: number): T | undefined {
    const n = this.nextId(id);
    return n < 0 ? undefined : this.slots[n];
  }

  *entries(): IterableIterator<[number, T]> {
    for (let id = this.nextId(0); id >= 0; id = this.nextId(id + 1)) yield [id, this.slots[id]!];
  }
}
