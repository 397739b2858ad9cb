/**
 * The seq-ops factory of the targets whose traversal is a core walker (the
 * task, id, position and map-element targets), as bpf_iter.c's targets share
 * `bpf_iter_run_prog`.
 */
import type { Walker } from '@bpf-iter/core';
import type { SeqOperations } from '../registry.js';
import { bpf_iter_show, type SeqFile } from '../seq_file.js';

/** Private state of a target whose traversal is a core walker. */
export interface WalkerPriv<V> {
  walker: Walker<V> | null;
  /** Set once the walk returned NULL: later reads find nothing (EOF stays EOF, §2.6). */
  done?: boolean;
}

/**
 * The seq ops of a target over a core walker: `start`/`next`/`stop` are the
 * walker's, `show` runs the program on `fields(v)`, and the end call on
 * `endFields(seq)`.
 */
export function walkerSeqOps<V, P extends WalkerPriv<V>>(
  fields: (v: V) => Record<string, unknown>,
  endFields: (seq: SeqFile<P>) => Record<string, unknown>,
): SeqOperations<V, P> {
  return {
    start(seq, pos) {
      // A TID-mode task_vma walk would otherwise find its task again after the end.
      if (seq.private.done) return null;
      const v = seq.private.walker!.start();
      if (!v) seq.private.done = true;
      else if (pos.value === 0) pos.value++;
      return v;
    },
    next(seq, _v, pos) {
      pos.value++;
      const v = seq.private.walker!.next();
      if (!v) seq.private.done = true;
      return v;
    },
    stop(seq, v) {
      if (v === null) bpf_iter_show(seq, endFields(seq), true);
      seq.private.walker!.stop();
    },
    show: (seq, v) => bpf_iter_show(seq, fields(v), false),
  };
}
