/**
 * `loadKernel`: reads a snapshot back into a {@link Kernel}, record by
 * record as the bytes arrive, checking every field and relation as it goes.
 * The kernel under construction is private to the loader until the trailer
 * has been read and every relation resolved: a bad or truncated file gives
 * one error (`EINVAL: FILE:line N: ...`, a newer format `EOPNOTSUPP`) and
 * never a half-loaded kernel.
 */
import { createReadStream, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { BpfError, type ErrnoName } from '../errors.js';
import { Kernel } from '../kernel.js';
import { BpfLink, BpfMap, BpfProg } from '../model/bpf.js';
import type { Cgroup } from '../model/cgroup.js';
import { DmaBuf } from '../model/dmabuf.js';
import { KFile, type FileOperations } from '../model/file.js';
import { FilesStruct } from '../model/files_struct.js';
import { KmemCache } from '../model/kmem_cache.js';
import { MmStruct, PGOFF_ANON, PGOFF_STACK, VM_FLAGS_ALL, vmaLayout, type VmaLayout } from '../model/mm.js';
import { NetConfig } from '../model/net.js';
import type { PidNamespace } from '../model/pid_namespace.js';
import { Ipv6Route } from '../model/route.js';
import { Socket, type SockProto } from '../model/socket.js';
import type { Task, TaskState } from '../model/task.js';
import { decodeColumn, SNAPSHOT_FORMAT, SNAPSHOT_KINDS, SNAPSHOT_VERSION, type ColumnArray, type SnapshotHeader } from './format.js';

/** Thrown for a record that breaks the format; the loader adds the place. */
class Bad extends Error {}
const bad = (msg: string): never => {
  throw new Bad(msg);
};

type J = Record<string, unknown>;

function int(v: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(`${what} must be an integer in ${min}..${max}, not ${JSON.stringify(v)}`);
  return v as number;
}
function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${what} must be a number, not ${JSON.stringify(v)}`);
  return v as number;
}
/** A non-negative number the model holds as a double (a file position can pass 2^53). */
function nonNeg(v: unknown, what: string): number {
  if (num(v, what) < 0) bad(`${what} must not be negative`);
  return v as number;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') bad(`${what} must be a string, not ${JSON.stringify(v)}`);
  return v as string;
}
function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') bad(`${what} must be true or false, not ${JSON.stringify(v)}`);
  return v as boolean;
}
function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) bad(`${what} must be an array`);
  return v as unknown[];
}
function obj(v: unknown, what: string): J {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} must be an object`);
  return v as J;
}
function hex(v: unknown, what: string, len?: number): Uint8Array {
  const s = str(v, what);
  if (s.length % 2 || !/^[0-9a-f]*$/.test(s)) bad(`${what} must be lowercase hex bytes`);
  if (len !== undefined && s.length !== len * 2) bad(`${what} must be ${len} bytes, not ${s.length / 2}`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}
function u64hex(v: unknown, what: string): bigint {
  const s = str(v, what);
  if (!/^[0-9a-f]{1,16}$/.test(s)) bad(`${what} must be a u64 in hex`);
  return BigInt('0x' + s);
}
function u64dec(v: unknown, what: string): bigint {
  const s = str(v, what);
  if (!/^\d{1,20}$/.test(s) || BigInt(s) > 0xffffffffffffffffn) bad(`${what} must be a u64 in decimal`);
  return BigInt(s);
}
function ref<T>(table: readonly T[], v: unknown, what: string): T {
  const i = int(v, what);
  if (i >= table.length) bad(`${what} ${i} is not in the file`);
  return table[i]!;
}

/** A numeric column of a version 2 block: `n` values of `type`, else a bad file naming it. */
function col<T extends ColumnArray>(v: unknown, type: { new (n: number): T; BYTES_PER_ELEMENT: number }, n: number, what: string): T {
  return decodeColumn(v, type, n) ?? bad(`${what} must be ${n} values (base64, ${type.BYTES_PER_ELEMENT * 8}-bit little-endian)`);
}
/** The number of values a base64 column of `bytes`-wide values holds. */
function colLength(v: unknown, bytes: number, what: string): number {
  const b = typeof v === 'string' ? Math.floor((v.length * 3) / 4) - (v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0) : -1;
  if (b < 0 || b % bytes) bad(`${what} must be base64 of ${bytes * 8}-bit values`);
  return b / bytes;
}
/** Checks a column's values are in min..max (integers when `integer`). */
function range(a: ColumnArray, min: number, max: number, what: string, integer = true): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!(v >= min && v <= max) || (integer && !Number.isInteger(v))) bad(`${what} must be ${integer ? 'an integer ' : ''}in ${min}..${max}, not ${v}`);
  }
}
/** A block's string column: each value an index into its `strings` (-1: null where `nullable`). */
function strCol(strings: string[], a: Int32Array, what: string, nullable = false): void {
  range(a, nullable ? -1 : 0, strings.length - 1, what);
}

/** A growable column of int32 (no per-value objects). */
class IntList {
  a = new Int32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

/** What {@link SnapshotLoader.addTask} takes: one scratch row, refilled for each task (no object per task). */
interface TaskRow {
  pid: number;
  tgid: number;
  comm: string;
  state: string;
  /** -1: none */
  parent: number;
  ns: PidNamespace;
  nsPids: number[];
  files: FilesStruct | null;
  mm: MmStruct | null;
  /** -1: none */
  cgroup: number;
  uid: number;
  gid: number;
  start_time: number;
  flags: number;
  prio: number;
  sum_exec_runtime: number;
  /** -1: the letter's value */
  kernelState: number;
  stateUnknown: number;
  /** uid and gid unknown to the source (a lazy host's task gone before they were read). */
  credUnknown: boolean;
  kstack: bigint[] | null;
}

/** Rows a block may hold (the writer writes 8192; a bound keeps a bad `n` from allocating). */
const MAX_ROWS = 1 << 20;

/**
 * Bounds a file cannot pass, so no file makes the loader allocate without
 * limit: ids (the model's tables are dense, like the kernel's IDR) up to
 * PID_MAX_LIMIT, UDP_HTABLE_SIZE_MAX hash slots, maps up to 4M entries and
 * 256 MiB of values.
 */
const MAX_ID = 1 << 22;
const MAX_UDP_SLOTS = 65536;
const MAX_MAP_ENTRIES = 1 << 22;
const MAX_MAP_BYTES = 1 << 28;

const STATES = new Set<string>(['R', 'S', 'D', 'T', 't', 'Z', 'X', 'P', 'I']);
const TABLE_PROTO: Record<string, SockProto> = { tcpListen: 'tcp', tcpEstablished: 'tcp', udp: 'udp', unix: 'unix', netlink: 'netlink' };
const ERRNO = /^E[A-Z0-9]+$/;
/** The namespace pids of a task of the initial namespace (shared: createTask only reads them). */
const NO_PIDS: number[] = [];
/** A task its cgroup's member list has named (see SnapshotLoader.wantCgroup). */
const ATTACHED = -1;

/**
 * Builds a kernel from snapshot lines. Feed it every line in order with
 * {@link line}, then call {@link finish}. Used by {@link loadKernel} and
 * {@link loadKernelSync}; errors carry `WHERE:line N`.
 */
export class SnapshotLoader {
  header: SnapshotHeader | null = null;
  private k: Kernel | null = null;
  private n = 0;
  private kindAt = -1;
  private done = false;
  private readonly fops: FileOperations[] = [];
  private readonly pidns: PidNamespace[] = [];
  private readonly cgroups = new Map<number, Cgroup>();
  private readonly sockets: Socket[] = [];
  private readonly files: KFile[] = [];
  private readonly filesStructs: FilesStruct[] = [];
  private readonly mms: MmStruct[] = [];
  private readonly layouts: VmaLayout[] = [];
  private readonly unlisted = new Map<number, Task>();
  /** Tasks whose parent comes later in the file (or is unlisted): their pid, the parent's, the line (resolved at the end). */
  private readonly laterParent = [new IntList(), new IntList(), new IntList()] as const;
  /** By pid: the cgroup a task's record names until its member list names it (then ATTACHED), and the task's line. */
  private wantCgroup = new Int32Array(0);
  private taskLine = new Int32Array(0);
  /** Kernel stacks by their text: tasks with one stack share one array, as the model shares them. */
  private readonly stacks = new Map<string, bigint[]>();
  private cursors: Record<string, number> | null = null;
  private version = 0;
  /** Objects per kind as loaded (checked against the header's counts at the end). */
  private readonly loaded = { task: 0, process: 0, fd: 0, vma: 0 };

  /** @param where the file name (or `<stream>`) errors name */
  constructor(readonly where: string) {}

  private fail(errno: ErrnoName, msg: string, line = this.n): never {
    throw new BpfError(errno, `${this.where}:line ${line}: ${msg}`);
  }

  /** Applies one line (without its newline). */
  line(text: string): void {
    this.n++;
    if (this.done) this.fail('EINVAL', 'data after the end record');
    let r: unknown;
    try {
      r = JSON.parse(text);
    } catch {
      this.fail('EINVAL', this.n === 1 ? 'not a bpf-iter snapshot (the first line is not JSON)' : 'not a JSON record');
    }
    try {
      this.apply(obj(r, 'a record'));
    } catch (e) {
      if (e instanceof Bad) this.fail('EINVAL', e.message);
      // The header's own verdict (a newer format: EOPNOTSUPP) stands as it is.
      if (e instanceof BpfError && this.n === 1) throw e;
      // A record the model refuses (a map spec, a taken pid...) is a bad file, not a crash.
      if (e instanceof BpfError) this.fail('EINVAL', `${(r as J).k} record: ${e.message}`);
      if (e instanceof RangeError || e instanceof TypeError) this.fail('EINVAL', `${(r as J).k} record: ${e.message}`);
      throw e;
    }
  }

  /** The loaded kernel, once the trailer was read and every relation holds. */
  finish(): Kernel {
    if (!this.header) this.fail('EINVAL', 'empty file: no snapshot header', 0);
    if (!this.done) this.fail('EINVAL', `truncated: the file ends without its end record`);
    const k = this.k!;
    const [child, parent, line] = this.laterParent;
    for (let i = 0; i < child.n; i++) {
      const pid = parent.a[i]!;
      const t = k.initPidNs.pids.get(child.a[i]!)!;
      const p = k.initPidNs.pids.get(pid) ?? this.unlisted.get(pid);
      if (!p) this.fail('EINVAL', `task ${t.pid} has parent ${pid} that is not in the file`, line.a[i]);
      t.real_parent = p;
    }
    const want = this.wantCgroup;
    for (let pid = 0; pid < want.length; pid++) if (want[pid]! > 0) this.fail('EINVAL', `task ${pid} is in cgroup ${want[pid]}, whose members do not include it`, this.taskLine[pid]);
    const counts = this.counts();
    for (const [kind, n] of Object.entries(counts)) {
      const h = this.header.counts[kind];
      if (h !== n) this.fail('EINVAL', `the header counts ${h === undefined ? 'no' : h} ${kind} objects, the file holds ${n}`, 1);
    }
    for (const kind of Object.keys(this.header.counts)) if (!(kind in counts)) this.fail('EINVAL', `the header counts ${kind} objects, which a snapshot does not hold`, 1);
    const c = this.cursors!;
    if (c.maps! > k.maps.cursor) k.maps.cursor = c.maps!;
    if (c.progs! > k.progs.cursor) k.progs.cursor = c.progs!;
    if (c.links! > k.links.cursor) k.links.cursor = c.links!;
    if (c.cgroups! > k.cgroups.cursor) k.cgroups.cursor = c.cgroups!;
    return k;
  }

  /** Objects per kind in what was loaded, keyed as the header's `counts`. */
  counts(): Record<string, number> {
    const k = this.k!;
    return {
      task: this.loaded.task,
      process: this.loaded.process,
      pidns: this.pidns.length,
      cgroup: this.cgroups.size,
      files: this.filesStructs.length,
      fd: this.loaded.fd,
      file: this.files.length,
      fops: this.fops.length,
      mm: this.mms.length,
      vma: this.loaded.vma,
      socket: this.sockets.length,
      route: k.ipv6Routes.size,
      ksym: k.ksyms.count,
      kmem_cache: k.kmemCaches.size,
      dmabuf: k.dmabufs.size,
      map: k.maps.size,
      prog: k.progs.size,
      link: k.links.size,
    };
  }

  private apply(r: J): void {
    const kind = r.k;
    if (this.n === 1) return this.applyHeader(r);
    if (kind === 'end') {
      if (int(r.records, 'records') !== this.n - 1) bad(`the end record counts ${r.records} records, the file has ${this.n - 1}`);
      if (!this.k) bad('no kernel record');
      this.done = true;
      return;
    }
    const at = SNAPSHOT_KINDS.indexOf(kind as (typeof SNAPSHOT_KINDS)[number]);
    if (at < 0 || (kind === 'layout' && this.version < 2)) bad(`unknown record kind ${JSON.stringify(kind)}`);
    if (at < this.kindAt) bad(`a ${kind} record after the ${SNAPSHOT_KINDS[this.kindAt]} records`);
    if (at > 0 && !this.k) bad(`a ${kind} record before the kernel record`);
    if (at === 0 && this.k) bad('a second kernel record');
    this.kindAt = at;
    const k = this.k!;
    switch (kind) {
      case 'kernel':
        return this.applyKernel(r);
      case 'fops': {
        if (int(r.i, 'fops index') !== this.fops.length) bad(`fops index ${r.i} out of order (expected ${this.fops.length})`);
        const name = str(r.name, 'fops name');
        const f = k.fops(name, u64hex(r.addr, 'fops addr'), bool(r.synthetic, 'fops synthetic'));
        if (f.unknown !== bool(r.unknown, 'fops unknown')) bad(`fops ${name}: unknown=${r.unknown} does not fit a ${k.source} kernel`);
        if (this.fops.includes(f)) bad(`fops ${name} appears twice`);
        this.fops.push(f);
        return;
      }
      case 'pidns': {
        if (int(r.i, 'pidns index') !== this.pidns.length) bad(`pidns index ${r.i} out of order (expected ${this.pidns.length})`);
        const parent = ref(this.pidns, r.parent, 'pidns parent');
        this.pidns.push(k.createPidNs(parent));
        (this.pidns[this.pidns.length - 1] as { inum: number }).inum = int(r.inum, 'pidns inum', 0, 0xffffffff);
        return;
      }
      case 'cgroup': {
        const id = int(r.id, 'cgroup id', 2, MAX_ID);
        const parent = this.cgroups.get(int(r.parent, 'cgroup parent')) ?? bad(`cgroup ${id} has parent ${r.parent} that is not in the file (or not before it)`);
        if (this.cgroups.has(id)) bad(`cgroup ${id} appears twice`);
        const cg = k.mkdirCgroup(parent, str(r.name, 'cgroup name'), id);
        this.cgroups.set(id, cg);
        if (bool(r.dead, 'cgroup dead')) {
          // A dying cgroup: removed (no id) but still listed under its parent.
          k.cgroups.remove(id);
          cg.dead = true;
        }
        return;
      }
      case 'socket':
        return this.applySocket(r);
      case 'dmabuf': {
        const b = new DmaBuf(int(r.size, 'dmabuf size'), str(r.exp_name, 'dmabuf exp_name'), int(r.ino, 'dmabuf ino'), str(r.name, 'dmabuf name'), int(r.f_flags, 'dmabuf f_flags'), int(r.f_mode, 'dmabuf f_mode'));
        b.refcnt = int(r.file_count, 'dmabuf file_count', 1);
        k.addDmaBuf(b);
        return;
      }
      case 'file': {
        if (int(r.i, 'file index') !== this.files.length) bad(`file index ${r.i} out of order (expected ${this.files.length})`);
        const sk = r.sk === null ? null : ref(this.sockets, r.sk, 'file socket');
        const inode = { i_ino: int(r.ino, 'file ino'), i_mode: int(r.mode, 'file mode', 0, 0xffff), s_dev: int(r.dev, 'file dev', 0, 0xffffffff) };
        this.files.push(new KFile(ref(this.fops, r.fop, 'file fops'), str(r.path, 'file path'), inode, int(r.flags, 'file flags', 0, 0xffffffff), nonNeg(r.pos, 'file pos'), sk));
        return;
      }
      case 'files':
        return this.version < 2 ? this.applyFilesRow(r) : this.applyFilesBlock(r);
      case 'layout':
        return this.applyLayoutBlock(r);
      case 'mm':
        return this.version < 2 ? this.applyMmRow(r) : this.applyMmBlock(r);
      case 'unlisted': {
        const pid = int(r.pid, 'unlisted pid', 1);
        const state = str(r.state, 'unlisted state');
        if (!STATES.has(state)) bad(`unlisted task ${pid}: bad state ${JSON.stringify(state)}`);
        if (this.unlisted.has(pid)) bad(`unlisted task ${pid} appears twice`);
        this.unlisted.set(pid, k.unlistedTask(pid, str(r.comm, 'comm'), state as TaskState));
        return;
      }
      case 'task':
        return this.version < 2 ? this.applyTaskRow(r) : this.applyTaskBlock(r);
      case 'members': {
        const id = int(r.cgroup, 'members cgroup');
        const cg = id === 1 ? k.cgroupRoot : (this.cgroups.get(id) ?? bad(`members of cgroup ${id} that is not in the file`));
        const pids = this.version < 2 ? arr(r.pids, 'members pids').map((p) => int(p, 'member pid')) : col(r.pids, Int32Array, colLength(r.pids, 4, 'members pids'), 'members pids');
        const want = this.wantCgroup;
        for (let i = 0; i < pids.length; i++) {
          const pid = pids[i]!;
          const t = k.initPidNs.pids.get(pid) ?? bad(`cgroup ${id} has member ${pid} that is not in the file`);
          if (want[pid] === ATTACHED) bad(`cgroup ${id} lists member ${pid} twice, or it is in two member lists`);
          if (want[pid] !== id) bad(`cgroup ${id} has member ${pid}, whose task record names cgroup ${want[pid] || 'none'}`);
          want[pid] = ATTACHED;
          k.attachCgroup(t, cg);
        }
        return;
      }
      case 'route':
        k.addRoute(
          new Ipv6Route(
            hex(r.dst, 'route dst', 16),
            int(r.dst_len, 'route dst_len', 0, 128),
            hex(r.src, 'route src', 16),
            int(r.src_len, 'route src_len', 0, 128),
            hex(r.gateway, 'route gateway', 16),
            int(r.metric, 'route metric', 0, 0xffffffff),
            int(r.ref, 'route ref', 0, 0xffffffff),
            int(r.use, 'route use', 0, 0xffffffff),
            int(r.flags, 'route flags', -0x80000000, 0xffffffff),
            str(r.dev, 'route dev'),
          ),
        );
        return;
      case 'ksyms': {
        const names = arr(r.names, 'ksyms names');
        const types = arr(r.types, 'ksyms types');
        const values = arr(r.values, 'ksyms values');
        const modules = arr(r.modules, 'ksyms modules');
        if (types.length !== names.length || values.length !== names.length || modules.length !== names.length) bad('ksyms columns differ in length');
        for (let i = 0; i < names.length; i++) k.ksyms.add(str(names[i], 'ksym name'), str(types[i], 'ksym type'), u64hex(values[i], 'ksym value'), str(modules[i], 'ksym module'));
        return;
      }
      case 'kmem_cache':
        k.addKmemCache(
          new KmemCache(
            str(r.name, 'kmem_cache name'),
            int(r.object_size, 'object_size'),
            int(r.size, 'size'),
            int(r.align, 'align'),
            int(r.active_objs, 'active_objs'),
            int(r.num_objs, 'num_objs'),
            int(r.objs_per_slab, 'objs_per_slab'),
            int(r.pages_per_slab, 'pages_per_slab'),
          ),
        );
        return;
      case 'map':
        return this.applyMap(r);
      case 'prog': {
        const id = int(r.id, 'prog id', 1, MAX_ID);
        if (k.progs.has(id)) bad(`prog ${id} appears twice`);
        const p = new BpfProg(
          int(r.type, 'prog type', 0, 0xffffffff),
          str(r.name, 'prog name'),
          str(r.tag, 'prog tag'),
          int(r.expected_attach_type, 'expected_attach_type', 0, 0xffffffff),
          str(r.attach_func_name, 'attach_func_name'),
          num(r.load_time, 'load_time'),
          int(r.uid, 'prog uid', 0, 0xffffffff),
        );
        p.id = id;
        k.progs.set(id, p);
        return;
      }
      case 'link': {
        const id = int(r.id, 'link id', 1, MAX_ID);
        if (k.links.has(id)) bad(`link ${id} appears twice`);
        const prog = k.progs.get(int(r.prog, 'link prog')) ?? bad(`link ${id} has prog ${r.prog} that is not in the file`);
        const l = new BpfLink(int(r.type, 'link type', 0, 0xffffffff), prog);
        l.id = id;
        k.links.set(id, l);
        return;
      }
    }
  }

  private applyHeader(r: J): void {
    if (r.k !== 'snapshot' || r.format !== SNAPSHOT_FORMAT) bad('not a bpf-iter snapshot (no snapshot header)');
    const v = int(r.version, 'version', 1);
    this.version = v;
    if (v > SNAPSHOT_VERSION) throw new BpfError('EOPNOTSUPP', `${this.where}: snapshot format version ${v} is newer than this bpf-iter reads (version ${SNAPSHOT_VERSION})`);
    str(r.source, 'source');
    str(r.time, 'time');
    const counts = obj(r.counts, 'counts');
    for (const [kind, c] of Object.entries(counts)) int(c, `count of ${kind}`);
    if (r.machine !== undefined) str(r.machine, 'machine');
    if (r.release !== undefined) str(r.release, 'release');
    if (r.redacted !== undefined) for (const f of arr(r.redacted, 'redacted')) str(f, 'a redacted field');
    this.header = r as unknown as SnapshotHeader;
  }

  private applyKernel(r: J): void {
    const source = str(r.source, 'kernel source');
    if (!['synthetic', 'host', 'bpf', 'empty'].includes(source)) bad(`kernel source ${JSON.stringify(source)} is none of synthetic, host, bpf, empty`);
    const k = new Kernel({ source: source as Kernel['source'], nrCpus: int(r.nrCpus, 'nrCpus', 1, 8192), udpHashEntries: int(r.udpHashEntries, 'udpHashEntries', 1, MAX_UDP_SLOTS) });
    k.description = str(r.description, 'description');
    k.currentCpu = int(r.currentCpu, 'currentCpu', 0, k.nrCpus - 1);
    k.bootTimeNs = num(r.bootTimeNs, 'bootTimeNs');
    k.nowNs = num(r.nowNs, 'nowNs');
    for (const u of arr(r.unreadable, 'unreadable')) {
      const [kind, errno, reason] = arr(u, 'an unreadable entry');
      const e = str(errno, 'unreadable errno');
      if (!ERRNO.test(e)) bad(`unreadable errno ${JSON.stringify(e)} is not an errno name`);
      k.unreadable.set(str(kind, 'unreadable kind'), { errno: e as ErrnoName, reason: str(reason, 'unreadable reason') });
    }
    for (const l of arr(r.tracePipe, 'tracePipe')) k.tracePipe.push(str(l, 'a trace_pipe line'));
    const idr = obj(r.idr, 'idr');
    this.cursors = {};
    for (const name of ['maps', 'progs', 'links', 'cgroups']) this.cursors[name] = int(idr[name], `idr ${name}`, 0, MAX_ID);
    const net = obj(r.net, 'net');
    const defaults = new NetConfig() as unknown as J;
    for (const [key, def] of Object.entries(defaults)) {
      const v = net[key];
      if (key === 'netdevs') {
        const m = new Map<number, string>();
        for (const e of arr(v, 'net netdevs')) {
          const [i, name] = arr(e, 'a netdev');
          m.set(int(i, 'ifindex', 1, 0x7fffffff), str(name, 'netdev name'));
        }
        k.net.netdevs = m;
      } else if (Array.isArray(def)) {
        const a = arr(v, `net ${key}`);
        if (typeof def[0] === 'number') {
          if (a.length !== def.length) bad(`net ${key} must have ${def.length} numbers`);
          (k.net as unknown as J)[key] = a.map((x) => int(x, `net ${key}`));
        } else (k.net as unknown as J)[key] = a.map((x) => str(x, `net ${key}`));
      } else (k.net as unknown as J)[key] = typeof def === 'number' ? int(v, `net ${key}`) : str(v, `net ${key}`);
    }
    this.pidns.push(k.initPidNs);
    this.cgroups.set(1, k.cgroupRoot);
    this.k = k;
  }

  private applySocket(r: J): void {
    const k = this.k!;
    if (int(r.i, 'socket index') !== this.sockets.length) bad(`socket index ${r.i} out of order (expected ${this.sockets.length})`);
    const proto = str(r.proto, 'socket proto') as SockProto;
    if (!['tcp', 'udp', 'unix', 'netlink'].includes(proto)) bad(`socket proto ${JSON.stringify(proto)}`);
    const inet = r.inet === null ? null : obj(r.inet, 'socket inet');
    const nl = r.netlink === null ? null : obj(r.netlink, 'socket netlink');
    const sk = new Socket({
      proto,
      skc_family: int(r.family, 'family', 0, 0xffff),
      sk_type: int(r.type, 'sk_type', 0, 0xffff),
      sk_protocol: int(r.protocol, 'sk_protocol', 0, 0xffff),
      skc_state: int(r.state, 'skc_state', 0, 0xff),
      skc_rcv_saddr: hex(r.saddr, 'skc_rcv_saddr'),
      skc_daddr: hex(r.daddr, 'skc_daddr'),
      skc_num: int(r.num, 'skc_num', 0, 0xffff),
      dport: int(r.dport, 'dport', 0, 0xffff),
      sk_uid: int(r.uid, 'sk_uid', 0, 0xffffffff),
      ino: int(r.ino, 'socket ino'),
      cookie: u64dec(r.cookie, 'cookie'),
      tx_queue: int(r.tx, 'tx_queue'),
      rx_queue: int(r.rx, 'rx_queue'),
      path: str(r.path, 'socket path'),
      sk_socket: bool(r.sk_socket, 'sk_socket'),
      addr: u64hex(r.addr, 'socket addr'),
      inet: inet ? { tr: int(inet.tr, 'tr'), tm_when: num(inet.tm_when, 'tm_when'), retrnsmt: int(inet.retrnsmt, 'retrnsmt'), timeout: int(inet.timeout, 'timeout'), tail: str(inet.tail, 'tail') } : null,
      netlink: nl
        ? {
            portid: int(nl.portid, 'portid', 0, 0xffffffff),
            groups: int(nl.groups, 'groups', 0, 0xffffffff),
            rmem: int(nl.rmem, 'rmem'),
            wmem: int(nl.wmem, 'wmem'),
            dump: int(nl.dump, 'dump'),
            locks: int(nl.locks, 'locks'),
            drops: int(nl.drops, 'drops'),
          }
        : null,
      sk_refcnt: int(r.refcnt, 'sk_refcnt'),
    });
    sk.sk_uid_unknown = bool(r.uidUnknown, 'uidUnknown');
    sk.cookie_unknown = bool(r.cookieUnknown, 'cookieUnknown');
    sk.hashed = bool(r.hashed, 'hashed');
    sk.optsKnown = bool(r.optsKnown, 'optsKnown');
    if (r.opts !== null) {
      const o = obj(r.opts, 'socket opts');
      const opts: J = {};
      for (const [key, v] of Object.entries(o)) {
        if (key === 'sk_max_pacing_rate') opts[key] = u64dec(v, key);
        else if (key === 'autoflowlabel') opts[key] = v === null ? null : bool(v, key);
        else if (typeof v === 'boolean' || typeof v === 'string') opts[key] = v;
        else opts[key] = num(v, `socket option ${key}`);
      }
      sk.opts = opts as unknown as Socket['opts'];
    }
    if (r.table !== null) {
      const table = str(r.table, 'socket table');
      if (TABLE_PROTO[table] !== proto) bad(`a ${proto} socket in table ${JSON.stringify(table)}`);
      const t = k[table as 'udp'];
      t.insert(sk, int(r.bucket, 'socket bucket', 0, t.nBuckets - 1));
    }
    this.sockets.push(sk);
  }

  /** The scratch row {@link addTask} reads (one for the whole load). */
  private readonly row: TaskRow = { pid: 0, tgid: 0, comm: '', state: '', parent: -1, ns: null!, nsPids: [], files: null, mm: null, cgroup: -1, uid: 0, gid: 0, start_time: 0, flags: 0, prio: 0, sum_exec_runtime: 0, kernelState: -1, stateUnknown: 0, credUnknown: false, kstack: null };

  /** A kernel stack from its hex addresses, shared with every task of the same stack. */
  private stack(hexes: unknown[]): bigint[] {
    // Keyed by the JSON text: a junk entry (an array, a number) cannot pass for a valid stack's key.
    const key = JSON.stringify(hexes);
    let s = this.stacks.get(key);
    if (!s) this.stacks.set(key, (s = hexes.map((a) => u64hex(a, 'a kstack address'))));
    return s;
  }

  /** Version 1: one task per record. */
  private applyTaskRow(r: J): void {
    const w = this.row;
    w.pid = int(r.pid, 'pid');
    w.tgid = int(r.tgid, 'tgid');
    w.comm = str(r.comm, 'comm');
    w.state = str(r.state, 'state');
    w.parent = r.parent === null ? -1 : int(r.parent, 'parent');
    w.ns = ref(this.pidns, r.ns, 'task pid namespace');
    w.nsPids = arr(r.nsPids, 'nsPids').map((x) => int(x, 'a namespace pid'));
    w.files = r.files === null ? null : ref(this.filesStructs, r.files, 'task files');
    w.mm = r.mm === null ? null : ref(this.mms, r.mm, 'task mm');
    w.cgroup = r.cgroup === null ? -1 : int(r.cgroup, 'task cgroup');
    w.uid = int(r.uid, 'uid');
    w.gid = int(r.gid, 'gid');
    w.start_time = num(r.start_time, 'start_time');
    w.flags = int(r.flags, 'flags');
    w.prio = int(r.prio, 'prio');
    w.sum_exec_runtime = num(r.sum_exec_runtime, 'sum_exec_runtime');
    w.kernelState = r.kernelState === null ? -1 : int(r.kernelState, 'kernelState');
    w.stateUnknown = int(r.stateUnknown, 'stateUnknown');
    w.credUnknown = r.credUnknown === true;
    w.kstack = r.kstack === null ? null : this.stack(arr(r.kstack, 'kstack'));
    this.addTask(w);
  }

  /** Version 2: a block of tasks, column-wise. */
  private applyTaskBlock(r: J): void {
    const n = int(r.n, 'task n', 1, MAX_ROWS);
    const strings = arr(r.strings, 'task strings').map((x) => str(x, 'a task string'));
    const stacks = arr(r.stacks, 'task stacks').map((x) => this.stack(arr(x, 'a kstack')));
    const pid = col(r.pid, Int32Array, n, 'task pid');
    const tgid = col(r.tgid, Int32Array, n, 'task tgid');
    const comm = col(r.comm, Int32Array, n, 'task comm');
    strCol(strings, comm, 'task comm');
    const state = col(r.state, Int32Array, n, 'task state');
    strCol(strings, state, 'task state');
    const parent = col(r.parent, Int32Array, n, 'task parent');
    const ns = col(r.ns, Int32Array, n, 'task ns');
    range(ns, 0, this.pidns.length - 1, 'task pid namespace');
    let levels = 0;
    for (let j = 0; j < n; j++) levels += this.pidns[ns[j]!]!.level;
    const nsPids = col(r.nsPids, Int32Array, levels, 'task nsPids (one per level below the initial namespace)');
    const files = col(r.files, Int32Array, n, 'task files');
    range(files, -1, this.filesStructs.length - 1, 'task files');
    const mm = col(r.mm, Int32Array, n, 'task mm');
    range(mm, -1, this.mms.length - 1, 'task mm');
    const cgroup = col(r.cgroup, Int32Array, n, 'task cgroup');
    const uid = col(r.uid, Uint32Array, n, 'task uid');
    const gid = col(r.gid, Uint32Array, n, 'task gid');
    const start = col(r.start_time, Float64Array, n, 'task start_time');
    const flags = col(r.flags, Uint32Array, n, 'task flags');
    const prio = col(r.prio, Int32Array, n, 'task prio');
    const runtime = col(r.sum_exec_runtime, Float64Array, n, 'task sum_exec_runtime');
    const kernelState = col(r.kernelState, Int32Array, n, 'task kernelState');
    const stateUnknown = col(r.stateUnknown, Int32Array, n, 'task stateUnknown');
    // Absent in files written before it: every uid known.
    const credUnknown = r.credUnknown === undefined ? null : col(r.credUnknown, Uint8Array, n, 'task credUnknown');
    const kstack = col(r.kstack, Int32Array, n, 'task kstack');
    range(kstack, -1, stacks.length - 1, 'task kstack');
    const w = this.row;
    let at = 0;
    for (let j = 0; j < n; j++) {
      w.pid = pid[j]!;
      w.tgid = tgid[j]!;
      w.comm = strings[comm[j]!]!;
      w.state = strings[state[j]!]!;
      w.parent = parent[j]!;
      w.ns = this.pidns[ns[j]!]!;
      const level = w.ns.level;
      w.nsPids = level ? Array.from(nsPids.subarray(at, (at += level))) : NO_PIDS;
      w.files = files[j]! < 0 ? null : this.filesStructs[files[j]!]!;
      w.mm = mm[j]! < 0 ? null : this.mms[mm[j]!]!;
      w.cgroup = cgroup[j]!;
      w.uid = uid[j]!;
      w.gid = gid[j]!;
      w.start_time = start[j]!;
      w.flags = flags[j]!;
      w.prio = prio[j]!;
      w.sum_exec_runtime = runtime[j]!;
      w.kernelState = kernelState[j]!;
      w.stateUnknown = stateUnknown[j]!;
      w.credUnknown = credUnknown !== null && credUnknown[j] === 1;
      w.kstack = kstack[j]! < 0 ? null : stacks[kstack[j]!]!;
      this.addTask(w);
    }
  }

  /** Checks one task's fields and relations and adds it to the kernel (both versions). */
  private addTask(w: TaskRow): void {
    const k = this.k!;
    const pid = w.pid;
    if (!(pid >= 0 && pid <= 0x3fffff)) bad(`pid must be an integer in 0..${0x3fffff}, not ${pid}`);
    if (pid === 0) {
      if (k.initTask.kstack || this.loaded.task) bad('a second idle task (pid 0)');
      k.initTask.comm = w.comm;
      k.initTask.kstack = w.kstack;
      return;
    }
    const tgid = w.tgid;
    if (!(tgid >= 1 && tgid <= 0x3fffff)) bad(`task ${pid}: tgid must be in 1..${0x3fffff}, not ${tgid}`);
    const group = tgid === pid ? undefined : k.initPidNs.pids.get(tgid);
    if (tgid !== pid && (!group || !group.isLeader)) bad(`task ${pid} has thread-group leader ${tgid} that is not in the file (or not before it)`);
    if (!STATES.has(w.state)) bad(`task ${pid}: bad state ${JSON.stringify(w.state)}`);
    const pidNs = w.ns;
    if (w.nsPids.length !== pidNs.level) bad(`task ${pid} has ${w.nsPids.length} namespace pids for a namespace at level ${pidNs.level}`);
    for (const x of w.nsPids) if (!(x >= 1 && x <= 0x3fffff)) bad(`task ${pid}: a namespace pid must be in 1..${0x3fffff}, not ${x}`);
    if (group && group.pidNs !== pidNs) bad(`thread ${pid} is in another pid namespace than its leader ${tgid}`);
    const cgroup = w.cgroup;
    if (cgroup !== -1 && (cgroup < 1 || !this.cgroups.has(cgroup))) bad(`task ${pid} is in cgroup ${cgroup} that is not in the file`);
    if (w.kernelState < -1 || w.kernelState > 0xffff) bad(`task ${pid}: kernelState must be in 0..65535, not ${w.kernelState}`);
    if (!(w.stateUnknown >= 0 && w.stateUnknown <= 0xffff)) bad(`task ${pid}: stateUnknown must be in 0..65535, not ${w.stateUnknown}`);
    if (!(w.uid >= 0 && w.uid <= 0xffffffff) || !(w.gid >= 0 && w.gid <= 0xffffffff)) bad(`task ${pid}: uid and gid must be in 0..${0xffffffff}`);
    if (!(w.flags >= 0 && w.flags <= 0xffffffff)) bad(`task ${pid}: flags must be in 0..${0xffffffff}, not ${w.flags}`);
    if (!(w.prio >= 0 && w.prio <= 139)) bad(`task ${pid}: prio must be in 0..139, not ${w.prio}`);
    if (!Number.isFinite(w.start_time) || !Number.isFinite(w.sum_exec_runtime)) bad(`task ${pid}: start_time and sum_exec_runtime must be numbers`);
    // One literal of one shape for every task (no spreads: they cost a copy per task).
    const t = k.createTask({
      pid,
      comm: w.comm,
      group,
      parent: null,
      pidNs,
      nsPids: w.nsPids,
      files: w.files,
      mm: w.mm,
      cgroup: null,
      state: w.state as TaskState,
      __state: w.kernelState >= 0 ? w.kernelState : undefined,
      __state_unknown: w.stateUnknown,
      uid: w.uid,
      gid: w.gid,
      start_time: w.start_time,
      flags: w.flags,
      prio: w.prio,
      sum_exec_runtime: w.sum_exec_runtime,
    });
    t.kstack = w.kstack;
    // Unknown to the source that was saved: 0, flagged, as that source had them.
    if (w.credUnknown) t.setCredLoader(() => null);
    this.loaded.task++;
    if (tgid === pid) this.loaded.process++;
    if (w.parent !== -1) {
      if (!(w.parent >= 0 && w.parent <= 0x3fffff)) bad(`task ${pid}: parent must be in 0..${0x3fffff}, not ${w.parent}`);
      // Most parents come before their children; the others are resolved at the end.
      const p = w.parent === 0 ? k.initTask : k.initPidNs.pids.get(w.parent);
      if (p) t.real_parent = p;
      else {
        this.laterParent[0].push(pid);
        this.laterParent[1].push(w.parent);
        this.laterParent[2].push(this.n);
      }
    }
    if (pid >= this.wantCgroup.length) {
      const size = Math.min(0x400000, Math.max(pid + 1, this.wantCgroup.length * 2, 1024));
      const a = new Int32Array(size);
      a.set(this.wantCgroup);
      this.wantCgroup = a;
      const b = new Int32Array(size);
      b.set(this.taskLine);
      this.taskLine = b;
    }
    if (cgroup !== -1) this.wantCgroup[pid] = cgroup;
    this.taskLine[pid] = this.n;
  }

  /** Version 1: one fd table per record. */
  private applyFilesRow(r: J): void {
    const k = this.k!;
    if (int(r.i, 'files index') !== this.filesStructs.length) bad(`files index ${r.i} out of order (expected ${this.filesStructs.length})`);
    const fs = new FilesStruct();
    let last = -1;
    const open = new Set<number>();
    for (const e of arr(r.fds, 'files fds')) {
      const [fd, fi] = arr(e, 'an fd entry');
      const n = int(fd, 'fd', 0, 1 << 20);
      if (n <= last) bad(`fd ${n} out of order (after ${last})`);
      last = n;
      k.fdInstall(fs, ref(this.files, fi, `fd ${n}'s file`), n);
      open.add(n);
      this.loaded.fd++;
    }
    for (const fd of arr(r.cloexec, 'files cloexec')) {
      const n = int(fd, 'close-on-exec fd');
      if (!open.has(n)) bad(`close-on-exec fd ${n} is not open`);
      fs.setCloseOnExec(n, true);
    }
    this.filesStructs.push(fs);
  }

  /** Version 2: a block of fd tables: per table its fd count, then the fds and files of all, flat. */
  private applyFilesBlock(r: J): void {
    const k = this.k!;
    const n = int(r.n, 'files n', 1, MAX_ROWS);
    const nfds = col(r.nfds, Int32Array, n, 'files nfds');
    const ncloexec = col(r.ncloexec, Int32Array, n, 'files ncloexec');
    range(nfds, 0, 1 << 20, 'files nfds');
    range(ncloexec, 0, 1 << 20, 'files ncloexec');
    let fds = 0;
    let ces = 0;
    for (let j = 0; j < n; j++) {
      fds += nfds[j]!;
      ces += ncloexec[j]!;
    }
    const fd = col(r.fd, Int32Array, fds, 'files fd');
    const file = col(r.file, Int32Array, fds, 'files file');
    const cloexec = col(r.cloexec, Int32Array, ces, 'files cloexec');
    range(fd, 0, 1 << 20, 'fd');
    range(file, 0, this.files.length - 1, "an fd's file");
    let at = 0;
    let ce = 0;
    for (let j = 0; j < n; j++) {
      const fs = new FilesStruct();
      const first = at;
      for (const end = at + nfds[j]!; at < end; at++) {
        if (at > first && fd[at]! <= fd[at - 1]!) bad(`fd ${fd[at]} out of order (after ${fd[at - 1]})`);
        k.fdInstall(fs, this.files[file[at]!]!, fd[at]!);
      }
      for (const end = ce + ncloexec[j]!; ce < end; ce++) {
        const x = cloexec[ce]!;
        if (!fs.fd[x]) bad(`close-on-exec fd ${x} is not open`);
        fs.setCloseOnExec(x, true);
      }
      this.filesStructs.push(fs);
    }
    this.loaded.fd += fds;
  }

  /** Version 1: one address space per record, its VMAs column-wise. */
  private applyMmRow(r: J): void {
    if (int(r.i, 'mm index') !== this.mms.length) bad(`mm index ${r.i} out of order (expected ${this.mms.length})`);
    const start = arr(r.start, 'mm start');
    const n = start.length;
    const column = (name: string) => {
      const a = arr(r[name], `mm ${name}`);
      if (a.length !== n) bad(`mm ${name} has ${a.length} entries for ${n} vmas`);
      return a;
    };
    const [endC, flagsC, unknownC, pgoffC, fileC, nameC] = ['end', 'flags', 'flagsUnknown', 'pgoff', 'file', 'name'].map(column) as unknown[][];
    let end = -1;
    const rows = new Array(n);
    for (let j = 0; j < n; j++) {
      const row = {
        start: int(start[j], 'vm_start'),
        end: int(endC![j], 'vm_end'),
        flags: int(flagsC![j], 'vm_flags'),
        flagsUnknown: int(unknownC![j], 'vm_flags_unknown'),
        pgoff: pgoffC![j] === null ? null : int(pgoffC![j], 'vm_pgoff'),
        file: fileC![j] === null ? null : ref(this.files, fileC![j], 'vm_file'),
        name: nameC![j] === null ? null : str(nameC![j], 'vma name'),
      };
      if (row.start < end || row.end <= row.start) bad(`vma ${row.start.toString(16)}-${row.end.toString(16)} overlaps or is out of order`);
      end = row.end;
      rows[j] = row;
    }
    this.mms.push(new MmStruct(vmaLayout(rows)));
    this.loaded.vma += n;
  }

  /** Version 2: a block of VMA layouts (an address space's VMAs before its biases), rows of all flat. */
  private applyLayoutBlock(r: J): void {
    const n = int(r.n, 'layout n', 1, MAX_ROWS);
    const strings = arr(r.strings, 'layout strings').map((x) => str(x, 'a vma name'));
    const count = col(r.count, Int32Array, n, 'layout count');
    range(count, 0, MAX_ROWS, 'layout count');
    let rows = 0;
    for (let j = 0; j < n; j++) rows += count[j]!;
    const start = col(r.start, Float64Array, rows, 'layout start');
    const end = col(r.end, Float64Array, rows, 'layout end');
    const pgoff = col(r.pgoff, Float64Array, rows, 'layout pgoff');
    const flags = col(r.flags, Float64Array, rows, 'layout flags');
    const flagsUnknown = col(r.flagsUnknown, Float64Array, rows, 'layout flagsUnknown');
    const region = col(r.region, Uint8Array, rows, 'layout region');
    const file = col(r.file, Int32Array, rows, 'layout file');
    const name = col(r.name, Int32Array, rows, 'layout name');
    range(start, 0, Number.MAX_SAFE_INTEGER, 'vm_start');
    range(end, 0, Number.MAX_SAFE_INTEGER, 'vm_end');
    range(flags, 0, VM_FLAGS_ALL, 'vm_flags');
    range(flagsUnknown, 0, VM_FLAGS_ALL, 'vm_flags_unknown');
    range(file, -1, this.files.length - 1, 'vm_file');
    strCol(strings, name, 'vma name', true);
    for (let i = 0; i < rows; i++) {
      const p = pgoff[i]!;
      if (!(Number.isNaN(p) || p === PGOFF_ANON || p === PGOFF_STACK || (Number.isInteger(p) && p >= 0 && p <= Number.MAX_SAFE_INTEGER))) bad(`vm_pgoff must be a page number, ${PGOFF_ANON} (anonymous), ${PGOFF_STACK} (the stack) or NaN (unknown), not ${p}`);
    }
    let at = 0;
    for (let j = 0; j < n; j++) {
      const c = count[j]!;
      const e = at + c;
      const unknown = flagsUnknown.subarray(at, e);
      this.layouts.push({
        count: c,
        start: start.slice(at, e),
        end: end.slice(at, e),
        pgoff: pgoff.slice(at, e),
        flags: flags.slice(at, e),
        flagsUnknown: unknown.some((x) => x !== 0) ? unknown.slice() : null,
        region: region.slice(at, e),
        file: Array.from(file.subarray(at, e), (f) => (f < 0 ? null : this.files[f]!)),
        name: Array.from(name.subarray(at, e), (x) => (x < 0 ? null : strings[x]!)),
        // The biases of the address spaces reading it are added as they are built (MmStruct).
        biasPool: new Float64Array(0),
        biasUsed: 0,
      });
      at = e;
    }
  }

  /** Version 2: a block of address spaces: each a layout and its per-region biases. */
  private applyMmBlock(r: J): void {
    const n = int(r.n, 'mm n', 1, MAX_ROWS);
    const layout = col(r.layout, Int32Array, n, 'mm layout');
    range(layout, 0, this.layouts.length - 1, 'mm layout');
    const nbias = col(r.nbias, Int32Array, n, 'mm nbias');
    range(nbias, 0, 256, 'mm nbias');
    let total = 0;
    for (let j = 0; j < n; j++) total += nbias[j]!;
    const bias = col(r.bias, Float64Array, total, 'mm bias');
    range(bias, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'mm bias');
    let at = 0;
    for (let j = 0; j < n; j++) {
      const l = this.layouts[layout[j]!]!;
      const b = nbias[j]! ? bias.slice(at, (at += nbias[j]!)) : null;
      // The VMAs as the address space reads them: in order, not overlapping, in the address range.
      let last = -1;
      for (let i = 0; i < l.count; i++) {
        if (b && l.region[i]! >= b.length) bad(`mm ${this.mms.length}: vma ${i} is in region ${l.region[i]} of ${b.length}`);
        const off = b ? b[l.region[i]!]! : 0;
        const s = l.start[i]! + off;
        const e = l.end[i]! + off;
        if (!(s >= last && e > s && s >= 0 && e <= Number.MAX_SAFE_INTEGER)) bad(`mm ${this.mms.length}: vma ${s.toString(16)}-${e.toString(16)} overlaps or is out of order`);
        last = e;
      }
      this.mms.push(new MmStruct(l, b));
      this.loaded.vma += l.count;
    }
  }

  private applyMap(r: J): void {
    const k = this.k!;
    const id = int(r.id, 'map id', 1, MAX_ID);
    if (k.maps.has(id)) bad(`map ${id} appears twice`);
    const spec = {
      map_type: int(r.map_type, 'map_type', 0, 0xffffffff),
      name: str(r.name, 'map name'),
      key_size: int(r.key_size, 'key_size', 0, 0xffffffff),
      value_size: int(r.value_size, 'value_size', 0, 0xffffffff),
      max_entries: int(r.max_entries, 'max_entries', 0, MAX_MAP_ENTRIES),
      map_flags: int(r.map_flags, 'map_flags', 0, 0xffffffff),
    };
    const nrCpus = int(r.nrCpus, 'map nrCpus', 1, 8192);
    if (Math.ceil(spec.value_size / 8) * 8 * nrCpus * Math.max(1, spec.max_entries) > MAX_MAP_BYTES) bad(`map ${id}: more than ${MAX_MAP_BYTES} bytes of values`);
    const m = new BpfMap(spec, nrCpus);
    m.id = id;
    m.contentsKnown = bool(r.contentsKnown, 'contentsKnown');
    const owners = (sk: Socket | object) => ((sk as { bpfMaps: Set<BpfMap> | null }).bpfMaps ??= new Set()).add(m);
    if (r.array !== null) {
      if (!m.arrayData) bad(`map ${id}: array data for a ${m.typeName} map`);
      m.arrayData!.set(hex(r.array, 'array data', m.arrayData!.length));
    }
    if (r.elems !== null) {
      if (!m.buckets) bad(`map ${id}: hash elements for a ${m.typeName} map`);
      for (const e of arr(r.elems, 'map elems')) {
        const [b, key, value] = arr(e, 'a map element');
        const bucket = m.buckets![int(b, 'bucket', 0, m.buckets!.length - 1)]!;
        if (m.count >= m.max_entries) bad(`map ${id}: more elements than max_entries ${m.max_entries}`);
        bucket.push({ key: hex(key, 'key', m.key_size), value: hex(value, 'value', m.valueStride) });
        m.count++;
      }
    }
    if (r.slots !== null) {
      if (!m.sockSlots) bad(`map ${id}: sockmap slots for a ${m.typeName} map`);
      for (const e of arr(r.slots, 'map slots')) {
        const [i, s] = arr(e, 'a sockmap slot');
        const sk = ref(this.sockets, s, 'slot socket');
        m.sockSlots![int(i, 'slot', 0, m.max_entries - 1)] = sk;
        owners(sk);
      }
    }
    if (r.sockElems !== null) {
      if (!m.sockBuckets) bad(`map ${id}: sockhash elements for a ${m.typeName} map`);
      for (const e of arr(r.sockElems, 'map sockElems')) {
        const [b, key, s] = arr(e, 'a sockhash element');
        const sk = ref(this.sockets, s, 'sockhash socket');
        if (m.count >= m.max_entries) bad(`map ${id}: more elements than max_entries ${m.max_entries}`);
        m.sockBuckets![int(b, 'bucket', 0, m.sockBuckets!.length - 1)]!.push({ key: hex(key, 'key', m.key_size), sk });
        m.count++;
        owners(sk);
      }
    }
    if (r.storage !== null) {
      if (!m.storage) bad(`map ${id}: local storage for a ${m.typeName} map`);
      for (const e of arr(r.storage, 'map storage')) {
        const [kind, o, v] = arr(e, 'a storage entry');
        const owner: object =
          kind === 'task'
            ? (k.initPidNs.pids.get(int(o, 'storage task')) ?? bad(`map ${id} has storage of task ${o} that is not in the file`))
            : kind === 'socket'
              ? ref(this.sockets, o, 'storage socket')
              : kind === 'file'
                ? ref(this.files, o, 'storage file')
                : kind === 'cgroup'
                  ? (this.cgroups.get(int(o, 'storage cgroup')) ?? bad(`map ${id} has storage of cgroup ${o} that is not in the file`))
                  : bad(`map ${id}: storage owner kind ${JSON.stringify(kind)}`);
        if (m.storage!.has(owner)) bad(`map ${id}: two storage values for one ${kind}`);
        m.storage!.set(owner, hex(v, 'storage value', m.value_size));
        if ('bpfMaps' in owner) owners(owner);
      }
    }
    k.maps.set(id, m);
  }
}

/**
 * Splits bytes into lines for a loader. A line's pieces are kept until its
 * newline arrives and joined once (a block line spans many chunks).
 */
class LineSplitter {
  #parts: Buffer[] = [];
  constructor(private readonly loader: SnapshotLoader) {}

  /** Feeds a chunk; false once `stopAfter` lines were fed. */
  push(chunk: Buffer, stopAfter = Infinity): boolean {
    let s = 0;
    let fed = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, s)) {
      if (this.#parts.length) {
        this.#parts.push(chunk.subarray(s, nl));
        this.loader.line(Buffer.concat(this.#parts).toString('utf8'));
        this.#parts = [];
      } else this.loader.line(chunk.toString('utf8', s, nl));
      s = nl + 1;
      if (++fed >= stopAfter) return false;
    }
    if (s < chunk.length) this.#parts.push(chunk.subarray(s));
    return true;
  }

  /** The last line, if the input did not end with a newline. */
  end(): void {
    if (this.#parts.length) this.loader.line(Buffer.concat(this.#parts).toString('utf8'));
    this.#parts = [];
  }
}

function openError(where: string, e: unknown): BpfError {
  const code = (e as { code?: string }).code;
  const why: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EPERM: 'operation not permitted', EISDIR: 'is a directory' };
  if (code && why[code]) return new BpfError(code as ErrnoName, `${where}: ${why[code]}`);
  // zlib: not gzip at all, or cut short.
  return new BpfError('EINVAL', `${where}: not a readable gzip-compressed snapshot (${(e as Error).message})`);
}

/** A loader for `src` and its gunzipped bytes; an error of the input ends the gunzip stream with it. */
function openSnapshotStream(src: string | Readable): { where: string; loader: SnapshotLoader; input: Readable; gunzip: ReturnType<typeof createGunzip> } {
  const where = typeof src === 'string' ? src : '<stream>';
  const input = typeof src === 'string' ? createReadStream(src, { highWaterMark: 1 << 20 }) : src;
  const gunzip = createGunzip({ chunkSize: 1 << 18 });
  input.on('error', (e: Error) => gunzip.destroy(e));
  input.pipe(gunzip);
  return { where, loader: new SnapshotLoader(where), input, gunzip };
}

/** Feeds a whole snapshot stream to its loader (up to `lines` lines); the loader, checked up to there. */
async function feed(src: string | Readable, lines = Infinity): Promise<SnapshotLoader> {
  const { where, loader, input, gunzip } = openSnapshotStream(src);
  const split = new LineSplitter(loader);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) if (!split.push(chunk, lines)) return loader;
  } catch (e) {
    if (e instanceof BpfError) throw e;
    throw openError(where, e);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  split.end();
  return loader;
}

/**
 * Loads a snapshot written by {@link saveKernel}, streaming (memory is the
 * model's own plus one block line). `EINVAL` with `FILE:line N` for a bad
 * or truncated file, `EOPNOTSUPP` for a newer format version; nothing
 * half-loaded is ever returned.
 *
 * @example
 * ```ts
 * const k = await loadKernel('/tmp/host.snap');
 * console.log(k.taskCount, k.description);
 * ```
 */
export async function loadKernel(src: string | Readable): Promise<Kernel> {
  return (await feed(src)).finish();
}

/**
 * {@link loadKernel} for a file, synchronously (for callers that cannot
 * await, like the CLI's kernel choice). It holds the whole decompressed
 * file while it loads (zlib has no synchronous stream).
 */
export function loadKernelSync(path: string): Kernel {
  let buf: Buffer;
  try {
    buf = gunzipSync(readFileSync(path));
  } catch (e) {
    throw openError(path, e);
  }
  const loader = new SnapshotLoader(path);
  const split = new LineSplitter(loader);
  split.push(buf);
  split.end();
  return loader.finish();
}

/** The header of a snapshot (its first line), without loading the rest: what the file says of itself. */
export async function readSnapshotHeader(src: string | Readable): Promise<SnapshotHeader> {
  const loader = await feed(src, 1);
  return loader.header ?? (() => { throw new BpfError('EINVAL', `${loader.where}:line 1: not a bpf-iter snapshot (no header line)`); })();
}

/** What {@link readSnapshotInfo} tells of a snapshot. */
export interface SnapshotInfo {
  header: SnapshotHeader;
  /** Objects per kind, counted in the loaded kernel (the loader checks the header's counts equal them). */
  counts: Record<string, number>;
  /** The loaded kernel. */
  kernel: Kernel;
}

/**
 * Loads a snapshot whole, as {@link loadKernel} does (every record checked),
 * and returns its header with the counts of what it holds, counted while
 * loading: a header whose counts differ from the file's contents is EINVAL.
 *
 * @example
 * ```ts
 * const { header, counts } = await readSnapshotInfo('/tmp/host.snap');
 * console.log(header.source, header.machine, counts.task);
 * ```
 */
export async function readSnapshotInfo(src: string | Readable): Promise<SnapshotInfo> {
  const loader = await feed(src);
  const kernel = loader.finish();
  return { header: loader.header!, counts: loader.counts(), kernel };
}
