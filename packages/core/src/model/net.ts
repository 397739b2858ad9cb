/**
 * The network configuration of a kernel (the `net.core` / `net.ipv4`
 * sysctls the socket options read) and the per-socket option state
 * (`sk_sndbuf`, `sk_userlocks`, `icsk_ca_ops`, `nonagle`, ...) that
 * `setsockopt` / `getsockopt` change and read.
 */
import { AF_INET6, SOCK_STREAM, TCP_CLOSE, TCP_LISTEN, type Socket } from './socket.js';

/** `SOCK_MIN_SNDBUF`: `2 * (2048 + SKB_DATA_ALIGN(sizeof(struct sk_buff)))` on x86-64. */
export const SOCK_MIN_SNDBUF = 4608;
/** `SOCK_MIN_RCVBUF`: `2048 + SKB_DATA_ALIGN(sizeof(struct sk_buff))` on x86-64. */
export const SOCK_MIN_RCVBUF = 2304;
/** `sk_userlocks` bits set by SO_SNDBUF / SO_RCVBUF. */
export const SOCK_SNDBUF_LOCK = 1;
export const SOCK_RCVBUF_LOCK = 2;
/** `TCP_MSS_DEFAULT`: the mss of a socket that has no route yet. */
export const TCP_MSS_DEFAULT = 536;
/** `SOCK_TXREHASH_DEFAULT`: `(u8)-1`, "use the sysctl". */
export const SOCK_TXREHASH_DEFAULT = 255;
/** `TCP_CA_NAME_MAX`. */
export const TCP_CA_NAME_MAX = 16;

/** The sysctls socket options depend on, with the kernel's defaults. */
export class NetConfig {
  /** `net.ipv4.tcp_available_congestion_control`: the registered algorithms (reno is always built in). */
  tcp_available_congestion_control: string[] = ['reno', 'cubic'];
  /** `net.ipv4.tcp_congestion_control`: what new TCP sockets get. */
  tcp_congestion_control = 'cubic';
  /** `net.core.wmem_max` / `rmem_max`: the SO_SNDBUF / SO_RCVBUF caps. */
  wmem_max = 212992;
  rmem_max = 212992;
  /** `net.core.wmem_default` / `rmem_default`: initial buffers of non-TCP sockets. */
  wmem_default = 212992;
  rmem_default = 212992;
  /** `net.ipv4.tcp_wmem` / `tcp_rmem`: min, default, max. */
  tcp_wmem: [number, number, number] = [4096, 16384, 4194304];
  tcp_rmem: [number, number, number] = [4096, 131072, 6291456];
  /** `net.ipv4.tcp_keepalive_time` / `_intvl` / `_probes` (seconds, seconds, count). */
  tcp_keepalive_time = 7200;
  tcp_keepalive_intvl = 75;
  tcp_keepalive_probes = 9;
  /** `net.ipv4.tcp_syn_retries`. */
  tcp_syn_retries = 6;
  /** `CONFIG_HZ`: jiffies per second (TCP_BPF_DELACK_MAX / TCP_BPF_RTO_MIN bounds are in jiffies). */
  hz = 250;
  /** `net.core.txrehash`. */
  txrehash = 1;
  /** Network devices by ifindex (`lo` is 1), for SO_BINDTODEVICE / SO_BINDTOIFINDEX. */
  netdevs = new Map<number, string>([[1, 'lo']]);

  /** Makes a congestion-control algorithm available (loading `tcp_<name>.ko`). */
  registerCongestion(name: string): void {
    if (!this.tcp_available_congestion_control.includes(name)) this.tcp_available_congestion_control.push(name);
  }
}

/**
 * The option state of one socket. Field names are the kernel's
 * (`struct sock`, `inet_sock`, `ipv6_pinfo`, `tcp_sock`, `inet_connection_sock`).
 */
export interface SockOpts {
  sk_sndbuf: number;
  sk_rcvbuf: number;
  sk_userlocks: number;
  /** `sk_reuse` (SK_CAN_REUSE = 1). */
  sk_reuse: number;
  sk_reuseport: number;
  /** `sock_flag(sk, SOCK_KEEPOPEN)`. */
  keepopen: boolean;
  sk_priority: number;
  sk_mark: number;
  sk_rcvlowat: number;
  /** Bytes per second; 2^64-1 is unlimited. */
  sk_max_pacing_rate: bigint;
  sk_bound_dev_if: number;
  sk_txrehash: number;
  /** IPv4 `inet->tos`. */
  tos: number;
  /** IPv6 `np->tclass`. */
  tclass: number;
  /** IPv6 auto flow label: null until set (then the sysctl's default, on). */
  autoflowlabel: boolean | null;
  /** TCP only from here. `icsk_ca_ops->name`. */
  icsk_ca_name: string;
  /** `tp->nonagle & TCP_NAGLE_OFF`. */
  nodelay: boolean;
  user_mss: number;
  mss_cache: number;
  /** Seconds; 0 means the sysctl. */
  keepalive_time: number;
  keepalive_intvl: number;
  keepalive_probes: number;
  icsk_syn_retries: number;
  window_clamp: number;
  thin_lto: number;
  /** Milliseconds. */
  icsk_user_timeout: number;
  notsent_lowat: number;
  save_syn: number;
  snd_cwnd: number;
  snd_cwnd_clamp: number;
  snd_ssthresh: number;
  /** Segments sent (TCP_BPF_IW only applies before data was sent). */
  data_segs_out: number;
  /** Jiffies; 0 means the default. */
  icsk_delack_max: number;
  icsk_rto_min: number;
  bpf_sock_ops_cb_flags: number;
}

/** The options a socket starts with (`sock_init_data`, `tcp_init_sock`, the TCP sysctls). */
export function initialSockOpts(sk: Socket, net: NetConfig): SockOpts {
  const tcp = sk.proto === 'tcp';
  return {
    sk_sndbuf: tcp ? net.tcp_wmem[1] : net.wmem_default,
    sk_rcvbuf: tcp ? net.tcp_rmem[1] : net.rmem_default,
    sk_userlocks: 0,
    sk_reuse: 0,
    sk_reuseport: 0,
    keepopen: false,
    sk_priority: 0,
    sk_mark: 0,
    sk_rcvlowat: 1,
    sk_max_pacing_rate: 0xffffffffffffffffn,
    sk_bound_dev_if: 0,
    // TCP takes the sysctl when it listens or connects.
    sk_txrehash: tcp && sk.skc_state !== TCP_CLOSE ? net.txrehash : SOCK_TXREHASH_DEFAULT,
    tos: 0,
    tclass: 0,
    autoflowlabel: null,
    icsk_ca_name: tcp ? net.tcp_congestion_control : '',
    nodelay: false,
    user_mss: 0,
    mss_cache: TCP_MSS_DEFAULT,
    keepalive_time: 0,
    keepalive_intvl: 0,
    keepalive_probes: 0,
    icsk_syn_retries: 0,
    window_clamp: 0,
    thin_lto: 0,
    icsk_user_timeout: 0,
    notsent_lowat: 0,
    save_syn: 0,
    snd_cwnd: 10,
    snd_cwnd_clamp: 0xffffffff,
    snd_ssthresh: 0x7fffffff,
    data_segs_out: 0,
    icsk_delack_max: 0,
    icsk_rto_min: 0,
    bpf_sock_ops_cb_flags: 0,
  };
}

/** True for the states whose sock is a full `struct sock` (not a TIME_WAIT / request mini-socket). */
export function sk_fullsock(sk: Socket): boolean {
  return !(sk.proto === 'tcp' && (sk.skc_state === 6 /* TIME_WAIT */ || sk.skc_state === 12 /* NEW_SYN_RECV */));
}

/** True for IPv4/IPv6 sockets (`sk_is_inet`). */
export function sk_is_inet(sk: Socket): boolean {
  return sk.skc_family === 2 || sk.skc_family === AF_INET6;
}

/** True for a TCP stream socket in LISTEN or CLOSE (where TCP_MAXSEG reads back the user mss). */
export function tcpUnconnected(sk: Socket): boolean {
  return sk.sk_type === SOCK_STREAM && (sk.skc_state === TCP_LISTEN || sk.skc_state === TCP_CLOSE);
}
