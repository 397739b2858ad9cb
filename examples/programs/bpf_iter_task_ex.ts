/**
 * The BPF side of the seed's `bpf_iter_task_ex` example (the C program in
 * Documentation/bpf/bpf_iterators.rst), ported line by line.
 */
import { BPF_SEQ_PRINTF, SEC, type BpfIterTaskFileCtx } from '@bpf-iter/iter-programs';

// char _license[] SEC("license") = "GPL";
export const _license = 'GPL';

// int target_pid = 0;   (used by the "without parameters" variant)
export const bss = { target_pid: 0 };

// SEC("iter/task_file")
// int dump_task_file(struct bpf_iter__task_file *ctx)
export const dump_task_file = SEC<BpfIterTaskFileCtx, { bss: typeof bss }>('iter/task_file', function dump_task_file(ctx) {
  const seq = ctx.meta.seq; //              struct seq_file *seq = ctx->meta->seq;
  const task = ctx.task; //                 struct task_struct *task = ctx->task;
  const file = ctx.file; //                 struct file *file = ctx->file;
  const fd = ctx.fd; //                     __u32 fd = ctx->fd;
  if (task === null || file === null) return 0; // if (task == NULL || file == NULL) return 0;
  if (ctx.meta.seq_num === 0n) {
    BPF_SEQ_PRINTF(seq, '    tgid      pid       fd      file\n');
  }
  BPF_SEQ_PRINTF(seq, '%8d %8d %8d %lx\n', task.tgid, task.pid, fd, file.f_op.addr);
  return 0;
});

// The "Without Parameters" variant: the program filters on a global that user space sets.
export const dump_task_file_target_pid = SEC<BpfIterTaskFileCtx, { bss: typeof bss }>('iter/task_file', function dump_task_file_target_pid(ctx) {
  const seq = ctx.meta.seq;
  const task = ctx.task;
  const file = ctx.file;
  const fd = ctx.fd;
  if (task === null || file === null) return 0;
  if (task.tgid !== this.bss.target_pid) return 0; // if (task->tgid != target_pid) return 0;
  BPF_SEQ_PRINTF(seq, '%8d %8d %8d %lx\n', task.tgid, task.pid, fd, file.f_op.addr);
  return 0;
});
