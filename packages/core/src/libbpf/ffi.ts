/**
 * The one FFI module: the system's libbpf (`libbpf.so.1`, Debian `libbpf1`)
 * and three libc calls, bound with koffi the first time {@link libbpf} is
 * called (importing the library never loads koffi).
 *
 * Conventions kept from libbpf 1.x: functions returning a pointer return
 * NULL and set `errno`; functions returning `int` return `-errno`.
 * {@link call} turns both into a thrown {@link BpfError} carrying the errno
 * name and the last lines libbpf printed (the verifier log on a load
 * failure), captured through `libbpf_set_print`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BpfError, ERRNO, errnoName, type ErrnoName } from '../errors.js';

/** Opaque libbpf pointer (`struct bpf_object *`, `struct bpf_program *`...). */
export type Ptr = object;

/** The bound functions (names as in libbpf.h / bpf.h). */
export interface LibbpfApi {
  bpf_object__open_file(path: string, opts: null): Ptr | null;
  bpf_object__load(obj: Ptr): number;
  bpf_object__close(obj: Ptr): void;
  bpf_object__next_program(obj: Ptr, prev: Ptr | null): Ptr | null;
  bpf_object__find_program_by_name(obj: Ptr, name: string): Ptr | null;
  bpf_object__next_map(obj: Ptr, prev: Ptr | null): Ptr | null;
  bpf_object__find_map_by_name(obj: Ptr, name: string): Ptr | null;
  bpf_object__btf(obj: Ptr): Ptr | null;
  btf__raw_data(btf: Ptr, size: Buffer): Ptr | null;
  bpf_program__name(prog: Ptr): string;
  bpf_program__section_name(prog: Ptr): string;
  bpf_program__fd(prog: Ptr): number;
  bpf_program__set_autoload(prog: Ptr, autoload: boolean): number;
  bpf_program__autoload(prog: Ptr): boolean;
  bpf_program__attach_iter(prog: Ptr, opts: { sz: number; link_info: Buffer | null; link_info_len: number }): Ptr | null;
  bpf_map__name(map: Ptr): string;
  bpf_map__fd(map: Ptr): number;
  bpf_map__value_size(map: Ptr): number;
  bpf_map__initial_value(map: Ptr, psize: Buffer): Ptr | null;
  bpf_map__set_initial_value(map: Ptr, data: Buffer, size: number): number;
  bpf_link__fd(link: Ptr): number;
  bpf_link__pin(link: Ptr, path: string): number;
  bpf_link__unpin(link: Ptr): number;
  bpf_link__destroy(link: Ptr): number;
  bpf_link__update_program(link: Ptr, prog: Ptr): number;
  bpf_iter_create(link_fd: number): number;
  bpf_link_update(link_fd: number, new_prog_fd: number, opts: { sz: number; flags: number; old_prog_fd: number }): number;
  bpf_obj_get_info_by_fd(fd: number, info: Buffer, info_len: Buffer): number;
  bpf_obj_get(path: string): number;
  bpf_map_lookup_elem(fd: number, key: Buffer, value: Buffer): number;
  bpf_map_update_elem(fd: number, key: Buffer, value: Buffer, flags: bigint): number;
  bpf_prog_get_next_id(start: number, next: Buffer): number;
  bpf_map_get_next_id(start: number, next: Buffer): number;
  bpf_link_get_next_id(start: number, next: Buffer): number;
  bpf_prog_get_fd_by_id(id: number): number;
  bpf_map_get_fd_by_id(id: number): number;
  bpf_link_get_fd_by_id(id: number): number;
  libbpf_version_string(): string;
  /** `bpf_object__gen_loader(obj, opts)`: `load()` then writes a loader program into `opts` instead of loading (see light.ts). */
  bpf_object__gen_loader(obj: Ptr, opts: Buffer): number;
  /** The `bpf(2)` syscall: `cmd` with the `union bpf_attr` bytes of `attr`; an fd / 0, or -errno. ENOSYS where the syscall number is not known. */
  sys_bpf(cmd: number, attr: Buffer): number;
  /** Copies `len` bytes at the address `addr` (a pointer libbpf wrote into a struct) into a new Buffer. */
  copyFrom(addr: bigint, len: number): Buffer;
  /** `pidfd_open(pid, 0)` (syscall 434): an fd or -errno. */
  pidfd_open(pid: number): number;
  /** Copies `len` bytes at `ptr` into a new Buffer. */
  copy(ptr: Ptr, len: number): Buffer;
  /** The address of a Buffer's bytes (for pointers inside structs, e.g. `bpf_link_info.iter.target_name`). */
  addressOf(buf: Buffer): bigint;
  /** The thread's `errno` after the last call. */
  errno(): number;
}

/**
 * One binding per process: koffi's types and libbpf's print callback are
 * process-wide, and the bin's bundles (each with its own copy of this
 * module) may each reach libbpf in one command; a second `koffi.struct` of
 * the same name throws. The binding and what libbpf printed live on
 * `globalThis` under a registered symbol.
 */
const shared = ((globalThis as { [k: symbol]: unknown })[Symbol.for('@bpf-iter/core libbpf')] ??= {
  api: null,
  printed: [],
}) as { api: LibbpfApi | null; printed: string[] };

/** Messages libbpf printed (WARN and INFO; DEBUG is not requested), newest last, at most 400 lines. */
const printed: string[] = shared.printed;
const MAX_PRINTED = 400;

let loadError: BpfError | null = null;

/**
 * The bound libbpf. Throws ENOENT (with the reason) when koffi or
 * `libbpf.so.1` cannot be loaded; the failure is remembered.
 */
export function libbpf(): LibbpfApi {
  if (shared.api) return shared.api;
  if (loadError) throw loadError;
  try {
    shared.api = bind();
    return shared.api;
  } catch (e) {
    loadError = new BpfError('ENOENT', `cannot load libbpf.so.1 through koffi (apt-get install libbpf1): ${(e as Error).message}`, { cause: e });
    throw loadError;
  }
}

/** `ENOSYS` (not in ERRNO: only this module answers it, and only the light loader sees it). */
const ENOSYS = 38;

/** `__NR_bpf` by `process.arch` (arm64, riscv64 and loong64 share the generic table). */
const SYS_BPF: Partial<Record<string, number>> = { x64: 321, ia32: 357, arm64: 280, arm: 386, riscv64: 280, loong64: 280, ppc64: 361, s390x: 351 };

/** koffi's own folder names for `process.arch` (its `build/koffi/<platform>_<arch>/koffi.node`). */
const KOFFI_ARCH: Partial<Record<string, string>> = { x64: 'x64', ia32: 'ia32', arm64: 'arm64', loong64: 'loong64' };

/**
 * koffi's native addon. Its `index.js` first loads the download tool of its
 * installer (https, tls, zlib, crypto: ~15 ms of start-up) before finding the
 * addon; the addon, at the path index.js tries first, is the same API less
 * deprecated aliases. Anything unexpected (another platform, musl, a version
 * mismatch) takes the package's own entry.
 */
function loadKoffi(req: NodeJS.Require): typeof import('koffi') {
  const arch = KOFFI_ARCH[process.arch];
  if (process.platform === 'linux' && arch) {
    try {
      const dir = dirname(req.resolve('koffi/package.json'));
      const pkg = req(join(dir, 'package.json')) as { version?: string };
      const native = req(join(dir, 'build', 'koffi', `linux_${arch}`, 'koffi.node')) as typeof import('koffi') & { version?: string };
      if (native.version === pkg.version) return native;
    } catch {
      // not where index.js looks first: its own search below
    }
  }
  return req('koffi') as typeof import('koffi');
}

function bind(): LibbpfApi {
  // createRequire keeps koffi (a native addon) out of every import graph until first use.
  const req = createRequire(typeof __filename !== 'undefined' ? __filename : (import.meta as { url: string }).url);
  const koffi = loadKoffi(req);
  const lib = koffi.load('libbpf.so.1');
  const libc = koffi.load('libc.so.6');
  const P = 'void *';
  // Bound on first call: a command uses a few of these, and each declaration is parsed by koffi.
  const f = (decl: string) => {
    let fn: ((...a: unknown[]) => unknown) | null = null;
    return (...a: unknown[]) => (fn ??= lib.func(decl))(...a);
  };

  const IterAttachOpts = koffi.struct('bpf_iter_attach_opts', { sz: 'size_t', link_info: P, link_info_len: 'uint32_t' });
  const LinkUpdateOpts = koffi.struct('bpf_link_update_opts', { sz: 'size_t', flags: 'uint32_t', old_prog_fd: 'uint32_t' });

  // libbpf_set_print: format each message with libc's vsnprintf over the va_list libbpf hands us.
  const vsnprintf = libc.func('int vsnprintf(_Out_ uint8_t *buf, size_t n, void *fmt, void *ap)');
  const PrintFn = koffi.proto('int libbpf_print_fn_t(int level, void *fmt, void *ap)');
  // One message can be a whole verifier log: a large buffer, allocated at the first message (most
  // commands print none; 1 MiB of fresh pages costs ms to fault in); a longer one is marked.
  let msg: Buffer | null = null;
  const cb = koffi.register((level: number, fmt: unknown, ap: unknown) => {
    if (level > 1) return 0; // LIBBPF_DEBUG
    msg ??= Buffer.allocUnsafe(1 << 20);
    const n = vsnprintf(msg, msg.length, fmt, ap) as number;
    if (n > 0) {
      for (const line of msg.subarray(0, Math.min(n, msg.length - 1)).toString('utf8').split('\n')) if (line) printed.push(line);
      if (n >= msg.length) printed.push(`(libbpf message truncated: ${n} bytes)`);
      if (printed.length > MAX_PRINTED) printed.splice(0, printed.length - MAX_PRINTED);
    }
    return 0;
  }, koffi.pointer(PrintFn));
  lib.func('void *libbpf_set_print(libbpf_print_fn_t *fn)')(cb);

  const errnoFn = () => koffi.errno();
  const syscall = libc.func('long syscall(long number, ...)');
  const SYS_pidfd_open = 434; // same number on every architecture (unified syscall table)
  const SYS_bpf = SYS_BPF[process.arch];
  const memcpy = libc.func('void *memcpy(_Out_ uint8_t *dst, uintptr_t src, size_t n)');
  return {
    bpf_object__open_file: f('void *bpf_object__open_file(const char *path, void *opts)'),
    bpf_object__load: f('int bpf_object__load(void *obj)'),
    bpf_object__close: f('void bpf_object__close(void *obj)'),
    bpf_object__next_program: f('void *bpf_object__next_program(void *obj, void *prev)'),
    bpf_object__find_program_by_name: f('void *bpf_object__find_program_by_name(void *obj, const char *name)'),
    bpf_object__next_map: f('void *bpf_object__next_map(void *obj, void *prev)'),
    bpf_object__find_map_by_name: f('void *bpf_object__find_map_by_name(void *obj, const char *name)'),
    bpf_object__btf: f('void *bpf_object__btf(void *obj)'),
    btf__raw_data: f('void *btf__raw_data(void *btf, _Out_ uint8_t *size)'),
    bpf_program__name: f('const char *bpf_program__name(void *prog)'),
    bpf_program__section_name: f('const char *bpf_program__section_name(void *prog)'),
    bpf_program__fd: f('int bpf_program__fd(void *prog)'),
    bpf_program__set_autoload: f('int bpf_program__set_autoload(void *prog, bool autoload)'),
    bpf_program__autoload: f('bool bpf_program__autoload(void *prog)'),
    bpf_program__attach_iter: lib.func('bpf_program__attach_iter', P, [P, koffi.pointer(IterAttachOpts)]),
    bpf_map__name: f('const char *bpf_map__name(void *map)'),
    bpf_map__fd: f('int bpf_map__fd(void *map)'),
    bpf_map__value_size: f('uint32_t bpf_map__value_size(void *map)'),
    bpf_map__initial_value: f('void *bpf_map__initial_value(void *map, _Out_ uint8_t *psize)'),
    bpf_map__set_initial_value: f('int bpf_map__set_initial_value(void *map, const uint8_t *data, size_t size)'),
    bpf_link__fd: f('int bpf_link__fd(void *link)'),
    bpf_link__pin: f('int bpf_link__pin(void *link, const char *path)'),
    bpf_link__unpin: f('int bpf_link__unpin(void *link)'),
    bpf_link__destroy: f('int bpf_link__destroy(void *link)'),
    bpf_link__update_program: f('int bpf_link__update_program(void *link, void *prog)'),
    bpf_iter_create: f('int bpf_iter_create(int link_fd)'),
    bpf_link_update: lib.func('bpf_link_update', 'int', ['int', 'int', koffi.pointer(LinkUpdateOpts)]),
    bpf_obj_get_info_by_fd: f('int bpf_obj_get_info_by_fd(int fd, _Inout_ uint8_t *info, _Inout_ uint8_t *info_len)'),
    bpf_obj_get: f('int bpf_obj_get(const char *path)'),
    bpf_map_lookup_elem: f('int bpf_map_lookup_elem(int fd, const uint8_t *key, _Out_ uint8_t *value)'),
    bpf_map_update_elem: f('int bpf_map_update_elem(int fd, const uint8_t *key, const uint8_t *value, uint64_t flags)'),
    bpf_prog_get_next_id: f('int bpf_prog_get_next_id(uint32_t start, _Out_ uint8_t *next)'),
    bpf_map_get_next_id: f('int bpf_map_get_next_id(uint32_t start, _Out_ uint8_t *next)'),
    bpf_link_get_next_id: f('int bpf_link_get_next_id(uint32_t start, _Out_ uint8_t *next)'),
    bpf_prog_get_fd_by_id: f('int bpf_prog_get_fd_by_id(uint32_t id)'),
    bpf_map_get_fd_by_id: f('int bpf_map_get_fd_by_id(uint32_t id)'),
    bpf_link_get_fd_by_id: f('int bpf_link_get_fd_by_id(uint32_t id)'),
    libbpf_version_string: f('const char *libbpf_version_string(void)'),
    bpf_object__gen_loader: f('int bpf_object__gen_loader(void *obj, uint8_t *opts)'),
    sys_bpf: (cmd: number, attr: Buffer) => {
      if (SYS_bpf === undefined) return -ENOSYS;
      const r = Number(syscall(SYS_bpf, 'int', cmd, 'void *', attr, 'unsigned int', attr.length));
      return r < 0 ? -koffi.errno() : r;
    },
    copyFrom: (addr: bigint, len: number) => {
      const b = Buffer.alloc(len);
      if (len) memcpy(b, addr, len);
      return b;
    },
    copy: (ptr, len) => Buffer.from(new Uint8Array(koffi.view(ptr, len)).slice()),
    pidfd_open: (pid: number) => {
      const r = Number(syscall(SYS_pidfd_open, 'int', pid, 'unsigned int', 0));
      return r < 0 ? -koffi.errno() : r;
    },
    addressOf: (buf) => koffi.address(buf),
    errno: errnoFn,
  } as LibbpfApi;
}

/** Marks the start of an operation: the lines printed after it explain its failure. */
export function printMark(): number {
  return printed.length;
}

/** The lines libbpf printed since `mark` (at most `max`, the last ones). */
export function printedSince(mark: number, max = 12): string[] {
  return printed.slice(Math.max(mark, 0)).slice(-max);
}

/** An errno name for a positive or negative errno value (EINVAL when not one we name). */
export function errnoOf(value: number): ErrnoName {
  return errnoName(value) ?? 'EINVAL';
}

/** A {@link BpfError} for `-errno` / `errno`, with what failed and the libbpf lines printed since `mark`. */
export function libbpfError(err: number, what: string, mark = printed.length): BpfError {
  const n = Math.abs(err);
  const name = errnoName(n);
  const log = printedSince(mark);
  const why = reason(printed.slice(Math.max(mark, 0)));
  const tail = log.length ? `\n${log.map((l) => `  ${l}`).join('\n')}` : '';
  return new BpfError(name ?? 'EINVAL', `${what}${name ? '' : ` (errno ${n})`}${why ? `: ${why}` : ''}${tail}`);
}

/**
 * The line that says why, for the error's first line: the verifier's
 * verdict (the last log line before its statistics), else libbpf's first line.
 */
function reason(lines: readonly string[]): string | null {
  const end = lines.findIndex((l) => l.includes('-- END PROG LOAD LOG --'));
  if (end > 0) {
    let none = false;
    for (let i = end - 1; i >= 0 && !lines[i]!.includes('-- BEGIN PROG LOAD LOG --'); i--) {
      const l = lines[i]!.trim();
      if (/^processed 0 insns/.test(l)) none = true;
      if (l && !/^(processed \d+ insns|verification time|stack depth|mark_precise)/.test(l)) return `verifier: ${l}`;
    }
    // Refused in the checks before the first instruction (attach target, BTF), with no message:
    // libbpf's hint for EPERM ('ulimit -l') does not apply.
    if (none) return 'verifier: refused before the first instruction (processed 0 insns, no message): the kernel does not accept this attach target';
  }
  const first = lines.find((l) => l.startsWith('libbpf: '));
  return first ? first.slice(8) : null;
}

/** Runs an int-returning libbpf call; throws on a negative return. */
export function checkInt(what: string, fn: () => number): number {
  const mark = printMark();
  const r = fn();
  if (r < 0) throw libbpfError(r, what, mark);
  return r;
}

/** Runs a pointer-returning libbpf call; throws with `errno` on NULL. */
export function checkPtr(what: string, fn: () => Ptr | null): Ptr {
  const mark = printMark();
  const p = fn();
  if (!p) throw libbpfError(libbpf().errno() || ERRNO.EINVAL, what, mark);
  return p;
}
