/** `bpf_seq_write` (helper #127). */
import { neg } from '../errno.js';
import { isSeqFile, type SeqFile, seq_write, seq_write_utf8 } from '../seq_file.js';
import { checkSeqHelper } from './seq_printf.js';

/**
 * `long bpf_seq_write(struct seq_file *m, const void *data, u32 len)`:
 * appends `len` bytes (default: all of `data`; a string is written as
 * UTF-8). Returns 0, or -EOVERFLOW when `count + len >= size` (32767 bytes
 * is the most an empty 32768-byte buffer takes); `len` beyond `data`
 * (unverifiable in C) returns -EINVAL.
 */
export function bpf_seq_write(m: SeqFile, data: Uint8Array | string, len?: number): number {
  checkSeqHelper('bpf_seq_write');
  if (!isSeqFile(m)) return neg('EINVAL');
  if (typeof data === 'string') {
    if (len === undefined) return seq_write_utf8(m, data) ? neg('EOVERFLOW') : 0;
    data = Buffer.from(data, 'utf8');
  }
  const n = len ?? data.length;
  if (!Number.isInteger(n) || n < 0 || n > data.length) return neg('EINVAL');
  return seq_write(m, data, n) ? neg('EOVERFLOW') : 0;
}
