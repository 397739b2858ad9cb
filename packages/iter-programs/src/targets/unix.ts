/**
 * The `unix` target (net/unix/af_unix.c): AF_UNIX sockets, bucket by bucket.
 * ctx: `struct bpf_iter__unix { meta; unix_sk; uid }`.
 */
import type { Socket } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { bpf_seq_write } from '../helpers/seq_write.js';
import { UNIX_HEADER, unixLine } from '../procfs/net.js';
import type { BpfIterReg } from '../registry.js';
import { sockoptProto, sockSeqInfo } from './sock_target.js';

/** ctx fields of `iter/unix` programs. */
export interface BpfIterUnixCtx {
  unix_sk: Socket | null;
  uid: number;
}

/** Registration of the `unix` target. */
export const unixReg: BpfIterReg = {
  target: 'unix',
  get_func_proto: (func) => sockoptProto(func),
  ctx_arg_info: [{ offset: 8, field: 'unix_sk', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'unix_sock' }],
  seq_info: sockSeqInfo(
    'unix',
    (e) => ({ unix_sk: e.sk, uid: e.sk.sk_uid }),
    () => ({ unix_sk: null, uid: 0 }),
  ),
};

/** The default dumper of `bpf-iter cat unix`: /proc/net/unix. */
export const dumpUnix = SEC<BpfIterUnixCtx>('iter/unix', function dump_unix(ctx) {
  const { seq, seq_num } = ctx.meta;
  const sk = ctx.unix_sk;
  if (seq_num === 0n || (sk === null && seq_num === 0xffffffffffffffffn)) bpf_seq_write(seq, UNIX_HEADER);
  if (sk === null) return 0;
  bpf_seq_write(seq, unixLine(sk));
  return 0;
});
