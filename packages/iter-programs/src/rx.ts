/**
 * `@bpf-iter/iter-programs/rx`: RxJS views of iterator fds. Apart from
 * `iter_fd.ts` so that what reads an iterator without RxJS (the CLI) does not
 * load it; `rxjs` (7.x) is a peer dependency, needed by this entry only.
 *
 * @packageDocumentation
 */
import { StringDecoder } from 'node:string_decoder';
import { Observable } from 'rxjs';
import type { IterFdBase, IterReadOptions, SessionSource } from './iter_fd.js';

/**
 * An Observable of an iterator's output chunks. Every subscription opens a
 * fresh session (new `session_id`) and closes it exactly once — at EOF, on
 * error, or on unsubscribe. Chunks are emitted in batches, yielding to the
 * event loop between batches.
 *
 * @throws Never at call time; a read error (E2BIG, EAGAIN...) is the error notification.
 *
 * @example
 * ```ts
 * import { iterObservable } from '@bpf-iter/iter-programs/rx';
 * iterObservable(link).subscribe((chunk) => process.stdout.write(chunk));
 * ```
 */
export function iterObservable(src: SessionSource | (() => IterFdBase), opts: IterReadOptions & { batch?: number } = {}): Observable<Buffer> {
  return new Observable<Buffer>((sub) => {
    const fd = typeof src === 'function' ? src() : src.open();
    const it = fd.chunks(opts);
    let timer: NodeJS.Immediate | null = null;
    const pump = () => {
      timer = null;
      try {
        for (let i = 0; i < (opts.batch ?? 16); i++) {
          if (sub.closed) return;
          const r = it.next();
          if (r.done) {
            fd.closeQuietly();
            sub.complete();
            return;
          }
          sub.next(r.value);
        }
        if (!sub.closed) timer = setImmediate(pump);
      } catch (e) {
        fd.closeQuietly();
        sub.error(e);
      }
    };
    pump();
    return () => {
      if (timer) clearImmediate(timer);
      fd.closeQuietly();
    };
  });
}

/** An Observable of an iterator's output lines (see {@link iterObservable}). */
export function iterLines$(src: SessionSource | (() => IterFdBase), opts: IterReadOptions & { batch?: number } = {}): Observable<string> {
  return new Observable<string>((sub) => {
    const dec = new StringDecoder('utf8');
    let rest = '';
    const s = iterObservable(src, opts).subscribe({
      next(c) {
        const parts = (rest + dec.write(c)).split('\n');
        rest = parts.pop()!;
        for (const l of parts) {
          if (sub.closed) return;
          sub.next(l);
        }
      },
      error: (e) => sub.error(e),
      complete() {
        rest += dec.end();
        if (rest) sub.next(rest);
        sub.complete();
      },
    });
    return () => s.unsubscribe();
  });
}
