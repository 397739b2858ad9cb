/** `bpf_snprintf` (#165): the bprintf formats of `bpf_seq_printf`, into a buffer. */
import { MAX_BPRINTF_VARARGS } from '../constants.js';
import { neg } from '../errno.js';
import { compileFormatString, formatCompiled, type PrintfArg } from './bprintf.js';
import { checkHelper } from './func_proto.js';

/**
 * `long bpf_snprintf(char *str, u32 str_size, const char *fmt, u64 *data, u32 data_len)`:
 * formats like `bpf_seq_printf` (same conversions, same 12-argument and
 * 512-byte string scratch limits) into `str`, writing at most
 * `str_size - 1` bytes and a NUL (nothing when `str_size` is 0).
 *
 * Returns the size the whole output needs including the NUL (so a return
 * larger than `str_size` means it was truncated), or -EINVAL (bad format,
 * `data_len` not a multiple of 8 or above 96, fewer arguments than
 * conversions, `str_size` beyond `str`) / -ENOSPC (scratch exhausted).
 * `data_len` defaults to 8 bytes per element of `data`.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(16);
 * const n = bpf_snprintf(out, out.length, 'pid %d comm %s', [task.pid, task.comm]);
 * ```
 */
export function bpf_snprintf(str: Uint8Array | null, str_size: number, fmt: string, data: readonly PrintfArg[] | null = null, data_len?: number): number {
  checkHelper('bpf_snprintf');
  const len = data_len ?? (data ? data.length * 8 : 0);
  if (!Number.isInteger(len) || len < 0 || len % 8 !== 0 || len > MAX_BPRINTF_VARARGS * 8 || (len > 0 && (!data || len / 8 > data.length))) return neg('EINVAL');
  if (!Number.isInteger(str_size) || str_size < 0 || str_size > (str?.length ?? 0)) return neg('EINVAL');
  const out = formatCompiled(compileFormatString(fmt), data ?? [], len / 8);
  if (typeof out === 'number') return out;
  if (str && str_size > 0) {
    const n = Math.min(out.length, str_size - 1);
    str.set(Buffer.from(out.slice(0, n), 'latin1'));
    str[n] = 0;
  }
  return out.length + 1;
}
