// SPDX-License-Identifier: GPL-2.0
#include "common.h"

SEC("iter/bpf_map")
int dump_bpf_map(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *m = ctx->map;
	struct rec_map r = {};

	if (!m)
		return 0;
	r.id = m->id;
	r.type = m->map_type;
	r.key_size = m->key_size;
	r.value_size = m->value_size;
	r.max_entries = m->max_entries;
	r.map_flags = m->map_flags;
	bpf_probe_read_kernel_str(r.name, sizeof(r.name), m->name);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
