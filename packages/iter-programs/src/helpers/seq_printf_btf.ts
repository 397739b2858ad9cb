/** `bpf_seq_printf_btf` (helper #150): print a typed model object. */
import { BTF_F_ALL, BTF_F_COMPACT, BTF_F_NONAME, BTF_F_PTR_RAW, BTF_F_ZERO, BTF_PTR_SIZE } from '../constants.js';
import { neg } from '../errno.js';
import { btfRegistry, type BtfType } from '../btf.js';
import { isSeqFile, type SeqFile, seq_write_latin1 } from '../seq_file.js';
import { kaddr } from '../ptr.js';
import { ksprintf } from './bprintf.js';
import { checkSeqHelper } from './seq_printf.js';
import { checkHelper } from './func_proto.js';

/** `struct btf_ptr { void *ptr; __u32 type_id; __u32 flags; }`; `typeName` is a JS convenience. */
export interface BtfPtr {
  ptr: unknown;
  type_id?: number;
  /** Alternative to `type_id`, e.g. `'struct task_struct'`. */
  typeName?: string;
  flags?: number;
}

const MAX_DEPTH = 4;

function isZero(v: unknown): boolean {
  return v === 0 || v === 0n || v === false || v === null || v === undefined || v === '' || (v instanceof Uint8Array && v.every((b) => b === 0));
}

function ptrText(v: unknown, flags: number): string {
  if (v === null || v === undefined) return '0x0000000000000000';
  const addr = typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : kaddr(v as object);
  return flags & BTF_F_PTR_RAW ? ksprintf('0x%px', addr) : ksprintf('0x%p', addr);
}

function charArray(v: string | Uint8Array): string {
  const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  let out = '[';
  for (const b of bytes) {
    if (b === 0) break;
    out += b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c ? `'${String.fromCharCode(b)}',` : `'\\x${b.toString(16).padStart(2, '0')}',`;
  }
  return out + ']';
}

function inferType(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? (v >= -0x80000000 && v <= 0x7fffffff ? 'int' : 'long') : 'double';
    case 'bigint':
      return 'u64';
    case 'boolean':
      return 'bool';
    case 'string':
      return `char[${Buffer.byteLength(v) + 1}]`;
    default:
      return v instanceof Uint8Array ? `char[${v.length}]` : 'void *';
  }
}

function render(typeName: string, v: unknown, flags: number, depth: number, t?: BtfType): string {
  const compact = (flags & BTF_F_COMPACT) !== 0;
  const noname = (flags & BTF_F_NONAME) !== 0;
  const head = noname ? '' : `(${typeName})`;
  if (/\*\s*$/.test(typeName)) return head + ptrText(v, flags);
  if (/^(char|unsigned char|u8)\[\d*\]$/.test(typeName) && (typeof v === 'string' || v instanceof Uint8Array)) return head + charArray(v);
  if (typeof v === 'bigint' || typeof v === 'number') return head + String(v);
  if (typeof v === 'boolean') return head + (v ? 'true' : 'false');
  if (typeof v === 'string') return head + charArray(v);
  if (v === null || v === undefined) return head + '0';
  if (typeof v !== 'object') return head + String(v);
  // Aggregate.
  const members: { name: string; type: string }[] = t?.members
    ? [...t.members]
    : Object.keys(v).filter((k) => !k.startsWith('_')).map((k) => ({ name: k, type: inferType((v as Record<string, unknown>)[k]) }));
  const nl = compact ? '' : '\n';
  const ind = (d: number) => (compact ? '' : ' '.repeat(d));
  let out = head + '{' + nl;
  for (const m of members) {
    const mv = (v as Record<string, unknown>)[m.name];
    if (!(flags & BTF_F_ZERO) && isZero(mv)) continue;
    const mt = btfRegistry().byName(m.type);
    const body =
      depth >= MAX_DEPTH && typeof mv === 'object' && mv !== null && !(mv instanceof Uint8Array)
        ? (noname ? '' : `(${m.type})`) + '{...}'
        : render(m.type, mv, flags, depth + 1, mt?.members ? mt : undefined);
    out += ind(depth + 1) + (noname ? '' : `.${m.name} = `) + body + ',' + nl;
  }
  return out + ind(depth) + '}';
}

/**
 * The text `btf_type_seq_show` / `btf_type_snprintf_show` print for a
 * `struct btf_ptr`, or a negative errno: `flags` outside
 * `BTF_F_COMPACT|NONAME|PTR_RAW|ZERO` → -EINVAL; `ptr_size != 16` →
 * -EINVAL; `type_id == 0` (and no `typeName`) → -EINVAL; unknown type → -ENOENT.
 * The text is latin-1 (bytes as chars).
 */
export function btfShow(ptr: BtfPtr, ptr_size: number | bigint, flags: number | bigint): string | number {
  const f = BigInt(flags);
  if ((f & ~BigInt(BTF_F_ALL)) !== 0n) return neg('EINVAL');
  if (Number(ptr_size) !== BTF_PTR_SIZE) return neg('EINVAL');
  if (!ptr || typeof ptr !== 'object') return neg('EINVAL');
  let t: BtfType | undefined;
  if (ptr.type_id !== undefined && ptr.type_id !== 0) {
    if (!Number.isInteger(ptr.type_id) || ptr.type_id < 0) return neg('EINVAL');
    t = btfRegistry().byId(ptr.type_id);
  } else if (ptr.typeName !== undefined) {
    t = btfRegistry().byName(ptr.typeName) ?? btfRegistry().byName(`struct ${ptr.typeName}`);
  } else {
    return neg('EINVAL');
  }
  if (!t) return neg('ENOENT');
  const text = render(t.name, ptr.ptr, Number(f), 0, t);
  return /^[\x00-\x7f]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

/**
 * `long bpf_seq_printf_btf(struct seq_file *m, struct btf_ptr *ptr, u32 ptr_size, u64 flags)`.
 * `ptr_size` defaults to 16 (`sizeof(struct btf_ptr)`).
 *
 * Checks as {@link btfShow}. Prints
 * `(struct task_struct){\n .pid = (int)1,\n ...}` style text (members
 * with zero values omitted unless `BTF_F_ZERO`). Like the kernel's
 * `btf_seq_show`, an overflowing seq buffer is not reported (returns 0;
 * the read path rolls the object back) — reference §9 item 10.
 */
export function bpf_seq_printf_btf(m: SeqFile, ptr: BtfPtr, ptr_size: number | bigint = BTF_PTR_SIZE, flags: number | bigint = 0): number {
  checkSeqHelper('bpf_seq_printf_btf');
  if (!isSeqFile(m)) return neg('EINVAL');
  // Allow the 3-argument JS form bpf_seq_printf_btf(seq, ptr, flags) when flags look like BTF_F_* bits.
  if (arguments.length === 3) {
    flags = ptr_size;
    ptr_size = BTF_PTR_SIZE;
  }
  const out = btfShow(ptr, ptr_size, flags);
  if (typeof out === 'number') return out;
  seq_write_latin1(m, out);
  return 0;
}

/**
 * `long bpf_snprintf_btf(char *str, u32 str_size, struct btf_ptr *ptr, u32 btf_ptr_size, u64 flags)`:
 * the same text as {@link bpf_seq_printf_btf} into `str`, at most
 * `str_size - 1` bytes and a NUL. Returns the length of the whole text (so
 * a return `>= str_size` means it was truncated) or the errnos of {@link btfShow}.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(256);
 * bpf_snprintf_btf(out, out.length, { ptr: ctx.task, typeName: 'struct task_struct' }, 16, BTF_F_COMPACT);
 * ```
 */
export function bpf_snprintf_btf(str: Uint8Array, str_size: number, ptr: BtfPtr, btf_ptr_size: number | bigint = BTF_PTR_SIZE, flags: number | bigint = 0): number {
  checkHelper('bpf_snprintf_btf');
  if (!(str instanceof Uint8Array) || !Number.isInteger(str_size) || str_size < 0 || str_size > str.length) return neg('EINVAL');
  const out = btfShow(ptr, btf_ptr_size, flags);
  if (typeof out === 'number') return out;
  if (str_size > 0) {
    const n = Math.min(out.length, str_size - 1);
    str.set(Buffer.from(out.slice(0, n), 'latin1'));
    str[n] = 0;
  }
  return out.length;
}
