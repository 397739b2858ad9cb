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
    while (node && node.removed) node = node.next;
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
