// TypeScript ESM consumer: the shipped types, checked with tsc --noEmit (no skipLibCheck).
import { BpfError, defaultKernel, type ErrnoName, type Kernel, type Task } from '@bpf-iter/core';
import { BPF_TASK_ITER_ALL_PROCS, bpfForEach, iterNum, iterTask } from '@bpf-iter/iter-kfuncs';
import { fromIter } from '@bpf-iter/iter-kfuncs/rx';
import { checkIterContract } from '@bpf-iter/iter-kfuncs/testing';
import { attachIter, dumpTaskFile, libbpf, loadProgram, type BpfIterLink } from '@bpf-iter/iter-programs';
import { iterLines$ } from '@bpf-iter/iter-programs/rx';
import { sampleLine } from '@bpf-iter/metrics';
import fc from 'fast-check';
import type { Observable } from 'rxjs';
// @ts-expect-error internals are not on the public entry
import { runProg } from '@bpf-iter/iter-programs';

const kernel: Kernel = defaultKernel();
const tasks: Task[] = [...bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS)];
const nums: Observable<number> = fromIter(iterNum, 0, 3);
checkIterContract(iterNum, fc.tuple(fc.integer(), fc.integer()));
const link: BpfIterLink = attachIter(loadProgram(dumpTaskFile));
const lines: Observable<string> = iterLines$(link);
const text: string = link.open().readAll().toString();
const pid: number = libbpf.getpid();
const err = new BpfError('EINVAL', 'bad');
const name: ErrnoName = err.errno;
export { kernel, tasks, nums, lines, text, pid, name, runProg, sampleLine };
