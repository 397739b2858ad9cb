/** Shared helpers of the CLI tests: in-process runs and (few) subprocess runs. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/cli.js';

/** The repo root (the CLI is spawned from there, like `pnpm bpf-iter`). */
export const ROOT = resolve(import.meta.dirname, '../../../..');
/** The CLI entry, run through tsx with the source condition. */
export const MAIN = 'packages/iter-programs/src/cli/main.ts';
/** The package's src/index.ts (what test program modules import). */
export const SRC_INDEX = resolve(import.meta.dirname, '../../src/index.ts');

/** What a run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** A fresh temp dir with its own state file path. */
export function tempState(): { dir: string; state: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-iter-cli-'));
  return { dir, state: join(dir, 'bpffs.json') };
}

/** Runs the CLI in this process with `BPF_ITER_STATE=state`. */
export async function cli(args: string[], state: string, cwd?: string): Promise<CliResult> {
  return cliEnv(args, { BPF_ITER_STATE: state }, cwd);
}

/** Runs the CLI in this process with exactly the environment `env`. */
export async function cliEnv(args: string[], env: Record<string, string | undefined>, cwd?: string): Promise<CliResult> {
  const stdout = new Collector();
  const stderr = new Collector();
  const code = await runCli(args, { stdout, stderr, env, ...(cwd ? { cwd } : {}) });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The argv that spawns the CLI from source: `node --import tsx --conditions=@bpf-iter/source main.ts ARGS`. */
export const cliArgv = (args: string[]): string[] => ['--import', 'tsx', '--conditions=@bpf-iter/source', MAIN, ...args];

/** Spawns the CLI (`node --import tsx --conditions=@bpf-iter/source main.ts ...`) from the repo root. */
export function spawnCli(args: string[], state: string, env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      cliArgv(args),
      { cwd: ROOT, env: { ...process.env, BPF_ITER_STATE: state, ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * Writes a program module (ESM: `.mts`, so a `.ts` outside an ESM package
 * does not load a second, CommonJS copy of the library) printing
 * `label tgid pid comm` per task, filtered by `bss.target_pid`.
 */
export function writeTaskProgram(dir: string): string {
  const file = join(dir, 'prog.mts');
  writeFileSync(
    file,
    `import { SEC, BPF_SEQ_PRINTF } from ${JSON.stringify(SRC_INDEX)};
export const bss = { target_pid: 0 };
export const data = { label: 'task' };
export const dump_tasks = SEC('iter/task', function dump_tasks(ctx, g) {
  const t = ctx.task;
  if (!t) return 0;
  if (g.bss.target_pid && t.tgid !== g.bss.target_pid) return 0;
  BPF_SEQ_PRINTF(ctx.meta.seq, '%s %d %d %s\\n', g.data.label, t.tgid, t.pid, t.comm);
  return 0;
});
export const other = SEC('iter/bpf_map', function other(ctx) {
  if (ctx.map) BPF_SEQ_PRINTF(ctx.meta.seq, 'map %u\\n', ctx.map.id);
  return 0;
});
`,
  );
  return file;
}

/** The single error line on stderr, checked to be one line. */
export function errLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  if (lines.length !== 1) throw new Error(`expected one stderr line, got: ${JSON.stringify(r.stderr)}`);
  return lines[0]!;
}
