// TypeScript CommonJS consumer (.cts): require-condition types (.d.cts).
import core = require('@bpf-iter/core');
import kfuncs = require('@bpf-iter/iter-kfuncs');
import rx = require('@bpf-iter/iter-kfuncs/rx');
import programs = require('@bpf-iter/iter-programs');
import metrics = require('@bpf-iter/metrics');

const tasks: core.Task[] = [...kfuncs.bpfForEach(kfuncs.iterTask, null, kfuncs.BPF_TASK_ITER_ALL_PROCS)];
const obs = rx.fromIter(kfuncs.iterNum, 0, 3);
const link: programs.BpfIterLink = programs.attachIter(programs.loadProgram(programs.dumpTaskFile));
const e: core.BpfError = new core.BpfError('ENOENT', 'none');
export = { tasks, obs, link, e, line: metrics.sampleLine };
