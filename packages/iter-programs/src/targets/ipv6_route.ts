/** The `ipv6_route` target (net/ipv6/ip6_fib.c): the IPv6 FIB in walk order. ctx: `{ meta; rt }`. */
import { ipv6RouteWalker, type Ipv6Route } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { bpf_seq_write } from '../helpers/seq_write.js';
import { ipv6RouteLine } from '../procfs/net.js';
import type { BpfIterReg } from '../registry.js';
import { positionSeqInfo } from './position_target.js';

/** ctx fields of `iter/ipv6_route` programs. */
export interface BpfIterIpv6RouteCtx {
  rt: Ipv6Route | null;
}

/** Registration of the `ipv6_route` target. */
export const ipv6RouteReg: BpfIterReg = {
  target: 'ipv6_route',
  ctx_arg_info: [{ offset: 8, field: 'rt', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'fib6_info' }],
  seq_info: positionSeqInfo('rt', ipv6RouteWalker),
};

/** The default dumper of `bpf-iter cat ipv6_route`: /proc/net/ipv6_route. */
export const dumpIpv6Route = SEC<BpfIterIpv6RouteCtx>('iter/ipv6_route', function dump_ipv6_route(ctx) {
  if (ctx.rt === null) return 0;
  bpf_seq_write(ctx.meta.seq, ipv6RouteLine(ctx.rt));
  return 0;
});
