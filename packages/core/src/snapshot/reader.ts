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
import { MmStruct, vmaLayout } from '../model/mm.js';
import { NetConfig } from '../model/net.js';
import type { PidNamespace } from '../model/pid_namespace.js';
import { Ipv6Route } from '../model/route.js';
import { Socket, type SockProto } from '../model/socket.js';
import type { Task, TaskState } from '../model/task.js';
import { SNAPSHOT_FORMAT, SNAPSHOT_KINDS, SNAPSHOT_VERSION, type SnapshotHeader } from './format.js';

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
  private readonly unlisted = new Map<number, Task>();
  /** Tasks with the parent pid and line they named (resolved at the end: a parent may come later). */
  private readonly parents: [Task, number, number][] = [];
  /** Tasks whose cgroup's member list has not named them yet. */
  private readonly cgroupOf = new Map<Task, [number, number]>();
  private cursors: Record<string, number> | null = null;

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
    for (const [t, pid, line] of this.parents) {
      const p = pid === 0 ? k.initTask : (k.initPidNs.pids.get(pid) ?? this.unlisted.get(pid));
      if (!p) this.fail('EINVAL', `task ${t.pid} has parent ${pid} that is not in the file`, line);
      t.real_parent = p;
    }
    for (const [t, [cg, line]] of this.cgroupOf) this.fail('EINVAL', `task ${t.pid} is in cgroup ${cg}, whose members do not include it`, line);
    const c = this.cursors!;
    if (c.maps! > k.maps.cursor) k.maps.cursor = c.maps!;
    if (c.progs! > k.progs.cursor) k.progs.cursor = c.progs!;
    if (c.links! > k.links.cursor) k.links.cursor = c.links!;
    if (c.cgroups! > k.cgroups.cursor) k.cgroups.cursor = c.cgroups!;
    return k;
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
    if (at < 0) bad(`unknown record kind ${JSON.stringify(kind)}`);
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
      case 'files': {
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
        }
        for (const fd of arr(r.cloexec, 'files cloexec')) {
          const n = int(fd, 'close-on-exec fd');
          if (!open.has(n)) bad(`close-on-exec fd ${n} is not open`);
          fs.setCloseOnExec(n, true);
        }
        this.filesStructs.push(fs);
        return;
      }
      case 'mm': {
        if (int(r.i, 'mm index') !== this.mms.length) bad(`mm index ${r.i} out of order (expected ${this.mms.length})`);
        const start = arr(r.start, 'mm start');
        const n = start.length;
        const col = (name: string) => {
          const a = arr(r[name], `mm ${name}`);
          if (a.length !== n) bad(`mm ${name} has ${a.length} entries for ${n} vmas`);
          return a;
        };
        const [endC, flagsC, unknownC, pgoffC, fileC, nameC] = ['end', 'flags', 'flagsUnknown', 'pgoff', 'file', 'name'].map(col) as unknown[][];
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
        return;
      }
      case 'unlisted': {
        const pid = int(r.pid, 'unlisted pid', 1);
        const state = str(r.state, 'unlisted state');
        if (!STATES.has(state)) bad(`unlisted task ${pid}: bad state ${JSON.stringify(state)}`);
        if (this.unlisted.has(pid)) bad(`unlisted task ${pid} appears twice`);
        this.unlisted.set(pid, k.unlistedTask(pid, str(r.comm, 'comm'), state as TaskState));
        return;
      }
      case 'task':
        return this.applyTask(r);
      case 'members': {
        const id = int(r.cgroup, 'members cgroup');
        const cg = id === 1 ? k.cgroupRoot : (this.cgroups.get(id) ?? bad(`members of cgroup ${id} that is not in the file`));
        for (const p of arr(r.pids, 'members pids')) {
          const pid = int(p, 'member pid');
          const t = k.initPidNs.pids.get(pid) ?? bad(`cgroup ${id} has member ${pid} that is not in the file`);
          const want = this.cgroupOf.get(t);
          if (!want || want[0] !== id) bad(`cgroup ${id} has member ${pid}, whose task record names cgroup ${want ? want[0] : t.cgroup ? t.cgroup.id : 'none'}`);
          this.cgroupOf.delete(t);
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

  private applyTask(r: J): void {
    const k = this.k!;
    const pid = int(r.pid, 'pid', 0, 0x3fffff);
    const comm = str(r.comm, 'comm');
    const kstack = r.kstack === null ? null : arr(r.kstack, 'kstack').map((a) => u64hex(a, 'a kstack address'));
    if (pid === 0) {
      if (k.initTask.kstack || this.parents.length) bad('a second idle task (pid 0)');
      k.initTask.comm = comm;
      k.initTask.kstack = kstack;
      return;
    }
    const tgid = int(r.tgid, 'tgid', 1, 0x3fffff);
    const group = tgid === pid ? undefined : k.initPidNs.pids.get(tgid);
    if (tgid !== pid && (!group || !group.isLeader)) bad(`task ${pid} has thread-group leader ${tgid} that is not in the file (or not before it)`);
    const state = str(r.state, 'state');
    if (!STATES.has(state)) bad(`task ${pid}: bad state ${JSON.stringify(state)}`);
    const pidNs = ref(this.pidns, r.ns, 'task pid namespace');
    const nsPids = arr(r.nsPids, 'nsPids').map((x) => int(x, 'a namespace pid', 1, 0x3fffff));
    if (nsPids.length !== pidNs.level) bad(`task ${pid} has ${nsPids.length} namespace pids for a namespace at level ${pidNs.level}`);
    if (group && group.pidNs !== pidNs) bad(`thread ${pid} is in another pid namespace than its leader ${tgid}`);
    const cgroup = r.cgroup === null ? null : int(r.cgroup, 'task cgroup');
    if (cgroup !== null && !this.cgroups.has(cgroup)) bad(`task ${pid} is in cgroup ${cgroup} that is not in the file`);
    const kernelState = r.kernelState === null ? undefined : int(r.kernelState, 'kernelState', 0, 0xffff);
    const t = k.createTask({
      pid,
      comm,
      ...(group ? { group } : {}),
      parent: null,
      pidNs,
      nsPids,
      files: r.files === null ? null : ref(this.filesStructs, r.files, 'task files'),
      mm: r.mm === null ? null : ref(this.mms, r.mm, 'task mm'),
      cgroup: null,
      state: state as TaskState,
      ...(kernelState !== undefined ? { __state: kernelState } : {}),
      __state_unknown: int(r.stateUnknown, 'stateUnknown', 0, 0xffff),
      uid: int(r.uid, 'uid', 0, 0xffffffff),
      gid: int(r.gid, 'gid', 0, 0xffffffff),
      start_time: num(r.start_time, 'start_time'),
      flags: int(r.flags, 'flags', 0, 0xffffffff),
      prio: int(r.prio, 'prio', 0, 139),
      sum_exec_runtime: num(r.sum_exec_runtime, 'sum_exec_runtime'),
    });
    t.kstack = kstack;
    if (r.parent !== null) this.parents.push([t, int(r.parent, 'parent', 0, 0x3fffff), this.n]);
    if (cgroup !== null) this.cgroupOf.set(t, [cgroup, this.n]);
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

/** Feeds `buf`'s complete lines to `loader`; returns the bytes after the last newline. */
function feedLines(loader: SnapshotLoader, buf: Buffer): Buffer {
  let s = 0;
  for (let nl = buf.indexOf(10, s); nl >= 0; nl = buf.indexOf(10, s)) {
    loader.line(buf.toString('utf8', s, nl));
    s = nl + 1;
  }
  return buf.subarray(s);
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
  const input = typeof src === 'string' ? createReadStream(src) : src;
  const gunzip = createGunzip();
  input.on('error', (e: Error) => gunzip.destroy(e));
  input.pipe(gunzip);
  return { where, loader: new SnapshotLoader(where), input, gunzip };
}

/**
 * Loads a snapshot written by {@link saveKernel}, streaming (memory is the
 * model's own plus one chunk). `EINVAL` with `FILE:line N` for a bad or
 * truncated file, `EOPNOTSUPP` for a newer format version; nothing
 * half-loaded is ever returned.
 *
 * @example
 * ```ts
 * const k = await loadKernel('/tmp/host.snap');
 * console.log(k.taskCount, k.description);
 * ```
 */
export async function loadKernel(src: string | Readable): Promise<Kernel> {
  const { where, loader, input, gunzip } = openSnapshotStream(src);
  let rest: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) rest = feedLines(loader, rest.length ? Buffer.concat([rest, chunk]) : chunk);
  } catch (e) {
    input.destroy();
    gunzip.destroy();
    if (e instanceof BpfError) throw e;
    throw openError(where, e);
  }
  if (rest.length) loader.line(rest.toString('utf8'));
  return loader.finish();
}

/** {@link loadKernel} for a file, synchronously (for callers that cannot await, like the CLI's kernel choice). */
export function loadKernelSync(path: string): Kernel {
  let buf: Buffer;
  try {
    buf = gunzipSync(readFileSync(path));
  } catch (e) {
    throw openError(path, e);
  }
  const loader = new SnapshotLoader(path);
  const rest = feedLines(loader, buf);
  if (rest.length) loader.line(rest.toString('utf8'));
  return loader.finish();
}

/** The header of a snapshot (its first line), without loading the rest. */
export async function readSnapshotHeader(src: string | Readable): Promise<SnapshotHeader> {
  const { where, loader, input, gunzip } = openSnapshotStream(src);
  let rest: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      rest = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      const nl = rest.indexOf(10);
      if (nl >= 0) {
        loader.line(rest.toString('utf8', 0, nl));
        break;
      }
    }
  } catch (e) {
    if (e instanceof BpfError) throw e;
    throw openError(where, e);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  return loader.header ?? (() => { throw new BpfError('EINVAL', `${where}:line 1: not a bpf-iter snapshot (no header line)`); })();
}
