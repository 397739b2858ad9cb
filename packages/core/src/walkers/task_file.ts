import type { Kernel } from '../kernel.js';
import type { KFile } from '../model/file.js';
import type { Task } from '../model/task.js';
import { taskSeqGetNext, type TaskCursor, type TaskIterSpec } from './task.js';
import type { Walker } from './walker.js';

/** One open file of one task, as the task_file target hands it to a program. */
export interface TaskFile {
  readonly task: Task;
  readonly fd: number;
  readonly file: KFile;
}

/**
 * The walker behind the `task_file` target (`task_file_seq_get_next`): for
 * each selected task, its open fds in ascending order. Threads that share
 * their leader's fd table are skipped (except in TID mode). The cursor is
 * (tid, fd): a paused walk resumes at the first open fd >= the unshown one
 * of the same task, or at fd 0 of the next task if that task is gone.
 */
export class TaskFileWalker implements Walker<TaskFile> {
  readonly cursor: TaskCursor & { fd: number } = { tid: 0, pidVisiting: 0, fd: 0 };
  private task: Task | null = null;
  private file: KFile | null = null;

  constructor(
    readonly kernel: Kernel,
    readonly spec: TaskIterSpec,
  ) {}

  private getNext(): TaskFile | null {
    const c = this.cursor;
    for (;;) {
      let task = this.task;
      let fd = c.fd;
      if (!task) {
        const savedTid = c.tid;
        task = taskSeqGetNext(this.kernel, this.spec, c, this.spec.type !== 'TID');
        if (!task) return null;
        this.task = task;
        if (savedTid !== c.tid) fd = c.fd = 0;
      }
      const files = task.files;
      const n = files ? files.nextFd(fd) : -1;
      if (n >= 0) {
        c.fd = n;
        this.file = files!.lookupFd(n)!.get();
        return { task, fd: n, file: this.file };
      }
      // This task is done: on to the next one.
      task.put();
      this.task = null;
      if (this.spec.type === 'TID') return null;
      c.fd = 0;
      c.tid++;
    }
  }

  start(): TaskFile | null {
    this.stop();
    return this.getNext();
  }

  next(): TaskFile | null {
    this.putFile();
    this.cursor.fd++;
    return this.getNext();
  }

  stop(): void {
    this.putFile();
    if (this.task) {
      this.task.put();
      this.task = null;
    }
  }

  private putFile(): void {
    if (this.file) {
      this.file.put();
      this.file = null;
    }
  }
}
