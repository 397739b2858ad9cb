/**
 * Memory reads: `bpf_probe_read_kernel` (#113), `bpf_probe_read_user`
 * (#112), their `_str` variants (#115, #114), the legacy `bpf_probe_read`
 * (#4) / `bpf_probe_read_str` (#45), and the sleepable `bpf_copy_from_user`
 * (#148) / `bpf_copy_from_user_task` (#191). The model has no address
 * space: a pointer is the model's memory itself, a `Uint8Array` (a map
 * value, a ctx buffer) or a string (a kernel string such as `task.comm`, its
 * bytes and the NUL); anything else (NULL, a number) faults.
 */
import { Task } from '@bpf-iter/core';
import { neg } from '../errno.js';
import { checkHelper } from './func_proto.js';

/** What a program passes as an unsafe pointer. */
export type UnsafePtr = Uint8Array | string | null | undefined | number | bigint;

function bytesOf(p: UnsafePtr): Uint8Array | null {
  if (p instanceof Uint8Array) return p;
  if (typeof p === 'string') return Buffer.from(p + '\0', 'utf8');
  return null;
}

function checkDst(dst: Uint8Array, size: number): boolean {
  return dst instanceof Uint8Array && Number.isInteger(size) && size >= 0 && size <= dst.length;
}

/** `copy_from_kernel_nofault` semantics: all `size` bytes, or -EFAULT with `dst` zeroed. */
function read(dst: Uint8Array, size: number, src: UnsafePtr): number {
  if (!checkDst(dst, size)) return neg('EINVAL');
  const b = bytesOf(src);
  // Bytes past the model's object are not memory the model has: a fault.
  if (!b || b.length < size) {
    dst.fill(0, 0, size);
    return neg('EFAULT');
  }
  dst.set(b.subarray(0, size));
  return 0;
}

/** `strncpy_from_kernel_nofault`: up to the NUL or `size - 1` bytes, NUL-terminated; the length with the NUL, or -EFAULT. */
function readStr(dst: Uint8Array, size: number, src: UnsafePtr): number {
  if (!checkDst(dst, size)) return neg('EINVAL');
  if (size === 0) return 0;
  const b = bytesOf(src);
  if (!b) {
    dst.fill(0, 0, size);
    return neg('EFAULT');
  }
  let n = 0;
  while (n < size - 1 && n < b.length && b[n] !== 0) n++;
  if (n === b.length && n < size - 1) {
    // Ran off the end of the object before a NUL.
    dst.fill(0, 0, size);
    return neg('EFAULT');
  }
  dst.set(b.subarray(0, n));
  dst[n] = 0;
  return n + 1;
}

/**
 * `long bpf_probe_read_kernel(void *dst, u32 size, const void *unsafe_ptr)`: 0, or -EFAULT (`dst` zeroed).
 *
 * @example
 * ```ts
 * const comm = new Uint8Array(16);
 * bpf_probe_read_kernel_str(comm, 16, ctx.task.comm);
 * ```
 */
export function bpf_probe_read_kernel(dst: Uint8Array, size: number, unsafe_ptr: UnsafePtr): number {
  checkHelper('bpf_probe_read_kernel');
  return read(dst, size, unsafe_ptr);
}
/** `long bpf_probe_read_kernel_str(void *dst, u32 size, const void *unsafe_ptr)`: the string's length with its NUL, or -EFAULT. */
export function bpf_probe_read_kernel_str(dst: Uint8Array, size: number, unsafe_ptr: UnsafePtr): number {
  checkHelper('bpf_probe_read_kernel_str');
  return readStr(dst, size, unsafe_ptr);
}
/** `long bpf_probe_read_user(void *dst, u32 size, const void *unsafe_ptr)`: as the kernel variant, for user memory. */
export function bpf_probe_read_user(dst: Uint8Array, size: number, unsafe_ptr: UnsafePtr): number {
  checkHelper('bpf_probe_read_user');
  return read(dst, size, unsafe_ptr);
}
/** `long bpf_probe_read_user_str(void *dst, u32 size, const void *unsafe_ptr)`. */
export function bpf_probe_read_user_str(dst: Uint8Array, size: number, unsafe_ptr: UnsafePtr): number {
  checkHelper('bpf_probe_read_user_str');
  return readStr(dst, size, unsafe_ptr);
}
/** `long bpf_probe_read(void *dst, u32 size, const void *unsafe_ptr)`: the legacy helper (x86-64: kernel or user by address). */
export function bpf_probe_read(dst: Uint8Array, size: number, unsafe_ptr: UnsafePtr): number {
  checkHelper('bpf_probe_read');
  return read(dst, size, unsafe_ptr);
}
/** `long bpf_probe_read_str(void *dst, u32 size, const void *unsafe_ptr)`: the legacy string helper. */
export function bpf_probe_read_str(dst: Uint8Array, size: number, unsafe_ptr: UnsafePtr): number {
  checkHelper('bpf_probe_read_str');
  return readStr(dst, size, unsafe_ptr);
}

/** `long bpf_copy_from_user(void *dst, u32 size, const void *user_ptr)` (sleepable programs): 0 or -EFAULT (`dst` zeroed). */
export function bpf_copy_from_user(dst: Uint8Array, size: number, user_ptr: UnsafePtr): number {
  checkHelper('bpf_copy_from_user');
  return read(dst, size, user_ptr);
}

/**
 * `long bpf_copy_from_user_task(void *dst, u32 size, const void *user_ptr, struct task_struct *tsk, u64 flags)`
 * (sleepable): reads `tsk`'s user memory. -EINVAL for flags != 0, -EFAULT
 * (`dst` zeroed) for a task without an address space (a kernel thread, an
 * exited task) or a fault.
 */
export function bpf_copy_from_user_task(dst: Uint8Array, size: number, user_ptr: UnsafePtr, tsk: Task, flags: number | bigint = 0): number {
  checkHelper('bpf_copy_from_user_task');
  if (!checkDst(dst, size)) return neg('EINVAL');
  if (BigInt(flags) !== 0n) {
    dst.fill(0, 0, size);
    return neg('EINVAL');
  }
  if (!(tsk instanceof Task) || !tsk.mm || tsk.dead) {
    dst.fill(0, 0, size);
    return neg('EFAULT');
  }
  return read(dst, size, user_ptr);
}
