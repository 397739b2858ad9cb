/**
 * Where a command writes and how an iterator fd reaches it: read to EOF in
 * 64 KiB chunks, each written as it comes (backpressure kept). Apart from
 * `common.ts` so the in-kernel dumper path (`kernel_text.ts`) streams
 * without loading the model.
 */
import { once } from 'node:events';
import type { IterFdBase } from '../iter_fd.js';
import { dumpProgress } from './progress.js';

/** Where a command writes; `process.stdout`/`stderr` in the bin, collectors in tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Environment (for `BPF_ITER_STATE`); defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Directory the default state file is relative to; defaults to `process.cwd()`. */
  cwd?: string;
}

/** Bytes per `read()` of the iterator fd (64 KiB, like a `cat` buffer). */
export const CHUNK = 64 * 1024;

/** Writes `s` and waits for `drain` when the stream buffers (backpressure). */
export async function out(io: CliIo, s: string | Uint8Array): Promise<void> {
  if (!io.stdout.write(s)) await once(io.stdout, 'drain');
}

/**
 * Reads the iterator fd to EOF in 64 KiB chunks, writing each chunk as it
 * comes: the output is never buffered whole. Closes the fd.
 */
export async function streamIter(io: CliIo, fd: IterFdBase): Promise<void> {
  const progress = dumpProgress(io);
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fd.readInto(buf, 0, CHUNK);
      if (n === 0) return;
      progress.add(n);
      const ok = io.stdout.write(buf.subarray(0, n));
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
