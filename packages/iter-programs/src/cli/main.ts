/**
 * The `bpf-iter` bin, modelled on bpftool: `targets`, `cat`, `run`, `pin`,
 * `rm`, `mkdir`, `link show`. See `cli.ts`.
 * (No shebang here: tsup adds it to dist/cli/main.js.)
 */
import { runCli } from './cli.js';

// `bpf-iter cat ... | head`: the reader went away; stop quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`bpf-iter: Error: ${e.code ?? 'EIO'}: ${e.message}\n`);
  process.exit(1);
});

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
