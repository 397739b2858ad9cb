import type { Socket } from './socket.js';

/** The bucket every empty bucket is until its first socket. */
const EMPTY_BUCKET: readonly Socket[] = Object.freeze([]);

/**
 * A socket hash table (`inet_hashinfo` buckets, `udp_table.hash2`, the unix
 * and netlink tables): iterators walk it bucket by bucket, in bucket order,
 * each bucket in insertion order.
 */
export class SockTable {
  /** Every bucket; the empty ones are one shared frozen array until a socket is inserted (a host's udp table has 16k+). */
  readonly buckets: readonly (readonly Socket[])[];
  size = 0;

  constructor(readonly nBuckets: number) {
    this.buckets = new Array<readonly Socket[]>(nBuckets).fill(EMPTY_BUCKET);
  }

  /** Hashes a socket to a bucket: by local port and address, like the kernel's lookup hashes. */
  bucketOf(sk: Socket): number {
    let h = sk.skc_num * 2654435761;
    for (let i = 0; i < sk.skc_rcv_saddr.length; i++) h = Math.imul(h ^ sk.skc_rcv_saddr[i]!, 16777619);
    if (sk.skc_num === 0) h = Math.imul(sk.ino, 2654435761);
    return (h >>> 0) % this.nBuckets;
  }

  insert(sk: Socket, bucket = this.bucketOf(sk)): number {
    const i = bucket % this.nBuckets;
    const b = this.buckets[i]!;
    if (b === EMPTY_BUCKET) (this.buckets as Socket[][])[i] = [sk];
    else (b as Socket[]).push(sk);
    this.size++;
    return bucket;
  }

  remove(sk: Socket): boolean {
    for (const b of this.buckets) {
      const i = b.indexOf(sk);
      if (i >= 0) {
        (b as Socket[]).splice(i, 1);
        this.size--;
        return true;
      }
    }
    return false;
  }

  /** Every socket, in walk order. */
  all(): Socket[] {
    return this.buckets.flat();
  }
}
