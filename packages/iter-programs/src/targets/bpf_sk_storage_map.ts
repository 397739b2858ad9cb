/**
 * The `bpf_sk_storage_map` target (net/core/bpf_sk_storage.c): one object
 * per socket that has storage in the `BPF_MAP_TYPE_SK_STORAGE` map given by
 * `map_fd`; `value` is the live storage (writable in place).
 * ctx: `struct bpf_iter__bpf_sk_storage_map { meta; map; sk; value }`.
 */
import { BPF_MAP_TYPE_SK_STORAGE, skStorageWalker, type BpfMap, type SkStorageEntry, type Socket } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import type { BpfIterReg } from '../registry.js';
import { attachMapFd, linkMap, mapLinkOps, type MapLinkAux } from './map_params.js';
import { walkerSeqOps, type WalkerPriv } from './seq_ops.js';

/** ctx fields of `iter/bpf_sk_storage_map` programs. */
export interface BpfIterBpfSkStorageMapCtx {
  map: BpfMap;
  /** The socket owning the storage; NULL in the end call. */
  sk: Socket | null;
  /** The storage, writable in place; NULL in the end call. */
  value: Uint8Array | null;
}

interface SkStoragePriv extends WalkerPriv<SkStorageEntry> {
  map: BpfMap | null;
}

/** Registration of the `bpf_sk_storage_map` target. */
export const bpfSkStorageMapReg: BpfIterReg<SkStorageEntry, SkStoragePriv, MapLinkAux> = {
  target: 'bpf_sk_storage_map',
  attach_target: (prog, linfo, aux) =>
    attachMapFd(prog, linfo, aux, (m) => m.map_type === BPF_MAP_TYPE_SK_STORAGE, (m, access) => (access.value ?? 0) <= m.value_size),
  ...mapLinkOps,
  ctx_arg_info: [
    { offset: 16, field: 'sk', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'sock' },
    { offset: 24, field: 'value', reg_type: 'PTR_TO_BUF|PTR_MAYBE_NULL' },
  ],
  seq_info: {
    seq_priv: () => ({ map: null, walker: null }),
    init_seq_private(priv, aux) {
      linkMap(aux).checkContents();
      priv.map = linkMap(aux).get();
      priv.walker = skStorageWalker(priv.map);
    },
    fini_seq_private(priv) {
      priv.map?.put();
      priv.map = null;
    },
    seq_ops: walkerSeqOps(
      (e) => ({ map: e.map, sk: e.sk, value: e.value }),
      (seq) => ({ map: seq.private.map, sk: null, value: null }),
    ),
  },
};

/** The default dumper of `bpf-iter cat bpf_sk_storage_map --map ID`: socket inode, cookie and the value in hex. */
export const dumpBpfSkStorageMap = SEC<BpfIterBpfSkStorageMapCtx>('iter/bpf_sk_storage_map', function dump_bpf_sk_storage_map(ctx) {
  const { sk, value } = ctx;
  if (sk === null || value === null) return 0;
  BPF_SEQ_PRINTF(ctx.meta.seq, 'sk: ino %lu cookie %llu value: %s\n', sk.ino, sk.cookie, Buffer.from(value).toString('hex'));
  return 0;
});
