/**
 * The `task_vma` target: every VMA of every selected task with an address
 * space, ascending. ctx: `struct bpf_iter__task_vma { meta; task; vma }`.
 */
import { TaskVmaWalker, type Task, type TaskVma, type Vma } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { bpf_seq_write } from '../helpers/seq_write.js';
import { mapsLine, mapsLineInto } from '../procfs/proc_maps.js';
import { taskTargetReg } from './task_params.js';

/** ctx fields of `iter/task_vma` programs. */
export interface BpfIterTaskVmaCtx {
  task: Task | null;
  vma: Vma | null;
}

/** Registration of the `task_vma` target. */
export const taskVmaReg = taskTargetReg<TaskVma>(
  'task_vma',
  [
    { offset: 8, field: 'task', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'task_struct' },
    { offset: 16, field: 'vma', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'vm_area_struct' },
  ],
  (kernel, spec) => new TaskVmaWalker(kernel, spec),
  (e) => ({ task: e.task, vma: e.vma }),
  () => ({ task: null, vma: null }),
);

/** dump_task_vma's line buffer: the kernel's maps lines are at most PATH_MAX past the 73 columns. */
const line = new Uint8Array(4096 + 128);

/** The default dumper of `bpf-iter cat task_vma`: `/proc/PID/maps` lines. */
export const dumpTaskVma = SEC<BpfIterTaskVmaCtx>('iter/task_vma', function dump_task_vma(ctx) {
  const vma = ctx.vma;
  if (ctx.task === null || vma === null) return 0;
  // The line is built in the program's own buffer (like a BPF program's stack or per-CPU map) and written with one helper call.
  const len = mapsLineInto(vma, line);
  if (len < 0) bpf_seq_write(ctx.meta.seq, mapsLine(vma));
  else bpf_seq_write(ctx.meta.seq, line, len);
  return 0;
});
