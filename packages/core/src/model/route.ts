import { KObject } from '../refcount.js';

/** RTF_* route flags (`include/uapi/linux/ipv6_route.h`). */
export const RTF_UP = 0x0001;
export const RTF_GATEWAY = 0x0002;
export const RTF_HOST = 0x0004;
export const RTF_REJECT = 0x0200;
export const RTF_DEFAULT = 0x00010000;
export const RTF_ADDRCONF = 0x00040000;
export const RTF_NONEXTHOP = 0x00200000;
export const RTF_EXPIRES = 0x00400000;
export const RTF_CACHE = 0x01000000;
export const RTF_LOCAL = 0x80000000;

/** An IPv6 FIB entry (`struct fib6_info`) with the fields `/proc/net/ipv6_route` prints. */
export class Ipv6Route extends KObject {
  constructor(
    readonly fib6_dst: Uint8Array,
    readonly fib6_dst_len: number,
    readonly fib6_src: Uint8Array,
    readonly fib6_src_len: number,
    readonly gateway: Uint8Array,
    readonly fib6_metric: number,
    readonly fib6_ref: number,
    readonly use: number,
    readonly fib6_flags: number,
    /** Device name (`lo`, `eth0`). */
    readonly dev: string,
  ) {
    super();
  }
}
