/**
 * An ordered list with RCU-like removal: a removed node keeps its `next`
 * pointer, so a walker that holds it (by reference) can still step to the
 * live nodes after it. Used for the task list, thread groups, cgroup
 * children and cgroup member lists.
 */
export interface RcuNode<T> {
  value: T;
  next: RcuNode<T> | null;
  prev: RcuNode<T> | null;
  removed: boolean;
}

/**
 * Bumped by every push and remove on any {@link RcuList}: a walk flattened
 * into an array (the task walk, a cgroup subtree) is still the lists' own
 * while `value` is unchanged, so walkers step the array then and the nodes
 * after a change. (A module object: its field loads faster in a loop than a
 * static of the class.)
 */
export const rcuGeneration = { value: 0 };

export class RcuList<T> {
  head: RcuNode<T> | null = null;
  tail: RcuNode<T> | null = null;
  size = 0;

  /** Appends `value` and returns its node (keep it to remove the value later). */
  push(value: T): RcuNode<T> {
    const node: RcuNode<T> = { value, next: null, prev: this.tail, removed: false };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.size++;
    rcuGeneration.value++;
    return node;
  }

  /** Unlinks a node; its `next` pointer stays so walkers standing on it can move on. */
  remove(node: RcuNode<T>): void {
    if (node.removed) return;
    node.removed = true;
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    this.size--;
    rcuGeneration.value++;
  }

  /** The first live node after `node` (which may itself be removed). */
  static nextLive<T>(node: RcuNode<T>): RcuNode<T> | null {
    return RcuList.liveFrom(node.next);
  }

  /** `node` if it is live, else the first live node after it; null at the end. */
  static liveFrom<T>(node: RcuNode<T> | null): RcuNode<T> | null {
    // Strict tests: V8 does not track that `removed` holds a boolean, and truthiness tests every type.
    while (node !== null && node.removed === true) node = node.next;
    return node;
  }

  *values(): IterableIterator<T> {
    for (let n = this.head; n; n = n.next) yield n.value;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let n = this.head; n; n = n.next) out.push(n.value);
    return out;
  }
}

/**
 * A walk over RCU lists (the task walk, a cgroup subtree) flattened into an
 * array as walkers reach its end: while `gen` is {@link rcuGeneration}'s
 * value no list changed, so `items[0..count)` is exactly what the walk over
 * the nodes returns, and a walker steps it with one load per element (like
 * a loop over an array). After a change a walker goes on from the nodes of
 * the element it stands on.
 *
 * The next generation's walk reuses the array when no walker is attached
 * (allocating one of a whole walk's size per change costs more than the
 * walk): walkers {@link attach} while they step it and {@link detach} when
 * they leave it, end or are destroyed; a walker never destroyed only keeps
 * its generation's array to itself.
 */
export class FlatWalk<T> {
  gen = -1;
  count = 0;
  /** `items[0..count)` is the whole walk. */
  done = false;
  /** Walkers stepping this array. */
  attached = 0;
  readonly items: T[] = [];

  /** This walk started over at the current generation if no walker holds it, else a new one. */
  renewed(): this {
    const w = this.attached === 0 ? this : new (this.constructor as new () => this)();
    w.gen = rcuGeneration.value;
    w.count = 0;
    w.done = false;
    return w;
  }

  /** Appends the walk's next element. */
  add(x: T): void {
    const k = this.count;
    if (k < this.items.length) this.items[k] = x;
    else this.items.push(x);
    this.count = k + 1;
  }

  /** The walk is complete: drops what an earlier generation left beyond it. */
  finish(): void {
    this.done = true;
    if (this.items.length > this.count) this.items.length = this.count;
  }

  attach(): void {
    this.attached++;
  }

  detach(): void {
    this.attached--;
  }
}
