/** The `kmem_cache` target (kernel/bpf/kmem_cache_iter.c): slab caches in list order. ctx: `{ meta; s }`. */
import { kmemCacheWalker, type KmemCache } from '@bpf-iter/core';
import { BPF_ITER_RESCHED } from '../constants.js';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import type { BpfIterReg } from '../registry.js';
import { positionSeqInfo } from './position_target.js';

/** ctx fields of `iter/kmem_cache` programs. */
export interface BpfIterKmemCacheCtx {
  s: KmemCache | null;
}

/** Registration of the `kmem_cache` target. */
export const kmemCacheReg: BpfIterReg = {
  target: 'kmem_cache',
  ctx_arg_info: [{ offset: 8, field: 's', reg_type: 'PTR_TO_BTF_ID_OR_NULL|PTR_TRUSTED', btf_type: 'kmem_cache' }],
  feature: BPF_ITER_RESCHED,
  show_fdinfo: (_aux, seq) => seq.puts('kmem_cache iter\n'),
  seq_info: positionSeqInfo('s', kmemCacheWalker),
};

/** The default dumper of `bpf-iter cat kmem_cache`: /proc/slabinfo-style lines. */
export const dumpKmemCache = SEC<BpfIterKmemCacheCtx>('iter/kmem_cache', function dump_kmem_cache(ctx) {
  const seq = ctx.meta.seq;
  const s = ctx.s;
  if (s === null) return 0;
  if (ctx.meta.seq_num === 0n) BPF_SEQ_PRINTF(seq, '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>\n');
  BPF_SEQ_PRINTF(seq, '%-17s %6lu %6lu %6u %4u %4d\n', s.name, s.active_objs, s.num_objs, s.size, s.objs_per_slab, s.pages_per_slab);
  return 0;
});
