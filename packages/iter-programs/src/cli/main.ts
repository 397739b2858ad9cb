/**
 * The `bpf-iter` bin, modelled on bpftool: `targets`, `cat`, `run`, `pin`,
 * `iter pin`, `rm`, `mkdir`, `link show`, `prog show`, `map show`, `version`. See `cli.ts`.
 * (No shebang here: tsup adds it to dist/cli/main.js.)
 */
import { installExitHandlers } from './exit.js';
import { runCli } from './cli.js';

installExitHandlers();

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
