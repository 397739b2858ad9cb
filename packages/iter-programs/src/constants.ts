/**
 * Kernel constants of the BPF iterator program type (include/linux/bpf.h,
 * kernel/bpf/bpf_iter.c, fs/seq_file.c) as this model uses them.
 */

import { PAGE_SIZE } from '@bpf-iter/core';

// The uapi values are core's (packages/core/src/uapi.ts); re-exported so this package's entry keeps them.
export {
  PAGE_SIZE,
  BPF_ITER_FUNC_PREFIX,
  BPF_CGROUP_ITER_ORDER_UNSPEC,
  BPF_CGROUP_ITER_SELF_ONLY,
  BPF_CGROUP_ITER_DESCENDANTS_PRE,
  BPF_CGROUP_ITER_DESCENDANTS_POST,
  BPF_CGROUP_ITER_ANCESTORS_UP,
  BPF_CGROUP_ITER_CHILDREN,
} from '@bpf-iter/core';

/** Size of the per-iterator-fd seq buffer: `PAGE_SIZE << 3` = 32768 bytes. */
export const SEQ_BUF_SIZE = PAGE_SIZE << 3;
/** Objects shown at most per `read()` (kernel/bpf/bpf_iter.c). */
export const MAX_ITER_OBJECTS = 1_000_000;
/** Max ctx pointer fields a target may describe (`BPF_ITER_CTX_ARG_MAX`). */
export const BPF_ITER_CTX_ARG_MAX = 2;
/** The only `enum bpf_iter_feature` flag: the read loop yields between objects. */
export const BPF_ITER_RESCHED = 1 << 0;
/** libbpf's buffer for `bpf_iter_<target>`: names of 128 bytes or more fail with ENAMETOOLONG. */
export const BTF_TYPE_NAME_MAX = 128;
/** `sizeof(union bpf_iter_link_info)`. */
export const BPF_ITER_LINK_INFO_SIZE = 16;
/** Max arguments of `bpf_seq_printf` (`MAX_BPRINTF_VARARGS`). */
export const MAX_BPRINTF_VARARGS = 12;
/** Per-CPU scratch for converted args and copied strings (`MAX_BPRINTF_BIN_ARGS`). */
export const MAX_BPRINTF_BIN_ARGS = 512;
/** Max `bpf_seq_printf` nesting per CPU (`MAX_BPRINTF_NEST_LEVEL`). */
export const MAX_BPRINTF_NEST_LEVEL = 3;
/** `MAX_RW_COUNT` (INT_MAX & PAGE_MASK): the VFS caps one read at this many bytes. */
export const MAX_RW_COUNT = 0x7fff_f000;
/** `BPF_TAG_SIZE`: a program tag is 8 bytes, printed as 16 hex chars. */
export const BPF_TAG_SIZE = 8;
/** `sizeof(struct btf_ptr)`. */
export const BTF_PTR_SIZE = 16;

/** `bpf_seq_printf_btf` flags (uapi `BTF_F_*`). */
export const BTF_F_COMPACT = 1 << 0;
export const BTF_F_NONAME = 1 << 1;
export const BTF_F_PTR_RAW = 1 << 2;
export const BTF_F_ZERO = 1 << 3;
export const BTF_F_ALL = BTF_F_COMPACT | BTF_F_NONAME | BTF_F_PTR_RAW | BTF_F_ZERO;

/** Helper ids (uapi `enum bpf_func_id`) of the iterator-only helpers. */
export const BPF_FUNC_seq_printf = 126;
export const BPF_FUNC_seq_write = 127;
export const BPF_FUNC_seq_printf_btf = 150;

/** The bpffs mount point of the modelled system. */
export const BPF_FS_MOUNT = '/sys/fs/bpf';
