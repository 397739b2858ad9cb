/** `bpf_trace_printk` (#6): bprintf formats into the kernel's trace pipe. */
import { neg } from '../errno.js';
import { runKernel } from '../run_ctx.js';
import { compileFormatBytes, formatCompiled, type PrintfArg } from './bprintf.js';
import { checkHelper } from './func_proto.js';

/** `MAX_TRACE_PRINTK_VARARGS`. */
export const MAX_TRACE_PRINTK_VARARGS = 3;
/** `MAX_BPRINTF_BUF`: the output is cut to this many bytes (with the NUL). */
const MAX_BPRINTF_BUF = 1024;

/**
 * `long bpf_trace_printk(const char *fmt, u32 fmt_size, ...)`: formats like
 * `bpf_seq_printf` (at most 3 arguments) and appends the line to the
 * kernel's `tracePipe` (`/sys/kernel/tracing/trace_pipe`). `fmt_size` is
 * the literal's size with its NUL (default); no NUL within it → -EINVAL.
 * Returns the length of the formatted text (the pipe gets at most 1023
 * bytes of it), or -EINVAL / -ENOSPC.
 *
 * @example
 * ```ts
 * bpf_trace_printk('pid %d\n', undefined, ctx.task.pid);
 * ```
 */
export function bpf_trace_printk(fmt: string, fmt_size?: number, ...args: PrintfArg[]): number {
  checkHelper('bpf_trace_printk');
  if (args.length > MAX_TRACE_PRINTK_VARARGS) return neg('EINVAL');
  const bytes = Buffer.from(fmt + '\0', 'utf8');
  const size = fmt_size ?? bytes.length;
  if (!Number.isInteger(size) || size <= 0 || size > bytes.length) return neg('EINVAL');
  const nul = bytes.subarray(0, size).indexOf(0);
  if (nul < 0) return neg('EINVAL');
  const out = formatCompiled(compileFormatBytes(bytes.subarray(0, nul)), args, args.length);
  if (typeof out === 'number') return out;
  const text = out.slice(0, MAX_BPRINTF_BUF - 1);
  runKernel().tracePipe.push(text);
  return out.length;
}
