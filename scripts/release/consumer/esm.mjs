// ESM consumer of the installed tarballs: every entry, one instance shared with require().
import { createRequire } from 'node:module';
import * as core from '@bpf-iter/core';
import * as kfuncs from '@bpf-iter/iter-kfuncs';
import { fromIter } from '@bpf-iter/iter-kfuncs/rx';
import { checkIterContract } from '@bpf-iter/iter-kfuncs/testing';
import * as programs from '@bpf-iter/iter-programs';
import { iterLines$ } from '@bpf-iter/iter-programs/rx';
import { sampleLine } from '@bpf-iter/metrics';
import fc from 'fast-check';
import { firstValueFrom, toArray } from 'rxjs';

const { bpfForEach, iterNum, iterTask, BPF_TASK_ITER_ALL_PROCS } = kfuncs;
const require = createRequire(import.meta.url);
const cjsCore = require('@bpf-iter/core');
checkIterContract(iterNum, fc.tuple(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -5, max: 5 })), { fc: { numRuns: 20 } });
const link = programs.attachIter(programs.loadProgram(programs.dumpTaskFile));
const out = {
  sameBpfError: cjsCore.BpfError === core.BpfError,
  sameKernel: cjsCore.defaultKernel() === core.defaultKernel(),
  sameLoop: require('@bpf-iter/iter-kfuncs').bpfForEach === bpfForEach,
  sameRx: require('@bpf-iter/iter-kfuncs/rx').fromIter === fromIter,
  procs: [...bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS)].map((t) => t.pid),
  rx: await firstValueFrom(fromIter(iterNum, 0, 5).pipe(toArray())),
  seq: link.open().readAll().toString(),
  seqRx: (await firstValueFrom(iterLines$(link).pipe(toArray()))).length,
  sample: sampleLine('x', { a: 1 }, 2),
  internalsHidden: !('runProg' in programs) && !('walkerSeqOps' in programs) && !('taskSeqGetNext' in core) && !('fromIter' in kfuncs),
};
link.destroy();
console.log(JSON.stringify(out));
