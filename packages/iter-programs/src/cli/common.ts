/**
 * What the `bpf-iter` commands share: the output/error sink, kernel
 * selection (`--kernel`), link parameters (`--pid/--tid/--map/--cgroup
 * --order`) and streaming an iterator fd to stdout.
 */
import {
  BpfError,
  CGROUP_ORDER_NAMES,
  defaultKernel,
  fail,
  loadKernelSync,
  openHost,
  readBpfWithReport,
  syntheticKernel,
  type BpfSourceOptions,
  type HostOptions,
  type Kernel,
} from '@bpf-iter/core';
import { errorFor } from '../errno.js';
import { fdTable } from '../fd_table.js';
import { attachIter, type BpfIterLink } from '../link.js';
import type { BpfIterLinkInfoInit } from '../link_info.js';
import { loadProgram, type BpfGlobals, type BpfProgFd, type BpfProgramSpec } from '../program.js';
import { bpf_map_get_fd_by_id, cgroup_open } from '../targets/index.js';
import { withStatus } from './progress.js';
import { linkParamsOf } from './targets.js';

import type { CliIo } from './stream.js';
import type { KernelSpec } from './kernel_spec.js';

// Re-exported: the commands import them from here; the in-kernel dumper path and the CLI's
// parser import them from their own modules, without the model.
export { CHUNK, out, streamIter, type CliIo } from './stream.js';
export { KERNEL_CHOICES, parseKernelSpec, type KernelSpec } from './kernel_spec.js';
export { applySets } from './sets.js';

// ---- kernels ----------------------------------------------------------------

/** Which kinds of objects a target walks, so `--kernel host|bpf` reads only those. */
interface TargetNeeds {
  /** The bpf source has no program for what this target walks (`--kernel bpf` refuses it, naming the reason). */
  noBpf?: string;
  threads?: boolean;
  files?: boolean;
  vmas?: boolean;
  sockets?: boolean;
  routes?: boolean;
  ksyms?: boolean;
  slabs?: boolean;
  cgroups?: boolean;
  bpfObjects?: boolean;
}

const TARGET_NEEDS: Record<string, TargetNeeds> = {
  task: { threads: true },
  task_file: { threads: true, files: true },
  task_vma: { threads: true, vmas: true },
  tcp: { sockets: true },
  udp: { sockets: true },
  unix: { sockets: true },
  netlink: { sockets: true },
  ipv6_route: { routes: true },
  ksym: { ksyms: true },
  kmem_cache: { slabs: true },
  cgroup: { threads: true, cgroups: true },
  bpf_map: { bpfObjects: true },
  bpf_prog: { bpfObjects: true },
  bpf_link: { bpfObjects: true },
  bpf_map_elem: { bpfObjects: true, noBpf: "the bpf source reads the maps' metadata (bpf_map), not their elements" },
  bpf_sk_storage_map: { bpfObjects: true, sockets: true, noBpf: "the bpf source reads the maps' metadata (bpf_map), not their sockets" },
  sockmap: { bpfObjects: true, sockets: true, noBpf: "the bpf source reads the maps' metadata (bpf_map), not their sockets" },
  dmabuf: { noBpf: 'the bpf source runs no dmabuf iterator yet (the host source reads debugfs dma_buf/bufinfo)' },
};

/**
 * Only the kinds a target walks are read from the host (and, the host source
 * being lazy, only as the walk reaches them); unknown targets read everything.
 * Files and VMAs get the real addresses of their `file_operations` (kallsyms).
 */
export function hostOptionsFor(target: string | undefined): HostOptions {
  const n = target === undefined ? undefined : TARGET_NEEDS[target];
  if (!n) return {};
  const files = !!n.files;
  const vmas = !!n.vmas;
  return {
    threads: !!n.threads,
    files,
    fdinfo: files,
    vmas,
    sockets: !!n.sockets,
    routes: !!n.routes,
    ksyms: !!n.ksyms,
    realFops: files || vmas,
    slabs: !!n.slabs,
    cgroups: !!n.cgroups,
  };
}

/** Only what a target walks is read through the kernel's own iterators for `--kernel bpf`. */
export function bpfOptionsFor(target: string | undefined): BpfSourceOptions {
  const n = target === undefined ? undefined : TARGET_NEEDS[target];
  if (!n) return {};
  return { files: !!n.files, vmas: !!n.vmas, sockets: !!n.sockets, routes: !!n.routes, ksyms: !!n.ksyms, bpfObjects: !!n.bpfObjects, cgroups: !!n.cgroups, slabs: !!n.slabs };
}

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

/** Kernels built in this process, so pins of one kernel share it (and its ids). */
export class KernelCache {
  private readonly cache = new Map<string, Kernel>();
  /** `io`: where a live kernel read shows its status line (a terminal stderr only). */
  constructor(private readonly io?: CliIo) {}
  /**
   * The kernel of a spec; `host` is read once per process per target set,
   * with `host` options on top of what the target needs.
   */
  get(spec: KernelSpec, target?: string, host: HostOptions = {}): Kernel {
    const key = spec === 'host' || spec === 'bpf' ? `${spec}/${target ?? '*'}/${JSON.stringify(host)}` : spec;
    let k = this.cache.get(key);
    if (!k) {
      const io = this.io;
      const status = <T>(text: string, fn: () => T): T => (io ? withStatus(io, text, fn) : fn());
      // The host source is lazy (read as the walk reaches each kind): nothing long to show here.
      if (spec === 'host') k = openHost({ ...hostOptionsFor(target), ...host });
      else if (spec === 'bpf') k = status('reading the running kernel through BPF iterators (the first run builds them)…', () => readBpfFor(target));
      else if (spec.startsWith('snapshot:')) k = status('loading the snapshot…', () => loadKernelSync(spec.slice('snapshot:'.length)));
      else {
        const seed = Number(spec.slice('synthetic:'.length));
        // The default kernel is shared with library code in this process.
        k = seed === 1 ? defaultKernel() : syntheticKernel({ seed });
      }
      this.cache.set(key, k);
    }
    return k;
  }
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
