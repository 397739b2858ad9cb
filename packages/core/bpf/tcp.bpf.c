// SPDX-License-Identifier: GPL-2.0
/* One rec_inet per TCP socket (v4 and v6, listening then established hash). */
#include "common.h"

#define TCP_TIME_WAIT 6
#define TCP_NEW_SYN_RECV 12

SEC("iter/tcp")
int dump_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct rec_inet r = {};

	if (!skc)
		return 0;
	r.family = skc->skc_family;
	r.state = skc->skc_state;
	r.sport = skc->skc_num;
	r.dport = bpf_ntohs(skc->skc_dport);
	r.uid = ctx->uid;
	if (r.family == 2) {
		__builtin_memcpy(r.saddr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(r.daddr, &skc->skc_daddr, 4);
	} else {
		BPF_CORE_READ_INTO(&r.saddr, skc, skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&r.daddr, skc, skc_v6_daddr);
	}
	/* Mini sockets (TIME_WAIT, NEW_SYN_RECV) have no struct socket: inode 0 like /proc/net/tcp. */
	if (r.state != TCP_TIME_WAIT && r.state != TCP_NEW_SYN_RECV) {
		struct sock *sk = (struct sock *)skc;
		r.ino = sock_ino(sk);
	}
	r.cookie = skc->skc_cookie.counter;
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
