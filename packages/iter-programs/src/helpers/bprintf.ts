/**
 * The format checker of `bpf_bprintf_prepare()` (kernel/bpf/helpers.c)
 * and the printer of `bstr_printf()` (lib/vsprintf.c), compiled once per
 * format string and cached.
 *
 * Output is produced as a "binary string": every char code is one byte
 * (0..255), written to the seq buffer with a latin1 write.
 */
import { MAX_BPRINTF_BIN_ARGS } from '../constants.js';
import { neg } from '../errno.js';
import { deref, kaddr, USER_SPACE_LIMIT } from '../ptr.js';

const LEFT = 1;
const ZEROPAD = 2;
const PLUS = 4;
const SPACE = 8;
/** `FIELD_WIDTH_MAX` of lib/vsprintf.c. */
const FIELD_WIDTH_MAX = (1 << 23) - 1;

const enum T {
  Int,
  Char,
  Str,
  Ptr,
  PtrB,
  Ip,
}

interface SpecBase {
  flags: number;
  width: number; // -1: none
}
interface IntSpec extends SpecBase {
  t: T.Int;
  size: 4 | 8;
  signed: boolean;
  hex: boolean;
  upper: boolean;
}
interface CharSpec extends SpecBase {
  t: T.Char;
}
interface StrSpec extends SpecBase {
  t: T.Str;
  /** 0: `%s` (user below TASK_SIZE, else kernel), 1: `%pks`, 2: `%pus`. */
  mode: 0 | 1 | 2;
}
interface PtrSpec extends SpecBase {
  t: T.Ptr;
  /** '' plain, 'K', 'x', 's', 'S'. */
  v: '' | 'K' | 'x' | 's' | 'S';
}
interface PtrBSpec extends SpecBase {
  t: T.PtrB;
}
interface IpSpec extends SpecBase {
  t: T.Ip;
  v6: boolean;
  /** `%pI` (dotted / colon) vs `%pi` (zero-padded / no colons). */
  upperI: boolean;
}
type Spec = IntSpec | CharSpec | StrSpec | PtrSpec | PtrBSpec | IpSpec;

/** A checked, compiled format. */
export interface CompiledFormat {
  /** Literal pieces (binary strings) and conversions, in order. */
  readonly pieces: readonly (string | Spec)[];
  /** Number of valid conversions (each consumes one u64 argument). */
  readonly nspecs: number;
  /** EINVAL once this many conversions were processed (Infinity: format valid). */
  readonly invalidAt: number;
  /** True when scratch use depends on the arguments (strings, `%pB`). */
  readonly dynamicScratch: boolean;
  /** Why the format is invalid, for messages. */
  readonly reason?: string;
  /** The literal pieces as bytes (null at conversions), for {@link writeCompiled}; built on first use. */
  litBytes?: (Uint8Array | null)[];
}

// ---- kernel ctype (lib/ctype.c, latin-1 aware) ---------------------------
function isspace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}
function ispunct(c: number): boolean {
  return (
    (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e) ||
    (c >= 0xa1 && c <= 0xbf) || c === 0xd7 || c === 0xf7
  );
}
function isprintAscii(c: number): boolean {
  return c >= 0x20 && c <= 0x7e;
}
function followOk(c: number | undefined): boolean {
  return c === undefined || c === 0 || isspace(c) || ispunct(c);
}

/**
 * Compiles a format (the bytes before the first NUL) following the rules of
 * `bpf_bprintf_prepare`: printable ASCII / whitespace literal text (bytes
 * >= 0x80 allowed in literal text, as in kernels with upstream
 * b960430ea886), `%%`, flags `0+- `, width, and the conversions of
 * reference §6.3. Scanning stops at the first violation.
 */
export function compileFormat(fmt: Uint8Array): CompiledFormat {
  const pieces: (string | Spec)[] = [];
  let lit = '';
  let nspecs = 0;
  let dynamicScratch = false;
  const n = fmt.length;
  const invalid = (reason: string): CompiledFormat => {
    if (lit) pieces.push(lit);
    return { pieces, nspecs, invalidAt: nspecs, dynamicScratch, reason };
  };
  for (let i = 0; i < n; i++) {
    const c = fmt[i]!;
    if (c < 0x80 && !isprintAscii(c) && !isspace(c)) return invalid(`control byte 0x${c.toString(16)} in format`);
    if (c !== 0x25 /* % */) {
      lit += String.fromCharCode(c);
      continue;
    }
    if (fmt[i + 1] === 0x25) {
      lit += '%';
      i++;
      continue;
    }
    // A conversion: consumes one argument.
    i++;
    let flags = 0;
    for (;;) {
      const f = fmt[i];
      if (f === 0x30) flags |= ZEROPAD;
      else if (f === 0x2b) flags |= PLUS;
      else if (f === 0x2d) flags |= LEFT;
      else if (f === 0x20) flags |= SPACE;
      else break;
      i++;
    }
    let width = -1;
    if (fmt[i] !== undefined && fmt[i]! >= 0x31 && fmt[i]! <= 0x39) {
      width = 0;
      while (fmt[i] !== undefined && fmt[i]! >= 0x30 && fmt[i]! <= 0x39) {
        width = Math.min(width * 10 + (fmt[i]! - 0x30), FIELD_WIDTH_MAX);
        i++;
      }
    }
    if (flags & LEFT) flags &= ~ZEROPAD;
    const ch = fmt[i];
    let spec: Spec;
    if (ch === 0x70 /* p */) {
      const n1 = fmt[i + 1];
      if (followOk(n1)) {
        spec = { t: T.Ptr, v: '', flags, width };
      } else if ((n1 === 0x6b || n1 === 0x75) && fmt[i + 2] === 0x73) {
        // %pks / %pus
        i += 2;
        if (!followOk(fmt[i + 1])) return invalid(`'%p${String.fromCharCode(n1)}s' must be followed by NUL, space or punctuation`);
        spec = { t: T.Str, mode: n1 === 0x6b ? 1 : 2, flags, width };
        dynamicScratch = true;
      } else if (n1 === 0x4b || n1 === 0x78 || n1 === 0x73 || n1 === 0x53) {
        i++;
        spec = { t: T.Ptr, v: String.fromCharCode(n1) as PtrSpec['v'], flags, width };
      } else if (n1 === 0x42) {
        i++;
        spec = { t: T.PtrB, flags, width };
        dynamicScratch = true;
      } else if ((n1 === 0x69 || n1 === 0x49) && (fmt[i + 2] === 0x34 || fmt[i + 2] === 0x36)) {
        spec = { t: T.Ip, v6: fmt[i + 2] === 0x36, upperI: n1 === 0x49, flags, width };
        i += 2;
        dynamicScratch = true;
      } else {
        return invalid(`unsupported pointer conversion '%p${n1 === undefined ? '' : String.fromCharCode(n1)}'`);
      }
    } else if (ch === 0x73 /* s */) {
      if (!followOk(fmt[i + 1])) return invalid(`'%s' must be followed by NUL, space or punctuation`);
      spec = { t: T.Str, mode: 0, flags, width };
      dynamicScratch = true;
    } else if (ch === 0x63 /* c */) {
      spec = { t: T.Char, flags, width };
      dynamicScratch = true;
    } else {
      let size: 4 | 8 = 4;
      if (fmt[i] === 0x6c) {
        size = 8;
        i++;
        if (fmt[i] === 0x6c) i++;
      }
      const k = fmt[i];
      if (k !== 0x69 && k !== 0x64 && k !== 0x75 && k !== 0x78 && k !== 0x58)
        return invalid(`unsupported conversion at byte ${i}`);
      spec = { t: T.Int, size, signed: k === 0x69 || k === 0x64, hex: k === 0x78 || k === 0x58, upper: k === 0x58, flags, width };
    }
    if (lit) {
      pieces.push(lit);
      lit = '';
    }
    pieces.push(spec);
    nspecs++;
  }
  if (lit) pieces.push(lit);
  return { pieces, nspecs, invalidAt: Infinity, dynamicScratch };
}

const cache = new Map<string, CompiledFormat>();
const CACHE_MAX = 4096;

/** {@link compileFormat} of a JS string (UTF-8 encoded), cached by string. */
export function compileFormatString(fmt: string): CompiledFormat {
  let c = cache.get(fmt);
  if (c === undefined) {
    const b = Buffer.from(fmt, 'utf8');
    const nul = b.indexOf(0);
    c = compileFormat(nul >= 0 ? b.subarray(0, nul) : b);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(fmt, c);
  }
  return c;
}

/** {@link compileFormat} of raw bytes (up to, not including, the first NUL), cached. */
export function compileFormatBytes(bytes: Uint8Array): CompiledFormat {
  const key = '\u0001' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  let c = cache.get(key);
  if (c === undefined) {
    c = compileFormat(bytes);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(key, c);
  }
  return c;
}

// ---- arguments ------------------------------------------------------------

/** One argument slot: a u64 as bigint or number, or (BPF_SEQ_PRINTF) a JS value. */
export type PrintfArg = number | bigint | string | boolean | null | undefined | object;

/** Converts a JS value to its u64 slot (pointers become kernel addresses). */
export function toU64(a: PrintfArg): number | bigint {
  switch (typeof a) {
    case 'number':
      return a;
    case 'bigint':
      return a;
    case 'boolean':
      return a ? 1 : 0;
    case 'string':
      return kaddr(a);
    case 'undefined':
      return 0;
    default:
      return a === null ? 0 : kaddr(a as object);
  }
}

function asBig(a: number | bigint): bigint {
  if (typeof a === 'bigint') return a;
  if (!Number.isFinite(a)) return 0n;
  return BigInt(Math.trunc(a));
}

/** The bytes of a string argument as the kernel's nofault copy would see them; null = unreadable. */
function readStr(a: PrintfArg, mode: 0 | 1 | 2): Uint8Array | string | null {
  if (typeof a === 'string') return a;
  if (a instanceof Uint8Array) return cstrBytes(a);
  if (a === null || a === undefined || typeof a === 'boolean') return null;
  if (typeof a === 'object') {
    const own = (a as { addr?: unknown }).addr;
    if (typeof own !== 'bigint') return null; // a model object, not a char array
    a = own;
  }
  const addr = BigInt.asUintN(64, asBig(a as number | bigint));
  if (addr === 0n) return null;
  const user = mode === 2 || (mode === 0 && addr < USER_SPACE_LIMIT);
  const o = deref(addr, user);
  return o instanceof Uint8Array ? cstrBytes(o) : null;
}
function cstrBytes(b: Uint8Array): Uint8Array {
  const nul = b.indexOf(0);
  return nul >= 0 ? b.subarray(0, nul) : b;
}
function readMem(a: PrintfArg, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let src: Uint8Array | null = null;
  if (a instanceof Uint8Array) src = a;
  else if (typeof a === 'number' || typeof a === 'bigint') {
    const o = deref(BigInt.asUintN(64, asBig(a)));
    if (o instanceof Uint8Array) src = o;
  }
  if (src && src.length >= len) out.set(src.subarray(0, len));
  return out; // unreadable → zeros
}

const ASCII_RE = /^[\x00-\x7f]*$/;
function toBinary(s: string | Uint8Array): string {
  if (typeof s === 'string') return ASCII_RE.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
  return Buffer.from(s.buffer, s.byteOffset, s.length).toString('latin1');
}
function byteLen(s: string | Uint8Array): number {
  return typeof s === 'string' ? (ASCII_RE.test(s) ? s.length : Buffer.byteLength(s, 'utf8')) : s.length;
}
function truncBytes(s: string | Uint8Array, n: number): string {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s.buffer, s.byteOffset, s.length);
  return b.subarray(0, n).toString('latin1');
}

// ---- printing -------------------------------------------------------------

function widen(s: string, spec: SpecBase): string {
  const w = spec.width;
  if (w <= s.length) return s;
  return spec.flags & LEFT ? s.padEnd(w, ' ') : s.padStart(w, ' ');
}

/** lib/vsprintf.c `number()` without precision / `#`. */
function number(digits: string, negative: boolean, signed: boolean, flags: number, width: number): string {
  let sign = '';
  if (signed) {
    if (negative) sign = '-';
    else if (flags & PLUS) sign = '+';
    else if (flags & SPACE) sign = ' ';
  }
  const len = sign.length + digits.length;
  if (width <= len) return sign + digits;
  if (flags & LEFT) return (sign + digits).padEnd(width, ' ');
  if (flags & ZEROPAD) return sign + digits.padStart(width - sign.length, '0');
  return (sign + digits).padStart(width, ' ');
}

function fmtInt(spec: IntSpec, raw: PrintfArg): string {
  // Fast path: a 32-bit decimal from a number, no sign/zero flags.
  if (typeof raw === 'number' && spec.size === 4 && !spec.hex && (spec.flags & (ZEROPAD | PLUS | SPACE)) === 0) {
    const s = String(spec.signed ? raw | 0 : raw >>> 0);
    const w = spec.width;
    if (w <= s.length) return s;
    return spec.flags & LEFT ? s.padEnd(w, ' ') : s.padStart(w, ' ');
  }
  const a = typeof raw === 'number' || typeof raw === 'bigint' ? raw : toU64(raw);
  // Fast path: 64-bit unsigned hex of an in-range bigint (addresses).
  if (typeof a === 'bigint' && spec.size === 8 && spec.hex && !spec.signed && a >= 0n && a <= 0xffff_ffff_ffff_ffffn && spec.width < 0) {
    const h = a.toString(16);
    return spec.upper ? h.toUpperCase() : h;
  }
  let digits: string;
  let negative = false;
  if (typeof a === 'number' && spec.size === 4) {
    const v = spec.signed ? a | 0 : a >>> 0;
    if (v < 0) {
      negative = true;
      digits = spec.hex ? (-v).toString(16) : String(-v);
    } else digits = spec.hex ? v.toString(16) : String(v);
  } else if (typeof a === 'number' && Number.isSafeInteger(a) && (spec.signed || a >= 0)) {
    if (a < 0) {
      negative = true;
      digits = spec.hex ? (-a).toString(16) : String(-a);
    } else digits = spec.hex ? a.toString(16) : String(a);
  } else {
    const b = asBig(a);
    const v = spec.size === 4 ? (spec.signed ? BigInt.asIntN(32, b) : BigInt.asUintN(32, b)) : spec.signed ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b);
    if (v < 0n) {
      negative = true;
      digits = (-v).toString(spec.hex ? 16 : 10);
    } else digits = v.toString(spec.hex ? 16 : 10);
  }
  if (spec.upper) digits = digits.toUpperCase();
  if (spec.width < 0 && !negative && !(spec.flags & (PLUS | SPACE))) return digits;
  return number(digits, negative, spec.signed, spec.flags, spec.width);
}

/** Kernel symbol lookup used by `%ps`, `%pS`, `%pB` (kallsyms). */
export interface KallsymsResolver {
  (addr: bigint): { name: string; offset: bigint; size: bigint; module?: string } | null;
}
let kallsyms: KallsymsResolver = () => null;
/** Plugs in a kallsyms model (core provides one later). */
export function setKallsymsResolver(r: KallsymsResolver): void {
  kallsyms = r;
}

/** printk pointer settings of the modelled kernel. */
export const printkConfig = {
  /** `/proc/sys/kernel/kptr_restrict`: 0 hashes `%pK` like `%p`; 1 prints raw (CAP_SYSLOG assumed); 2 prints zeros. */
  kptr_restrict: 0,
  /** Boot-time `no_hash_pointers`. */
  no_hash_pointers: false,
};

// siphash stand-in: a keyed 64-bit mix, fixed per process ("boot").
const PTR_KEY = BigInt.asUintN(64, BigInt(Math.floor(Math.random() * 2 ** 52)) * 0x9e3779b97f4a7c15n + 0x1234567n);
function hashPtr(v: bigint): bigint {
  let x = BigInt.asUintN(64, v ^ PTR_KEY);
  x = BigInt.asUintN(64, (x ^ (x >> 33n)) * 0xff51afd7ed558ccdn);
  x = BigInt.asUintN(64, (x ^ (x >> 33n)) * 0xc4ceb9fe1a85ec53n);
  x ^= x >> 33n;
  return x & 0xffff_ffffn; // 64-bit kernels keep 32 bits of the hash
}

function pointerString(v: bigint, spec: SpecBase): string {
  const digits = v.toString(16);
  if (spec.width < 0) return digits.padStart(16, '0');
  return number(digits, false, false, spec.flags, spec.width);
}

function sprintSymbol(addr: bigint, withOffset: boolean, backtrace: boolean): string {
  const look = backtrace ? addr - 1n : addr;
  const s = kallsyms(look);
  if (!s) return '0x' + addr.toString(16);
  let out = s.name;
  if (withOffset) out += `+0x${(backtrace ? s.offset + 1n : s.offset).toString(16)}/0x${s.size.toString(16)}`;
  if (s.module) out += ` [${s.module}]`;
  return out;
}

function fmtPtr(spec: PtrSpec, raw: PrintfArg): string {
  const v = BigInt.asUintN(64, asBig(toU64(raw)));
  switch (spec.v) {
    case 'x':
      return pointerString(v, spec);
    case 's':
      return widen(sprintSymbol(v, false, false), spec);
    case 'S':
      return widen(sprintSymbol(v, true, false), spec);
    case 'K':
      if (printkConfig.kptr_restrict === 2) return pointerString(0n, spec);
      if (printkConfig.kptr_restrict === 1) return pointerString(v, spec);
      return hashedPointer(v, spec);
    default:
      return hashedPointer(v, spec);
  }
}

function hashedPointer(v: bigint, spec: SpecBase): string {
  // NULL and error pointers are printed raw (they are not addresses).
  if (printkConfig.no_hash_pointers || v === 0n || v >= 0xffff_ffff_ffff_f001n) return pointerString(v, spec);
  return pointerString(hashPtr(v), spec);
}

function fmtIp(spec: IpSpec, bytes: Uint8Array): string {
  let s: string;
  if (!spec.v6) {
    const parts = Array.from(bytes, (b) => (spec.upperI ? String(b) : String(b).padStart(3, '0')));
    s = parts.join('.');
  } else {
    const hex = Buffer.from(bytes).toString('hex');
    if (!spec.upperI) s = hex;
    else s = hex.match(/.{4}/g)!.join(':');
  }
  return widen(s, spec);
}

/**
 * Checks and prints a compiled format with `nargs` argument slots
 * (`bpf_bprintf_prepare` + `bstr_printf`). Returns the output as a binary
 * string, or a negative errno (-EINVAL, -ENOSPC): nothing is printed then.
 */
export function formatCompiled(c: CompiledFormat, args: ArrayLike<PrintfArg>, nargs: number): string | number {
  const E = Math.min(c.invalidAt, c.nspecs > nargs ? nargs : Infinity);
  const pieces = c.pieces;
  let out = '';
  let k = 0; // conversions processed
  let used = 0; // scratch bytes
  const simulate = c.dynamicScratch;
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    if (k >= E) return neg('EINVAL');
    const a = args[k];
    k++;
    switch (p.t) {
      case T.Int:
        if (simulate) {
          used = (used + 3) & ~3;
          if (MAX_BPRINTF_BIN_ARGS - used < p.size) return neg('ENOSPC');
          used += p.size;
        }
        out += fmtInt(p, a);
        break;
      case T.Ptr:
        if (simulate) {
          used = (used + 3) & ~3;
          if (MAX_BPRINTF_BIN_ARGS - used < 8) return neg('ENOSPC');
          used += 8;
        }
        out += fmtPtr(p, a);
        break;
      case T.Char: {
        if (used >= MAX_BPRINTF_BIN_ARGS) return neg('ENOSPC');
        used += 1;
        const v = a === undefined ? 0 : toU64(a);
        const byte = typeof v === 'number' ? v & 0xff : Number(BigInt.asUintN(8, v));
        out += widen(String.fromCharCode(byte), p);
        break;
      }
      case T.Str: {
        if (used >= MAX_BPRINTF_BIN_ARGS) return neg('ENOSPC');
        const room = MAX_BPRINTF_BIN_ARGS - used; // includes the NUL
        const s = readStr(a, p.mode);
        let text: string;
        if (s === null) {
          text = '';
          used += 1;
        } else {
          const len = byteLen(s);
          if (len + 1 <= room) {
            text = toBinary(s);
            used += len + 1;
          } else {
            text = truncBytes(s, room - 1);
            used += room;
          }
        }
        out += p.width >= 0 ? widen(text, p) : text;
        break;
      }
      case T.PtrB: {
        const room = MAX_BPRINTF_BIN_ARGS - used;
        const full = sprintSymbol(BigInt.asUintN(64, asBig(toU64(a))), true, true);
        const text = room > 0 ? full.slice(0, room - 1) : '';
        used += full.length + 1;
        out += widen(text, p);
        break;
      }
      case T.Ip: {
        const size = p.v6 ? 16 : 4;
        if (MAX_BPRINTF_BIN_ARGS - used < size) return neg('ENOSPC');
        used += size;
        out += fmtIp(p, readMem(a, size));
        break;
      }
    }
  }
  if (k >= E || c.invalidAt !== Infinity) return neg('EINVAL');
  return out;
}

/** {@link writeCompiled}: the general printer ({@link formatCompiled}) must print this call. */
export const WRITE_SLOW = -1;

/** The last address {@link writeAddr} printed, and its digits (a run of fds of one kind prints one string). */
let lastAddr = -1n;
let lastAddrHex = '';

// The printer is split into small functions, one per kind of piece: each is optimised on its own
// and quickly (a dump's first run is its only one), and a rare branch taken late deoptimises only
// its own piece's function.

/**
 * {@link formatCompiled} written straight into `buf` from `at`, with no
 * intermediate strings, for what dumpers print per object: literals,
 * integer conversions (no `0`, `+` or space flag) of number arguments,
 * `%lx`/`%llx` of an address bigint, `%s` of an ASCII JS string. Returns
 * the end offset of the output, which stays below `limit`; or
 * {@link WRITE_SLOW} (bytes past `at` are scratch then) for anything else:
 * another conversion or argument, an invalid format or too few arguments
 * (an error to report), output reaching `limit` (an overflow to report):
 * the general printer decides those.
 */
export function writeCompiled(c: CompiledFormat, args: ArrayLike<PrintfArg>, nargs: number, buf: Uint8Array, at: number, limit: number): number {
  if (c.invalidAt !== Infinity || c.nspecs > nargs) return WRITE_SLOW;
  const pieces = c.pieces;
  const lits = c.litBytes ?? (c.litBytes = pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : null)));
  let pos = at;
  let k = 0;
  let used = 0; // scratch bytes, as formatCompiled counts them
  for (let i = 0; i < pieces.length && pos >= 0; i++) {
    const lit = lits[i];
    if (lit) {
      pos = writeLit(buf, pos, limit, lit);
      continue;
    }
    const p = pieces[i] as Spec;
    const a = args[k++];
    if (p.t === T.Int) {
      used = ((used + 3) & ~3) + p.size;
      pos = writeInt(buf, pos, limit, p, a);
    } else if (p.t === T.Str && p.mode === 0 && typeof a === 'string') {
      const n = a.length;
      if (used >= MAX_BPRINTF_BIN_ARGS || n + 1 > MAX_BPRINTF_BIN_ARGS - used) return WRITE_SLOW;
      used += n + 1;
      pos = writeStr(buf, pos, limit, p, a);
    } else return WRITE_SLOW;
  }
  return pos;
}

/** A literal piece's bytes at `pos`: the end, or {@link WRITE_SLOW} at `limit`. */
function writeLit(buf: Uint8Array, pos: number, limit: number, lit: Uint8Array): number {
  const n = lit.length;
  if (pos + n > limit) return WRITE_SLOW;
  for (let j = 0; j < n; j++) buf[pos + j] = lit[j]!;
  return pos + n;
}

/** An integer conversion (no `0`, `+` or space flag) of a number, or `%lx` of an address bigint. */
function writeInt(buf: Uint8Array, pos: number, limit: number, p: IntSpec, a: PrintfArg): number {
  if (p.flags & (ZEROPAD | PLUS | SPACE)) return WRITE_SLOW;
  if (typeof a === 'number') {
    let v: number;
    if (p.size === 4) v = p.signed ? a | 0 : a >>> 0;
    else if (Number.isSafeInteger(a) && (p.signed || a >= 0)) v = a;
    else return WRITE_SLOW;
    if (v >= 0) return writeDigits(buf, pos, limit, p, v, false);
    if (p.hex) return WRITE_SLOW; // a signed hex conversion: the general printer's sign rules
    return writeDigits(buf, pos, limit, p, -v, true);
  }
  if (typeof a === 'bigint' && p.hex && p.size === 8 && !p.signed && p.width < 0 && a >= 0n && a <= 0xffff_ffff_ffff_ffffn) return writeAddr(buf, pos, limit, p.upper, a);
  return WRITE_SLOW;
}

/** The digits of `v` (>= 0, a safe integer) with the sign and the width's padding. */
function writeDigits(buf: Uint8Array, pos: number, limit: number, p: IntSpec, v: number, neg: boolean): number {
  const hex = p.hex;
  // 32-bit values in integer arithmetic (a division by the constant is a multiply), larger ones in doubles.
  const small = v <= 0x7fff_ffff;
  let nd = 1;
  if (hex) for (let x = v; x >= 16; x = small ? x >>> 4 : Math.floor(x / 16)) nd++;
  else if (small) for (let x = v; x >= 10; x = (x / 10) | 0) nd++;
  else for (let x = v; x >= 10; x = Math.floor(x / 10)) nd++;
  const len = nd + (neg ? 1 : 0);
  const w = p.width > len ? p.width : len;
  if (pos + w > limit) return WRITE_SLOW;
  const left = (p.flags & LEFT) !== 0;
  let q = pos;
  if (!left) for (; q < pos + w - len; q++) buf[q] = 32;
  if (neg) buf[q++] = 45;
  if (hex) {
    const digits = p.upper ? DIGITS_UPPER : DIGITS;
    for (let j = q + nd - 1; j >= q; j--) {
      const d = small ? v & 15 : v % 16;
      buf[j] = digits[d]!;
      v = small ? v >>> 4 : (v - d) / 16;
    }
  } else if (small) {
    for (let j = q + nd - 1; j >= q; j--) {
      const t = (v / 10) | 0;
      buf[j] = 48 + v - t * 10;
      v = t;
    }
  } else {
    for (let j = q + nd - 1; j >= q; j--) {
      const d = v % 10;
      buf[j] = 48 + d;
      v = (v - d) / 10;
    }
  }
  q += nd;
  if (left) for (; q < pos + w; q++) buf[q] = 32;
  return pos + w;
}

const DIGITS = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];
const DIGITS_UPPER = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 65, 66, 67, 68, 69, 70];

/** `%lx`/`%lX` of an address (a u64 bigint), no width: its hex digits. */
function writeAddr(buf: Uint8Array, pos: number, limit: number, upper: boolean, a: bigint): number {
  if (a !== lastAddr) {
    lastAddr = a;
    lastAddrHex = a.toString(16);
  }
  const h = lastAddrHex;
  const n = h.length;
  if (pos + n > limit) return WRITE_SLOW;
  if (upper) for (let j = 0; j < n; j++) buf[pos + j] = DIGITS_UPPER[parseInt(h[j]!, 16)]!;
  else for (let j = 0; j < n; j++) buf[pos + j] = h.charCodeAt(j);
  return pos + n;
}

/** `%s` of an ASCII JS string with the width's padding; {@link WRITE_SLOW} for a char > 0x7f. */
function writeStr(buf: Uint8Array, pos: number, limit: number, p: StrSpec, a: string): number {
  const n = a.length;
  const w = p.width > n ? p.width : n;
  if (pos + w > limit) return WRITE_SLOW;
  const left = (p.flags & LEFT) !== 0;
  let q = pos;
  if (!left) for (; q < pos + w - n; q++) buf[q] = 32;
  for (let j = 0; j < n; j++) {
    const ch = a.charCodeAt(j);
    if (ch > 0x7f) return WRITE_SLOW;
    buf[q++] = ch;
  }
  if (left) for (; q < pos + w; q++) buf[q] = 32;
  return pos + w;
}

/**
 * Kernel-style `snprintf` into a JS string (for fdinfo lines and tests):
 * same conversions as `bpf_seq_printf`, arguments as JS values.
 * Throws on an invalid format.
 */
export function ksprintf(fmt: string, ...args: PrintfArg[]): string {
  const c = compileFormatString(fmt);
  const r = formatCompiled(c, args, args.length);
  if (typeof r === 'number') throw new Error(`ksprintf: invalid format ${JSON.stringify(fmt)} (${r}) ${c.reason ?? ''}`);
  return r;
}
