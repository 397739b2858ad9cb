/**
 * Compiles a user's `.bpf.c` for this kernel: `scripts/build-bpf.mjs
 * --compile` (the same clang flags and vmlinux.h as the bpf source's own
 * programs), cached by content hash. clang runs as a child process; nothing
 * else here does.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfError, type ErrnoName } from '../errors.js';

function buildScript(): string {
  const here = typeof __dirname !== 'undefined' ? __dirname : dirname(fileURLToPath((import.meta as { url: string }).url));
  for (let d = here, i = 0; i < 6; i++, d = dirname(d)) {
    const p = join(d, 'scripts/build-bpf.mjs');
    if (existsSync(p)) return p;
  }
  throw new BpfError('ENOENT', `scripts/build-bpf.mjs not found above ${here}`);
}

/**
 * The cached `.bpf.o` for `src` (compiled when the source, a header beside
 * it, or the kernel changed). Throws ENOENT for a missing tool or file,
 * EINVAL with clang's last lines for a compile error.
 */
export function compileBpfSource(src: string, cacheDir?: string): string {
  let out: string;
  try {
    out = execFileSync(process.execPath, [buildScript(), '--compile', src, ...(cacheDir ? ['--cache', cacheDir] : [])], { stdio: 'pipe', encoding: 'utf8' });
  } catch (e) {
    out = String((e as { stdout?: unknown }).stdout ?? '');
    if (!out.trim()) throw new BpfError('EINVAL', `build-bpf.mjs --compile failed: ${String((e as { stderr?: unknown }).stderr ?? e)}`);
  }
  const r = JSON.parse(out.trim().split('\n').pop()!) as { ok: boolean; obj?: string; errno?: ErrnoName; message?: string };
  if (!r.ok) throw new BpfError(r.errno ?? 'EINVAL', r.message ?? `compiling ${src} failed`);
  return r.obj!;
}
