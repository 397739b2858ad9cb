/**
 * Seq ops shared by the targets that walk a list by position (`ipv6_route`,
 * `ksym`, `kmem_cache`) through the core {@link PositionWalker}.
 */
import type { Kernel, PositionWalker } from '@bpf-iter/core';
import type { BpfIterSeqInfo } from '../registry.js';
import { sessionKernel } from './session.js';
import { walkerSeqOps } from './seq_ops.js';

interface PosPriv<T> {
  walker: PositionWalker<T> | null;
  done?: boolean;
}

/**
 * seq_info handing each object to the program as `field`; `endObject`
 * gives what the end call passes (null for most targets; ksym passes its
 * iterator state).
 */
export function positionSeqInfo<T>(field: string, walker: (k: Kernel) => PositionWalker<T>, endObject: (w: PositionWalker<T>) => unknown = () => null): BpfIterSeqInfo<T, PosPriv<T>> {
  return {
    seq_priv: () => ({ walker: null }),
    init_seq_private(priv, aux) {
      priv.walker = walker(sessionKernel(aux));
    },
    seq_ops: walkerSeqOps((v) => ({ [field]: v }), (seq) => ({ [field]: endObject(seq.private.walker!) })),
  };
}
