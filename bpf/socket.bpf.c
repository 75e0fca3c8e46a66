// SPDX-License-Identifier: GPL-2.0
/*
 * Sockets of the kinds the sensor does not record (raw, ICMP, SCTP, packet, netlink,
 * vsock, any other family), counted per workload where they are made: socket()'s own
 * tracepoints (tracefs events/syscalls/sys_{enter,exit}_socket). A per-syscall tracepoint
 * runs for socket() only; a cgroup sock_create program would see inet sockets only (the
 * kernel runs it from inet_create and inet6_create), never packet or netlink ones.
 *
 * Entry keeps the arguments of a call that would make such a socket (per thread); the
 * return emits one event when a socket was made. A TCP, UDP or unix socket costs the
 * entry's compares and the return's lookup that finds nothing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "firstlight.h"
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"

#define FL_AF_UNIX 1 /* include/linux/socket.h, stable ABI */
#define FL_AF_INET 2
#define FL_AF_INET6 10
#define FL_AF_NETLINK 16
#define FL_AF_PACKET 17
#define FL_AF_VSOCK 40
#define FL_SOCK_STREAM 1
#define FL_SOCK_DGRAM 2
#define FL_SOCK_RAW_TYPE 3
#define FL_SOCK_SEQPACKET 5
#define FL_SOCK_TYPE_MASK 0xf /* the type without SOCK_NONBLOCK and SOCK_CLOEXEC */
#define FL_IPPROTO_ICMP 1
#define FL_IPPROTO_TCP 6
#define FL_IPPROTO_UDP 17
#define FL_IPPROTO_ICMPV6 58
#define FL_IPPROTO_SCTP 132

/* socket() calls in flight that would make a socket of a kind not recorded, by thread
 * (pid_tgid). The return removes the entry; LRU for a thread killed inside the call. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct fl_sock_event);
} sock_pending SEC(".maps");

/* The kind of a socket socket(family, type, protocol) makes; 0: one the sensor records. */
static __always_inline __u32 fl_sock_kind(__u32 family, __u32 type, __u32 proto)
{
	type &= FL_SOCK_TYPE_MASK;
	switch (family) {
	case FL_AF_UNIX:
		return 0;
	case FL_AF_INET:
	case FL_AF_INET6:
		if (type == FL_SOCK_RAW_TYPE)
			return FL_SOCK_RAW;
		if (proto == FL_IPPROTO_SCTP || type == FL_SOCK_SEQPACKET)
			return FL_SOCK_SCTP;
		if (type == FL_SOCK_DGRAM && (proto == FL_IPPROTO_ICMP || proto == FL_IPPROTO_ICMPV6))
			return FL_SOCK_ICMP;
		if (type == FL_SOCK_STREAM && (proto == 0 || proto == FL_IPPROTO_TCP))
			return 0;
		if (type == FL_SOCK_DGRAM && (proto == 0 || proto == FL_IPPROTO_UDP))
			return 0;
		return FL_SOCK_OTHER;
	case FL_AF_PACKET:
		return FL_SOCK_PACKET;
	case FL_AF_NETLINK:
		return FL_SOCK_NETLINK;
	case FL_AF_VSOCK:
		return FL_SOCK_VSOCK;
	}
	return FL_SOCK_OTHER;
}

SEC("tp/syscalls/sys_enter_socket")
int fl_socket_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 family = (__u32)ctx->args[0], type = (__u32)ctx->args[1], proto = (__u32)ctx->args[2];
	__u32 kind = fl_sock_kind(family, type, proto);
	__u64 key = bpf_get_current_pid_tgid();
	struct fl_sock_event e = {};
	struct fl_current cur;

	if (!kind)
		return 0;
	fl_current(&cur);
	fl_current_image_of(&cur, &e.id);
	e.hdr.cgroup_id = cur.cgroup_id;
	e.pid = key >> 32;
	e.kind = kind;
	e.family = family;
	e.type = type;
	e.protocol = proto;
	bpf_map_update_elem(&sock_pending, &key, &e, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_socket")
int fl_socket_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 key = bpf_get_current_pid_tgid();
	struct fl_sock_event *e = bpf_map_lookup_elem(&sock_pending, &key);

	if (!e)
		return 0;
	if (ctx->ret >= 0) { /* a socket was made; a refused call made nothing */
		fl_hdr(&e->hdr, FL_EV_SOCKET, sizeof(*e), bpf_ktime_get_boot_ns(), e->hdr.cgroup_id);
		fl_emit(e, sizeof(*e));
	}
	bpf_map_delete_elem(&sock_pending, &key);
	return 0;
}
