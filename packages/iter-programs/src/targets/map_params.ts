/**
 * The map link parameter of the map targets (map_iter.c's
 * `bpf_iter_attach_map`, bpf_sk_storage.c, `sock_map_iter_attach_target`):
 * attach, detach, fdinfo and link info.
 */
import type { BpfMap } from '@bpf-iter/core';
import { neg } from '../errno.js';
import { fdTable } from '../fd_table.js';
import { MapFd } from '../fds.js';
import type { BpfIterLinkInfo } from '../link_info.js';
import type { BpfProgAccess, BpfProgFd } from '../program.js';
import type { BpfIterAuxInfo, BpfIterAuxOf, BpfIterReg } from '../registry.js';

/** The aux of a map target's link: `attachMapFd` fills `map`. */
export type MapLinkAux = BpfIterAuxOf<'map'>;

/**
 * `map_fd` 0 → -EBADF, not an open fd → -EBADF, not a map → -EINVAL, a map
 * type the target does not walk → -EINVAL, then the program's buffer reach
 * (`access`, -EACCES). The link takes a reference on the map.
 */
export function attachMapFd(prog: BpfProgFd, linfo: BpfIterLinkInfo, aux: BpfIterAuxInfo, accepts: (m: BpfMap) => boolean, reach: (m: BpfMap, access: BpfProgAccess) => boolean): number {
  const fd = linfo.map.map_fd;
  if (!fd) return neg('EBADF');
  const obj = fdTable.lookup(fd);
  if (!obj) return neg('EBADF');
  if (!(obj instanceof MapFd)) return neg('EINVAL');
  const map = obj.map;
  if (!accepts(map)) return neg('EINVAL');
  if (!reach(map, prog.spec.access ?? {})) return neg('EACCES');
  map.get(); // the link's reference
  aux.map = { map, map_id: map.id };
  return 0;
}

/** The map a map target's link holds. */
export function linkMap(aux: MapLinkAux): BpfMap {
  return aux.map.map;
}

/** detach/fdinfo/link-info of the map targets: drop the reference, `map_id:\t<id>`, `info.iter.map.map_id`. */
export const mapLinkOps: Pick<BpfIterReg<unknown, unknown, MapLinkAux>, 'detach_target' | 'show_fdinfo' | 'fill_link_info'> = {
  detach_target: (aux) => linkMap(aux).put(),
  show_fdinfo: (aux, seq) => seq.puts(`map_id:\t${linkMap(aux).id}\n`),
  fill_link_info(aux, info) {
    info.map.map_id = linkMap(aux).id;
    return 0;
  },
};
