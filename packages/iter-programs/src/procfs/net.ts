import {
  AF_INET6,
  RTF_GATEWAY,
  SS_CONNECTED,
  SS_CONNECTING,
  SS_DISCONNECTING,
  SS_UNCONNECTED,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  __SO_ACCEPTCON,
  type Ipv6Route,
  type Socket,
} from '@bpf-iter/core';
import { be32AsX, HEX, hex, in6AsX, lpad, padLine, pi6, px, rpad } from './format.js';

/** Header of /proc/net/tcp (padded to 149 columns). */
export const TCP4_HEADER = padLine('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode', 149);
/** Header of /proc/net/tcp6. */
export const TCP6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
/** Header of /proc/net/udp (padded to 127 columns). */
export const UDP4_HEADER = padLine('   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops', 127);
/** Header of /proc/net/udp6. */
export const UDP6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
/** Header of /proc/net/unix. */
export const UNIX_HEADER = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
/** Header of /proc/net/netlink. */
export const NETLINK_HEADER = 'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n';

function inetFields(sk: Socket): string {
  const v6 = sk.skc_family === AF_INET6;
  const x = sk.inet ?? { tr: 0, tm_when: 0, retrnsmt: 0, timeout: 0, tail: '' };
  return (
    (v6 ? in6AsX(sk.skc_rcv_saddr) : be32AsX(sk.skc_rcv_saddr)) +
    ':' +
    HEX(sk.skc_num, 4) +
    ' ' +
    (v6 ? in6AsX(sk.skc_daddr) : be32AsX(sk.skc_daddr)) +
    ':' +
    HEX(sk.dport, 4) +
    ' ' +
    HEX(sk.skc_state, 2) +
    ' ' +
    HEX(sk.tx_queue, 8) +
    ':' +
    HEX(sk.rx_queue, 8) +
    ' ' +
    HEX(x.tr, 2) +
    ':' +
    HEX(x.tm_when, 8) +
    ' ' +
    HEX(x.retrnsmt, 8) +
    ' ' +
    rpad(sk.sk_uid, 5) +
    ' ' +
    rpad(x.timeout, 8) +
    ' ' +
    sk.ino +
    (x.tail ? ' ' + x.tail : '')
  );
}

/** One line of /proc/net/tcp or tcp6 (by the socket's family); `sl` is the running index. */
export function tcpLine(sk: Socket, sl: number): string {
  const line = rpad(sl, 4) + ': ' + inetFields(sk);
  return sk.skc_family === AF_INET6 ? line + '\n' : padLine(line, 149);
}

/** One line of /proc/net/udp or udp6; `bucket` is the hash2 bucket (the `sl` column). */
export function udpLine(sk: Socket, bucket: number): string {
  const line = rpad(bucket, 5) + ': ' + inetFields(sk);
  return sk.skc_family === AF_INET6 ? line + '\n' : padLine(line, 127);
}

/** One line of /proc/net/unix. */
export function unixLine(sk: Socket): string {
  // unix_seq_show: Flags and St are derived from sk_state (and whether the sock has a struct socket).
  const listen = sk.skc_state === TCP_LISTEN;
  const est = sk.skc_state === TCP_ESTABLISHED;
  const st = sk.sk_socket ? (est ? SS_CONNECTED : SS_UNCONNECTED) : est ? SS_CONNECTING : SS_DISCONNECTING;
  let line = `${px(sk.addr)}: ${HEX(sk.sk_refcnt, 8)} 00000000 ${HEX(listen ? __SO_ACCEPTCON : 0, 8)} ${HEX(sk.sk_type, 4)} ${HEX(st, 2)} ${rpad(sk.ino, 5)}`;
  if (sk.path) line += ' ' + sk.path;
  return line + '\n';
}

/** One line of /proc/net/netlink. */
export function netlinkLine(sk: Socket): string {
  const n = sk.netlink ?? { portid: 0, groups: 0, rmem: 0, wmem: 0, dump: 0, locks: 2, drops: 0 };
  return `${px(sk.addr)} ${lpad(sk.sk_protocol, 3)} ${lpad(n.portid, 10)} ${hex(n.groups, 8)} ${lpad(n.rmem, 8)} ${lpad(n.wmem, 8)} ${lpad(n.dump, 5)} ${lpad(n.locks, 8)} ${lpad(n.drops, 8)} ${lpad(sk.ino, 8)}\n`;
}

/** One line of /proc/net/ipv6_route. */
export function ipv6RouteLine(rt: Ipv6Route): string {
  // ipv6_route_native_seq_show: a route with a gateway prints it and ORs RTF_GATEWAY into the flags.
  const hasGw = rt.gateway.some((b) => b !== 0);
  const gw = hasGw ? pi6(rt.gateway) : '00000000000000000000000000000000';
  const flags = (rt.fib6_flags | (hasGw ? RTF_GATEWAY : 0)) >>> 0;
  return `${pi6(rt.fib6_dst)} ${hex(rt.fib6_dst_len, 2)} ${pi6(rt.fib6_src)} ${hex(rt.fib6_src_len, 2)} ${gw} ${hex(rt.fib6_metric, 8)} ${hex(rt.fib6_ref, 8)} ${hex(rt.use, 8)} ${hex(flags, 8)} ${rpad(rt.dev, 8)}\n`;
}
