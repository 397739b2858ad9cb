/**
 * Seq ops shared by the id-ordered targets (`bpf_map`, `bpf_prog`,
 * `bpf_link`: map_iter.c, prog_iter.c, link_iter.c): objects by ascending
 * id through the core {@link IdrWalker}; ctx `{ meta, <field> }`.
 */
import { IdrWalker, type Idr, type Kernel, type KObject } from '@bpf-iter/core';
import type { BpfIterSeqInfo } from '../registry.js';
import { sessionKernel } from './session.js';
import { walkerSeqOps } from './seq_ops.js';

interface IdrPriv<T extends KObject> {
  walker: IdrWalker<T> | null;
  done?: boolean;
}

/** seq_info of a target over one of the kernel's IDRs, handing objects to the program as `field`. */
export function idrSeqInfo<T extends KObject>(field: string, idr: (k: Kernel) => Idr<T>): BpfIterSeqInfo<T, IdrPriv<T>> {
  return {
    seq_priv: () => ({ walker: null }),
    init_seq_private(priv, aux) {
      priv.walker = new IdrWalker(idr(sessionKernel(aux)));
    },
    fini_seq_private: (priv) => priv.walker?.stop(),
    seq_ops: walkerSeqOps((v) => ({ [field]: v }), () => ({ [field]: null })),
  };
}
