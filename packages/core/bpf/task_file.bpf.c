// SPDX-License-Identifier: GPL-2.0
/* One rec_task_file per open fd (threads sharing the leader's table are skipped by the kernel). */
#include "common.h"

/* Per-CPU scratch: the record is too big for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rec_task_file);
} scratch SEC(".maps");

SEC("iter/task_file")
int dump_task_file(struct bpf_iter__task_file *ctx)
{
	struct task_struct *t = ctx->task;
	struct file *f = ctx->file;
	struct rec_task_file *r;
	__u32 zero = 0;

	if (!t || !f)
		return 0;
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 0;
	r->tgid = t->tgid;
	r->pid = t->pid;
	r->fd = ctx->fd;
	r->f_flags = f->f_flags;
	r->ino = BPF_CORE_READ(f, f_inode, i_ino);
	r->f_op = (__u64)BPF_CORE_READ(f, f_op);
	r->pos = BPF_CORE_READ(f, f_pos);
	r->mode = BPF_CORE_READ(f, f_inode, i_mode);
	r->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	/* close-on-exec is per fd, in the table's bitmap, never in f_flags. */
	{
		unsigned long *bits = BPF_CORE_READ(t, files, fdt, close_on_exec);
		unsigned long word = 0;

		if (bits)
			bpf_probe_read_kernel(&word, sizeof(word), bits + r->fd / 64);
		r->cloexec = (word >> (r->fd % 64)) & 1;
	}
	r->path[0] = 0;
	if (bpf_d_path(&f->f_path, r->path, sizeof(r->path)) < 0)
		r->path[0] = 0;
	bpf_seq_write(ctx->meta->seq, r, sizeof(*r));
	return 0;
}
