/**
 * Progress on stderr for long work (cli-progress), shown only when stderr
 * is a terminal: reading a live kernel (`--kernel host|bpf`; the first BPF
 * run also builds the programs) and long dumps to a file or pipe. Nothing
 * is written to a pipe, a log or a test's collector.
 */
import { createRequire } from 'node:module';
import type { CliIo } from './stream.js';
import { isTerminal } from './terminal.js';

type CliProgress = typeof import('cli-progress');
let cliProgress: CliProgress | null = null;

/** cli-progress (and readline under it), loaded when a bar is first shown: most runs show none. */
function progressLib(): CliProgress {
  return (cliProgress ??= createRequire(typeof __filename !== 'undefined' ? __filename : import.meta.url)('cli-progress') as CliProgress);
}


function bar(io: CliIo, format: string): InstanceType<CliProgress['SingleBar']> {
  const lib = progressLib();
  return new lib.SingleBar({ stream: io.stderr, format: `bpf-iter: ${format}`, clearOnComplete: true, hideCursor: false, gracefulExit: false }, lib.Presets.legacy);
}

/** Runs `fn` with a status line `bpf-iter: TEXT` on a terminal stderr, cleared when `fn` ends. */
export function withStatus<T>(io: CliIo, text: string, fn: () => T): T {
  if (!isTerminal(io, 'stderr')) return fn();
  const b = bar(io, text);
  b.start(1, 0);
  try {
    return fn();
  } finally {
    b.stop();
  }
}

/** After this long a dump shows how much it has written. */
const DUMP_PROGRESS_AFTER_MS = 1000;

/**
 * Counts the bytes of a dump and, once it has run a second, shows them on
 * a terminal stderr — only when stdout is not that terminal (a file or a
 * pipe), so the counter never mixes with the output. Call `done()` at the end.
 */
export function dumpProgress(io: CliIo): { add(bytes: number): void; done(): void } {
  if (!isTerminal(io, 'stderr') || isTerminal(io, 'stdout')) return { add() {}, done() {} };
  const start = Date.now();
  let total = 0;
  let b: ReturnType<typeof bar> | null = null;
  return {
    add(bytes: number) {
      total += bytes;
      const mib = (total / (1 << 20)).toFixed(1);
      if (!b && Date.now() - start >= DUMP_PROGRESS_AFTER_MS) {
        b = bar(io, 'dumping, {mib} MiB written');
        b.start(1, 0, { mib });
      } else b?.update(0, { mib });
    },
    done() {
      b?.stop();
    },
  };
}
