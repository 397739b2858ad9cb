/**
 * A BPF object loaded the way a light skeleton loads it (`bpftool gen
 * skeleton -L`, libbpf's `skel_internal.h`): libbpf writes a loader program
 * (`bpf_object__gen_loader`, then `bpf_object__load` records instead of
 * loading) and the kernel runs it (`BPF_PROG_TYPE_SYSCALL`, `BPF_PROG_RUN`):
 * it loads the object's BTF, creates and fills the maps, applies the CO-RE
 * relocations and finds each attach target against its own BTF, and hands
 * back the program and map fds.
 *
 * Why: `bpf_object__load` parses the whole of `/sys/kernel/btf/vmlinux`
 * (5.5 MB, 120k types) in user space for the attach target and CO-RE, which
 * is most of what loading a small iterator costs (60-100 ms here, 2 ms this
 * way). Needs the syscall program type and in-kernel CO-RE (Linux 5.17+);
 * where the kernel refuses the loader, callers load through libbpf
 * ({@link BpfObject}), which also explains a verifier rejection.
 */
import { closeSync } from 'node:fs';
import { BpfError, fail } from '../errors.js';
import { checkInt, checkPtr, errnoOf, libbpf, type Ptr } from './ffi.js';

// enum bpf_cmd, bpf_map_type, bpf_prog_type, bpf_attach_type (uapi linux/bpf.h).
const BPF_MAP_CREATE = 0;
const BPF_MAP_UPDATE_ELEM = 2;
const BPF_PROG_LOAD = 5;
const BPF_PROG_TEST_RUN = 10;
const BPF_LINK_CREATE = 28;
const BPF_MAP_TYPE_ARRAY = 2;
const BPF_PROG_TYPE_SYSCALL = 31;
const BPF_TRACE_ITER = 28;
const BPF_F_SLEEPABLE = 1 << 4;

/** `sizeof(struct bpf_loader_ctx)`: sz, flags, log_level, log_size, log_buf. */
const LOADER_CTX = 24;
/** `sizeof(struct bpf_map_desc)`: map_fd, max_entries, initial_value. */
const MAP_DESC = 16;
/** `sizeof(struct bpf_prog_desc)`: prog_fd. */
const PROG_DESC = 4;

/** Tries of a program load: the verifier gives up with EAGAIN when a signal is pending (a profiler's SIGPROF); libbpf tries 5 times. */
const LOAD_ATTEMPTS = 5;
const EAGAIN = 11;

/** `bpf(2)` with the attr bytes; the fd / 0, or a {@link BpfError} with the errno and what failed. */
function sysBpf(cmd: number, attr: Buffer, what: string): number {
  let r = libbpf().sys_bpf(cmd, attr);
  for (let i = 1; r === -EAGAIN && cmd === BPF_PROG_LOAD && i < LOAD_ATTEMPTS; i++) r = libbpf().sys_bpf(cmd, attr);
  if (r < 0) throw new BpfError(errnoOf(r), `${what} failed (errno ${-r})`);
  return r;
}

/** A C string's bytes (NUL-terminated), for a pointer in an attr. */
function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, 'latin1');
}

/** The loader libbpf wrote for an object: its program, its data, and the layout of its context. */
interface Loader {
  insns: Buffer;
  data: Buffer;
  maps: string[];
  programs: { name: string; section: string }[];
}

/** `bpf_object__open_file` + `bpf_object__gen_loader` + `bpf_object__load`: the loader, copied out before the object is closed. */
function generateLoader(path: string, wanted: (name: string, section: string) => boolean): Loader {
  const L = libbpf();
  const obj: Ptr = checkPtr(`open ${path}`, () => L.bpf_object__open_file(path, null));
  try {
    const programs: Loader['programs'] = [];
    for (let p = L.bpf_object__next_program(obj, null); p; p = L.bpf_object__next_program(obj, p)) {
      const name = L.bpf_program__name(p);
      const section = L.bpf_program__section_name(p);
      if (wanted(name, section)) programs.push({ name, section });
      else checkInt(`prog '${name}': set autoload`, () => L.bpf_program__set_autoload(p, false));
    }
    if (!programs.length) fail('ENOENT', `no program to load in ${path}`);
    const maps: string[] = [];
    for (let m = L.bpf_object__next_map(obj, null); m; m = L.bpf_object__next_map(obj, m)) maps.push(L.bpf_map__name(m));
    // struct gen_loader_opts { size_t sz; const char *data, *insns; __u32 data_sz, insns_sz; }: libbpf fills it at load.
    const opts = Buffer.alloc(32);
    opts.writeBigUInt64LE(32n, 0);
    checkInt(`${path}: gen_loader`, () => L.bpf_object__gen_loader(obj, opts));
    checkInt(`${path}: generate the loader`, () => L.bpf_object__load(obj));
    const data = L.copyFrom(opts.readBigUInt64LE(8), opts.readUInt32LE(24));
    const insns = L.copyFrom(opts.readBigUInt64LE(16), opts.readUInt32LE(28));
    if (!insns.length) fail('EINVAL', `${path}: libbpf wrote an empty loader`);
    return { insns, data, maps, programs };
  } finally {
    L.bpf_object__close(obj);
  }
}

/**
 * Runs the loader as `bpf_load_and_run` does: a one-element array map holds
 * the data (the loader's fd_array[0]), the loader program is loaded
 * sleepable and run once over the context; the fds it created are in the
 * context after. Both loader fds are closed here; on failure the loader has
 * closed what it made.
 */
function runLoader(path: string, ld: Loader): Buffer {
  const L = libbpf();
  const ctx = Buffer.alloc(LOADER_CTX + MAP_DESC * ld.maps.length + PROG_DESC * ld.programs.length);
  ctx.writeUInt32LE(ctx.length, 0);
  const key = Buffer.alloc(4);
  let mapFd = -1;
  let progFd = -1;
  try {
    const mc = Buffer.alloc(48);
    mc.writeUInt32LE(BPF_MAP_TYPE_ARRAY, 0);
    mc.writeUInt32LE(4, 4); // key_size
    mc.writeUInt32LE(ld.data.length, 8); // value_size
    mc.writeUInt32LE(1, 12); // max_entries
    mc.write('__loader.map', 28, 'latin1');
    mapFd = sysBpf(BPF_MAP_CREATE, mc, `${path}: create the loader map`);
    const mu = Buffer.alloc(32);
    mu.writeUInt32LE(mapFd, 0);
    mu.writeBigUInt64LE(L.addressOf(key), 8);
    mu.writeBigUInt64LE(L.addressOf(ld.data), 16);
    sysBpf(BPF_MAP_UPDATE_ELEM, mu, `${path}: fill the loader map`);
    const license = cstr('Dual BSD/GPL');
    const fdArray = Buffer.alloc(4);
    fdArray.writeInt32LE(mapFd, 0);
    const pl = Buffer.alloc(128); // offsetofend(union bpf_attr, fd_array)
    pl.writeUInt32LE(BPF_PROG_TYPE_SYSCALL, 0);
    pl.writeUInt32LE(ld.insns.length / 8, 4);
    pl.writeBigUInt64LE(L.addressOf(ld.insns), 8);
    pl.writeBigUInt64LE(L.addressOf(license), 16);
    pl.writeUInt32LE(BPF_F_SLEEPABLE, 44);
    pl.write('__loader.prog', 48, 'latin1');
    pl.writeBigUInt64LE(L.addressOf(fdArray), 120);
    progFd = sysBpf(BPF_PROG_LOAD, pl, `${path}: load the loader program`);
    const tr = Buffer.alloc(80); // offsetofend(union bpf_attr, test)
    tr.writeUInt32LE(progFd, 0);
    tr.writeUInt32LE(ctx.length, 40); // ctx_size_in
    tr.writeBigUInt64LE(L.addressOf(ctx), 48); // ctx_in (the kernel copies the context back)
    sysBpf(BPF_PROG_TEST_RUN, tr, `${path}: run the loader program`);
    const ret = tr.readInt32LE(4);
    if (ret < 0) throw new BpfError(errnoOf(ret), `${path}: the loader program failed (errno ${-ret})`);
    return ctx;
  } finally {
    if (progFd >= 0) closeSync(progFd);
    if (mapFd >= 0) closeSync(mapFd);
  }
}

/** {@link runLoader}, again from a fresh context when the loader's own program loads met EAGAIN (it returns it). */
function runLoaderRetrying(path: string, ld: Loader): Buffer {
  for (let i = 1; ; i++) {
    try {
      return runLoader(path, ld);
    } catch (e) {
      if (i >= LOAD_ATTEMPTS || !(e instanceof BpfError) || e.errno !== 'EAGAIN') throw e;
    }
  }
}

/** A program of a {@link LightObject}: its name, section and fd. */
export interface LightProgram {
  readonly name: string;
  /** ELF section, e.g. `iter/task_file`. */
  readonly section: string;
  /** The program fd (the object's: closed with it). */
  readonly fd: number;
}

/**
 * A loaded BPF object's fds (programs, maps) from a light-skeleton loader.
 * Close exactly once with {@link close} (or `using`); links made from its
 * programs keep what they use.
 */
export class LightObject implements Disposable {
  private fds: number[] | null;
  /** @internal use {@link loadLightObject}. */
  constructor(
    readonly path: string,
    readonly programs: readonly LightProgram[],
    /** Map fds in the object's order (`.rodata`, `.bss`... included). */
    readonly maps: readonly { name: string; fd: number }[],
  ) {
    this.fds = [...programs.map((p) => p.fd), ...maps.map((m) => m.fd)];
  }

  /** The first `SEC("iter/...")` program: ENOENT when there is none. */
  firstIterProgram(): LightProgram {
    if (!this.fds) fail('EBADF', `bpf object ${this.path} is closed`);
    const p = this.programs.find((x) => /^iter(\.s)?\//.test(x.section));
    if (!p) fail('ENOENT', `can't find an iter/ program in ${this.path}`);
    return p;
  }

  /** Closes every program and map fd. Idempotent. */
  close(): void {
    const fds = this.fds;
    this.fds = null;
    for (const fd of fds ?? []) closeSync(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Loads the iterator programs of a `.bpf.o` (every `SEC("iter/...")` one,
 * or the one named `prog`) through a light-skeleton loader run by the
 * kernel. Throws {@link BpfError}: libbpf's errno for an object it cannot
 * open or generate a loader for, the kernel's for a loader it refuses or
 * that fails (a verifier rejection included: load through libbpf for its log).
 *
 * @example
 * ```ts
 * using obj = loadLightObject('packages/core/bpf/prebuilt/text_task_file.bpf.o');
 * const linkFd = attachLightIter(obj.firstIterProgram(), null);
 * const iterFd = createIterFd(linkFd);
 * ```
 */
export function loadLightObject(path: string, opts: { prog?: string } = {}): LightObject {
  const ld = generateLoader(path, (name, section) => (opts.prog === undefined ? /^iter(\.s)?\//.test(section) : name === opts.prog));
  const ctx = runLoaderRetrying(path, ld);
  const maps = ld.maps.map((name, i) => ({ name, fd: ctx.readInt32LE(LOADER_CTX + MAP_DESC * i) }));
  const base = LOADER_CTX + MAP_DESC * ld.maps.length;
  const programs = ld.programs.map((p, i) => ({ ...p, fd: ctx.readInt32LE(base + PROG_DESC * i) }));
  const obj = new LightObject(path, programs.filter((p) => p.fd > 0), maps.filter((m) => m.fd > 0));
  if (obj.programs.length !== programs.length || obj.maps.length !== maps.length) {
    obj.close();
    fail('EINVAL', `${path}: the loader returned no fd for ${[...programs, ...maps].filter((x) => x.fd <= 0).map((x) => x.name).join(', ')}`);
  }
  return obj;
}

/**
 * `BPF_LINK_CREATE` of an iterator program (`BPF_TRACE_ITER`) with the link
 * info bytes (`union bpf_iter_link_info`, or null): the link fd, the
 * caller's to close. The kernel's errno on refusal (ESRCH for a pid that
 * is not there, EINVAL for a bad link info).
 */
export function attachLightIter(prog: LightProgram, linkInfo: Uint8Array | null, linkInfoLen = linkInfo?.length ?? 0): number {
  const L = libbpf();
  const info = linkInfo ? Buffer.from(linkInfo) : null;
  const a = Buffer.alloc(32);
  a.writeUInt32LE(prog.fd, 0);
  a.writeUInt32LE(BPF_TRACE_ITER, 8);
  if (info) a.writeBigUInt64LE(L.addressOf(info), 16);
  a.writeUInt32LE(linkInfoLen, 24);
  return sysBpf(BPF_LINK_CREATE, a, `prog '${prog.name}': attach iter`);
}
