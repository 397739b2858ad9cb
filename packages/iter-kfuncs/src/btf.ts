/**
 * A minimal model of the BTF type graph a kfunc prototype is checked against
 * (§7.2): just enough to express "pointer to `const struct bpf_iter_foo`
 * behind a typedef" and to skip modifiers the way `btf_type_skip_modifiers`
 * does.
 */

/** One BTF type. `fwd` is a declared-but-undefined struct (no size). */
export type BtfType =
  | { readonly kind: 'void' }
  | { readonly kind: 'int'; readonly name: string }
  | { readonly kind: 'ptr'; readonly type: BtfType }
  | { readonly kind: 'struct'; readonly name: string; readonly size: number }
  | { readonly kind: 'fwd'; readonly name: string }
  | { readonly kind: 'const' | 'volatile' | 'restrict'; readonly type: BtfType }
  | { readonly kind: 'typedef'; readonly name: string; readonly type: BtfType };

/**
 * A type as written by a kfunc author: either a {@link BtfType} or a C-like
 * string such as `"struct bpf_iter_num *"`, `"const u64 *"`, `"int"`,
 * `"void"` or a typedef name declared in {@link TypeTable.typedefs}.
 */
export type TypeSpec = BtfType | string;

/** Struct sizes and typedefs that string {@link TypeSpec}s refer to. */
export interface TypeTable {
  /** Struct name → size in bytes, e.g. `{ bpf_iter_num: 8 }`. */
  readonly structs?: Readonly<Record<string, number>>;
  /** Typedef name → its target type. */
  readonly typedefs?: Readonly<Record<string, TypeSpec>>;
}

/** Builders for {@link BtfType}s. */
export const btf = {
  void: { kind: 'void' } as BtfType,
  int: (name = 'int'): BtfType => ({ kind: 'int', name }),
  ptr: (type: BtfType): BtfType => ({ kind: 'ptr', type }),
  struct: (name: string, size: number): BtfType => ({ kind: 'struct', name, size }),
  fwd: (name: string): BtfType => ({ kind: 'fwd', name }),
  const: (type: BtfType): BtfType => ({ kind: 'const', type }),
  volatile: (type: BtfType): BtfType => ({ kind: 'volatile', type }),
  typedef: (name: string, type: BtfType): BtfType => ({ kind: 'typedef', name, type }),
} as const;

const QUALIFIERS = new Set(['const', 'volatile', 'restrict']);
const INT_WORDS = new Set([
  'int', 'unsigned', 'signed', 'long', 'short', 'char', 'bool', '_Bool',
  'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64',
  '__u8', '__u16', '__u32', '__u64', '__s8', '__s16', '__s32', '__s64', 'size_t',
]);

/**
 * Resolves a {@link TypeSpec} to a {@link BtfType}. Strings are parsed as
 * `[qualifiers] base [*...]` where base is `void`, an integer type,
 * `struct NAME` (size from `table.structs`; unknown structs become `fwd`) or a
 * typedef from `table.typedefs`. Unknown names are treated as integers.
 */
export function resolveType(spec: TypeSpec, table: TypeTable = {}, depth = 0): BtfType {
  if (typeof spec !== 'string') return spec;
  if (depth > 16) throw new TypeError(`typedef loop while resolving "${spec}"`);
  const tokens = spec.replace(/\*/g, ' * ').trim().split(/\s+/).filter(Boolean);
  let i = 0;
  const leading: Array<'const' | 'volatile' | 'restrict'> = [];
  while (i < tokens.length && QUALIFIERS.has(tokens[i]!)) leading.push(tokens[i++] as 'const');
  let base: BtfType;
  const word = tokens[i++];
  if (word === undefined) throw new TypeError(`empty type "${spec}"`);
  if (word === 'struct') {
    const name = tokens[i++];
    if (name === undefined) throw new TypeError(`struct without a name in "${spec}"`);
    const size = table.structs?.[name];
    base = size === undefined ? btf.fwd(name) : btf.struct(name, size);
  } else if (word === 'void') {
    base = btf.void;
  } else if (table.typedefs?.[word] !== undefined) {
    base = btf.typedef(word, resolveType(table.typedefs[word]!, table, depth + 1));
  } else {
    let name = word;
    while (i < tokens.length && INT_WORDS.has(tokens[i]!)) name += ` ${tokens[i++]}`;
    base = btf.int(name);
  }
  for (const q of leading) base = { kind: q, type: base };
  for (; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '*') base = btf.ptr(base);
    else if (QUALIFIERS.has(t)) base = { kind: t as 'const', type: base };
    else throw new TypeError(`unexpected "${t}" in type "${spec}"`);
  }
  return base;
}

/** `btf_type_skip_modifiers`: strips const/volatile/restrict and typedefs. */
export function skipModifiers(t: BtfType): BtfType {
  while (t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'typedef') t = t.type;
  return t;
}

/** Renders a type C-style for error messages, e.g. `struct bpf_iter_num *`. */
export function typeToString(t: BtfType): string {
  switch (t.kind) {
    case 'void': return 'void';
    case 'int': return t.name;
    case 'ptr': return `${typeToString(t.type)} *`;
    case 'struct': return `struct ${t.name}`;
    case 'fwd': return `struct ${t.name} (incomplete)`;
    case 'typedef': return t.name;
    default: return `${t.kind} ${typeToString(t.type)}`;
  }
}
