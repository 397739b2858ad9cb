/**
 * `bpf_setsockopt` (#49) / `bpf_getsockopt` (#57), the `sk` variants the
 * tcp and unix iterators offer (net/core/filter.c `bpf_sk_setsockopt`,
 * `__bpf_setsockopt`, `sol_socket_sockopt`, `sol_tcp_sockopt`,
 * `sol_ip_sockopt`, `sol_ipv6_sockopt`, then `sk_setsockopt`,
 * `do_tcp_setsockopt`, ... on the model's socket). Only the options the
 * kernel allows from BPF; anything else is -EINVAL like there.
 */
import {
  AF_INET,
  AF_INET6,
  IPPROTO_TCP,
  SOCK_MIN_RCVBUF,
  SOCK_MIN_SNDBUF,
  SOCK_RCVBUF_LOCK,
  SOCK_SNDBUF_LOCK,
  SOCK_STREAM,
  SOCK_TXREHASH_DEFAULT,
  Socket,
  TCP_CA_NAME_MAX,
  TCP_CLOSE,
  TCP_LISTEN,
  sk_fullsock,
  sk_is_inet,
  type Kernel,
  type SockOpts,
} from '@bpf-iter/core';
import { neg } from '../errno.js';
import { runKernel } from '../run_ctx.js';
import { checkHelper } from './func_proto.js';

/** Levels. */
export const SOL_IP = 0;
export const SOL_SOCKET = 1;
export const SOL_TCP = 6;
export const SOL_IPV6 = 41;
/** SOL_SOCKET options (asm-generic/socket.h). */
export const SO_REUSEADDR = 2;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_PRIORITY = 12;
export const SO_REUSEPORT = 15;
export const SO_RCVLOWAT = 18;
export const SO_BINDTODEVICE = 25;
export const SO_MARK = 36;
export const SO_MAX_PACING_RATE = 47;
export const SO_BINDTOIFINDEX = 62;
export const SO_TXREHASH = 74;
/** SOL_TCP options (uapi linux/tcp.h). */
export const TCP_NODELAY = 1;
export const TCP_MAXSEG = 2;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
export const TCP_SYNCNT = 7;
export const TCP_WINDOW_CLAMP = 10;
export const TCP_CONGESTION = 13;
export const TCP_THIN_LINEAR_TIMEOUTS = 16;
export const TCP_USER_TIMEOUT = 18;
export const TCP_NOTSENT_LOWAT = 25;
export const TCP_SAVE_SYN = 27;
export const TCP_SAVED_SYN = 28;
/** BPF-only SOL_TCP options (uapi linux/bpf.h). */
export const TCP_BPF_IW = 1001;
export const TCP_BPF_SNDCWND_CLAMP = 1002;
export const TCP_BPF_DELACK_MAX = 1003;
export const TCP_BPF_RTO_MIN = 1004;
export const TCP_BPF_SYN = 1005;
export const TCP_BPF_SYN_IP = 1006;
export const TCP_BPF_SYN_MAC = 1007;
export const TCP_BPF_SOCK_OPS_CB_FLAGS = 1008;
/** SOL_IP / SOL_IPV6 options. */
export const IP_TOS = 1;
export const IPV6_TCLASS = 67;
export const IPV6_AUTOFLOWLABEL = 70;

const INT_MAX = 0x7fffffff;
const INET_ECN_MASK = 3;
const TCP_MIN_MSS = 88;
const MAX_TCP_WINDOW = 32767;
const MAX_TCP_KEEPIDLE = 32767;
const MAX_TCP_KEEPINTVL = 32767;
const MAX_TCP_KEEPCNT = 127;
const MAX_TCP_SYNCNT = 127;
const IFNAMSIZ = 16;
const BPF_SOCK_OPS_ALL_CB_FLAGS = 0x7f;
/** `ip_tos2prio`, indexed by `IPTOS_TOS(tos) >> 1`. */
const IP_TOS2PRIO = [0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4];

/** An option value as a program passes it: bytes, a C int, or a C string literal (its bytes and the NUL). */
export type SockoptVal = Uint8Array | number | string;

function toBytes(v: SockoptVal): Uint8Array {
  if (typeof v === 'number') {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    return b;
  }
  return typeof v === 'string' ? Buffer.from(v + '\0', 'utf8') : v;
}

function int(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
}

function cstr(b: Uint8Array, len: number): string {
  const r = b.subarray(0, len);
  const nul = r.indexOf(0);
  return Buffer.from(nul < 0 ? r : r.subarray(0, nul)).toString('latin1');
}

/** One option: its length check and the get/set of `sk_setsockopt` & co. */
interface Ctx {
  k: Kernel;
  sk: Socket;
  o: SockOpts;
}

// ------------------------------------------------------------- SOL_SOCKET

function solSocket(c: Ctx, optname: number, buf: Uint8Array, len: number, getopt: boolean): number | { val: number } {
  switch (optname) {
    case SO_REUSEADDR: case SO_SNDBUF: case SO_RCVBUF: case SO_KEEPALIVE: case SO_PRIORITY: case SO_REUSEPORT:
    case SO_RCVLOWAT: case SO_MARK: case SO_MAX_PACING_RATE: case SO_BINDTOIFINDEX: case SO_TXREHASH:
      if (len !== 4) return neg('EINVAL');
      break;
    case SO_BINDTODEVICE:
      break;
    default:
      return neg('EINVAL');
  }
  const { k, sk, o } = c;
  if (getopt) {
    switch (optname) {
      case SO_BINDTODEVICE: return neg('EINVAL');
      case SO_REUSEADDR: return { val: o.sk_reuse };
      case SO_SNDBUF: return { val: o.sk_sndbuf };
      case SO_RCVBUF: return { val: o.sk_rcvbuf };
      case SO_KEEPALIVE: return { val: o.keepopen ? 1 : 0 };
      case SO_PRIORITY: return { val: o.sk_priority };
      case SO_REUSEPORT: return { val: o.sk_reuseport };
      case SO_RCVLOWAT: return { val: o.sk_rcvlowat };
      case SO_MARK: return { val: o.sk_mark | 0 };
      // A 4-byte optval gets the rate capped to u32.
      case SO_MAX_PACING_RATE: return { val: Number(o.sk_max_pacing_rate > 0xffffffffn ? 0xffffffffn : o.sk_max_pacing_rate) | 0 };
      case SO_BINDTOIFINDEX: return { val: o.sk_bound_dev_if };
      default: return { val: o.sk_txrehash };
    }
  }
  if (optname === SO_BINDTODEVICE) {
    // sock_setbindtodevice: at most IFNAMSIZ-1 bytes of name; "" unbinds.
    const name = cstr(buf, Math.min(len, IFNAMSIZ - 1));
    let index = 0;
    if (name !== '') {
      const dev = [...k.net.netdevs].find(([, n]) => n === name);
      if (!dev) return neg('ENODEV');
      index = dev[0];
    }
    o.sk_bound_dev_if = index;
    return 0;
  }
  const val = int(buf);
  const u32 = val >>> 0;
  switch (optname) {
    case SO_REUSEADDR:
      o.sk_reuse = val ? 1 : 0;
      return 0;
    case SO_SNDBUF: {
      // BSD treats the size as a hint: capped by wmem_max, stored doubled, never below the minimum.
      const v = Math.min(Math.min(u32, k.net.wmem_max), Math.floor(INT_MAX / 2));
      o.sk_userlocks |= SOCK_SNDBUF_LOCK;
      o.sk_sndbuf = Math.max(v * 2, SOCK_MIN_SNDBUF);
      return 0;
    }
    case SO_RCVBUF: {
      const v = Math.min(Math.min(u32, k.net.rmem_max), Math.floor(INT_MAX / 2));
      o.sk_userlocks |= SOCK_RCVBUF_LOCK;
      o.sk_rcvbuf = Math.max(v * 2, SOCK_MIN_RCVBUF);
      return 0;
    }
    case SO_KEEPALIVE:
      o.keepopen = val !== 0;
      return 0;
    case SO_PRIORITY:
      // Values above 6 need CAP_NET_ADMIN/RAW, which a BPF context has.
      o.sk_priority = val;
      return 0;
    case SO_REUSEPORT:
      if (val && !sk_is_inet(sk)) return neg('EOPNOTSUPP');
      o.sk_reuseport = val ? 1 : 0;
      return 0;
    case SO_RCVLOWAT: {
      let v = val < 0 ? INT_MAX : val;
      if (sk.proto !== 'tcp') {
        o.sk_rcvlowat = v || 1;
        return 0;
      }
      // tcp_set_rcvlowat: capped by half the buffer, and grows an unlocked rcvbuf to fit.
      const locked = (o.sk_userlocks & SOCK_RCVBUF_LOCK) !== 0;
      v = Math.min(v, (locked ? o.sk_rcvbuf : k.net.tcp_rmem[2]) >> 1);
      o.sk_rcvlowat = v || 1;
      if (!locked) {
        const space = v * 2; // tcp_space_from_win at the default scaling ratio
        if (space > o.sk_rcvbuf) {
          o.sk_rcvbuf = space;
          o.window_clamp = v;
        }
      }
      return 0;
    }
    case SO_MARK:
      o.sk_mark = u32;
      return 0;
    case SO_MAX_PACING_RATE:
      o.sk_max_pacing_rate = u32 === 0xffffffff ? 0xffffffffffffffffn : BigInt(u32);
      return 0;
    case SO_BINDTOIFINDEX:
      if (val < 0) return neg('EINVAL');
      o.sk_bound_dev_if = val;
      return 0;
    default: // SO_TXREHASH
      if (val < -1 || val > 1) return neg('EINVAL');
      o.sk_txrehash = (val & 0xff) === SOCK_TXREHASH_DEFAULT ? k.net.txrehash : val;
      return 0;
  }
}

// ------------------------------------------------------------- SOL_TCP

/** `char name[TCP_CA_NAME_MAX]` of an algorithm, zero-padded (cached: a handful of names). */
const caNames = new Map<string, Uint8Array>();
function caName(name: string): Uint8Array {
  let b = caNames.get(name);
  if (!b) {
    b = new Uint8Array(TCP_CA_NAME_MAX);
    b.set(Buffer.from(name, 'latin1').subarray(0, TCP_CA_NAME_MAX));
    caNames.set(name, b);
  }
  return b;
}

function solTcpCongestion(c: Ctx, buf: Uint8Array, len: number, getopt: boolean, out: Uint8Array | null): number {
  if (len < 2) return neg('EINVAL');
  const { k, o } = c;
  if (getopt) {
    // The last byte is kept for the NUL; the name is copied zero-padded (char name[TCP_CA_NAME_MAX]).
    const n = Math.min(len - 1, TCP_CA_NAME_MAX);
    out!.set(caName(o.icsk_ca_name).subarray(0, n));
    out![len - 1] = 0;
    return 0;
  }
  // "cdg" keeps a pointer in the ca area a bpf-tcp-cc could overwrite: refused.
  if (len >= 3 && buf[0] === 0x63 && buf[1] === 0x64 && buf[2] === 0x67 && (len === 3 || buf[3] === 0)) return neg('ENOTSUPP');
  const name = cstr(buf, Math.min(TCP_CA_NAME_MAX - 1, len));
  if (name === o.icsk_ca_name) return 0;
  // No module autoload from BPF: only registered algorithms.
  if (!k.net.tcp_available_congestion_control.includes(name)) return neg('ENOENT');
  o.icsk_ca_name = name;
  return 0;
}

function bpfSolTcpSetsockopt(c: Ctx, optname: number, buf: Uint8Array, len: number): number {
  if (len !== 4) return neg('EINVAL');
  const { k, o } = c;
  const val = int(buf);
  const jiffies = (usecs: number): number => Math.ceil((usecs >>> 0) * k.net.hz / 1e6);
  const hz5 = Math.floor(k.net.hz / 5); // TCP_DELACK_MAX == TCP_RTO_MIN == HZ/5; TCP_TIMEOUT_MIN is 2 jiffies
  switch (optname) {
    case TCP_BPF_IW:
      if (val <= 0 || o.data_segs_out > 0) return neg('EINVAL');
      o.snd_cwnd = val;
      return 0;
    case TCP_BPF_SNDCWND_CLAMP:
      if (val <= 0) return neg('EINVAL');
      o.snd_cwnd_clamp = val;
      o.snd_ssthresh = val;
      return 0;
    case TCP_BPF_DELACK_MAX:
    case TCP_BPF_RTO_MIN: {
      const t = jiffies(val);
      if (t > hz5 || t < 2) return neg('EINVAL');
      if (optname === TCP_BPF_DELACK_MAX) o.icsk_delack_max = t;
      else o.icsk_rto_min = t;
      return 0;
    }
    case TCP_BPF_SOCK_OPS_CB_FLAGS:
      if (val & ~BPF_SOCK_OPS_ALL_CB_FLAGS) return neg('EINVAL');
      o.bpf_sock_ops_cb_flags = val;
      return 0;
    default:
      return neg('EINVAL');
  }
}

function solTcp(c: Ctx, optname: number, buf: Uint8Array, len: number, getopt: boolean, out: Uint8Array | null): number | { val: number } {
  const { k, sk, o } = c;
  if (sk.sk_protocol !== IPPROTO_TCP) return neg('EINVAL');
  switch (optname) {
    case TCP_NODELAY: case TCP_MAXSEG: case TCP_KEEPIDLE: case TCP_KEEPINTVL: case TCP_KEEPCNT: case TCP_SYNCNT:
    case TCP_WINDOW_CLAMP: case TCP_THIN_LINEAR_TIMEOUTS: case TCP_USER_TIMEOUT: case TCP_NOTSENT_LOWAT: case TCP_SAVE_SYN:
      if (len !== 4) return neg('EINVAL');
      break;
    case TCP_CONGESTION:
      return solTcpCongestion(c, buf, len, getopt, out);
    case TCP_SAVED_SYN:
      if (len < 1) return neg('EINVAL');
      // The model keeps no SYN headers; do_tcp_setsockopt has no such option.
      return getopt ? neg('EINVAL') : neg('ENOPROTOOPT');
    default:
      return getopt ? neg('EINVAL') : bpfSolTcpSetsockopt(c, optname, buf, len);
  }
  if (getopt) {
    switch (optname) {
      case TCP_NODELAY: return { val: o.nodelay ? 1 : 0 };
      case TCP_MAXSEG: return { val: o.user_mss && (sk.skc_state === TCP_CLOSE || sk.skc_state === TCP_LISTEN) ? o.user_mss : o.mss_cache };
      case TCP_KEEPIDLE: return { val: o.keepalive_time || k.net.tcp_keepalive_time };
      case TCP_KEEPINTVL: return { val: o.keepalive_intvl || k.net.tcp_keepalive_intvl };
      case TCP_KEEPCNT: return { val: o.keepalive_probes || k.net.tcp_keepalive_probes };
      case TCP_SYNCNT: return { val: o.icsk_syn_retries || k.net.tcp_syn_retries };
      case TCP_WINDOW_CLAMP: return { val: o.window_clamp };
      case TCP_THIN_LINEAR_TIMEOUTS: return { val: o.thin_lto };
      case TCP_USER_TIMEOUT: return { val: o.icsk_user_timeout };
      case TCP_NOTSENT_LOWAT: return { val: o.notsent_lowat | 0 };
      default: return { val: o.save_syn };
    }
  }
  const val = int(buf);
  const range = (lo: number, hi: number, set: () => void): number => (val < lo || val > hi ? neg('EINVAL') : (set(), 0));
  switch (optname) {
    case TCP_NODELAY:
      o.nodelay = val !== 0;
      return 0;
    case TCP_MAXSEG:
      if (val && (val < TCP_MIN_MSS || val > MAX_TCP_WINDOW)) return neg('EINVAL');
      o.user_mss = val;
      return 0;
    case TCP_KEEPIDLE: return range(1, MAX_TCP_KEEPIDLE, () => (o.keepalive_time = val));
    case TCP_KEEPINTVL: return range(1, MAX_TCP_KEEPINTVL, () => (o.keepalive_intvl = val));
    case TCP_KEEPCNT: return range(1, MAX_TCP_KEEPCNT, () => (o.keepalive_probes = val));
    case TCP_SYNCNT: return range(1, MAX_TCP_SYNCNT, () => (o.icsk_syn_retries = val));
    case TCP_WINDOW_CLAMP:
      if (!val) {
        if (sk.skc_state !== TCP_CLOSE) return neg('EINVAL');
        o.window_clamp = 0;
        return 0;
      }
      o.window_clamp = Math.max(SOCK_MIN_RCVBUF / 2, val);
      return 0;
    case TCP_THIN_LINEAR_TIMEOUTS: return range(0, 1, () => (o.thin_lto = val));
    case TCP_USER_TIMEOUT: return range(0, INT_MAX, () => (o.icsk_user_timeout = val));
    case TCP_NOTSENT_LOWAT:
      o.notsent_lowat = val >>> 0;
      return 0;
    default: // TCP_SAVE_SYN: 0 off, 1 on, 2 from the ether header
      return range(0, 2, () => (o.save_syn = val));
  }
}

// ------------------------------------------------------------- SOL_IP / SOL_IPV6

function solIp(c: Ctx, optname: number, buf: Uint8Array, len: number, getopt: boolean): number | { val: number } {
  const { sk, o } = c;
  if (sk.skc_family !== AF_INET || optname !== IP_TOS || len !== 4) return neg('EINVAL');
  if (getopt) return { val: o.tos };
  let val = int(buf) & 0xff;
  if (sk.sk_type === SOCK_STREAM) val = (val & ~INET_ECN_MASK) | (o.tos & INET_ECN_MASK);
  if (val !== o.tos) {
    o.tos = val;
    o.sk_priority = IP_TOS2PRIO[(val & 0x1e) >> 1]!;
  }
  return 0;
}

function solIpv6(c: Ctx, optname: number, buf: Uint8Array, len: number, getopt: boolean): number | { val: number } {
  const { sk, o } = c;
  if (sk.skc_family !== AF_INET6 || (optname !== IPV6_TCLASS && optname !== IPV6_AUTOFLOWLABEL) || len !== 4) return neg('EINVAL');
  if (optname === IPV6_AUTOFLOWLABEL) {
    // Unset: net.ipv6.auto_flowlabels' default (1, opt-out) means on.
    if (getopt) return { val: o.autoflowlabel ?? true ? 1 : 0 };
    o.autoflowlabel = int(buf) !== 0;
    return 0;
  }
  if (getopt) return { val: o.tclass };
  let val = int(buf);
  if (val < -1 || val > 0xff) return neg('EINVAL');
  if (val === -1) val = 0;
  if (sk.sk_type === SOCK_STREAM) val = (val & ~INET_ECN_MASK) | (o.tclass & INET_ECN_MASK);
  o.tclass = val;
  return 0;
}

function dispatch(sk: unknown, level: number, optname: number, buf: Uint8Array, len: number, getopt: boolean, out: Uint8Array | null): number | { val: number } {
  if (!(sk instanceof Socket) || !sk_fullsock(sk)) return neg('EINVAL');
  const k = runKernel();
  const c: Ctx = { k, sk, o: k.sockOpts(sk) };
  switch (level) {
    case SOL_SOCKET: return solSocket(c, optname, buf, len, getopt);
    case SOL_TCP: return solTcp(c, optname, buf, len, getopt, out);
    case SOL_IP: return solIp(c, optname, buf, len, getopt);
    case SOL_IPV6: return solIpv6(c, optname, buf, len, getopt);
    default: return neg('EINVAL');
  }
}

/**
 * `long bpf_setsockopt(void *sk, int level, int optname, void *optval, int optlen)`:
 * sets a socket option on the iterated socket. `optval` is bytes, a C int
 * (4 bytes) or a C string (its bytes and the NUL, like `char cc[] = "dctcp"`);
 * `optlen` defaults to its size. Returns 0 or a negative errno: -EINVAL
 * (not a full socket, level/option not allowed from BPF, wrong optlen, value
 * out of range), -ENOENT (no such congestion control), -ENOTSUPP (`cdg`),
 * -EOPNOTSUPP (SO_REUSEPORT on a non-inet socket), -ENODEV (no such device),
 * -ENOPROTOOPT (TCP_SAVED_SYN).
 *
 * @example
 * ```ts
 * SEC('iter/tcp', (ctx) => {
 *   if (ctx.sk_common) bpf_setsockopt(ctx.sk_common, SOL_TCP, TCP_CONGESTION, 'dctcp');
 *   return 0;
 * }, { helpers: ['bpf_setsockopt'] });
 * ```
 */
export function bpf_setsockopt(sk: Socket, level: number, optname: number, optval: SockoptVal, optlen?: number): number {
  checkHelper('bpf_setsockopt');
  const buf = toBytes(optval);
  const len = optlen ?? buf.length;
  // A length beyond the memory passed would fail verification.
  if (!Number.isInteger(len) || len < 0 || len > buf.length) return neg('EINVAL');
  const r = dispatch(sk, level, optname, buf, len, false, null);
  return typeof r === 'number' ? r : 0;
}

/**
 * `long bpf_getsockopt(void *sk, int level, int optname, void *optval, int optlen)`:
 * reads a socket option into `optval` (`optlen` bytes, default its size).
 * Returns 0 or the same negative errnos as {@link bpf_setsockopt}; on
 * error `optval` is zeroed. TCP_CONGESTION copies the algorithm's name
 * NUL-terminated.
 *
 * @example
 * ```ts
 * const cc = new Uint8Array(16);
 * if (bpf_getsockopt(sk, SOL_TCP, TCP_CONGESTION, cc) === 0) console.log(Buffer.from(cc).toString('latin1'));
 * ```
 */
export function bpf_getsockopt(sk: Socket, level: number, optname: number, optval: Uint8Array, optlen?: number): number {
  checkHelper('bpf_getsockopt');
  if (!(optval instanceof Uint8Array)) return neg('EINVAL');
  const len = optlen ?? optval.length;
  if (!Number.isInteger(len) || len < 0 || len > optval.length) return neg('EINVAL');
  const scratch = new Uint8Array(len);
  const r = dispatch(sk, level, optname, scratch, len, true, scratch);
  if (typeof r === 'number' && r < 0) {
    optval.fill(0, 0, len);
    return r;
  }
  if (typeof r !== 'number') new DataView(scratch.buffer).setInt32(0, r.val, true);
  optval.set(scratch);
  return 0;
}
