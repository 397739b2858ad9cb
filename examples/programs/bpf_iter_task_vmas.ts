/** The selftest program `bpf_iter_task_vmas.c`, ported line by line: one process's maps from BPF. */
import { major, minor, VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE } from '@bpf-iter/core';
import { BPF_SEQ_PRINTF, bpf_d_path, SEC, type BpfIterTaskVmaCtx } from '@bpf-iter/iter-programs';

export const _license = 'GPL';

const D_PATH_BUF_SIZE = 1024; // #define D_PATH_BUF_SIZE 1024
const d_path_buf = new Uint8Array(D_PATH_BUF_SIZE); // char d_path_buf[D_PATH_BUF_SIZE] = {};
export const bss = { pid: 0, one_task: 0, one_task_error: 0 }; // __u32 pid = 0; __u32 one_task = 0; __u32 one_task_error = 0;

// SEC("iter/task_vma") int proc_maps(struct bpf_iter__task_vma *ctx)
export const proc_maps = SEC<BpfIterTaskVmaCtx, { bss: typeof bss }>('iter/task_vma', function proc_maps(ctx) {
  const vma = ctx.vma; //                  struct vm_area_struct *vma = ctx->vma;
  const seq = ctx.meta.seq; //             struct seq_file *seq = ctx->meta->seq;
  const task = ctx.task; //                struct task_struct *task = ctx->task;
  const perm_str = ['-', '-', '-', '-']; // char perm_str[] = "----";
  if (task === null || vma === null) return 0;
  const file = vma.vm_file; //             file = vma->vm_file;
  if (task.tgid !== this.bss.pid) {
    if (this.bss.one_task) this.bss.one_task_error = 1;
    return 0;
  }
  perm_str[0] = vma.vm_flags & VM_READ ? 'r' : '-';
  perm_str[1] = vma.vm_flags & VM_WRITE ? 'w' : '-';
  perm_str[2] = vma.vm_flags & VM_EXEC ? 'x' : '-';
  perm_str[3] = vma.vm_flags & VM_MAYSHARE ? 's' : 'p';
  BPF_SEQ_PRINTF(seq, '%08llx-%08llx %s ', vma.vm_start, vma.vm_end, perm_str.join(''));
  if (file) {
    const dev = file.f_inode.s_dev; //       __u32 dev = file->f_inode->i_sb->s_dev;
    bpf_d_path(file.f_path, d_path_buf, D_PATH_BUF_SIZE);
    BPF_SEQ_PRINTF(seq, '%08llx ', (vma.vm_pgoff ?? 0) * 4096); // vma->vm_pgoff << 12 (a file mapping's pgoff is always known)
    BPF_SEQ_PRINTF(seq, '%02x:%02x %u', major(dev), minor(dev), file.f_inode.i_ino);
    BPF_SEQ_PRINTF(seq, '\t%s\n', d_path_buf);
  } else {
    BPF_SEQ_PRINTF(seq, '%08llx 00:00 0\n', 0n);
  }
  return 0;
});
