/**
 * The `cgroup` target (kernel/bpf/cgroup_iter.c): a walk of the cgroup tree
 * from a start cgroup in one of the orders, done within one generating read
 * (a later read that would have to resume fails with EOPNOTSUPP). Program
 * return 1 means "stop after this cgroup". ctx: `{ meta; cgroup }`.
 */
import {
  BPF_CGROUP_ITER_ANCESTORS_UP,
  BPF_CGROUP_ITER_CHILDREN,
  BPF_CGROUP_ITER_DESCENDANTS_POST,
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_CGROUP_ITER_SELF_ONLY,
  CGROUP_ORDER_NAMES,
  cgroupWalkNext,
  type Cgroup,
} from '@bpf-iter/core';
import { BPF_ITER_RESCHED } from '../constants.js';
import { neg } from '../errno.js';
import { fdTable } from '../fd_table.js';
import { SEC } from '../program.js';
import { BPF_SEQ_PRINTF } from '../helpers/seq_printf.js';
import { ERR_PTR } from '../ptr.js';
import type { BpfIterAuxOf, BpfIterReg } from '../registry.js';
import { CgroupFd } from '../fds.js';
import { bpf_iter_show, type SeqFile } from '../seq_file.js';
import { sessionKernel } from './session.js';

/** ctx fields of `iter/cgroup` programs. */
export interface BpfIterCgroupCtx {
  cgroup: Cgroup | null;
}

const ORDERS = new Set([BPF_CGROUP_ITER_DESCENDANTS_PRE, BPF_CGROUP_ITER_DESCENDANTS_POST, BPF_CGROUP_ITER_ANCESTORS_UP, BPF_CGROUP_ITER_SELF_ONLY, BPF_CGROUP_ITER_CHILDREN]);

interface CgroupPriv {
  start: Cgroup | null;
  order: number;
  visitedAll: boolean;
  terminate: boolean;
}

/** The aux of a cgroup link: attach fills `cgroup`. */
type CgroupLinkAux = BpfIterAuxOf<'cgroup'>;

/** `__cgroup_iter_seq_show`: dead cgroups are skipped silently; a non-zero program result ends the walk. */
function show(seq: SeqFile<CgroupPriv>, cg: Cgroup | null, inStop: boolean): number {
  if (cg && cg.dead) return 0;
  const ret = bpf_iter_show(seq, { cgroup: cg }, inStop);
  if (ret) seq.private.terminate = true;
  return 0;
}

/** Registration of the `cgroup` target. */
export const cgroupReg: BpfIterReg<Cgroup, CgroupPriv, CgroupLinkAux> = {
  target: 'cgroup',
  attach_target(_prog, linfo, aux) {
    const { order, cgroup_fd: fd, cgroup_id: id } = linfo.cgroup;
    if (!ORDERS.has(order)) return neg('EINVAL');
    if (fd && id) return neg('EINVAL');
    let cg: Cgroup | undefined;
    if (fd) {
      const obj = fdTable.lookup(fd);
      if (!(obj instanceof CgroupFd)) return neg('EBADF');
      cg = obj.cgroup;
    } else if (id) {
      cg = id <= 0x7fffffffn ? sessionKernel(aux).cgroups.get(Number(id)) : undefined;
      if (!cg || cg.dead) return neg('ENOENT');
    } else {
      cg = sessionKernel(aux).cgroupRoot;
    }
    aux.cgroup = { start: cg.get(), order };
    return 0;
  },
  detach_target: (aux) => aux.cgroup.start.put(),
  show_fdinfo(aux, seq) {
    const { start, order } = aux.cgroup;
    seq.puts(`cgroup_path:\t${start.path}\n`);
    seq.puts(`order: ${CGROUP_ORDER_NAMES[order]}\n`);
  },
  fill_link_info(aux, info) {
    const { start, order } = aux.cgroup;
    info.cgroup.cgroup_id = BigInt(start.id);
    info.cgroup.order = order;
    return 0;
  },
  ctx_arg_info: [{ offset: 8, field: 'cgroup', reg_type: 'PTR_TO_BTF_ID_OR_NULL', btf_type: 'cgroup' }],
  feature: BPF_ITER_RESCHED,
  seq_info: {
    seq_priv: () => ({ start: null, order: 0, visitedAll: false, terminate: false }),
    init_seq_private(priv, aux) {
      const a = aux.cgroup;
      priv.start = a.start.get();
      priv.order = a.order;
    },
    fini_seq_private(priv) {
      priv.start?.put();
      priv.start = null;
    },
    seq_ops: {
      start(seq, pos) {
        const p = seq.private;
        if (pos.value > 0) return p.visitedAll ? null : ERR_PTR(neg('EOPNOTSUPP'));
        pos.value++;
        p.terminate = false;
        p.visitedAll = false;
        return cgroupWalkNext(p.order, null, p.start!);
      },
      next(seq, v, pos) {
        pos.value++;
        const p = seq.private;
        return p.terminate ? null : cgroupWalkNext(p.order, v, p.start!);
      },
      stop(seq, v) {
        if (v === null) {
          show(seq, null, true);
          seq.private.visitedAll = true;
        }
      },
      show: (seq, cg) => show(seq, cg, false),
    },
  },
};

/** The default dumper of `bpf-iter cat cgroup`: id, number of tasks and path of each cgroup. */
export const dumpCgroup = SEC<BpfIterCgroupCtx>('iter/cgroup', function dump_cgroup(ctx) {
  const seq = ctx.meta.seq;
  const cg = ctx.cgroup;
  if (cg === null) return 0;
  if (ctx.meta.seq_num === 0n) BPF_SEQ_PRINTF(seq, '      id  tasks path\n');
  BPF_SEQ_PRINTF(seq, '%8llu %6u %s\n', cg.id, cg.tasks.size, cg.path);
  return 0;
});
