/**
 * How the `bpf-iter` process ends: one error line for anything thrown or
 * rejected, quiet on EPIPE, and exit 128+signal on SIGINT/SIGTERM/SIGHUP
 * (no error line; the kernel drops the links and programs of the process,
 * and a writer's state lock is released by proper-lockfile's exit hook).
 * Free of imports: `main.ts` installs it before loading the commands.
 */
import type { CliIo } from './stream.js';

/**
 * A name as the CLI prints it: control characters and backslash escaped C
 * style (`\n`, `\t`, `\x1b`, `\\`, like `ls -b`), so a name can never
 * break a line or drive the terminal.
 */
export function escapeText(s: string): string {
  return s.replace(/[\x00-\x1f\x7f\\]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0');
  });
}

/** One line for stderr: `bpf-iter: Error: <ERRNO>: <message>`, names in it escaped ({@link escapeText}). */
export function errorLine(e: unknown): string {
  let msg: string;
  // Our own errors (BpfError: `ERRNO: message`) are one line once names are escaped.
  if (e instanceof Error && e.name === 'BpfError') return `bpf-iter: Error: ${escapeText(e.message)}`;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') msg = `ENOENT: ${e.message}`;
    // Node 20 runs no TypeScript by itself: say how to run a .ts/.mts program module.
    else if (code === 'ERR_UNKNOWN_FILE_EXTENSION') msg = `EINVAL: ${e.message} (TypeScript program modules need a loader: NODE_OPTIONS='--import tsx' bpf-iter ..., with tsx installed; or compile the module to .js/.mjs)`;
    else if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && !e.message.startsWith(code)) msg = `${code}: ${e.message}`;
    else if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) msg = e.message;
    else msg = `EINVAL: ${e.message}`;
  } else msg = `EINVAL: ${String(e)}`;
  // A foreign error's first line is its message; the rest (a stack, a tool's output) stays out.
  return `bpf-iter: Error: ${escapeText(msg.split('\n')[0]!)}`;
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/**
 * 128+signal when `e` is a child process killed by SIGINT/SIGTERM/SIGHUP
 * (Ctrl-C reaches the whole process group: a child such as the first
 * run's BPF build dies with the CLI),
 * else undefined.
 */
export function interruptedBy(e: unknown): number | undefined {
  for (let x = e as { signal?: unknown; cause?: unknown } | undefined, i = 0; x && typeof x === 'object' && i < 4; x = x.cause as typeof x, i++) {
    const n = SIGNALS[x.signal as keyof typeof SIGNALS];
    if (n !== undefined) return 128 + n;
  }
  return undefined;
}

/**
 * Installs the process-wide handlers of the bin: an uncaught exception or
 * unhandled rejection (a program module's stray promise) is one error line
 * and exit 1; SIGINT, SIGTERM and SIGHUP exit 128+signal. Stdout's errors
 * are {@link processIo}'s.
 */
export function installExitHandlers(): void {
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  for (const [sig, n] of Object.entries(SIGNALS)) {
    process.on(sig, () => process.exit(128 + n));
  }
}

function die(e: unknown): never {
  process.stderr.write(errorLine(e) + '\n');
  process.exit(1);
}

/**
 * The bin's stdout and stderr: `process.stdout`/`stderr`, created on first
 * use (a dump to a file or pipe writes fd 1 directly and never creates
 * them, nor loads the stream modules), with their fds in `fds` until the
 * stream is used (from then on it writes stdout, keeping the order). A
 * stdout error is one line, EPIPE a quiet exit 0 (`bpf-iter cat ... | head`:
 * the reader went away).
 */
export function processIo(): CliIo {
  const fds: NonNullable<CliIo['fds']> = { stdout: 1, stderr: 2 };
  let stdout: NodeJS.WriteStream | undefined;
  return {
    fds,
    get stdout() {
      if (!stdout) {
        stdout = process.stdout;
        fds.stdout = undefined;
        stdout.on('error', (e: NodeJS.ErrnoException) => {
          if (e.code === 'EPIPE') process.exit(0);
          die(e);
        });
      }
      return stdout;
    },
    get stderr() {
      return process.stderr;
    },
  };
}
