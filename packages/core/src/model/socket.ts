import { KObject } from '../refcount.js';
import type { SockOpts } from './net.js';

/** Address families. */
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;

/** Socket types. */
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_SEQPACKET = 5;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** TCP states (`include/net/tcp_states.h`). */
export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_FIN_WAIT1 = 4;
export const TCP_FIN_WAIT2 = 5;
export const TCP_TIME_WAIT = 6;
export const TCP_CLOSE = 7;
export const TCP_CLOSE_WAIT = 8;
export const TCP_LAST_ACK = 9;
export const TCP_LISTEN = 10;
export const TCP_CLOSING = 11;
export const TCP_NEW_SYN_RECV = 12;

/**
 * `socket_state` (`include/uapi/linux/net.h`): the `St` column of
 * /proc/net/unix, which the kernel derives from `sk_state` and whether the
 * sock has a `struct socket` (see {@link Socket.sk_socket}).
 */
export const SS_UNCONNECTED = 1;
export const SS_CONNECTING = 2;
export const SS_CONNECTED = 3;
export const SS_DISCONNECTING = 4;
/** The Flags bit /proc/net/unix shows for listening sockets (`sk_state == TCP_LISTEN`). */
export const __SO_ACCEPTCON = 1 << 16;

/** Which table of the kernel a socket is hashed in. */
export type SockProto = 'tcp' | 'udp' | 'unix' | 'netlink';

/** Fields `/proc/net/tcp` and `/proc/net/udp` print that the model only carries. */
export interface InetProcExtra {
  /** Timer kind (`tr`): 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 probe. */
  tr: number;
  /** Jiffies until the timer fires (`tm->when`). */
  tm_when: number;
  retrnsmt: number;
  timeout: number;
  /** The trailing fields as the kernel printed them (refcount, %pK, rto...), verbatim. */
  tail: string;
}

/** Fields of `/proc/net/netlink`. */
export interface NetlinkExtra {
  portid: number;
  groups: number;
  rmem: number;
  wmem: number;
  dump: number;
  locks: number;
  drops: number;
}

/**
 * What a {@link Socket} is made from, by the kernel's field names. Left out:
 * `sk_type`/`sk_protocol` follow `proto` (stream tcp and unix, dgram udp, raw
 * netlink), addresses are the family's any-address, ports, uid and queues 0,
 * `sk_refcnt` 2.
 */
export interface SocketInit {
  proto: SockProto;
  skc_family: number;
  sk_type?: number;
  sk_protocol?: number;
  skc_state: number;
  skc_rcv_saddr?: Uint8Array;
  skc_daddr?: Uint8Array;
  skc_num?: number;
  dport?: number;
  sk_uid?: number;
  ino: number;
  cookie: bigint;
  tx_queue?: number;
  rx_queue?: number;
  path?: string;
  sk_socket?: boolean;
  addr?: bigint;
  inet?: InetProcExtra | null;
  netlink?: NetlinkExtra | null;
  sk_refcnt?: number;
}

/**
 * A socket (`struct sock` with its `sock_common`), of any family the
 * iterators walk. Field names follow the kernel; addresses are byte arrays
 * in network order (4 bytes for IPv4, 16 for IPv6), ports are host order.
 */
export class Socket extends KObject {
  /** Unhashed sockets are skipped by the iterators (SEQ_SKIP). */
  hashed = true;
  /**
   * True when {@link sk_uid} is not the kernel's: the host source reads
   * unix and netlink sockets from /proc tables that print no uid (0 in the
   * model). The JSON dumpers print `"uid": null` then.
   */
  sk_uid_unknown = false;
  /** Option state (buffers, TCP_CONGESTION, ...), created on first use by `Kernel.sockOpts`. */
  opts: SockOpts | null = null;
  /** False for sockets read from a host whose options the source cannot see (their options are unknown). */
  optsKnown = true;
  /** The sockmaps/sockhashes holding this socket and the sk_storage maps with storage for it (left on close). */
  bpfMaps: Set<{ dropOwner(owner: object): void }> | null = null;

  readonly proto: SockProto;
  readonly skc_family: number;
  readonly sk_type: number;
  readonly sk_protocol: number;
  /** `sk_state`: a TCP_* number for every family (unix sockets use TCP_CLOSE, TCP_LISTEN, TCP_ESTABLISHED). */
  skc_state: number;
  /** Local address (network order bytes; empty for unix/netlink). */
  readonly skc_rcv_saddr: Uint8Array;
  readonly skc_daddr: Uint8Array;
  /** Local port, host order (`skc_num`). */
  readonly skc_num: number;
  /** Remote port, host order. */
  readonly dport: number;
  /** Owner uid (`sk_uid`). */
  sk_uid: number;
  /** Inode number of the socket file. */
  readonly ino: number;
  /** Socket cookie, unique for the kernel's lifetime. */
  readonly cookie: bigint;
  tx_queue: number;
  rx_queue: number;
  /** Unix: bound path (`@name` for abstract), '' if none. */
  readonly path: string;
  /**
   * Whether the sock has a `struct socket` (`sk->sk_socket != NULL`); false
   * for a unix connection still waiting in its listener's accept queue.
   */
  sk_socket: boolean;
  /** Kernel address of the sock (`%pK`), 0 when hidden. */
  readonly addr: bigint;
  inet: InetProcExtra | null;
  netlink: NetlinkExtra | null;
  /** `sk_refcnt` as /proc/net/unix prints it. */
  readonly sk_refcnt: number;

  /**
   * @example
   * new Socket({ proto: 'tcp', skc_family: AF_INET, skc_state: TCP_LISTEN, skc_num: 22, ino: k.allocIno(), cookie: k.allocCookie() });
   */
  constructor(init: SocketInit) {
    super();
    this.proto = init.proto;
    this.skc_family = init.skc_family;
    this.sk_type = init.sk_type ?? (init.proto === 'udp' ? SOCK_DGRAM : init.proto === 'netlink' ? SOCK_RAW : SOCK_STREAM);
    this.sk_protocol = init.sk_protocol ?? (init.proto === 'tcp' ? IPPROTO_TCP : init.proto === 'udp' ? IPPROTO_UDP : 0);
    this.skc_state = init.skc_state;
    const any = (): Uint8Array => new Uint8Array(init.skc_family === AF_INET6 ? 16 : init.skc_family === AF_INET ? 4 : 0);
    this.skc_rcv_saddr = init.skc_rcv_saddr ?? any();
    this.skc_daddr = init.skc_daddr ?? any();
    this.skc_num = init.skc_num ?? 0;
    this.dport = init.dport ?? 0;
    this.sk_uid = init.sk_uid ?? 0;
    this.ino = init.ino;
    this.cookie = init.cookie;
    this.tx_queue = init.tx_queue ?? 0;
    this.rx_queue = init.rx_queue ?? 0;
    this.path = init.path ?? '';
    this.sk_socket = init.sk_socket ?? true;
    this.addr = init.addr ?? 0n;
    this.inet = init.inet ?? null;
    this.netlink = init.netlink ?? null;
    this.sk_refcnt = init.sk_refcnt ?? 2;
  }

  /**
   * The source could not learn the socket cookie (/proc shows none): `cookie`
   * is then the model's own identity for the iterators' resume, not the
   * kernel's value, and must not be shown as it.
   */
  cookie_unknown = false;

  /** True for IPv6 sockets. */
  get isV6(): boolean {
    return this.skc_family === AF_INET6;
  }
}
