/**
 * The "current program" of the modelled CPU: set by `bpf_iter_run_prog`
 * around each program run (like `bpf_prog_run` under `migrate_disable`),
 * so helpers can check availability.
 */
import { readFileSync } from 'node:fs';
import { currentKernel, type Kernel } from '@bpf-iter/core';
import type { BpfProgFd } from './program.js';
import type { SeqFile } from './seq_file.js';

/** One active program run. */
export interface RunCtx {
  readonly prog: BpfProgFd;
  readonly seq: SeqFile;
}

let curProg: BpfProgFd | null = null;
let curSeq: SeqFile | null = null;

/** The innermost running program and its seq file, or null. */
export function currentRun(): RunCtx | null {
  return curProg && curSeq ? { prog: curProg, seq: curSeq } : null;
}
/** The innermost running program, or null (allocation-free). */
export function currentProg(): BpfProgFd | null {
  return curProg;
}
/** @internal sets the running program; returns the previous one for {@link leaveRun}. */
export function enterRun(prog: BpfProgFd, seq: SeqFile): BpfProgFd | null {
  const prev = curProg;
  curProg = prog;
  curSeq = seq;
  return prev;
}
/** @internal restores the previous program (seq of nested runs is not tracked). */
export function leaveRun(prev: BpfProgFd | null, prevSeq: SeqFile | null = null): void {
  curProg = prev;
  curSeq = prevSeq;
}
/** @internal */
export function currentSeq(): SeqFile | null {
  return curSeq;
}

/** The kernel the running session iterates (the link's), else the ambient one: what helpers act on. */
export function runKernel(): Kernel {
  return curSeq?.aux.kernel ?? currentKernel();
}

/**
 * The CPU the running program is on: on a host (or bpf) model the CPU this
 * thread runs on now (`/proc/thread-self/stat` field 39), else the model's
 * `currentCpu`. Per-CPU map helpers use its copy.
 */
export function runCpu(): number {
  const k = runKernel();
  if (k.source === 'host' || k.source === 'bpf') {
    try {
      const stat = readFileSync('/proc/thread-self/stat', 'latin1');
      const cpu = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[36]);
      if (Number.isInteger(cpu) && cpu >= 0 && cpu < k.nrCpus) return cpu;
    } catch {
      // no procfs: the model's CPU
    }
  }
  return k.currentCpu;
}
