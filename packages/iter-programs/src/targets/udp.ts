/**
 * The `udp` target (net/ipv4/udp.c): IPv4 and IPv6 UDP sockets over the
 * secondary (address+port) hash table, bucket by bucket.
 * ctx: `struct bpf_iter__udp { meta; udp_sk; uid; bucket }`.
 */
import { AF_INET, type Socket } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { bpf_seq_write } from '../helpers/seq_write.js';
import { UDP4_HEADER, UDP6_HEADER, udpLine } from '../procfs/net.js';
import type { BpfIterReg } from '../registry.js';
import { sockDestroyProto, sockSeqInfo } from './sock_target.js';

/** ctx fields of `iter/udp` programs. */
export interface BpfIterUdpCtx {
  udp_sk: Socket | null;
  uid: number;
  /** The hash2 bucket being walked. */
  bucket: number;
}

/** Registration of the `udp` target. */
export const udpReg: BpfIterReg = {
  target: 'udp',
  get_func_proto: (func) => (func === 'bpf_sock_destroy' ? sockDestroyProto('udp') : null),
  ctx_arg_info: [{ offset: 8, field: 'udp_sk', reg_type: 'PTR_TO_BTF_ID_OR_NULL|PTR_TRUSTED', btf_type: 'udp_sock' }],
  seq_info: sockSeqInfo(
    'udp',
    (e) => ({ udp_sk: e.sk, uid: e.sk.sk_uid, bucket: e.bucket }),
    () => ({ udp_sk: null, uid: 0, bucket: 0 }),
  ),
};

/** Globals of {@link dumpUdp}: `family` 0 prints both, 4 or 6 one family exactly like /proc/net/udp(6). */
export interface UdpDumpGlobals {
  bss: { family: number };
}

/** The default dumper of `bpf-iter cat udp`: /proc/net/udp and /proc/net/udp6 lines (`sl` is the bucket). */
export const dumpUdp = SEC<BpfIterUdpCtx, UdpDumpGlobals>('iter/udp', function dump_udp(ctx) {
  const { seq, seq_num } = ctx.meta;
  const family = this.bss.family;
  const sk = ctx.udp_sk;
  if (seq_num === 0n || (sk === null && seq_num === 0xffffffffffffffffn)) bpf_seq_write(seq, family === 6 ? UDP6_HEADER : UDP4_HEADER);
  if (sk === null) return 0;
  const v4 = sk.skc_family === AF_INET;
  if ((family === 4 && !v4) || (family === 6 && v4)) return 0;
  bpf_seq_write(seq, udpLine(sk, ctx.bucket));
  return 0;
});
