/**
 * The `task_file` target: every open file of every selected task, by fd.
 * ctx: `struct bpf_iter__task_file { meta; task; u32 fd; file }`.
 */
import { F_OP_UNKNOWN, TaskFileWalker, type KFile, type Task, type TaskFile } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import { taskTargetReg } from './task_params.js';

/** ctx fields of `iter/task_file` programs. */
export interface BpfIterTaskFileCtx {
  task: Task | null;
  fd: number;
  file: KFile | null;
}

/** Registration of the `task_file` target. */
export const taskFileReg = taskTargetReg<TaskFile>(
  'task_file',
  [
    { offset: 8, field: 'task', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'task_struct' },
    { offset: 24, field: 'file', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'file' },
  ],
  (kernel, spec) => new TaskFileWalker(kernel, spec),
  (e) => ({ task: e.task, fd: e.fd, file: e.file }),
  () => ({ task: null, fd: 0, file: null }),
);

/**
 * The seed's `dump_task_file`: the `tgid pid fd file` table, `file` being
 * the f_op address, or `?` ({@link F_OP_UNKNOWN}) where the model does not
 * know it (a host read without kallsyms data symbols).
 */
export const dumpTaskFile = SEC<BpfIterTaskFileCtx>('iter/task_file', function dump_task_file(ctx) {
  const seq = ctx.meta.seq;
  const task = ctx.task;
  const file = ctx.file;
  const fd = ctx.fd;
  if (task === null || file === null) return 0;
  if (ctx.meta.seq_num === 0n) BPF_SEQ_PRINTF(seq, '    tgid      pid       fd      file\n');
  // The pointer only (`(long)file->f_op`): where no address is known, the kind need not be read.
  const f_op = file.f_opAddr;
  if (f_op === null) BPF_SEQ_PRINTF(seq, '%8d %8d %8d %s\n', task.tgid, task.pid, fd, F_OP_UNKNOWN);
  else BPF_SEQ_PRINTF(seq, '%8d %8d %8d %lx\n', task.tgid, task.pid, fd, f_op);
  return 0;
});
