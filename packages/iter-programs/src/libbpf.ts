/**
 * A libbpf-named facade so C user-space code ports line by line:
 * functions returning pointers return `null` and set {@link errno};
 * functions returning int return `-errno` (and set {@link errno}).
 */
import { BpfError, currentTask, ERRNO, errnoName } from '@bpf-iter/core';
import { bpffs } from './bpffs.js';
import { neg } from './errno.js';
import { fdTable } from './fd_table.js';
import { IterFd } from './iter_fd.js';
import { encodeLinkInfo, type BpfIterLinkInfoInit } from './link_info.js';
import {
  BPF_TRACE_ITER,
  BpfLinkFd,
  bpf_iter_create as kbpf_iter_create,
  bpf_link_create,
  bpf_link_update,
  type BpfIterLink,
} from './link.js';
import { BpfProgFd, isProgramSpec, loadProgram, type BpfGlobals, type BpfProgramSpec } from './program.js';

/** The calling thread's `errno` (a live binding; also see {@link libbpf_errno}). */
export let errno = 0;
/** Reads {@link errno} (for CJS consumers without live bindings). */
export function libbpf_errno(): number {
  return errno;
}
function setErr(ret: number): number {
  if (ret < 0) errno = -ret;
  return ret;
}
function catchErr<T>(f: () => T): T | number {
  try {
    return f();
  } catch (e) {
    if (e instanceof BpfError) return setErr(e.negative);
    throw e;
  }
}

// ---- opts -----------------------------------------------------------------

/** `struct bpf_iter_attach_opts { size_t sz; union bpf_iter_link_info *link_info; __u32 link_info_len; }`. */
export interface bpf_iter_attach_opts {
  readonly sz: number;
  link_info: BpfIterLinkInfoInit | Uint8Array | null;
  link_info_len: number;
}
const OPTS_FIELDS: Record<string, { sz: number; fields: readonly string[] }> = {
  bpf_iter_attach_opts: { sz: 24, fields: ['link_info', 'link_info_len'] },
  bpf_link_create_opts: { sz: 120, fields: ['flags', 'iter_info', 'iter_info_len', 'target_btf_id'] },
  bpf_link_update_opts: { sz: 24, fields: ['flags', 'old_prog_fd', 'old_map_fd'] },
};

/**
 * `LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo, ...)`:
 * a zero-initialised opts struct with `sz` set. Unknown fields → throws
 * EINVAL (in C they do not compile).
 */
export function LIBBPF_OPTS(type: 'bpf_iter_attach_opts', init?: Partial<Omit<bpf_iter_attach_opts, 'sz'>>): bpf_iter_attach_opts & Record<string, unknown>;
export function LIBBPF_OPTS(type: string, init?: Record<string, unknown>): Record<string, unknown> & { sz: number };
export function LIBBPF_OPTS(type: string, init: Record<string, unknown> = {}): Record<string, unknown> & { sz: number } {
  const def = OPTS_FIELDS[type];
  if (!def) throw new BpfError('EINVAL', `unknown opts type ${type}`);
  const o: Record<string, unknown> & { sz: number } = { sz: def.sz };
  for (const f of def.fields) o[f] = f.endsWith('_len') || f === 'flags' || f.endsWith('_fd') || f.endsWith('_id') ? 0 : null;
  for (const [k, v] of Object.entries(init)) {
    if (!def.fields.includes(k)) throw new BpfError('EINVAL', `${type} has no field ${k}`);
    o[k] = v;
  }
  return o;
}

/** `union bpf_iter_link_info linfo; memset(&linfo, 0, sizeof(linfo));` as a mutable object. */
export function bpf_iter_link_info(): { map: { map_fd: number }; cgroup: { order: number; cgroup_fd: number; cgroup_id: bigint }; task: { tid: number; pid: number; pid_fd: number } } {
  return { map: { map_fd: 0 }, cgroup: { order: 0, cgroup_fd: 0, cgroup_id: 0n }, task: { tid: 0, pid: 0, pid_fd: 0 } };
}

function linkInfoBytes(li: unknown): Uint8Array | null {
  if (li === null || li === undefined) return null;
  if (li instanceof Uint8Array) return li;
  // A union object: members overlap; encode only the non-zero members so
  // a memset-zeroed union with e.g. task.pid set encodes as expected.
  const u = li as BpfIterLinkInfoInit;
  const out = new Uint8Array(16);
  for (const part of ['map', 'cgroup', 'task'] as const) {
    const m = u[part] as Record<string, number | bigint> | undefined;
    if (!m) continue;
    const nz: Record<string, number | bigint> = {};
    for (const [k, v] of Object.entries(m)) if (v !== 0 && v !== 0n) nz[k] = v;
    if (Object.keys(nz).length === 0) continue;
    const b = encodeLinkInfo({ [part]: nz } as BpfIterLinkInfoInit);
    for (let i = 0; i < 16; i++) if (b[i]) out[i] = b[i]!;
  }
  return out;
}

// ---- programs and objects -------------------------------------------------

/** libbpf's `struct bpf_program`: loaded or not. */
export class bpf_program {
  /** Loaded kernel program, or null before load. */
  prog: BpfProgFd | null = null;
  /** Program fd, -1 before load. */
  fd = -1;
  constructor(
    readonly spec: BpfProgramSpec,
    readonly globals: BpfGlobals,
  ) {}
  get name(): string {
    return this.spec.name;
  }
  get sec(): string {
    return this.spec.sec;
  }
}

/** `bpf_program__fd(prog)`: -1 (errno EINVAL) before load. */
export function bpf_program__fd(prog: bpf_program): number {
  if (prog.fd < 0) return setErr(neg('EINVAL')) && -1;
  return prog.fd;
}
/** `bpf_program__name(prog)`. */
export function bpf_program__name(prog: bpf_program): string {
  return prog.name;
}
/** `bpf_program__section_name(prog)`. */
export function bpf_program__section_name(prog: bpf_program): string {
  return prog.sec;
}

/** `bpf_prog_load`-like: loads a program spec and returns its fd, or -errno. */
export function bpf_prog_load(spec: BpfProgramSpec, opts: { globals?: Partial<BpfGlobals> } = {}): number {
  const r = catchErr(() => fdTable.install(loadProgram(spec, opts)));
  return r;
}

/** libbpf's `struct bpf_link` handle. */
export class bpf_link {
  pin_path: string | null = null;
  constructor(
    /** The link fd. */
    public fd: number,
    /** The kernel link. */
    readonly link: BpfLinkFd,
  ) {}
  /** Destroy via {@link bpf_link__destroy}. */
  destroy(): number {
    return bpf_link__destroy(this);
  }
}

/**
 * `bpf_program__attach_iter(prog, opts)`: NULL (with errno) on failure —
 * invalid opts → EINVAL; program not loaded → EINVAL ("can't attach
 * before loaded"); otherwise the `BPF_LINK_CREATE` errno.
 */
export function bpf_program__attach_iter(prog: bpf_program, opts: bpf_iter_attach_opts | null | undefined): bpf_link | null {
  if (opts !== null && opts !== undefined) {
    const known = new Set(['sz', 'link_info', 'link_info_len']);
    if (typeof opts !== 'object' || opts.sz !== 24 || Object.keys(opts).some((k) => !known.has(k))) {
      setErr(neg('EINVAL'));
      return null;
    }
  }
  if (!prog || prog.fd < 0) {
    // libbpf: "prog '%s': can't attach before loaded"
    setErr(neg('EINVAL'));
    return null;
  }
  const li = opts ? linkInfoBytes(opts.link_info) : null;
  const fd = bpf_link_create(prog.fd, 0, BPF_TRACE_ITER, {
    iter_info: li,
    iter_info_len: opts ? opts.link_info_len : 0,
  });
  if (fd < 0) {
    // libbpf: "prog '%s': failed to attach to iterator: %s"
    setErr(fd);
    return null;
  }
  return new bpf_link(fd, fdTable.get(fd) as BpfLinkFd);
}

/** `bpf_link__fd(link)`. */
export function bpf_link__fd(link: bpf_link): number {
  return link.fd;
}
/** `bpf_link__destroy(link)`: closes the link fd (the link lives on while pinned). NULL → 0. */
export function bpf_link__destroy(link: bpf_link | null): number {
  if (!link) return 0;
  if (link.fd < 0) return 0;
  const r = close(link.fd);
  link.fd = -1;
  return r;
}
/** `bpf_link__pin(link, path)`: 0 or -errno. */
export function bpf_link__pin(link: bpf_link, path: string): number {
  if (link.pin_path) return setErr(neg('EBUSY'));
  const r = catchErr(() => bpffs.pin(link.link, path));
  if (typeof r === 'number' && r < 0) return r;
  link.pin_path = path;
  return 0;
}
/** `bpf_link__unpin(link)`: 0 or -errno. */
export function bpf_link__unpin(link: bpf_link): number {
  if (!link.pin_path) return setErr(neg('EINVAL'));
  const r = catchErr(() => bpffs.rm(link.pin_path!));
  if (typeof r === 'number' && r < 0) return r;
  link.pin_path = null;
  return 0;
}
/** `bpf_link__update_program(link, prog)`: `BPF_LINK_UPDATE`; 0 or -errno. */
export function bpf_link__update_program(link: bpf_link, prog: bpf_program): number {
  return setErr(bpf_link_update(link.fd, prog.fd));
}
/** `bpf_link_update(link_fd, new_prog_fd, opts)`: 0 or -errno. */
export function libbpf_link_update(link_fd: number, new_prog_fd: number, opts?: { old_prog_fd?: number; flags?: number }): number {
  return setErr(bpf_link_update(link_fd, new_prog_fd, opts));
}
/** `bpf_iter_create(link_fd)`: an iterator fd or -errno. */
export function bpf_iter_create(link_fd: number): number {
  return setErr(kbpf_iter_create(link_fd));
}
/** `bpf_obj_pin(fd, path)`: 0 or -errno. */
export function bpf_obj_pin(fd: number, path: string): number {
  const r = catchErr(() => bpffs.pin(fd, path));
  return typeof r === 'number' ? r : 0;
}
/** `bpf_obj_get(path)`: a link fd or -errno. */
export function bpf_obj_get(path: string): number {
  return catchErr(() => bpffs.getFd(path));
}
/** `open(path, O_RDONLY)` of a bpffs iterator file: an iterator fd or -1 (errno). */
export function open(path: string): number {
  const r = catchErr(() => {
    const it = bpffs.open(path);
    it.fd = fdTable.install(it);
    return it.fd;
  });
  return r < 0 ? -1 : r;
}

/**
 * `read(fd, buf, count)`: fills `buf` and returns the byte count, or -1
 * with {@link errno} set (EBADF, EINVAL, E2BIG, EAGAIN...).
 * `read(fd, n)`: returns a Buffer of up to `n` bytes (throws BpfError).
 */
export function read(fd: number, buf: Uint8Array, count: number): number;
export function read(fd: number, n: number): Buffer;
export function read(fd: number, a: Uint8Array | number, count?: number): number | Buffer {
  const f = fdTable.lookup(fd);
  if (typeof a === 'number') {
    if (!f) throw new BpfError('EBADF', `fd ${fd} is not open`);
    if (!(f instanceof IterFd)) throw new BpfError('EINVAL', `fd ${fd} is not readable`);
    return f.read(a);
  }
  if (!f) return setErr(neg('EBADF')) && -1;
  if (!(f instanceof IterFd)) return setErr(neg('EINVAL')) && -1;
  const n = count ?? a.length;
  if (n > a.length) return setErr(neg('EFAULT')) && -1;
  const r = catchErr(() => f.rawRead(n));
  if (r < 0) return setErr(r) && -1;
  a.set(f.seq.buf!.subarray(f.seq.copyStart, f.seq.copyStart + r), 0);
  return r;
}
/** `lseek(fd, offset, whence)`: -1 with ESPIPE on iterator fds. */
export function lseek(fd: number, _offset: number, _whence = 0): number {
  const f = fdTable.lookup(fd);
  if (!f) return setErr(neg('EBADF')) && -1;
  return setErr(neg('ESPIPE')) && -1;
}
/** `write(fd, ...)`: iterator fds are read-only → -1/EBADF. */
export function write(fd: number, _data: Uint8Array | string): number {
  return setErr(neg('EBADF')) && -1;
}
/** `close(fd)`: 0, or -1 with EBADF. */
export function close(fd: number): number {
  const r = catchErr(() => fdTable.close(fd));
  return typeof r === 'number' && r < 0 ? -1 : 0;
}
/** `strerror(errno)`-ish: the errno name. */
export function strerror(e: number): string {
  return errnoName(e) ?? `Unknown error ${e}`;
}
export { ERRNO };

// ---- skeletons --------------------------------------------------------------

/** What {@link defineSkeleton} takes: programs and initial global data. */
export interface SkeletonDef<B extends object, D extends object, R extends object> {
  name?: string;
  progs: Record<string, BpfProgramSpec>;
  bss?: B;
  data?: D;
  rodata?: R;
}

/** An opened (maybe loaded) skeleton: `skel->progs`, `skel->bss`, `skel->links`. */
export interface Skeleton<B extends object, D extends object, R extends object, K extends string = string> {
  progs: Record<K, bpf_program>;
  links: Record<K, bpf_link | null>;
  bss: B;
  data: D;
  rodata: R;
  loaded: boolean;
}

/** The generated `<name>__open/load/attach/destroy` functions. */
export interface SkeletonOps<B extends object, D extends object, R extends object, K extends string> {
  open(): Skeleton<B, D, R, K>;
  load(skel: Skeleton<B, D, R, K>): number;
  open_and_load(): Skeleton<B, D, R, K> | null;
  attach(skel: Skeleton<B, D, R, K>): number;
  detach(skel: Skeleton<B, D, R, K>): void;
  destroy(skel: Skeleton<B, D, R, K> | null): void;
}

/**
 * The skeleton generator (`bpftool gen skeleton`):
 *
 * ```ts
 * const bpf_iter_task_ex = defineSkeleton({ progs: { dump_task_file }, bss: { target_pid: 0 } });
 * const skel = bpf_iter_task_ex.open_and_load();
 * skel.bss.target_pid = process.pid;
 * const link = bpf_program__attach_iter(skel.progs.dump_task_file, opts);
 * ...
 * bpf_iter_task_ex.destroy(skel);
 * ```
 * Programs see the skeleton's globals as `this` and as their second
 * argument (`function (ctx, { bss }) { ... bss.target_pid ... }`).
 * Each `open()` gets its own copy of the initial globals.
 */
export function defineSkeleton<K extends string, B extends object = Record<string, never>, D extends object = Record<string, never>, R extends object = Record<string, never>>(
  def: { name?: string; progs: Record<K, BpfProgramSpec>; bss?: B; data?: D; rodata?: R },
): SkeletonOps<B, D, R, K> {
  const ops: SkeletonOps<B, D, R, K> = {
    open() {
      const globals: BpfGlobals<B, D, R> = {
        bss: structuredClone(def.bss ?? ({} as B)),
        data: structuredClone(def.data ?? ({} as D)),
        rodata: structuredClone(def.rodata ?? ({} as R)),
      };
      const progs = {} as Record<K, bpf_program>;
      const links = {} as Record<K, bpf_link | null>;
      for (const k of Object.keys(def.progs) as K[]) {
        progs[k] = new bpf_program(def.progs[k], globals as BpfGlobals);
        links[k] = null;
      }
      return { progs, links, bss: globals.bss, data: globals.data, rodata: globals.rodata, loaded: false };
    },
    load(skel) {
      for (const p of Object.values(skel.progs) as bpf_program[]) {
        if (p.fd >= 0) continue;
        const fd = bpf_prog_load(p.spec, { globals: p.globals });
        if (fd < 0) return fd;
        p.fd = fd;
        p.prog = fdTable.get(fd) as BpfProgFd;
      }
      skel.loaded = true;
      return 0;
    },
    open_and_load() {
      const skel = ops.open();
      const r = ops.load(skel);
      if (r < 0) {
        ops.destroy(skel);
        setErr(r);
        return null;
      }
      return skel;
    },
    attach(skel) {
      for (const k of Object.keys(skel.progs) as K[]) {
        const l = bpf_program__attach_iter(skel.progs[k], null);
        if (!l) return -errno;
        skel.links[k] = l;
      }
      return 0;
    },
    detach(skel) {
      for (const k of Object.keys(skel.links) as K[]) {
        bpf_link__destroy(skel.links[k]);
        skel.links[k] = null;
      }
    },
    destroy(skel) {
      if (!skel) return;
      ops.detach(skel);
      for (const p of Object.values(skel.progs) as bpf_program[]) {
        if (p.fd >= 0) close(p.fd);
        p.fd = -1;
        p.prog = null;
      }
    },
  };
  return ops;
}

/**
 * camelCase skeleton from a program module: every program spec exported
 * by `mod` plus its optional `bss` / `data` / `rodata` exports (initial
 * values). Returns the loaded skeleton; throws on load errors.
 */
export function openAndLoad<M extends Record<string, unknown>>(mod: M): Skeleton<Record<string, any>, Record<string, any>, Record<string, any>> & { destroy(): void } {
  const progs: Record<string, BpfProgramSpec> = {};
  for (const [k, v] of Object.entries(mod)) if (isProgramSpec(v)) progs[k] = v;
  const pick = (k: string) => (mod[k] && typeof mod[k] === 'object' && !isProgramSpec(mod[k]) ? (mod[k] as Record<string, unknown>) : {});
  const ops = defineSkeleton({ progs, bss: pick('bss'), data: pick('data'), rodata: pick('rodata') });
  const skel = ops.open();
  const r = ops.load(skel);
  if (r < 0) {
    ops.destroy(skel);
    throw new BpfError(errnoName(r) ?? 'EINVAL', 'skeleton load failed');
  }
  return Object.assign(skel, { destroy: () => ops.destroy(skel) });
}

/** The kernel link behind a libbpf handle (for `.open()`, `.info()`, `.fdinfo()`). */
export function bpf_link__kernel(link: bpf_link): BpfIterLink {
  return link.link as BpfIterLink;
}

// ---- unistd -------------------------------------------------------------------

/**
 * `getpid()`: the calling process as the kernel model sees it — the task
 * set with `asTask` (its tgid in its own pid namespace), else this Node
 * process's pid (right for the host kernel).
 */
export function getpid(): number {
  const t = currentTask();
  return t ? t.group_leader.vpid : process.pid;
}

/** `gettid()`: like {@link getpid}, the thread id. */
export function gettid(): number {
  const t = currentTask();
  return t ? t.vpid : process.pid;
}
