import type { KFile } from './file.js';

/**
 * A lazy table's open fds, listed without their files: each file is made
 * when it is looked up ({@link FilesStruct.lookupFd}), so a walk over 100k
 * fds keeps one file at a time, not 100k.
 */
export interface FdList {
  /** The open fds, ascending. */
  readonly fds: Int32Array;
  /** A new file for `fds[i]` (the table installs it). */
  file(i: number): KFile;
}

/** A lazy table's readers (the lazy host source's `/proc/PID/fd` or task_file iterator, and fdinfo). */
export interface FilesLoader {
  /** Lists the table on its first access; null when it is gone (the table then reads as empty). */
  list(files: FilesStruct): FdList | null;
  /** Fills `close_on_exec` on its first access (fdinfo of every fd), when the listing left it unknown. */
  closeOnExec?(files: FilesStruct): void;
}

/** The fd table's reference on a file, as `fd_install` takes it (see `Kernel.fdInstall`). */
function installed(f: KFile): KFile {
  f.fdRefs++;
  if (f.fdRefs === 1 && f.refcnt === 0) f.refcnt = 1;
  return f;
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
  #loadList: FilesLoader['list'] | null;
  #loadCloseOnExec: FilesLoader['closeOnExec'] | null;
  /** A listed table whose files are made as they are looked up; null once {@link fd} has made them all. */
  #list: FdList | null = null;
  /** Index in `#list.fds` of the last fd {@link nextFd} found (walks step one fd at a time). */
  #at = 0;
  /** The last file {@link lookupFd} made, and its index: looking one fd up twice gives one object. */
  #made: KFile | null = null;
  #madeAt = -1;
  /** Tasks using this table. */
  users = 0;

  /** @param loader a source's readers of the table, each run once, on first access */
  constructor(fds: (KFile | null)[] = [], closeOnExec: Iterable<number> = [], loader: FilesLoader | null = null) {
    this.#fd = fds;
    this.#closeOnExec = new Set(closeOnExec);
    this.#loadList = loader ? loader.list : null;
    this.#loadCloseOnExec = loader?.closeOnExec ?? null;
  }

  /** fd -> file; `null` for a closed slot. A listed lazy table makes every file here. */
  get fd(): (KFile | null)[] {
    if (this.#loadList) this.#listNow();
    if (this.#list) this.#makeAll();
    return this.#fd;
  }

  /**
   * The fds with close-on-exec set (`fdt->close_on_exec`): the kernel keeps
   * FD_CLOEXEC per fd here, never in the file's `f_flags`
   * (`/proc/PID/fdinfo` ORs O_CLOEXEC into the flags it prints from this).
   */
  get close_on_exec(): Set<number> {
    if (this.#loadList || this.#list) void this.fd;
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

  /** False until a lazy table has been read (listed). */
  get loaded(): boolean {
    return this.#loadList === null;
  }

  #listNow(): void {
    const load = this.#loadList!;
    this.#loadList = null;
    const l = load(this);
    if (l && l.fds.length) this.#list = l;
  }

  /** Every listed fd's file into the table (the one {@link lookupFd} made last kept). */
  #makeAll(): void {
    const l = this.#list!;
    this.#list = null;
    const fds = l.fds;
    const out = this.#fd;
    for (let i = 0; i < fds.length; i++) {
      const n = fds[i]!;
      while (out.length < n) out.push(null);
      out[n] = i === this.#madeAt ? this.#made! : installed(l.file(i));
    }
    this.#made = null;
    this.#madeAt = -1;
  }

  /** Index of the first listed fd >= `n` (the hint first: a walk asks for the fd after the last one). */
  #indexAtLeast(fds: Int32Array, n: number): number {
    let i = this.#at;
    if (i < fds.length && fds[i]! >= n && (i === 0 || fds[i - 1]! < n)) return i;
    if (++i < fds.length && fds[i]! >= n && fds[i - 1]! < n) return (this.#at = i);
    let lo = 0;
    let hi = fds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (fds[mid]! < n) lo = mid + 1;
      else hi = mid;
    }
    return (this.#at = lo);
  }

  /** The smallest open fd >= `n`, or -1 (`task_lookup_next_fdget_rcu`). */
  nextFd(n: number): number {
    if (this.#loadList) this.#listNow();
    const l = this.#list;
    if (l) {
      const i = this.#indexAtLeast(l.fds, n < 0 ? 0 : n);
      return i < l.fds.length ? l.fds[i]! : -1;
    }
    const fd = this.#fd;
    for (let i = n < 0 ? 0 : n; i < fd.length; i++) if (fd[i] !== null && fd[i] !== undefined) return i;
    return -1;
  }

  /**
   * The file at fd `n`, or null (`files_lookup_fd_raw`). In a listed lazy
   * table the file is made here and not kept (but for the last one).
   */
  lookupFd(n: number): KFile | null {
    if (this.#loadList) this.#listNow();
    const l = this.#list;
    if (!l) return this.#fd[n] ?? null;
    if (this.#madeAt >= 0 && l.fds[this.#madeAt] === n) return this.#made;
    const i = this.#indexAtLeast(l.fds, n);
    if (i >= l.fds.length || l.fds[i] !== n) return null;
    const f = installed(l.file(i));
    this.#made = f;
    this.#madeAt = i;
    return f;
  }

  /** The lowest free fd >= `min` (`get_unused_fd_flags`). */
  unusedFd(min = 0): number {
    const fd = this.fd;
    for (let i = min; i < fd.length; i++) if (!fd[i]) return i;
    return Math.max(min, fd.length);
  }

  /** Number of open fds. */
  get count(): number {
    if (this.#loadList) this.#listNow();
    if (this.#list) return this.#list.fds.length;
    let n = 0;
    for (const f of this.fd) if (f) n++;
    return n;
  }
}
