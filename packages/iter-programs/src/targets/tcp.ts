/**
 * The `tcp` target (net/ipv4/tcp_ipv4.c): IPv4 and IPv6 TCP sockets, the
 * listening table then the established one, bucket by bucket.
 * ctx: `struct bpf_iter__tcp { meta; sk_common; uid }`.
 */
import { AF_INET, TCP_TIME_WAIT, type Socket } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { bpf_seq_write } from '../helpers/seq_write.js';
import { TCP4_HEADER, TCP6_HEADER, tcpLine } from '../procfs/net.js';
import type { BpfIterReg } from '../registry.js';
import { sockDestroyProto, sockoptProto, sockSeqInfo } from './sock_target.js';

/** ctx fields of `iter/tcp` programs. */
export interface BpfIterTcpCtx {
  sk_common: Socket | null;
  uid: number;
}

/** Registration of the `tcp` target. */
export const tcpReg: BpfIterReg = {
  target: 'tcp',
  get_func_proto: (func) => (func === 'bpf_sock_destroy' ? sockDestroyProto('tcp') : sockoptProto(func)),
  ctx_arg_info: [{ offset: 8, field: 'sk_common', reg_type: 'PTR_TO_BTF_ID_OR_NULL|PTR_TRUSTED', btf_type: 'sock_common' }],
  seq_info: sockSeqInfo(
    'tcp',
    (e) => ({ sk_common: e.sk, uid: e.sk.skc_state === TCP_TIME_WAIT ? 0 : e.sk.sk_uid }),
    () => ({ sk_common: null, uid: 0 }),
  ),
};

/** Globals of {@link dumpTcp}: `family` 0 prints both (each in its /proc format), 4 or 6 one family exactly like /proc/net/tcp(6). */
export interface TcpDumpGlobals {
  bss: { family: number; session?: bigint; seqNum?: bigint; base?: number; next?: number };
}

/** The default dumper of `bpf-iter cat tcp`: /proc/net/tcp and /proc/net/tcp6 lines. */
export const dumpTcp = SEC<BpfIterTcpCtx, TcpDumpGlobals>('iter/tcp', function dump_tcp(ctx) {
  const { seq, session_id, seq_num } = ctx.meta;
  const bss = this.bss;
  // `sl` counts the lines printed before this object; a retried object (same seq_num) reuses it.
  if (bss.session !== session_id) Object.assign(bss, { session: session_id, seqNum: -1n, base: 0, next: 0 });
  if (bss.seqNum !== seq_num) Object.assign(bss, { seqNum: seq_num, base: bss.next });
  const sk = ctx.sk_common;
  if (seq_num === 0n || (sk === null && seq_num === 0xffffffffffffffffn)) bpf_seq_write(seq, bss.family === 6 ? TCP6_HEADER : TCP4_HEADER);
  if (sk === null) return 0;
  const v4 = sk.skc_family === AF_INET;
  if ((bss.family === 4 && !v4) || (bss.family === 6 && v4)) return 0;
  bpf_seq_write(seq, tcpLine(sk, bss.base!));
  bss.next = bss.base! + 1;
  return 0;
});
