/**
 * The `task` target (kernel/bpf/task_iter.c): one program run per thread
 * visible in the reader's pid namespace, by ascending tid, or per thread of
 * one process (`pid`/`pid_fd`), or for one thread (`tid`).
 * ctx: `struct bpf_iter__task { meta; task }`.
 */
import { TaskWalker, type Task } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import { taskTargetReg } from './task_params.js';

/** ctx fields of `iter/task` programs. */
export interface BpfIterTaskCtx {
  /** NULL in the end call. */
  task: Task | null;
}

/** Registration of the `task` target. */
export const taskReg = taskTargetReg<Task>(
  'task',
  [{ offset: 8, field: 'task', reg_type: 'PTR_TO_BTF_ID_OR_NULL|PTR_TRUSTED', btf_type: 'task_struct' }],
  (kernel, spec) => new TaskWalker(kernel, spec),
  (task) => ({ task }),
  () => ({ task: null }),
);

/** The default dumper of `bpf-iter cat task`: one line per thread. */
export const dumpTask = SEC<BpfIterTaskCtx>('iter/task', function dump_task(ctx) {
  const seq = ctx.meta.seq;
  const task = ctx.task;
  if (task === null) return 0;
  if (ctx.meta.seq_num === 0n) BPF_SEQ_PRINTF(seq, '    tgid      pid S comm\n');
  BPF_SEQ_PRINTF(seq, '%8d %8d %c %s\n', task.tgid, task.pid, task.state.charCodeAt(0), task.comm);
  return 0;
});
