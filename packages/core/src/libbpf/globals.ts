/**
 * An object's global variables as JS properties typed from its BTF: the
 * skeleton's `skel->bss->target_pid`. Each section (`.bss`, `.data`,
 * `.rodata`) is one array map with one value; before load its bytes are
 * the initial image (`bpf_map__initial_value`, written back with
 * `bpf_map__set_initial_value`), after load the live map value (key 0).
 *
 * Types: integers ≤ 32 bits, enums and floats are numbers; 64-bit integers
 * and pointers are bigints; `bool` is a boolean; `char[N]` is a string
 * (NUL-terminated; longer strings are E2BIG); other arrays are arrays
 * (assign the whole array); structs and unions are live objects whose
 * members read and write through. Bitfields and void-sized types are not
 * mapped (EOPNOTSUPP on access).
 */
import { BpfError, fail } from '../errors.js';
import { BTF_KIND, type Btf, type BtfType } from './btf.js';

/** A value of a global variable. */
export type GlobalValue = number | bigint | boolean | string | GlobalValue[] | { [member: string]: GlobalValue };

/** Where a section's bytes live (see the module doc). */
export interface SectionMemory {
  /** The section's current bytes (a copy). */
  bytes(): Buffer;
  /** Writes `data` at `offset`. Throws the kernel's errno (EPERM for a frozen `.rodata`). */
  store(offset: number, data: Buffer): void;
}

/** One variable of a section. */
export interface GlobalVar {
  name: string;
  /** C type (`int`, `char[16]`...). */
  type: string;
  typeId: number;
  offset: number;
  size: number;
}

const INT_SIGNED = 1;
const INT_CHAR = 2;
const INT_BOOL = 4;

function isCharType(btf: Btf, id: number): boolean {
  const t = btf.resolve(id);
  return !!t && t.kind === BTF_KIND.INT && t.sizeOrType === 1 && (!!(t.int!.encoding & INT_CHAR) || t.name === 'char' || t.name === 'unsigned char' || t.name === 'signed char');
}

function sizeOf(btf: Btf, t: BtfType | null): number {
  if (!t) return 0;
  switch (t.kind) {
    case BTF_KIND.PTR:
      return 8;
    case BTF_KIND.ARRAY:
      return t.array!.nelems * sizeOf(btf, btf.resolve(t.array!.type));
    default:
      return t.sizeOrType;
  }
}

/** Decodes the value of type `id` at `buf[off…]`; `live` makes struct members read/write through `mem`. */
function decode(btf: Btf, id: number, buf: Buffer, off: number, live: { mem: SectionMemory } | null, what: string): GlobalValue {
  const t = btf.resolve(id);
  if (!t) fail('EOPNOTSUPP', `${what}: void type`);
  switch (t.kind) {
    case BTF_KIND.INT: {
      const size = t.sizeOrType;
      const signed = (t.int!.encoding & INT_SIGNED) !== 0;
      if (t.int!.encoding & INT_BOOL) return buf[off] !== 0;
      if (size === 8) return signed ? buf.readBigInt64LE(off) : buf.readBigUInt64LE(off);
      if (size === 1 || size === 2 || size === 4) return signed ? buf.readIntLE(off, size) : buf.readUIntLE(off, size);
      fail('EOPNOTSUPP', `${what}: ${size}-byte integers are not mapped`);
    }
    case BTF_KIND.ENUM:
      return t.kindFlag ? buf.readIntLE(off, t.sizeOrType) : buf.readUIntLE(off, t.sizeOrType);
    case BTF_KIND.ENUM64:
      return t.kindFlag ? buf.readBigInt64LE(off) : buf.readBigUInt64LE(off);
    case BTF_KIND.PTR:
      return buf.readBigUInt64LE(off);
    case BTF_KIND.FLOAT:
      return t.sizeOrType === 4 ? buf.readFloatLE(off) : buf.readDoubleLE(off);
    case BTF_KIND.ARRAY: {
      const { type, nelems } = t.array!;
      if (isCharType(btf, type)) {
        const end = buf.indexOf(0, off);
        return buf.toString('utf8', off, end < 0 || end > off + nelems ? off + nelems : end);
      }
      const es = sizeOf(btf, btf.resolve(type));
      return Array.from({ length: nelems }, (_, i) => decode(btf, type, buf, off + i * es, null, `${what}[${i}]`));
    }
    case BTF_KIND.STRUCT:
    case BTF_KIND.UNION: {
      if (live) return structView(btf, t, live.mem, off, what);
      const o: Record<string, GlobalValue> = {};
      for (const m of t.members!) if (m.name && !m.bitSize) o[m.name] = decode(btf, m.type, buf, off + m.bitOffset / 8, null, `${what}.${m.name}`);
      return o;
    }
    default:
      fail('EOPNOTSUPP', `${what}: ${btf.typeName(id)} is not mapped`);
  }
}

/** Encodes `v` as type `id` into `buf[off…]` (in place); EINVAL for a wrong type or out-of-range value. */
function encode(btf: Btf, id: number, buf: Buffer, off: number, v: unknown, what: string): void {
  const t = btf.resolve(id);
  if (!t) fail('EOPNOTSUPP', `${what}: void type`);
  const bad = (why: string): never => fail('EINVAL', `${what} (${btf.typeName(id)}): ${why}`);
  const int = (size: number, signed: boolean) => {
    if (typeof v === 'boolean') v = v ? 1 : 0;
    if (typeof v !== 'number' && typeof v !== 'bigint') bad(`expected a number, got ${typeof v}`);
    if (typeof v === 'number' && !Number.isInteger(v)) bad(`${v} is not an integer`);
    const n = BigInt(v as number | bigint);
    const bits = BigInt(size * 8);
    const lo = signed ? -(1n << (bits - 1n)) : 0n;
    const hi = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
    if (n < lo || n > hi) bad(`${n} out of range [${lo}, ${hi}]`);
    const u = BigInt.asUintN(size * 8, n);
    for (let i = 0; i < size; i++) buf[off + i] = Number((u >> BigInt(8 * i)) & 0xffn);
  };
  switch (t.kind) {
    case BTF_KIND.INT:
      if (t.int!.encoding & INT_BOOL) {
        if (typeof v !== 'boolean' && v !== 0 && v !== 1) bad('expected a boolean');
        buf[off] = v ? 1 : 0;
        return;
      }
      return int(t.sizeOrType, (t.int!.encoding & INT_SIGNED) !== 0);
    case BTF_KIND.ENUM:
      return int(t.sizeOrType, t.kindFlag);
    case BTF_KIND.ENUM64:
      return int(8, t.kindFlag);
    case BTF_KIND.PTR:
      return int(8, false);
    case BTF_KIND.FLOAT:
      if (typeof v !== 'number') bad('expected a number');
      if (t.sizeOrType === 4) buf.writeFloatLE(v as number, off);
      else buf.writeDoubleLE(v as number, off);
      return;
    case BTF_KIND.ARRAY: {
      const { type, nelems } = t.array!;
      if (isCharType(btf, type)) {
        if (typeof v !== 'string') bad('expected a string');
        const b = Buffer.from(v as string, 'utf8');
        if (b.length >= nelems) fail('E2BIG', `${what}: ${b.length} bytes do not fit char[${nelems}] with its NUL`);
        buf.fill(0, off, off + nelems);
        b.copy(buf, off);
        return;
      }
      if (!Array.isArray(v) || v.length > nelems) bad(`expected an array of at most ${nelems} elements`);
      const es = sizeOf(btf, btf.resolve(type));
      buf.fill(0, off, off + nelems * es);
      (v as unknown[]).forEach((x, i) => encode(btf, type, buf, off + i * es, x, `${what}[${i}]`));
      return;
    }
    case BTF_KIND.STRUCT:
    case BTF_KIND.UNION: {
      if (typeof v !== 'object' || v === null) bad('expected an object');
      const byName = new Map(t.members!.filter((m) => m.name).map((m) => [m.name, m]));
      for (const [k, x] of Object.entries(v as object)) {
        const m = byName.get(k) ?? fail('ENOENT', `${what}: no member '${k}' in ${btf.typeName(id)}`);
        if (m.bitSize) fail('EOPNOTSUPP', `${what}.${k}: bitfields are not mapped`);
        encode(btf, m.type, buf, off + m.bitOffset / 8, x, `${what}.${k}`);
      }
      return;
    }
    default:
      fail('EOPNOTSUPP', `${what}: ${btf.typeName(id)} is not mapped`);
  }
}

/** A struct/union at `base` of the section, members reading and writing through `mem`. */
function structView(btf: Btf, t: BtfType, mem: SectionMemory, base: number, what: string): { [m: string]: GlobalValue } {
  const o: Record<string, GlobalValue> = {};
  for (const m of t.members!) {
    if (!m.name || m.bitSize) continue;
    const off = base + m.bitOffset / 8;
    const size = sizeOf(btf, btf.resolve(m.type));
    Object.defineProperty(o, m.name, {
      enumerable: true,
      get: () => decode(btf, m.type, mem.bytes(), off, { mem }, `${what}.${m.name}`),
      set: (v: unknown) => {
        const b = mem.bytes();
        encode(btf, m.type, b, off, v, `${what}.${m.name}`);
        mem.store(off, b.subarray(off, off + size));
      },
    });
  }
  return Object.preventExtensions(o);
}

/**
 * The global variables of DATASEC `sec` (sorted by offset); empty when the
 * object has none. Static ones (a function's `static const char fmt[]`, as
 * BPF_SEQ_PRINTF makes) are left out, as the skeleton leaves them out.
 */
export function sectionVars(btf: Btf, sec: string): GlobalVar[] {
  const ds = btf.datasec(sec);
  if (!ds) return [];
  return ds.vars!
    .filter((v) => btf.type(v.type).linkage !== 0)
    .map((v) => {
      const vt = btf.type(v.type);
      return { name: vt.name, typeId: vt.sizeOrType, type: btf.typeName(vt.sizeOrType), offset: v.offset, size: v.size };
    })
    .sort((a, b) => a.offset - b.offset);
}

/**
 * The section as an object: one property per variable. Setting a name the
 * section does not have is ENOENT (a typo must not be silently ignored).
 */
export function sectionObject(btf: Btf, sec: string, vars: readonly GlobalVar[], mem: SectionMemory): Record<string, GlobalValue> {
  const target: Record<string, GlobalValue> = Object.create(null);
  const byName = new Map(vars.map((v) => [v.name, v]));
  return new Proxy(target, {
    get(_t, k) {
      const v = typeof k === 'string' ? byName.get(k) : undefined;
      if (!v) return undefined;
      return decode(btf, v.typeId, mem.bytes(), v.offset, { mem }, `${sec}.${v.name}`);
    },
    set(_t, k, value) {
      const v = typeof k === 'string' ? byName.get(k) : undefined;
      if (!v) throw new BpfError('ENOENT', `no global '${String(k)}' in ${sec}${vars.length ? ` (has: ${vars.map((x) => x.name).join(', ')})` : ''}`);
      const b = mem.bytes();
      encode(btf, v.typeId, b, v.offset, value, `${sec}.${v.name}`);
      mem.store(v.offset, b.subarray(v.offset, v.offset + v.size));
      return true;
    },
    has: (_t, k) => typeof k === 'string' && byName.has(k),
    ownKeys: () => vars.map((v) => v.name),
    getOwnPropertyDescriptor(_t, k) {
      const v = typeof k === 'string' ? byName.get(k) : undefined;
      if (!v) return undefined;
      return { enumerable: true, configurable: true, writable: true, value: decode(btf, v.typeId, mem.bytes(), v.offset, null, `${sec}.${v.name}`) };
    },
    defineProperty: (_t, k) => {
      throw new BpfError('ENOENT', `no global '${String(k)}' in ${sec}`);
    },
    deleteProperty: (_t, k) => {
      throw new BpfError('EINVAL', `globals cannot be deleted (${sec}.${String(k)})`);
    },
  });
}
