import { Idr } from '../idr.js';
import { KObject } from '../refcount.js';
import type { Task } from './task.js';

/** Default pid_max of 64-bit kernels (`PID_MAX_LIMIT`). */
export const PID_MAX_LIMIT = 4 * 1024 * 1024;
/** Pids below this are not reused after the counter wraps (`RESERVED_PIDS`). */
export const RESERVED_PIDS = 300;

/**
 * A pid namespace: its own numbering of the tasks created inside it and in
 * its descendants. Level 0 is the initial namespace.
 */
export class PidNamespace extends KObject {
  readonly level: number;
  /** Tasks by their pid number in this namespace (thread ids). */
  readonly pids: Idr<Task>;
  /** The namespace's first task (pid 1 inside it). */
  child_reaper: Task | null = null;

  constructor(
    readonly parent: PidNamespace | null,
    /** Inode number of the namespace (as `/proc/PID/ns/pid` shows). */
    readonly inum: number,
  ) {
    super();
    this.level = parent ? parent.level + 1 : 0;
    this.pids = new Idr<Task>(1, PID_MAX_LIMIT);
  }

  /** True when `this` is `ns` or one of its ancestors (so tasks of `ns` are visible here). */
  isAncestorOf(ns: PidNamespace): boolean {
    let p: PidNamespace | null = ns;
    while (p && p.level > this.level) p = p.parent;
    return p === this;
  }
}
