/**
 * Iterator links and iterator fds of the real kernel, with the surface of
 * the modelled ones: `attachIter(obj.program(name), { linkInfo })` returns
 * a {@link KernelIterLink}; `link.open()` a {@link KernelIterFd} (a real fd
 * from `bpf_iter_create`, read with `read(2)`) with the views of every
 * iterator fd (`read(n)`, `readAll`, `lines`, Readable, async iterator,
 * `iterObservable`). libbpf is reached through `@bpf-iter/core`'s FFI,
 * loaded on first use.
 */
import { closeSync, readSync } from 'node:fs';
import { attachKernelIter } from '@bpf-iter/core/internal';
import {
  BpfError,
  BpfObjectProgram,
  ERRNO,
  fail,
  type ErrnoName,
  type KernelLink,
  type KernelLinkInfo,
} from '@bpf-iter/core';
import { checkSize, DEFAULT_READ_SIZE, IterFdBase } from './iter_fd.js';
import { linkInfoBytes } from './link_info.js';
import type { AttachIterOptions } from './link.js';

/** A Node fs error as a {@link BpfError} with the same errno name. */
function fsError(e: unknown, what: string): BpfError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code && code in ERRNO) return new BpfError(code as ErrnoName, `${what}: ${(e as Error).message}`);
  return new BpfError('EINVAL', `${what}: ${(e as Error).message}`);
}

/** An iterator fd of the real kernel: one session, read with `read(2)`; closed exactly once. */
export class KernelIterFd extends IterFdBase {
  override fd: number;

  /** @internal created by {@link KernelIterLink.open}. */
  constructor(fd: number) {
    super();
    this.fd = fd;
  }

  read(size: number = DEFAULT_READ_SIZE): Buffer {
    const buf = Buffer.allocUnsafe(checkSize(size));
    const n = this.readInto(buf, 0, buf.length);
    return n === buf.length ? buf : Buffer.from(buf.subarray(0, n));
  }

  readInto(buf: Uint8Array, offset = 0, length = buf.length - offset): number {
    if (this.closed) fail('EBADF', 'iterator fd is closed');
    if (offset < 0 || length < 0 || offset + length > buf.length) fail('EFAULT', 'buffer range out of bounds');
    try {
      return readSync(this.fd, buf, offset, checkSize(length), null);
    } catch (e) {
      throw fsError(e, 'read from iterator fd failed');
    }
  }

  /** @internal */
  fdRelease(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/**
 * An iterator link on the real kernel. Destroy it exactly once with
 * {@link close} (or `using`); a pin keeps the kernel link alive after that.
 *
 * @example
 * ```ts
 * using obj = openObject('examples/bpf/bpf_iter_task_ex.bpf.c').load();
 * using link = attachIter(obj.program('dump_task_file'), { linkInfo: { task: { pid: process.pid } } });
 * process.stdout.write(link.open().readAll());
 * ```
 */
export class KernelIterLink implements Disposable {
  /** @internal */
  constructor(readonly link: KernelLink) {}

  /** The program the link runs. */
  get prog(): BpfObjectProgram {
    return this.link.prog;
  }
  /** The link fd. */
  get fd(): number {
    return this.link.fd;
  }
  /** The kernel's link id. */
  get id(): number {
    return this.link.info().id;
  }
  /** The target name (`bpf_link_info.iter.target_name`). */
  get target(): string {
    return this.link.info().iter.target_name;
  }
  /** True after {@link close}. */
  get released(): boolean {
    return this.link.destroyed;
  }

  /** `BPF_ITER_CREATE`: a new session (a real fd), with the link's program as of now. */
  open(): KernelIterFd {
    if (this.link.destroyed) fail('EBADF', 'link was released');
    return new KernelIterFd(this.link.createIterFd());
  }

  /** Pins on the real bpffs (`bpf_link__pin`): `cat PATH` then reads a fresh session. */
  pin(path: string): void {
    this.link.pin(path);
  }
  /** Removes this handle's pin. */
  unpin(): void {
    this.link.unpin();
  }

  /** `BPF_OBJ_GET_INFO_BY_FD`: type, id, prog_id, target name and the target's parameters. */
  info(): KernelLinkInfo {
    return this.link.info();
  }
  /** The kernel's fdinfo text of the link fd. */
  fdinfo(): string {
    return this.link.fdinfo();
  }

  /** `BPF_LINK_UPDATE` (EPERM when `oldProg` is not current, EINVAL for another target). */
  update(newProg: BpfObjectProgram, oldProg?: BpfObjectProgram | null): void {
    this.link.update(newProg, oldProg);
  }

  /** `bpf_link__destroy`: closes the link fd, once (idempotent). */
  close(): void {
    this.link.destroy();
  }
  /** Alias of {@link close}. */
  destroy(): void {
    this.link.destroy();
  }
  [Symbol.dispose](): void {
    this.link.destroy();
  }
}

/**
 * `attachIter` for a program of a real BPF object: the link info is
 * encoded like for model programs and handed to the kernel as is (its
 * checks and errnos apply: EINVAL, E2BIG, EFAULT, ESRCH...).
 */
export function attachKernelIterLink(prog: BpfObjectProgram, opts: AttachIterOptions = {}): KernelIterLink {
  if ((opts.targetFd ?? 0) !== 0 || (opts.flags ?? 0) !== 0) fail('EINVAL', 'link_create.target_fd and flags must be 0');
  if (opts.kernel) fail('EINVAL', 'a program of a real BPF object runs on the real kernel: the kernel option is for model programs');
  const { bytes, len } = linkInfoBytes(opts.linkInfo, opts.linkInfoLen);
  // libbpf reads link_info_len bytes of the buffer: never past what we hold.
  if (bytes && len > bytes.length) fail('EFAULT', `iter_info_len ${len} exceeds the ${bytes.length} bytes given`);
  return new KernelIterLink(attachKernelIter(prog, bytes, len));
}

/** True for a program of a real BPF object (`openObject`). */
export function isKernelProgram(p: unknown): p is BpfObjectProgram {
  return p instanceof BpfObjectProgram;
}
