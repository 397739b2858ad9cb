import { KObject } from '../refcount.js';
import { RcuList, type RcuNode } from '../rculist.js';
import type { Task } from './task.js';

/**
 * A cgroup of the default (v2) hierarchy. The model folds `struct cgroup`
 * and its `cgroup_subsys_state` into one object: the css iterators walk it.
 */
export class Cgroup extends KObject {
  readonly children = new RcuList<Cgroup>();
  /** Node in the parent's children list. */
  siblingNode: RcuNode<Cgroup> | null = null;
  /** Member tasks (threads) in attach order. */
  readonly tasks = new RcuList<Task>();
  readonly level: number;

  constructor(
    /** Kernfs id (`cgroup_id`), 1 for the root. */
    readonly id: number,
    readonly name: string,
    readonly parent: Cgroup | null,
  ) {
    super();
    this.level = parent ? parent.level + 1 : 0;
  }

  /** Path from the root, `/` for the root (`cgroup_path`). */
  get path(): string {
    if (!this.parent) return '/';
    const parts: string[] = [];
    for (let c: Cgroup | null = this; c && c.parent; c = c.parent) parts.push(c.name);
    return '/' + parts.reverse().join('/');
  }

  /** A removed cgroup stays in its parent's list (dying) until its last reference drops. */
  protected override onFree(): void {
    if (this.parent && this.siblingNode) this.parent.children.remove(this.siblingNode);
  }

  /** Live child cgroups in creation order. */
  childList(): Cgroup[] {
    return this.children.toArray().filter((c) => !c.dead);
  }
}
