import { PAGE_SIZE } from '../uapi.js';
import type { KFile } from './file.js';

/**
 * `vm_flags` bits (include/linux/mm.h). `vm_flags` is an `unsigned long`;
 * the model holds it as a number, exact up to bit 52 (x86-64 uses none
 * above 42): test low bits with `&`, high ones with {@link vmFlagSet}.
 */
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;

/** Every bit a `vm_flags` number can hold (0..52). */
export const VM_FLAGS_ALL = 2 ** 53 - 1;

/** Whether bit `bit` (0..52) is set in a `vm_flags`-like number (works above bit 31, unlike `&`). */
export function vmFlagSet(flags: number, bit: number): boolean {
  return Math.floor(flags / 2 ** bit) % 2 === 1;
}

/**
 * A VMA as the walkers hand it out: a snapshot (the 2026 kernels'
 * `bpf_iter_task_vma` semantics), with the kernel's field names.
 * Addresses are below 2^53, so plain numbers are exact.
 */
export interface Vma {
  readonly vm_start: number;
  readonly vm_end: number;
  readonly vm_flags: number;
  /**
   * Bits of `vm_flags` the source could not learn (they read as 0 in
   * `vm_flags`); 0 when every bit is the kernel's. See docs/kernel-model.md
   * "Unknown values".
   */
  readonly vm_flags_unknown: number;
  /**
   * Offset in the file, in pages; for an anonymous mapping the kernel keeps
   * the virtual page number of its start there. `null` when the source
   * cannot know it (the host source for anonymous mappings: /proc/PID/maps
   * prints 0 for them).
   */
  readonly vm_pgoff: number | null;
  readonly vm_file: KFile | null;
  readonly vm_mm: MmStruct;
  /** Name `/proc/PID/maps` prints for a mapping without a file (`[heap]`, `[stack]`, `[vdso]`, `[anon:x]`), else null. */
  readonly name: string | null;
}

/**
 * A {@link Vma} value as the walkers and {@link MmStruct.vma} hand it out: every
 * field is a plain own data property (a copy, `{ ...vma }`, `JSON.stringify`
 * and `structuredClone` see all of them, like any other kernel object of the
 * model). A class, not an object literal: V8 pretenures a literal's allocation
 * site once many of its objects survive (a caller keeping snapshots), and every
 * later short-lived snapshot would then be allocated in the old generation.
 */
class VmaSnapshot implements Vma {
  // `declare`d and set in the constructor: a class field (or a parameter property, under ES2022's define
  // semantics) is first defined as undefined by an initializer, then set.
  declare readonly vm_start: number;
  declare readonly vm_end: number;
  declare readonly vm_flags: number;
  declare readonly vm_flags_unknown: number;
  declare readonly vm_pgoff: number | null;
  declare readonly vm_file: KFile | null;
  declare readonly vm_mm: MmStruct;
  declare readonly name: string | null;

  constructor(
    vm_start: number,
    vm_end: number,
    vm_flags: number,
    vm_flags_unknown: number,
    vm_pgoff: number | null,
    vm_file: KFile | null,
    vm_mm: MmStruct,
    name: string | null,
  ) {
    this.vm_start = vm_start;
    this.vm_end = vm_end;
    this.vm_flags = vm_flags;
    this.vm_flags_unknown = vm_flags_unknown;
    this.vm_pgoff = vm_pgoff;
    this.vm_file = vm_file;
    this.vm_mm = vm_mm;
    this.name = name;
  }
}

/**
 * Index of the first row of `l` (shifted by the biases at `biasAt` in the
 * layout's pool, -1: none) whose end is above `addr` (`find_vma`), or -1.
 */
export function findVmaIndexIn(l: VmaLayout, biasAt: number, addr: number): number {
  const end = l.end;
  const region = l.region;
  const bias = l.biasPool;
  // A walk from the bottom (addr 0, the usual start): the first row, without a search.
  if (l.count > 0 && (biasAt >= 0 ? end[0]! + bias[biasAt + region[0]!]! : end[0]!) > addr) return 0;
  let lo = 0;
  let hi = l.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((biasAt >= 0 ? end[mid]! + bias[biasAt + region[mid]!]! : end[mid]!) <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo < l.count ? lo : -1;
}

/**
 * A snapshot of row `i` of `l` (shifted by the biases at `biasAt`) as a VMA of `mm`: the
 * one place a {@link Vma} value is built ({@link MmStruct.vma}, the walkers).
 * Kept small (the rare pgoffs are {@link derivedPgoff}'s), so that V8 inlines
 * it into the loops that walk VMAs.
 */
export function vmaSnapshot(mm: MmStruct, l: VmaLayout, biasAt: number, i: number): Vma {
  const b = biasAt >= 0 ? l.biasPool[biasAt + l.region[i]!]! : 0;
  const start = l.start[i]! + b;
  const end = l.end[i]! + b;
  const p = l.pgoff[i]!;
  const u = l.flagsUnknown;
  return new VmaSnapshot(start, end, l.flags[i]!, u !== null ? u[i]! : 0, p >= 0 ? p : derivedPgoff(p, start, end), l.file[i]!, mm, l.name[i]!);
}

/** The pgoff of a row stored as {@link PGOFF_ANON}, {@link PGOFF_STACK} or NaN (unknown: null), for a VMA at `[start, end)`. */
function derivedPgoff(p: number, start: number, end: number): number | null {
  if (p === PGOFF_ANON) return start / PAGE_SIZE;
  if (p === PGOFF_STACK) return (STACK_TOP_MAX - (end - start)) / PAGE_SIZE;
  return Number.isNaN(p) ? null : p;
}

/** Appends `bias` to `l`'s pool of biases; returns its offset. */
function poolBiases(l: VmaLayout, bias: Float64Array): number {
  const at = l.biasUsed;
  if (at + bias.length > l.biasPool.length) {
    const bigger = new Float64Array(Math.max(l.biasPool.length * 2, at + bias.length, 16));
    bigger.set(l.biasPool.subarray(0, at));
    l.biasPool = bigger;
  }
  l.biasPool.set(bias, at);
  l.biasUsed = at + bias.length;
  return at;
}

const NO_BIASES = new Float64Array(0);

/**
 * VMAs stored column-wise. A layout may be shared by many address spaces
 * (the synthetic kernel gives every process of one program the same layout,
 * shifted per region by ASLR biases), so millions of VMAs take little memory.
 */
export interface VmaLayout {
  readonly count: number;
  readonly start: Float64Array;
  readonly end: Float64Array;
  /** vm_pgoff; {@link PGOFF_ANON} / {@link PGOFF_STACK}: computed per address space; NaN: unknown. */
  readonly pgoff: Float64Array;
  /** `vm_flags` (a Float64Array: the kernel's bits above 31 are kept). */
  readonly flags: Float64Array;
  /** Unknown `vm_flags` bits per VMA; null when every VMA's flags are fully known. */
  readonly flagsUnknown: Float64Array | null;
  /** Which bias (index into the address space's biases) shifts this VMA. */
  readonly region: Uint8Array;
  readonly file: readonly (KFile | null)[];
  readonly name: readonly (string | null)[];
  /**
   * The region biases of the address spaces reading this layout, packed one
   * after another (append-only: an mm keeps its offset, a fork shares it,
   * an mmap/munmap gives the mm a layout of its own). A walk reads them from
   * the shared layout instead of an object of each mm's own: one cache miss
   * less per address space.
   */
  biasPool: Float64Array;
  biasUsed: number;
}

/**
 * The pgoff of a layout row for an anonymous mapping: the kernel's
 * `vm_pgoff = addr >> PAGE_SHIFT`, kept as vm_start moves with splits and
 * growth, computed per address space (layouts are shared with biases).
 */
export const PGOFF_ANON = -1;

/**
 * The pgoff of the initial stack: set up at STACK_TOP_MAX and moved down by
 * the randomisation shift without changing its pgoff, then grown downwards
 * with it, so `(STACK_TOP_MAX - size) >> PAGE_SHIFT` (x86-64; seen on 6.18).
 */
export const PGOFF_STACK = -2;
const STACK_TOP_MAX = 0x7ffffffff000;

/** Builds a {@link VmaLayout} from rows sorted by address (pgoff `null`: unknown). */
export function vmaLayout(
  rows: readonly { start: number; end: number; flags: number; flagsUnknown?: number; pgoff?: number | null; file?: KFile | null; name?: string | null; region?: number }[],
): VmaLayout {
  const n = rows.length;
  const l = {
    count: n,
    start: new Float64Array(n),
    end: new Float64Array(n),
    pgoff: new Float64Array(n),
    flags: new Float64Array(n),
    flagsUnknown: rows.some((r) => r.flagsUnknown) ? new Float64Array(n) : null,
    region: new Uint8Array(n),
    file: new Array<KFile | null>(n),
    name: new Array<string | null>(n),
    biasPool: NO_BIASES,
    biasUsed: 0,
  };
  rows.forEach((r, i) => {
    l.start[i] = r.start;
    l.end[i] = r.end;
    l.pgoff[i] = r.pgoff === null ? NaN : (r.pgoff ?? 0);
    l.flags[i] = r.flags;
    if (l.flagsUnknown) l.flagsUnknown[i] = r.flagsUnknown ?? 0;
    l.region[i] = r.region ?? 0;
    l.file[i] = r.file ?? null;
    l.name[i] = r.name ?? null;
  });
  return l;
}

/**
 * An address space (`struct mm_struct`), shared by the threads of a process.
 * Reads go through the (possibly shared) layout plus biases; the first
 * mutation copies the layout (copy on write).
 */
export class MmStruct {
  // Declared in this order so that the fields a walk reads first (the lazy
  // load, the layout, the biases' offset, seq) sit together right after the
  // object's header: one cache line per address space more often than two.
  /** Reads the VMAs on first access (the lazy host source reads `/proc/PID/maps` then); null once run. */
  #load: ((mm: MmStruct) => VmaLayout) | null;
  #layout: VmaLayout;
  /** Where this mm's per-region biases start in the pool; -1 when the layout is its own. */
  #biasAt: number;
  /** Bumped by every mmap/munmap, so walkers can notice change. */
  seq = 0;
  /** Tasks using this mm. */
  users = 0;
  #biasLen: number;

  /**
   * @param load a source's reader of the VMAs, run once on the first access
   *   (the address space reads as `layout` until it returns)
   */
  constructor(layout: VmaLayout, bias: Float64Array | null = null, load: ((mm: MmStruct) => VmaLayout) | null = null) {
    this.#layout = layout;
    this.#biasAt = bias !== null ? poolBiases(layout, bias) : -1;
    this.#biasLen = bias !== null ? bias.length : 0;
    this.#load = load;
  }

  private get layout(): VmaLayout {
    if (this.#load) {
      const load = this.#load;
      this.#load = null;
      const before = this.#layout;
      const l = load(this);
      // The biases shift the loaded rows too: they move to the loaded layout's pool.
      if (this.#biasAt >= 0 && l !== before) this.#biasAt = poolBiases(l, before.biasPool.subarray(this.#biasAt, this.#biasAt + this.#biasLen));
      this.#layout = l;
    }
    return this.#layout;
  }

  /**
   * The layout as stored (possibly shared with other address spaces) and
   * this address space's per-region biases (null: the layout is its own);
   * reads a lazy address space. Snapshots keep the sharing with it.
   */
  layoutAndBias(): { layout: VmaLayout; bias: Float64Array | null } {
    const at = this.#biasAt;
    return { layout: this.layout, bias: at >= 0 ? this.layout.biasPool.slice(at, at + this.#biasLen) : null };
  }

  /** The layout as stored (reads a lazy address space); walkers keep it while {@link seq} is unchanged. */
  get vmaLayout(): VmaLayout {
    return this.layout;
  }

  /** Where the per-region biases of {@link vmaLayout} start in the pool ({@link findVmaIndexIn}, {@link vmaSnapshot}); -1 when the layout is this mm's own. */
  get vmaBiasAt(): number {
    return this.#biasAt;
  }

  /** False until a lazy address space has been read. */
  get loaded(): boolean {
    return this.#load === null;
  }

  get vmaCount(): number {
    return this.layout.count;
  }

  /** Start of VMA `i`. */
  startOf(i: number): number {
    const l = this.layout;
    return this.#biasAt >= 0 ? l.start[i]! + l.biasPool[this.#biasAt + l.region[i]!]! : l.start[i]!;
  }

  /** End of VMA `i`. */
  endOf(i: number): number {
    const l = this.layout;
    return this.#biasAt >= 0 ? l.end[i]! + l.biasPool[this.#biasAt + l.region[i]!]! : l.end[i]!;
  }

  /** Index of the first VMA whose end is above `addr` (`find_vma`), or -1. */
  findVmaIndex(addr: number): number {
    return findVmaIndexIn(this.layout, this.#biasAt, addr);
  }

  /** A snapshot of VMA `i`. */
  vma(i: number): Vma {
    return vmaSnapshot(this, this.layout, this.#biasAt, i);
  }

  /** The first VMA whose end is above `addr`, or null. */
  findVma(addr: number): Vma | null {
    const i = this.findVmaIndex(addr);
    return i < 0 ? null : this.vma(i);
  }

  /** All VMAs, in address order. */
  vmas(): Vma[] {
    const out: Vma[] = [];
    for (let i = 0; i < this.layout.count; i++) out.push(this.vma(i));
    return out;
  }

  /** Replaces the VMA list (used by mmap/munmap); the rows must be sorted and non-overlapping. */
  setVmas(rows: readonly Omit<Vma, 'vm_mm'>[]): void {
    this.#load = null;
    this.#layout = vmaLayout(
      rows.map((r) => ({ start: r.vm_start, end: r.vm_end, flags: r.vm_flags, flagsUnknown: r.vm_flags_unknown, pgoff: r.vm_pgoff, file: r.vm_file, name: r.name })),
    );
    this.#biasAt = -1;
    this.#biasLen = 0;
    this.seq++;
  }

  /**
   * This address space at a new place in memory: the same layout, biases,
   * lazy reader, `seq` and `users` (nothing a reader can tell apart). A
   * builder that creates address spaces among many other objects moves them
   * together afterwards, as the kernel keeps every `mm_struct` in its own
   * slab cache: a walk over many processes' address spaces then reads
   * neighbouring memory instead of one scattered cache line (and page) each.
   * The caller repoints every task using this one; it is not used again.
   */
  moved(): MmStruct {
    const m = new MmStruct(this.#layout, null, this.#load);
    m.#biasAt = this.#biasAt;
    m.#biasLen = this.#biasLen;
    m.seq = this.seq;
    m.users = this.users;
    return m;
  }

  /** A private copy for fork (shares the layout until either side changes). */
  fork(): MmStruct {
    const l = this.layout;
    const m = new MmStruct(l);
    // The biases never change: the copy reads the same ones.
    m.#biasAt = this.#biasAt;
    m.#biasLen = this.#biasLen;
    return m;
  }
}
