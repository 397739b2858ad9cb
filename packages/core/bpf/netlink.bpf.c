// SPDX-License-Identifier: GPL-2.0
/* One rec_netlink per netlink socket. */
#include "common.h"

SEC("iter/netlink")
int dump_netlink(struct bpf_iter__netlink *ctx)
{
	struct netlink_sock *nlk = ctx->sk;
	struct rec_netlink r = {};

	if (!nlk)
		return 0;
	r.ino = sock_ino(&nlk->sk);
	r.portid = BPF_CORE_READ(nlk, portid);
	r.protocol = BPF_CORE_READ(nlk, sk.sk_protocol);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
