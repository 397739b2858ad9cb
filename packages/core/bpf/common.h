#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "records.h"

char _license[] SEC("license") = "GPL";

/*
 * The inode number /proc/net/{tcp,udp,unix,netlink} print for a socket
 * (sock_i_ino): newer kernels keep it in sk->sk_ino, older ones read it from
 * the socket_alloc around sk->sk_socket. Either way kernel sockets, which
 * have a struct socket but no file, still have one; a socket without a
 * struct socket (orphaned) has 0.
 */
static __always_inline __u64 sock_ino(struct sock *sk)
{
	struct socket *sock;

	if (bpf_core_field_exists(sk->sk_ino))
		return BPF_CORE_READ(sk, sk_ino);
	sock = BPF_CORE_READ(sk, sk_socket);
	if (!sock)
		return 0;
	return BPF_CORE_READ(container_of(sock, struct socket_alloc, socket), vfs_inode.i_ino);
}
