import { closeSync, openSync, readFileSync, readlinkSync, readSync, readdirSync } from 'node:fs';

/**
 * Low-level /proc readers shared by the host source's parsers. They are
 * synchronous and reuse one buffer: a snapshot makes thousands of tiny
 * reads, and open+read+close with no Buffer churn is the cheapest way to
 * do them from Node (readFileSync also fstat()s and allocates per call).
 */

let buf = Buffer.allocUnsafe(1 << 16);

/** Reads a whole (pseudo) file into the shared buffer; returns its length. Throws the fs error (with `code`). */
function readAll(path: string): number {
  const fd = openSync(path, 'r');
  try {
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n <= 0) return len;
      len += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** readFileSync's options, one object for every call (a string option is copied into a new object per call). */
const UTF8 = { encoding: 'utf8', flag: 'r' } as const;

/** A char that UTF-8 decoding made of bytes >= 0x80. */
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A /proc file whose text is one seq_file record (`single_open`: a task's
 * `stat`, `status`) as latin1 text (a char per byte: a comm may hold any
 * byte). Read by `readFileSync(path, 'utf8')`, one call into Node's C++
 * (open, read to EOF, close: the host source reads one per thread), and
 * read again as latin1 in the rare case it holds a byte >= 0x80, which
 * UTF-8 decoding would change. Throws the fs error (with `code`).
 */
export function readSingle(path: string): string {
  const s = readFileSync(path, UTF8);
  return NON_ASCII.test(s) ? readText(path) : s;
}

/**
 * Reads a whole (pseudo) file as latin1 text: every byte one char, cheaper
 * than utf8 and lossless for the ASCII /proc formats (paths are decoded to
 * utf8 separately). Throws the fs error (with `code`) on failure.
 */
export function readText(path: string): string {
  const len = readAll(path);
  return buf.toString('latin1', 0, len);
}

/** Reads a file as UTF-8 (for text carrying paths). */
export function readUtf8(path: string): string {
  const len = readAll(path);
  return buf.toString('utf8', 0, len);
}

/** `readlink(2)`. */
export function readLink(path: string): string {
  return readlinkSync(path);
}

/** Directory entries in the order the kernel returns them (not sorted). */
export function listDir(path: string): string[] {
  return readdirSync(path);
}

/** The errno name of a thrown fs error, or 'EIO' for anything else. */
export function errCode(e: unknown): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : 'EIO';
}

/** True for errors meaning "the task (or fd) is gone": ENOENT, ESRCH. */
export function isGone(e: unknown): boolean {
  const c = errCode(e);
  return c === 'ENOENT' || c === 'ESRCH';
}
