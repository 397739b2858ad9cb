/** Every target's dump over a kernel, as `bpf-iter cat` prints it (text and -j), for comparing kernels. */
import { CGROUP_ORDER_NAMES, type Kernel } from '@bpf-iter/core';
import { BUILTIN_TARGETS } from '../../src/targets/index.js';
import { dumperBss, targetDumper } from '../../src/cli/cat.js';
import { loadAndAttach, type LinkParams } from '../../src/cli/common.js';
import { linkParamsOf } from '../../src/cli/targets.js';

/** The runs of one target: its link parameters for every object they can name in `k`. */
export function paramSets(target: string, k: Kernel): { label: string; params: LinkParams }[] {
  const kind = linkParamsOf(target);
  if (kind === 'map') return [...k.maps.entries()].map(([id]) => ({ label: `map ${id}`, params: { map: id } }));
  if (kind === 'cgroup') return CGROUP_ORDER_NAMES.slice(1).map((order) => ({ label: order, params: { order } }));
  return [{ label: '', params: {} }];
}

/** What `cat target` (`-j`: its JSON dumper) prints over `k` with link parameters `params`, or `ERROR errno: message`. */
export function dumpTarget(k: Kernel, target: string, json: boolean, params: LinkParams): string {
  try {
    const link = loadAndAttach(targetDumper(target, json), params, k, { bss: dumperBss(target, { json }) });
    try {
      const fd = link.open();
      try {
        return fd.readText();
      } finally {
        fd.close();
      }
    } finally {
      link.close();
    }
  } catch (e) {
    return `ERROR ${(e as Error).message}`;
  }
}

/** `target[ params][ -j]` -> what cat prints, or `ERROR errno: message` (an error is a result too). */
export function dumpTargets(k: Kernel, targets: readonly string[] = BUILTIN_TARGETS.map((t) => t.reg.target)): Map<string, string> {
  const out = new Map<string, string>();
  for (const target of targets) {
    for (const json of [false, true]) {
      for (const { label, params } of paramSets(target, k)) {
        out.set(`${target}${label ? ` ${label}` : ''}${json ? ' -j' : ''}`, dumpTarget(k, target, json, params));
      }
    }
  }
  return out;
}
