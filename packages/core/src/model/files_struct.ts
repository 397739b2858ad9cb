import type { KFile } from './file.js';

/** A lazy table's readers (the lazy host source's `/proc/PID/fd` and fdinfo reads). */
export interface FilesLoader {
  /** Fills the table on its first access (it may install fds: the table reads as empty while it runs). */
  fds(files: FilesStruct): void;
  /** Fills `close_on_exec` on its first access (fdinfo of every fd), when `fds` left it unknown. */
  closeOnExec?(files: FilesStruct): void;
}

/**
 * A file descriptor table (`struct files_struct`). Threads created with
 * CLONE_FILES share one; identity (`===`) is what the task_file and task_vma
 * walkers compare to skip threads that share their leader's table.
 */
export class FilesStruct {
  #fd: (KFile | null)[];
  #closeOnExec: Set<number>;
  /** The readers of a lazy table, cleared as each has run. */
  #loadFds: FilesLoader['fds'] | null;
  #loadCloseOnExec: FilesLoader['closeOnExec'] | null;
  /** Tasks using this table. */
  users = 0;

  /** @param loader a source's readers of the table, each run once, on first access */
  constructor(fds: (KFile | null)[] = [], closeOnExec: Iterable<number> = [], loader: FilesLoader | null = null) {
    this.#fd = fds;
    this.#closeOnExec = new Set(closeOnExec);
    this.#loadFds = loader ? loader.fds : null;
    this.#loadCloseOnExec = loader?.closeOnExec ?? null;
  }

  /** fd -> file; `null` for a closed slot. */
  get fd(): (KFile | null)[] {
    if (this.#loadFds) this.#fill();
    return this.#fd;
  }

  /**
   * The fds with close-on-exec set (`fdt->close_on_exec`): the kernel keeps
   * FD_CLOEXEC per fd here, never in the file's `f_flags`
   * (`/proc/PID/fdinfo` ORs O_CLOEXEC into the flags it prints from this).
   */
  get close_on_exec(): Set<number> {
    if (this.#loadFds) this.#fill();
    if (this.#loadCloseOnExec) {
      const load = this.#loadCloseOnExec;
      this.#loadCloseOnExec = null;
      load(this);
    }
    return this.#closeOnExec;
  }

  /** Records one fd's close-on-exec bit as a source learns it (without running the readers). */
  setCloseOnExec(fd: number, on: boolean): void {
    if (on) this.#closeOnExec.add(fd);
    else this.#closeOnExec.delete(fd);
  }

  /** False until a lazy table has been read. */
  get loaded(): boolean {
    return this.#loadFds === null;
  }

  #fill(): void {
    const load = this.#loadFds!;
    this.#loadFds = null;
    load(this);
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
