/**
 * Iterator links (`BPF_LINK_CREATE` with `BPF_TRACE_ITER`), iterator fds
 * (`BPF_ITER_CREATE`), link info, fdinfo, `BPF_LINK_UPDATE` and
 * lifetimes — reference §3.
 */
import { BpfError, BpfLink as KernelLink, BPF_LINK_TYPE_ITER, BPF_TRACE_ITER, PAGE_SIZE, fail, type BpfObjectProgram, type Kernel } from '@bpf-iter/core';
import { explicitKernel } from '@bpf-iter/core/internal';
import { BPF_ITER_LINK_INFO_SIZE } from './constants.js';
import { errorFor, neg } from './errno.js';
import { fdTable, type FdObject } from './fd_table.js';
import { allocModelId, freeModelId } from './ids.js';
import { BpfIterLinkInfo, linkInfoBytes, type BpfIterLinkInfoInit } from './link_info.js';
import { BpfProgFd } from './program.js';
import {
  findTargetByBtfId,
  targetSupportsResched,
  type BpfIterAuxInfo,
  type BpfIterTargetInfo,
  type BpfLinkInfoIter,
  type FdinfoSeq,
} from './registry.js';
import { SeqFile } from './seq_file.js';
import { IterFd } from './iter_fd.js';
import { attachKernelIterLink, isKernelProgram, type KernelIterLink } from './kernel_iter.js';
import { ksprintf } from './helpers/bprintf.js';

// Re-exported from core's uapi module so this package's entry keeps them.
export { BPF_LINK_TYPE_ITER, BPF_TRACE_ITER } from '@bpf-iter/core';
/** `BPF_F_REPLACE` flag of `BPF_LINK_UPDATE`. */
export const BPF_F_REPLACE = 1 << 2;

/**
 * What a link fd refers to: a link type's behaviour around core's
 * `struct bpf_link` ({@link BpfLinkFd.klink}), the one object the `bpf_link`
 * iterator walks. One reference count, the core object's: fds, pins and JS
 * handles each hold one; at zero the link is released.
 */
export abstract class BpfLinkFd implements FdObject {
  readonly fdKind = 'link';
  /** `link_type` name as fdinfo prints it (`'iter'`, `'tracing'`...). */
  abstract readonly link_type: string;
  /** `enum bpf_link_type` value. */
  abstract readonly link_type_id: number;
  readonly id: number;
  /** The link as the kernel model (and the `bpf_link` iterator) sees it. */
  readonly klink: KernelLink;
  /** The kernel the link belongs to (its sessions iterate it). */
  readonly kernel: Kernel;
  constructor(
    public prog: BpfProgFd,
    kernel: Kernel = prog.kernel,
  ) {
    this.kernel = kernel;
    this.klink = new KernelLink(BPF_LINK_TYPE_ITER, prog.kprog);
    this.id = allocModelId('link', kernel, this.klink);
  }
  /** References: the core object's count. */
  get refcnt(): number {
    return this.klink.refcnt;
  }
  /** `bpf_link_inc`. */
  get(): this {
    if (this.klink.refcnt <= 0) fail('EINVAL', `link ${this.id} already released`);
    this.klink.get();
    return this;
  }
  /** `bpf_link_put`: the last reference (the one the create made) releases the link and frees its id. */
  put(): void {
    if (this.klink.refcnt <= 0) return;
    if (this.klink.refcnt === 1) {
      this.release();
      freeModelId('link', this.kernel, this.klink);
    } else this.klink.put();
  }
  /** True once released. */
  get released(): boolean {
    return this.refcnt <= 0;
  }
  /** Link-type specific teardown; default drops the program. */
  protected release(): void {
    this.prog.put();
  }
  fdRelease(): void {
    this.put();
  }
  /** The link-type specific fdinfo lines (after `prog_id`). */
  protected showFdinfo(_seq: FdinfoSeq): void {}
  /** `bpf_link_show_fdinfo` text (the link part of `/proc/<pid>/fdinfo/<fd>`). */
  fdinfo(): string {
    let text = '';
    const seq: FdinfoSeq = {
      puts: (s) => {
        text += s;
      },
      printf: (fmt, ...args) => {
        text += ksprintf(fmt, ...(args as never[]));
      },
    };
    seq.printf('link_type:\t%s\n', this.link_type);
    seq.printf('link_id:\t%u\n', this.id);
    seq.printf('prog_tag:\t%s\nprog_id:\t%u\n', this.prog.tag, this.prog.id);
    this.showFdinfo(seq);
    return text;
  }
}

/** The iterator link (`struct bpf_iter_link`). */
export class BpfIterLink extends BpfLinkFd {
  readonly link_type = 'iter';
  readonly link_type_id = BPF_LINK_TYPE_ITER;
  /** The target (`tinfo`). */
  readonly tinfo: BpfIterTargetInfo;
  /** What `attach_target` filled. */
  readonly aux: BpfIterAuxInfo;
  /** The 16 bytes of `union bpf_iter_link_info` as copied at create. */
  readonly linfo: BpfIterLinkInfo;

  /** @internal use {@link bpf_link_create} / {@link attachIter}. */
  constructor(prog: BpfProgFd, tinfo: BpfIterTargetInfo, linfo: BpfIterLinkInfo, aux: BpfIterAuxInfo) {
    super(prog, aux.kernel);
    this.tinfo = tinfo;
    this.linfo = linfo;
    this.aux = aux;
  }

  /** Target name. */
  get target(): string {
    return this.tinfo.reg.target;
  }

  protected override release(): void {
    this.tinfo.reg.detach_target?.(this.aux);
    super.release();
  }

  protected override showFdinfo(seq: FdinfoSeq): void {
    seq.printf('target_name:\t%s\n', this.tinfo.reg.target);
    this.tinfo.reg.show_fdinfo?.(this.aux, seq);
  }

  /**
   * `bpf_iter_link_fill_link_info`: fills `info.iter` (§3.5). Returns 0 or
   * -EINVAL / -ENOSPC / -EFAULT; on -ENOSPC the name buffer holds the
   * truncated NUL-terminated name.
   */
  fillLinkInfo(info: BpfLinkInfo): number {
    const it = info.iter;
    const ubuf = it.target_name;
    const ulen = it.target_name_len >>> 0;
    if (!ulen !== !ubuf) return neg('EINVAL');
    const name = Buffer.from(this.tinfo.reg.target, 'utf8');
    const target_len = name.length;
    it.target_name_len = target_len + 1;
    if (ubuf) {
      if (ulen > ubuf.length) return neg('EFAULT');
      if (ulen >= target_len + 1) {
        ubuf.set(name, 0);
        ubuf[target_len] = 0;
      } else {
        ubuf.set(name.subarray(0, ulen - 1), 0);
        ubuf[ulen - 1] = 0;
        return neg('ENOSPC');
      }
    }
    const fill = this.tinfo.reg.fill_link_info;
    return fill ? fill(this.aux, it) : 0;
  }

  /**
   * Link info as an object (camelCase API). `nameBufferSize` is the
   * `target_name_len` to pass (default 64; 0 = length only). Throws ENOSPC
   * when the name does not fit.
   */
  info(nameBufferSize = 64): BpfLinkInfo {
    const info = emptyLinkInfo();
    if (nameBufferSize > 0) {
      info.iter.target_name = new Uint8Array(nameBufferSize);
      info.iter.target_name_len = nameBufferSize;
    }
    const r = bpfLinkGetInfo(this, info);
    if (r < 0) throw errorFor(r, `link ${this.id}: get info failed`);
    return info;
  }

  /**
   * `BPF_LINK_UPDATE` (§3.7): swaps the program. `oldProg` given and not
   * current → EPERM; new program of another type / attach type / target
   * (`attach_btf_id`) → EINVAL. Existing iterator fds keep their program.
   */
  update(newProg: BpfProgFd, oldProg?: BpfProgFd | null): void {
    const r = this.replace(newProg, oldProg ?? null);
    if (r < 0) throw errorFor(r, r === neg('EPERM') ? 'old_prog is not the link program' : 'program of a different target');
  }

  /** `bpf_iter_link_replace`: 0, -EPERM or -EINVAL. */
  replace(newProg: BpfProgFd, oldProg: BpfProgFd | null): number {
    if (oldProg && this.prog !== oldProg) return neg('EPERM');
    if (
      this.prog.type !== newProg.type ||
      this.prog.expected_attach_type !== newProg.expected_attach_type ||
      this.prog.attach_btf_id !== newProg.attach_btf_id
    )
      return neg('EINVAL');
    newProg.get();
    const old = this.prog;
    this.prog = newProg;
    this.klink.prog = newProg.kprog;
    old.put();
    return 0;
  }

  /**
   * A new iterator session (`BPF_ITER_CREATE` without installing an fd),
   * running the link's current program: a plain reader (cilium/ebpf's
   * `link.Open()`). Throws the target's init error.
   */
  open(): IterFd {
    if (this.released) fail('EBADF', `link ${this.id} was released`);
    return bpf_iter_new_session(this);
  }

  /** Drops this handle's reference (`bpf_link__destroy` of a JS handle). */
  close(): void {
    this.put();
  }
  /** Alias of {@link close}. */
  destroy(): void {
    this.put();
  }
}

/**
 * `prepare_seq_file`: takes a program reference, allocates and initialises
 * the target's private state, assigns a fresh session id.
 */
export function bpf_iter_new_session(link: BpfIterLink): IterFd {
  const prog = link.prog;
  const tinfo = link.tinfo;
  const si = tinfo.reg.seq_info;
  prog.get();
  let priv: unknown;
  try {
    priv = si.seq_priv();
    const r = si.init_seq_private?.(priv, link.aux) ?? 0;
    if (typeof r === 'number' && r < 0) throw errorFor(r, `target ${tinfo.reg.target}: init_seq_private failed`);
  } catch (e) {
    prog.put();
    throw e;
  }
  return new IterFd(new SeqFile(prog, tinfo, link.aux, priv));
}

/** `struct bpf_link_info` (the members used by iterator links). */
export interface BpfLinkInfo {
  type: number;
  id: number;
  prog_id: number;
  iter: BpfLinkInfoIter;
}

/** A zeroed {@link BpfLinkInfo} (`memset(&info, 0, sizeof(info))`). */
export function emptyLinkInfo(): BpfLinkInfo {
  return {
    type: 0,
    id: 0,
    prog_id: 0,
    iter: { target_name: null, target_name_len: 0, map: { map_id: 0 }, cgroup: { cgroup_id: 0n, order: 0 }, task: { tid: 0, pid: 0 } },
  };
}

function cloneInfo(i: BpfLinkInfo): BpfLinkInfo {
  return {
    type: i.type,
    id: i.id,
    prog_id: i.prog_id,
    iter: {
      target_name: i.iter.target_name,
      target_name_len: i.iter.target_name_len,
      map: { ...i.iter.map },
      cgroup: { ...i.iter.cgroup },
      task: { ...i.iter.task },
    },
  };
}

function bpfLinkGetInfo(link: BpfLinkFd, info: BpfLinkInfo): number {
  // Work on a copy: on error nothing is copied back to the caller (§3.5).
  const k = cloneInfo(info);
  k.type = link.link_type_id;
  k.id = link.id;
  k.prog_id = link.prog.id;
  if (link instanceof BpfIterLink) {
    const r = link.fillLinkInfo(k);
    if (r) return r;
  }
  info.type = k.type;
  info.id = k.id;
  info.prog_id = k.prog_id;
  Object.assign(info.iter, k.iter);
  return 0;
}

/**
 * `bpf_link_get_info_by_fd(link_fd, &info, &info_len)` (libbpf):
 * returns 0 or -errno; on error `info` is left untouched (except the
 * name buffer on -ENOSPC). EBADF bad fd, EINVAL not a link.
 */
export function bpf_link_get_info_by_fd(fd: number, info: BpfLinkInfo): number {
  const f = fdTable.lookup(fd);
  if (!f) return neg('EBADF');
  if (!(f instanceof BpfLinkFd)) return neg('EINVAL');
  return bpfLinkGetInfo(f, info);
}

/** Options of {@link bpf_link_create} (`struct bpf_link_create_opts`, iter part). */
export interface BpfLinkCreateOpts {
  flags?: number;
  /** Raw union bytes, a typed union, or null. */
  iter_info?: Uint8Array | BpfIterLinkInfoInit | null;
  /** Bytes of `iter_info` to pass; defaults to 16 for a typed union, the array length for bytes, 0 for null. */
  iter_info_len?: number;
}

/** Options of {@link attachIter}. */
export interface AttachIterOptions {
  /** `union bpf_iter_link_info` as an object or raw bytes. */
  linkInfo?: BpfIterLinkInfoInit | Uint8Array | null;
  /** Defaults like {@link BpfLinkCreateOpts.iter_info_len}. */
  linkInfoLen?: number;
  /** Must be 0. */
  flags?: number;
  /** Must be 0. */
  targetFd?: number;
  /** The kernel the link iterates (default: the ambient one set by `withKernel`, else the program's). */
  kernel?: Kernel;
}

/** A program of a real BPF object ({@link openObject}): a link on the real kernel, see {@link KernelIterLink}. */
export function attachIter(prog: BpfObjectProgram, opts?: AttachIterOptions): KernelIterLink;
/**
 * `bpf_iter_link_attach` (§3.1, checks in order): returns the new link or
 * throws: EINVAL (not an iterator program / attach type; target_fd or
 * flags non-zero; exactly one of iter_info / iter_info_len zero; sleepable
 * program on a target without BPF_ITER_RESCHED), E2BIG (`iter_info_len`
 * > 4096, or non-zero bytes past 16), EFAULT (length beyond the bytes
 * given), ENOENT (target gone), or the target's `attach_target` error.
 *
 * @throws {@link @bpf-iter/core!BpfError} with the errno named above.
 *
 * @example
 * ```ts
 * import { attachIter, dumpTaskFile, loadProgram } from '@bpf-iter/iter-programs';
 * // SEC("iter/task_file") with linfo.task.pid = 1
 * const link = attachIter(loadProgram(dumpTaskFile), { linkInfo: { task: { pid: 1 } } });
 * process.stdout.write(link.open().readAll()); // a fresh seq_file session per open()
 * link.destroy();
 * ```
 */
export function attachIter(prog: BpfProgFd, opts?: AttachIterOptions, attachType?: string | number): BpfIterLink;
export function attachIter(prog: BpfProgFd | BpfObjectProgram, opts: AttachIterOptions = {}, attachType: string | number = 'BPF_TRACE_ITER'): BpfIterLink | KernelIterLink {
  if (isKernelProgram(prog)) return attachKernelIterLink(prog, opts);
  // 1. program type and attach type.
  if (!(prog instanceof BpfProgFd)) fail('EINVAL', 'not an iterator program');
  if (prog.refcnt <= 0) fail('EBADF', 'program was unloaded');
  if (attachType !== 'BPF_TRACE_ITER' && attachType !== BPF_TRACE_ITER) fail('EINVAL', `attach_type ${String(attachType)} does not match the program (BPF_TRACE_ITER)`);
  // 2. target_fd / flags.
  if ((opts.targetFd ?? 0) !== 0 || (opts.flags ?? 0) !== 0) fail('EINVAL', 'link_create.target_fd and flags must be 0');
  // 3-4. iter_info / iter_info_len.
  const { bytes, len } = linkInfoBytes(opts.linkInfo, opts.linkInfoLen);
  if (!bytes !== !len) fail('EINVAL', 'iter_info and iter_info_len must be both zero or both non-zero');
  let linfo = new BpfIterLinkInfo();
  if (bytes) {
    if (len > PAGE_SIZE) fail('E2BIG', `iter_info_len ${len} > PAGE_SIZE`);
    if (len > bytes.length) fail('EFAULT', `iter_info_len ${len} exceeds the ${bytes.length} bytes given`);
    if (len > BPF_ITER_LINK_INFO_SIZE && bytes.subarray(BPF_ITER_LINK_INFO_SIZE, len).some((b) => b !== 0))
      fail('E2BIG', 'non-zero bytes past sizeof(union bpf_iter_link_info)');
    linfo = new BpfIterLinkInfo(bytes.subarray(0, Math.min(len, BPF_ITER_LINK_INFO_SIZE)));
  }
  // 5. target by the program's BTF id.
  const tinfo = findTargetByBtfId(prog.attach_btf_id);
  if (!tinfo) fail('ENOENT', `target ${prog.targetName} is not registered`);
  // 6. sleepable program needs a RESCHED target.
  if (prog.sleepable && !targetSupportsResched(tinfo)) fail('EINVAL', `sleepable program on target ${tinfo.reg.target} without BPF_ITER_RESCHED`);
  // 7. link; 8. attach hook.
  // The link iterates the kernel given, else the ambient one (withKernel), else the program's.
  const aux: BpfIterAuxInfo = { kernel: opts.kernel ?? explicitKernel() ?? prog.kernel };
  const attach = tinfo.reg.attach_target;
  if (attach) {
    const r = attach(prog, linfo, aux);
    if (typeof r === 'number' && r < 0) throw errorFor(r, `target ${tinfo.reg.target}: attach_target failed`);
  }
  prog.get();
  return new BpfIterLink(prog, tinfo, linfo, aux);
}

/**
 * `bpf_link_create(prog_fd, target_fd, attach_type, opts)` for iterator
 * programs: returns a link fd or a negative errno (libbpf convention).
 * EBADF bad prog fd; EINVAL fd not a program.
 */
export function bpf_link_create(prog_fd: number, target_fd: number, attach_type: string | number, opts: BpfLinkCreateOpts = {}): number {
  const f = fdTable.lookup(prog_fd);
  if (!f) return neg('EBADF');
  if (!(f instanceof BpfProgFd)) return neg('EINVAL');
  try {
    const link = attachIter(
      f,
      { linkInfo: opts.iter_info ?? null, linkInfoLen: opts.iter_info_len, flags: opts.flags ?? 0, targetFd: target_fd },
      attach_type,
    );
    return fdTable.install(link);
  } catch (e) {
    if (e instanceof BpfError) return e.negative;
    throw e;
  }
}

/**
 * `bpf_iter_create(link_fd)` / `BPF_ITER_CREATE` (§3.4): a new iterator fd
 * (a new session with the link's current program), or a negative errno:
 * EINVAL for `flags != 0`, EBADF for a closed fd, EINVAL for an fd that is
 * not a link or a link that is not an iterator link, the target init error.
 */
export function bpf_iter_create(link_fd: number, flags = 0): number {
  if (flags !== 0) return neg('EINVAL');
  const f = fdTable.lookup(link_fd);
  if (!f) return neg('EBADF');
  if (!(f instanceof BpfLinkFd)) return neg('EINVAL');
  if (!(f instanceof BpfIterLink)) return neg('EINVAL');
  try {
    const it = bpf_iter_new_session(f);
    it.fd = fdTable.install(it);
    return it.fd;
  } catch (e) {
    if (e instanceof BpfError) return e.negative;
    throw e;
  }
}

/**
 * `BPF_LINK_UPDATE`: `bpf_link_update(link_fd, new_prog_fd, { old_prog_fd, flags })`.
 * Returns 0 or -errno: EBADF bad fds; EINVAL unknown flags, `old_prog_fd`
 * without `BPF_F_REPLACE` (or vice versa), non-link; then §3.7 rules.
 */
export function bpf_link_update(link_fd: number, new_prog_fd: number, opts: { old_prog_fd?: number; flags?: number } = {}): number {
  const flags = opts.flags ?? 0;
  if (flags & ~BPF_F_REPLACE) return neg('EINVAL');
  const lf = fdTable.lookup(link_fd);
  if (!lf) return neg('EBADF');
  if (!(lf instanceof BpfLinkFd)) return neg('EINVAL');
  const nf = fdTable.lookup(new_prog_fd);
  if (!nf) return neg('EBADF');
  if (!(nf instanceof BpfProgFd)) return neg('EINVAL');
  let old: BpfProgFd | null = null;
  if (flags & BPF_F_REPLACE) {
    const of = fdTable.lookup(opts.old_prog_fd ?? 0);
    if (!of) return neg('EBADF');
    if (!(of instanceof BpfProgFd)) return neg('EINVAL');
    old = of;
  } else if (opts.old_prog_fd) return neg('EINVAL');
  if (!(lf instanceof BpfIterLink)) return neg('EOPNOTSUPP');
  return lf.replace(nf, old);
}

/** `/proc/<pid>/fdinfo/<fd>` of a BPF fd: the generic header plus the link lines. */
export function procFdinfo(fd: number): string {
  const f = fdTable.get(fd);
  const head = `pos:\t0\nflags:\t0${(f.fdKind === 'iter' ? 0o2000000 : 0o2000002).toString(8)}\nmnt_id:\t16\nino:\t${1000 + fd}\n`;
  if (f instanceof BpfLinkFd) return head + f.fdinfo();
  if (f instanceof BpfProgFd) return head + `prog_type:\t26\nprog_jited:\t1\nprog_tag:\t${f.tag}\nmemlock:\t4096\nprog_id:\t${f.id}\n`;
  return head;
}
