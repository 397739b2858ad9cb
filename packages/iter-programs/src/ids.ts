/**
 * Id allocation for programs and links. The kernel allocates `prog_id` and
 * `link_id` from two cyclic IDRs starting at 1. Core will later own a
 * kernel-wide allocator (shared with the bpf_prog / bpf_link iterators);
 * swap it in with {@link setIdAllocator}.
 */

/** Hands out ids; `free` is told when an object goes away. */
export interface IdAllocator {
  alloc(): number;
  free?(id: number): void;
}

/** A cyclic allocator starting at 1, like `idr_alloc_cyclic(..., 1, INT_MAX)`. */
export class CyclicIdAllocator implements IdAllocator {
  private next = 1;
  private readonly used = new Set<number>();
  alloc(): number {
    while (this.used.has(this.next)) this.next = this.next >= 0x7fffffff ? 1 : this.next + 1;
    const id = this.next;
    this.used.add(id);
    this.next = id >= 0x7fffffff ? 1 : id + 1;
    return id;
  }
  free(id: number): void {
    this.used.delete(id);
  }
}

/** Which id space. */
export type IdKind = 'prog' | 'link';

const allocators: Record<IdKind, IdAllocator> = {
  prog: new CyclicIdAllocator(),
  link: new CyclicIdAllocator(),
};

/** Replaces the allocator of one id space (e.g. with core's kernel-wide one). */
export function setIdAllocator(kind: IdKind, allocator: IdAllocator): void {
  allocators[kind] = allocator;
}
/** The allocator of one id space. */
export function getIdAllocator(kind: IdKind): IdAllocator {
  return allocators[kind];
}
