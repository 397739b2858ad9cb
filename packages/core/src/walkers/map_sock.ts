/**
 * Walkers of the socket-holding maps: `sockmap` (SOCKMAP slots, SOCKHASH
 * elements; net/core/sock_map.c) and `bpf_sk_storage_map` (one element per
 * socket with storage; net/core/bpf_sk_storage.c).
 */
import type { BpfMap } from '../model/bpf.js';
import type { Socket } from '../model/socket.js';
import type { Walker } from './walker.js';

/** One object of the `sockmap` target: a slot/element key and its socket (null for an empty SOCKMAP slot). */
export interface SockMapEntry {
  readonly map: BpfMap;
  readonly key: Uint8Array;
  readonly sk: Socket | null;
}

/** One object of the `bpf_sk_storage_map` target: a socket and its live value. */
export interface SkStorageEntry {
  readonly map: BpfMap;
  readonly sk: Socket;
  readonly value: Uint8Array;
}

/**
 * An RCU-style walk over a list that can change: `start` takes the current
 * list and skips the `skip` elements already passed (the kernel's
 * bucket/skip_elems resume, so a deletion before the cursor between reads
 * makes one element be skipped); within a read an element deleted meanwhile
 * is not shown, and the walk goes on after it.
 */
class SnapshotWalker<T, E> implements Walker<E> {
  private snap: T[] = [];
  private idx = 0;
  /** Elements passed so far (the resume point). */
  skip = 0;

  constructor(
    private readonly list: () => T[],
    private readonly live: (t: T) => E | null,
  ) {}

  start(): E | null {
    this.snap = this.list();
    this.idx = this.skip;
    return this.find();
  }

  next(): E | null {
    this.idx++;
    return this.find();
  }

  stop(): void {}

  private find(): E | null {
    for (; this.idx < this.snap.length; this.idx++) {
      const e = this.live(this.snap[this.idx]!);
      if (e) {
        this.skip = this.idx;
        return e;
      }
    }
    this.skip = this.idx;
    return null;
  }
}

function u32(i: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, i, true);
  return b;
}

/** SOCKMAP: every index 0 … max_entries-1 in order, empty slots included (sk null). */
class SockArrayWalker implements Walker<SockMapEntry> {
  private i = 0;
  constructor(private readonly map: BpfMap) {}
  start(): SockMapEntry | null {
    return this.at();
  }
  next(): SockMapEntry | null {
    this.i++;
    return this.at();
  }
  stop(): void {}
  private at(): SockMapEntry | null {
    const slots = this.map.sockSlots!;
    return this.i < slots.length ? { map: this.map, key: u32(this.i), sk: slots[this.i]! } : null;
  }
}

/** The `sockmap` target's walker for a SOCKMAP or SOCKHASH (buckets in order, each in insertion order). */
export function sockMapWalker(map: BpfMap): Walker<SockMapEntry> {
  if (map.sockSlots) return new SockArrayWalker(map);
  const buckets = map.sockBuckets!;
  return new SnapshotWalker(
    () => buckets.flat(),
    (e) => (buckets.some((b) => b.includes(e)) ? { map, key: e.key, sk: e.sk } : null),
  );
}

/** The `bpf_sk_storage_map` target's walker: every socket with storage in the map, in creation order. */
export function skStorageWalker(map: BpfMap): Walker<SkStorageEntry> {
  const storage = map.storage!;
  return new SnapshotWalker(
    () => [...storage.keys()] as Socket[],
    (sk) => {
      const value = storage.get(sk);
      return value ? { map, sk, value } : null;
    },
  );
}
