/**
 * Errors carry the kernel's errno name, like the negative return values of
 * kernel functions and the `errno` of failed syscalls.
 */

/** Linux errno numbers (x86-64/generic) for the names this SDK uses. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENOTDIR: 20,
  EISDIR: 21,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ESPIPE: 29,
  ENAMETOOLONG: 36,
  ENOTEMPTY: 39,
  EPROTO: 71,
  EOVERFLOW: 75,
  ENOPROTOOPT: 92,
  EOPNOTSUPP: 95,
  /** Kernel-internal `ENOTSUPP` (never a uapi errno, but BPF helpers return it). */
  ENOTSUPP: 524,
} as const;

/** An errno name such as `"EINVAL"`. */
export type ErrnoName = keyof typeof ERRNO;

/**
 * The one error type of bpf-iter. `errno` is the kernel's errno name,
 * `code` is the same name (Node's convention), `errnoValue` its number.
 */
export class BpfError extends Error {
  readonly errno: ErrnoName;
  readonly code: ErrnoName;
  readonly errnoValue: number;
  /** The message without its `ERRNO: ` prefix. */
  readonly detail: string;

  constructor(errno: ErrnoName, message: string, options?: { cause?: unknown }) {
    super(`${errno}: ${message}`, options);
    this.name = 'BpfError';
    this.detail = message;
    this.errno = errno;
    this.code = errno;
    this.errnoValue = ERRNO[errno];
  }

  /** The kernel-style negative return value, e.g. -22 for EINVAL. */
  get negative(): number {
    return -this.errnoValue;
  }
}

/** Throws a {@link BpfError}; convenient in expressions. */
export function fail(errno: ErrnoName, message: string): never {
  throw new BpfError(errno, message);
}

/** The errno name for a negative kernel return value, e.g. -22 -> "EINVAL". */
export function errnoName(value: number): ErrnoName | undefined {
  const n = Math.abs(value);
  for (const [name, v] of Object.entries(ERRNO)) if (v === n) return name as ErrnoName;
  return undefined;
}

/** True when `e` is a {@link BpfError} with the given errno name. */
export function isErrno(e: unknown, errno: ErrnoName): e is BpfError {
  return e instanceof BpfError && e.errno === errno;
}
