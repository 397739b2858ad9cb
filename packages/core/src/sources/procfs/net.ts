/**
 * Parsers of the /proc/net socket tables. Each row keeps what the model's
 * {@link Socket} needs to print the line again byte for byte.
 */
import type { NetlinkExtra } from '../../model/socket.js';

/** A row of `/proc/net/{tcp,tcp6,udp,udp6}`. */
export interface InetRow {
  /** The `sl` column: a running number for tcp, the hash bucket for udp. */
  sl: number;
  /** Local/remote address in network byte order (4 or 16 bytes). */
  saddr: Uint8Array;
  daddr: Uint8Array;
  sport: number;
  dport: number;
  state: number;
  tx_queue: number;
  rx_queue: number;
  tr: number;
  tm_when: number;
  retrnsmt: number;
  uid: number;
  timeout: number;
  ino: number;
  /** Everything after the inode column, as printed, without the trailing padding. */
  tail: string;
  /** The `%pK` pointer found in the tail (hashed unless kptr_restrict=0 as root), or 0. */
  addr: bigint;
}

/**
 * `%08X` of a `__be32` loaded as a little-endian u32: the bytes appear
 * reversed. Decodes one such group into `out` at `at`.
 */
function be32Group(s: string, out: Uint8Array, at: number): void {
  const v = parseInt(s, 16) >>> 0;
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = v >>> 24;
}

function addrOf(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let g = 0; g < hex.length; g += 8) be32Group(hex.slice(g, g + 8), out, g / 2);
  return out;
}

/** Splits on runs of spaces, remembering where each token starts. */
function tokens(line: string): { t: string[]; at: number[] } {
  const t: string[] = [];
  const at: number[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) {
    t.push(m[0]);
    at.push(m.index);
  }
  return { t, at };
}

/** Parses a tcp/udp table (v4 or v6). The header line is skipped. */
export function parseInetTable(text: string): InetRow[] {
  const out: InetRow[] = [];
  const lines = text.split('\n');
  for (let li = 1; li < lines.length; li++) {
    const line = lines[li]!;
    if (!line.trim()) continue;
    const { t, at } = tokens(line);
    if (t.length < 10) continue;
    const [la, lp] = t[1]!.split(':');
    const [ra, rp] = t[2]!.split(':');
    const [tx, rx] = t[4]!.split(':');
    const [tr, when] = t[5]!.split(':');
    // Tail: from the token after the inode to the end, minus seq_pad's trailing spaces.
    const tail = t.length > 10 ? line.slice(at[10]!).trimEnd() : '';
    let addr = 0n;
    for (let k = 10; k < t.length; k++) {
      if (/^[0-9a-f]{16}$/.test(t[k]!)) {
        addr = BigInt('0x' + t[k]!);
        break;
      }
    }
    out.push({
      sl: parseInt(t[0]!, 10),
      saddr: addrOf(la!),
      daddr: addrOf(ra!),
      sport: parseInt(lp!, 16),
      dport: parseInt(rp!, 16),
      state: parseInt(t[3]!, 16),
      tx_queue: parseInt(tx!, 16),
      rx_queue: parseInt(rx!, 16),
      tr: parseInt(tr!, 16),
      tm_when: parseInt(when!, 16),
      retrnsmt: parseInt(t[6]!, 16),
      uid: Number(t[7]),
      timeout: Number(t[8]),
      ino: Number(t[9]),
      tail,
      addr,
    });
  }
  return out;
}

/** A row of `/proc/net/unix`. */
export interface UnixRow {
  addr: bigint;
  refcnt: number;
  protocol: number;
  flags: number;
  type: number;
  state: number;
  ino: number;
  /** Bound path (`@name` for abstract sockets), '' if unbound. */
  path: string;
}

/** Parses `/proc/net/unix`. */
export function parseUnix(text: string): UnixRow[] {
  const out: UnixRow[] = [];
  const lines = text.split('\n');
  for (let li = 1; li < lines.length; li++) {
    const line = lines[li]!;
    if (!line) continue;
    // "%pK: %08X %08X %08X %04X %02X %5lu" then " path" when bound.
    const colon = line.indexOf(':');
    const rest = line.slice(colon + 2);
    const m = /^(\S+) (\S+) (\S+) (\S+) (\S+) +(\d+)/.exec(rest);
    if (!m) continue;
    const after = rest.slice(m[0].length);
    out.push({
      addr: BigInt('0x' + line.slice(0, colon)),
      refcnt: parseInt(m[1]!, 16),
      protocol: parseInt(m[2]!, 16),
      flags: parseInt(m[3]!, 16),
      type: parseInt(m[4]!, 16),
      state: parseInt(m[5]!, 16),
      ino: Number(m[6]),
      path: after.startsWith(' ') ? after.slice(1) : '',
    });
  }
  return out;
}

/** A row of `/proc/net/netlink`. */
export interface NetlinkRow extends NetlinkExtra {
  addr: bigint;
  protocol: number;
  ino: number;
}

/** Parses `/proc/net/netlink`. */
export function parseNetlink(text: string): NetlinkRow[] {
  const out: NetlinkRow[] = [];
  const lines = text.split('\n');
  for (let li = 1; li < lines.length; li++) {
    const f = lines[li]!.trim().split(/\s+/);
    if (f.length < 10) continue;
    out.push({
      addr: BigInt('0x' + f[0]!),
      protocol: Number(f[1]),
      portid: Number(f[2]),
      groups: parseInt(f[3]!, 16) >>> 0,
      rmem: Number(f[4]),
      wmem: Number(f[5]),
      dump: Number(f[6]),
      locks: Number(f[7]),
      drops: Number(f[8]),
      ino: Number(f[9]),
    });
  }
  return out;
}

/**
 * Slots of the UDP hash tables (`udp_table.mask + 1`): the
 * `net.ipv4.udp_hash_entries` sysctl where the kernel has it (6.2+; negative
 * for a per-netns table shared with init), else the smallest power of two
 * from 128 up that holds `maxSlot`, the highest slot seen.
 */
export function udpHashSlots(sysctl: string | null, maxSlot: number): number {
  const n = Math.abs(Number(sysctl ?? NaN));
  if (Number.isInteger(n) && n > 0 && maxSlot < n) return n;
  let m = 128;
  while (maxSlot >= m) m *= 2;
  return m;
}
