/**
 * Helper availability for iterator programs (`tracing_prog_func_proto` +
 * `bpf_iter_get_func_proto` of kernel/trace/bpf_trace.c and
 * kernel/bpf/bpf_iter.c): which helpers a program may call.
 */
import { BpfError } from '@bpf-iter/core';
import type { BpfProgFd } from '../program.js';
import type { BpfFuncProto } from '../registry.js';
import { currentRun } from '../run_ctx.js';
import { bpf_d_path } from './d_path.js';
import { bpf_for_each_map_elem } from './for_each_map_elem.js';
import { bpf_ktime_get_boot_ns, bpf_ktime_get_ns } from './ktime.js';
import { bpf_loop } from './loop.js';
import { bpf_map_delete_elem, bpf_map_lookup_elem, bpf_map_update_elem } from './map.js';
import { bpf_get_prandom_u32, bpf_get_smp_processor_id } from './prandom.js';
import {
  bpf_copy_from_user,
  bpf_copy_from_user_task,
  bpf_probe_read,
  bpf_probe_read_kernel,
  bpf_probe_read_kernel_str,
  bpf_probe_read_str,
  bpf_probe_read_user,
  bpf_probe_read_user_str,
} from './probe_read.js';
import { bpf_seq_printf } from './seq_printf.js';
import { bpf_seq_printf_btf, bpf_snprintf_btf } from './seq_printf_btf.js';
import { bpf_seq_write } from './seq_write.js';
import { bpf_sk_storage_delete, bpf_sk_storage_get } from './sk_storage.js';
import { bpf_snprintf } from './snprintf.js';
import { bpf_spin_lock, bpf_spin_unlock } from './spin_lock.js';
import { bpf_task_storage_delete, bpf_task_storage_get } from './task_storage.js';
import { bpf_trace_printk } from './trace_printk.js';
import {
  bpf_get_current_comm,
  bpf_get_current_pid_tgid,
  bpf_get_current_task,
  bpf_get_current_task_btf,
  bpf_get_current_uid_gid,
  bpf_get_task_stack,
} from './task.js';

/** Helper ids (uapi `enum bpf_func_id`) of the helpers this model knows. */
export const BPF_FUNC_IDS: Readonly<Record<string, number>> = Object.freeze({
  bpf_map_lookup_elem: 1,
  bpf_map_update_elem: 2,
  bpf_map_delete_elem: 3,
  bpf_probe_read: 4,
  bpf_ktime_get_ns: 5,
  bpf_trace_printk: 6,
  bpf_get_prandom_u32: 7,
  bpf_get_smp_processor_id: 8,
  bpf_get_current_pid_tgid: 14,
  bpf_get_current_uid_gid: 15,
  bpf_get_current_comm: 16,
  bpf_get_current_task: 35,
  bpf_probe_read_str: 45,
  bpf_get_socket_cookie: 46,
  bpf_setsockopt: 49,
  bpf_getsockopt: 57,
  bpf_spin_lock: 93,
  bpf_spin_unlock: 94,
  bpf_probe_read_user: 112,
  bpf_probe_read_kernel: 113,
  bpf_probe_read_user_str: 114,
  bpf_probe_read_kernel_str: 115,
  bpf_seq_printf: 126,
  bpf_seq_write: 127,
  bpf_d_path: 147,
  bpf_copy_from_user: 148,
  bpf_snprintf_btf: 149,
  bpf_seq_printf_btf: 150,
  bpf_get_current_task_btf: 158,
  bpf_task_storage_get: 156,
  bpf_task_storage_delete: 157,
  bpf_for_each_map_elem: 164,
  bpf_snprintf: 165,
  bpf_loop: 181,
  bpf_copy_from_user_task: 191,
  bpf_ktime_get_boot_ns: 125,
  bpf_sk_storage_get: 107,
  bpf_sk_storage_delete: 108,
  bpf_get_task_stack: 141,
});

/** The helper id of a name, or 0 when unknown. */
export function helperId(name: string): number {
  return BPF_FUNC_IDS[name] ?? 0;
}

/** Helpers every tracing program (and so every iterator program) gets. */
const TRACING_BASE = new Set([
  'bpf_map_lookup_elem', 'bpf_map_update_elem', 'bpf_map_delete_elem', 'bpf_probe_read', 'bpf_probe_read_str',
  'bpf_ktime_get_ns', 'bpf_ktime_get_boot_ns', 'bpf_trace_printk', 'bpf_get_prandom_u32', 'bpf_get_smp_processor_id',
  'bpf_get_current_pid_tgid', 'bpf_get_current_uid_gid', 'bpf_get_current_comm', 'bpf_get_current_task',
  'bpf_get_current_task_btf', 'bpf_probe_read_user', 'bpf_probe_read_kernel', 'bpf_probe_read_user_str',
  'bpf_probe_read_kernel_str', 'bpf_snprintf_btf', 'bpf_snprintf', 'bpf_for_each_map_elem', 'bpf_loop',
  'bpf_spin_lock', 'bpf_spin_unlock', 'bpf_task_storage_get', 'bpf_task_storage_delete', 'bpf_get_task_stack',
  'bpf_sk_storage_get', 'bpf_sk_storage_delete',
]);
/** Only for `expected_attach_type == BPF_TRACE_ITER`. */
const ITER_ONLY = new Set(['bpf_seq_printf', 'bpf_seq_write', 'bpf_seq_printf_btf', 'bpf_d_path']);
/** Only for sleepable programs (`prog->sleepable`). */
const SLEEPABLE_ONLY = new Set(['bpf_copy_from_user', 'bpf_copy_from_user_task']);

/** The implementations of the base helpers, by name (built on first use: the helper modules import this one). */
let IMPLS: Readonly<Record<string, (...args: any[]) => unknown>> | null = null;
function impls(): Readonly<Record<string, (...args: any[]) => unknown>> {
  return (IMPLS ??= Object.freeze({
    bpf_map_lookup_elem, bpf_map_update_elem, bpf_map_delete_elem, bpf_for_each_map_elem,
    bpf_probe_read, bpf_probe_read_str, bpf_probe_read_kernel, bpf_probe_read_kernel_str, bpf_probe_read_user, bpf_probe_read_user_str,
    bpf_copy_from_user, bpf_copy_from_user_task,
    bpf_ktime_get_ns, bpf_ktime_get_boot_ns, bpf_get_prandom_u32, bpf_get_smp_processor_id, bpf_trace_printk,
    bpf_get_current_pid_tgid, bpf_get_current_uid_gid, bpf_get_current_comm, bpf_get_current_task, bpf_get_current_task_btf, bpf_get_task_stack,
    bpf_snprintf, bpf_snprintf_btf, bpf_loop, bpf_spin_lock, bpf_spin_unlock,
    bpf_task_storage_get, bpf_task_storage_delete, bpf_sk_storage_get, bpf_sk_storage_delete,
    bpf_seq_printf, bpf_seq_write, bpf_seq_printf_btf, bpf_d_path,
  } as Record<string, (...args: any[]) => unknown>));
}

const baseProtos = new Map<string, BpfFuncProto>();
function baseProto(func: string): BpfFuncProto {
  let p = baseProtos.get(func);
  if (!p) {
    const fn = impls()[func];
    baseProtos.set(func, (p = Object.freeze(fn ? { name: func, func: fn } : { name: func })));
  }
  return p;
}

/** Names of the helpers every iterator program may call (the tracing base set and the iterator-only ones; sleepable-only not included). */
export function baseHelperNames(): string[] {
  return [...TRACING_BASE, ...ITER_ONLY];
}

/** Minimal shape of a program for availability checks. */
export interface ProgLike {
  readonly expected_attach_type: string;
  readonly sleepable: boolean;
  readonly target?: { readonly reg: { get_func_proto?(func: string, prog: BpfProgFd): BpfFuncProto | null | undefined } };
}

/**
 * The proto of helper `func` for `prog`, or null ("unknown func"): the
 * tracing base set, the iterator-only `bpf_seq_*` / `bpf_d_path`,
 * sleepable-only copy helpers, then the target's `get_func_proto`.
 */
export function bpf_iter_func_proto(func: string, prog: ProgLike): BpfFuncProto | null {
  const isIter = prog.expected_attach_type === 'BPF_TRACE_ITER';
  if (ITER_ONLY.has(func)) return isIter ? baseProto(func) : null;
  if (SLEEPABLE_ONLY.has(func)) return prog.sleepable ? baseProto(func) : null;
  if (TRACING_BASE.has(func)) return baseProto(func);
  if (isIter && prog.target?.reg.get_func_proto) {
    const p = prog.target.reg.get_func_proto(func, prog as BpfProgFd);
    if (p) return { name: func, ...p };
  }
  return null;
}

/**
 * Run-time availability check used by helper implementations: when called
 * from a running program whose type/target does not offer `func`, throws
 * EINVAL `unknown func <name>#<id>` (what the verifier would have said at
 * load). Outside a program run, everything is allowed.
 */
export function checkHelper(func: string): void {
  const run = currentRun();
  if (run && !bpf_iter_func_proto(func, run.prog)) throw new BpfError('EINVAL', `unknown func ${func}#${helperId(func)}`);
}

/**
 * Calls a target-provided helper (from `get_func_proto(...).func`) on
 * behalf of the running program, e.g. `callHelper('bpf_setsockopt', sk, …)`.
 * EINVAL `unknown func` when the running program's target does not offer it
 * or when no program is running.
 */
export function callHelper(func: string, ...args: unknown[]): unknown {
  const run = currentRun();
  const proto = run ? bpf_iter_func_proto(func, run.prog) : null;
  if (!proto || typeof proto.func !== 'function') throw new BpfError('EINVAL', `unknown func ${func}#${helperId(func)}`);
  return proto.func(...args);
}
