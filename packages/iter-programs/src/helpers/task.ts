/**
 * Task helpers: `bpf_get_current_task` (#35), `bpf_get_current_task_btf`
 * (#158) and `bpf_get_task_stack` (#141, kernel/bpf/stackmap.c).
 */
import { BpfError, currentTask, PF_KTHREAD, Task } from '@bpf-iter/core';
import { neg } from '../errno.js';
import { runKernel } from '../run_ctx.js';
import { checkHelper } from './func_proto.js';

/** `bpf_get_task_stack` flags (uapi). */
export const BPF_F_SKIP_FIELD_MASK = 0xff;
export const BPF_F_USER_STACK = 1 << 8;
export const BPF_F_USER_BUILD_ID = 1 << 11;
/** `kernel.perf_event_max_stack` (default): the deepest trace collected. */
export const PERF_EVENT_MAX_STACK = 127;

function current(name: string): Task {
  const t = currentTask();
  if (t) return t;
  // On a host model the reader is this process.
  const k = runKernel();
  const self = k.source === 'host' || k.source === 'bpf' ? k.findTask(process.pid) : undefined;
  if (self) return self;
  throw new BpfError('ESRCH', `${name}: the model has no current task (read the iterator inside asTask(task, ...))`);
}

/**
 * `struct task_struct *bpf_get_current_task_btf(void)`: the task running
 * the program, i.e. the one reading the iterator (`asTask`, or this process
 * on a host model). Fails the read with ESRCH when the model has none.
 *
 * @example
 * ```ts
 * const me = bpf_get_current_task_btf();
 * if (ctx.task && ctx.task.tgid === me.tgid) BPF_SEQ_PRINTF(ctx.meta.seq, 'self %d\n', ctx.task.pid);
 * ```
 */
export function bpf_get_current_task_btf(): Task {
  checkHelper('bpf_get_current_task_btf');
  return current('bpf_get_current_task_btf');
}

/** `u64 bpf_get_current_task(void)`: the same task (untyped in C; here the object). */
export function bpf_get_current_task(): Task {
  checkHelper('bpf_get_current_task');
  return current('bpf_get_current_task');
}

/**
 * `long bpf_get_task_stack(struct task_struct *task, void *buf, u32 size, u64 flags)`:
 * copies the task's kernel stack (u64 return addresses, innermost first,
 * after skipping `flags & BPF_F_SKIP_FIELD_MASK` frames) into `buf`, zeroes
 * the rest of `size` bytes and returns the bytes copied. -EINVAL for
 * unknown flags, BPF_F_USER_BUILD_ID without BPF_F_USER_STACK, or a size
 * not a multiple of 8; -EFAULT (buffer zeroed) for an exited task, a skip
 * beyond the stack's depth, or a user stack of a kernel thread. The stack
 * comes from the model (`task.kstack`) or, on a host, `/proc/PID/stack`;
 * when it cannot be known, or for a user stack (not modelled), the read
 * fails with EOPNOTSUPP and the reason.
 *
 * @example
 * ```ts
 * const buf = new Uint8Array(8 * 16);
 * const n = bpf_get_task_stack(ctx.task, buf, buf.length, 0);
 * for (let i = 0; i < n / 8; i++) BPF_SEQ_PRINTF(ctx.meta.seq, '[<0>] %pB\n', new DataView(buf.buffer).getBigUint64(i * 8, true));
 * ```
 */
export function bpf_get_task_stack(task: Task, buf: Uint8Array, size: number = buf?.length ?? 0, flags = 0): number {
  checkHelper('bpf_get_task_stack');
  if (!(task instanceof Task) || !(buf instanceof Uint8Array) || !Number.isInteger(size) || size < 0 || size > buf.length) return neg('EINVAL');
  const region = buf.subarray(0, size);
  const clear = (err: number): number => (region.fill(0), err);
  const fl = BigInt(flags);
  if (fl & ~BigInt(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID)) return clear(neg('EINVAL'));
  const user = (fl & BigInt(BPF_F_USER_STACK)) !== 0n;
  const buildId = (fl & BigInt(BPF_F_USER_BUILD_ID)) !== 0n;
  if (!user && buildId) return clear(neg('EINVAL'));
  const elem = buildId ? 32 : 8;
  if (size % elem) return clear(neg('EINVAL'));
  // try_get_task_stack: an exited task has no stack any more.
  if (task.state === 'Z' || task.state === 'X' || task.dead) return clear(neg('EFAULT'));
  if (user) {
    if (task.flags & PF_KTHREAD || !task.mm) return clear(neg('EFAULT'));
    throw new BpfError('EOPNOTSUPP', `bpf_get_task_stack: user stacks are not modelled (task ${task.pid})`);
  }
  const stack = runKernel().taskStack(task);
  if (!stack) throw new BpfError('EOPNOTSUPP', `bpf_get_task_stack: the kernel stack of task ${task.pid} is unknown (not modelled, or /proc/${task.tgid}/task/${task.pid}/stack unreadable)`);
  const skip = Number(fl & BigInt(BPF_F_SKIP_FIELD_MASK));
  const numElem = size / 8;
  const depth = Math.min(numElem + skip, PERF_EVENT_MAX_STACK);
  const nr = Math.min(stack.length, depth);
  if (nr < skip) return clear(neg('EFAULT'));
  const n = Math.min(nr - skip, numElem);
  const dv = new DataView(region.buffer, region.byteOffset, region.byteLength);
  for (let i = 0; i < n; i++) dv.setBigUint64(i * 8, stack[skip + i]!, true);
  region.fill(0, n * 8);
  return n * 8;
}

/**
 * `u64 bpf_get_current_pid_tgid(void)`: `tgid << 32 | pid` of the reading
 * task, as the initial pid namespace numbers them.
 */
export function bpf_get_current_pid_tgid(): bigint {
  checkHelper('bpf_get_current_pid_tgid');
  const t = current('bpf_get_current_pid_tgid');
  return (BigInt(t.tgid) << 32n) | BigInt(t.pid);
}

/** `u64 bpf_get_current_uid_gid(void)`: `gid << 32 | uid` of the reading task. */
export function bpf_get_current_uid_gid(): bigint {
  checkHelper('bpf_get_current_uid_gid');
  const t = current('bpf_get_current_uid_gid');
  return (BigInt(t.gid >>> 0) << 32n) | BigInt(t.uid >>> 0);
}

/**
 * `long bpf_get_current_comm(void *buf, u32 size_of_buf)`: the reading
 * task's comm, NUL-terminated and zero-padded to `size_of_buf` (cut to
 * `size_of_buf - 1` bytes). Returns 0, or -EINVAL for a zero size.
 */
export function bpf_get_current_comm(buf: Uint8Array, size_of_buf: number = buf?.length ?? 0): number {
  checkHelper('bpf_get_current_comm');
  if (!(buf instanceof Uint8Array) || !Number.isInteger(size_of_buf) || size_of_buf <= 0 || size_of_buf > buf.length) return neg('EINVAL');
  const comm = Buffer.from(current('bpf_get_current_comm').comm, 'utf8');
  const n = Math.min(comm.length, size_of_buf - 1);
  buf.set(comm.subarray(0, n));
  buf.fill(0, n, size_of_buf);
  return 0;
}
