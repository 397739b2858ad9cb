/**
 * The `ksym` target (kernel/kallsyms.c): the /proc/kallsyms sequence.
 * ctx: `{ meta; ksym }`. Quirk kept from the kernel: the end call passes the
 * iterator's own (non-NULL) state, whose `name` is empty.
 */
import { ksymWalker, type Ksym } from '@bpf-iter/core';
import { BPF_ITER_RESCHED } from '../constants.js';
import { SEC } from '../program.js';
import { bpf_seq_write } from '../helpers/seq_write.js';
import { kallsymsLine } from '../procfs/kallsyms.js';
import type { BpfIterReg } from '../registry.js';
import { positionSeqInfo } from './position_target.js';

/** ctx fields of `iter/ksym` programs. */
export interface BpfIterKsymCtx {
  ksym: Ksym;
}

/** Registration of the `ksym` target. */
export const ksymReg: BpfIterReg = {
  target: 'ksym',
  ctx_arg_info: [{ offset: 8, field: 'ksym', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'kallsym_iter' }],
  feature: BPF_ITER_RESCHED,
  seq_info: positionSeqInfo<Ksym>('ksym', ksymWalker, (w) => ({ name: '', type: '', value: 0n, module_name: '', pos: w.pos })),
};

/** The default dumper of `bpf-iter cat ksym`: /proc/kallsyms (symbols with empty names are hidden, as there). */
export const dumpKsym = SEC<BpfIterKsymCtx>('iter/ksym', function dump_ksym(ctx) {
  const s = ctx.ksym;
  if (!s.name) return 0;
  bpf_seq_write(ctx.meta.seq, kallsymsLine(s));
  return 0;
});
