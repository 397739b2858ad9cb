/**
 * Compiles a user's `.bpf.c` for this kernel, in-process: `compileObject`
 * of `scripts/bpf-compile.mjs` (the same clang flags and vmlinux.h as the
 * bpf source's own programs, shared with `build-bpf.mjs`), cached by
 * content hash. A cached object costs a hash of the source; clang (and
 * bpftool for vmlinux.h, once per kernel) run as child processes only when
 * something changed.
 */
import { BpfError, ERRNO, type ErrnoName } from '../errors.js';
import { BuildError, compileObject } from '../../scripts/bpf-compile.mjs';

/**
 * The cached `.bpf.o` for `src` (compiled when the source, a header beside
 * it, or the kernel changed). Throws ENOENT for a missing tool or file,
 * EINVAL with clang's last lines for a compile error.
 */
export function compileBpfSource(src: string, cacheDir?: string): string {
  try {
    return compileObject({ src, ...(cacheDir ? { cache: cacheDir } : {}) }).obj;
  } catch (e) {
    if (e instanceof BuildError) throw new BpfError(e.errno in ERRNO ? (e.errno as ErrnoName) : 'EINVAL', e.message);
    throw e;
  }
}
