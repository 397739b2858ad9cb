/**
 * Iterator links on the real kernel: `bpf_program__attach_iter` with
 * `bpf_iter_attach_opts` (the kernel checks the link info, so its errors are
 * the kernel's), `bpf_iter_create`, `bpf_link__pin` / `__unpin`, link info
 * from `BPF_OBJ_GET_INFO_BY_FD`, `BPF_LINK_UPDATE`, `bpf_link__destroy`
 * exactly once. Also the id walks behind `prog show` / `map show` / `link show`.
 */
import { closeSync, readFileSync } from 'node:fs';
import { BpfError, fail } from '../errors.js';
import { checkInt, checkPtr, libbpf, type Ptr } from './ffi.js';
import type { BpfObjectProgram } from './object.js';
import { parseMountinfo } from '../sources/procfs/mountinfo.js';

/** `BPF_F_REPLACE`. */
const BPF_F_REPLACE = 1 << 2;
/** `sizeof(struct bpf_link_info)` in libbpf 1.1's uapi header (the kernel accepts a longer zero tail too). */
const LINK_INFO_SIZE = 48;

/** `struct bpf_link_info` for an iterator link, as the real kernel fills it. */
export interface KernelLinkInfo {
  /** `enum bpf_link_type` (4 = `BPF_LINK_TYPE_ITER`). */
  type: number;
  id: number;
  prog_id: number;
  iter: {
    target_name: string;
    /** `map.map_id` (bpf_map_elem, bpf_sk_storage_map). */
    map: { map_id: number };
    /** `cgroup.cgroup_id`, `cgroup.order` (the cgroup target). */
    cgroup: { cgroup_id: bigint; order: number };
    /** `task.tid`, `task.pid` (task targets). */
    task: { tid: number; pid: number };
  };
}

/** Reads `bpf_link_info` of a link fd. */
export function kernelLinkInfo(fd: number): KernelLinkInfo {
  const L = libbpf();
  const name = Buffer.alloc(128);
  const info = Buffer.alloc(LINK_INFO_SIZE);
  const len = Buffer.alloc(4);
  // target_name is a user pointer inside the struct: koffi gives us the Buffer's address.
  info.writeBigUInt64LE(L.addressOf(name), 16);
  info.writeUInt32LE(name.length, 24);
  len.writeUInt32LE(LINK_INFO_SIZE);
  checkInt(`link fd ${fd}: get info`, () => L.bpf_obj_get_info_by_fd(fd, info, len));
  const nameLen = info.readUInt32LE(24);
  return {
    type: info.readUInt32LE(0),
    id: info.readUInt32LE(4),
    prog_id: info.readUInt32LE(8),
    iter: {
      target_name: name.toString('utf8', 0, Math.max(0, Math.min(nameLen, name.length) - 1)),
      map: { map_id: info.readUInt32LE(28) },
      cgroup: { cgroup_id: info.readBigUInt64LE(32), order: info.readUInt32LE(40) },
      task: { tid: info.readUInt32LE(32), pid: info.readUInt32LE(36) },
    },
  };
}

/** `/proc/self/fdinfo/<fd>`: the kernel's `bpf_link_show_fdinfo` lines after the generic ones. */
export function kernelFdinfo(fd: number): string {
  return readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
}

/** `bpf_iter_create(link_fd)`: a new iterator session's fd on an iterator link (any link fd: libbpf's or a light one), the caller's to close. */
export function createIterFd(linkFd: number): number {
  return checkInt(`bpf_iter_create(link fd ${linkFd})`, () => libbpf().bpf_iter_create(linkFd));
}

/**
 * A real iterator link (`struct bpf_link *` of libbpf). Holds the link fd;
 * {@link destroy} closes it once (a pin keeps the kernel link alive).
 */
export class KernelLink implements Disposable {
  private ptr: Ptr | null;
  private pinPath: string | null = null;
  /** The program the link runs now. */
  prog: BpfObjectProgram;

  /** @internal use `attachKernelIter` (`@bpf-iter/core/internal`). */
  constructor(ptr: Ptr, prog: BpfObjectProgram) {
    this.ptr = ptr;
    this.prog = prog;
  }

  /** True after {@link destroy}. */
  get destroyed(): boolean {
    return this.ptr === null;
  }

  private live(): Ptr {
    if (!this.ptr) fail('EBADF', 'link was destroyed');
    return this.ptr;
  }

  /** The link fd (`bpf_link__fd`). */
  get fd(): number {
    return libbpf().bpf_link__fd(this.live());
  }

  /** `bpf_iter_create(link_fd)`: a new iterator fd (a new session). */
  createIterFd(): number {
    return createIterFd(this.fd);
  }

  /** `bpf_link__pin`: the path must be on a bpffs (EINVAL otherwise) and not exist (EEXIST). */
  pin(path: string): void {
    const p = this.live();
    checkInt(`pin link at ${path}`, () => libbpf().bpf_link__pin(p, path));
    this.pinPath = path;
  }

  /** `bpf_link__unpin`: removes this handle's pin (EINVAL when it has none). */
  unpin(): void {
    const p = this.live();
    if (!this.pinPath) fail('EINVAL', 'link is not pinned by this handle');
    checkInt(`unpin ${this.pinPath}`, () => libbpf().bpf_link__unpin(p));
    this.pinPath = null;
  }

  /** Where this handle pinned the link, or null. */
  get pinnedAt(): string | null {
    return this.pinPath;
  }

  /** `BPF_OBJ_GET_INFO_BY_FD` on the link. */
  info(): KernelLinkInfo {
    return kernelLinkInfo(this.fd);
  }

  /** The link's `/proc/self/fdinfo` text (link_type, link_id, prog_tag, prog_id, target_name, params). */
  fdinfo(): string {
    return kernelFdinfo(this.fd);
  }

  /**
   * `BPF_LINK_UPDATE`: the link runs `newProg` from the next session on.
   * With `oldProg`, `BPF_F_REPLACE` (EPERM when it is not the current one).
   * The kernel refuses another target (EINVAL).
   */
  update(newProg: BpfObjectProgram, oldProg?: BpfObjectProgram | null): void {
    const fd = this.fd;
    const opts = { sz: 16, flags: oldProg ? BPF_F_REPLACE : 0, old_prog_fd: oldProg ? oldProg.fd : 0 };
    checkInt(`update link fd ${fd} to prog '${newProg.name}'`, () => libbpf().bpf_link_update(fd, newProg.fd, opts));
    this.prog = newProg;
  }

  /** `bpf_link__destroy`, once: closes the fd (the kernel link lives on while pinned). Idempotent. */
  destroy(): void {
    const p = this.ptr;
    if (!p) return;
    this.ptr = null;
    libbpf().bpf_link__destroy(p);
  }

  [Symbol.dispose](): void {
    this.destroy();
  }
}

/**
 * `bpf_program__attach_iter(prog, &opts)` with `opts.link_info` /
 * `link_info_len` as given (null and 0 for none): the kernel validates them.
 */
export function attachKernelIter(prog: BpfObjectProgram, linkInfo: Uint8Array | null, linkInfoLen: number): KernelLink {
  prog.object.checkOpen(); // EBADF once the object is closed
  if (!prog.loaded) fail('EINVAL', `prog '${prog.name}': can't attach BPF program without FD (was it loaded?)`);
  const L = libbpf();
  const opts = { sz: 24, link_info: linkInfo ? Buffer.from(linkInfo) : null, link_info_len: linkInfoLen };
  const ptr = checkPtr(`prog '${prog.name}': attach iter`, () => L.bpf_program__attach_iter(prog.ptr, opts));
  return new KernelLink(ptr, prog);
}

/** A BPF object kind the kernel numbers with ids. */
export type KernelObjectKind = 'prog' | 'map' | 'link';

/** The ids of every live `kind` object (`bpf_{prog,map,link}_get_next_id`). */
export function kernelIds(kind: KernelObjectKind): number[] {
  const L = libbpf();
  const next = { prog: L.bpf_prog_get_next_id, map: L.bpf_map_get_next_id, link: L.bpf_link_get_next_id }[kind];
  const ids: number[] = [];
  const out = Buffer.alloc(4);
  for (let id = 0; ; ) {
    const r = next(id, out);
    if (r < 0) {
      if (-r === 2) return ids; // ENOENT: no more
      throw new BpfError(-r === 1 ? 'EPERM' : 'EINVAL', `bpf_${kind}_get_next_id(${id}) failed (errno ${-r})`);
    }
    id = out.readUInt32LE(0);
    ids.push(id);
  }
}

/**
 * Runs `fn` on an fd of object `id` (`bpf_*_get_fd_by_id`), closing it after.
 * Null when the object went away in between (ENOENT).
 */
export function withKernelObject<T>(kind: KernelObjectKind, id: number, fn: (fd: number) => T): T | null {
  const L = libbpf();
  const get = { prog: L.bpf_prog_get_fd_by_id, map: L.bpf_map_get_fd_by_id, link: L.bpf_link_get_fd_by_id }[kind];
  const fd = get(id);
  if (fd < 0) {
    if (-fd === 2) return null;
    checkInt(`bpf_${kind}_get_fd_by_id(${id})`, () => fd);
  }
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

/** `BPF_OBJ_GET_INFO_BY_FD` raw bytes (`size` bytes of the info struct). */
export function objInfo(fd: number, size: number): Buffer {
  const info = Buffer.alloc(size);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(size);
  checkInt(`fd ${fd}: get info`, () => libbpf().bpf_obj_get_info_by_fd(fd, info, len));
  return info;
}

/** `bpf_obj_get(path)`: an fd of a pinned object (ENOENT, EINVAL for a non-bpffs path). */
export function objGet(path: string): number {
  return checkInt(`bpf_obj_get(${path})`, () => libbpf().bpf_obj_get(path));
}

/** `pidfd_open(pid, 0)`: an fd referring to process `pid` (ESRCH when there is none). Close it with `closeSync`. */
export function pidfdOpen(pid: number): number {
  return checkInt(`pidfd_open(${pid})`, () => libbpf().pidfd_open(pid));
}

/** `bpf_map_get_fd_by_id`: an fd of map `id` (ENOENT when there is none). Close it with `closeSync`. */
export function mapFdById(id: number): number {
  return checkInt(`bpf_map_get_fd_by_id(${id})`, () => libbpf().bpf_map_get_fd_by_id(id));
}

/** `sizeof(struct bpf_prog_info)` in libbpf 1.1's uapi header. */
export const PROG_INFO_SIZE = 232;

/** The ids of the maps program fd `fd` uses (`bpf_prog_info.map_ids`, a second info call with a buffer for `count` ids). */
export function progMapIds(fd: number, count: number): number[] {
  if (count <= 0) return [];
  const L = libbpf();
  const info = Buffer.alloc(PROG_INFO_SIZE);
  const ids = Buffer.alloc(4 * count);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(PROG_INFO_SIZE);
  info.writeUInt32LE(count, 52); // nr_map_ids
  info.writeBigUInt64LE(L.addressOf(ids), 56); // map_ids
  checkInt(`prog fd ${fd}: get map ids`, () => L.bpf_obj_get_info_by_fd(fd, info, len));
  return Array.from({ length: Math.min(count, info.readUInt32LE(52)) }, (_, i) => ids.readUInt32LE(4 * i));
}

/** Where this process sees the cgroup v2 (default) hierarchy mounted, or null when it is not mounted. */
export function cgroup2MountPoint(): string | null {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).find((m) => m.fstype === 'cgroup2')?.mountPoint ?? null;
}
