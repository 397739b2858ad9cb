// SPDX-License-Identifier: GPL-2.0
#include "common.h"

SEC("iter/bpf_prog")
int dump_bpf_prog(struct bpf_iter__bpf_prog *ctx)
{
	struct bpf_prog *p = ctx->prog;
	struct rec_prog r = {};

	if (!p)
		return 0;
	r.id = BPF_CORE_READ(p, aux, id);
	r.type = p->type;
	r.expected_attach_type = p->expected_attach_type;
	BPF_CORE_READ_INTO(&r.tag, p, tag);
	BPF_CORE_READ_STR_INTO(&r.name, p, aux, name);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
