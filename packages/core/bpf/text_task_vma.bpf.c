// SPDX-License-Identifier: GPL-2.0
/* A /proc/PID/maps-like line per VMA (the selftest's proc_maps, without its pid filter):
 * the kernel's side of the task_vma dumper benchmark. */
#include "common.h"

#define VM_READ		0x00000001
#define VM_WRITE	0x00000002
#define VM_EXEC		0x00000004
#define VM_MAYSHARE	0x00000080

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
	perm_str[0] = (vma->vm_flags & VM_READ) ? 'r' : '-';
	perm_str[1] = (vma->vm_flags & VM_WRITE) ? 'w' : '-';
	perm_str[2] = (vma->vm_flags & VM_EXEC) ? 'x' : '-';
	perm_str[3] = (vma->vm_flags & VM_MAYSHARE) ? 's' : 'p';
	BPF_SEQ_PRINTF(seq, "%08llx-%08llx %s ", vma->vm_start, vma->vm_end, perm_str);
	if (file) {
		__u32 dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);

		BPF_SEQ_PRINTF(seq, "%08llx %02x:%02x %lu\n", vma->vm_pgoff << 12, dev >> 20, dev & 0xfffff,
			       BPF_CORE_READ(file, f_inode, i_ino));
	} else {
		BPF_SEQ_PRINTF(seq, "%08llx 00:00 0\n", 0ULL);
	}
	return 0;
}
