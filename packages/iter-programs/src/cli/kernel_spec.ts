/**
 * `--kernel`: which kernel a command runs on, parsed without loading any
 * (the CLI checks it before a command runs: a usage error, exit 2).
 */
import { resolve } from 'node:path';
import { fail } from '@bpf-iter/core';

/** A parsed `--kernel` value, normalised: `synthetic:SEED`, `host`, `bpf` or `snapshot:ABSOLUTE-PATH`. */
export type KernelSpec = string;

/** What `--kernel` takes, for help texts and errors. */
export const KERNEL_CHOICES = 'host, bpf, synthetic, synthetic:SEED or snapshot:FILE';

/**
 * Normalises `--kernel` (`synthetic` means the embedded default, seed 1;
 * `snapshot:FILE` a saved kernel, its path made absolute so a pin finds it
 * from anywhere). EINVAL for anything else.
 */
export function parseKernelSpec(s: string | undefined): KernelSpec {
  const v = (s ?? 'synthetic').trim();
  if (v === 'host' || v === 'bpf') return v;
  if (v === 'synthetic') return 'synthetic:1';
  const m = /^synthetic:(\d+)$/.exec(v);
  if (m) return `synthetic:${Number(m[1])}`;
  if (v.startsWith('snapshot:') && v.length > 'snapshot:'.length) return `snapshot:${resolve(v.slice('snapshot:'.length))}`;
  fail('EINVAL', `--kernel must be ${KERNEL_CHOICES}, not '${v}'`);
}
