/**
 * The task targets' link parameters (task_iter.c's `bpf_iter_attach_task`,
 * `bpf_iter_task_show_fdinfo`, `bpf_iter_fill_link_info`) and the
 * registration `task`, `task_file` and `task_vma` share.
 */
import type { Kernel, TaskIterSpec, Walker } from '@bpf-iter/core';
import { BPF_ITER_RESCHED } from '../constants.js';
import { neg } from '../errno.js';
import { fdTable } from '../fd_table.js';
import { PidFd } from '../fds.js';
import type { BpfIterLinkInfo } from '../link_info.js';
import type { BpfCtxArgAux, BpfIterAuxInfo, BpfIterAuxOf, BpfIterReg, BpfLinkInfoIter, FdinfoSeq, TaskAux } from '../registry.js';
import { walkerSeqOps, type WalkerPriv } from './seq_ops.js';
import { sessionKernel, sessionPidNs } from './session.js';

export type { TaskAux } from '../registry.js';

/** The aux of a task target's link: `attachTask` always fills `task`. */
export type TaskLinkAux = BpfIterAuxOf<'task'>;

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
export function taskSpec(aux: TaskLinkAux, ns: TaskIterSpec['ns']): TaskIterSpec {
  const t = aux.task;
  return { ns, type: t.type === 'PID' ? 'TGID' : t.type, pid: t.pid };
}

/** fdinfo lines of the task targets: `task_type:\t…` then `tid:`/`pid:`. */
export function showTaskFdinfo(aux: TaskLinkAux, seq: FdinfoSeq): void {
  const t = aux.task;
  seq.puts(`task_type:\t${t.type}\n`);
  if (t.type === 'TID') seq.puts(`tid:\t${t.pid}\n`);
  else if (t.type === 'PID') seq.puts(`pid:\t${t.pid}\n`);
}

/** Link info of the task targets: `tid` in TID mode, `pid` in PID mode. */
export function fillTaskLinkInfo(aux: TaskLinkAux, info: BpfLinkInfoIter): number {
  const t = aux.task;
  if (t.type === 'TID') info.task.tid = t.pid;
  else if (t.type === 'PID') info.task.pid = t.pid;
  return 0;
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
): BpfIterReg<V, WalkerPriv<V>, TaskLinkAux> {
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
