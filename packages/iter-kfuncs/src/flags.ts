/**
 * kfunc flags, with the bit values of the kernel's `include/linux/btf.h`
 * (6.x). Only the `KF_ITER_*` bits are checked at registration (§7.2); the
 * others are carried on the descriptors for documentation and later use.
 */

/** kfunc returns an acquired reference. */
export const KF_ACQUIRE = 1 << 0;
/** kfunc releases a reference passed to it. */
export const KF_RELEASE = 1 << 1;
/** kfunc may return NULL (required on every `bpf_iter_<type>_next`). */
export const KF_RET_NULL = 1 << 2;
/** Pointer arguments must be trusted (referenced) pointers. */
export const KF_TRUSTED_ARGS = 1 << 4;
/** kfunc may sleep: only callable from sleepable programs. */
export const KF_SLEEPABLE = 1 << 5;
/** kfunc is destructive (e.g. crash_kexec). */
export const KF_DESTRUCTIVE = 1 << 6;
/** Arguments may be RCU-protected pointers. */
export const KF_RCU = 1 << 7;
/** Iterator constructor: `bpf_iter_<type>_new`. */
export const KF_ITER_NEW = 1 << 8;
/** Iterator step: `bpf_iter_<type>_next`. */
export const KF_ITER_NEXT = 1 << 9;
/** Iterator destructor: `bpf_iter_<type>_destroy`. */
export const KF_ITER_DESTROY = 1 << 10;
/** Iterator must be used inside an RCU read-side critical section. */
export const KF_RCU_PROTECTED = 1 << 11;

/** The three iterator role bits. */
export const KF_ITER_MASK = KF_ITER_NEW | KF_ITER_NEXT | KF_ITER_DESTROY;
