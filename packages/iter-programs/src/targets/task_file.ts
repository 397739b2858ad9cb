/**
 * The `task_file` target: every open file of every selected task, by fd.
 * ctx: `struct bpf_iter__task_file { meta; task; u32 fd; file }`.
 */
import { TaskFileWalker, type KFile, type Task, type TaskFile } from '@bpf-iter/core';
import { BPF_ITER_RESCHED } from '../constants.js';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import type { BpfIterReg } from '../registry.js';
import { attachTask, fillTaskLinkInfo, sessionKernel, sessionPidNs, showTaskFdinfo, taskSpec, walkerSeqOps } from './common.js';

/** ctx fields of `iter/task_file` programs. */
export interface BpfIterTaskFileCtx {
  task: Task | null;
  fd: number;
  file: KFile | null;
}

interface TaskFilePriv {
  walker: TaskFileWalker | null;
}

/** Registration of the `task_file` target. */
export const taskFileReg: BpfIterReg<TaskFile, TaskFilePriv> = {
  target: 'task_file',
  attach_target: (_prog, linfo, aux) => attachTask(linfo, aux),
  show_fdinfo: showTaskFdinfo,
  fill_link_info: fillTaskLinkInfo,
  ctx_arg_info: [
    { offset: 8, field: 'task', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'task_struct' },
    { offset: 24, field: 'file', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'file' },
  ],
  feature: BPF_ITER_RESCHED,
  seq_info: {
    seq_priv: () => ({ walker: null }),
    init_seq_private(priv, aux) {
      const kernel = sessionKernel(aux);
      priv.walker = new TaskFileWalker(kernel, taskSpec(aux, sessionPidNs(kernel)));
    },
    fini_seq_private: (priv) => priv.walker?.stop(),
    seq_ops: walkerSeqOps((e) => ({ task: e.task, fd: e.fd, file: e.file }), () => ({ task: null, fd: 0, file: null })),
  },
};

/** The seed's `dump_task_file`: the `tgid pid fd file` table, `file` being the f_op address. */
export const dumpTaskFile = SEC<BpfIterTaskFileCtx>('iter/task_file', function dump_task_file(ctx) {
  const seq = ctx.meta.seq;
  const task = ctx.task;
  const file = ctx.file;
  const fd = ctx.fd;
  if (task === null || file === null) return 0;
  if (ctx.meta.seq_num === 0n) BPF_SEQ_PRINTF(seq, '    tgid      pid       fd      file\n');
  BPF_SEQ_PRINTF(seq, '%8d %8d %8d %lx\n', task.tgid, task.pid, fd, file.f_op.addr);
  return 0;
});
