/** The `bpf_map` target: every BPF map by ascending id. ctx: `{ meta; map }`. */
import type { BpfMap } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import type { BpfIterReg } from '../registry.js';
import { idrSeqInfo } from './idr_target.js';

/** ctx fields of `iter/bpf_map` programs. */
export interface BpfIterBpfMapCtx {
  map: BpfMap | null;
}

/** Registration of the `bpf_map` target. */
export const bpfMapReg: BpfIterReg = {
  target: 'bpf_map',
  ctx_arg_info: [{ offset: 8, field: 'map', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'bpf_map' }],
  seq_info: idrSeqInfo('map', (k) => k.maps),
};

/** The default dumper of `bpf-iter cat bpf_map`. */
export const dumpBpfMap = SEC<BpfIterBpfMapCtx>('iter/bpf_map', function dump_bpf_map(ctx) {
  const seq = ctx.meta.seq;
  const map = ctx.map;
  if (map === null) return 0;
  if (ctx.meta.seq_num === 0n) BPF_SEQ_PRINTF(seq, '      id type             name             key_size value_size max_entries\n');
  BPF_SEQ_PRINTF(seq, '%8u %-16s %-16s %8u %10u %11u\n', map.id, map.typeName, map.name, map.key_size, map.value_size, map.max_entries);
  return 0;
});
