/**
 * The uapi constants (include/uapi/linux/bpf.h and the few other ABI values
 * the model needs), defined once for every package: core's model and
 * sources, iter-kfuncs' registry and iter-programs' programs and links all
 * import them from here.
 */

/** Page size of the modelled kernel (4 KiB pages, x86-64). */
export const PAGE_SIZE = 4096;

/** Prefix of the BTF name of an iterator: the target's `bpf_iter_<target>` function, a kind's `bpf_iter_<type>` state struct. */
export const BPF_ITER_FUNC_PREFIX = 'bpf_iter_';

/** `enum bpf_attach_type` value of iterator programs. */
export const BPF_TRACE_ITER = 28;

/** `enum bpf_map_type` (include/uapi/linux/bpf.h), index = value. */
export const BPF_MAP_TYPES = [
  'unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array', 'stack_trace',
  'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps', 'hash_of_maps', 'devmap', 'sockmap',
  'cpumap', 'xskmap', 'sockhash', 'cgroup_storage', 'reuseport_sockarray', 'percpu_cgroup_storage', 'queue', 'stack',
  'sk_storage', 'devmap_hash', 'struct_ops', 'ringbuf', 'inode_storage', 'task_storage', 'bloom_filter', 'user_ringbuf',
  'cgrp_storage', 'arena',
] as const;
export type BpfMapTypeName = (typeof BPF_MAP_TYPES)[number];

export const BPF_MAP_TYPE_HASH = 1;
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_PERCPU_HASH = 5;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
export const BPF_MAP_TYPE_LRU_HASH = 9;
export const BPF_MAP_TYPE_LRU_PERCPU_HASH = 10;
export const BPF_MAP_TYPE_SOCKMAP = 15;
export const BPF_MAP_TYPE_SOCKHASH = 18;
export const BPF_MAP_TYPE_SK_STORAGE = 24;
export const BPF_MAP_TYPE_RINGBUF = 27;
export const BPF_MAP_TYPE_INODE_STORAGE = 28;
export const BPF_MAP_TYPE_TASK_STORAGE = 29;
export const BPF_MAP_TYPE_CGRP_STORAGE = 32;

/** `map_flags` bit local-storage maps require. */
export const BPF_F_NO_PREALLOC = 1;

/** Update flags of `bpf_map_update_elem`. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

/** `enum bpf_prog_type` names, index = value. */
export const BPF_PROG_TYPES = [
  'unspec', 'socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event', 'cgroup_skb',
  'cgroup_sock', 'lwt_in', 'lwt_out', 'lwt_xmit', 'sock_ops', 'sk_skb', 'cgroup_device', 'sk_msg', 'raw_tracepoint',
  'cgroup_sock_addr', 'lwt_seg6local', 'lirc_mode2', 'sk_reuseport', 'flow_dissector', 'cgroup_sysctl',
  'raw_tracepoint_writable', 'cgroup_sockopt', 'tracing', 'struct_ops', 'ext', 'lsm', 'sk_lookup', 'syscall',
  'netfilter',
] as const;
export const BPF_PROG_TYPE_TRACING = 26;

/** `enum bpf_link_type` names, index = value. */
export const BPF_LINK_TYPES = [
  'unspec', 'raw_tracepoint', 'tracing', 'cgroup', 'iter', 'netns', 'xdp', 'perf_event', 'kprobe_multi',
  'struct_ops', 'netfilter', 'tcx', 'uprobe_multi', 'netkit', 'sockmap',
] as const;
export const BPF_LINK_TYPE_ITER = 4;

/** `enum bpf_cgroup_iter_order`. */
export const BPF_CGROUP_ITER_ORDER_UNSPEC = 0;
export const BPF_CGROUP_ITER_SELF_ONLY = 1;
export const BPF_CGROUP_ITER_DESCENDANTS_PRE = 2;
export const BPF_CGROUP_ITER_DESCENDANTS_POST = 3;
export const BPF_CGROUP_ITER_ANCESTORS_UP = 4;
export const BPF_CGROUP_ITER_CHILDREN = 5;

