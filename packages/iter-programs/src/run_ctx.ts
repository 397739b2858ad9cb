/**
 * The "current program" of the modelled CPU: set by `bpf_iter_run_prog`
 * around each program run (like `bpf_prog_run` under `migrate_disable`),
 * so helpers can check availability and nesting.
 */
import type { BpfProg } from './program.js';
import type { SeqFile } from './seq_file.js';

/** One active program run. */
export interface RunCtx {
  readonly prog: BpfProg;
  readonly seq: SeqFile;
  readonly prev: RunCtx | null;
}

let current: RunCtx | null = null;
/** Depth of nested `bpf_seq_printf` scratch use (`bpf_bprintf_nest_level`). */
export const bprintfNest = { level: 0 };

/** The innermost running program, or null. */
export function currentRun(): RunCtx | null {
  return current;
}
/** @internal */
export function enterRun(prog: BpfProg, seq: SeqFile): RunCtx {
  current = { prog, seq, prev: current };
  return current;
}
/** @internal */
export function leaveRun(r: RunCtx): void {
  current = r.prev;
}
