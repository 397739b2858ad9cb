import type { Kernel } from '../kernel.js';
import type { Socket, SockProto } from '../model/socket.js';
import type { SockTable } from '../model/sock_table.js';
import type { Walker } from './walker.js';

/** Initial batch capacity of the socket iterators (`INIT_BATCH_SZ`). */
export const INIT_BATCH_SZ = 16;

/** A socket with the hash bucket it was found in. */
export interface SockEntry {
  readonly sk: Socket;
  /** Index of the bucket in the walked table (the udp ctx's `bucket`). */
  readonly bucket: number;
}

/**
 * The walker behind the `tcp`, `udp`, `unix` and `netlink` targets: the
 * protocol's hash tables bucket by bucket (tcp: listening table, then
 * established). Each bucket is taken as a batch with references held; a
 * paused walk remembers the cookies of the unshown sockets and resumes at the
 * first of them that still exists (the cookie-resume of current kernels), so
 * sockets are neither repeated nor skipped when others disappear. A socket
 * unhashed after batching is still returned; targets skip it (`hashed`).
 */
export class SockWalker implements Walker<SockEntry> {
  /** Which table and bucket the walk is in. */
  table = 0;
  bucket = 0;
  /** Cookies of the batch's sockets not yet shown when the walk paused. */
  private resumeCookies: bigint[] = [];
  private batch: Socket[] = [];
  private idx = 0;
  private readonly tables: SockTable[];
  /** Batch capacity (grows like the kernel's: 1.5x the bucket size). */
  batchCap = INIT_BATCH_SZ;

  constructor(
    kernel: Kernel,
    readonly proto: SockProto,
  ) {
    this.tables =
      proto === 'tcp' ? [kernel.tcpListen, kernel.tcpEstablished] : [proto === 'udp' ? kernel.udp : proto === 'unix' ? kernel.unix : kernel.netlink];
  }

  /** Bucket index as the ctx reports it (tcp established buckets follow the listening ones). */
  private bucketIndex(): number {
    return this.bucket;
  }

  private fillBatch(): boolean {
    for (;;) {
      const t = this.tables[this.table];
      if (!t) return false;
      if (this.bucket >= t.nBuckets) {
        this.table++;
        this.bucket = 0;
        continue;
      }
      const b = t.buckets[this.bucket]!;
      let list = b;
      if (this.resumeCookies.length) {
        const want = this.resumeCookies;
        this.resumeCookies = [];
        const at = b.findIndex((sk) => want.includes(sk.cookie));
        list = at >= 0 ? b.slice(at) : [];
      }
      if (list.length) {
        if (list.length > this.batchCap) this.batchCap = Math.ceil(list.length * 1.5);
        this.batch = list.map((sk) => sk.get());
        this.idx = 0;
        return true;
      }
      this.bucket++;
    }
  }

  private current(): SockEntry | null {
    const sk = this.batch[this.idx];
    return sk ? { sk, bucket: this.bucketIndex() } : null;
  }

  start(): SockEntry | null {
    if (this.idx < this.batch.length) return this.current();
    return this.fillBatch() ? this.current() : null;
  }

  next(): SockEntry | null {
    const done = this.batch[this.idx];
    if (done) {
      done.put();
      this.batch[this.idx] = undefined as unknown as Socket;
    }
    this.idx++;
    if (this.idx < this.batch.length) return this.current();
    this.batch = [];
    this.idx = 0;
    this.bucket++;
    return this.fillBatch() ? this.current() : null;
  }

  /** Pauses: drops the batch's references, remembering the unshown sockets by cookie. */
  stop(): void {
    const rest = this.batch.slice(this.idx).filter(Boolean);
    if (rest.length) this.resumeCookies = rest.map((sk) => sk.cookie);
    for (const sk of rest) sk.put();
    this.batch = [];
    this.idx = 0;
  }
}
