import type { KFile } from './file.js';

/**
 * A file descriptor table (`struct files_struct`). Threads created with
 * CLONE_FILES share one; identity (`===`) is what the task_file and task_vma
 * walkers compare to skip threads that share their leader's table.
 */
export class FilesStruct {
  /** fd -> file; `null` for a closed slot. */
  readonly fd: (KFile | null)[];
  /**
   * The fds with close-on-exec set (`fdt->close_on_exec`): the kernel keeps
   * FD_CLOEXEC per fd here, never in the file's `f_flags`
   * (`/proc/PID/fdinfo` ORs O_CLOEXEC into the flags it prints from this).
   */
  readonly close_on_exec: Set<number>;
  /** Tasks using this table. */
  users = 0;

  constructor(fds: (KFile | null)[] = [], closeOnExec: Iterable<number> = []) {
    this.fd = fds;
    this.close_on_exec = new Set(closeOnExec);
  }

  /** The smallest open fd >= `n`, or -1 (`task_lookup_next_fdget_rcu`). */
  nextFd(n: number): number {
    const fd = this.fd;
    for (let i = n < 0 ? 0 : n; i < fd.length; i++) if (fd[i] !== null && fd[i] !== undefined) return i;
    return -1;
  }

  /** The lowest free fd >= `min` (`get_unused_fd_flags`). */
  unusedFd(min = 0): number {
    const fd = this.fd;
    for (let i = min; i < fd.length; i++) if (!fd[i]) return i;
    return Math.max(min, fd.length);
  }

  /** Number of open fds. */
  get count(): number {
    let n = 0;
    for (const f of this.fd) if (f) n++;
    return n;
  }
}
