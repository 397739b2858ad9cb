/**
 * What the `bpf-iter` commands share: the output/error sink, kernel
 * selection (`--kernel`), link parameters (`--pid/--tid/--map/--cgroup
 * --order`) and streaming an iterator fd to stdout.
 */
import { BpfError, CGROUP_ORDER_NAMES, fail, loadKernelSync, readBpfWithReport, type Kernel } from '@bpf-iter/core';
import { errorFor } from '../errno.js';
import { fdTable } from '../fd_table.js';
import { attachIter, type BpfIterLink } from '../link.js';
import type { BpfIterLinkInfoInit } from '../link_info.js';
import { loadProgram, type BpfGlobals, type BpfProgFd, type BpfProgramSpec } from '../program.js';
import { bpf_map_get_fd_by_id, cgroup_open } from '../targets/index.js';
import { bpfOptionsFor, KernelCache, TARGET_NEEDS } from './kernel_cache.js';
import { linkParamsOf } from './targets.js';

import type { CliIo } from './stream.js';
import type { KernelSpec } from './kernel_spec.js';

// Re-exported: the commands import them from here; the in-kernel dumper path and the CLI's
// parser import them from their own modules, without the model.
export { CHUNK, out, streamIter, type CliIo } from './stream.js';
export { KERNEL_CHOICES, parseKernelSpec, type KernelSpec } from './kernel_spec.js';
export { applySets } from './sets.js';
export { bpfOptionsFor, hostOptionsFor, KernelCache, type KernelReaders } from './kernel_cache.js';

// ---- kernels ----------------------------------------------------------------

/**
 * The running kernel through the bpf source, for a target. Never silently
 * empty: a target the bpf source cannot read on this kernel (no program for
 * it, or every variant of its program refused by the verifier) is an error
 * with the errno and the reason, not an empty model.
 */
export function readBpfFor(target: string | undefined): Kernel {
  const n = target === undefined ? undefined : TARGET_NEEDS[target];
  if (n?.noBpf) fail('EOPNOTSUPP', `${target}: ${n.noBpf}`);
  const { kernel, report } = readBpfWithReport(bpfOptionsFor(target));
  const bad = report.skipped[0];
  if (bad) throw new BpfError(bad.errno, bad.message.startsWith(`${bad.target}: `) ? bad.message : `${bad.target}: ${bad.message}`);
  return kernel;
}

/**
 * The CLI's kernel cache with every `--kernel`: `bpf` and `snapshot:FILE`
 * too (the bpf source and the snapshot reader load with this module, which
 * `cat TARGET` on the host or a synthetic kernel does not need).
 */
export function kernelCache(io?: CliIo): KernelCache {
  return new KernelCache(io, { bpf: readBpfFor, snapshot: loadKernelSync });
}

// ---- link parameters --------------------------------------------------------

/** Link parameters as the CLI takes them (and persists them for pins). */
export interface LinkParams {
  pid?: number;
  tid?: number;
  map?: number;
  cgroup?: string;
  order?: string;
}

/** `union bpf_iter_link_info` for the parameters, plus the fds opened for it (close them after attach). */
export interface BuiltLinkInfo {
  linkInfo: BpfIterLinkInfoInit | null;
  fds: number[];
}

/** The cgroup path relative to the v2 mount (`/sys/fs/cgroup/a` and `/a` are the same cgroup). */
function cgroupPath(p: string): string {
  const m = /^\/sys\/fs\/cgroup(\/.*)?$/.exec(p);
  return m ? m[1] || '/' : p;
}

/**
 * Checks the parameters against what the target accepts and builds the
 * link info, opening a map fd (`bpf_map_get_fd_by_id`) or cgroup fd
 * (`cgroup_open`) in `kernel`. EINVAL for parameters the target does not
 * take, `--pid` with `--tid`, or a cgroup link without an order (the kernel
 * rejects `BPF_CGROUP_ITER_ORDER_UNSPEC`); ENOENT for an unknown map id or
 * cgroup path.
 */
export function buildLinkInfo(target: string, p: LinkParams, kernel: Kernel): BuiltLinkInfo {
  const kind = linkParamsOf(target);
  const given = (['pid', 'tid', 'map', 'cgroup', 'order'] as const).filter((k) => p[k] !== undefined);
  const allowed: Record<string, readonly string[]> = { task: ['pid', 'tid'], map: ['map'], cgroup: ['cgroup', 'order'], none: [] };
  const bad = given.filter((k) => !allowed[kind]!.includes(k));
  if (bad.length) fail('EINVAL', `target ${target} takes no --${bad[0]} (link parameters: ${kind === 'none' ? 'none' : allowed[kind]!.map((x) => '--' + x).join(', ')})`);
  if (kind === 'task') {
    if (p.pid !== undefined && p.tid !== undefined) fail('EINVAL', 'at most one of --pid and --tid (the kernel takes one of tid, pid, pid_fd)');
    if (p.pid !== undefined) return { linkInfo: { task: { pid: p.pid } }, fds: [] };
    if (p.tid !== undefined) return { linkInfo: { task: { tid: p.tid } }, fds: [] };
    return { linkInfo: null, fds: [] };
  }
  if (kind === 'map') {
    if (p.map === undefined) fail('EBADF', `target ${target} needs a map: --map ID (map_fd 0 is EBADF)`);
    const fd = bpf_map_get_fd_by_id(p.map, kernel);
    if (fd < 0) throw errorFor(fd, `map id ${p.map} not found`);
    return { linkInfo: { map: { map_fd: fd } }, fds: [fd] };
  }
  if (kind === 'cgroup') {
    if (p.order === undefined) fail('EINVAL', `target cgroup needs --order ${CGROUP_ORDER_NAMES.slice(1).join('|')} (order unspec is EINVAL)`);
    const order = (CGROUP_ORDER_NAMES as readonly string[]).indexOf(p.order);
    if (order <= 0) fail('EINVAL', `unknown cgroup order '${p.order}' (one of ${CGROUP_ORDER_NAMES.slice(1).join(', ')})`);
    const fds: number[] = [];
    let cgroup_fd: number | undefined;
    if (p.cgroup !== undefined) {
      const fd = cgroup_open(cgroupPath(p.cgroup), kernel);
      if (fd < 0) throw errorFor(fd, `no such cgroup: ${p.cgroup}`);
      fds.push(fd);
      cgroup_fd = fd;
    }
    return { linkInfo: { cgroup: { order, ...(cgroup_fd !== undefined ? { cgroup_fd } : {}) } }, fds };
  }
  return { linkInfo: null, fds: [] };
}

/** Closes fds opened by {@link buildLinkInfo} (the link holds its own references). */
export function closeFds(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      fdTable.close(fd);
    } catch {
      // already closed
    }
  }
}

/** The parameters a commander options object carries. */
export function paramsFromOpts(o: { pid?: number; tid?: number; map?: number; cgroup?: string; order?: string }): LinkParams {
  const p: LinkParams = {};
  if (o.pid !== undefined) p.pid = o.pid;
  if (o.tid !== undefined) p.tid = o.tid;
  if (o.map !== undefined) p.map = o.map;
  if (o.cgroup !== undefined) p.cgroup = o.cgroup;
  if (o.order !== undefined) p.order = o.order;
  return p;
}

// ---- programs and links -----------------------------------------------------

/** Attaches a loaded program with the CLI's link parameters; fds opened for the link info are closed again. */
export function attachWith(prog: BpfProgFd, params: LinkParams, kernel: Kernel): BpfIterLink {
  const built = buildLinkInfo(prog.targetName, params, kernel);
  try {
    return attachIter(prog, { linkInfo: built.linkInfo, kernel });
  } finally {
    closeFds(built.fds);
  }
}

/** Loads `spec` into `kernel` with `globals` and attaches it (the link holds the program). */
export function loadAndAttach(spec: BpfProgramSpec, params: LinkParams, kernel: Kernel, globals: Partial<BpfGlobals> = {}): BpfIterLink {
  const prog = loadProgram(spec, { kernel, globals });
  try {
    return attachWith(prog, params, kernel);
  } finally {
    prog.put();
  }
}

// ---- names ---------------------------------------------------------------------

export { errorLine, escapeText } from './exit.js';

const CONTROL = /[\x00-\x1f\x7f]/;

/** EINVAL for a path with a control character (newline, ESC...): the CLI does not create such names. */
export function checkPinName(path: string): void {
  if (CONTROL.test(path)) fail('EINVAL', `names with control characters are refused: ${path}`);
}
