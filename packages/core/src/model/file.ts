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

/**
 * What a source reads about an open file only when a program asks for it
 * (the lazy host source: `/proc/PID/fdinfo/N`, an lstat of the fd link).
 */
export interface KFileFields {
  /** `f_op`, for a file created without one. */
  f_op(file: KFile): FileOperations;
  /** `f_flags` and `f_pos`, for a file created with `fields`. */
  info(file: KFile): { f_flags: number; f_pos: number };
  /**
   * What the fd's link tells (`/proc/PID/fd/N`: path, inode, the socket it
   * stands for), for a file created without a path; read once, on first access.
   */
  link?(file: KFile): { path: string; f_inode: Inode; private_data: unknown };
  /**
   * True when no file of this source has a known `f_op` address (a host
   * without kallsyms data symbols): {@link KFile.f_opAddr} is then answered
   * without reading the file's kind.
   */
  fopsUnknown?(): boolean;
  /**
   * `f_op`'s address where the source read it without naming the table
   * (the kernel's task_file iterator), else undefined: {@link KFile.f_opAddr}
   * is then answered without reading the file's kind.
   */
  f_opAddr?(file: KFile): bigint | undefined;
}

/** An open file (`struct file`). Shared between fds after dup and fork. */
export class KFile extends KObject {
  /** Number of fd slots (in any table) that point at this file. */
  declare fdRefs: number; // set in the constructor (see KObject's fields)
  #f_op: FileOperations | null;
  #f_flags: number;
  #f_pos: number;
  /** Reader of the fields not known at creation. */
  readonly #fields: KFileFields | null;
  /** True until `f_flags`/`f_pos` are read through {@link #fields}. */
  #infoPending: boolean;
  #path: string | null;
  #f_inode: Inode | null;
  #private_data: unknown;

  /**
   * @param f_op null: read through `fields` on first access
   * @param path null (with `f_inode` null): path, inode and `private_data` read through `fields.link` on first access
   * @param fields a source's reader of `f_op` (when null), of the link (when `path` is null) and of
   *   `f_flags`/`f_pos` (instead of the values given), each run once, on first access
   */
  constructor(
    f_op: FileOperations | null,
    path: string | null,
    f_inode: Inode | null,
    f_flags = 0,
    f_pos = 0,
    private_data: unknown = null,
    fields: KFileFields | null = null,
  ) {
    super();
    // The kernel's reference is the one held by the fds; see fdRefs.
    this.refcnt = 0;
    this.fdRefs = 0;
    if (!f_op && !fields) throw new TypeError('KFile: no f_op and no reader of it');
    if ((path === null || f_inode === null) && !fields?.link) throw new TypeError('KFile: no path and no reader of it');
    this.#path = path;
    this.#f_inode = path === null ? null : f_inode;
    this.#private_data = private_data;
    this.#f_op = f_op;
    this.#f_flags = f_flags;
    this.#f_pos = f_pos;
    this.#fields = fields;
    this.#infoPending = fields !== null;
  }

  /** The file's kind (`struct file_operations`). */
  get f_op(): FileOperations {
    return this.#f_op ?? (this.#f_op = this.#fields!.f_op(this));
  }

  /**
   * The address of `f_op` as the default dumpers print it, or null when it
   * is not known ({@link FileOperations.unknown}). A source that knows no
   * address at all answers without reading the file's kind.
   */
  get f_opAddr(): bigint | null {
    let f = this.#f_op;
    if (f === null) {
      const fields = this.#fields!;
      const addr = fields.f_opAddr?.(this);
      if (addr !== undefined) return addr;
      if (fields.fopsUnknown?.()) return null;
      f = this.f_op;
    }
    return f.unknown ? null : f.addr;
  }

  /** The path as `/proc/PID/fd/N` shows it (`socket:[123]`, `pipe:[9]`, `anon_inode:[eventfd]`...). */
  get path(): string {
    if (this.#path === null) this.#readLink();
    return this.#path!;
  }

  get f_inode(): Inode {
    if (this.#path === null) this.#readLink();
    return this.#f_inode!;
  }

  /** What the file stands for (a socket for socket files). */
  get private_data(): unknown {
    if (this.#path === null) this.#readLink();
    return this.#private_data;
  }

  set private_data(v: unknown) {
    if (this.#path === null) this.#readLink();
    this.#private_data = v;
  }

  #readLink(): void {
    const l = this.#fields!.link!(this);
    this.#path = l.path;
    this.#f_inode = l.f_inode;
    this.#private_data = l.private_data;
  }

  /** Open flags (`O_RDWR`, `O_APPEND`, `O_NONBLOCK`...; never O_CLOEXEC, which is per fd: `FilesStruct.close_on_exec`). */
  get f_flags(): number {
    if (this.#infoPending) this.#readInfo();
    return this.#f_flags;
  }

  set f_flags(v: number) {
    if (this.#infoPending) this.#readInfo();
    this.#f_flags = v;
  }

  /** Current position. */
  get f_pos(): number {
    if (this.#infoPending) this.#readInfo();
    return this.#f_pos;
  }

  set f_pos(v: number) {
    if (this.#infoPending) this.#readInfo();
    this.#f_pos = v;
  }

  #readInfo(): void {
    this.#infoPending = false;
    const i = this.#fields!.info(this);
    this.#f_flags = i.f_flags;
    this.#f_pos = i.f_pos;
  }

  /** `&file->f_path`, for `bpf_d_path`. */
  get f_path(): { readonly path: string; readonly file: KFile } {
    return { path: this.path, file: this };
  }
}
