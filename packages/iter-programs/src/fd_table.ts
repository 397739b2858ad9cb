import { fail } from '@bpf-iter/core';

/** What an fd can refer to. `release` runs when the last fd to it is closed. */
export interface FdObject {
  /** `'prog' | 'link' | 'iter' | 'map' | ...` (anon inode kind). */
  readonly fdKind: string;
  /** Called by `close()`: drops the reference the fd held. */
  fdRelease(): void;
}

/**
 * The calling process's fd table for BPF objects: lowest free number first,
 * starting at 3 (0-2 are stdio), like `get_unused_fd_flags`.
 */
export class FdTable {
  private readonly files = new Map<number, FdObject>();

  /** Installs `obj` at the lowest free fd and returns the number. */
  install(obj: FdObject): number {
    let fd = 3;
    while (this.files.has(fd)) fd++;
    this.files.set(fd, obj);
    return fd;
  }

  /** The object behind `fd`, or throws EBADF. */
  get(fd: number): FdObject {
    const f = Number.isInteger(fd) ? this.files.get(fd) : undefined;
    if (!f) fail('EBADF', `fd ${fd} is not open`);
    return f;
  }

  /** The object behind `fd`, or undefined. */
  lookup(fd: number): FdObject | undefined {
    return this.files.get(fd);
  }

  /** Closes `fd` (EBADF if not open). */
  close(fd: number): void {
    const f = this.get(fd);
    this.files.delete(fd);
    f.fdRelease();
  }

  /** Open fds, ascending. */
  list(): number[] {
    return [...this.files.keys()].sort((a, b) => a - b);
  }
}

/** The process-wide fd table used by the libbpf-style API. */
export const fdTable = new FdTable();
