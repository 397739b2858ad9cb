/** The `bpf_prog` target: every loaded BPF program by ascending id. ctx: `{ meta; prog }`. */
import type { BpfProg as KernelProg } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import type { BpfIterReg } from '../registry.js';
import { idrSeqInfo } from './idr_target.js';

/** ctx fields of `iter/bpf_prog` programs. */
export interface BpfIterBpfProgCtx {
  prog: KernelProg | null;
}

/** Registration of the `bpf_prog` target. */
export const bpfProgReg: BpfIterReg = {
  target: 'bpf_prog',
  ctx_arg_info: [{ offset: 8, field: 'prog', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'bpf_prog' }],
  seq_info: idrSeqInfo('prog', (k) => k.progs),
};

/** The default dumper of `bpf-iter cat bpf_prog`. */
export const dumpBpfProg = SEC<BpfIterBpfProgCtx>('iter/bpf_prog', function dump_bpf_prog(ctx) {
  const seq = ctx.meta.seq;
  const prog = ctx.prog;
  if (prog === null) return 0;
  if (ctx.meta.seq_num === 0n) BPF_SEQ_PRINTF(seq, '      id type             name             tag              attach\n');
  BPF_SEQ_PRINTF(seq, '%8u %-16s %-16s %s %s\n', prog.id, prog.typeName, prog.name, prog.tag, prog.attach_func_name || '-');
  return 0;
});
