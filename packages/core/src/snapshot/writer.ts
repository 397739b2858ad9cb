/**
 * `saveKernel`: writes a {@link Kernel} as a snapshot (see format.ts and
 * docs/snapshots.md), streaming: records are produced one by one and go
 * through gzip to the destination with backpressure. A file is written
 * under a temporary name and renamed when complete, so a failed save never
 * leaves a half-written snapshot behind.
 */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { BpfError, type ErrnoName } from '../errors.js';
import type { Kernel } from '../kernel.js';
import type { BpfMap } from '../model/bpf.js';
import type { Cgroup } from '../model/cgroup.js';
import type { DmaBuf } from '../model/dmabuf.js';
import { KFile, type FileOperations } from '../model/file.js';
import type { FilesStruct } from '../model/files_struct.js';
import type { MmStruct, VmaLayout } from '../model/mm.js';
import type { PidNamespace } from '../model/pid_namespace.js';
import { Socket } from '../model/socket.js';
import { Task } from '../model/task.js';
import { encodeColumn, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, toHex, type SnapshotHeader } from './format.js';
import { identityRedactor, type Redactor } from './redact.js';

/** Options of {@link saveKernel}. */
export interface SaveOptions {
  /** The header's `source` (default: from the kernel: `synthetic:SEED`, `host`, `bpf`...). */
  source?: string;
  /** The header's `machine` (default: the host name in the kernel's description). */
  machine?: string;
  /** The header's `release` (default: the `Linux X` in the kernel's description). */
  release?: string;
  /** Pseudonymises values as they are written (see {@link createRedactor}). */
  redactor?: Redactor;
  /** The header's time (default: now). */
  time?: Date;
}

/** The objects of a kernel, each kind in write order with its index. */
interface Collected {
  fops: Map<FileOperations, number>;
  pidns: Map<PidNamespace, number>;
  cgroups: Cgroup[];
  sockets: Map<Socket, number>;
  socketPlace: { table: string | null; bucket: number }[];
  dmabufs: DmaBuf[];
  files: Map<KFile, number>;
  filesStructs: Map<FilesStruct, number>;
  mms: Map<MmStruct, number>;
  /** VMA layouts, shared by address spaces as the model shares them. */
  layouts: Map<VmaLayout, number>;
  tasks: Task[];
  unlisted: Task[];
}

const TABLES = ['tcpListen', 'tcpEstablished', 'udp', 'unix', 'netlink'] as const;

function indexOf<T>(m: Map<T, number>, v: T): number {
  let i = m.get(v);
  if (i === undefined) m.set(v, (i = m.size));
  return i;
}

/** Every cgroup reachable from the root, parents before children (dying ones included while listed). */
function cgroupsOf(k: Kernel): Cgroup[] {
  const out: Cgroup[] = [];
  const walk = (c: Cgroup) => {
    out.push(c);
    for (const ch of c.children.values()) walk(ch);
  };
  walk(k.cgroupRoot);
  return out;
}

function collect(k: Kernel): Collected {
  const c: Collected = {
    fops: new Map(),
    pidns: new Map([[k.initPidNs, 0]]),
    cgroups: cgroupsOf(k),
    sockets: new Map(),
    socketPlace: [],
    dmabufs: k.dmabufs.toArray(),
    files: new Map(),
    filesStructs: new Map(),
    mms: new Map(),
    layouts: new Map(),
    tasks: [],
    unlisted: [],
  };
  for (const t of TABLES) {
    k[t].buckets.forEach((b, bucket) => {
      for (const sk of b) {
        indexOf(c.sockets, sk);
        c.socketPlace.push({ table: t, bucket });
      }
    });
  }
  const addFile = (f: KFile) => {
    if (c.files.has(f)) return;
    indexOf(c.fops, f.f_op);
    if (f.private_data instanceof Socket && !c.sockets.has(f.private_data)) {
      indexOf(c.sockets, f.private_data);
      c.socketPlace.push({ table: null, bucket: 0 });
    }
    indexOf(c.files, f);
  };
  const seenUnlisted = new Set<Task>();
  const addNs = (ns: PidNamespace) => {
    if (c.pidns.has(ns)) return;
    if (ns.parent) addNs(ns.parent);
    indexOf(c.pidns, ns);
  };
  for (const leader of k.processes.values()) {
    if (leader === k.initTask) continue;
    for (const t of leader.signal.threads.values()) {
      c.tasks.push(t);
      addNs(t.pidNs);
      const p = t.real_parent;
      if (p && p !== k.initTask && k.initPidNs.pids.get(p.pid) !== p && !seenUnlisted.has(p)) {
        seenUnlisted.add(p);
        c.unlisted.push(p);
      }
      // A lazy source reads a table or an address space on first access and may find the
      // process gone then (its tasks' files or mm become null): read first, then look again.
      const fs = t.files;
      if (fs && !c.filesStructs.has(fs)) {
        const fds = fs.fd;
        void fs.close_on_exec;
        if (t.files === fs) {
          for (const f of fds) if (f) addFile(f);
          indexOf(c.filesStructs, fs);
        }
      }
      const mm = t.mm;
      if (mm && !c.mms.has(mm)) {
        const { layout } = mm.layoutAndBias();
        if (t.mm === mm) {
          if (!c.layouts.has(layout)) {
            for (const f of layout.file) if (f) addFile(f);
            indexOf(c.layouts, layout);
          }
          indexOf(c.mms, mm);
        }
      }
    }
  }
  for (const f of k.allFops()) indexOf(c.fops, f);
  return c;
}

/** Objects per kind a snapshot of `k` holds (the header's `counts`). */
export function snapshotCounts(k: Kernel): Record<string, number> {
  return countsOf(k, collect(k));
}

function countsOf(k: Kernel, c: Collected): Record<string, number> {
  let vmas = 0;
  for (const mm of c.mms.keys()) vmas += mm.layoutAndBias().layout.count;
  let fds = 0;
  for (const fs of c.filesStructs.keys()) fds += fs.count;
  return {
    task: c.tasks.length,
    process: c.tasks.filter((t) => t.isLeader).length,
    pidns: c.pidns.size,
    cgroup: c.cgroups.length,
    files: c.filesStructs.size,
    fd: fds,
    file: c.files.size,
    fops: c.fops.size,
    mm: c.mms.size,
    vma: vmas,
    socket: c.sockets.size,
    route: k.ipv6Routes.size,
    ksym: k.ksyms.count,
    kmem_cache: k.kmemCaches.size,
    dmabuf: c.dmabufs.length,
    map: k.maps.size,
    prog: k.progs.size,
    link: k.links.size,
  };
}

/** `source`, `machine` and `release` the kernel's own description tells. */
function describe(k: Kernel): { source: string; machine?: string; release?: string } {
  const d = k.description;
  const seed = /^synthetic seed=(\d+)/.exec(d);
  if (seed) return { source: `synthetic:${seed[1]}` };
  const live = /^(host|bpf) (\S*)(?: \(Linux ([^)]+)\))?/.exec(d);
  if (live) return { source: live[1]!, ...(live[2] ? { machine: live[2] } : {}), ...(live[3] ? { release: live[3] } : {}) };
  const snap = /^snapshot source=(\S+)(?: machine=(\S+))?(?: release=(\S+))?/.exec(d);
  if (snap) return { source: snap[1]!, ...(snap[2] ? { machine: snap[2] } : {}), ...(snap[3] ? { release: snap[3] } : {}) };
  return { source: k.source };
}

/**
 * The records of a snapshot of `k`, header first and trailer last, as JSON
 * values. Reading a lazy kernel (the host source's `openHost`) reads what
 * each record needs as it is produced.
 */
export function* snapshotRecords(k: Kernel, o: SaveOptions = {}): Generator<object> {
  const r = o.redactor ?? identityRedactor;
  const c = collect(k);
  const d = describe(k);
  const machine = o.machine ?? d.machine;
  const release = o.release ?? d.release;
  const header: SnapshotHeader = {
    k: 'snapshot',
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    source: o.source ?? d.source,
    ...(machine !== undefined ? { machine: r.machine(machine) } : {}),
    ...(release !== undefined ? { release } : {}),
    time: (o.time ?? new Date()).toISOString(),
    counts: countsOf(k, c),
    ...(r.fields.length ? { redacted: [...r.fields] } : {}),
  };
  let n = 0;
  const rec = (x: object) => {
    n++;
    return x;
  };
  yield rec(header);
  const net = k.net;
  yield rec({
    k: 'kernel',
    source: k.source,
    description: r.description(k.description),
    nrCpus: k.nrCpus,
    currentCpu: k.currentCpu,
    bootTimeNs: k.bootTimeNs,
    nowNs: k.nowNs,
    udpHashEntries: k.udp.nBuckets,
    unreadable: [...k.unreadable].map(([kind, u]) => [kind, u.errno, u.reason]),
    tracePipe: k.tracePipe,
    idr: { maps: k.maps.cursor, progs: k.progs.cursor, links: k.links.cursor, cgroups: k.cgroups.cursor },
    net: { ...net, netdevs: [...net.netdevs] },
  });
  for (const [f, i] of c.fops) yield rec({ k: 'fops', i, name: f.name, addr: r.kaddr(f.addr).toString(16), synthetic: f.synthetic, unknown: f.unknown });
  for (const [ns, i] of c.pidns) if (i > 0) yield rec({ k: 'pidns', i, parent: c.pidns.get(ns.parent!)!, inum: ns.inum });
  for (const cg of c.cgroups) if (cg.parent) yield rec({ k: 'cgroup', id: cg.id, name: r.cgroupName(cg.name), parent: cg.parent.id, dead: cg.dead });
  const place = c.socketPlace;
  for (const [sk, i] of c.sockets) {
    yield rec({
      k: 'socket',
      i,
      table: place[i]!.table,
      bucket: place[i]!.bucket,
      proto: sk.proto,
      family: sk.skc_family,
      type: sk.sk_type,
      protocol: sk.sk_protocol,
      state: sk.skc_state,
      saddr: toHex(r.ip(sk.skc_rcv_saddr)),
      daddr: toHex(r.ip(sk.skc_daddr)),
      num: sk.skc_num,
      dport: sk.dport,
      uid: sk.sk_uid,
      uidUnknown: sk.sk_uid_unknown,
      ino: sk.ino,
      cookie: sk.cookie.toString(),
      cookieUnknown: sk.cookie_unknown,
      tx: sk.tx_queue,
      rx: sk.rx_queue,
      path: r.unixPath(sk.path),
      sk_socket: sk.sk_socket,
      addr: r.kaddr(sk.addr).toString(16),
      inet: sk.inet,
      netlink: sk.netlink,
      refcnt: sk.sk_refcnt,
      hashed: sk.hashed,
      optsKnown: sk.optsKnown,
      opts: sk.opts ? { ...sk.opts, sk_max_pacing_rate: sk.opts.sk_max_pacing_rate.toString() } : null,
    });
  }
  for (let i = 0; i < c.dmabufs.length; i++) {
    const b = c.dmabufs[i]!;
    yield rec({ k: 'dmabuf', i, size: b.size, exp_name: b.exp_name, ino: b.ino, name: b.name, f_flags: b.f_flags, f_mode: b.f_mode, file_count: b.file_count });
  }
  for (const [f, i] of c.files) {
    const sk = f.private_data instanceof Socket ? c.sockets.get(f.private_data)! : null;
    if (f.private_data !== null && sk === null)
      throw new BpfError('EOPNOTSUPP', `file ${f.path}: its private_data (${(f.private_data as object)?.constructor?.name ?? typeof f.private_data}) has no snapshot record`);
    yield rec({ k: 'file', i, fop: c.fops.get(f.f_op)!, path: r.path(f.path), ino: f.f_inode.i_ino, mode: f.f_inode.i_mode, dev: f.f_inode.s_dev, flags: f.f_flags, pos: f.f_pos, sk });
  }
  for (const b of blocks([...c.filesStructs.keys()], ROWS)) yield rec(filesBlock(b, c));
  for (const b of blocks([...c.layouts.keys()], LAYOUTS)) yield rec(layoutBlock(b, c));
  for (const b of blocks([...c.mms.keys()], ROWS)) yield rec(mmBlock(b, c));
  for (const t of c.unlisted) yield rec({ k: 'unlisted', pid: t.pid, comm: r.comm(t.comm), state: t.state });
  for (const b of blocks([k.initTask, ...c.tasks], ROWS)) yield rec(taskBlock(k, b, c, r));
  for (const cg of c.cgroups) {
    const pids = new Int32Array(cg.tasks.size);
    let j = 0;
    for (const t of cg.tasks.values()) pids[j++] = t.pid;
    yield rec({ k: 'members', cgroup: cg.id, pids: encodeColumn(pids) });
  }
  for (const rt of k.ipv6Routes.values()) {
    yield rec({
      k: 'route',
      dst: toHex(r.ip(rt.fib6_dst)),
      dst_len: rt.fib6_dst_len,
      src: toHex(r.ip(rt.fib6_src)),
      src_len: rt.fib6_src_len,
      gateway: toHex(r.ip(rt.gateway)),
      metric: rt.fib6_metric,
      ref: rt.fib6_ref,
      use: rt.use,
      flags: rt.fib6_flags,
      dev: rt.dev,
    });
  }
  const ks = k.ksyms;
  for (let s = 0; s < ks.count; s += KSYM_CHUNK) {
    const e = Math.min(ks.count, s + KSYM_CHUNK);
    const values: string[] = [];
    for (let i = s; i < e; i++) values.push(r.kaddr(ks.values[i]!).toString(16));
    yield rec({ k: 'ksyms', names: ks.names.slice(s, e), types: ks.types.slice(s, e), values, modules: ks.modules.slice(s, e) });
  }
  for (const kc of k.kmemCaches.values()) {
    yield rec({
      k: 'kmem_cache',
      name: kc.name,
      object_size: kc.object_size,
      size: kc.size,
      align: kc.align,
      active_objs: kc.active_objs,
      num_objs: kc.num_objs,
      objs_per_slab: kc.objs_per_slab,
      pages_per_slab: kc.pages_per_slab,
    });
  }
  for (const [, m] of k.maps.entries()) yield rec(mapRecord(m, c, k));
  for (const [id, p] of k.progs.entries()) {
    yield rec({ k: 'prog', id, type: p.prog_type, name: p.name, tag: p.tag, expected_attach_type: p.expected_attach_type, attach_func_name: p.attach_func_name, load_time: p.load_time, uid: p.uid });
  }
  for (const [id, l] of k.links.entries()) yield rec({ k: 'link', id, type: l.type, prog: l.prog.id });
  yield { k: 'end', records: n };
}

/** Symbols per `ksyms` record. */
const KSYM_CHUNK = 4096;

/** Rows per block of the block kinds (task, files, mm); layouts per layout block. */
const ROWS = 8192;
const LAYOUTS = 1024;

function* blocks<T>(all: readonly T[], size: number): Generator<T[]> {
  for (let s = 0; s < all.length; s += size) yield all.slice(s, s + size);
}

/** The strings of one block: a column holds indexes into the block's `strings`. */
class StringTable {
  readonly strings: string[] = [];
  readonly #index = new Map<string, number>();
  of(s: string): number {
    let i = this.#index.get(s);
    if (i === undefined) this.#index.set(s, (i = this.strings.push(s) - 1));
    return i;
  }
}

function taskBlock(k: Kernel, tasks: Task[], c: Collected, r: Redactor): object {
  const n = tasks.length;
  const str = new StringTable();
  const pid = new Int32Array(n), tgid = new Int32Array(n), comm = new Int32Array(n), state = new Int32Array(n), parent = new Int32Array(n);
  const ns = new Int32Array(n), files = new Int32Array(n), mm = new Int32Array(n), cgroup = new Int32Array(n);
  const uid = new Uint32Array(n), gid = new Uint32Array(n), flags = new Uint32Array(n), prio = new Int32Array(n);
  const start = new Float64Array(n), runtime = new Float64Array(n), kernelState = new Int32Array(n), stateUnknown = new Int32Array(n), kstack = new Int32Array(n);
  // uid/gid the source could not learn (read first: reading uid is what reads them on a lazy host).
  const credUnknown = new Uint8Array(n);
  const nsPids: number[] = [];
  // Each distinct stack once per block: found by identity (a model shares one array among
  // many tasks), else by its addresses.
  const stacks: string[][] = [];
  const stackIds = new Map<bigint[], number>();
  const stackText = new Map<string, number>();
  for (let j = 0; j < n; j++) {
    const t = tasks[j]!;
    pid[j] = t.pid;
    tgid[j] = t.tgid;
    comm[j] = str.of(r.comm(t.comm));
    state[j] = str.of(t.state);
    parent[j] = t.real_parent ? t.real_parent.pid : -1;
    ns[j] = c.pidns.get(t.pidNs)!;
    if (t.upids) for (const x of t.upids) nsPids.push(x);
    files[j] = t.files ? c.filesStructs.get(t.files)! : -1;
    mm[j] = t.mm ? c.mms.get(t.mm)! : -1;
    cgroup[j] = t.cgroup ? t.cgroup.id : -1;
    uid[j] = t.uid;
    gid[j] = t.gid;
    credUnknown[j] = t.uid_unknown ? 1 : 0;
    start[j] = t.start_time;
    flags[j] = t.flags;
    prio[j] = t.prio;
    runtime[j] = t.sum_exec_runtime;
    kernelState[j] = t.kernelState ?? -1;
    stateUnknown[j] = t.__state_unknown;
    // The modelled stack, else what the source's reader finds now (null: unknown).
    const s = k.taskStack(t);
    let id = s ? stackIds.get(s) : -1;
    if (id === undefined) {
      const hex = s!.map((a) => r.kaddr(a).toString(16));
      const key = hex.join(',');
      id = stackText.get(key);
      if (id === undefined) stackText.set(key, (id = stacks.push(hex) - 1));
      stackIds.set(s!, id);
    }
    kstack[j] = id;
  }
  const e = encodeColumn;
  return {
    k: 'task',
    n,
    strings: str.strings,
    stacks,
    pid: e(pid),
    tgid: e(tgid),
    comm: e(comm),
    state: e(state),
    parent: e(parent),
    ns: e(ns),
    nsPids: e(Int32Array.from(nsPids)),
    files: e(files),
    mm: e(mm),
    cgroup: e(cgroup),
    uid: e(uid),
    gid: e(gid),
    start_time: e(start),
    flags: e(flags),
    prio: e(prio),
    sum_exec_runtime: e(runtime),
    kernelState: e(kernelState),
    stateUnknown: e(stateUnknown),
    credUnknown: e(credUnknown),
    kstack: e(kstack),
  };
}

function filesBlock(tables: FilesStruct[], c: Collected): object {
  const n = tables.length;
  const nfds = new Int32Array(n), ncloexec = new Int32Array(n);
  const fd: number[] = [], file: number[] = [], cloexec: number[] = [];
  for (let j = 0; j < n; j++) {
    const t = tables[j]!;
    const fds = t.fd;
    for (let i = 0; i < fds.length; i++) {
      const f = fds[i];
      if (!f) continue;
      fd.push(i);
      file.push(c.files.get(f)!);
      nfds[j]!++;
    }
    const ce = [...t.close_on_exec].sort((a, b) => a - b);
    for (const x of ce) cloexec.push(x);
    ncloexec[j] = ce.length;
  }
  return { k: 'files', n, nfds: encodeColumn(nfds), fd: encodeColumn(Int32Array.from(fd)), file: encodeColumn(Int32Array.from(file)), ncloexec: encodeColumn(ncloexec), cloexec: encodeColumn(Int32Array.from(cloexec)) };
}

function layoutBlock(layouts: VmaLayout[], c: Collected): object {
  const n = layouts.length;
  let rows = 0;
  for (const l of layouts) rows += l.count;
  const str = new StringTable();
  const count = new Int32Array(n);
  const start = new Float64Array(rows), end = new Float64Array(rows), pgoff = new Float64Array(rows), flags = new Float64Array(rows), flagsUnknown = new Float64Array(rows);
  const region = new Uint8Array(rows), file = new Int32Array(rows), name = new Int32Array(rows);
  let at = 0;
  for (let j = 0; j < n; j++) {
    const l = layouts[j]!;
    count[j] = l.count;
    start.set(l.start, at);
    end.set(l.end, at);
    pgoff.set(l.pgoff, at);
    flags.set(l.flags, at);
    if (l.flagsUnknown) flagsUnknown.set(l.flagsUnknown, at);
    region.set(l.region, at);
    for (let i = 0; i < l.count; i++) {
      const f = l.file[i];
      file[at + i] = f ? c.files.get(f)! : -1;
      const nm = l.name[i];
      name[at + i] = nm === null || nm === undefined ? -1 : str.of(nm);
    }
    at += l.count;
  }
  const e = encodeColumn;
  return { k: 'layout', n, strings: str.strings, count: e(count), start: e(start), end: e(end), pgoff: e(pgoff), flags: e(flags), flagsUnknown: e(flagsUnknown), region: e(region), file: e(file), name: e(name) };
}

function mmBlock(mms: MmStruct[], c: Collected): object {
  const n = mms.length;
  const layout = new Int32Array(n), nbias = new Int32Array(n);
  const bias: number[] = [];
  for (let j = 0; j < n; j++) {
    const s = mms[j]!.layoutAndBias();
    layout[j] = c.layouts.get(s.layout)!;
    if (s.bias) for (const b of s.bias) bias.push(b);
    nbias[j] = s.bias ? s.bias.length : 0;
  }
  return { k: 'mm', n, layout: encodeColumn(layout), nbias: encodeColumn(nbias), bias: encodeColumn(Float64Array.from(bias)) };
}

function ownerRef(o: object, c: Collected, k: Kernel): [string, number] {
  if (o instanceof Task) return ['task', o.pid];
  if (o instanceof Socket) return ['socket', c.sockets.get(o) ?? -1];
  if (o instanceof KFile) return ['file', c.files.get(o) ?? -1];
  for (const cg of c.cgroups) if (cg === o) return ['cgroup', cg.id];
  void k;
  throw new BpfError('EOPNOTSUPP', `a local storage owner (${o.constructor?.name}) has no snapshot record`);
}

function mapRecord(m: BpfMap, c: Collected, k: Kernel): object {
  const sockRef = (sk: Socket) => c.sockets.get(sk) ?? fail(`map ${m.id} holds a socket that is in no table or file`);
  const fail = (why: string): never => {
    throw new BpfError('EOPNOTSUPP', why);
  };
  return {
    k: 'map',
    id: m.id,
    map_type: m.map_type,
    name: m.name,
    key_size: m.key_size,
    value_size: m.value_size,
    max_entries: m.max_entries,
    map_flags: m.map_flags,
    nrCpus: m.nrCpus,
    contentsKnown: m.contentsKnown,
    array: m.arrayData ? toHex(m.arrayData) : null,
    elems: m.buckets ? m.buckets.flatMap((b, i) => b.map((e) => [i, toHex(e.key), toHex(e.value)])) : null,
    slots: m.sockSlots ? m.sockSlots.flatMap((sk, i) => (sk ? [[i, sockRef(sk)]] : [])) : null,
    sockElems: m.sockBuckets ? m.sockBuckets.flatMap((b, i) => b.map((e) => [i, toHex(e.key), sockRef(e.sk)])) : null,
    storage: m.storage ? [...m.storage].map(([o, v]) => [...ownerRef(o, c, k), toHex(v)]) : null,
  };
}

/** A JSON line: bigints never reach here (the records hold them as strings). */
function line(x: object): string {
  return JSON.stringify(x) + '\n';
}

/**
 * Writes `kernel` as a snapshot to a file (atomically: a temporary file
 * renamed when complete) or to a writable stream (ended when done).
 *
 * @example
 * ```ts
 * import { readHost, saveKernel, loadKernel } from '@bpf-iter/core';
 * await saveKernel(readHost(), '/tmp/host.snap');
 * const k = await loadKernel('/tmp/host.snap');
 * ```
 */
export async function saveKernel(kernel: Kernel, dest: string | Writable, o: SaveOptions = {}): Promise<void> {
  const gz = createGzip({ level: 6 });
  const file = typeof dest === 'string' ? dest : null;
  const tmp = file ? `${file}.tmp-${process.pid}-${Date.now()}` : null;
  const out = tmp ? createWriteStream(tmp, { flags: 'wx', mode: 0o644 }) : (dest as Writable);
  const piped = gz.pipe(out);
  const finished = new Promise<void>((res, rej) => {
    piped.on('finish', res);
    piped.on('error', rej);
    gz.on('error', rej);
  });
  finished.catch(() => {});
  try {
    let buf = '';
    for (const rec of snapshotRecords(kernel, o)) {
      buf += line(rec);
      if (buf.length >= 1 << 16) {
        const ok = gz.write(buf);
        buf = '';
        if (!ok) await Promise.race([once(gz, 'drain'), finished]);
      }
    }
    gz.end(buf);
    await finished;
    if (tmp) renameSync(tmp, file!);
  } catch (e) {
    gz.destroy();
    if (tmp) {
      out.destroy();
      rmSync(tmp, { force: true });
    }
    // The file system's refusal, named after the file asked for (not its temporary name).
    const code = (e as { code?: string }).code;
    const why: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EPERM: 'operation not permitted', EISDIR: 'is a directory', ENOSPC: 'no space left on device', ENOTDIR: 'not a directory' };
    if (!(e instanceof BpfError) && code && why[code] && file) throw new BpfError(code as ErrnoName, `${file}: ${why[code]}`);
    throw e;
  }
}
