// SPDX-License-Identifier: GPL-2.0
/* One process's /proc/PID/maps from BPF (the kernel selftest bpf_iter_task_vmas, written for
 * this kernel): start-end perms offset dev inode, then a tab and the path of file mappings.
 *
 * The selftest gets the path with bpf_d_path(&file->f_path); 6.18's verifier refuses it for
 * vma->vm_file (R1 type=untrusted_ptr_), so the path is assembled here the way d_path walks:
 * dentry names up to the mount's root, then on from the mountpoint in the parent mount, up
 * to the global root (at most MAX_DEPTH components; deeper paths keep their last ones and
 * start with "..."). Unlike d_path it ignores chroots and does not append " (deleted)".
 * User space sets `pid` (and `one_task` when the link is limited to that process: then
 * `one_task_error` turns 1 if the iterator ever hands over another task's VMA).
 *
 *   bpf-iter run examples/bpf/bpf_iter_task_vmas.bpf.c --pid $$ --set pid=$$ --set one_task=1
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

#define VM_READ		0x00000001
#define VM_WRITE	0x00000002
#define VM_EXEC		0x00000004
#define VM_MAYSHARE	0x00000080

#define MINORBITS	20
#define MAJOR(dev)	((unsigned int)((dev) >> MINORBITS))
#define MINOR(dev)	((unsigned int)((dev) & ((1U << MINORBITS) - 1)))

#define MAX_DEPTH 16 /* a power of two: indexes are masked with MAX_DEPTH - 1 */

__u32 pid = 0;
__u32 one_task = 0;
__u32 one_task_error = 0;

struct walk {
	struct dentry *d;
	struct mount *mnt;
	int n;
	bool at_root;
	const unsigned char *names[MAX_DEPTH];
};

/* One step of d_path's walk (a bpf_loop callback, so the verifier checks it once). */
static long walk_step(__u64 i, struct walk *w)
{
	/* Locals: BPF_CORE_READ relocates the whole access chain, and struct walk is ours. */
	struct dentry *d = w->d;
	struct mount *mnt = w->mnt;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);

	if (d == BPF_CORE_READ(mnt, mnt.mnt_root) || d == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt) {
			w->at_root = true;
			return 1;
		}
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		return 0;
	}
	if (w->n >= MAX_DEPTH)
		return 1;
	w->names[w->n & (MAX_DEPTH - 1)] = BPF_CORE_READ(d, d_name.name);
	w->n++;
	w->d = parent;
	return 0;
}

/* Prints the path of `file` like d_path: "/" and the names from the root down. */
static __always_inline void print_path(struct seq_file *seq, struct file *file)
{
	struct walk w = {};
	int i;

	w.d = BPF_CORE_READ(file, f_path.dentry);
	w.mnt = container_of(BPF_CORE_READ(file, f_path.mnt), struct mount, mnt);
	bpf_loop(2 * MAX_DEPTH, walk_step, &w, 0);
	if (!w.at_root)
		BPF_SEQ_PRINTF(seq, "...");
	if (w.n == 0)
		BPF_SEQ_PRINTF(seq, "/");
	for (i = MAX_DEPTH - 1; i >= 0; i--)
		if (i < w.n)
			BPF_SEQ_PRINTF(seq, "/%s", w.names[i]);
}

SEC("iter/task_vma")
int proc_maps(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file;
	char perm_str[] = "----";

	if (task == NULL || vma == NULL)
		return 0;

	file = vma->vm_file;
	if (task->tgid != (pid_t)pid) {
		if (one_task)
			one_task_error = 1;
		return 0;
	}
	perm_str[0] = (vma->vm_flags & VM_READ) ? 'r' : '-';
	perm_str[1] = (vma->vm_flags & VM_WRITE) ? 'w' : '-';
	perm_str[2] = (vma->vm_flags & VM_EXEC) ? 'x' : '-';
	perm_str[3] = (vma->vm_flags & VM_MAYSHARE) ? 's' : 'p';
	BPF_SEQ_PRINTF(seq, "%08llx-%08llx %s ", vma->vm_start, vma->vm_end, perm_str);

	if (file) {
		__u32 dev = file->f_inode->i_sb->s_dev;

		BPF_SEQ_PRINTF(seq, "%08llx ", vma->vm_pgoff << 12);
		BPF_SEQ_PRINTF(seq, "%02x:%02x %u\t", MAJOR(dev), MINOR(dev), file->f_inode->i_ino);
		print_path(seq, file);
		BPF_SEQ_PRINTF(seq, "\n");
	} else {
		BPF_SEQ_PRINTF(seq, "%08llx 00:00 0\n", 0ULL);
	}
	return 0;
}
