/**
 * The `netlink` target (net/netlink/af_netlink.c): netlink sockets, protocol
 * table by protocol table. ctx: `struct bpf_iter__netlink { meta; sk }`.
 */
import type { Socket } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { bpf_seq_write } from '../helpers/seq_write.js';
import { NETLINK_HEADER, netlinkLine } from '../procfs/net.js';
import type { BpfIterReg } from '../registry.js';
import { sockSeqInfo } from './sock_target.js';

/** ctx fields of `iter/netlink` programs. */
export interface BpfIterNetlinkCtx {
  sk: Socket | null;
}

/** Registration of the `netlink` target. */
export const netlinkReg: BpfIterReg = {
  target: 'netlink',
  ctx_arg_info: [{ offset: 8, field: 'sk', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'netlink_sock' }],
  seq_info: sockSeqInfo(
    'netlink',
    (e) => ({ sk: e.sk }),
    () => ({ sk: null }),
  ),
};

/** The default dumper of `bpf-iter cat netlink`: /proc/net/netlink. */
export const dumpNetlink = SEC<BpfIterNetlinkCtx>('iter/netlink', function dump_netlink(ctx) {
  const { seq, seq_num } = ctx.meta;
  const sk = ctx.sk;
  if (seq_num === 0n || (sk === null && seq_num === 0xffffffffffffffffn)) bpf_seq_write(seq, NETLINK_HEADER);
  if (sk === null) return 0;
  bpf_seq_write(seq, netlinkLine(sk));
  return 0;
});
