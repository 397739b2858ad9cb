// SPDX-License-Identifier: GPL-2.0
/* The seed's bpf_iter_task_ex program (Documentation/bpf/bpf_iterators.rst), both variants:
 *
 *   dump_task_file            prints every file of the tasks the link selects
 *                             (attach with linfo.task.pid = getpid(): `bpf-iter run ... --pid $$`);
 *   dump_task_file_target_pid filters on the target_pid global instead
 *                             (user space sets skel->bss->target_pid: `--prog dump_task_file_target_pid
 *                             --set target_pid=$$`).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

int target_pid = 0;

SEC("iter/task_file")
int dump_task_file(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	__u32 fd = ctx->fd;

	if (task == NULL || file == NULL)
		return 0;

	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "    tgid      pid       fd      file\n");

	BPF_SEQ_PRINTF(seq, "%8d %8d %8d %lx\n", task->tgid, task->pid, fd, (long)file->f_op);
	return 0;
}

SEC("iter/task_file")
int dump_task_file_target_pid(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	__u32 fd = ctx->fd;

	if (task == NULL || file == NULL)
		return 0;
	if (task->tgid != target_pid) /* Check task->pid instead to check thread IDs */
		return 0;

	BPF_SEQ_PRINTF(seq, "%8d %8d %8d %lx\n", task->tgid, task->pid, fd, (long)file->f_op);
	return 0;
}
