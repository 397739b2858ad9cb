import { readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { errCode } from './read.js';

/**
 * `readlink(2)` of many paths on several threads at once, for the
 * `/proc/PID/fd/N` links of an fd snapshot (one syscall per fd, most of a
 * snapshot's time).
 *
 * Not `fs.promises`: the threadpool's per-request overhead (queueing,
 * wake-ups, one promise per link) makes 100k readlinks 1.5-4x slower than
 * a plain `readlinkSync` loop, on any concurrency. Instead this thread and
 * `readers - 1` worker threads run the synchronous loop side by side,
 * claiming chunks of the list from a shared counter, so the load balances
 * itself and a slow or failed worker only leaves chunks this thread fills.
 */

/**
 * A readlink that failed: the errno name as `code`, like a thrown fs error
 * (not an `Error`: refused tables, such as init's, fail by the hundred and
 * stack traces cost more than the reads).
 */
export class LinkReadError {
  constructor(
    readonly code: string,
    readonly path: string,
  ) {}
}

/** Paths claimed per step: large enough to keep messages few, small enough to balance the threads. */
const CHUNK = 1024;

// CommonJS run with `eval`: no module to resolve, so it works from the sources and the build alike.
const WORKER_CODE = `
const { workerData, parentPort } = require('node:worker_threads');
const { readlinkSync } = require('node:fs');
const { text, next, chunk } = workerData;
const paths = text.split('\\0');
for (;;) {
  const start = Atomics.add(next, 0, chunk);
  if (start >= paths.length) break;
  const end = Math.min(paths.length, start + chunk);
  const links = [];
  const errs = [];
  for (let i = start; i < end; i++) {
    try {
      links.push(readlinkSync(paths[i]));
    } catch (e) {
      links.push('');
      errs.push(i, typeof (e && e.code) === 'string' ? e.code : 'EIO');
    }
  }
  // One string per chunk: far cheaper to pass between threads than an array of strings.
  parentPort.postMessage({ start, text: links.join('\\0'), errs });
}
`;

function readOne(path: string): string | LinkReadError {
  try {
    return readlinkSync(path);
  } catch (e) {
    return new LinkReadError(errCode(e), path);
  }
}

/**
 * Reads the link of every path, on `readers` threads (this one included;
 * with 1, or fewer than two chunks of paths, only this one). Never
 * rejects: a failed read is a {@link LinkReadError} at its index.
 */
export async function readLinksParallel(paths: readonly string[], readers: number): Promise<(string | LinkReadError)[]> {
  const n = paths.length;
  const out: (string | LinkReadError | undefined)[] = new Array(n);
  const next = new Int32Array(new SharedArrayBuffer(4));
  const done: Promise<void>[] = [];
  const workers = Math.min(Math.max(0, Math.floor(readers) - 1), Math.floor(n / CHUNK) - 1);
  if (workers > 0) {
    // Link targets never contain NUL or are empty: NUL joins the paths, '' marks a failure.
    const text = paths.join('\0');
    for (let k = 0; k < workers; k++) {
      let w: Worker;
      try {
        w = new Worker(WORKER_CODE, { eval: true, workerData: { text, next, chunk: CHUNK } });
      } catch {
        break; // no worker threads here: this thread reads everything
      }
      done.push(
        new Promise<void>((resolve) => {
          w.on('message', (m: { start: number; text: string; errs: (number | string)[] }) => {
            const links = m.text.split('\0');
            for (let i = 0; i < links.length; i++) out[m.start + i] = links[i];
            for (let i = 0; i < m.errs.length; i += 2) {
              const at = m.errs[i] as number;
              out[at] = new LinkReadError(m.errs[i + 1] as string, paths[at]!);
            }
          });
          // A crashed worker's unfinished chunks are read below.
          w.on('error', () => {});
          w.once('exit', () => resolve());
        }),
      );
    }
  }
  // This thread claims chunks too, while the workers start and run.
  for (;;) {
    const start = Atomics.add(next, 0, CHUNK);
    if (start >= n) break;
    const end = Math.min(n, start + CHUNK);
    for (let i = start; i < end; i++) out[i] = readOne(paths[i]!);
  }
  await Promise.all(done);
  for (let i = 0; i < n; i++) if (out[i] === undefined) out[i] = readOne(paths[i]!);
  return out as (string | LinkReadError)[];
}
