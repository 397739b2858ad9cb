/**
 * What several targets share: which kernel and pid namespace a session sees,
 * running the program with a target-adjusted `seq_num`, and the task
 * targets' link parameters (`bpf_iter_attach_task`, fdinfo, link info).
 */
import { currentKernel, currentPidNs, type Kernel, type PidNamespace, type TaskIterSpec } from '@bpf-iter/core';
import { neg } from '../errno.js';
import type { BpfIterLinkInfo } from '../link_info.js';
import type { BpfIterMeta, BpfProgFd, BpfProgAccess } from '../program.js';
import type { BpfIterAuxInfo, BpfLinkInfoIter, FdinfoSeq } from '../registry.js';
import { bpf_iter_get_info, bpf_iter_run_prog, type SeqFile } from '../seq_file.js';
import { fdTable } from '../fd_table.js';
import { BPF_ITER_RESCHED } from '../constants.js';
import type { BpfCtxArgAux, BpfIterReg, SeqOperations } from '../registry.js';
import type { BpfMap, Walker } from '@bpf-iter/core';

/** The kernel a session iterates: the one given at link creation, else the ambient one. */
export function sessionKernel(aux: BpfIterAuxInfo): Kernel {
  return (aux.kernel as Kernel | undefined) ?? currentKernel();
}

/** The pid namespace of the process creating the iterator fd (captured per session). */
export function sessionPidNs(kernel: Kernel): PidNamespace {
  return currentPidNs(kernel);
}

/**
 * Runs the session's program on `{ meta, ...fields }`, with `seq_num`
 * lowered by `seqNumAdjust` (socket targets skip their header token: their
 * first socket sees 0, and an empty walk's end call sees 2^64-1).
 */
export function runProg(seq: SeqFile, fields: Record<string, unknown>, inStop: boolean, seqNumAdjust = 0): number {
  const meta = { seq } as { seq: SeqFile; session_id: bigint; seq_num: bigint };
  const prog = bpf_iter_get_info(meta, inStop);
  if (!prog) return 0;
  if (seqNumAdjust) meta.seq_num = BigInt.asUintN(64, meta.seq_num - BigInt(seqNumAdjust));
  fields.meta = meta;
  return bpf_iter_run_prog(prog, fields as unknown as { meta: BpfIterMeta });
}

/** An fd that refers to a process (`pidfd_open`), for the task targets' `pid_fd` parameter. */
export class PidFd {
  readonly fdKind = 'pidfd';
  constructor(
    readonly kernel: Kernel,
    /** The process id in the opener's namespace. */
    readonly pid: number,
  ) {}
  fdRelease(): void {}
}

/** `pidfd_open(pid)`: an fd for the task targets' `pid_fd` link parameter. */
export function pidfd_open(pid: number, kernel: Kernel = currentKernel()): number {
  const ns = currentPidNs(kernel);
  const t = ns.pids.get(pid);
  if (!t || !t.isLeader) return neg('ESRCH');
  return fdTable.install(new PidFd(kernel, pid));
}

/** Task link parameters as attach stored them (`bpf_iter_aux_info.task`). */
export interface TaskAux {
  type: 'ALL' | 'TID' | 'PID';
  pid: number;
}

/** `bpf_iter_attach_task`: at most one of tid, pid, pid_fd; no existence check. */
export function attachTask(linfo: BpfIterLinkInfo, aux: BpfIterAuxInfo): number {
  const { tid, pid, pid_fd } = linfo.task;
  let set = 0;
  if (tid) set++;
  if (pid) set++;
  if (pid_fd) set++;
  if (set > 1) return neg('EINVAL');
  const task: TaskAux = { type: 'ALL', pid: 0 };
  if (tid) {
    task.type = 'TID';
    task.pid = tid;
  } else if (pid) {
    task.type = 'PID';
    task.pid = pid;
  } else if (pid_fd) {
    const obj = fdTable.lookup(pid_fd);
    if (!obj) return neg('EBADF');
    if (!(obj instanceof PidFd)) return neg('EBADF');
    task.type = 'PID';
    task.pid = obj.pid;
  }
  aux.task = task;
  return 0;
}

/** The walker spec of a task session: the link's filter in the creator's namespace. */
export function taskSpec(aux: BpfIterAuxInfo, ns: PidNamespace): TaskIterSpec {
  const t = (aux.task as TaskAux | undefined) ?? { type: 'ALL', pid: 0 };
  return { ns, type: t.type === 'PID' ? 'TGID' : t.type, pid: t.pid };
}

/** fdinfo lines of the task targets: `task_type:\t…` then `tid:`/`pid:`. */
export function showTaskFdinfo(aux: BpfIterAuxInfo, seq: FdinfoSeq): void {
  const t = (aux.task as TaskAux | undefined) ?? { type: 'ALL', pid: 0 };
  seq.puts(`task_type:\t${t.type}\n`);
  if (t.type === 'TID') seq.puts(`tid:\t${t.pid}\n`);
  else if (t.type === 'PID') seq.puts(`pid:\t${t.pid}\n`);
}

/** Link info of the task targets: `tid` in TID mode, `pid` in PID mode. */
export function fillTaskLinkInfo(aux: BpfIterAuxInfo, info: BpfLinkInfoIter): number {
  const t = (aux.task as TaskAux | undefined) ?? { type: 'ALL', pid: 0 };
  if (t.type === 'TID') info.task.tid = t.pid;
  else if (t.type === 'PID') info.task.pid = t.pid;
  return 0;
}

/** An fd that refers to a kernel-model BPF map (what `BPF_MAP_CREATE` / `bpf_map_get_fd_by_id` return). */
export class MapFd {
  readonly fdKind = 'map';
  constructor(readonly map: import('@bpf-iter/core').BpfMap) {
    map.get();
  }
  fdRelease(): void {
    this.map.put();
  }
}

/**
 * The map link parameter of the map targets (`bpf_iter_attach_map` of
 * map_iter.c / bpf_sk_storage.c, `sock_map_iter_attach_target`): `map_fd`
 * 0 → -EBADF, not an open fd → -EBADF, not a map → -EINVAL, a map type the
 * target does not walk → -EINVAL, then the program's buffer reach
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
export function linkMap(aux: BpfIterAuxInfo): BpfMap {
  return (aux.map as { map: BpfMap }).map;
}

/** detach/fdinfo/link-info of the map targets: drop the reference, `map_id:\t<id>`, `info.iter.map.map_id`. */
export const mapLinkOps: Pick<BpfIterReg, 'detach_target' | 'show_fdinfo' | 'fill_link_info'> = {
  detach_target: (aux) => linkMap(aux).put(),
  show_fdinfo: (aux, seq) => seq.puts(`map_id:\t${linkMap(aux).id}\n`),
  fill_link_info(aux, info) {
    info.map.map_id = linkMap(aux).id;
    return 0;
  },
};

/** `bpf_map_get_fd_by_id(id)`: an fd for the map with that id, or -ENOENT. */
export function bpf_map_get_fd_by_id(id: number, kernel: Kernel = currentKernel()): number {
  const map = kernel.maps.get(id);
  if (!map || map.dead) return neg('ENOENT');
  return fdTable.install(new MapFd(map));
}

/** Installs an fd for a map object (like the fd `bpf_map_create` returns). */
export function mapFd(map: import('@bpf-iter/core').BpfMap): number {
  return fdTable.install(new MapFd(map));
}

/** An fd for a cgroup directory (what `open("/sys/fs/cgroup/...", O_RDONLY)` gives), for the cgroup target's `cgroup_fd`. */
export class CgroupFd {
  readonly fdKind = 'cgroup';
  constructor(readonly cgroup: import('@bpf-iter/core').Cgroup) {
    cgroup.get();
  }
  fdRelease(): void {
    this.cgroup.put();
  }
}

/** Opens a cgroup by path (`/` is the root) and returns an fd, or -ENOENT. */
export function cgroup_open(path: string, kernel: Kernel = currentKernel()): number {
  const cg = kernel.cgroupByPath(path);
  if (!cg) return neg('ENOENT');
  return fdTable.install(new CgroupFd(cg));
}

/** Private state of a target whose traversal is a core walker. */
export interface WalkerPriv<V> {
  walker: Walker<V> | null;
  /** Set once the walk returned NULL: later reads find nothing (EOF stays EOF, §2.6). */
  done?: boolean;
}

/**
 * The seq ops of a target over a core walker (all the task, id, position
 * and map-element targets): `start`/`next`/`stop` are the walker's, `show`
 * runs the program on `fields(v)`, and the end call on `endFields(seq)`.
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
      if (v === null) runProg(seq, endFields(seq), true);
      seq.private.walker!.stop();
    },
    show: (seq, v) => runProg(seq, fields(v), false),
  };
}

/**
 * The registration shared by the task targets (`task`, `task_file`,
 * `task_vma`): the tid/pid/pid_fd link parameters, their fdinfo and link
 * info, BPF_ITER_RESCHED, and a session walker created with the link's
 * filter in the creator's pid namespace. Only the ctx differs.
 */
export function taskTargetReg<V>(
  target: string,
  ctx_arg_info: BpfCtxArgAux[],
  makeWalker: (kernel: Kernel, spec: TaskIterSpec) => Walker<V>,
  fields: (v: V) => Record<string, unknown>,
  endFields: () => Record<string, unknown>,
): BpfIterReg<V, WalkerPriv<V>> {
  return {
    target,
    attach_target: (_prog, linfo, aux) => attachTask(linfo, aux),
    show_fdinfo: showTaskFdinfo,
    fill_link_info: fillTaskLinkInfo,
    ctx_arg_info,
    feature: BPF_ITER_RESCHED,
    seq_info: {
      seq_priv: () => ({ walker: null, done: false }),
      init_seq_private(priv, aux) {
        const kernel = sessionKernel(aux);
        priv.walker = makeWalker(kernel, taskSpec(aux, sessionPidNs(kernel)));
      },
      fini_seq_private: (priv) => priv.walker?.stop(),
      seq_ops: walkerSeqOps(fields, endFields),
    },
  };
}
