import { BPF_CGROUP_ITER_SELF_ONLY, BPF_CGROUP_ITER_DESCENDANTS_PRE, BPF_CGROUP_ITER_DESCENDANTS_POST, BPF_CGROUP_ITER_ANCESTORS_UP, BPF_CGROUP_ITER_CHILDREN } from '../uapi.js';
import { RcuList, type RcuNode } from '../rculist.js';
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
export class CssTaskWalker implements OpenCodedWalker<Task> {
  readonly openCoded = true;
  private node: RcuNode<Task> | null = null;
  private started = false;

  constructor(
    readonly cgroup: Cgroup,
    readonly flags: number,
  ) {}

  start(): Task | null {
    if (!this.started) return this.next();
    return this.node ? this.node.value : null;
  }

  next(): Task | null {
    let n = this.started ? (this.node ? RcuList.nextLive(this.node) : null) : RcuList.liveFrom(this.cgroup.tasks.head);
    this.started = true;
    if ((this.flags & CSS_TASK_ITER_PROCS) !== 0) while (n && !n.value.isLeader) n = RcuList.nextLive(n);
    this.node = n;
    return n ? n.value : null;
  }

  /** Nothing held: the walk stands on list nodes. */
  stop(): void {}
}
