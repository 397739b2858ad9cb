import type { BpfLink as KernelLink, BpfProg as KernelProg, Idr, Kernel } from '@bpf-iter/core';

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

/** Custom allocators; by default ids come from the kernel's own IDRs (`kernel.progs` / `kernel.links`). */
const allocators: Record<IdKind, IdAllocator | undefined> = { prog: undefined, link: undefined };

/** Replaces the allocator of one id space; `undefined` restores the kernel's IDR. */
export function setIdAllocator(kind: IdKind, allocator: IdAllocator | undefined): void {
  allocators[kind] = allocator;
}
/** The custom allocator of one id space, or undefined when the kernel's IDR is used. */
export function getIdAllocator(kind: IdKind): IdAllocator | undefined {
  return allocators[kind];
}

/**
 * Gives a kernel-model object (the `bpf_prog`/`bpf_link` the iterators of
 * those targets walk) its id and makes it visible in the kernel's IDR.
 */
export function allocModelId(kind: IdKind, kernel: Kernel, obj: KernelProg | KernelLink): number {
  const idr = (kind === 'prog' ? kernel.progs : kernel.links) as Idr<KernelProg | KernelLink>;
  const custom = allocators[kind];
  if (custom) {
    obj.id = custom.alloc();
    if (!idr.has(obj.id)) idr.set(obj.id, obj);
  } else {
    obj.id = idr.alloc(obj);
  }
  return obj.id;
}

/** Removes the object from the kernel's IDR (and tells a custom allocator). */
export function freeModelId(kind: IdKind, kernel: Kernel, obj: KernelProg | KernelLink): void {
  const idr = (kind === 'prog' ? kernel.progs : kernel.links) as Idr<KernelProg | KernelLink>;
  allocators[kind]?.free?.(obj.id);
  if (idr.get(obj.id) === obj) idr.remove(obj.id);
  obj.kill();
}
