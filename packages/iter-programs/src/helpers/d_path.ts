/** `bpf_d_path` (helper #147), allowed for iterator programs. */
import { neg } from '../errno.js';
import { checkHelper } from './func_proto.js';

/**
 * `long bpf_d_path(struct path *path, char *buf, u32 sz)`: writes the
 * file's path NUL-terminated into `buf` and returns its length including
 * the NUL; -ENAMETOOLONG when it does not fit in `sz` bytes, -EINVAL for a
 * bad path or buffer.
 */
export function bpf_d_path(path: { readonly path: string } | null, buf: Uint8Array, sz: number = buf.length): number {
  checkHelper('bpf_d_path');
  if (!path || typeof path.path !== 'string' || !(buf instanceof Uint8Array) || !Number.isInteger(sz) || sz <= 0 || sz > buf.length) return neg('EINVAL');
  const bytes = Buffer.from(path.path, 'utf8');
  if (bytes.length + 1 > sz) return neg('ENAMETOOLONG');
  buf.set(bytes, 0);
  buf[bytes.length] = 0;
  return bytes.length + 1;
}
