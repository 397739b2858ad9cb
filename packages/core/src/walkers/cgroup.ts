import { BPF_CGROUP_ITER_SELF_ONLY, BPF_CGROUP_ITER_DESCENDANTS_PRE, BPF_CGROUP_ITER_DESCENDANTS_POST, BPF_CGROUP_ITER_ANCESTORS_UP, BPF_CGROUP_ITER_CHILDREN } from '../uapi.js';
import { FlatWalk, RcuList, rcuGeneration, type RcuNode } from '../rculist.js';
import type { OpenCodedWalker } from './walker.js';
import type { Cgroup } from '../model/cgroup.js';
import type { Task } from '../model/task.js';

/** Order names as fdinfo prints them, index = order value. */
export const CGROUP_ORDER_NAMES = ['unspec', 'self_only', 'descendants_pre', 'descendants_post', 'ancestors_up', 'children'] as const;

/**
 * `css_next_child`: the first child of `parent` (pos null) or the sibling
 * after `pos`, skipping released cgroups. A dying (removed but referenced)
 * cgroup is still listed, as in the kernel.
 */
export function cssNextChild(pos: Cgroup | null, parent: Cgroup): Cgroup | null {
  let n = pos ? (pos.siblingNode ? RcuList.nextLive(pos.siblingNode) : null) : RcuList.liveFrom(parent.children.head);
  while (n && n.value.freed) n = RcuList.nextLive(n);
  return n ? n.value : null;
}

/**
 * `css_next_descendant_pre`: pre-order walk of `root`'s subtree, root first.
 * {@link cssNextChild} written out (the first listed child, else the next
 * listed sibling of the nearest ancestor that has one): the css loop's
 * every step, 1.3x faster than through the calls.
 */
export function cssNextDescendantPre(pos: Cgroup | null, root: Cgroup): Cgroup | null {
  if (pos === null) return root;
  let n: RcuNode<Cgroup> | null = pos.children.head;
  while (n !== null && (n.removed || n.value.freed)) n = n.next;
  if (n !== null) return n.value;
  while (pos !== null && pos !== root) {
    n = pos.siblingNode !== null ? pos.siblingNode.next : null;
    while (n !== null && (n.removed || n.value.freed)) n = n.next;
    if (n !== null) return n.value;
    pos = pos.parent;
  }
  return null;
}

function leftmostDescendant(pos: Cgroup): Cgroup {
  for (let c = cssNextChild(null, pos); c; c = cssNextChild(null, pos)) pos = c;
  return pos;
}

/** `css_next_descendant_post`: post-order walk of `root`'s subtree, root last. */
export function cssNextDescendantPost(pos: Cgroup | null, root: Cgroup): Cgroup | null {
  if (!pos) return leftmostDescendant(root);
  if (pos === root) return null;
  const next = cssNextChild(pos, pos.parent!);
  if (next) return leftmostDescendant(next);
  return pos.parent;
}

/**
 * One step of a cgroup walk in any order, from `pos` (null: the first).
 * This is the single traversal behind the `cgroup` target and the
 * open-coded `css` iterator.
 */
export function cgroupWalkNext(order: number, pos: Cgroup | null, start: Cgroup): Cgroup | null {
  switch (order) {
    case BPF_CGROUP_ITER_SELF_ONLY:
      return pos ? null : start;
    case BPF_CGROUP_ITER_DESCENDANTS_PRE:
      return cssNextDescendantPre(pos, start);
    case BPF_CGROUP_ITER_DESCENDANTS_POST:
      return cssNextDescendantPost(pos, start);
    case BPF_CGROUP_ITER_ANCESTORS_UP:
      return pos ? pos.parent : start;
    case BPF_CGROUP_ITER_CHILDREN:
      return cssNextChild(pos, start);
    default:
      return null;
  }
}

/** Per walk root: its flattened pre-order walk ({@link cssNextDescendantPre} from the last element extends it). */
const preorders = new WeakMap<Cgroup, FlatWalk<Cgroup>>();

/** The order of walkers that step nodes (other orders, or after a change): always empty. */
const NO_ORDER = new FlatWalk<Cgroup>();

/** Cgroups appended to a flattened walk at a time (a loop that breaks early builds little). */
const ORDER_CHUNK = 1024;

/**
 * The walker behind the open-coded `css` iterator: {@link cgroupWalkNext}
 * from the last element, with the kernel's restart after NULL (the walk
 * begins again at `start`). DESCENDANTS_PRE steps the subtree's walk
 * flattened ({@link FlatWalk}, shared by the walkers of the same root)
 * while no list changes; after a change it goes on from its last element
 * with {@link cssNextDescendantPre}, which is all the state the kernel's
 * walk has.
 */
export class CssWalker {
  /** The last element returned; null before the first (and after NULL: the restart). */
  pos: Cgroup | null = null;
  /** The flattened walk stepped while `gen` is current; {@link NO_ORDER} otherwise. */
  private order: FlatWalk<Cgroup> = NO_ORDER;
  private gen = -1;
  /** `order.items` and the `order.count` last seen (the step reads no other object). */
  private items: readonly Cgroup[] = NO_ORDER.items;
  private end = 0;
  /** Index in `order.items` of the next element (`items[index - 1]` is `pos`). */
  private index = 0;

  constructor(
    readonly start: Cgroup,
    /** A `BPF_CGROUP_ITER_*` order. */
    readonly walkOrder: number,
  ) {
    if (walkOrder === BPF_CGROUP_ITER_DESCENDANTS_PRE) this.attach();
  }

  /** The next cgroup, or null at the end (the next call starts over). */
  next(): Cgroup | null {
    const i = this.index;
    if (i < this.end && this.gen === rcuGeneration.value) {
      this.index = i + 1;
      return (this.pos = this.items[i]!);
    }
    return this.slowNext();
  }

  /** Lets go of the flattened walk (`bpf_iter_css_destroy`): the next generation may reuse its array. */
  release(): void {
    if (this.order === NO_ORDER) return;
    this.order.detach();
    this.order = NO_ORDER;
    this.gen = -1;
    this.end = 0;
  }

  /** The end of the array so far (extend it), a changed tree (leave it), or the walk by nodes. */
  private slowNext(): Cgroup | null {
    const o = this.order;
    if (o !== NO_ORDER) {
      if (o.gen === rcuGeneration.value && this.index < o.count) {
        // Another walker extended the array.
        this.end = o.count;
        return this.next();
      }
      if (o.gen === rcuGeneration.value && this.index === o.count) {
        if (!o.done) {
          let c: Cgroup | null = o.count ? o.items[o.count - 1]! : null;
          for (let k = 0; k < ORDER_CHUNK; k++) {
            c = cssNextDescendantPre(c, this.start);
            if (c === null) break;
            o.add(c);
          }
          if (c === null) o.finish();
          this.end = o.count;
          if (this.index < o.count) return this.next();
        }
        // The end: NULL, and the next call starts over (on the same array while it holds).
        this.index = 0;
        return (this.pos = null);
      }
      this.release();
    }
    const next = cgroupWalkNext(this.walkOrder, this.pos, this.start);
    if (next === null && this.walkOrder === BPF_CGROUP_ITER_DESCENDANTS_PRE) {
      // The restart after NULL may step an array again.
      this.pos = null;
      this.attach();
      return null;
    }
    return (this.pos = next);
  }

  /** Steps `start`'s current flattened walk from its beginning. */
  private attach(): void {
    let o = preorders.get(this.start);
    if (o === undefined || o.gen !== rcuGeneration.value) preorders.set(this.start, (o = (o ?? new FlatWalk<Cgroup>()).renewed()));
    o.attach();
    this.order = o;
    this.gen = o.gen;
    this.items = o.items;
    this.end = o.count;
    this.index = 0;
  }
}

/** Flags of `bpf_iter_css_task_new`. */
export const CSS_TASK_ITER_PROCS = 1;
export const CSS_TASK_ITER_THREADED = 2;

/**
 * The walker behind the open-coded `css_task` iterator: the tasks attached
 * to a cgroup in attach order; with CSS_TASK_ITER_PROCS only thread-group
 * leaders. (The model has no threaded cgroups, so THREADED adds nothing.)
 * It stands on the member list's nodes (no references); the first `next()`
 * returns the first task, `start()` the task it stands on.
 */
/** Where a {@link CssTaskWalker} stands before its first step (never in a list). */
const BEFORE_FIRST: RcuNode<Task> = { value: null as unknown as Task, next: null, prev: null, removed: true };

export class CssTaskWalker implements OpenCodedWalker<Task> {
  readonly openCoded = true;
  /** The node it stands on; {@link BEFORE_FIRST} until the first `next()`, null after the end. */
  private node: RcuNode<Task> | null = BEFORE_FIRST;
  /** CSS_TASK_ITER_PROCS: thread-group leaders only. */
  private readonly procsOnly: boolean;

  constructor(
    readonly cgroup: Cgroup,
    readonly flags: number,
  ) {
    this.procsOnly = (flags & CSS_TASK_ITER_PROCS) !== 0;
  }

  start(): Task | null {
    if (this.node === BEFORE_FIRST) return this.next();
    return this.node !== null ? this.node.value : null;
  }

  /**
   * The list walk written out with strict tests (`=== true`, `!== null`):
   * V8 does not track these fields' types, and truthiness tests cost the
   * css_task loop twice the time per task (24 tasks a loop: the walk is
   * most of the loop). One field says where it stands, the first step
   * included (the list's head is read then, as before).
   */
  next(): Task | null {
    let n = this.node;
    if (n === null) return null;
    n = n === BEFORE_FIRST ? this.cgroup.tasks.head : n.next;
    if (this.procsOnly === true) while (n !== null && (n.removed === true || n.value.isLeader !== true)) n = n.next;
    else while (n !== null && n.removed === true) n = n.next;
    this.node = n;
    return n !== null ? n.value : null;
  }

  /** Nothing held: the walk stands on list nodes. */
  stop(): void {}
}
