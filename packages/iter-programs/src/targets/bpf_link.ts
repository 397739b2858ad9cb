/** The `bpf_link` target: every BPF link by ascending id. ctx: `{ meta; link }`. */
import type { BpfLink as KernelLink } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import type { BpfIterReg } from '../registry.js';
import { idrSeqInfo } from './idr_target.js';

/** ctx fields of `iter/bpf_link` programs. */
export interface BpfIterBpfLinkCtx {
  link: KernelLink | null;
}

/** Registration of the `bpf_link` target. */
export const bpfLinkReg: BpfIterReg = {
  target: 'bpf_link',
  ctx_arg_info: [{ offset: 8, field: 'link', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'bpf_link' }],
  seq_info: idrSeqInfo('link', (k) => k.links),
};

/** The default dumper of `bpf-iter cat bpf_link`. */
export const dumpBpfLink = SEC<BpfIterBpfLinkCtx>('iter/bpf_link', function dump_bpf_link(ctx) {
  const seq = ctx.meta.seq;
  const link = ctx.link;
  if (link === null) return 0;
  if (ctx.meta.seq_num === 0n) BPF_SEQ_PRINTF(seq, '      id type             prog_id\n');
  BPF_SEQ_PRINTF(seq, '%8u %-16s %8u\n', link.id, link.typeName, link.prog.id);
  return 0;
});
