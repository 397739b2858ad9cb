/**
 * Iterator fds (anon inode `bpf_iter`, `O_RDONLY|O_CLOEXEC`): `read()`
 * through the seq_file engine, plus Node-friendly views: sync/async chunk
 * iterators, lines and a `Readable` stream (RxJS Observables: `rx.ts`).
 */
import { Readable, type ReadableOptions } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { BpfError, fail } from '@bpf-iter/core';
import { MAX_RW_COUNT } from './constants.js';
import { errorFor } from './errno.js';
import { fdTable, type FdObject } from './fd_table.js';
import { bpf_seq_read, type SeqFile } from './seq_file.js';

/** Default chunk size of the convenience readers (bytes per `read()`). */
export const DEFAULT_READ_SIZE = 64 * 1024;

/** Options of the streaming views. */
export interface IterReadOptions {
  /** Bytes per `read()` (default 64 KiB). */
  chunkSize?: number;
  /**
   * How many consecutive EAGAIN failures to retry (default 0: EAGAIN is an
   * error, as for `cat`). EAGAIN after 1,000,000 silent objects makes
   * progress when retried; a program that always returns 1 never does.
   */
  retryEagain?: number;
}

/** @internal A read size checked like `read(2)` (EINVAL), capped at MAX_RW_COUNT. */
export function checkSize(size: number): number {
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) fail('EINVAL', `invalid read size ${String(size)}`);
  return Math.min(size, MAX_RW_COUNT);
}

/**
 * What every iterator fd offers, whichever kernel runs it: the modelled one
 * ({@link IterFd}) or the real one (`KernelIterFd`, a real fd read with
 * `read(2)`). Subclasses give `read`, `readInto` and the release; the views
 * (readAll, chunks, lines, Readable, async iterator; Observables: rx.ts) and the
 * close-exactly-once rules live here.
 */
export abstract class IterFdBase implements Disposable {
  readonly fdKind = 'iter';
  /** The fd number, when there is one (`bpf_iter_create`, or the real fd). */
  fd: number | null = null;
  protected closed = false;

  /** True after {@link close}. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** `read(fd, buf, size)`: returns up to `size` bytes (empty at EOF); throws BpfError(errno) on -errno. */
  abstract read(size?: number): Buffer;

  /** Reads into `buf[offset…offset+length)`; returns the byte count (0 at EOF). */
  abstract readInto(buf: Uint8Array, offset?: number, length?: number): number;

  /** Releases what the fd holds (once; {@link close} guards). */
  abstract fdRelease(): void;

  /** Reads until EOF (a read returning 0); returns all bytes. */
  readAll(opts: IterReadOptions = {}): Buffer {
    const parts: Buffer[] = [];
    for (const c of this.chunks(opts)) parts.push(c);
    return Buffer.concat(parts);
  }

  /** {@link readAll} decoded as UTF-8. */
  readText(opts: IterReadOptions = {}): string {
    return this.readAll(opts).toString('utf8');
  }

  /** Sync iterator over chunks until EOF (the fd stays open). */
  *chunks(opts: IterReadOptions = {}): Generator<Buffer, void, undefined> {
    const size = opts.chunkSize ?? DEFAULT_READ_SIZE;
    let retries = 0;
    for (;;) {
      let b: Buffer;
      try {
        b = this.read(size);
      } catch (e) {
        if (e instanceof BpfError && e.errno === 'EAGAIN' && retries < (opts.retryEagain ?? 0)) {
          retries++;
          continue;
        }
        throw e;
      }
      retries = 0;
      if (b.length === 0) return;
      yield b;
    }
  }

  /** Sync iterator over chunks. */
  [Symbol.iterator](): Generator<Buffer, void, undefined> {
    return this.chunks();
  }

  /** Async iterator over chunks (yields to the event loop between reads); closes the fd at the end or on break. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    try {
      for (const c of this.chunks()) {
        yield c;
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.closeQuietly();
    }
  }

  /** Lines (without `\n`) until EOF; a final partial line is yielded too. */
  *lines(opts: IterReadOptions = {}): Generator<string, void, undefined> {
    yield* splitLines(this.chunks(opts));
  }

  /** A Node `Readable` of the output; destroying/ending it closes the fd (once). *
 * @throws Through the stream's `error` event: the read's {@link @bpf-iter/core!BpfError}
 * (E2BIG for a record larger than the buffer, EAGAIN after a target's
 * restart, EBADF once closed...).
 *
 * @example
 * ```ts
 * link.open().toStream().pipe(process.stdout);
 * ```
 */
  toStream(opts: IterReadOptions & ReadableOptions = {}): Readable {
    const size = opts.chunkSize ?? DEFAULT_READ_SIZE;
    const it = this.chunks({ ...opts, chunkSize: size });
    const self = this;
    return new Readable({
      ...opts,
      read() {
        try {
          const r = it.next();
          this.push(r.done ? null : r.value);
        } catch (e) {
          this.destroy(e as Error);
        }
      },
      destroy(err, cb) {
        self.closeQuietly();
        cb(err);
      },
    });
  }

  /** `lseek()`: iterator fds have no llseek → ESPIPE. */
  lseek(_offset: number, _whence = 0): never {
    if (this.closed) fail('EBADF', 'iterator fd is closed');
    fail('ESPIPE', 'iterator fds are not seekable');
  }
  /** `pread()`: ESPIPE (reference §9 item 6: expected). */
  pread(_size: number, _offset: number): never {
    if (this.closed) fail('EBADF', 'iterator fd is closed');
    fail('ESPIPE', 'iterator fds are not seekable');
  }
  /** `write()`: the fd is O_RDONLY → EBADF. */
  write(_data: Uint8Array | string): never {
    fail('EBADF', 'iterator fd is not open for writing');
  }

  /** `close()`: releases the session. EBADF if already closed. */
  close(): void {
    if (this.closed) fail('EBADF', 'iterator fd is already closed');
    this.fdRelease();
  }
  /** Closes if still open. */
  closeQuietly(): void {
    if (!this.closed) this.close();
  }
  [Symbol.dispose](): void {
    this.closeQuietly();
  }
}

/**
 * An open iterator fd of the modelled kernel: one session. Holds a program
 * reference (not the link). Not seekable (ESPIPE), not writable (EBADF).
 */
export class IterFd extends IterFdBase implements FdObject {
  /** @internal created by `bpf_iter_create` / `BpfIterLink.open()` / bpffs open. */
  constructor(readonly seq: SeqFile) {
    super();
  }

  /** This session's id (`meta.session_id`). */
  get session_id(): bigint {
    return this.seq.session_id;
  }

  /**
   * The kernel's `read()` return value: bytes produced (left at
   * `seq.buf[seq.copyStart…]`) or a negative errno. Throws EBADF when
   * closed, EINVAL for a bad size.
   *
   * `size === 0` is passed through like the VFS does (no short-circuit in
   * `vfs_read`): by §2.2 it runs one object (and fetches the next), buffers
   * its output and returns 0 — reference §9 item 6, unconfirmed.
   */
  rawRead(size: number): number {
    if (this.closed) fail('EBADF', 'iterator fd is closed');
    return bpf_seq_read(this.seq, checkSize(size));
  }

  read(size: number = DEFAULT_READ_SIZE): Buffer {
    const n = this.rawRead(size);
    if (n < 0) throw errorFor(n, 'read from iterator fd failed');
    return Buffer.from(this.seq.buf!.subarray(this.seq.copyStart, this.seq.copyStart + n));
  }

  readInto(buf: Uint8Array, offset = 0, length = buf.length - offset): number {
    if (offset < 0 || length < 0 || offset + length > buf.length) fail('EFAULT', 'buffer range out of bounds');
    const n = this.rawRead(length);
    if (n < 0) throw errorFor(n, 'read from iterator fd failed');
    buf.set(this.seq.buf!.subarray(this.seq.copyStart, this.seq.copyStart + n), offset);
    return n;
  }

  /** `close()`: releases the target's private state and the program. EBADF if already closed. */
  override close(): void {
    if (this.closed) fail('EBADF', 'iterator fd is already closed');
    if (this.fd !== null && fdTable.lookup(this.fd) === this) {
      fdTable.close(this.fd); // calls fdRelease
      return;
    }
    this.fdRelease();
  }
  /** @internal */
  fdRelease(): void {
    if (this.closed) return;
    this.closed = true;
    this.fd = null;
    const seq = this.seq;
    seq.target.reg.seq_info.fini_seq_private?.(seq.private);
    seq.prog.put();
  }
}

/** Splits chunks into lines (UTF-8), yielding a trailing partial line. */
export function* splitLines(chunks: Iterable<Buffer>): Generator<string, void, undefined> {
  const dec = new StringDecoder('utf8');
  let rest = '';
  for (const c of chunks) {
    const s = rest + dec.write(c);
    const parts = s.split('\n');
    rest = parts.pop()!;
    for (const l of parts) yield l;
  }
  rest += dec.end();
  if (rest) yield rest;
}

/** Something that can start a session: a link, or a factory. */
export interface SessionSource {
  open(): IterFdBase;
}
