import { KObject } from '../refcount.js';

/**
 * A kind of file, shared by every file of that kind: the kernel's
 * `struct file_operations`, whose address the seed's `tgid pid fd file`
 * table prints. Compare identities with `===`.
 */
export class FileOperations {
  /** The address as `%lx` prints it (lowercase hex, no 0x). */
  readonly hex: string;

  constructor(
    /** Symbol name, e.g. `ext4_file_operations`, `socket_file_ops`. */
    readonly name: string,
    /** Kernel address of the ops table. */
    readonly addr: bigint,
    /** True when the address was made up (no kernel to read it from). */
    readonly synthetic = true,
    /**
     * True when the address is made up in a model of a real kernel (host
     * without kallsyms data symbols): not the kernel's value. The identity
     * still groups the files of one kind; the default dumpers print
     * {@link F_OP_UNKNOWN} (text) and null (JSON) for the address.
     */
    readonly unknown = false,
  ) {
    this.hex = addr.toString(16);
  }
}

/** What the default text dumpers print for an address that is not known ({@link FileOperations.unknown}). */
export const F_OP_UNKNOWN = '?';

/** `O_CLOEXEC`: an open flag that becomes the fd's close-on-exec bit, never part of `f_flags`. */
export const O_CLOEXEC = 0o2000000;

/** File type bits of `i_mode`. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** Encodes a device number the way the kernel does internally (`MKDEV`: 12-bit major, 20-bit minor). */
export function mkdev(major: number, minor: number): number {
  return ((major & 0xfff) << 20) | (minor & 0xfffff);
}
/** Major number of a {@link mkdev} value. */
export function major(dev: number): number {
  return dev >>> 20;
}
/** Minor number of a {@link mkdev} value. */
export function minor(dev: number): number {
  return dev & 0xfffff;
}

/** The parts of `struct inode` iterators print. */
export interface Inode {
  readonly i_ino: number;
  readonly i_mode: number;
  /** Device of the filesystem (`i_sb->s_dev`), {@link mkdev} encoded. */
  readonly s_dev: number;
}

/** An open file (`struct file`). Shared between fds after dup and fork. */
export class KFile extends KObject {
  /** Number of fd slots (in any table) that point at this file. */
  fdRefs = 0;

  constructor(
    readonly f_op: FileOperations,
    /** The path as `/proc/PID/fd/N` shows it (`socket:[123]`, `pipe:[9]`, `anon_inode:[eventfd]`...). */
    readonly path: string,
    readonly f_inode: Inode,
    /** Open flags (`O_RDWR`, `O_APPEND`, `O_NONBLOCK`...; never O_CLOEXEC, which is per fd: `FilesStruct.close_on_exec`). */
    public f_flags = 0,
    /** Current position. */
    public f_pos = 0,
    /** What the file stands for (a socket for socket files). */
    public private_data: unknown = null,
  ) {
    super();
    // The kernel's reference is the one held by the fds; see fdRefs.
    this.refcnt = 0;
  }

  /** `&file->f_path`, for `bpf_d_path`. */
  get f_path(): { readonly path: string; readonly file: KFile } {
    return { path: this.path, file: this };
  }
}
