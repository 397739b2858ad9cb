/**
 * A BPF object file on the real kernel, through libbpf: `bpf_object__open_file`,
 * its programs and maps, its globals typed from BTF (settable before load,
 * live after), `bpf_object__load` and `bpf_object__close`. `.bpf.c` sources
 * are compiled first (see {@link compileBpfSource}).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BpfError, fail } from '../errors.js';
import { Btf } from './btf.js';
import { compileBpfSource } from './compile.js';
import { checkInt, checkPtr, libbpf, libbpfError, type Ptr } from './ffi.js';
import { sectionObject, sectionVars, type GlobalValue, type GlobalVar, type SectionMemory } from './globals.js';

/** Lifecycle of a {@link BpfObject}. */
export type BpfObjectState = 'opened' | 'loaded' | 'closed';

/** A program of a {@link BpfObject} (`struct bpf_program`). */
export class BpfObjectProgram {
  /** Function name (`bpf_program__name`). */
  readonly name: string;
  /** ELF section (`bpf_program__section_name`), e.g. `iter/task_file`. */
  readonly section: string;
  /** @internal */
  constructor(
    readonly object: BpfObject,
    /** @internal */ readonly ptr: Ptr,
  ) {
    const L = libbpf();
    this.name = L.bpf_program__name(ptr);
    this.section = L.bpf_program__section_name(ptr);
  }
  /** The iterator target from `iter/<target>` / `iter.s/<target>`, or null for another kind of program. */
  get target(): string | null {
    const m = /^iter(?:\.s)?\/(.+)$/.exec(this.section);
    return m ? m[1]! : null;
  }
  /** `SEC("iter.s/...")`. */
  get sleepable(): boolean {
    return this.section.startsWith('iter.s/');
  }
  /** Whether `load()` loads this program (`bpf_program__autoload`); settable before load. */
  get autoload(): boolean {
    this.object.checkOpen();
    return libbpf().bpf_program__autoload(this.ptr);
  }
  set autoload(v: boolean) {
    this.object.checkOpen();
    checkInt(`prog '${this.name}': set autoload`, () => libbpf().bpf_program__set_autoload(this.ptr, v));
  }
  /** The program fd (`bpf_program__fd`): EINVAL before load or when not loaded, EBADF after close. */
  get fd(): number {
    this.object.checkOpen();
    const fd = libbpf().bpf_program__fd(this.ptr);
    if (fd < 0) fail('EINVAL', `prog '${this.name}': no fd (was it loaded?)`);
    return fd;
  }
  /** True once the object is loaded and this program with it. */
  get loaded(): boolean {
    return this.object.state === 'loaded' && libbpf().bpf_program__fd(this.ptr) >= 0;
  }
}

/** A map of a {@link BpfObject} (`struct bpf_map`). */
export class BpfObjectMap {
  readonly name: string;
  /** @internal */
  constructor(
    readonly object: BpfObject,
    /** @internal */ readonly ptr: Ptr,
  ) {
    this.name = libbpf().bpf_map__name(ptr);
  }
  /** The map fd after load (EINVAL before). */
  get fd(): number {
    this.object.checkOpen();
    const fd = libbpf().bpf_map__fd(this.ptr);
    if (fd < 0) fail('EINVAL', `map '${this.name}': no fd (was the object loaded?)`);
    return fd;
  }
}

/** One global section: memory before load (the initial image) and after (the map value). */
class GlobalSection implements SectionMemory {
  private image: Buffer;
  dirty = false;
  constructor(
    private readonly object: BpfObject,
    readonly sec: string,
    readonly map: Ptr,
    readonly vars: readonly GlobalVar[],
  ) {
    const L = libbpf();
    const psize = Buffer.alloc(8);
    const p = L.bpf_map__initial_value(map, psize);
    const size = Number(psize.readBigUInt64LE(0));
    this.image = p ? L.copy(p, size) : Buffer.alloc(L.bpf_map__value_size(map));
  }
  bytes(): Buffer {
    this.object.checkOpen();
    if (this.object.state === 'opened') return Buffer.from(this.image);
    const L = libbpf();
    const v = Buffer.alloc(L.bpf_map__value_size(this.map));
    checkInt(`read ${this.sec}`, () => L.bpf_map_lookup_elem(L.bpf_map__fd(this.map), Buffer.alloc(4), v));
    return v;
  }
  store(offset: number, data: Buffer): void {
    this.object.checkOpen();
    if (this.object.state === 'opened') {
      data.copy(this.image, offset);
      this.dirty = true;
      return;
    }
    const L = libbpf();
    const v = this.bytes();
    data.copy(v, offset);
    // After load .rodata is frozen: the kernel answers EPERM.
    checkInt(`write ${this.sec}`, () => L.bpf_map_update_elem(L.bpf_map__fd(this.map), Buffer.alloc(4), v, 0n));
  }
  /** Before load: hands the image to libbpf (`bpf_map__set_initial_value`). */
  flush(): void {
    if (!this.dirty) return;
    checkInt(`set ${this.sec} initial value`, () => libbpf().bpf_map__set_initial_value(this.map, this.image, this.image.length));
    this.dirty = false;
  }
}

/** Options of {@link openObject}. */
export interface OpenObjectOptions {
  /** Where compiled `.bpf.c` objects are cached (default `$BPF_ITER_CACHE`, `$XDG_CACHE_HOME/bpf-iter` or `~/.cache/bpf-iter`). */
  cacheDir?: string;
}

/**
 * An opened BPF object (`struct bpf_object`). Set globals, pick programs
 * (`autoload`), then {@link load}; close exactly once with {@link close}
 * (or `using`). Links and iterator fds made from it stay valid after close.
 */
export class BpfObject implements Disposable {
  /** The `.bpf.o` libbpf opened (the cached object for a `.bpf.c`). */
  readonly path: string;
  /** The `.bpf.c` it was compiled from, if any. */
  readonly source: string | null;
  /** The object's BTF (its types and DATASECs). */
  readonly btf: Btf;
  readonly programs: readonly BpfObjectProgram[];
  readonly maps: readonly BpfObjectMap[];
  private _state: BpfObjectState = 'opened';
  private ptr: Ptr | null;
  private readonly sections = new Map<string, GlobalSection>();
  private readonly views = new Map<string, Record<string, GlobalValue>>();

  /** @internal use {@link openObject}. */
  constructor(path: string, source: string | null) {
    this.path = path;
    this.source = source;
    const L = libbpf();
    this.ptr = checkPtr(`open ${path}`, () => L.bpf_object__open_file(path, null));
    try {
      const progs: BpfObjectProgram[] = [];
      for (let p = L.bpf_object__next_program(this.ptr, null); p; p = L.bpf_object__next_program(this.ptr, p)) progs.push(new BpfObjectProgram(this, p));
      this.programs = progs;
      const maps: BpfObjectMap[] = [];
      for (let m = L.bpf_object__next_map(this.ptr, null); m; m = L.bpf_object__next_map(this.ptr, m)) maps.push(new BpfObjectMap(this, m));
      this.maps = maps;
      const btf = L.bpf_object__btf(this.ptr);
      if (!btf) fail('ENOENT', `${path}: no BTF (compile with -g)`);
      const size = Buffer.alloc(4);
      const raw = L.btf__raw_data(btf, size);
      if (!raw) throw libbpfError(L.errno(), `${path}: btf__raw_data`);
      this.btf = new Btf(L.copy(raw, size.readUInt32LE(0)));
      for (const sec of ['.bss', '.data', '.rodata']) {
        const m = L.bpf_object__find_map_by_name(this.ptr, sec);
        if (m) this.sections.set(sec, new GlobalSection(this, sec, m, sectionVars(this.btf, sec)));
      }
    } catch (e) {
      L.bpf_object__close(this.ptr);
      this.ptr = null;
      this._state = 'closed';
      throw e;
    }
  }

  get state(): BpfObjectState {
    return this._state;
  }

  /** @internal EBADF once closed. */
  checkOpen(): void {
    if (this._state === 'closed') fail('EBADF', `bpf object ${this.path} is closed`);
  }

  /** The program named `name`: ENOENT naming the ones there are. */
  program(name: string): BpfObjectProgram {
    this.checkOpen();
    const p = this.programs.find((x) => x.name === name);
    if (!p) fail('ENOENT', `no program '${name}' in ${this.source ?? this.path} (has: ${this.programs.map((x) => x.name).join(', ') || 'none'})`);
    return p;
  }

  /** The first `SEC("iter/...")` program: ENOENT when there is none. */
  firstIterProgram(): BpfObjectProgram {
    this.checkOpen();
    const p = this.programs.find((x) => x.target !== null);
    if (!p) fail('ENOENT', `can't find an iter/ program in ${this.source ?? this.path}`);
    return p;
  }

  /** The map named `name` (`bpf_object__find_map_by_name`; `.bss` etc. by section): ENOENT. */
  map(name: string): BpfObjectMap {
    this.checkOpen();
    const L = libbpf();
    const ptr = L.bpf_object__find_map_by_name(this.ptr!, name);
    const real = ptr ? L.bpf_map__name(ptr) : null;
    const m = real === null ? undefined : this.maps.find((x) => x.name === real);
    if (!m) fail('ENOENT', `no map '${name}' in ${this.source ?? this.path} (has: ${this.maps.map((x) => x.name).join(', ') || 'none'})`);
    return m;
  }

  /** The variables of a global section (`.bss`, `.data`, `.rodata`) with their C types and offsets. */
  globals(sec: '.bss' | '.data' | '.rodata'): readonly GlobalVar[] {
    return this.sections.get(sec)?.vars ?? [];
  }

  private section(sec: string): Record<string, GlobalValue> {
    this.checkOpen();
    let v = this.views.get(sec);
    if (!v) {
      const s = this.sections.get(sec);
      v = s ? sectionObject(this.btf, sec, s.vars, s) : sectionObject(this.btf, sec, [], { bytes: () => Buffer.alloc(0), store: () => fail('ENOENT', `no ${sec} section`) });
      this.views.set(sec, v);
    }
    return v;
  }

  /** `skel->bss`: zero-initialised globals (`int target_pid = 0;`). Before load they set the initial value; after load they read and write the live map. */
  get bss(): Record<string, GlobalValue> {
    return this.section('.bss');
  }
  /** `skel->data`: initialised globals. */
  get data(): Record<string, GlobalValue> {
    return this.section('.data');
  }
  /** `skel->rodata`: `const volatile` globals; settable before load only (the kernel freezes the map: EPERM after). */
  get rodata(): Record<string, GlobalValue> {
    return this.section('.rodata');
  }

  /**
   * `bpf_object__load`: verifies and loads the programs whose `autoload`
   * is set, creating the maps with the globals set so far. EALREADY-like
   * misuse is EINVAL; a verifier rejection carries the errno and the log's
   * last lines.
   */
  load(): this {
    this.checkOpen();
    if (this._state === 'loaded') fail('EINVAL', `bpf object ${this.path} is already loaded`);
    for (const s of this.sections.values()) s.flush();
    checkInt(`load ${this.source ?? this.path}`, () => libbpf().bpf_object__load(this.ptr!));
    this._state = 'loaded';
    return this;
  }

  /** `bpf_object__close`: closes the program and map fds (links and iterator fds keep what they use). Idempotent. */
  close(): void {
    if (this._state === 'closed') return;
    this._state = 'closed';
    const p = this.ptr!;
    this.ptr = null;
    libbpf().bpf_object__close(p);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens a BPF object for the real kernel: a `.bpf.o`, or a `.bpf.c`
 * compiled with clang against this kernel's BTF (cached by content hash).
 * Throws ENOENT for a missing file, the compiler's error as EINVAL, the
 * errno of `bpf_object__open_file` with libbpf's lines.
 *
 * @example
 * ```ts
 * using obj = openObject('examples/bpf/bpf_iter_task_ex.bpf.c');
 * obj.bss.target_pid = process.pid;
 * obj.load();
 * ```
 *
 * @throws {@link BpfError}: ENOENT (no such file), EINVAL (clang's error), or the
 * errno of `bpf_object__open_file` (with libbpf's lines in the message).
 */
export function openObject(path: string, opts: OpenObjectOptions = {}): BpfObject {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new BpfError('ENOENT', `no such file: ${path}`);
  if (abs.endsWith('.c')) return new BpfObject(compileBpfSource(abs, opts.cacheDir), abs);
  return new BpfObject(abs, null);
}
