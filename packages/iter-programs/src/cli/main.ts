/**
 * The `bpf-iter` bin, modelled on bpftool: `targets`, `cat`, `run`, `pin`,
 * `iter pin`, `rm`, `mkdir`, `link show`, `prog show`, `map show`, `version`. See `cli.ts`.
 */
import { installExitHandlers, processIo } from './exit.js';
import { runCliWhole } from './cli.js';

installExitHandlers();

// No top-level await: the bin is a CommonJS bundle (scripts/build-bin.mjs).
// A one-shot command (cli.ts's CliRun.exitNow) exits at once: no wait for the event loop, no heap
// teardown (cat task --kernel host: ~10 ms CPU); the 'exit' handlers (the code cache) still run.
void runCliWhole(process.argv.slice(2), processIo()).then((r) => {
  if (r.exitNow) process.exit(r.code);
  process.exitCode = r.code;
});
