/**
 * The `sockmap` target (net/core/sock_map.c): the slots of a SOCKMAP (every
 * index, `sk` NULL for an empty one) or the elements of a SOCKHASH, given
 * by `map_fd` at link creation.
 * ctx: `struct bpf_iter__sockmap { meta; map; key; sk }`.
 */
import { BPF_MAP_TYPE_SOCKHASH, BPF_MAP_TYPE_SOCKMAP, sockMapWalker, type BpfMap, type SockMapEntry, type Socket } from '@bpf-iter/core';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import type { BpfIterReg } from '../registry.js';
import { attachMapFd, linkMap, mapLinkOps, type MapLinkAux } from './map_params.js';
import { walkerSeqOps, type WalkerPriv } from './seq_ops.js';

/** ctx fields of `iter/sockmap` programs. */
export interface BpfIterSockmapCtx {
  map: BpfMap;
  /** Read-only; NULL in the end call. */
  key: Uint8Array | null;
  /** NULL for an empty SOCKMAP slot and in the end call. */
  sk: Socket | null;
}

interface SockmapPriv extends WalkerPriv<SockMapEntry> {
  map: BpfMap | null;
}

/** Registration of the `sockmap` target. */
export const sockmapReg: BpfIterReg<SockMapEntry, SockmapPriv, MapLinkAux> = {
  target: 'sockmap',
  attach_target: (prog, linfo, aux) =>
    attachMapFd(prog, linfo, aux, (m) => m.map_type === BPF_MAP_TYPE_SOCKMAP || m.map_type === BPF_MAP_TYPE_SOCKHASH, (m, access) => (access.key ?? 0) <= m.key_size),
  ...mapLinkOps,
  ctx_arg_info: [
    { offset: 16, field: 'key', reg_type: 'PTR_TO_BUF|MEM_RDONLY|PTR_MAYBE_NULL' },
    { offset: 24, field: 'sk', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'sock' },
  ],
  seq_info: {
    seq_priv: () => ({ map: null, walker: null }),
    init_seq_private(priv, aux) {
      // The session's own map reference: closing the link keeps it readable.
      linkMap(aux).checkContents();
      priv.map = linkMap(aux).get();
      priv.walker = sockMapWalker(priv.map);
    },
    fini_seq_private(priv) {
      priv.map?.put();
      priv.map = null;
    },
    seq_ops: walkerSeqOps(
      (e) => ({ map: e.map, key: e.key.slice(), sk: e.sk }),
      (seq) => ({ map: seq.private.map, key: null, sk: null }),
    ),
  },
};

/** The default dumper of `bpf-iter cat sockmap --map ID`: key, socket inode and cookie of each non-empty entry. */
export const dumpSockmap = SEC<BpfIterSockmapCtx>('iter/sockmap', function dump_sockmap(ctx) {
  const { key, sk } = ctx;
  if (key === null || sk === null) return 0;
  BPF_SEQ_PRINTF(ctx.meta.seq, 'key: %s sk: ino %lu cookie %llu\n', Buffer.from(key).toString('hex'), sk.ino, sk.cookie);
  return 0;
});
