// SPDX-License-Identifier: GPL-2.0
/* One rec_inet per UDP socket (v4 and v6). */
#include "common.h"

SEC("iter/udp")
int dump_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct rec_inet r = {};
	struct sock_common *skc;

	if (!udp)
		return 0;
	skc = &udp->inet.sk.__sk_common;
	r.family = BPF_CORE_READ(skc, skc_family);
	r.state = BPF_CORE_READ(skc, skc_state);
	r.sport = BPF_CORE_READ(skc, skc_num);
	r.dport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	r.uid = ctx->uid;
	r.bucket = ctx->bucket;
	if (r.family == 2) {
		BPF_CORE_READ_INTO((__u32 *)r.saddr, skc, skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)r.daddr, skc, skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&r.saddr, skc, skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&r.daddr, skc, skc_v6_daddr);
	}
	r.ino = sock_ino(&udp->inet.sk);
	r.cookie = BPF_CORE_READ(skc, skc_cookie.counter);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
