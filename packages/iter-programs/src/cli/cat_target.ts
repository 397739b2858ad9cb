/**
 * `bpf-iter cat TARGET`: runs a target's default (or JSON) dumper on a
 * kernel and streams the output to stdout. Needs no state file: the bin
 * bundles it with what it uses (scripts/build-bin.mjs), so the command
 * loads the model, the walkers and the dumpers and nothing else. Pins are
 * `cat.ts`'s.
 */
import { fail, type HostOptions } from '@bpf-iter/core';
import { findTarget } from '../registry.js';
import type { BpfProgramSpec } from '../program.js';
import { builtinDumper } from './dumpers.js';
import { jsonDumper } from './json.js';
import { loadAndAttach, paramsFromOpts, parseKernelSpec, streamIter, type CliIo } from './common.js';
import { KernelCache } from './kernel_cache.js';

/** Options of `cat`, `run` and `pin` (commander's parsed options). */
export interface IterOptions {
  pid?: number;
  tid?: number;
  map?: number;
  cgroup?: string;
  order?: string;
  family?: number;
  kernel?: string;
  /** `-j`: a target's JSON dumper. */
  json?: boolean;
  /** `-p`: the JSON dumper indents. */
  pretty?: boolean;
  set?: string[];
  prog?: string;
}

/**
 * The `.bss` of a built-in dumper: tcp/udp take `family` (0 both, 4 or 6),
 * the JSON dumpers `pretty` (`-p`). EINVAL for `--family` elsewhere.
 */
export function dumperBss(target: string, o: { family?: number | undefined; json?: boolean | undefined; pretty?: boolean | undefined }): Record<string, unknown> {
  const bss: Record<string, unknown> = o.json ? { pretty: o.pretty === true } : {};
  if (target === 'tcp' || target === 'udp') bss.family = o.family ?? 0;
  else if (o.family !== undefined) fail('EINVAL', `--family applies to tcp and udp, not ${target}`);
  return bss;
}

/** The dumper `cat`/`pin` run for a target: ENOENT for an unknown target. */
export function targetDumper(target: string, json: boolean | undefined): BpfProgramSpec {
  if (!findTarget(target)) fail('ENOENT', `no such iterator target or pin: ${target} (see 'bpf-iter targets')`);
  const spec = json ? jsonDumper(target) : builtinDumper(target);
  if (!spec) fail('ENOENT', `target ${target} has no ${json ? 'JSON' : 'default'} dumper`);
  return spec;
}

/**
 * `bpf-iter cat TARGET` (not a pin: see `catCommand`). `kernels`: a cache
 * with the bpf and snapshot readers (`common.ts`'s `kernelCache`) for those
 * kernels; the default reads the host and synthetic kernels only, so the
 * bin's `cat TARGET` bundle holds neither reader (cli.ts sends `--kernel bpf`
 * and `snapshot:` to `cat.js`).
 */
export async function catTargetCommand(io: CliIo, target: string, o: IterOptions, kernels: KernelCache = new KernelCache(io)): Promise<void> {
  const params = paramsFromOpts(o);
  const spec = targetDumper(target, o.json);
  const bss = dumperBss(target, o);
  // The built-in dumpers print only what /proc/PID/maps shows of vm_flags: skip smaps' cost.
  const host: HostOptions = { vmFlags: false };
  // task_file skips every thread sharing its leader's table (skip_if_dup_files), and the host source
  // models each thread as sharing it: only a `--tid` walk shows a thread, so only then are threads read.
  if (target === 'task_file' && o.tid === undefined) host.threads = false;
  const kernel = kernels.get(parseKernelSpec(o.kernel), target, host);
  const link = loadAndAttach(spec, params, kernel, { bss });
  try {
    await streamIter(io, link.open());
  } finally {
    link.close();
  }
}
