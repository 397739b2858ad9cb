/**
 * Kernel pointer conventions: error pointers (`ERR_PTR`/`IS_ERR`/`PTR_ERR`)
 * for seq_ops return values, and a small "kernel memory" that gives JS
 * objects u64 addresses so C-style code can pass pointers through u64
 * slots (e.g. the `data` array of `bpf_seq_printf`).
 */

/** An error pointer: what a kernel function returns instead of an object. */
export class ErrPtr {
  /** @param err negative errno */
  constructor(readonly err: number) {}
}

/** `ERR_PTR(-ENOMEM)`: wraps a negative errno as a pointer-like value. */
export function ERR_PTR(err: number): ErrPtr {
  return new ErrPtr(err);
}
/** True for an {@link ErrPtr}. */
export function IS_ERR(p: unknown): p is ErrPtr {
  return p instanceof ErrPtr;
}
/** True for NULL (`null`/`undefined`) or an {@link ErrPtr}. */
export function IS_ERR_OR_NULL(p: unknown): p is ErrPtr | null | undefined {
  return p === null || p === undefined || p instanceof ErrPtr;
}
/** The negative errno of an {@link ErrPtr}. */
export function PTR_ERR(p: ErrPtr): number {
  return p.err;
}

/** Lowest address handed out to JS objects (the x86-64 direct map). */
const KMEM_BASE = 0xffff_8880_0000_0000n;
/** x86-64 `TASK_SIZE_MAX`: addresses below are user space. */
export const USER_SPACE_LIMIT = 0x0000_7fff_ffff_f000n;

let nextAddr = KMEM_BASE;
const byObject = new WeakMap<object, bigint>();
const byAddr = new Map<bigint, WeakRef<object>>();
const userByAddr = new Map<bigint, WeakRef<object>>();
let nextUserAddr = 0x5555_0000_0000n;
const finalizer = new FinalizationRegistry<bigint>((addr) => {
  byAddr.delete(addr);
  userByAddr.delete(addr);
});

/**
 * The kernel address of a model object: its own `addr: bigint` when it has
 * one (e.g. core's `FileOperations`), else a stable made-up address.
 * Strings are encoded to a NUL-terminated byte array first (keep the
 * returned address only for the current program run).
 */
export function kaddr(obj: object | string): bigint {
  if (typeof obj === 'string') obj = cstr(obj);
  const own = (obj as { addr?: unknown }).addr;
  if (typeof own === 'bigint') return own;
  let a = byObject.get(obj);
  if (a === undefined) {
    a = nextAddr;
    const len = obj instanceof Uint8Array ? obj.length : 64;
    nextAddr += BigInt((len + 63) & ~63) || 64n;
    byObject.set(obj, a);
    byAddr.set(a, new WeakRef(obj));
    finalizer.register(obj, a);
  }
  return a;
}

/** A user-space address for bytes (for `%pus` / `%s` of user memory). */
export function uaddr(bytes: Uint8Array | string): bigint {
  const obj = typeof bytes === 'string' ? cstr(bytes) : bytes;
  const a = nextUserAddr;
  nextUserAddr += BigInt((obj.length + 63) & ~63) || 64n;
  userByAddr.set(a, new WeakRef(obj));
  finalizer.register(obj, a);
  return a;
}

/** Encodes a string as UTF-8 bytes followed by a NUL (a C string). */
export function cstr(s: string): Uint8Array {
  const b = Buffer.from(s + '\0', 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/**
 * Resolves an address to the object it names, as `copy_from_kernel_nofault`
 * would read it: null when unreadable. `user` selects user memory.
 */
export function deref(addr: bigint, user = false): object | null {
  const map = user ? userByAddr : byAddr;
  const exact = map.get(addr)?.deref();
  if (exact) return exact;
  // An interior pointer into a registered byte array.
  if (!user && addr >= KMEM_BASE && addr < nextAddr) {
    for (const [base, ref] of byAddr) {
      const o = ref.deref();
      if (o instanceof Uint8Array && addr > base && addr < base + BigInt(o.length)) {
        return o.subarray(Number(addr - base));
      }
    }
  }
  return null;
}
