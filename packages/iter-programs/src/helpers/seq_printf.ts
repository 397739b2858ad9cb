/**
 * `bpf_seq_printf` (helper #126) and libbpf's `BPF_SEQ_PRINTF` macro.
 * Helpers never throw for run-time argument problems: they return the
 * kernel's negative errno, like the kernel returns it to the program.
 */
import { BpfError } from '@bpf-iter/core';
import { MAX_BPRINTF_VARARGS } from '../constants.js';
import { neg } from '../errno.js';
import { currentProg } from '../run_ctx.js';
import { isSeqFile, type SeqFile, seq_write_latin1 } from '../seq_file.js';
import { compileFormatBytes, compileFormatString, formatCompiled, writeCompiled, WRITE_SLOW, type CompiledFormat, type PrintfArg } from './bprintf.js';

/** Availability of the GPL-only, iterator-only `bpf_seq_*` helpers for the running program. */
export function checkSeqHelper(name: string): void {
  const prog = currentProg();
  if (!prog) return;
  if (prog.expected_attach_type !== 'BPF_TRACE_ITER') throw new BpfError('EINVAL', `unknown func ${name}`);
  if (!prog.gpl_compatible) throw new BpfError('EINVAL', 'cannot call GPL-restricted function from non-GPL compatible program');
}

function emit(m: SeqFile, c: CompiledFormat, args: ArrayLike<PrintfArg>, nargs: number): number {
  // The common case in place (the output stays below the buffer's end: count + len < size).
  if (m.buf) {
    const end = writeCompiled(c, args, nargs, m.buf, m.count, m.size - 1);
    if (end !== WRITE_SLOW) {
      m.count = end;
      return 0;
    }
  }
  const out = formatCompiled(c, args, nargs);
  if (typeof out === 'number') return out;
  // seq_bprintf(): whole result or overflow; then -EOVERFLOW if overflowed.
  seq_write_latin1(m, out);
  return m.count === m.size ? neg('EOVERFLOW') : 0;
}

/**
 * `long bpf_seq_printf(struct seq_file *m, const char *fmt, u32 fmt_size, const void *data, u32 data_len)`.
 *
 * Two call forms:
 * - `bpf_seq_printf(seq, fmt, args?)`: `fmt` a JS string, `args` up to 12
 *   argument values (more → -EINVAL);
 * - raw, to port C line by line: `bpf_seq_printf(seq, fmt, fmt_size, data,
 *   data_len)` where `fmt` is a string (a C literal: its UTF-8 bytes plus
 *   the terminating NUL, so `fmt_size` of a literal is
 *   `Buffer.byteLength(fmt) + 1`) or bytes, and `data` a
 *   `BigUint64Array` / array of u64 slots (or null). `data_len` is in bytes.
 *
 * Returns 0, -EINVAL (bad data_len, no NUL within fmt_size, bad format,
 * too few arguments), -ENOSPC (512-byte scratch exhausted) or -EOVERFLOW
 * (seq buffer full; the read path rolls the object back).
 * `fmt_size` larger than the memory given, or `data_len` beyond `data`,
 * would fail verification; they return -EINVAL.
 */
export function bpf_seq_printf(m: SeqFile, fmt: string | Uint8Array, args?: readonly PrintfArg[]): number;
export function bpf_seq_printf(
  m: SeqFile,
  fmt: string | Uint8Array,
  fmt_size: number,
  data: BigUint64Array | readonly (bigint | number | PrintfArg)[] | null,
  data_len: number,
): number;
export function bpf_seq_printf(
  m: SeqFile,
  fmt: string | Uint8Array,
  a3?: number | readonly PrintfArg[],
  data?: BigUint64Array | readonly PrintfArg[] | null,
  data_len?: number,
): number {
  checkSeqHelper('bpf_seq_printf');
  if (!isSeqFile(m)) return neg('EINVAL');
  if (typeof a3 !== 'number') {
    const args = a3 ?? [];
    if (args.length > MAX_BPRINTF_VARARGS) return neg('EINVAL');
    const c = typeof fmt === 'string' ? compileFormatString(fmt) : rawCompile(fmt, fmt.length);
    if (typeof c === 'number') return c;
    return emit(m, c, args, args.length);
  }
  // Raw form.
  const fmt_size = a3;
  const len = data_len ?? 0;
  if (!Number.isInteger(len) || len < 0 || len % 8 !== 0 || len > MAX_BPRINTF_VARARGS * 8 || (len > 0 && !data)) return neg('EINVAL');
  const num_args = len / 8;
  if (data && num_args > data.length) return neg('EINVAL');
  if (!Number.isInteger(fmt_size) || fmt_size <= 0) return neg('EINVAL');
  const bytes = typeof fmt === 'string' ? Buffer.from(fmt + '\0', 'utf8') : fmt;
  if (fmt_size > bytes.length) return neg('EINVAL');
  const c = rawCompile(bytes, fmt_size);
  if (typeof c === 'number') return c;
  return emit(m, c, data ?? [], num_args);
}

function rawCompile(bytes: Uint8Array, fmt_size: number): CompiledFormat | number {
  const region = bytes.subarray(0, fmt_size);
  const nul = region.indexOf(0);
  if (nul < 0) return neg('EINVAL'); // no NUL within fmt_size
  return compileFormatBytes(region.subarray(0, nul));
}

/**
 * libbpf's `BPF_SEQ_PRINTF(seq, fmt, args...)`: packs up to 12 arguments
 * into u64 slots (numbers and bigints as integers, booleans as 0/1,
 * null/undefined as NULL, strings and byte arrays as pointers readable by
 * `%s`, other objects as their kernel address) and calls
 * {@link bpf_seq_printf}. More than 12 arguments (a compile error in C)
 * returns -EINVAL.
 */
export function BPF_SEQ_PRINTF(seq: SeqFile, fmt: string, ...args: PrintfArg[]): number {
  checkSeqHelper('bpf_seq_printf');
  if (!isSeqFile(seq)) return neg('EINVAL');
  if (args.length > MAX_BPRINTF_VARARGS) return neg('EINVAL');
  return emit(seq, compileFormatString(fmt), args, args.length);
}
