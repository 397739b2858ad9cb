// SPDX-License-Identifier: GPL-2.0
/* One rec_cgroup per cgroup (order chosen at link time). */
#include "common.h"

SEC("iter/cgroup")
int dump_cgroup(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cg = ctx->cgroup;
	struct rec_cgroup r = {};

	if (!cg)
		return 0;
	r.id = BPF_CORE_READ(cg, kn, id);
	r.level = cg->level;
	/* kn->name is a pointer: BPF_CORE_READ_STR_INTO would read the pointer's own bytes. */
	bpf_probe_read_kernel_str(r.name, sizeof(r.name), BPF_CORE_READ(cg, kn, name));
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
