// SPDX-License-Identifier: GPL-2.0
/* /proc/net/tcp lines of the IPv4 sockets (the kernel selftest bpf_iter_tcp4.c, adapted to
 * this kernel's structs): the kernel's side of the tcp dumper benchmark.
 *
 * Unlike the selftest, each line is padded to 149 columns like /proc/net/tcp (seq_pad), so
 * the bytes match the SDK's dumpTcp (bss.family = 4). bpf_seq_printf does not return the
 * length it printed, so each part is formatted with bpf_snprintf (at most 12 arguments per
 * call: three parts) and written with bpf_seq_write, then the padding and '\n'.
 * Differences from /proc/net/tcp: `sl` is the iterator's seq_num (it counts IPv6 sockets
 * too), and the local port comes from skc_num (the kernel prints inet_sport / tw_sport,
 * the same value once bound), and the refcount includes the iterator's own hold. */
#include "common.h"

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
#define LINE_WIDTH		149

extern unsigned CONFIG_HZ __kconfig;

struct parts {
	char a[64];
	char b[128];
	char c[128];
};

/* Scratch space off the 512-byte stack (three buffers plus bpf_snprintf's argument arrays). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct parts);
} scratch SEC(".maps");

#define S10 "          "
static const char spaces[LINE_WIDTH] = S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 "         ";

static __always_inline unsigned long jiffies_delta_to_clock_t(long delta)
{
	__u64 tick_nsec = (NSEC_PER_SEC + CONFIG_HZ / 2) / CONFIG_HZ;
	__u64 user_hz_nsec = NSEC_PER_SEC / USER_HZ;

	if (delta <= 0)
		return 0;
	if ((tick_nsec % user_hz_nsec) == 0)
		return CONFIG_HZ < USER_HZ ? delta * (USER_HZ / CONFIG_HZ) : delta / (CONFIG_HZ / USER_HZ);
	return delta * tick_nsec / user_hz_nsec;
}

static __always_inline int timer_pending(const struct timer_list *timer)
{
	return BPF_CORE_READ(timer, entry.pprev) != NULL;
}

/* Writes the three parts (bpf_snprintf lengths, NUL included) padded to LINE_WIDTH, then '\n'. */
static __always_inline void emit(struct seq_file *seq, struct parts *p, long na, long nb, long nc)
{
	long len;

	if (na < 1 || na > (long)sizeof(p->a) || nb < 1 || nb > (long)sizeof(p->b) || nc < 1 || nc > (long)sizeof(p->c))
		return;
	bpf_seq_write(seq, p->a, na - 1);
	bpf_seq_write(seq, p->b, nb - 1);
	bpf_seq_write(seq, p->c, nc - 1);
	len = (na - 1) + (nb - 1) + (nc - 1);
	/* The verifier cannot pair a variable offset with a variable size: spaces from the start, then '\n'. */
	if (len < LINE_WIDTH)
		bpf_seq_write(seq, spaces, LINE_WIDTH - len);
	bpf_seq_write(seq, "\n", 1);
}

SEC("iter/tcp")
int dump_tcp4(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	__u32 seq_num = ctx->meta->seq_num;
	struct tcp_timewait_sock *tw;
	struct tcp_request_sock *req;
	struct tcp_sock *tp;
	struct parts *p;
	__u32 zero = 0;
	long na, nb, nc;
	__u64 now;

	/* The stop call (skc NULL) repeats the last object's seq_num: 0 after a single socket. */
	if (seq_num == 0 && skc)
		BPF_SEQ_PRINTF(seq, "%-149s\n", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode");
	if (!skc || skc->skc_family != AF_INET)
		return 0;
	p = bpf_map_lookup_elem(&scratch, &zero);
	if (!p)
		return 0;
	now = bpf_jiffies64();
	na = BPF_SNPRINTF(p->a, sizeof(p->a), "%4d: %08X:%04X %08X:%04X ", seq_num, skc->skc_rcv_saddr, skc->skc_num,
			  skc->skc_daddr, bpf_ntohs(skc->skc_dport));

	tp = bpf_skc_to_tcp_sock(skc);
	if (tp) {
		struct inet_connection_sock *icsk = &tp->inet_conn;
		struct sock *sk = &icsk->icsk_inet.sk;
		unsigned long expires = now;
		int timer = 0, state = sk->__sk_common.skc_state, rx_queue;
		__u8 pending = icsk->icsk_pending;

		if (pending == ICSK_TIME_RETRANS || pending == ICSK_TIME_REO_TIMEOUT || pending == ICSK_TIME_LOSS_PROBE) {
			timer = 1;
			expires = icsk->icsk_retransmit_timer.expires;
		} else if (pending == ICSK_TIME_PROBE0) {
			timer = 4;
			expires = icsk->icsk_retransmit_timer.expires;
		} else if (timer_pending(&sk->sk_timer)) {
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
		nb = BPF_SNPRINTF(p->b, sizeof(p->b), "%02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %d ", state,
				  tp->write_seq - tp->snd_una, rx_queue, timer, jiffies_delta_to_clock_t(expires - now),
				  icsk->icsk_retransmits, ctx->uid, icsk->icsk_probes_out,
				  BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino), sk->__sk_common.skc_refcnt.refs.counter);
		nc = BPF_SNPRINTF(p->c, sizeof(p->c), "%pK %lu %lu %u %u %d", tp, jiffies_delta_to_clock_t(icsk->icsk_rto),
				  jiffies_delta_to_clock_t(icsk->icsk_ack.ato),
				  (icsk->icsk_ack.quick << 1) | (icsk->icsk_ack.pingpong >= TCP_PINGPONG_THRESH), tp->snd_cwnd,
				  state == TCP_LISTEN ? icsk->icsk_accept_queue.fastopenq.max_qlen
						      : (tp->snd_ssthresh >= TCP_INFINITE_SSTHRESH ? -1 : (int)tp->snd_ssthresh));
		emit(seq, p, na, nb, nc);
		return 0;
	}

	tw = bpf_skc_to_tcp_timewait_sock(skc);
	if (tw) {
		struct inet_timewait_sock *itw = &tw->tw_sk;

		nb = BPF_SNPRINTF(p->b, sizeof(p->b), "%02X %08X:%08X %02X:%08lX %08X %5d %8d %d %d ", itw->tw_substate, 0, 0, 3,
				  jiffies_delta_to_clock_t(itw->tw_timer.expires - now), 0, 0, 0, 0,
				  itw->__tw_common.skc_refcnt.refs.counter);
		nc = BPF_SNPRINTF(p->c, sizeof(p->c), "%pK", itw);
		emit(seq, p, na, nb, nc);
		return 0;
	}

	req = bpf_skc_to_tcp_request_sock(skc);
	if (req) {
		struct request_sock *r = &req->req.req;

		nb = BPF_SNPRINTF(p->b, sizeof(p->b), "%02X %08X:%08X %02X:%08lX %08X %5u %8d %d %d ", TCP_SYN_RECV, 0, 0, 1,
				  jiffies_delta_to_clock_t(r->rsk_timer.expires - now), BPF_CORE_READ_BITFIELD(r, num_timeout),
				  ctx->uid, 0, 0, 0);
		nc = BPF_SNPRINTF(p->c, sizeof(p->c), "%pK", r);
		emit(seq, p, na, nb, nc);
	}
	return 0;
}
