/**
 * The `bpf-iter` bin, modelled on bpftool: `targets`, `cat`, `run`, `pin`,
 * `iter pin`, `rm`, `mkdir`, `link show`, `prog show`, `map show`, `version`. See `cli.ts`.
 */
import { installExitHandlers, processIo } from './exit.js';
import { runCli } from './cli.js';

installExitHandlers();

// No top-level await: the bin is a CommonJS bundle (scripts/build-bin.mjs).
void runCli(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
