// SPDX-License-Identifier: GPL-2.0
/* One rec_route per IPv6 FIB entry (the selftest's way to find the device). */
#include "common.h"

SEC("iter/ipv6_route")
int dump_ipv6_route(struct bpf_iter__ipv6_route *ctx)
{
	struct fib6_info *rt = ctx->rt;
	struct rec_route r = {};
	struct fib6_nh *nh;
	struct net_device *dev;

	if (!rt)
		return 0;
	BPF_CORE_READ_INTO(&r.dst, rt, fib6_dst.addr);
	BPF_CORE_READ_INTO(&r.src, rt, fib6_src.addr);
	r.dst_len = BPF_CORE_READ(rt, fib6_dst.plen);
	r.src_len = BPF_CORE_READ(rt, fib6_src.plen);
	r.metric = BPF_CORE_READ(rt, fib6_metric);
	r.flags = BPF_CORE_READ(rt, fib6_flags);
	r.ref = BPF_CORE_READ(rt, fib6_ref.refs.counter);
	if (BPF_CORE_READ(rt, nh))
		nh = BPF_CORE_READ(rt, nh, nh_info) ? &rt->nh->nh_info->fib6_nh : 0;
	else
		nh = &rt->fib6_nh[0];
	if (nh) {
		dev = BPF_CORE_READ(nh, nh_common.nhc_dev);
		if (dev)
			BPF_CORE_READ_STR_INTO(&r.dev, dev, name);
		/* /proc/net/ipv6_route prints the gateway and ORs RTF_GATEWAY into the flags when there is one. */
		r.gw_family = BPF_CORE_READ(nh, nh_common.nhc_gw_family);
		if (r.gw_family)
			BPF_CORE_READ_INTO(&r.gw, nh, nh_common.nhc_gw.ipv6);
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
