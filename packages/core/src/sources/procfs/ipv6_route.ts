/** A row of `/proc/net/ipv6_route`. */
export interface Ipv6RouteRow {
  dst: Uint8Array;
  dst_len: number;
  src: Uint8Array;
  src_len: number;
  gateway: Uint8Array;
  metric: number;
  refcnt: number;
  use: number;
  flags: number;
  dev: string;
}

function bytes(hex: string): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Parses `/proc/net/ipv6_route` (no header; addresses are plain network-order hex). */
export function parseIpv6Route(text: string): Ipv6RouteRow[] {
  const out: Ipv6RouteRow[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    out.push({
      dst: bytes(f[0]!),
      dst_len: parseInt(f[1]!, 16),
      src: bytes(f[2]!),
      src_len: parseInt(f[3]!, 16),
      gateway: bytes(f[4]!),
      metric: parseInt(f[5]!, 16) >>> 0,
      refcnt: parseInt(f[6]!, 16) >>> 0,
      use: parseInt(f[7]!, 16) >>> 0,
      flags: parseInt(f[8]!, 16) >>> 0,
      dev: f[9]!,
    });
  }
  return out;
}
