// SPDX-License-Identifier: GPL-2.0
/* One rec_task_vma per VMA of every process (or of the link's pid).
 *
 * bpf-iter variants: no_d_path
 * Kernels whose task_vma iterator hands programs a VMA snapshot (6.18.y
 * since May 2026, "bpf: return VMA snapshot from task_vma iterator") make
 * vma->vm_file an untrusted pointer, which bpf_d_path refuses (R1
 * type=untrusted_ptr_). The no_d_path variant leaves path empty; the bpf
 * source then names the file from /proc/TGID/maps by its start address,
 * device and inode. The default variant is tried first. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rec_task_vma);
} scratch SEC(".maps");

SEC("iter/task_vma")
int dump_task_vma(struct bpf_iter__task_vma *ctx)
{
	struct task_struct *t = ctx->task;
	struct vm_area_struct *vma = ctx->vma;
	struct rec_task_vma *r;
	struct file *f;
	__u32 zero = 0;

	if (!t || !vma)
		return 0;
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 0;
	r->tgid = t->tgid;
	r->pid = t->pid;
	r->start = vma->vm_start;
	r->end = vma->vm_end;
	r->flags = vma->vm_flags;
	r->pgoff = vma->vm_pgoff;
	f = vma->vm_file;
	r->kind = VMA_ANON;
	r->ino = 0;
	r->dev = 0;
	r->f_op = 0;
	r->path[0] = 0;
	if (!f) {
		/* The names /proc/PID/maps gives anonymous mappings (show_map_vma). */
		struct mm_struct *mm = vma->vm_mm;
		__u64 brk = BPF_CORE_READ(mm, brk), start_brk = BPF_CORE_READ(mm, start_brk);
		__u64 stack = BPF_CORE_READ(mm, start_stack);
		__u64 vdso = (__u64)BPF_CORE_READ(mm, context.vdso);

		/* vma_is_initial_heap (strict) and vma_is_initial_stack (inclusive), as /proc does. */
		if (r->start < brk && r->end > start_brk)
			r->kind = VMA_HEAP;
		else if (r->start <= stack && r->end >= stack)
			r->kind = VMA_STACK;
		else if (vdso && r->start == vdso)
			r->kind = VMA_VDSO;
	} else {
		r->kind = VMA_FILE;
		r->ino = BPF_CORE_READ(f, f_inode, i_ino);
		r->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
		r->f_op = (__u64)BPF_CORE_READ(f, f_op);
#ifndef VARIANT_NO_D_PATH
		if (bpf_d_path(&f->f_path, r->path, sizeof(r->path)) < 0)
			r->path[0] = 0;
#endif
	}
	bpf_seq_write(ctx->meta->seq, r, sizeof(*r));
	return 0;
}
