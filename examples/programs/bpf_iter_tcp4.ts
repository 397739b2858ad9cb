/**
 * The selftest program `bpf_iter_tcp4.c`, ported: /proc/net/tcp from BPF,
 * IPv4 sockets only (the tcp iterator walks both families). The model keeps
 * the kernel's trailing columns (refcount, pointer, rto...) as text.
 */
import { AF_INET, TCP_TIME_WAIT } from '@bpf-iter/core';
import { BPF_SEQ_PRINTF, SEC, type BpfIterTcpCtx } from '@bpf-iter/iter-programs';

export const _license = 'GPL';

/** `sl`: running index of the printed sockets of this session. */
export const bss = { sl: 0, session: 0n };

// SEC("iter/tcp") int dump_tcp4(struct bpf_iter__tcp *ctx)
export const dump_tcp4 = SEC<BpfIterTcpCtx, { bss: typeof bss }>('iter/tcp', function dump_tcp4(ctx) {
  const sk_common = ctx.sk_common; //    struct sock_common *sk_common = ctx->sk_common;
  const seq = ctx.meta.seq; //           struct seq_file *seq = ctx->meta->seq;
  const uid = ctx.uid; //                uid_t uid = ctx->uid;
  if (sk_common === null) return 0;
  if (this.bss.session !== ctx.meta.session_id) Object.assign(this.bss, { sl: 0, session: ctx.meta.session_id });
  const seq_num = ctx.meta.seq_num;
  if (seq_num === 0n) {
    BPF_SEQ_PRINTF(seq, '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n');
  }
  if (sk_common.skc_family !== AF_INET) return 0; // if (sk_common->skc_family != AF_INET) return 0;
  const src = Buffer.from(sk_common.skc_rcv_saddr).readUInt32LE(0);
  const dest = Buffer.from(sk_common.skc_daddr).readUInt32LE(0);
  const x = sk_common.inet ?? { tr: 0, tm_when: 0, retrnsmt: 0, timeout: 0, tail: '' };
  BPF_SEQ_PRINTF(seq, '%4d: %08X:%04X %08X:%04X ', this.bss.sl++, src, sk_common.skc_num, dest, sk_common.dport);
  BPF_SEQ_PRINTF(seq, '%02X %08X:%08X %02X:%08lX %08X %5u %8d %lu', sk_common.skc_state, sk_common.tx_queue, sk_common.rx_queue, x.tr, x.tm_when, x.retrnsmt, sk_common.skc_state === TCP_TIME_WAIT ? 0 : uid, x.timeout, sk_common.ino);
  BPF_SEQ_PRINTF(seq, ' %s\n', x.tail);
  return 0;
});
