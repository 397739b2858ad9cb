// SPDX-License-Identifier: GPL-2.0
/* One rec_unix per AF_UNIX socket. */
#include "common.h"

SEC("iter/unix")
int dump_unix(struct bpf_iter__unix *ctx)
{
	struct unix_sock *u = ctx->unix_sk;
	struct rec_unix r = {};

	if (!u)
		return 0;
	r.ino = sock_ino(&u->sk);
	r.type = BPF_CORE_READ(u, sk.sk_type);
	r.state = BPF_CORE_READ(u, sk.__sk_common.skc_state);
	r.has_socket = BPF_CORE_READ(u, sk.sk_socket) != NULL;
	r.uid = ctx->uid;
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
