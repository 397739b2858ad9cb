// SPDX-License-Identifier: GPL-2.0
/* /proc/net/ipv6_route from BPF: the seed's `bpftool iter pin ./bpf_iter_ipv6_route.o
 * /sys/fs/bpf/my_route` example. Each line is the kernel's ipv6_route_native_seq_show line:
 * destination, source (CONFIG_IPV6_SUBTREES), gateway, metric, refcount, use (0), flags, device.
 *
 *   bpf-iter iter pin examples/bpf/bpf_iter_ipv6_route.bpf.c /sys/fs/bpf/my_route
 *   cat /sys/fs/bpf/my_route; rm /sys/fs/bpf/my_route
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

#define RTF_GATEWAY 0x0002

extern bool CONFIG_IPV6_SUBTREES __kconfig __weak;

SEC("iter/ipv6_route")
int dump_ipv6_route(struct bpf_iter__ipv6_route *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct fib6_info *rt = ctx->rt;
	const struct net_device *dev;
	struct fib6_nh *fib6_nh;
	unsigned int flags;

	if (rt == NULL)
		return 0;

	/* A route with a nexthop object keeps its fib6_nh there (multipath groups are not walked). */
	fib6_nh = &rt->fib6_nh[0];
	if (rt->nh)
		fib6_nh = &rt->nh->nh_info->fib6_nh;
	flags = rt->fib6_flags;

	BPF_SEQ_PRINTF(seq, "%pi6 %02x ", &rt->fib6_dst.addr, rt->fib6_dst.plen);
	if (CONFIG_IPV6_SUBTREES)
		BPF_SEQ_PRINTF(seq, "%pi6 %02x ", &rt->fib6_src.addr, rt->fib6_src.plen);
	else
		BPF_SEQ_PRINTF(seq, "00000000000000000000000000000000 00 ");

	if (fib6_nh->nh_common.nhc_gw_family) {
		flags |= RTF_GATEWAY;
		BPF_SEQ_PRINTF(seq, "%pi6", &fib6_nh->nh_common.nhc_gw.ipv6);
	} else {
		BPF_SEQ_PRINTF(seq, "00000000000000000000000000000000");
	}

	dev = fib6_nh->nh_common.nhc_dev;
	if (dev)
		BPF_SEQ_PRINTF(seq, " %08x %08x %08x %08x %8s\n", rt->fib6_metric, rt->fib6_ref.refs.counter, 0, flags, dev->name);
	else
		BPF_SEQ_PRINTF(seq, " %08x %08x %08x %08x %8s\n", rt->fib6_metric, rt->fib6_ref.refs.counter, 0, flags, "");
	return 0;
}
