/**
 * The examples' main-module check, shared so that each behaves like the
 * `bpf-iter` bin when run as a script: `pnpm example examples/x.ts | head`
 * ends quietly (exit 0) when the reader goes away, instead of an unhandled
 * EPIPE error. Imported by tests, the examples do nothing to the process.
 */
import { pathToFileURL } from 'node:url';

/**
 * True when `url` (the caller's `import.meta.url`) is the script Node was
 * started with; it then installs the quiet-EPIPE handler on stdout once.
 *
 * @example
 * if (isMain(import.meta.url)) main();
 */
export function isMain(url: string): boolean {
  if (!process.argv[1] || url !== pathToFileURL(process.argv[1]).href) return false;
  quietOnEpipe();
  return true;
}

let installed = false;

/** A closed stdout (`| head`) exits 0, as `bpf-iter cat ... | head` does; any other stdout error is thrown. */
export function quietOnEpipe(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}
