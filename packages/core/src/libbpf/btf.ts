/**
 * A small reader of raw BTF (`btf__raw_data`): enough to type an object's
 * global variables — the `DATASEC` of `.bss` / `.data` / `.rodata`, each
 * `VAR`'s offset and size, and its type (ints, bools, chars, enums,
 * pointers, floats, arrays, structs and unions). Layout per
 * Documentation/bpf/btf.rst.
 */
import { BpfError } from '../errors.js';

/** `BTF_KIND_*`. */
export const BTF_KIND = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** One `struct btf_type` with its trailing data decoded. */
export interface BtfType {
  id: number;
  kind: number;
  name: string;
  /** `size` (INT, STRUCT, UNION, ENUM, DATASEC, FLOAT) or `type` (PTR, TYPEDEF, VAR, modifiers...). */
  sizeOrType: number;
  kindFlag: boolean;
  /** INT: `BTF_INT_ENCODING` bits (1 signed, 2 char, 4 bool) and bit size. */
  int?: { encoding: number; bits: number; offset: number };
  array?: { type: number; nelems: number };
  /** STRUCT/UNION members; `bitOffset`, `bitSize` 0 unless a bitfield. */
  members?: { name: string; type: number; bitOffset: number; bitSize: number }[];
  /** DATASEC entries. */
  vars?: { type: number; offset: number; size: number }[];
  /** VAR: `BTF_VAR_STATIC` 0, `BTF_VAR_GLOBAL_ALLOCATED` 1, `BTF_VAR_GLOBAL_EXTERN` 2. */
  linkage?: number;
}

/** The parsed type table (index = type id; 0 is `void`). */
export class Btf {
  readonly types: (BtfType | null)[] = [null];

  constructor(raw: Buffer) {
    if (raw.length < 24 || raw.readUInt16LE(0) !== 0xeb9f) throw new BpfError('EINVAL', 'not BTF data (bad magic)');
    const hdrLen = raw.readUInt32LE(4);
    const typeOff = hdrLen + raw.readUInt32LE(8);
    const typeEnd = typeOff + raw.readUInt32LE(12);
    const strOff = hdrLen + raw.readUInt32LE(16);
    const str = (off: number) => {
      const s = strOff + off;
      const e = raw.indexOf(0, s);
      return raw.toString('utf8', s, e < 0 ? raw.length : e);
    };
    let p = typeOff;
    while (p < typeEnd) {
      const id = this.types.length;
      const nameOff = raw.readUInt32LE(p);
      const info = raw.readUInt32LE(p + 4);
      const sizeOrType = raw.readUInt32LE(p + 8);
      p += 12;
      const vlen = info & 0xffff;
      const kind = (info >>> 24) & 0x1f;
      const t: BtfType = { id, kind, name: str(nameOff), sizeOrType, kindFlag: (info & 0x80000000) !== 0 };
      switch (kind) {
        case BTF_KIND.INT: {
          const v = raw.readUInt32LE(p);
          t.int = { encoding: (v >>> 24) & 0x0f, offset: (v >>> 16) & 0xff, bits: v & 0xff };
          p += 4;
          break;
        }
        case BTF_KIND.ARRAY:
          t.array = { type: raw.readUInt32LE(p), nelems: raw.readUInt32LE(p + 8) };
          p += 12;
          break;
        case BTF_KIND.STRUCT:
        case BTF_KIND.UNION:
          t.members = [];
          for (let i = 0; i < vlen; i++, p += 12) {
            const off = raw.readUInt32LE(p + 8);
            t.members.push({
              name: str(raw.readUInt32LE(p)),
              type: raw.readUInt32LE(p + 4),
              bitOffset: t.kindFlag ? off & 0xffffff : off,
              bitSize: t.kindFlag ? off >>> 24 : 0,
            });
          }
          break;
        case BTF_KIND.ENUM:
          p += 8 * vlen;
          break;
        case BTF_KIND.ENUM64:
          p += 12 * vlen;
          break;
        case BTF_KIND.FUNC_PROTO:
          p += 8 * vlen;
          break;
        case BTF_KIND.VAR:
          t.linkage = raw.readUInt32LE(p);
          p += 4;
          break;
        case BTF_KIND.DECL_TAG:
          p += 4;
          break;
        case BTF_KIND.DATASEC:
          t.vars = [];
          for (let i = 0; i < vlen; i++, p += 12) t.vars.push({ type: raw.readUInt32LE(p), offset: raw.readUInt32LE(p + 4), size: raw.readUInt32LE(p + 8) });
          break;
        default:
          if (kind < 1 || kind > BTF_KIND.ENUM64) throw new BpfError('EINVAL', `BTF type ${id}: unknown kind ${kind}`);
      }
      this.types.push(t);
    }
  }

  /** The type with this id; EINVAL when out of range. */
  type(id: number): BtfType {
    const t = this.types[id];
    if (!t) throw new BpfError('EINVAL', `BTF type id ${id} out of range`);
    return t;
  }

  /** Follows typedefs and modifiers (const, volatile, restrict, type tags). */
  resolve(id: number): BtfType | null {
    for (let i = 0; i < 32 && id !== 0; i++) {
      const t = this.type(id);
      if (t.kind === BTF_KIND.TYPEDEF || t.kind === BTF_KIND.CONST || t.kind === BTF_KIND.VOLATILE || t.kind === BTF_KIND.RESTRICT || t.kind === BTF_KIND.TYPE_TAG) id = t.sizeOrType;
      else return t;
    }
    return null;
  }

  /** The DATASEC named `name` (`.bss`, `.data`, `.rodata`...), or null. */
  datasec(name: string): BtfType | null {
    for (const t of this.types) if (t && t.kind === BTF_KIND.DATASEC && t.name === name) return t;
    return null;
  }

  /** C spelling of a type, for messages and docs (`int`, `char[16]`, `struct foo`...). */
  typeName(id: number): string {
    if (id === 0) return 'void';
    const t = this.type(id);
    switch (t.kind) {
      case BTF_KIND.PTR:
        return `${this.typeName(t.sizeOrType)} *`;
      case BTF_KIND.ARRAY:
        return `${this.typeName(t.array!.type)}[${t.array!.nelems}]`;
      case BTF_KIND.STRUCT:
        return `struct ${t.name}`;
      case BTF_KIND.UNION:
        return `union ${t.name}`;
      case BTF_KIND.ENUM:
      case BTF_KIND.ENUM64:
        return `enum ${t.name}`;
      case BTF_KIND.CONST:
        return `const ${this.typeName(t.sizeOrType)}`;
      case BTF_KIND.VOLATILE:
        return `volatile ${this.typeName(t.sizeOrType)}`;
      default:
        return t.name || `<kind ${t.kind}>`;
    }
  }
}
