/**
 * The `bpf_map_elem` target (map_iter.c + the maps' own seq ops): every
 * element of one map, given by `map_fd` at link creation.
 * ctx: `struct bpf_iter__bpf_map_elem { meta; map; key; value }`.
 */
import {
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_PERCPU_HASH,
  MapElemWalker,
  type BpfMap,
  type MapElem,
} from '@bpf-iter/core';
import { SEC } from '../program.js';
import { bpf_seq_write } from '../helpers/seq_write.js';
import type { BpfIterReg } from '../registry.js';
import { attachMapFd, linkMap, mapLinkOps, type MapLinkAux } from './map_params.js';
import { walkerSeqOps } from './seq_ops.js';

/** ctx fields of `iter/bpf_map_elem` programs. */
export interface BpfIterBpfMapElemCtx {
  map: BpfMap;
  /** Read-only; NULL in the end call. */
  key: Uint8Array | null;
  /** Writable (the live value for ARRAY/HASH/LRU_HASH, a per-session copy for per-CPU maps); NULL in the end call. */
  value: Uint8Array | null;
}

const ITERABLE = new Set([BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY]);

interface ElemPriv {
  map: BpfMap | null;
  walker: MapElemWalker | null;
  done?: boolean;
}

/** Registration of the `bpf_map_elem` target. */
export const bpfMapElemReg: BpfIterReg<MapElem, ElemPriv, MapLinkAux> = {
  target: 'bpf_map_elem',
  attach_target: (prog, linfo, aux) =>
    attachMapFd(prog, linfo, aux, (m) => ITERABLE.has(m.map_type), (m, access) => {
      const valueLimit = m.percpu ? ((m.value_size + 7) & ~7) * m.nrCpus : m.value_size;
      return (access.key ?? 0) <= m.key_size && (access.value ?? 0) <= valueLimit;
    }),
  ...mapLinkOps,
  ctx_arg_info: [
    { offset: 16, field: 'key', reg_type: 'PTR_TO_BUF|MEM_RDONLY|PTR_MAYBE_NULL' },
    { offset: 24, field: 'value', reg_type: 'PTR_TO_BUF|PTR_MAYBE_NULL' },
  ],
  seq_info: {
    seq_priv: () => ({ map: null, walker: null }),
    init_seq_private(priv, aux) {
      // The session takes its own map reference: closing the link keeps it readable.
      linkMap(aux).checkContents();
      priv.map = linkMap(aux).get();
      priv.walker = new MapElemWalker(priv.map);
    },
    fini_seq_private(priv) {
      priv.map?.put();
      priv.map = null;
    },
    // Per-CPU maps: the program sees a per-session copy of the values; writes are not propagated.
    seq_ops: walkerSeqOps(
      (e) => ({ map: e.map, key: e.key.slice(), value: e.map.percpu ? e.value.slice() : e.value }),
      (seq) => ({ map: seq.private.map, key: null, value: null }),
    ),
  },
};

/** The default dumper of `bpf-iter cat bpf_map_elem --map ID`: key and value in hex. */
export const dumpBpfMapElem = SEC<BpfIterBpfMapElemCtx>('iter/bpf_map_elem', function dump_bpf_map_elem(ctx) {
  const { key, value } = ctx;
  if (key === null || value === null) return 0;
  bpf_seq_write(ctx.meta.seq, `key: ${Buffer.from(key).toString('hex')} value: ${Buffer.from(value).toString('hex')}\n`);
  return 0;
});
