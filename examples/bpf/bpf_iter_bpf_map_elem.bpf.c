// SPDX-License-Identifier: GPL-2.0
/* One line "key value" per element of the map the link names
 * (linfo.map.map_fd), as the kernel selftests' bpf_iter_bpf_array_map.c
 * walks an array: key and value are read only within key_size and
 * value_size (4 bytes each), which the kernel checks at attach (EACCES).
 *
 *   bpf-iter iter pin examples/bpf/bpf_iter_bpf_map_elem.bpf.c PATH map id ID
 *
 * Some kernels refuse iter/bpf_map_elem programs at load (see
 * docs/real-kernel.md, "bpf_map_elem on this kernel"). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

/* A .data map to walk when the caller has none: one element, key 0. */
__u32 seed = 0x5eed;

SEC("iter/bpf_map_elem")
int dump_map_elem(struct bpf_iter__bpf_map_elem *ctx)
{
	__u32 *key = ctx->key;
	__u32 *value = ctx->value;

	if (key == NULL || value == NULL)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%u %u\n", *key, *value);
	return 0;
}
