// SPDX-License-Identifier: GPL-2.0
/* /proc/net/tcp from BPF, IPv4 sockets only (the kernel selftest bpf_iter_tcp4, written for
 * this kernel; the tcp iterator walks both families). The columns are get_tcp4_sock's,
 * get_timewait4_sock's and get_openreq4's; `sl` counts the printed sockets of the session
 * (the bss `sl`, reset when a new session starts), like the TypeScript port
 * examples/programs/bpf_iter_tcp4.ts. Unlike /proc/net/tcp the lines are not padded, the local
 * port is skc_num, and the socket refcount includes the iterator's own hold.
 *
 *   bpf-iter run examples/bpf/bpf_iter_tcp4.bpf.c
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

char _license[] SEC("license") = "GPL";

#define AF_INET			2
#define TCP_SYN_RECV		3
#define TCP_LISTEN		10
#define ICSK_TIME_RETRANS	1
#define ICSK_TIME_PROBE0	3
#define ICSK_TIME_LOSS_PROBE	5
#define ICSK_TIME_REO_TIMEOUT	6
#define TCP_PINGPONG_THRESH	1
#define TCP_INFINITE_SSTHRESH	0x7fffffff
#define USER_HZ			100
#define NSEC_PER_SEC		1000000000ULL

extern unsigned CONFIG_HZ __kconfig;

__u32 sl = 0;
__u64 session = 0;

/* jiffies_delta_to_clock_t: a jiffies delta in USER_HZ ticks, 0 when negative. */
static __always_inline unsigned long to_clock_t(long delta)
{
	__u64 tick_nsec = (NSEC_PER_SEC + CONFIG_HZ / 2) / CONFIG_HZ;
	__u64 user_hz_nsec = NSEC_PER_SEC / USER_HZ;

	if (delta <= 0)
		return 0;
	if ((tick_nsec % user_hz_nsec) == 0)
		return CONFIG_HZ < USER_HZ ? delta * (USER_HZ / CONFIG_HZ) : delta / (CONFIG_HZ / USER_HZ);
	return delta * tick_nsec / user_hz_nsec;
}

/* sock_i_ino: sk->sk_ino on newer kernels, else the inode around sk->sk_socket. */
static __always_inline __u64 sock_ino(struct sock *sk)
{
	struct socket *sock;

	if (bpf_core_field_exists(sk->sk_ino))
		return BPF_CORE_READ(sk, sk_ino);
	sock = BPF_CORE_READ(sk, sk_socket);
	if (!sock)
		return 0;
	return BPF_CORE_READ(container_of(sock, struct socket_alloc, socket), vfs_inode.i_ino);
}

static int dump_tcp_sock(struct seq_file *seq, struct tcp_sock *tp, uid_t uid)
{
	struct inet_connection_sock *icsk = &tp->inet_conn;
	struct sock *sk = &icsk->icsk_inet.sk;
	struct sock_common *skc = &sk->__sk_common;
	unsigned long now = bpf_jiffies64(), expires = now;
	int timer = 0, state = skc->skc_state, rx_queue;
	__u8 pending = icsk->icsk_pending;

	if (pending == ICSK_TIME_RETRANS || pending == ICSK_TIME_REO_TIMEOUT || pending == ICSK_TIME_LOSS_PROBE) {
		timer = 1;
		expires = icsk->icsk_retransmit_timer.expires;
	} else if (pending == ICSK_TIME_PROBE0) {
		timer = 4;
		expires = icsk->icsk_retransmit_timer.expires;
	} else if (BPF_CORE_READ(sk, sk_timer.entry.pprev)) {
		timer = 2;
		expires = sk->sk_timer.expires;
	}
	if (state == TCP_LISTEN) {
		rx_queue = sk->sk_ack_backlog;
	} else {
		rx_queue = tp->rcv_nxt - tp->copied_seq;
		if (rx_queue < 0)
			rx_queue = 0;
	}
	BPF_SEQ_PRINTF(seq, "%4d: %08X:%04X %08X:%04X ", sl++, skc->skc_rcv_saddr, skc->skc_num, skc->skc_daddr,
		       bpf_ntohs(skc->skc_dport));
	BPF_SEQ_PRINTF(seq, "%02X %08X:%08X %02X:%08lX %08X %5u %8d %lu", state, tp->write_seq - tp->snd_una, rx_queue,
		       timer, to_clock_t(expires - now), icsk->icsk_retransmits, uid, icsk->icsk_probes_out, sock_ino(sk));
	BPF_SEQ_PRINTF(seq, " %d %pK %lu %lu %u", skc->skc_refcnt.refs.counter, tp, to_clock_t(icsk->icsk_rto),
		       to_clock_t(icsk->icsk_ack.ato), (icsk->icsk_ack.quick << 1) | (icsk->icsk_ack.pingpong >= TCP_PINGPONG_THRESH));
	BPF_SEQ_PRINTF(seq, " %u %d\n", tp->snd_cwnd,
		       state == TCP_LISTEN ? icsk->icsk_accept_queue.fastopenq.max_qlen
					   : (tp->snd_ssthresh >= TCP_INFINITE_SSTHRESH ? -1 : (int)tp->snd_ssthresh));
	return 0;
}

static int dump_tw_sock(struct seq_file *seq, struct tcp_timewait_sock *ttw)
{
	struct inet_timewait_sock *tw = &ttw->tw_sk;
	struct sock_common *skc = &tw->__tw_common;
	long delta = tw->tw_timer.expires - bpf_jiffies64();

	BPF_SEQ_PRINTF(seq, "%4d: %08X:%04X %08X:%04X ", sl++, skc->skc_rcv_saddr, skc->skc_num, skc->skc_daddr,
		       bpf_ntohs(skc->skc_dport));
	BPF_SEQ_PRINTF(seq, "%02X %08X:%08X %02X:%08lX %08X %5d %8d %d", tw->tw_substate, 0, 0, 3, to_clock_t(delta), 0, 0, 0, 0);
	BPF_SEQ_PRINTF(seq, " %d %pK\n", skc->skc_refcnt.refs.counter, tw);
	return 0;
}

static int dump_req_sock(struct seq_file *seq, struct tcp_request_sock *treq, uid_t uid)
{
	struct request_sock *req = &treq->req.req;
	struct sock_common *skc = &req->__req_common;
	long delta = req->rsk_timer.expires - bpf_jiffies64();

	BPF_SEQ_PRINTF(seq, "%4d: %08X:%04X %08X:%04X ", sl++, skc->skc_rcv_saddr, skc->skc_num, skc->skc_daddr,
		       bpf_ntohs(skc->skc_dport));
	BPF_SEQ_PRINTF(seq, "%02X %08X:%08X %02X:%08lX %08X %5u %8d %d", TCP_SYN_RECV, 0, 0, 1, to_clock_t(delta),
		       BPF_CORE_READ_BITFIELD(req, num_timeout), uid, 0, 0);
	BPF_SEQ_PRINTF(seq, " %d %pK\n", 0, req);
	return 0;
}

SEC("iter/tcp")
int dump_tcp4(struct bpf_iter__tcp *ctx)
{
	struct sock_common *sk_common = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	struct tcp_timewait_sock *tw;
	struct tcp_request_sock *req;
	struct tcp_sock *tp;
	uid_t uid = ctx->uid;

	if (sk_common == NULL)
		return 0;
	if (session != ctx->meta->session_id) {
		session = ctx->meta->session_id;
		sl = 0;
	}
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
	if (sk_common->skc_family != AF_INET)
		return 0;

	tp = bpf_skc_to_tcp_sock(sk_common);
	if (tp)
		return dump_tcp_sock(seq, tp, uid);
	tw = bpf_skc_to_tcp_timewait_sock(sk_common);
	if (tw)
		return dump_tw_sock(seq, tw);
	req = bpf_skc_to_tcp_request_sock(sk_common);
	if (req)
		return dump_req_sock(seq, req, uid);
	return 0;
}
