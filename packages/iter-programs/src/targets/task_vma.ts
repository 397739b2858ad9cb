/**
 * The `task_vma` target: every VMA of every selected task with an address
 * space, ascending. ctx: `struct bpf_iter__task_vma { meta; task; vma }`.
 */
import { TaskVmaWalker, type Task, type TaskVma, type Vma } from '@bpf-iter/core';
import { BPF_ITER_RESCHED } from '../constants.js';
import { SEC } from '../program.js';
import { bpf_seq_write } from '../helpers/seq_write.js';
import { mapsLine } from '../procfs/proc_maps.js';
import type { BpfIterReg } from '../registry.js';
import { attachTask, fillTaskLinkInfo, sessionKernel, sessionPidNs, showTaskFdinfo, taskSpec, walkerSeqOps } from './common.js';

/** ctx fields of `iter/task_vma` programs. */
export interface BpfIterTaskVmaCtx {
  task: Task | null;
  vma: Vma | null;
}

interface TaskVmaPriv {
  walker: TaskVmaWalker | null;
  /**
   * Set once the walk returned NULL. The walker's TID mode finds the same
   * task again on a later start() and, with no paused VMA recorded
   * (prev_vm_end 0), would look up `0 - 1` as -1 instead of the kernel's
   * ULONG_MAX and restart at the first VMA: reads after EOF would repeat the
   * output forever instead of returning 0 (§2.6).
   */
  done: boolean;
}

/** Registration of the `task_vma` target. */
export const taskVmaReg: BpfIterReg<TaskVma, TaskVmaPriv> = {
  target: 'task_vma',
  attach_target: (_prog, linfo, aux) => attachTask(linfo, aux),
  show_fdinfo: showTaskFdinfo,
  fill_link_info: fillTaskLinkInfo,
  ctx_arg_info: [
    { offset: 8, field: 'task', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'task_struct' },
    { offset: 16, field: 'vma', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'vm_area_struct' },
  ],
  feature: BPF_ITER_RESCHED,
  seq_info: {
    seq_priv: () => ({ walker: null, done: false }),
    init_seq_private(priv, aux) {
      const kernel = sessionKernel(aux);
      priv.walker = new TaskVmaWalker(kernel, taskSpec(aux, sessionPidNs(kernel)));
    },
    fini_seq_private: (priv) => priv.walker?.stop(),
    seq_ops: walkerSeqOps((e) => ({ task: e.task, vma: e.vma }), () => ({ task: null, vma: null })),
  },
};

/** The default dumper of `bpf-iter cat task_vma`: `/proc/PID/maps` lines. */
export const dumpTaskVma = SEC<BpfIterTaskVmaCtx>('iter/task_vma', function dump_task_vma(ctx) {
  const vma = ctx.vma;
  if (ctx.task === null || vma === null) return 0;
  bpf_seq_write(ctx.meta.seq, mapsLine(vma));
  return 0;
});
