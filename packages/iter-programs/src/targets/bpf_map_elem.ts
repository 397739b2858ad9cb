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
import { neg } from '../errno.js';
import { fdTable } from '../fd_table.js';
import { SEC } from '../program.js';
import { bpf_seq_write } from '../helpers/seq_write.js';
import type { BpfIterAuxInfo, BpfIterReg } from '../registry.js';
import { MapFd, walkerSeqOps } from './common.js';

/** ctx fields of `iter/bpf_map_elem` programs. */
export interface BpfIterBpfMapElemCtx {
  map: BpfMap;
  /** Read-only; NULL in the end call. */
  key: Uint8Array | null;
  /** Writable (the live value for ARRAY/HASH/LRU_HASH, a per-session copy for per-CPU maps); NULL in the end call. */
  value: Uint8Array | null;
}

const ITERABLE = new Set([BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY]);

/** The furthest key/value byte a program reads, as the verifier records it (declared on the program spec as `access`). */
interface ProgAccess {
  key?: number;
  value?: number;
}

function mapOf(aux: BpfIterAuxInfo): BpfMap {
  return (aux.map as { map: BpfMap }).map;
}

interface ElemPriv {
  map: BpfMap | null;
  walker: MapElemWalker | null;
  done?: boolean;
}

/** Registration of the `bpf_map_elem` target. */
export const bpfMapElemReg: BpfIterReg<MapElem, ElemPriv> = {
  target: 'bpf_map_elem',
  attach_target(prog, linfo, aux) {
    const fd = linfo.map.map_fd;
    if (!fd) return neg('EBADF');
    const obj = fdTable.lookup(fd);
    if (!obj) return neg('EBADF');
    if (!(obj instanceof MapFd)) return neg('EINVAL');
    const map = obj.map;
    if (!ITERABLE.has(map.map_type)) return neg('EINVAL');
    const access = ((prog as unknown as { spec?: { access?: ProgAccess } }).spec?.access ?? {}) as ProgAccess;
    if ((access.key ?? 0) > map.key_size) return neg('EACCES');
    const valueLimit = map.percpu ? ((map.value_size + 7) & ~7) * map.nrCpus : map.value_size;
    if ((access.value ?? 0) > valueLimit) return neg('EACCES');
    map.get(); // the link's reference
    aux.map = { map, map_id: map.id };
    return 0;
  },
  detach_target: (aux) => mapOf(aux).put(),
  show_fdinfo: (aux, seq) => seq.puts(`map_id:\t${mapOf(aux).id}\n`),
  fill_link_info(aux, info) {
    info.map.map_id = mapOf(aux).id;
    return 0;
  },
  ctx_arg_info: [
    { offset: 16, field: 'key', reg_type: 'PTR_TO_BUF|MEM_RDONLY|PTR_MAYBE_NULL' },
    { offset: 24, field: 'value', reg_type: 'PTR_TO_BUF|PTR_MAYBE_NULL' },
  ],
  seq_info: {
    seq_priv: () => ({ map: null, walker: null }),
    init_seq_private(priv, aux) {
      // The session takes its own map reference: closing the link keeps it readable.
      priv.map = mapOf(aux).get();
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
