// SPDX-License-Identifier: GPL-2.0
/* One rec_ksym per kernel symbol, in kallsyms order. */
#include "common.h"

SEC("iter/ksym")
int dump_ksym(struct bpf_iter__ksym *ctx)
{
	struct kallsym_iter *it = ctx->ksym;
	struct rec_ksym r = {};

	/* The ksym end call passes a non-NULL iterator: stop on the empty name too. */
	if (!it || !it->name[0])
		return 0;
	r.value = it->value;
	r.type = it->type;
	bpf_probe_read_kernel_str(r.name, sizeof(r.name), it->name);
	bpf_probe_read_kernel_str(r.module, sizeof(r.module), it->module_name);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
