/**
 * `bpf-iter cat TARGET|PATH`: runs a target's default (or JSON) dumper, or
 * opens a pinned iterator, and streams the output to stdout.
 */
import { fail } from '@bpf-iter/core';
import { BPF_FS_MOUNT } from '../constants.js';
import { findTarget } from '../registry.js';
import type { BpfProgramSpec } from '../program.js';
import { builtinDumper, CliState } from './state.js';
import { jsonDumper } from './json.js';
import { catKernelText, kernelTextObject } from './kernel_text.js';
import { KernelCache, loadAndAttach, paramsFromOpts, parseKernelSpec, streamIter, type CliIo, type LinkParams } from './common.js';

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

/** True for a path on bpffs (a pin), as opposed to a target name. */
export function isBpffsPath(s: string): boolean {
  return s === BPF_FS_MOUNT || s.startsWith(BPF_FS_MOUNT + '/');
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

function linkOptionsGiven(p: LinkParams, o: IterOptions): boolean {
  return Object.keys(p).length > 0 || o.family !== undefined || o.json === true || o.kernel !== undefined;
}

/** `bpf-iter cat`. */
export async function catCommand(io: CliIo, what: string, o: IterOptions): Promise<void> {
  const params = paramsFromOpts(o);
  if (isBpffsPath(what)) {
    // A pin's program and parameters were fixed when it was pinned.
    if (linkOptionsGiven(params, o)) fail('EINVAL', `${what} is a pin: its program, parameters and kernel were fixed by 'pin'`);
    const st = await CliState.load(io, { run: what });
    try {
      const path = st.fs.realpath(what);
      st.checkUsable(path);
      await streamIter(io, st.fs.open(path));
    } finally {
      st.dispose();
    }
    return;
  }
  const text = kernelTextObject(what, o);
  if (text) return catKernelText(io, text, o);
  const spec = targetDumper(what, o.json);
  const bss = dumperBss(what, o);
  // The built-in dumpers print only what /proc/PID/maps shows of vm_flags: skip smaps' cost.
  const kernel = new KernelCache(io).get(parseKernelSpec(o.kernel), what, { vmFlags: false });
  const link = loadAndAttach(spec, params, kernel, { bss });
  try {
    await streamIter(io, link.open());
  } finally {
    link.close();
  }
}
