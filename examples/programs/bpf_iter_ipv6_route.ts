/** The selftest program `bpf_iter_ipv6_route.c`, ported line by line: /proc/net/ipv6_route from BPF. */
import { RTF_GATEWAY } from '@bpf-iter/core';
import { BPF_SEQ_PRINTF, SEC, type BpfIterIpv6RouteCtx } from '@bpf-iter/iter-programs';

export const _license = 'GPL';

// SEC("iter/ipv6_route")
// int dump_ipv6_route(struct bpf_iter__ipv6_route *ctx)
export const dump_ipv6_route = SEC<BpfIterIpv6RouteCtx>('iter/ipv6_route', function dump_ipv6_route(ctx) {
  const seq = ctx.meta.seq; //                    struct seq_file *seq = ctx->meta->seq;
  const rt = ctx.rt; //                           struct fib6_info *rt = ctx->rt;
  if (rt === null) return 0; //                   if (rt == (void *)0) return 0;
  let flags = rt.fib6_flags; //                   flags = rt->fib6_flags;
  BPF_SEQ_PRINTF(seq, '%pi6 %02x ', rt.fib6_dst, rt.fib6_dst_len);
  BPF_SEQ_PRINTF(seq, '%pi6 %02x ', rt.fib6_src, rt.fib6_src_len); // CONFIG_IPV6_SUBTREES
  if (rt.gateway.some((b) => b !== 0)) { //        if (fib6_nh->fib_nh_gw_family) {
    flags |= RTF_GATEWAY;
    BPF_SEQ_PRINTF(seq, '%pi6 ', rt.gateway);
  } else {
    BPF_SEQ_PRINTF(seq, '00000000000000000000000000000000 ');
  }
  // dev = fib6_nh->fib_nh_dev; if (dev) ...
  BPF_SEQ_PRINTF(seq, '%08x %08x %08x %08x %8s\n', rt.fib6_metric, rt.fib6_ref, 0, flags >>> 0, rt.dev);
  return 0;
});
