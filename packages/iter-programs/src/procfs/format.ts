/**
 * Number formatting as the kernel's seq_file printers do it (`%08X`,
 * `%5u`, `%-8d`, `%px`...), for the default dumpers that reproduce /proc
 * files byte for byte.
 */

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const ZEROS = '0000000000000000';

/**
 * Lowercase hex of a non-negative integer below 2^53 without leading zeros.
 * `Number#toString(16)` takes a slow path for values above 2^31, and the
 * dumpers print millions of addresses.
 */
function hexDigits(n: number): string {
  if (n < 0x80000000) return n.toString(16);
  const hi = Math.floor(n / 0x100000000);
  const lo = n >>> 0;
  const low = HEX2[lo >>> 24]! + HEX2[(lo >>> 16) & 0xff]! + HEX2[(lo >>> 8) & 0xff]! + HEX2[lo & 0xff]!;
  return hi === 0 ? low.replace(/^0+/, '') : hi.toString(16) + low;
}

/** `%0{w}x` (lowercase hex, zero padded to at least `w`). */
export function hex(n: number | bigint, w: number): string {
  const s = typeof n === 'bigint' ? n.toString(16) : hexDigits(n);
  return s.length >= w ? s : ZEROS.slice(0, w - s.length) + s;
}

/** `%0{w}X` (uppercase hex). */
export function HEX(n: number | bigint, w: number): string {
  return n.toString(16).toUpperCase().padStart(w, '0');
}

/** `%{w}d` / `%{w}u` (right aligned). */
export function rpad(n: number | bigint | string, w: number): string {
  return String(n).padStart(w, ' ');
}

/** `%-{w}d` (left aligned). */
export function lpad(n: number | bigint | string, w: number): string {
  return String(n).padEnd(w, ' ');
}

/** `%px` on a 64-bit kernel: 16 lowercase hex digits. */
export function px(p: bigint | number): string {
  return p.toString(16).padStart(16, '0');
}

/** An IPv4 address (4 bytes, network order) as /proc/net/tcp prints it: the raw little-endian u32 in `%08X`. */
export function be32AsX(addr: Uint8Array, off = 0): string {
  const v = (addr[off]! | (addr[off + 1]! << 8) | (addr[off + 2]! << 16) | (addr[off + 3]! << 24)) >>> 0;
  return HEX(v, 8);
}

/** An IPv6 address as /proc/net/tcp6 prints it: four raw u32 words, each `%08X`. */
export function in6AsX(addr: Uint8Array): string {
  return be32AsX(addr, 0) + be32AsX(addr, 4) + be32AsX(addr, 8) + be32AsX(addr, 12);
}

/** `%pi6`: 32 lowercase hex digits, no separators. */
export function pi6(addr: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += (addr[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

/** Pads a line to `width` characters then ends it (`seq_setwidth` + `seq_pad(m, '\n')`). */
export function padLine(line: string, width: number): string {
  return (line.length < width ? line.padEnd(width, ' ') : line) + '\n';
}
