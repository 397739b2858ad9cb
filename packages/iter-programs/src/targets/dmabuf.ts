/**
 * The `dmabuf` target (kernel/bpf/dmabuf_iter.c, v6.16+ with the 6.18.y
 * resume fix): every DMA buffer of the global list, each referenced while
 * the program runs. No end call. ctx: `struct bpf_iter__dmabuf { meta; dmabuf }`.
 */
import { DmaBufWalker, type DmaBuf } from '@bpf-iter/core';
import { BPF_ITER_RESCHED } from '../constants.js';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import type { BpfIterReg } from '../registry.js';
import { bpf_iter_show } from '../seq_file.js';
import { sessionKernel } from './session.js';

/** ctx fields of `iter/dmabuf` programs. */
export interface BpfIterDmabufCtx {
  dmabuf: DmaBuf | null;
}

interface DmabufPriv {
  walker: DmaBufWalker | null;
}

/** Registration of the `dmabuf` target. */
export const dmabufReg: BpfIterReg<DmaBuf, DmabufPriv> = {
  target: 'dmabuf',
  ctx_arg_info: [{ offset: 8, field: 'dmabuf', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'dma_buf' }],
  feature: BPF_ITER_RESCHED,
  show_fdinfo: (_aux, seq) => seq.puts('dmabuf iter\n'),
  seq_info: {
    seq_priv: () => ({ walker: null }),
    init_seq_private(priv, aux) {
      const k = sessionKernel(aux);
      k.checkReadable('dmabuf');
      priv.walker = new DmaBufWalker(k.dmabufs);
    },
    // The buffer fetched but not shown by the last read stays referenced until here.
    fini_seq_private: (priv) => priv.walker?.release(),
    seq_ops: {
      start(seq, pos) {
        const v = seq.private.walker!.start();
        if (v && pos.value === 0) pos.value++;
        return v;
      },
      next(seq, _v, pos) {
        pos.value++;
        return seq.private.walker!.next();
      },
      // No end call: stop never runs the program.
      stop: (seq) => seq.private.walker!.stop(),
      show: (seq, v) => bpf_iter_show(seq, { dmabuf: v }, false),
    },
  },
};

/** The default dumper of `bpf-iter cat dmabuf`: debugfs `dma_buf/bufinfo` lines. */
export const dumpDmabuf = SEC<BpfIterDmabufCtx>('iter/dmabuf', function dump_dmabuf(ctx) {
  const seq = ctx.meta.seq;
  const b = ctx.dmabuf;
  if (b === null) return 0;
  if (ctx.meta.seq_num === 0n) BPF_SEQ_PRINTF(seq, 'size    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n');
  BPF_SEQ_PRINTF(seq, '%08lu\t%08x\t%08x\t%08ld\t%s\t%08lu\t%s\n', b.size, b.f_flags, b.f_mode, b.file_count, b.exp_name, b.ino, b.name || '<none>');
  return 0;
});
