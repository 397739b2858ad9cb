/**
 * Where a command writes and how an iterator fd reaches it: read to EOF in
 * 64 KiB chunks, each written as it comes (backpressure kept). Apart from
 * `common.ts` so the in-kernel dumper path (`kernel_text.ts`) streams
 * without loading the model.
 */
import { fstatSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import type { IterFdBase } from '../iter_fd.js';
import { dumpProgress } from './progress.js';
import { isTerminalFd, S_IFCHR, S_IFMT } from './terminal.js';

/** Where a command writes; `process.stdout`/`stderr` in the bin, collectors in tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Environment (for `BPF_ITER_STATE`); defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Directory the default state file is relative to; defaults to `process.cwd()`. */
  cwd?: string;
  /**
   * The file descriptors behind {@link stdout} and {@link stderr} when they
   * are the process's own (the bin) and nothing was written through the
   * stream yet: a dump to a file or pipe is written with `write(2)` on the
   * fd, and a terminal is told by the fd, without creating the Node streams
   * (their modules cost milliseconds to load).
   */
  fds?: { stdout?: number | undefined; stderr?: number | undefined };
}

/** Bytes per `read()` of the iterator fd (64 KiB, like a `cat` buffer). */
export const CHUNK = 64 * 1024;

/** Writes `s` and waits for `drain` when the stream buffers (backpressure). */
export async function out(io: CliIo, s: string | Uint8Array): Promise<void> {
  if (!io.stdout.write(s)) await once(io.stdout, 'drain');
}

/**
 * Thrown by {@link streamIter} when the reader of stdout went away (EPIPE,
 * `bpf-iter cat ... | head`): the command stops quietly with exit 0, as
 * `cat` does.
 */
export class StdoutClosedError extends Error {
  override readonly name = 'StdoutClosedError';
  constructor() {
    super('EPIPE: stdout closed by its reader');
  }
}

/** A regular file, a FIFO (pipe) and a character device: fds a blocking write(2) writes whole. */
const DIRECT = new Set([0o100000, 0o010000, S_IFCHR]);

/**
 * `io.fds.stdout` when the dump can go there by `write(2)`: a regular file,
 * a pipe or a character device other than a terminal (the Node stream of a
 * terminal or socket keeps its own handling).
 */
function directFd(io: CliIo): number | null {
  const fd = io.fds?.stdout;
  if (fd === undefined) return null;
  let mode: number;
  try {
    mode = fstatSync(fd).mode & S_IFMT;
  } catch {
    return null;
  }
  if (!DIRECT.has(mode)) return null;
  return mode === S_IFCHR && isTerminalFd(fd) ? null : fd;
}

/**
 * Writes `buf[0..n)` to `fd` whole; false when the fd is non-blocking and
 * full (EAGAIN): the caller writes the rest through the stream. EPIPE is
 * {@link StdoutClosedError}.
 */
function writeAll(fd: number, buf: Buffer, n: number): number {
  let off = 0;
  while (off < n) {
    try {
      off += writeSync(fd, buf, off, n - off);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EAGAIN') return off;
      if (code === 'EPIPE') throw new StdoutClosedError();
      throw e;
    }
  }
  return off;
}

/**
 * Reads the iterator fd to EOF in 64 KiB chunks, writing each chunk as it
 * comes: the output is never buffered whole. Closes the fd. The bin's
 * stdout, when a file or a pipe, is written with `write(2)` on its fd
 * (no stream: one buffer reused); anything else through `io.stdout`.
 */
export async function streamIter(io: CliIo, fd: IterFdBase): Promise<void> {
  const progress = dumpProgress(io);
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    let direct = directFd(io);
    for (;;) {
      const n = fd.readInto(buf, 0, CHUNK);
      if (n === 0) return;
      progress.add(n);
      let from = 0;
      if (direct !== null) {
        from = writeAll(direct, buf, n);
        if (from === n) continue;
        // A non-blocking fd that is full: the stream (which waits for it) takes the rest.
        direct = null;
      }
      const ok = io.stdout.write(buf.subarray(from, n));
      // The process's stdout (a file, pipe or terminal) is done with a chunk once it holds no
      // bytes: the buffer is reused, no fresh pages to fault in per read. Any other stream may
      // keep the chunk (a Transform pushes it on), and a write in flight does: a new buffer.
      if (io.stdout !== process.stdout || process.stdout.writableLength !== 0) buf = Buffer.allocUnsafe(CHUNK);
      if (!ok) await once(io.stdout, 'drain');
    }
  } finally {
    progress.done();
    fd.closeQuietly();
  }
}
