// CommonJS consumer of the installed tarballs: require() of every entry, the same instances as import().
const core = require('@bpf-iter/core');
const { bpfForEach, iterTask, BPF_TASK_ITER_ALL_PROCS } = require('@bpf-iter/iter-kfuncs');
const { fromIter } = require('@bpf-iter/iter-kfuncs/rx');
const { attachIter, dumpTaskFile, loadProgram } = require('@bpf-iter/iter-programs');
require('@bpf-iter/iter-programs/rx');
require('@bpf-iter/iter-kfuncs/testing');
require('@bpf-iter/metrics');

(async () => {
  const esm = await import('@bpf-iter/core');
  const link = attachIter(loadProgram(dumpTaskFile));
  const out = {
    sameBpfError: esm.BpfError === core.BpfError,
    sameKernel: esm.defaultKernel() === core.defaultKernel(),
    procs: [...bpfForEach(iterTask, null, BPF_TASK_ITER_ALL_PROCS)].map((t) => t.pid),
    observable: typeof fromIter(iterTask, null, BPF_TASK_ITER_ALL_PROCS).subscribe,
    seq: link.open().readAll().toString(),
    errno: (() => {
      try {
        core.fail('E2BIG', 'too big');
      } catch (e) {
        return e instanceof core.BpfError ? e.errno : 'not a BpfError';
      }
    })(),
  };
  link.destroy();
  console.log(JSON.stringify(out));
})();
