/**
 * The bpf source: the running kernel read through real BPF iterator
 * programs (source `'bpf'`).
 *
 * The programs (`packages/core/bpf/*.bpf.c`) emit fixed-size binary records
 * with `bpf_seq_write`. They ship compiled as CO-RE objects
 * (`bpf/prebuilt/`, made by `scripts/build-bpf.mjs --prebuilt`), so no
 * clang is needed; when those are older than the sources the programs are
 * compiled on demand (clang, bpftool, libbpf headers) into `bpf/.build/`. They are loaded
 * in-process through libbpf (`../libbpf/`, koffi): each object once per
 * process, its link kept, so a later read only creates a new iterator fd
 * (`bpf_iter_create`) and reads it (the iteration runs in this process, so
 * it sees this process's pid and network namespaces). Link parameters
 * (`pid`/`tid` for the task targets, the cgroup iterator's start and order)
 * get a link of their own for the call. {@link releaseBpfSource} drops what
 * is kept.
 *
 * What it shows that /proc cannot: the real `f_op` address of every open
 * file and file mapping, files of threads with private fd tables, socket
 * cookies, kernel ids of every BPF object. What it does not read: pid
 * numbers inside nested pid namespaces (every task lands in the initial
 * namespace with its global ids), fdinfo-only fields, unix socket paths,
 * route gateways, slab caches. PID 1 may be invisible to task iterators
 * (it is on the reference machine).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, readFileSync, readSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prebuiltDir, which } from '../../scripts/bpf-compile.mjs';
import { BpfError, ERRNO, errnoName, type ErrnoName } from '../errors.js';
import { attachKernelIter, type KernelLink } from '../libbpf/link.js';
import { openObject, type BpfObject, type BpfObjectProgram } from '../libbpf/object.js';
import { Kernel } from '../kernel.js';
import { BpfLink, BpfMap, BpfProg } from '../model/bpf.js';
import type { Cgroup } from '../model/cgroup.js';
import type { FileOperations } from '../model/file.js';
import { FilesStruct } from '../model/files_struct.js';
import { MmStruct } from '../model/mm.js';
import { KmemCache } from '../model/kmem_cache.js';
import { Ipv6Route } from '../model/route.js';
import { AF_INET, AF_NETLINK, AF_UNIX, Socket } from '../model/socket.js';
import { PF_KTHREAD, TASK_FROZEN, TASK_NOLOAD, TASK_RTLOCK_WAIT, TASK_UNINTERRUPTIBLE, type Task, type TaskState } from '../model/task.js';
import { buildVmaLayout, installFdRecord, type FdRecord, possibleCpus, readUdpHashEntries, SocketTableBuilder, TaskTreeBuilder, type VmaRecord } from './build.js';
import { fopsName } from './procfs/fops.js';
import { parseMaps, type MapsRow } from './procfs/maps.js';
import { parseMountinfo } from './procfs/mountinfo.js';
import { udpHashSlots } from './procfs/net.js';
import { parseStat } from './procfs/stat.js';

// ---------------------------------------------------------------- records

/** Targets the bpf source has a program for (file `bpf/<target>.bpf.c`). */
export const BPF_SOURCE_TARGETS = [
  'task',
  'task_file',
  'task_vma',
  'tcp',
  'udp',
  'unix',
  'netlink',
  'ipv6_route',
  'ksym',
  'bpf_map',
  'bpf_prog',
  'bpf_link',
  'cgroup',
  'kmem_cache',
] as const;
/** One of {@link BPF_SOURCE_TARGETS}. */
export type BpfSourceTarget = (typeof BPF_SOURCE_TARGETS)[number];

/** `struct rec_task` (bpf/records.h). Ids are global (initial pid namespace). */
export interface BpfTaskRec {
  tgid: number;
  pid: number;
  ppid: number;
  uid: number;
  gid: number;
  flags: number;
  /** `task->__state`. */
  state: number;
  exit_state: number;
  /** ns since boot. */
  start_time: number;
  comm: string;
  prio: number;
  cgroup_id: number;
  /** Nanoseconds on a CPU (`se.sum_exec_runtime`). */
  sum_exec_runtime: number;
}
/** `struct rec_task_file`. */
export interface BpfTaskFileRec {
  tgid: number;
  pid: number;
  fd: number;
  f_flags: number;
  ino: number;
  /** Address of the file's `struct file_operations`. */
  f_op: bigint;
  pos: number;
  mode: number;
  /** `i_sb->s_dev`, kernel MKDEV encoding. */
  dev: number;
  /** The fd's close-on-exec bit (`files->fdt->close_on_exec`). */
  cloexec: boolean;
  /** `bpf_d_path(&file->f_path)`; '' when it failed. */
  path: string;
}
/** `struct rec_task_vma`; `kind` is one of {@link VMA_KIND}. */
export interface BpfTaskVmaRec {
  tgid: number;
  pid: number;
  start: number;
  end: number;
  flags: number;
  pgoff: number;
  ino: number;
  dev: number;
  kind: number;
  f_op: bigint;
  path: string;
}
/** `kind` of {@link BpfTaskVmaRec}: how /proc/PID/maps would name the mapping. */
export const VMA_KIND = { anon: 0, file: 1, heap: 2, stack: 3, vdso: 4 } as const;
/** `struct rec_inet` (tcp and udp). Addresses are network-order bytes (4 for IPv4). */
export interface BpfInetRec {
  family: number;
  state: number;
  sport: number;
  dport: number;
  uid: number;
  /** udp: the hash2 bucket; tcp: 0. */
  bucket: number;
  ino: number;
  saddr: Uint8Array;
  daddr: Uint8Array;
  cookie: bigint;
}
/** `struct rec_unix`. */
export interface BpfUnixRec {
  ino: number;
  type: number;
  state: number;
  /** `sk->sk_socket != NULL` (false while a connection waits in its listener's accept queue). */
  has_socket: boolean;
  uid: number;
}
/** `struct rec_netlink`. */
export interface BpfNetlinkRec {
  ino: number;
  portid: number;
  protocol: number;
}
/** `struct rec_route`. */
export interface BpfRouteRec {
  dst: Uint8Array;
  src: Uint8Array;
  dst_len: number;
  src_len: number;
  metric: number;
  /** `fib6_flags` (never RTF_GATEWAY: /proc ORs it in for routes with a gateway). */
  flags: number;
  /** `refcount_read(&fib6_ref)`. */
  ref: number;
  dev: string;
  /** The nexthop's IPv6 gateway, zeros when it has none. */
  gateway: Uint8Array;
}
/** `struct rec_ksym`. */
export interface BpfKsymRec {
  value: bigint;
  type: string;
  name: string;
  module: string;
}
/** `struct rec_map`. */
export interface BpfMapRec {
  id: number;
  type: number;
  key_size: number;
  value_size: number;
  max_entries: number;
  map_flags: number;
  name: string;
}
/** `struct rec_prog`. */
export interface BpfProgRec {
  id: number;
  type: number;
  expected_attach_type: number;
  /** 16 hex digits. */
  tag: string;
  name: string;
}
/** `struct rec_link`. */
export interface BpfLinkRec {
  id: number;
  type: number;
  prog_id: number;
}
/** `struct rec_cgroup`. */
export interface BpfCgroupRec {
  id: number;
  level: number;
  name: string;
}

/** `struct rec_kmem_cache`: what /proc/slabinfo prints, counted the way SLUB's get_slabinfo does. */
export interface BpfKmemCacheRec {
  name: string;
  size: number;
  object_size: number;
  align: number;
  /** `slab_flags_t` of the cache. */
  flags: number;
  objs_per_slab: number;
  pages_per_slab: number;
  /** Sum of every node's `total_objects`. */
  num_objs: number;
  /** Free objects on the nodes' partial slabs (`count_partial_free_approx`). */
  free_objs: number;
  num_slabs: number;
  /** Nodes walked. */
  nodes: number;
  /** A partial list was longer than the program walks (10,000 slabs, MAX_PARTIAL_TO_SCAN). */
  truncated: boolean;
}

/** The record type of each target. */
export interface BpfRecordOf {
  task: BpfTaskRec;
  task_file: BpfTaskFileRec;
  task_vma: BpfTaskVmaRec;
  tcp: BpfInetRec;
  udp: BpfInetRec;
  unix: BpfUnixRec;
  netlink: BpfNetlinkRec;
  ipv6_route: BpfRouteRec;
  ksym: BpfKsymRec;
  bpf_map: BpfMapRec;
  bpf_prog: BpfProgRec;
  bpf_link: BpfLinkRec;
  cgroup: BpfCgroupRec;
  kmem_cache: BpfKmemCacheRec;
}

const PATH_LEN = 256;

/** NUL-terminated C string at `off`, at most `len` bytes. */
function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}
/** A u64 as a number (exact below 2^53: pids' start times, inodes, sizes), read as two u32 halves (no BigInt per field). */
const u64 = (b: Buffer, off: number): number => b.readUInt32LE(off) + b.readUInt32LE(off + 4) * 0x1_0000_0000;

/** Record size and decoder per target; offsets repeat bpf/records.h. */
const DECODERS: { [T in BpfSourceTarget]: [size: number, decode: (b: Buffer, o: number) => BpfRecordOf[T]] } = {
  task: [
    80,
    (b, o) => ({
      tgid: b.readUInt32LE(o),
      pid: b.readUInt32LE(o + 4),
      ppid: b.readUInt32LE(o + 8),
      uid: b.readUInt32LE(o + 12),
      gid: b.readUInt32LE(o + 16),
      flags: b.readUInt32LE(o + 20),
      state: b.readUInt32LE(o + 24),
      exit_state: b.readUInt32LE(o + 28),
      start_time: u64(b, o + 32),
      comm: cstr(b, o + 40, 16),
      prio: b.readInt32LE(o + 56),
      cgroup_id: u64(b, o + 64),
      sum_exec_runtime: u64(b, o + 72),
    }),
  ],
  task_file: [
    56 + PATH_LEN,
    (b, o) => ({
      tgid: b.readUInt32LE(o),
      pid: b.readUInt32LE(o + 4),
      fd: b.readUInt32LE(o + 8),
      f_flags: b.readUInt32LE(o + 12),
      ino: u64(b, o + 16),
      f_op: b.readBigUInt64LE(o + 24),
      pos: b.readUInt32LE(o + 32) + b.readInt32LE(o + 36) * 0x1_0000_0000,
      mode: b.readUInt32LE(o + 40),
      dev: b.readUInt32LE(o + 44),
      cloexec: b.readUInt32LE(o + 48) !== 0,
      path: cstr(b, o + 56, PATH_LEN),
    }),
  ],
  task_vma: [
    64 + PATH_LEN,
    (b, o) => ({
      tgid: b.readUInt32LE(o),
      pid: b.readUInt32LE(o + 4),
      start: u64(b, o + 8),
      end: u64(b, o + 16),
      // Every vm_flags bit (high ones such as VM_SEALED are below 2^53, exact as a number).
      flags: u64(b, o + 24),
      pgoff: u64(b, o + 32),
      ino: u64(b, o + 40),
      dev: b.readUInt32LE(o + 48),
      kind: b.readUInt32LE(o + 52),
      f_op: b.readBigUInt64LE(o + 56),
      path: cstr(b, o + 64, PATH_LEN),
    }),
  ],
  tcp: [64, decodeInet],
  udp: [64, decodeInet],
  unix: [16, (b, o) => ({ ino: u64(b, o), type: b.readUInt16LE(o + 8), state: b.readUInt8(o + 10), has_socket: b.readUInt8(o + 11) !== 0, uid: b.readUInt32LE(o + 12) })],
  netlink: [16, (b, o) => ({ ino: u64(b, o), portid: b.readUInt32LE(o + 8), protocol: b.readUInt32LE(o + 12) })],
  ipv6_route: [
    80,
    (b, o) => ({
      dst: Uint8Array.from(b.subarray(o, o + 16)),
      src: Uint8Array.from(b.subarray(o + 16, o + 32)),
      dst_len: b.readUInt8(o + 32),
      src_len: b.readUInt8(o + 33),
      metric: b.readUInt32LE(o + 36),
      flags: b.readUInt32LE(o + 40),
      ref: b.readUInt32LE(o + 44),
      dev: cstr(b, o + 48, 16),
      gateway: b.readUInt8(o + 34) ? Uint8Array.from(b.subarray(o + 64, o + 80)) : new Uint8Array(16),
    }),
  ],
  ksym: [192, (b, o) => ({ value: b.readBigUInt64LE(o), type: String.fromCharCode(b[o + 8]!), name: cstr(b, o + 16, 120), module: cstr(b, o + 136, 56) })],
  bpf_map: [
    40,
    (b, o) => ({
      id: b.readUInt32LE(o),
      type: b.readUInt32LE(o + 4),
      key_size: b.readUInt32LE(o + 8),
      value_size: b.readUInt32LE(o + 12),
      max_entries: b.readUInt32LE(o + 16),
      map_flags: b.readUInt32LE(o + 20),
      name: cstr(b, o + 24, 16),
    }),
  ],
  bpf_prog: [
    40,
    (b, o) => ({
      id: b.readUInt32LE(o),
      type: b.readUInt32LE(o + 4),
      expected_attach_type: b.readUInt32LE(o + 8),
      tag: b.toString('hex', o + 16, o + 24),
      name: cstr(b, o + 24, 16),
    }),
  ],
  bpf_link: [16, (b, o) => ({ id: b.readUInt32LE(o), type: b.readUInt32LE(o + 4), prog_id: b.readUInt32LE(o + 8) })],
  cgroup: [80, (b, o) => ({ id: u64(b, o), level: b.readUInt32LE(o + 8), name: cstr(b, o + 16, 64) })],
  kmem_cache: [
    120,
    (b, o) => ({
      num_objs: u64(b, o),
      free_objs: u64(b, o + 8),
      num_slabs: u64(b, o + 16),
      size: b.readUInt32LE(o + 24),
      object_size: b.readUInt32LE(o + 28),
      align: b.readUInt32LE(o + 32),
      flags: b.readUInt32LE(o + 36),
      objs_per_slab: b.readUInt32LE(o + 40),
      pages_per_slab: b.readUInt32LE(o + 44),
      nodes: b.readUInt32LE(o + 48),
      truncated: b.readUInt32LE(o + 52) !== 0,
      name: cstr(b, o + 56, 64),
    }),
  ],
};

function decodeInet(b: Buffer, o: number): BpfInetRec {
  const family = b.readUInt16LE(o);
  const alen = family === AF_INET ? 4 : 16;
  return {
    family,
    state: b.readUInt8(o + 2),
    sport: b.readUInt16LE(o + 4),
    dport: b.readUInt16LE(o + 6),
    uid: b.readUInt32LE(o + 8),
    bucket: b.readUInt32LE(o + 12),
    ino: u64(b, o + 16),
    saddr: Uint8Array.from(b.subarray(o + 24, o + 24 + alen)),
    daddr: Uint8Array.from(b.subarray(o + 40, o + 40 + alen)),
    cookie: b.readBigUInt64LE(o + 56),
  };
}

/** Decodes a target's binary iterator output. EPROTO if it is not a whole number of records. */
export function parseBpfRecords<T extends BpfSourceTarget>(target: T, data: Buffer): BpfRecordOf[T][] {
  const [size, decode] = DECODERS[target] as [number, (b: Buffer, o: number) => BpfRecordOf[T]];
  if (data.length % size !== 0) throw new BpfError('EPROTO', `${target}: ${data.length} bytes is not a multiple of the ${size}-byte record`);
  const out: BpfRecordOf[T][] = new Array(data.length / size);
  for (let i = 0, o = 0; o < data.length; i++, o += size) out[i] = decode(data, o);
  return out;
}

// ---------------------------------------------------------------- availability and build

const BTF_PATH = '/sys/kernel/btf/vmlinux';
const BPFFS = '/sys/fs/bpf';
const BPF_FS_MAGIC = 0xcafe4a11;

/** Where `bpf/` and `scripts/` are: walk up from this module (src/sources or dist). */
function packageRoot(): string {
  const here =
    typeof __dirname !== 'undefined' ? __dirname : dirname(fileURLToPath((import.meta as { url?: string }).url ?? `file://${process.cwd()}/x`));
  const isRoot = (d: string) => existsSync(join(d, 'scripts/build-bpf.mjs')) && existsSync(join(d, 'bpf'));
  for (let d = here, i = 0; i < 6; i++, d = dirname(d)) if (isRoot(d)) return d;
  // Bundled into another package's file (the bpf-iter bin): the @bpf-iter/core it depends on,
  // first where Node's resolution finds it (a node_modules folder above), without the exports map.
  for (let d = here, i = 0; i < 6; i++, d = dirname(d)) {
    const dep = join(d, 'node_modules', '@bpf-iter', 'core');
    if (isRoot(dep)) return realpathSync(dep);
  }
  try {
    const d = dirname(createRequire(join(here, 'x.js')).resolve('@bpf-iter/core/package.json'));
    if (isRoot(d)) return d;
  } catch {
    // not resolvable from here: the error below names where we looked
  }
  throw new BpfError('ENOENT', `bpf sources not found above ${here} (packages/core/bpf, packages/core/scripts/build-bpf.mjs)`);
}

function bpffsMounted(): boolean {
  try {
    return statfsSync(BPFFS).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/** Result of {@link bpfAvailable}. */
export type BpfAvailability = { ok: true } | { ok: false; errno: ErrnoName; reason: string };

/**
 * The kernel side of {@link bpfAvailable}: Linux, root (EPERM), kernel BTF
 * (ENOENT). What loading a committed object needs; no tools, no bpffs.
 * Never throws.
 */
export function bpfKernelAvailable(): BpfAvailability {
  if (process.platform !== 'linux') return { ok: false, errno: 'ENOENT', reason: `BPF iterators need Linux (this is ${process.platform})` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return { ok: false, errno: 'EPERM', reason: 'loading BPF iterator programs needs root (CAP_BPF + CAP_PERFMON + CAP_SYS_ADMIN)' };
  if (!existsSync(BTF_PATH)) return { ok: false, errno: 'ENOENT', reason: `no kernel BTF at ${BTF_PATH} (CONFIG_DEBUG_INFO_BTF)` };
  return { ok: true };
}

/**
 * Whether this host can run the bpf source, checked in the order the
 * failures would occur: Linux, root (EPERM), kernel BTF (ENOENT), the
 * package's program sources (ENOENT); clang, bpftool and libbpf headers
 * (ENOENT, the tool named) only when the prebuilt objects do not match
 * the sources; bpffs mounted or
 * mountable (ENODEV; mounts it at /sys/fs/bpf when missing). Never throws.
 */
export function bpfAvailable(): BpfAvailability {
  const k = bpfKernelAvailable();
  if (!k.ok) return k;
  let root: string;
  try {
    root = packageRoot();
  } catch (e) {
    return { ok: false, errno: 'ENOENT', reason: (e as Error).message };
  }
  // The build tools only where the committed objects do not match the sources.
  const pre = prebuiltDir(join(root, 'bpf'));
  if (!pre.dir) {
    for (const tool of ['clang', 'bpftool'])
      if (!which(tool)) return { ok: false, errno: 'ENOENT', reason: `${tool} not found (apt-get install clang llvm bpftool libbpf-dev), needed because ${pre.reason}` };
    if (!existsSync('/usr/include/bpf/bpf_helpers.h')) return { ok: false, errno: 'ENOENT', reason: `libbpf headers not found (apt-get install libbpf-dev), needed because ${pre.reason}` };
  }
  if (!bpffsMounted()) {
    try {
      execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS], { stdio: 'pipe' });
    } catch (e) {
      return { ok: false, errno: 'ENODEV', reason: `no bpffs at ${BPFFS} and mounting it failed: ${String((e as { stderr?: unknown }).stderr ?? e).trim()}` };
    }
    if (!bpffsMounted()) return { ok: false, errno: 'ENODEV', reason: `mounted bpf at ${BPFFS} but it is not a bpffs` };
  }
  return { ok: true };
}

function requireAvailable(): void {
  const a = bpfAvailable();
  if (!a.ok) throw new BpfError(a.errno, a.reason);
}

let builtDir: string | null = null;

/**
 * The folder of the programs' objects: the committed CO-RE objects
 * (`bpf/prebuilt/`, no clang needed) when they were built from these
 * sources, else (or with `force`) the on-demand build (`node
 * scripts/build-bpf.mjs`, incremental, cached in `bpf/.build/`). Throws
 * {@link BpfError} with the build's errno (ENOENT for a missing tool, EINVAL
 * for a compile failure).
 */
export function buildBpfPrograms(options: { force?: boolean } = {}): string {
  if (builtDir && !options.force) return builtDir;
  const root = packageRoot();
  const pre = prebuiltDir(join(root, 'bpf'));
  if (pre.dir && !options.force) return (builtDir = pre.dir);
  let out: string;
  try {
    out = execFileSync(process.execPath, [join(root, 'scripts/build-bpf.mjs'), ...(options.force ? ['--force'] : [])], { stdio: 'pipe', encoding: 'utf8' });
  } catch (e) {
    out = String((e as { stdout?: unknown }).stdout ?? '');
    if (!out.trim()) throw new BpfError('EINVAL', `build-bpf.mjs failed: ${String((e as { stderr?: unknown }).stderr ?? e)}`);
  }
  const r = JSON.parse(out.trim().split('\n').pop()!) as { ok: boolean; dir?: string; errno?: ErrnoName; message?: string };
  if (!r.ok) throw new BpfError(r.errno ?? 'EINVAL', `${r.message ?? 'bpf build failed'}${pre.reason ? `; built on demand because ${pre.reason}` : ''}`);
  builtDir = r.dir!;
  return builtDir;
}

/**
 * The committed CO-RE objects' folder when they match the sources, else
 * null: never builds (for callers that use BPF only where it is there
 * already, such as the async host snapshot's fd links).
 */
export function prebuiltBpfDir(): string | null {
  if (builtDir) return builtDir;
  try {
    return prebuiltDir(join(packageRoot(), 'bpf')).dir;
  } catch {
    return null;
  }
}

/** One object to load for a target: the default program or one of its declared variants. */
interface BpfObjectChoice {
  target: BpfSourceTarget;
  /** `null` for the default object, else the variant's name (`bpf-iter variants:` in the source). */
  variant: string | null;
  path: string;
}

/** The variant each target loaded with in this process (kept: the kernel does not change under us). */
const loadedVariant = new Map<BpfSourceTarget, string | null>();

/** The variant of a target that loaded on this kernel, `null` for the default, `undefined` before any load. */
export function bpfTargetVariant(target: BpfSourceTarget): string | null | undefined {
  return loadedVariant.get(target);
}

/** The objects to try for a target, in order, starting at the one that loaded before. */
function objectChoices(dir: string, target: BpfSourceTarget): BpfObjectChoice[] {
  let manifest: Record<string, string[]> = {};
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'variants.json'), 'utf8')) as Record<string, string[]>;
  } catch {
    // an older build without variants: the default object only
  }
  const all: BpfObjectChoice[] = [null, ...(manifest[target] ?? [])].map((variant) => ({
    target,
    variant,
    path: join(dir, variant ? `${target}.${variant}.bpf.o` : `${target}.bpf.o`),
  }));
  const known = loadedVariant.get(target);
  const i = known === undefined ? 0 : all.findIndex((c) => c.variant === known);
  return all.slice(Math.max(i, 0));
}

/**
 * The line of a libbpf load failure that says why: the verifier's
 * last line before `processed N insns`, else the last line libbpf printed.
 */
export function verifierReason(msg: string): string {
  const lines = msg.split('\n').map((l) => l.trim()).filter(Boolean);
  const p = lines.findIndex((l) => /^processed \d+ insns/.test(l));
  if (p > 0) return lines[p - 1]!;
  return lines.filter((l) => !l.startsWith('Error: ')).pop() ?? lines.pop() ?? msg;
}

/** True for an error of loading (verifying) a program, where another variant may load. */
function isLoadFailure(e: BpfError): boolean {
  return /failed to load/.test(e.message);
}

/**
 * Runs `run` over every target's first choice; targets whose program the
 * kernel refused are tried again with their next variant. A target that no
 * variant loads for gets the first refusal (the default program's reason),
 * with the variants' reasons appended.
 */
function withVariants(
  dir: string,
  targets: readonly BpfSourceTarget[],
  run: (jobs: readonly BpfObjectChoice[]) => Map<BpfSourceTarget, Buffer | BpfError>,
): Map<BpfSourceTarget, Buffer | BpfError> {
  const out = new Map<BpfSourceTarget, Buffer | BpfError>();
  const tries = new Map(targets.map((t) => [t, objectChoices(dir, t)] as const));
  const refused = new Map<BpfSourceTarget, BpfError[]>();
  let pending = [...targets];
  while (pending.length) {
    const res = run(pending.map((t) => tries.get(t)![0]!));
    const again: BpfSourceTarget[] = [];
    for (const t of pending) {
      const r = res.get(t)!;
      const choice = tries.get(t)!.shift()!;
      if (!(r instanceof BpfError)) {
        loadedVariant.set(t, choice.variant);
        out.set(t, r);
        continue;
      }
      if (!isLoadFailure(r)) {
        out.set(t, r);
        continue;
      }
      const list = refused.get(t) ?? [];
      list.push(new BpfError(r.errno, `${choice.variant ?? 'default'}: ${verifierReason(r.detail)}`));
      refused.set(t, list);
      if (tries.get(t)!.length) again.push(t);
      else {
        const [first, ...rest] = list;
        const extra = rest.length ? ` (variants: ${rest.map((e) => e.detail).join('; ')})` : '';
        out.set(t, new BpfError(first!.errno, `${t}: ${first!.detail.replace(/^default: /, '')}${extra}`));
      }
    }
    pending = again;
  }
  return out;
}

/**
 * Runs several unparameterised iterators: one new session of each
 * target's kept link (loaded on first use), read to EOF. A
 * target whose program the verifier refuses is retried with its next
 * variant. Returns the raw output per target, or the {@link BpfError} of
 * that target (errno, and the verifier's reason for a refused program).
 */
export function runBpfIters(targets: readonly BpfSourceTarget[]): Map<BpfSourceTarget, Buffer | BpfError> {
  requireAvailable();
  return withVariants(buildBpfPrograms(), targets, (choices) => readSessions(choices, null));
}

/**
 * Each object loaded in-process through libbpf once per process (see
 * {@link liveIter}), then one new session per call: `bpf_iter_create` on
 * the kept link, read to EOF, closed. With `pooled`, each session reads into
 * a buffer its link keeps for the next sessions (and says which in
 * `pooled`): the bytes stay valid until the buffer is reused, see
 * {@link SessionBuffer}. Without, into a buffer of its own.
 */
function readSessions(choices: readonly BpfObjectChoice[], pooled: Map<BpfSourceTarget, SessionBuffer> | null): Map<BpfSourceTarget, Buffer | BpfError> {
  const out = new Map<BpfSourceTarget, Buffer | BpfError>();
  for (const c of choices) {
    try {
      const e = liveIter(c.path);
      e.link ??= attachKernelIter(e.prog, null, 0);
      if (!pooled) out.set(c.target, readSession(e.link, { buf: Buffer.allocUnsafe(sessionSizeHint(e)), keep: null }));
      else {
        const sb = sessionBuffer(e);
        out.set(c.target, readSession(e.link, sb));
        pooled.set(c.target, sb);
      }
      e.lastBytes = (out.get(c.target) as Buffer).length;
    } catch (e) {
      out.set(c.target, e instanceof BpfError ? e : new BpfError('EINVAL', `${c.target}: ${String(e)}`));
    }
  }
  return out;
}

/**
 * A read buffer a kept link reuses from session to session: fresh memory
 * costs more than the read itself on some machines (every page faulted in),
 * and a second read of the same size needs none. `keep`, when set, is
 * called before the buffer is overwritten by whoever still reads the old
 * bytes (the ksym table decodes them on its first read).
 */
interface SessionBuffer {
  buf: Buffer;
  keep: (() => void) | null;
}

/** A link's buffer for the next session: a free one, a second one, or the older one after its holder has taken what it needs. */
function sessionBuffer(e: LiveIter): SessionBuffer {
  const free = e.buffers.find((b) => !b.keep);
  if (free) return free;
  if (e.buffers.length < 2) {
    const b = { buf: Buffer.allocUnsafe(sessionSizeHint(e)), keep: null };
    e.buffers.push(b);
    return b;
  }
  const b = e.buffers.shift()!;
  e.buffers.push(b);
  const keep = b.keep!;
  b.keep = null;
  keep();
  return b;
}

/** Room for the link's last session and a quarter more (64 KiB at least). */
function sessionSizeHint(e: LiveIter): number {
  return Math.max(1 << 16, Math.ceil(e.lastBytes * 1.25));
}

/** A loaded object and its unparameterised link (made on first use), kept for the process: the program stays verified. */
interface LiveIter {
  obj: BpfObject;
  prog: BpfObjectProgram;
  link: KernelLink | null;
  /** Bytes of the link's last session (sizes the next one's buffer). */
  lastBytes: number;
  /** The pooled read buffers (at most two: one may still be held by the previous read's model). */
  buffers: SessionBuffer[];
}
const live = new Map<string, LiveIter>();

/**
 * The kept object of `path` (keyed by path and mtime, so a rebuild loads
 * the new one): opened and loaded on first use. A load failure
 * is not kept (the next call tries again, e.g. after a rebuild).
 */
function liveIter(path: string): LiveIter {
  const key = `${path}\0${statSync(path).mtimeMs}`;
  let e = live.get(key);
  if (e) return e;
  const obj = openObject(path);
  try {
    obj.load();
    e = { obj, prog: obj.firstIterProgram(), link: null, lastBytes: 0, buffers: [] };
  } catch (err) {
    obj.close();
    throw err;
  }
  // What is kept is released exactly once: by releaseBpfSource(), or at exit.
  if (!releaseAtExit) {
    releaseAtExit = true;
    process.once('exit', releaseBpfSource);
  }
  live.set(key, e);
  return e;
}
let releaseAtExit = false;

/**
 * Reads one new session of `link` to EOF into `sb.buf` (doubled when full,
 * the bigger buffer kept in `sb`), closing the iterator fd once. Returns the
 * bytes read, a view of `sb.buf`.
 */
function readSession(link: KernelLink, sb: SessionBuffer): Buffer {
  const fd = link.createIterFd();
  try {
    let n = 0;
    for (;;) {
      if (sb.buf.length - n < 1 << 15) {
        const bigger = Buffer.allocUnsafe(sb.buf.length * 2);
        sb.buf.copy(bigger, 0, 0, n);
        sb.buf = bigger;
      }
      const r = readSync(fd, sb.buf, n, sb.buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return sb.buf.subarray(0, n);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new BpfError(code && code in ERRNO ? (code as ErrnoName) : 'EINVAL', `read iterator: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Destroys the links and closes the objects the bpf source keeps loaded
 * (each once), and drops their read buffers. The next read loads them
 * again. Runs at process exit for whatever is still kept.
 */
export function releaseBpfSource(): void {
  for (const e of live.values()) {
    e.link?.destroy();
    e.obj.close();
  }
  live.clear();
}

/** Link parameters for {@link runBpfIter}. */
export interface BpfIterParams {
  /** Task targets: only this process (`linfo.task.pid`). */
  pid?: number;
  /** Task targets: only this thread (`linfo.task.tid`). */
  tid?: number;
  /** cgroup: start cgroup id (default 1, the root). */
  cgroupId?: number;
  /** cgroup: `enum bpf_cgroup_iter_order` (default 2, DESCENDANTS_PRE). */
  order?: number;
}

/**
 * Runs one target's iterator and returns its raw output. Without
 * parameters on the kept link; with `pid`/`tid` (and always for `cgroup`,
 * which needs a start and an order) on a link made for the call.
 */
export function runBpfIter(target: BpfSourceTarget, params: BpfIterParams = {}): Buffer {
  let r: Buffer | BpfError;
  if (target !== 'cgroup' && params.pid === undefined && params.tid === undefined) r = runBpfIters([target]).get(target)!;
  else {
    requireAvailable();
    const dir = buildBpfPrograms();
    // union bpf_iter_link_info: task { tid, pid } at 0 and 4, cgroup { order, cgroup_fd, cgroup_id } at 0, 4, 8.
    const linfo = Buffer.alloc(16);
    if (target === 'cgroup') {
      linfo.writeUInt32LE(params.order ?? 2, 0);
      linfo.writeBigUInt64LE(BigInt(params.cgroupId ?? 1), 8);
    } else if (params.pid !== undefined) linfo.writeUInt32LE(params.pid, 4);
    else linfo.writeUInt32LE(params.tid!, 0);
    r = withVariants(dir, [target], ([c]) => new Map([[target, readWithLinkInfo(c!, linfo)]])).get(target)!;
  }
  if (r instanceof BpfError) throw r;
  return r;
}

/** One session of the kept object with link parameters: a link made for this call, destroyed after it. */
function readWithLinkInfo(c: BpfObjectChoice, linkInfo: Uint8Array): Buffer | BpfError {
  try {
    const link = attachKernelIter(liveIter(c.path).prog, linkInfo, linkInfo.length);
    try {
      return readSession(link, { buf: Buffer.allocUnsafe(1 << 16), keep: null });
    } finally {
      link.destroy();
    }
  } catch (e) {
    return e instanceof BpfError ? e : new BpfError('EINVAL', `${c.target}: ${String(e)}`);
  }
}

/** {@link runBpfIter} decoded into records. */
export function bpfRecords<T extends BpfSourceTarget>(target: T, params: BpfIterParams = {}): BpfRecordOf[T][] {
  return parseBpfRecords(target, runBpfIter(target, params));
}

// ---------------------------------------------------------------- the model

/** Options of {@link readBpf}. Every part is on by default. */
export interface BpfSourceOptions {
  /** Read files (task_file). */
  files?: boolean;
  /** Read address spaces (task_vma). */
  vmas?: boolean;
  /** Read tcp, udp, unix and netlink sockets. */
  sockets?: boolean;
  /** Read the IPv6 FIB. */
  routes?: boolean;
  /** Load every kernel symbol (ksym; ~190 bytes per symbol through the iterator). */
  ksyms?: boolean;
  /** Read BPF maps, programs and links. */
  bpfObjects?: boolean;
  /** Read the cgroup v2 tree. */
  cgroups?: boolean;
  /** Read the slab caches (kmem_cache). */
  slabs?: boolean;
}

/** What a bpf read did. */
export interface BpfReport {
  /** Milliseconds of the unparameterised reads, of the parameterised ones (cgroup), and of model building. */
  timings: { iterMs: number; loaderMs: number; buildMs: number; totalMs: number };
  /** Output bytes per target. */
  bytes: Partial<Record<BpfSourceTarget, number>>;
  /** Records per target. */
  counts: Partial<Record<BpfSourceTarget, number>>;
  /** Optional targets that failed (missing in this kernel, ...); `task` failing throws instead. */
  skipped: { target: BpfSourceTarget; errno: ErrnoName; message: string }[];
  /** How many file kinds got their name from kallsyms (the rest are named by path and inode kind). */
  fopsFromKallsyms: number;
  /** Targets that loaded a variant program (not the default), and why the default was refused. */
  variants: { target: BpfSourceTarget; variant: string }[];
  /**
   * File mappings whose path the program could not take (the no_d_path variant):
   * how many were named from /proc/TGID/maps (same start, device and inode) and how many stay unnamed.
   */
  vmaPaths: { fromProcMaps: number; unknown: number };
}

/** Reads the running kernel into a new {@link Kernel} (source `'bpf'`). See {@link readBpfWithReport}. *
 * @throws {@link BpfError}: EPERM (not root), ENOENT (no BTF, clang, bpftool or
 * libbpf headers), ENODEV (no bpffs), or the `task` program's load error.
 *
 * @example
 * ```ts
 * import { bpfAvailable, readBpf } from '@bpf-iter/core';
 * if (bpfAvailable().ok) {
 *   const real = readBpf({ sockets: false }); // the running kernel, read by real BPF iterators
 *   console.log(real.taskCount);
 * }
 * ```
 */
export function readBpf(options: BpfSourceOptions = {}): Kernel {
  return readBpfWithReport(options).kernel;
}

/** TASK_REPORT (include/linux/sched.h): INTERRUPTIBLE..PARKED, EXIT_DEAD 0x10 and EXIT_ZOMBIE 0x20 included. */
const TASK_REPORT = 0x7f;
const TASK_IDLE = TASK_UNINTERRUPTIBLE | TASK_NOLOAD;
const STATE_CHARS = 'RSDTtXZPI';

/** The letter /proc prints for a task: the kernel's task_state_index (fs/proc/array.c), bit for bit. */
function taskState(r: BpfTaskRec): TaskState {
  let state = (r.state | r.exit_state) & TASK_REPORT;
  if ((r.state & TASK_IDLE) === TASK_IDLE) state = TASK_REPORT + 1;
  // Tasks waiting on an rtlock, and frozen ones, are reported as uninterruptible.
  if (r.state & (TASK_RTLOCK_WAIT | TASK_FROZEN)) state = TASK_UNINTERRUPTIBLE;
  return STATE_CHARS[state === 0 ? 0 : 32 - Math.clz32(state)] as TaskState;
}

/**
 * Reads the running kernel through BPF iterator programs into a new
 * {@link Kernel} (source `'bpf'`), with a report of timings and skipped
 * targets. Throws {@link BpfError}: EPERM (not root), ENOENT (no BTF, clang,
 * bpftool or libbpf headers; the message names which), ENODEV (no bpffs),
 * or the load error libbpf reports for the `task` target (errno and the verifier's verdict).
 *
 * File kinds (`kernel.fops(name, addr, false)`) carry the real f_op
 * addresses; their names come from /proc/kallsyms when it lists the
 * address (CONFIG_KALLSYMS_ALL), else from the path and inode kind like the
 * host source (suffixed with the address when two addresses would share a name).
 */
export function readBpfWithReport(options: BpfSourceOptions = {}): { kernel: Kernel; report: BpfReport } {
  const t0 = performance.now();
  const o = { files: true, vmas: true, sockets: true, routes: true, ksyms: true, bpfObjects: true, cgroups: true, slabs: true, ...options };
  requireAvailable();
  buildBpfPrograms();
  const report: BpfReport = {
    timings: { iterMs: 0, loaderMs: 0, buildMs: 0, totalMs: 0 },
    bytes: {},
    counts: {},
    skipped: [],
    fopsFromKallsyms: 0,
    variants: [],
    vmaPaths: { fromProcMaps: 0, unknown: 0 },
  };
  const t1 = performance.now();
  const pooled = new Map<BpfSourceTarget, SessionBuffer>();
  const raw = withVariants(buildBpfPrograms(), sourceTargets(o), (choices) => readSessions(choices, pooled));
  const t2 = performance.now();
  if (o.cgroups) {
    try {
      raw.set('cgroup', runBpfIter('cgroup'));
    } catch (e) {
      raw.set('cgroup', e instanceof BpfError ? e : new BpfError('EINVAL', String(e)));
    }
  }
  const t3 = performance.now();
  for (const t of raw.keys()) {
    const v = bpfTargetVariant(t);
    if (v) report.variants.push({ target: t, variant: v });
  }
  report.timings.iterMs = t2 - t1;
  report.timings.loaderMs = t3 - t2;
  const kernel = buildBpfKernel(new BpfRecords(raw, report, pooled), report);
  const t4 = performance.now();
  report.timings.buildMs = t4 - t3;
  report.timings.totalMs = t4 - t0;
  return { kernel, report };
}

/** The unparameterised targets the options ask for (`task` always; `cgroup` needs a link of its own). */
function sourceTargets(o: Required<BpfSourceOptions>): BpfSourceTarget[] {
  const targets: BpfSourceTarget[] = ['task'];
  if (o.files) targets.push('task_file');
  if (o.vmas) targets.push('task_vma');
  if (o.sockets) targets.push('tcp', 'udp', 'unix', 'netlink');
  if (o.routes) targets.push('ipv6_route');
  if (o.ksyms) targets.push('ksym');
  if (o.bpfObjects) targets.push('bpf_map', 'bpf_prog', 'bpf_link');
  if (o.slabs) targets.push('kmem_cache');
  return targets;
}

/** The raw output of each target, decoded on demand; bytes, counts and skipped targets go to the report. */
class BpfRecords {
  constructor(
    private readonly raw: Map<BpfSourceTarget, Buffer | BpfError>,
    readonly report: BpfReport,
    /** The pooled buffers the bytes are in (each valid until its link's next session but one). */
    readonly pooled: ReadonlyMap<BpfSourceTarget, SessionBuffer>,
  ) {}

  private readonly decoded = new Map<BpfSourceTarget, unknown[]>();

  /** The records of `t` (decoded once): none when it was not read; a failed optional target is reported as skipped, a failed `task` throws. */
  of<T extends BpfSourceTarget>(t: T): BpfRecordOf[T][] {
    let r = this.decoded.get(t) as BpfRecordOf[T][] | undefined;
    if (r) return r;
    const b = this.buffer(t);
    r = b ? parseBpfRecords(t, b) : [];
    if (b) this.report.counts[t] = r.length;
    this.decoded.set(t, r);
    return r;
  }

  /** The raw bytes of `t` (for decoders that skip the record objects), with the same reporting. */
  buffer(t: BpfSourceTarget): Buffer | null {
    const b = this.raw.get(t);
    if (b === undefined) return null;
    if (b instanceof BpfError) {
      if (t === 'task') throw b;
      this.report.skipped.push({ target: t, errno: b.errno, message: b.detail });
      return null;
    }
    this.report.bytes[t] = b.length;
    return b;
  }
}

/** The model from the records: kernel symbols and f_op names first, then cgroups, sockets, routes, tasks with their files and mms, slabs, BPF objects. */
function buildBpfKernel(recs: BpfRecords, report: BpfReport): Kernel {
  const udp = recs.of('udp');
  // UDP sockets sit in the slot the kernel's udp iterator walked (its ctx->bucket).
  const kernel = new Kernel({
    source: 'bpf',
    nrCpus: possibleCpus(),
    udpHashEntries: udpHashSlots(readUdpHashEntries(), udp.reduce((m, r) => Math.max(m, r.bucket), -1)),
  });
  const osrelease = readOr('/proc/sys/kernel/osrelease');
  kernel.description = `bpf ${readOr('/proc/sys/kernel/hostname')} (Linux ${osrelease})`;
  const uptime = readOr('/proc/uptime');
  if (uptime) kernel.nowNs = Math.round(parseFloat(uptime) * 1e9);
  kernel.unreadable.set('dmabuf', { errno: 'EOPNOTSUPP', reason: 'the bpf source runs no dmabuf iterator yet (the host source reads debugfs dma_buf/bufinfo)' });

  // Kernel symbols first: they name the f_op addresses of the files and file mappings.
  const wanted = new Set<bigint>();
  for (const f of recs.of('task_file')) wanted.add(f.f_op);
  for (const v of recs.of('task_vma')) if (v.kind === VMA_KIND.file) wanted.add(v.f_op);
  const fopsOf = fopsNamer(kernel, addKsyms(kernel, recs, wanted), report, osrelease || null);
  const cgById = addCgroups(kernel, recs.of('cgroup'));
  const sockets = addSockets(kernel, recs, udp);
  for (const r of recs.of('ipv6_route'))
    kernel.addRoute(new Ipv6Route(r.dst, r.dst_len, r.src, r.src_len, r.gateway, r.metric, r.ref, 0, r.flags, r.dev));
  addTasks(kernel, recs, report, { fopsOf, cgById, sockByIno: sockets.byIno });
  for (const r of recs.of('kmem_cache'))
    kernel.addKmemCache(
      new KmemCache(r.name, r.object_size, r.size, r.align, r.num_objs - r.free_objs, r.num_objs, r.objs_per_slab, r.pages_per_slab),
    );
  addBpfObjects(kernel, recs);
  return kernel;
}

/** A file's f_op table from its address: named from kallsyms' data symbols where listed, else from the path and inode kind. */
type FopsOf = (addr: bigint, path: string, mode: number, dev: number, flags: number) => FileOperations;

/**
 * The ksym records into `kernel.ksyms`, decoded on the table's first read
 * (~120k symbols: building them is most of a read otherwise), and the names
 * of the `wanted` addresses among the const data symbols (`r`/`R`/`d`/`D`,
 * where `file_operations` tables live; the first in walk order), found in
 * the raw records, or in /proc/kallsyms when ksym was not read.
 */
function addKsyms(kernel: Kernel, recs: BpfRecords, wanted: ReadonlySet<bigint>): Map<bigint, string> {
  const dataSyms = new Map<bigint, string>();
  const b = recs.buffer('ksym');
  if (b && b.length % KSYM_REC !== 0) throw new BpfError('EPROTO', `ksym: ${b.length} bytes is not a multiple of the ${KSYM_REC}-byte record`);
  if (b && b.length) {
    const n = b.length / KSYM_REC;
    recs.report.counts.ksym = n;
    for (let o = 0; o < b.length; o += KSYM_REC) {
      if (!DATA_SYM_CODES.has(b[o + 8]!)) continue;
      const value = b.readBigUInt64LE(o);
      if (value !== 0n && wanted.has(value) && !dataSyms.has(value)) dataSyms.set(value, latin1z(b, o + 16, 120));
    }
    // The bytes are in a buffer the ksym link reuses: before it does, the table (if still reachable) decodes them.
    const sb = recs.pooled.get('ksym');
    if (sb) {
      const table = new WeakRef(kernel.ksyms);
      sb.keep = () => void table.deref()?.names;
    }
    kernel.ksyms.defer(n, (table) => {
      for (let o = 0; o < b.length; o += KSYM_REC)
        table.add(latin1z(b, o + 16, 120), String.fromCharCode(b[o + 8]!), b.readBigUInt64LE(o), b[o + 136] ? latin1z(b, o + 136, 56) : '');
    });
    return dataSyms;
  }
  for (const line of readOr('/proc/kallsyms').split('\n')) {
    const [a, type, name] = line.split(/\s+/);
    if (a && type && name && DATA_SYM_CODES.has(type.charCodeAt(0))) {
      const value = BigInt('0x' + a);
      if (value !== 0n && wanted.has(value) && !dataSyms.has(value)) dataSyms.set(value, name);
    }
  }
  return dataSyms;
}
const KSYM_REC = 192;
/** file_operations tables are const data: rodata (r/R) or data (d/D). */
const DATA_SYM_CODES = new Set([...'rRdD'].map((c) => c.charCodeAt(0)));

/** NUL-terminated ASCII at `off`, at most `len` bytes (kernel symbol and module names). */
function latin1z(b: Buffer, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  return b.toString('latin1', off, end);
}

/** The f_op namer over the data symbols, the mounts' file system types and the kernel's release (it names pipes). */
function fopsNamer(kernel: Kernel, dataSyms: Map<bigint, string>, report: BpfReport, osrelease: string | null): FopsOf {
  const fsByDev = new Map<number, string>();
  try {
    for (const m of parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))) {
      const dev = ((m.major & 0xfff) << 20) | (m.minor & 0xfffff);
      if (!fsByDev.has(dev)) fsByDev.set(dev, m.fstype);
    }
  } catch {
    // no mountinfo: names fall back to the path alone
  }
  const fopsByAddr = new Map<bigint, FileOperations>();
  return (addr, path, mode, dev, flags) => {
    let f = fopsByAddr.get(addr);
    if (f) return f;
    let name = dataSyms.get(addr);
    if (name) report.fopsFromKallsyms++;
    else {
      name = fopsName({ link: path, mode, fstype: fsByDev.get(dev) ?? '', flags, osrelease });
      // The heuristic may give two real tables one name (proc files, devices): keep them apart.
      const prev = kernel.fopsNamed(name);
      if (prev && prev.addr !== addr) name = `${name}@${addr.toString(16)}`;
    }
    f = kernel.fops(name, addr, false);
    fopsByAddr.set(addr, f);
    return f;
  };
}

/** The cgroup v2 tree from the pre-order records (with their levels), by id. */
function addCgroups(kernel: Kernel, rows: readonly BpfCgroupRec[]): Map<number, Cgroup> {
  const cgById = new Map<number, Cgroup>([[1, kernel.cgroupRoot]]);
  const stack: Cgroup[] = [kernel.cgroupRoot];
  for (const c of rows) {
    if (c.level === 0) continue;
    const parent = stack[c.level - 1];
    if (!parent) continue;
    try {
      const cg = kernel.mkdirCgroup(parent, c.name, kernel.cgroups.has(c.id) ? undefined : c.id);
      cgById.set(c.id, cg);
      stack[c.level] = cg;
      stack.length = c.level + 1;
    } catch {
      // a duplicate name under one parent cannot happen in a consistent walk; skip it
    }
  }
  return cgById;
}

/** tcp, udp, unix and netlink sockets, before the files that point at them. */
function addSockets(kernel: Kernel, recs: BpfRecords, udp: readonly BpfInetRec[]): SocketTableBuilder {
  const b = new SocketTableBuilder(kernel);
  const inet = (proto: 'tcp' | 'udp', r: BpfInetRec): Socket =>
    new Socket({ proto, skc_family: r.family, skc_state: r.state, skc_rcv_saddr: r.saddr, skc_daddr: r.daddr, skc_num: r.sport, dport: r.dport, sk_uid: r.uid, ino: r.ino, cookie: r.cookie });
  b.addTcp(recs.of('tcp').map((r) => inet('tcp', r)));
  for (const r of udp) b.add(inet('udp', r), r.bucket);
  b.addUnix(
    recs.of('unix').map((r) => {
      const sk = new Socket({ proto: 'unix', skc_family: AF_UNIX, sk_type: r.type, skc_state: r.state, sk_uid: r.uid, ino: r.ino, cookie: kernel.allocCookie(), sk_socket: r.has_socket });
      sk.cookie_unknown = true; // the program reads no cookie for unix sockets: the model's is only an identity
      return sk;
    }),
  );
  for (const r of recs.of('netlink')) {
    const sk = new Socket({ proto: 'netlink', skc_family: AF_NETLINK, sk_protocol: r.protocol, skc_state: 0, ino: r.ino, cookie: kernel.allocCookie() });
    sk.cookie_unknown = true; // no cookie in the netlink record
    sk.sk_uid_unknown = true; // nor a uid
    sk.netlink = { portid: r.portid, groups: 0, rmem: 0, wmem: 0, dump: 0, locks: 2, drops: 0 };
    b.add(sk, r.protocol);
  }
  return b;
}

/** What tasks are built against. */
interface TaskContext {
  fopsOf: FopsOf;
  cgById: Map<number, Cgroup>;
  sockByIno: Map<number, Socket>;
}

const VMA_NAMES = ['', null, '[heap]', '[stack]', '[vdso]'];

/** Tasks in fork order (start time): leaders with their fd tables and mms, then threads (a private table where one was seen under the thread's pid). */
function addTasks(kernel: Kernel, recs: BpfRecords, report: BpfReport, ctx: TaskContext): void {
  const tasks = recs.of('task').sort((a, b) => a.start_time - b.start_time || a.pid - b.pid);
  const vmas = recs.of('task_vma');
  nameVmaFiles(vmas, report.vmaPaths);
  const filesByPid = groupBy(recs.of('task_file'), (f) => f.pid);
  const vmasByTgid = groupBy(vmas, (v) => v.tgid);
  const { fopsOf, cgById, sockByIno } = ctx;
  // One scratch record for every fd (installFdRecord keeps none of it).
  const rec: FdRecord = { fd: 0, path: '' };
  const buildFiles = (rows: readonly BpfTaskFileRec[]): FilesStruct => {
    const fs = new FilesStruct();
    for (const r of rows) {
      const sk = sockByIno.get(r.ino);
      rec.fd = r.fd;
      rec.path = r.path || (sk ? `socket:[${r.ino}]` : '');
      rec.f_op = fopsOf(r.f_op, rec.path, r.mode, r.dev, r.f_flags);
      rec.inode = { i_ino: r.ino, i_mode: r.mode, s_dev: r.dev };
      rec.flags = r.f_flags;
      rec.private_data = sk && (r.mode & 0o170000) === 0o140000 ? sk : null;
      rec.f_pos = r.pos;
      rec.cloexec = r.cloexec;
      installFdRecord(kernel, fs, rec);
    }
    return fs;
  };
  const vmaRecord = (r: BpfTaskVmaRec): VmaRecord => ({
    start: r.start,
    end: r.end,
    flags: r.flags,
    pgoff: r.pgoff,
    name: VMA_NAMES[r.kind] || null,
    file: r.kind === VMA_KIND.file ? { path: r.path, i_ino: r.ino, s_dev: r.dev } : null,
  });
  const vmaFops = (r: BpfTaskVmaRec): FileOperations => fopsOf(r.f_op, r.path, 0o100644, r.dev, 0);
  const fields = (r: BpfTaskRec, cgroup: Cgroup | null) => ({
    pid: r.pid,
    comm: r.comm,
    cgroup,
    state: taskState(r),
    __state: r.state,
    uid: r.uid,
    gid: r.gid,
    start_time: r.start_time,
    flags: r.flags,
    prio: r.prio,
    sum_exec_runtime: r.sum_exec_runtime,
  });

  const tree = new TaskTreeBuilder(kernel);
  const kthreadFiles = new FilesStruct();
  for (const r of tasks) {
    if (r.pid !== r.tgid) continue;
    const rows = filesByPid.get(r.pid);
    const vm = vmasByTgid.get(r.tgid);
    tree.addLeader(r.ppid, {
      ...fields(r, cgById.get(r.cgroup_id) ?? kernel.cgroupRoot),
      files: (r.flags & PF_KTHREAD) !== 0 && !rows ? kthreadFiles : buildFiles(rows ?? []),
      mm: vm && vm.length ? new MmStruct(buildVmaLayout(kernel, vm, vmaRecord, vmaFops)) : null,
    });
  }
  for (const r of tasks) {
    if (r.pid === r.tgid) continue;
    const leader = tree.byPid.get(r.tgid);
    if (!leader) continue; // the leader exited between reads
    const rows = filesByPid.get(r.pid);
    // Files seen under a thread's own pid: a private table (clone without CLONE_FILES).
    tree.addThread(leader, { ...fields(r, cgById.get(r.cgroup_id) ?? leader.cgroup), ...(rows ? { files: buildFiles(rows) } : {}) });
  }
  // Parents started after their children (pid reuse, reparenting), or that the task
  // iterator cannot show (PID 1 here): their children still name them.
  tree.linkParents((ppid) => unlistedParent(kernel, ppid));
}

/** BPF maps, programs and links with their kernel ids (the iterators' own programs and links included). */
function addBpfObjects(kernel: Kernel, recs: BpfRecords): void {
  for (const r of recs.of('bpf_map')) {
    try {
      const m = new BpfMap({ map_type: r.type, name: r.name, key_size: r.key_size, value_size: r.value_size, max_entries: r.max_entries, map_flags: r.map_flags }, kernel.nrCpus);
      m.id = r.id;
      m.contentsKnown = false;
      kernel.maps.set(r.id, m);
    } catch {
      // a map the model cannot represent (zero-size value): left out
    }
  }
  for (const r of recs.of('bpf_prog')) {
    const p = new BpfProg(r.type, r.name, r.tag, r.expected_attach_type);
    p.id = r.id;
    kernel.progs.set(r.id, p);
  }
  for (const r of recs.of('bpf_link')) {
    const p = kernel.progs.get(r.prog_id);
    if (!p) continue;
    const l = new BpfLink(r.type, p);
    l.id = r.id;
    kernel.links.set(r.id, l);
  }
}

function groupBy<R>(rows: readonly R[], key: (r: R) => number): Map<number, R[]> {
  const out = new Map<number, R[]>();
  for (const r of rows) {
    const k = key(r);
    let l = out.get(k);
    if (!l) out.set(k, (l = []));
    l.push(r);
  }
  return out;
}

/**
 * Names the file mappings a program left without a path (its variant could
 * not call bpf_d_path) from /proc/TGID/maps, which the kernel prints with
 * d_path too: the row with the same start, device and inode. Rows that stay
 * unnamed (the process exited, maps unreadable) are counted as unknown.
 */
export function nameVmaFiles(vmas: BpfTaskVmaRec[], count: { fromProcMaps: number; unknown: number } = { fromProcMaps: 0, unknown: 0 }): void {
  const maps = new Map<number, Map<number, MapsRow> | null>();
  for (const r of vmas) {
    if (r.kind !== VMA_KIND.file || r.path) continue;
    let rows = maps.get(r.tgid);
    if (rows === undefined) {
      try {
        rows = new Map(parseMaps(readFileSync(`/proc/${r.tgid}/maps`, 'utf8')).map((m) => [m.start, m]));
      } catch {
        rows = null;
      }
      maps.set(r.tgid, rows);
    }
    const m = rows?.get(r.start);
    if (m && m.ino === r.ino && ((m.devMajor << 20) | m.devMinor) === r.dev && m.path) {
      r.path = m.path;
      count.fromProcMaps++;
    } else count.unknown++;
  }
}

/** A parent the task iterator does not show, with the comm and state /proc/PID/stat gives ('' and S where it refuses). */
function unlistedParent(kernel: Kernel, pid: number): Task {
  let comm = '';
  let state: TaskState = 'S';
  try {
    const st = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    comm = st.comm;
    if ('RSDTtXZPI'.includes(st.state)) state = st.state as TaskState;
  } catch {
    // /proc/PID refuses too: the pid is all the children tell
  }
  return kernel.unlistedTask(pid, comm, state);
}

function readOr(path: string, dflt = ''): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return dflt;
  }
}
