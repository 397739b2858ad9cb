// SPDX-License-Identifier: GPL-2.0
#include "common.h"

SEC("iter/bpf_link")
int dump_bpf_link(struct bpf_iter__bpf_link *ctx)
{
	struct bpf_link *l = ctx->link;
	struct rec_link r = {};

	if (!l)
		return 0;
	r.id = l->id;
	r.type = l->type;
	r.prog_id = BPF_CORE_READ(l, prog, aux, id);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
