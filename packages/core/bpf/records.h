/* Binary records the bpf source's iterator programs emit with bpf_seq_write.
 * Fixed size, naturally aligned, little endian; parsed by src/sources/bpf.ts,
 * which repeats every offset: change both together. */
#ifndef BPF_ITER_RECORDS_H
#define BPF_ITER_RECORDS_H

#define PATH_LEN 256

struct rec_task {		/* 80 bytes */
	__u32 tgid, pid, ppid, uid, gid, flags, state, exit_state;
	__u64 start_time;	/* ns since boot (task->start_time) */
	char comm[16];
	__s32 prio;
	__u32 pad;
	__u64 cgroup_id;	/* kernfs id of the task's default-hierarchy cgroup */
	__u64 sum_exec_runtime;	/* ns on a CPU (se.sum_exec_runtime) */
};

struct rec_task_file {		/* 56 + PATH_LEN */
	__u32 tgid, pid, fd, f_flags;
	__u64 ino;
	__u64 f_op;		/* address of the struct file_operations */
	__s64 pos;
	__u32 mode, dev;	/* i_mode, i_sb->s_dev (kernel MKDEV encoding) */
	__u32 cloexec, pad;	/* the fd's bit in files->fdt->close_on_exec */
	char path[PATH_LEN];	/* bpf_d_path, "" when it failed */
};

struct rec_task_fd {		/* 24 bytes: an open fd and its f_op, no path (task_fd.bpf.c) */
	__u32 tgid, pid, fd, pad;
	__u64 f_op;		/* address of the struct file_operations */
};

struct rec_task_vma {		/* 64 + PATH_LEN */
	__u32 tgid, pid;
	__u64 start, end, flags, pgoff, ino;
	__u32 dev;
	__u32 kind;		/* VMA_* below */
	__u64 f_op;
	char path[PATH_LEN];
};

#define VMA_ANON 0
#define VMA_FILE 1
#define VMA_HEAP 2
#define VMA_STACK 3
#define VMA_VDSO 4

struct rec_inet {		/* 64: tcp and udp */
	__u16 family;
	__u8 state, pad0;
	__u16 sport, dport;	/* host order */
	__u32 uid;
	__u32 bucket;
	__u64 ino;
	__u8 saddr[16], daddr[16];	/* v4 in the first 4 bytes */
	__u64 cookie;
};

struct rec_unix {		/* 16 */
	__u64 ino;
	__u16 type;
	__u8 state, has_socket;	/* has_socket: sk->sk_socket != NULL */
	__u32 uid;
};

struct rec_netlink {		/* 16 */
	__u64 ino;
	__u32 portid, protocol;
};

struct rec_route {		/* 80 */
	__u8 dst[16], src[16];
	__u8 dst_len, src_len, gw_family, pad;
	__u32 metric, flags, ref;	/* ref: refcount_read(&fib6_ref), which /proc prints */
	char dev[16];
	__u8 gw[16];		/* the nexthop's gateway when gw_family is set */
};

struct rec_ksym {		/* 192 */
	__u64 value;
	char type, pad[7];
	char name[120];
	char module[56];
};

struct rec_map {		/* 40 */
	__u32 id, type, key_size, value_size, max_entries, map_flags;
	char name[16];
};

struct rec_prog {		/* 40 */
	__u32 id, type, expected_attach_type, pad;
	__u8 tag[8];
	char name[16];
};

struct rec_link {		/* 16 */
	__u32 id, type, prog_id, pad;
};

struct rec_cgroup {		/* 80 */
	__u64 id;
	__u32 level, pad;
	char name[64];
};
struct rec_kmem_cache {		/* 120 */
	__u64 num_objs, free_objs, num_slabs;
	__u32 size, object_size, align, flags;
	__u32 objs_per_slab, pages_per_slab;
	__u32 nodes, truncated;	/* nodes walked; 1 when a partial list was longer than the walk */
	char name[64];
};
#endif
