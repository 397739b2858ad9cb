// SPDX-License-Identifier: GPL-2.0
/* One rec_task per thread. */
#include "common.h"

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct rec_task r = {};

	if (!t)
		return 0;
	r.tgid = t->tgid;
	r.pid = t->pid;
	r.ppid = BPF_CORE_READ(t, real_parent, tgid);
	r.uid = BPF_CORE_READ(t, cred, uid.val);
	r.gid = BPF_CORE_READ(t, cred, gid.val);
	r.flags = t->flags;
	r.state = t->__state;
	r.exit_state = t->exit_state;
	r.start_time = t->start_time;
	r.prio = t->prio;
	r.sum_exec_runtime = t->se.sum_exec_runtime;
	r.cgroup_id = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	bpf_probe_read_kernel_str(r.comm, sizeof(r.comm), t->comm);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
