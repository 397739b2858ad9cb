/**
 * What the `bpf-iter` commands share: the output/error sink, kernel
 * selection (`--kernel`), link parameters (`--pid/--tid/--map/--cgroup
 * --order`) and streaming an iterator fd to stdout.
 */
import { once } from 'node:events';
import { resolve } from 'node:path';
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
import type { IterFdBase } from '../iter_fd.js';
import { attachIter, type BpfIterLink } from '../link.js';
import type { BpfIterLinkInfoInit } from '../link_info.js';
import { loadProgram, type BpfGlobals, type BpfProgFd, type BpfProgramSpec } from '../program.js';
import { bpf_map_get_fd_by_id, cgroup_open } from '../targets/index.js';
import { dumpProgress, withStatus } from './progress.js';
import { linkParamsOf } from './targets.js';

/** Where a command writes; `process.stdout`/`stderr` in the bin, collectors in tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Environment (for `BPF_ITER_STATE`); defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Directory the default state file is relative to; defaults to `process.cwd()`. */
  cwd?: string;
}

/** Bytes per `read()` of the iterator fd (64 KiB, like a `cat` buffer). */
export const CHUNK = 64 * 1024;

/** Writes `s` and waits for `drain` when the stream buffers (backpressure). */
export async function out(io: CliIo, s: string | Uint8Array): Promise<void> {
  if (!io.stdout.write(s)) await once(io.stdout, 'drain');
}

/**
 * Reads the iterator fd to EOF in 64 KiB chunks, writing each chunk as it
 * comes: the output is never buffered whole. Closes the fd.
 */
export async function streamIter(io: CliIo, fd: IterFdBase): Promise<void> {
  const progress = dumpProgress(io);
  try {
    for (;;) {
      const chunk = fd.read(CHUNK);
      if (chunk.length === 0) return;
      progress.add(chunk.length);
      await out(io, chunk);
    }
  } finally {
    progress.done();
    fd.closeQuietly();
  }
}

// ---- kernels ----------------------------------------------------------------

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

/**
 * Applies `--set NAME=VALUE` to a program's `.bss` / `.data` (first match),
 * checked against the type of the global's initial value: an integer
 * global takes a decimal or `0x` integer that fits (a bigint global any
 * integer), a boolean `true`/`false`, a string anything; a non-integer
 * number a finite number. EINVAL for an unknown name, a missing `=`, or a
 * value that is not of the global's type (`n=abc`, `n=1e400`, `flag=yes`).
 */
export function applySets(globals: { bss: Record<string, unknown>; data: Record<string, unknown> }, sets: readonly string[]): void {
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) fail('EINVAL', `--set wants NAME=VALUE, not '${s}'`);
    const name = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    const sec = Object.hasOwn(globals.bss, name) ? globals.bss : Object.hasOwn(globals.data, name) ? globals.data : null;
    if (!sec) {
      const known = [...Object.keys(globals.bss), ...Object.keys(globals.data)];
      fail('EINVAL', `unknown global '${name}' (the program's .bss/.data have: ${known.length ? known.join(', ') : 'none'})`);
    }
    sec[name] = parseValue(name, raw, sec[name]);
  }
}

const INTEGER = /^-?(0x[0-9a-f]+|\d+)$/i;

function parseInteger(v: string): bigint {
  const neg = v.startsWith('-');
  return BigInt(neg ? v.slice(1) : v) * (neg ? -1n : 1n);
}

function parseValue(name: string, raw: string, current: unknown): unknown {
  const v = raw.trim();
  const bad = (want: string): never => fail('EINVAL', `--set ${name}=${raw}: ${name} is ${want}`);
  switch (typeof current) {
    case 'boolean':
      if (v === 'true' || v === 'false') return v === 'true';
      return bad('a bool: true or false');
    case 'bigint':
      if (INTEGER.test(v)) return parseInteger(v);
      return bad('an integer (decimal or 0x hex)');
    case 'number': {
      if (Number.isInteger(current)) {
        if (!INTEGER.test(v)) return bad('an integer (decimal or 0x hex)');
        const b = parseInteger(v);
        if (b < BigInt(Number.MIN_SAFE_INTEGER) || b > BigInt(Number.MAX_SAFE_INTEGER)) return bad('an integer within ±2^53-1 (the global is a number, not a bigint)');
        return Number(b);
      }
      const n = INTEGER.test(v) ? Number(parseInteger(v)) : /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(v) ? Number(v) : NaN;
      if (!Number.isFinite(n)) return bad('a finite number');
      return n;
    }
    case 'string':
      return raw;
    default:
      return fail('EINVAL', `--set ${name}: the global's type (${current === null ? 'null' : typeof current}) cannot be set from the command line`);
  }
}

// ---- names ---------------------------------------------------------------------

export { errorLine, escapeText } from './exit.js';

const CONTROL = /[\x00-\x1f\x7f]/;

/** EINVAL for a path with a control character (newline, ESC...): the CLI does not create such names. */
export function checkPinName(path: string): void {
  if (CONTROL.test(path)) fail('EINVAL', `names with control characters are refused: ${path}`);
}
