import type { Kernel } from '../kernel.js';
import { findVmaIndexIn, vmaSnapshot, type MmStruct, type Vma, type VmaLayout } from '../model/mm.js';
import type { Task } from '../model/task.js';
import { taskSeqGetNext, type TaskCursor, type TaskIterSpec } from './task.js';
import type { OpenCodedWalker, Walker } from './walker.js';

/** One VMA of one task, as the task_vma target hands it to a program. */
export interface TaskVma {
  readonly task: Task;
  readonly vma: Vma;
}

const SENTINEL_START = -1; // the kernel's ~0UL: never equal to a real vm_start

/**
 * The walker behind the `task_vma` target (`task_vma_seq_get_next`): for each
 * selected task with an address space, its VMAs in ascending address order.
 * A paused walk remembers the end of the unshown VMA; on resume it shows the
 * VMA containing `prev_vm_end - 1` (the same one, or what replaced it, or the
 * next one above if it was unmapped).
 */
export class TaskVmaWalker implements Walker<TaskVma> {
  readonly cursor: TaskCursor & { prev_vm_start: number; prev_vm_end: number } = {
    tid: 0,
    pidVisiting: 0,
    prev_vm_start: 0,
    prev_vm_end: 0,
  };
  private task: Task | null = null;
  private vma: Vma | null = null;
  /** The walk over the current task's VMAs (the open-coded kind's walker). */
  private vmas: VmaWalker | null = null;

  constructor(
    readonly kernel: Kernel,
    readonly spec: TaskIterSpec,
  ) {}

  private getNext(): TaskVma | null {
    const c = this.cursor;
    // Compared with the tid found below: the same tid means "resuming a paused walk".
    const savedTid = c.tid;
    let op: 'first' | 'next' | 'find';
    let task = this.task;
    if (task && this.vma) {
      op = 'next';
    } else {
      task = null;
      op = 'first';
    }
    for (;;) {
      if (!task) {
        task = taskSeqGetNext(this.kernel, this.spec, c, this.spec.type !== 'TID');
        if (!task) {
          c.tid++;
          return null;
        }
        op = savedTid !== c.tid ? 'first' : 'find';
      }
      let vma: Vma | null = null;
      if (op === 'next') {
        // find_vma(mm, prev_vm_end); in the address space the task has now if it lost or replaced it (exit, exec) since.
        const mm = task.mm;
        if (mm === this.vmas!.mm) vma = this.vmas!.next();
        else if (mm !== null) vma = (this.vmas = new VmaWalker(mm, this.vma!.vm_end)).start();
      }
      else if (op === 'first') vma = (this.vmas = new VmaWalker(task.mm, 0)).start();
      // Nothing paused yet (prev_vm_end 0): the kernel's `0 - 1` wraps to ULONG_MAX and finds nothing.
      else if (c.prev_vm_end > 0) {
        vma = (this.vmas = new VmaWalker(task.mm, c.prev_vm_end - 1)).start();
        if (vma && vma.vm_start === c.prev_vm_start && vma.vm_end === c.prev_vm_end) vma = this.vmas.next();
      }
      if (vma) {
        this.task = task;
        this.vma = vma;
        return { task, vma };
      }
      // No (more) VMAs: next task.
      task.put();
      this.task = null;
      this.vma = null;
      this.vmas = null;
      if (this.spec.type === 'TID') return null;
      c.tid++;
      task = null;
    }
  }

  start(): TaskVma | null {
    this.release();
    return this.getNext();
  }

  next(): TaskVma | null {
    return this.getNext();
  }

  /** Pauses: remembers the unshown VMA's end so the next start() shows it again. */
  stop(): void {
    if (this.vma) {
      this.cursor.prev_vm_start = SENTINEL_START;
      this.cursor.prev_vm_end = this.vma.vm_end;
    }
    this.release();
  }

  private release(): void {
    if (this.task) {
      this.task.put();
      this.task = null;
    }
    this.vma = null;
    this.vmas = null;
  }
}

/**
 * The walk over one address space from an address, shared by the
 * open-coded `task_vma` iterator (`bpf_iter_task_vma_new(it, task, addr)`)
 * and the `task_vma` target: snapshots of the VMAs whose end is above
 * `addr`, ascending. It walks the `mm` it was given (the kernel's iterator
 * takes `task->mm` once in `new` and keeps it until `destroy`), so a task
 * that exits or execs mid-walk does not end or switch the walk.
 *
 * Steps by row while the address space is unchanged (O(1) per VMA, no
 * search: a walk from address 0 starts at the first row); after an
 * mmap/munmap between steps it looks up the first VMA ending above the last
 * one's end again, as the kernel's `find_vma` from the saved address does.
 * `start()` returns the VMA the walker stands on (the first one before any
 * step), the first `next()` too; null at the end and forever after, and
 * for a null `mm`.
 */
export class VmaWalker implements OpenCodedWalker<Vma> {
  // `declare`d and set in the constructor (one walker per task walked): class fields would be defined by an
  // initializer first, then set.
  declare readonly openCoded: true;
  /** The address space walked (null: nothing to walk). */
  declare readonly mm: MmStruct | null;
  /** Row in `layout` of the VMA last returned. */
  private declare row: number;
  /** Rows of `layout`; 0 before the first step and after the end, so that the row step falls through to {@link lookup}. */
  private declare count: number;
  /** `mm.seq` at the last step (-1 before the first: `seq` is never negative), the layout then and its biases (a layout is never changed in place: mmap/munmap replace it and bump `seq`). */
  private declare seq: number;
  private declare layout: VmaLayout | null;
  private declare biasAt: number;
  /** `find_vma` address of the first step; -1 after the end. */
  private declare addr: number;

  /** @param mm the address space walked (null: nothing to walk) */
  constructor(mm: MmStruct | null, addr: number) {
    this.openCoded = true;
    this.mm = mm;
    this.row = -1;
    this.count = 0;
    this.seq = -1;
    this.layout = null;
    this.biasAt = -1;
    this.addr = addr;
  }

  start(): Vma | null {
    if (this.layout === null) return this.addr < 0 ? null : this.next();
    return vmaSnapshot(this.mm!, this.layout, this.biasAt, this.row);
  }

  next(): Vma | null {
    const mm = this.mm;
    if (mm !== null && mm.seq === this.seq) {
      // The address space is unchanged since the last step: the next row.
      const i = this.row + 1;
      if (i < this.count) {
        this.row = i;
        return vmaSnapshot(mm, this.layout!, this.biasAt, i);
      }
      return this.end();
    }
    return this.lookup();
  }

  /** The first step, or the address space changed: `find_vma` from the saved address. */
  private lookup(): Vma | null {
    const mm = this.mm;
    if (mm === null || this.addr < 0) return this.end();
    const old = this.layout;
    let addr = this.addr;
    // Since a step: the end of the VMA last returned (its row of the layout it came from).
    if (old !== null) addr = old.end[this.row]! + (this.biasAt >= 0 ? old.biasPool[this.biasAt + old.region[this.row]!]! : 0);
    const l = mm.vmaLayout;
    const biasAt = mm.vmaBiasAt;
    // From address 0 (the usual start): the first row, every end is above it.
    const i = addr === 0 ? (l.count > 0 ? 0 : -1) : findVmaIndexIn(l, biasAt, addr);
    if (i < 0) return this.end();
    this.seq = mm.seq;
    this.layout = l;
    this.biasAt = biasAt;
    this.count = l.count;
    this.row = i;
    return vmaSnapshot(mm, l, biasAt, i);
  }

  /** Past the last VMA: null from now on (the row step finds no row, a lookup no address). */
  private end(): null {
    this.addr = -1;
    this.layout = null;
    this.count = 0;
    return null;
  }

  /** Nothing held: snapshots are values (the open-coded kind drops its `mm` reference in `destroy`). */
  stop(): void {}
}
