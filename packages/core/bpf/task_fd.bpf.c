// SPDX-License-Identifier: GPL-2.0
/* One rec_task_fd per open fd: the fd table and each file's f_op, nothing
 * else (no bpf_d_path: the lazy host source lists tables with it and reads
 * what a program asks for from /proc). Threads sharing the leader's table
 * are skipped by the kernel. */
#include "common.h"

SEC("iter/task_file")
int dump_task_fd(struct bpf_iter__task_file *ctx)
{
	struct task_struct *t = ctx->task;
	struct file *f = ctx->file;
	struct rec_task_fd r = {};

	if (!t || !f)
		return 0;
	r.tgid = t->tgid;
	r.pid = t->pid;
	r.fd = ctx->fd;
	r.f_op = (__u64)BPF_CORE_READ(f, f_op);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
