/**
 * The `task` target (kernel/bpf/task_iter.c): one program run per thread
 * visible in the reader's pid namespace, by ascending tid, or per thread of
 * one process (`pid`/`pid_fd`), or for one thread (`tid`).
 * ctx: `struct bpf_iter__task { meta; task }`.
 */
import { TaskWalker, type Kernel, type Task } from '@bpf-iter/core';
import { BPF_ITER_RESCHED } from '../constants.js';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import type { BpfIterReg } from '../registry.js';
import { attachTask, fillTaskLinkInfo, sessionKernel, sessionPidNs, showTaskFdinfo, taskSpec, walkerSeqOps } from './common.js';

/** ctx fields of `iter/task` programs. */
export interface BpfIterTaskCtx {
  /** NULL in the end call. */
  task: Task | null;
}

interface TaskPriv {
  kernel: Kernel | null;
  walker: TaskWalker | null;
}

/** Registration of the `task` target. */
export const taskReg: BpfIterReg<Task, TaskPriv> = {
  target: 'task',
  attach_target: (_prog, linfo, aux) => attachTask(linfo, aux),
  show_fdinfo: showTaskFdinfo,
  fill_link_info: fillTaskLinkInfo,
  ctx_arg_info: [{ offset: 8, field: 'task', reg_type: 'PTR_TO_BTF_ID_OR_NULL|PTR_TRUSTED', btf_type: 'task_struct' }],
  feature: BPF_ITER_RESCHED,
  seq_info: {
    seq_priv: () => ({ kernel: null, walker: null }),
    init_seq_private(priv, aux) {
      const kernel = sessionKernel(aux);
      priv.kernel = kernel;
      priv.walker = new TaskWalker(kernel, taskSpec(aux, sessionPidNs(kernel)));
    },
    fini_seq_private: (priv) => priv.walker?.stop(),
    seq_ops: walkerSeqOps((task) => ({ task }), () => ({ task: null })),
  },
};

/** The default dumper of `bpf-iter cat task`: one line per thread. */
export const dumpTask = SEC<BpfIterTaskCtx>('iter/task', function dump_task(ctx) {
  const seq = ctx.meta.seq;
  const task = ctx.task;
  if (task === null) return 0;
  if (ctx.meta.seq_num === 0n) BPF_SEQ_PRINTF(seq, '    tgid      pid S comm\n');
  BPF_SEQ_PRINTF(seq, '%8d %8d %c %s\n', task.tgid, task.pid, task.state.charCodeAt(0), task.comm);
  return 0;
});
