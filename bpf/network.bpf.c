// SPDX-License-Identifier: GPL-2.0
/*
 * Network: TCP listen, connect outcome, accept and close from inet_sock_set_state; UDP
 * peers counted per (process, peer) in a map from the cgroup sock_addr hooks and
 * sock_send_length; unix connects from cgroup/connect_unix, their peer at first send.
 *
 * Attribution: most TCP transitions run in softirq, where `current` is whoever the CPU
 * interrupted. Only the moments a process acts (connect: the cgroup connect hook, or
 * CLOSE -> SYN_SENT without it; listen: CLOSE -> LISTEN) run in its own context; there
 * the owner is written into the socket's local storage, and every later event of that
 * socket reads it from there.
 * The storage is cloned into the sockets a listener accepts (BPF_F_CLONE), so an
 * accepted connection belongs to the listener's owner, and the kernel frees it with the
 * socket: nothing to clean up, nothing to leak.
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"
#include <bpf/bpf_endian.h>

#define FL_AF_UNIX 1
#define FL_AF_INET 2
#define FL_AF_INET6 10
#define FL_EEXIST 17        /* include/uapi/asm-generic/errno-base.h */
#define FL_ECONNABORTED 103 /* include/uapi/asm-generic/errno.h */

/* Turns a pointer into the program's context into the kernel's (6.2+, verifier only). */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak; /* weak: absent before 6.2 */

/* sock_state.flags: what we know of a socket's life so far. */
#define FL_SK_CONNECTING (1u << 0) /* SYN sent by the owner; the outcome is not reported yet */
#define FL_SK_LISTENER (1u << 1)
#define FL_SK_ESTABLISHED (1u << 2)  /* a CONNECT or ACCEPT was reported: CLOSE will follow */
#define FL_SK_UNIX_PENDING (1u << 3) /* a unix connect whose peer is not reported yet */

/*
 * Per-socket state (socket local storage, freed with the socket). Kernel-only: the agent
 * never reads it.
 */
struct fl_sock_state {
	/* TCP and unix: the owner. UDP: the last sender, cached (see fl_udp_sender). */
	struct fl_sock_owner owner;
	__u64 start_ns;  /* TCP: connect attempt, listen or accept */
	__u64 owner_key; /* UDP: the sender's self_exec_id when owner was cached */
	__u64 owner_start; /* UDP: and its process start (pid reuse) */
	__u32 flags;     /* FL_SK_* */
	__u32 pad;
	/* TCP, before 5.12 (no socket cookie in tracing programs): our own id for the
	 * socket, random, made at its first event; joins its CONNECT or ACCEPT and CLOSE. */
	__u64 cookie;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct fl_sock_state);
} sock_state SEC(".maps");

/*
 * The same state on kernels where tracing programs cannot use socket storage
 * (bpf_sk_storage_get there came with 5.11): keyed by the socket's address, made by the
 * same events, deleted at the socket's CLOSE. LRU, so a CLOSE the kernel skipped cannot
 * fill it. Accepted sockets do not inherit their listener's entry as they inherit
 * BPF_F_CLONE storage: their owner is unknown there, which the capability record says.
 * Sized to one entry by the agent where socket storage is used.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct fl_sock_state);
} sock_state_legacy SEC(".maps");

/*
 * UDP aggregates, (generation, process, peer) -> counts: the kernel adds, the agent
 * reads and deletes a generation once the kernel has moved on to the other (see
 * fl_udp_key). Not LRU: an eviction would lose counts silently; when full, the
 * aggregate goes to the ring instead, whose losses are counted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* keys of two windows; ~2.5 MiB preallocated */
	__type(key, struct fl_udp_key);
	__type(value, struct fl_udp_value);
} udp_flows SEC(".maps");

/*
 * The destination of an unconnected UDP send in flight, from the sendmsg hook (which sees
 * the address, not the length) to sock_send_length (which sees the length, not the
 * address), both in the sending thread. Keyed by thread: a thread has one send in flight
 * at a time, so no other send can overwrite it, however many threads share the socket
 * or how long one blocks. sock_send_length deletes the entry (it runs after every
 * sendmsg, failed ones too). Not LRU: an eviction would lose a datagram silently; a full
 * map counts it lost.
 */
struct fl_udp_stash {
	__u64 cookie; /* the socket's, so a stash is never taken for another socket's send */
	__u8 addr[16];
	__u16 port;
	__u16 family;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192); /* sends in flight at once, one per thread */
	__type(key, __u32);
	__type(value, struct fl_udp_stash);
} udp_stash SEC(".maps");

/* The generation the kernel writes (0 or 1), flipped by the agent each window. */
__u32 udp_gen = 0;

/*
 * Where a TCP connect's owner is recorded: in the cgroup connect hooks (0), or at the
 * SYN_SENT transition (1) until the agent has attached those. The kernel skips a
 * tracing program that is entered again on a CPU where it is running (an interrupt
 * handling packets while it runs in process context), counting the miss: the less the
 * state-change program does in process context, the fewer transitions it can miss.
 * cgroup programs have no such check.
 */
__u32 tcp_owner_in_tp = 1;


/* The current process as a socket owner: only where the kernel runs on its behalf. */
static __always_inline void fl_owner_current(struct fl_sock_owner *o)
{
	struct fl_current cur;

	fl_current(&cur);
	fl_current_image_of(&cur, &o->id);
	o->cgroup_id = cur.cgroup_id;
	o->pid = cur.tgid;
	o->flags = 0;
}

/*
 * A socket's state, created when create is set: socket storage where tracing programs
 * may use it, else the legacy map (see there). NULL when there is none, or no memory.
 */
static __always_inline struct fl_sock_state *fl_sk_state(void *sk, int create)
{
	struct fl_sock_state *st, zero = {};
	__u64 key;

	if (cfg_kfeat & FL_KFEAT_SK_STORAGE)
		return bpf_sk_storage_get(&sock_state, sk, NULL,
					  create ? BPF_SK_STORAGE_GET_F_CREATE : 0);
	key = (__u64)sk;
	st = bpf_map_lookup_elem(&sock_state_legacy, &key);
	if (st || !create)
		return st;
	bpf_map_update_elem(&sock_state_legacy, &key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&sock_state_legacy, &key);
}

/* The socket is closed: its legacy entry goes (socket storage goes with the socket). */
static __always_inline void fl_sk_state_done(const void *sk)
{
	__u64 key = (__u64)sk;

	if (!(cfg_kfeat & FL_KFEAT_SK_STORAGE))
		bpf_map_delete_elem(&sock_state_legacy, &key);
}

/*
 * What joins one connection's records: the kernel's socket cookie where tracing programs
 * may read it (5.12+); before, an id of our own kept in the socket's state, or, for a
 * socket without state, the kernel's cookie if something made one (else 0).
 */
static __always_inline __u64 fl_sk_cookie(const struct sock *sk, struct fl_sock_state *st)
{
	if (cfg_kfeat & FL_KFEAT_SOCK_COOKIE)
		return bpf_get_socket_cookie((void *)sk);
	if (!st)
		return sk->__sk_common.skc_cookie.counter;
	if (!st->cookie)
		st->cookie = ((__u64)bpf_get_prandom_u32() << 32 | bpf_get_prandom_u32()) | 1;
	return st->cookie;
}

static __always_inline __u32 fl_sk_netns(const struct sock *sk)
{
	return sk->__sk_common.skc_net.net->ns.inum;
}

/* ---- TCP ------------------------------------------------------------------------------ */

/*
 * The local and remote ends of sk, oriented so that src is the initiator. The local
 * port is inet_sport: at CLOSE the kernel has already released inet_num (skc_num).
 */
static __always_inline void fl_tcp_tuple(const struct sock *sk, struct tcp_sock *tp, int inbound,
					 struct fl_inet_tuple *t)
{
	const struct sock_common *c = &sk->__sk_common;
	__u8 *local = inbound ? t->daddr : t->saddr;
	__u8 *remote = inbound ? t->saddr : t->daddr;
	__u16 lport = c->skc_num;

	if (!lport && tp)
		lport = bpf_ntohs(tp->inet_conn.icsk_inet.inet_sport);
	t->family = c->skc_family;
	t->pad = 0;
	__builtin_memset(t->saddr, 0, sizeof(t->saddr));
	__builtin_memset(t->daddr, 0, sizeof(t->daddr));
	if (t->family == FL_AF_INET6) {
		__builtin_memcpy(local, c->skc_v6_rcv_saddr.in6_u.u6_addr8, 16);
		__builtin_memcpy(remote, c->skc_v6_daddr.in6_u.u6_addr8, 16);
	} else {
		__builtin_memcpy(local, &c->skc_rcv_saddr, 4);
		__builtin_memcpy(remote, &c->skc_daddr, 4);
	}
	if (inbound) {
		t->dport = lport;
		t->sport = bpf_ntohs(c->skc_dport);
	} else {
		t->sport = lport;
		t->dport = bpf_ntohs(c->skc_dport);
	}
}

/* Builds and emits one TCP event; st may be NULL (a socket older than the sensor). */
static __always_inline void fl_tcp_emit(const struct sock *sk, struct fl_sock_state *st, __u16 kind,
					__s32 result, __u64 now)
{
	struct fl_tcp_event ev = {};
	struct tcp_sock *tp = NULL;
	int inbound;

	/* The tcp_sock: for the byte counts of a close, or a local port the kernel released. */
	if (kind == FL_TCP_CLOSE || !sk->__sk_common.skc_num)
		tp = bpf_skc_to_tcp_sock((void *)sk);

	if (st) {
		ev.owner = st->owner;
		ev.start_ns = st->start_ns;
	} else {
		ev.owner.flags = FL_OWNER_UNKNOWN;
	}
	fl_hdr(&ev.hdr, FL_EV_TCP, sizeof(ev), now, ev.owner.cgroup_id);
	inbound = kind == FL_TCP_ACCEPT || (ev.owner.flags & FL_OWNER_INBOUND);
	if (kind == FL_TCP_LISTEN)
		inbound = 0; /* a listener has no remote end: its address is the source */
	fl_tcp_tuple(sk, tp, inbound, &ev.tuple);
	ev.cookie = fl_sk_cookie(sk, st);
	ev.kind = kind;
	ev.result = result;
	ev.netns = fl_sk_netns(sk);
	if (kind == FL_TCP_CLOSE && tp) {
		/*
		 * bytes_sent counts retransmissions too; bytes_received counts the FIN's
		 * sequence number once tcp_fin() ran, which is what sets SOCK_DONE.
		 */
		ev.bytes_retrans = tp->bytes_retrans;
		ev.bytes_sent = tp->bytes_sent - tp->bytes_retrans;
		ev.bytes_received = tp->bytes_received;
		if ((sk->__sk_common.skc_flags & (1ul << SOCK_DONE)) && ev.bytes_received)
			ev.bytes_received--;
	}
	fl_emit(&ev, sizeof(ev));
}

/*
 * connect(), in the connecting task: remember who, report the outcome later. Called by
 * the cgroup connect hooks, or at CLOSE -> SYN_SENT when they are not attached (see
 * tcp_owner_in_tp).
 */
static __always_inline int fl_tcp_connecting(void *sk, __u64 now)
{
	struct fl_sock_state *st;

	st = fl_sk_state(sk, 1);
	if (!st) {
		/* No memory: the outcome will be reported unattributed; count what we lost. */
		fl_count_drop(FL_EV_TCP, now, bpf_get_current_cgroup_id());
		return 0;
	}
	fl_owner_current(&st->owner);
	st->start_ns = now;
	st->flags = FL_SK_CONNECTING;
	return 0;
}

/* listen(): CLOSE -> LISTEN, in the listening task; the storage is cloned into accepted sockets. */
static __always_inline int fl_tcp_listen(const struct sock *sk, __u64 now)
{
	struct fl_sock_state *st, tmp = {};

	st = fl_sk_state((void *)sk, 1);
	if (!st)
		st = &tmp; /* still reported; its accepts will be unattributed */
	fl_owner_current(&st->owner);
	st->start_ns = now;
	st->flags = FL_SK_LISTENER;
	fl_tcp_emit(sk, st, FL_TCP_LISTEN, 0, now);
	return 0;
}

/*
 * -> ESTABLISHED, in softirq: the outcome of our connect, or a connection accepted on a
 * listener (SYN_RECV -> ESTABLISHED on the child, which holds a clone of the listener's
 * storage). Simultaneous open also passes SYN_RECV, hence the CONNECTING test first.
 */
static __always_inline int fl_tcp_established(const struct sock *sk, int oldstate, __u64 now)
{
	struct fl_sock_state *st = fl_sk_state((void *)sk, 0);

	if (st && (st->flags & FL_SK_CONNECTING)) {
		st->flags = FL_SK_ESTABLISHED;
		fl_tcp_emit(sk, st, FL_TCP_CONNECT, 0, now);
		return 0;
	}
	if (oldstate == TCP_SYN_SENT) {
		fl_tcp_emit(sk, NULL, FL_TCP_CONNECT, 0, now); /* connect began before we attached */
		return 0;
	}
	if (oldstate != TCP_SYN_RECV)
		return 0;
	if (!st) {
		/* A listener older than the sensor (or, before 5.11, any listener: no storage is
		 * cloned): unattributed, but its close gets a duration. */
		st = fl_sk_state((void *)sk, 1);
		if (!st) {
			fl_tcp_emit(sk, NULL, FL_TCP_ACCEPT, 0, now);
			return 0;
		}
		__builtin_memset(&st->owner, 0, sizeof(st->owner));
		st->owner.flags = FL_OWNER_UNKNOWN;
	}
	st->owner.flags |= FL_OWNER_INBOUND;
	st->start_ns = now;
	st->flags = FL_SK_ESTABLISHED;
	st->cookie = 0; /* a clone of the listener's: this connection gets its own */
	fl_tcp_emit(sk, st, FL_TCP_ACCEPT, 0, now);
	return 0;
}

/*
 * -> CLOSE: a failed or abandoned connect (the error is in sk_err, set before tcp_done:
 * ECONNREFUSED on a reset, ETIMEDOUT; none when the owner closed it first, reported as
 * ECONNABORTED), or the end of an established connection (any state after it).
 */
static __always_inline int fl_tcp_close(const struct sock *sk, int oldstate, __u64 now)
{
	struct fl_sock_state *st = fl_sk_state((void *)sk, 0);
	int err = sk->sk_err;

	if (st && (st->flags & FL_SK_CONNECTING)) {
		st->flags = 0;
		fl_tcp_emit(sk, st, FL_TCP_CONNECT, err ? -err : -FL_ECONNABORTED, now);
		fl_sk_state_done(sk);
		return 0;
	}
	switch (oldstate) {
	case TCP_SYN_SENT: /* an attempt older than the sensor */
	case TCP_SYN_RECV: /* a child that never reached accept */
	case TCP_LISTEN:
	case TCP_CLOSE:
		fl_sk_state_done(sk);
		return 0;
	}
	if (st)
		st->flags = 0;
	fl_tcp_emit(sk, st, FL_TCP_CLOSE, -err, now);
	fl_sk_state_done(sk);
	return 0;
}

/*
 * inet_sock_set_state fires on every TCP state change (tcp_set_state and
 * inet_sk_state_store), the only stable hook that sees connect, accept and close
 * without kprobes. Transitions we do not report return after two compares.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(fl_tcp_state, const struct sock *sk, int oldstate, int newstate)
{
	__u64 now;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	switch (newstate) {
	case TCP_SYN_SENT:
		if (oldstate != TCP_CLOSE || !tcp_owner_in_tp)
			return 0;
		now = bpf_ktime_get_boot_ns();
		return fl_tcp_connecting((void *)sk, now);
	case TCP_LISTEN:
		now = bpf_ktime_get_boot_ns();
		return fl_tcp_listen(sk, now);
	case TCP_ESTABLISHED:
		now = bpf_ktime_get_boot_ns();
		return fl_tcp_established(sk, oldstate, now);
	case TCP_CLOSE:
		if (oldstate == TCP_LISTEN)
			fl_sk_state_done(sk); /* a listener's legacy entry */
		if (oldstate == TCP_LISTEN || oldstate == TCP_CLOSE)
			return 0;
		now = bpf_ktime_get_boot_ns();
		return fl_tcp_close(sk, oldstate, now);
	}
	return 0;
}

/* ---- UDP ------------------------------------------------------------------------------ */

/* A peer address in key form; v4-mapped IPv6 becomes IPv4, so both paths to one peer meet. */
static __always_inline void fl_udp_peer(struct fl_udp_key *k, __u16 family, const __u8 *addr16,
					__u16 port)
{
	const __u32 *w = (const __u32 *)addr16;

	__builtin_memset(k->daddr, 0, sizeof(k->daddr));
	k->dport = port;
	if (family == FL_AF_INET6 && !w[0] && !w[1] && w[2] == bpf_htonl(0xffff)) {
		k->family = FL_AF_INET;
		__builtin_memcpy(k->daddr, &w[3], 4);
	} else if (family == FL_AF_INET6) {
		k->family = FL_AF_INET6;
		__builtin_memcpy(k->daddr, addr16, 16);
	} else {
		k->family = FL_AF_INET;
		__builtin_memcpy(k->daddr, addr16, 4);
	}
}

/* Fills the key's process part (and pid, flags) from an owner, in the current generation. */
static __always_inline void fl_udp_key_owner(struct fl_udp_key *k, const struct fl_sock_owner *o,
					     __u32 netns)
{
	k->id = o->id;
	k->cgroup_id = o->cgroup_id;
	k->netns = netns;
	k->gen = udp_gen & 1;
	k->pad = 0;
}

/*
 * Adds a contribution to the aggregate of k. The first contribution of a key goes
 * through the ring and the map gets an empty aggregate for the next ones to add to: the
 * agent thus meets every key in order with the process events, while the sender is still
 * in its process table, whereas it reads the map up to two windows later. When the map
 * is full, the contribution goes through the ring as well, merged by the agent; a full
 * ring counts it as a drop. Nothing unaccounted.
 */
static __always_inline void fl_udp_add(struct fl_udp_key *k, __u32 pid, __u64 datagrams, __u64 bytes,
				       __u64 connects, __u64 now)
{
	struct fl_udp_value *v = bpf_map_lookup_elem(&udp_flows, k);
	long err;

	if (!v) {
		struct fl_udp_value empty = { .first_ns = now, .last_ns = now, .pid = pid };
		struct fl_udp_event ev = {
			.value = { .datagrams = datagrams, .bytes = bytes, .connects = connects,
				   .first_ns = now, .last_ns = now, .pid = pid },
		};

		err = bpf_map_update_elem(&udp_flows, k, &empty, BPF_NOEXIST);
		if (err == -FL_EEXIST) /* another CPU created it in between: add there */
			v = bpf_map_lookup_elem(&udp_flows, k);
		if (!v) {
			fl_hdr(&ev.hdr, FL_EV_UDP, sizeof(ev), now, k->cgroup_id);
			ev.key = *k;
			fl_emit(&ev, sizeof(ev));
			return;
		}
	}
	/* Other CPUs add to the same value: atomic adds (BPF_XADD, no fetch: any -mcpu). */
	if (datagrams)
		__sync_fetch_and_add(&v->datagrams, datagrams);
	if (bytes)
		__sync_fetch_and_add(&v->bytes, bytes);
	if (connects)
		__sync_fetch_and_add(&v->connects, connects);
	v->last_ns = now;
}

static __always_inline __u32 fl_current_netns(struct task_struct *task)
{
	return task->nsproxy->net_ns->ns.inum;
}

/*
 * connect(), before the kernel acts on it. TCP: the owner of the socket, whose handshake
 * inet_sock_set_state will report; the kernel runs the hook only for a socket in CLOSE
 * (not connected yet), but a connect after a failed one passes again: a fresh start.
 * UDP: the peer named, counted as a connect in its aggregate (the address is the
 * caller's, before the kernel checks it).
 */
static __always_inline int fl_connect(struct bpf_sock_addr *ctx, int v6)
{
	struct fl_sock_owner o;
	struct fl_udp_key k;
	__u32 addr[4] = {};

	if (ctx->protocol == IPPROTO_TCP) {
		/* Before 5.11 (the legacy map) the owner is taken at SYN_SENT instead: an entry
		 * made here for a connect that fails before any state change would outlive its
		 * socket and be found by the next socket at that address. */
		if (cfg_kfeat & FL_KFEAT_SK_STORAGE)
			fl_tcp_connecting(ctx->sk, bpf_ktime_get_boot_ns());
		return 1;
	}
	if (ctx->protocol != IPPROTO_UDP)
		return 1;
	fl_owner_current(&o);
	if (v6) {
		addr[0] = ctx->user_ip6[0];
		addr[1] = ctx->user_ip6[1];
		addr[2] = ctx->user_ip6[2];
		addr[3] = ctx->user_ip6[3];
	} else {
		addr[0] = ctx->user_ip4;
	}
	/* The caller's netns, read the portable way (no typed current task on 5.10). */
	fl_udp_key_owner(&k, &o, BPF_CORE_READ((struct task_struct *)bpf_get_current_task(),
					       nsproxy, net_ns, ns.inum));
	fl_udp_peer(&k, v6 ? FL_AF_INET6 : FL_AF_INET, (__u8 *)addr, bpf_ntohs(ctx->user_port));
	fl_udp_add(&k, o.pid, 0, 0, 1, bpf_ktime_get_boot_ns());
	return 1;
}

/* The cgroup hooks run for every socket whose cgroup is under the cgroup2 root: all of them. */
SEC("cgroup/connect4")
int fl_connect4(struct bpf_sock_addr *ctx)
{
	return fl_connect(ctx, 0);
}

SEC("cgroup/connect6")
int fl_connect6(struct bpf_sock_addr *ctx)
{
	return fl_connect(ctx, 1);
}

/*
 * sendto()/sendmsg() with an address on a UDP socket: the hook sees the destination but
 * not the length; sock_send_length, after the send, sees the length but not the
 * destination. The destination waits in udp_stash under the sending thread.
 */
static __always_inline int fl_udp_stash(struct bpf_sock_addr *ctx, int v6)
{
	struct fl_udp_stash s = {};
	__u32 tid;

	if (ctx->protocol != IPPROTO_UDP)
		return 1;
	tid = (__u32)bpf_get_current_pid_tgid();
	s.cookie = bpf_get_socket_cookie(ctx);
	s.port = bpf_ntohs(ctx->user_port);
	if (v6) {
		__u32 a[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

		__builtin_memcpy(s.addr, a, 16);
		s.family = FL_AF_INET6;
	} else {
		__u32 a = ctx->user_ip4;

		__builtin_memcpy(s.addr, &a, 4);
		s.family = FL_AF_INET;
	}
	/* BPF_ANY: an entry of this thread still here is a send whose end we missed (before
	 * sock_send_length was attached), not one in flight. */
	if (bpf_map_update_elem(&udp_stash, &tid, &s, BPF_ANY))
		/* This datagram goes uncounted: count it lost, naming why. */
		fl_count_drop_why(FL_DROP_STATE, FL_EV_UDP, bpf_ktime_get_boot_ns(),
				  bpf_get_current_cgroup_id());
	return 1;
}

SEC("cgroup/sendmsg4")
int fl_udp_sendmsg4(struct bpf_sock_addr *ctx)
{
	return fl_udp_stash(ctx, 0);
}

SEC("cgroup/sendmsg6")
int fl_udp_sendmsg6(struct bpf_sock_addr *ctx)
{
	return fl_udp_stash(ctx, 1);
}

/*
 * The sending process, cached in the socket's storage: its exec id costs a live_procs
 * lookup, and a socket usually sends from one process. The cache is valid while the
 * tgid, its start (pid reuse) and self_exec_id (bumped by every exec) are unchanged.
 */
static __always_inline void fl_udp_sender(struct fl_sock_state *st, struct task_struct *task,
					  struct fl_sock_owner *o)
{
	__u64 key = task->self_exec_id;
	__u64 start = fl_task_start_ns(task);

	if (st && st->owner.pid == task->tgid && st->owner_key == key && st->owner_start == start) {
		*o = st->owner;
		o->cgroup_id = task->cgroups->dfl_cgrp->kn->id; /* it may have moved */
		return;
	}
	fl_owner_current(o);
	if (st) {
		st->owner = *o;
		st->owner_key = key;
		st->owner_start = start;
	}
}

static __always_inline int fl_udp_sent(struct sock *sk, int ret)
{
	struct fl_sock_state *st = bpf_sk_storage_get(&sock_state, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	struct task_struct *task = bpf_get_current_task_btf();
	const struct sock_common *c = &sk->__sk_common;
	__u32 tid = task->pid;
	struct fl_udp_stash *s = bpf_map_lookup_elem(&udp_stash, &tid);
	struct fl_udp_stash stash;
	struct fl_sock_owner o;
	struct fl_udp_key k;
	int stashed = 0;

	if (s) {
		stash = *s;
		bpf_map_delete_elem(&udp_stash, &tid);
		if (stash.cookie == bpf_get_socket_cookie(sk))
			stashed = 1;
		else
			/* Another socket's destination: this thread's send there ended without
			 * passing here. Never silent: that datagram counts as lost. */
			fl_count_drop_why(FL_DROP_STATE, FL_EV_UDP, bpf_ktime_get_boot_ns(),
					  task->cgroups->dfl_cgrp->kn->id);
	}
	if (ret < 0)
		return 0;
	if (stashed) {
		fl_udp_peer(&k, stash.family, stash.addr, stash.port);
	} else if (c->skc_state == TCP_ESTABLISHED) { /* a connected UDP socket */
		__u32 a[4] = {};

		if (c->skc_family == FL_AF_INET6)
			__builtin_memcpy(a, c->skc_v6_daddr.in6_u.u6_addr8, 16);
		else
			a[0] = c->skc_daddr;
		fl_udp_peer(&k, c->skc_family, (__u8 *)a, bpf_ntohs(c->skc_dport));
	} else {
		/*
		 * Unconnected and nothing stashed: the sendmsg hook ran before we attached, or
		 * its stash could not be stored (counted there).
		 */
		return 0;
	}
	fl_udp_sender(st, task, &o);
	fl_udp_key_owner(&k, &o, fl_sk_netns(sk));
	/* A datagram may be empty: ret 0 is still one datagram. */
	fl_udp_add(&k, o.pid, 1, (__u64)ret, 0, bpf_ktime_get_boot_ns());
	return 0;
}

/* ---- unix ----------------------------------------------------------------------------- */

/*
 * connect() on a unix socket (cgroup/connect_unix, 6.7+; the loader sets that attach
 * type, unknown to libbpf 1.1's section names, and skips the program on older
 * kernels). The hook runs before the kernel looks the path up, so the peer is not
 * known yet: the socket is marked, and its first send reports it.
 */
SEC("cgroup/connect4")
int fl_unix_connect(struct bpf_sock_addr *ctx)
{
	struct bpf_sock_addr_kern___67 *kctx = bpf_cast_to_kern_ctx(ctx);
	struct fl_unix_connect_event ev = {};
	struct task_struct *task = bpf_get_current_task_btf();
	struct sockaddr_un *un = (struct sockaddr_un *)kctx->uaddr;
	struct fl_sock_state *st;
	__u32 len = kctx->uaddrlen;
	__u64 now = bpf_ktime_get_boot_ns();

	fl_owner_current(&ev.owner);
	fl_hdr(&ev.hdr, FL_EV_UNIX_CONNECT, sizeof(ev), now, ev.owner.cgroup_id);
	ev.cookie = bpf_get_socket_cookie(ctx);
	ev.sock_type = ctx->type;
	ev.netns = fl_current_netns(task);
	/* uaddrlen counts sun_family (2 bytes) and the path, abstract names' leading NUL too. */
	len = len > 2 ? len - 2 : 0;
	if (len > FL_UNIX_PATH_MAX)
		len = FL_UNIX_PATH_MAX;
	barrier_var(len);
	if (len > FL_UNIX_PATH_MAX) /* the same bound, where the verifier can see it */
		len = 0;
	if (len && bpf_probe_read_kernel(ev.path, len, un->sun_path))
		len = 0;
	ev.path_len = len;
	st = bpf_sk_storage_get(&sock_state, ctx->sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (st) {
		st->owner = ev.owner;
		st->start_ns = now;
		st->flags |= FL_SK_UNIX_PENDING;
	}
	fl_emit(&ev, sizeof(ev));
	return 1;
}

/* The first send after a unix connect: the kernel now holds the peer's credentials. */
static __always_inline int fl_unix_sent(struct sock *sk)
{
	struct fl_sock_state *st = bpf_sk_storage_get(&sock_state, sk, NULL, 0);
	struct fl_unix_peer_event ev = {};
	struct pid *peer;

	if (!st || !(st->flags & FL_SK_UNIX_PENDING))
		return 0;
	st->flags &= ~FL_SK_UNIX_PENDING;
	fl_hdr(&ev.hdr, FL_EV_UNIX_PEER, sizeof(ev), bpf_ktime_get_boot_ns(), st->owner.cgroup_id);
	ev.cookie = bpf_get_socket_cookie(sk);
	peer = sk->sk_peer_pid;
	/* numbers[] is a flexible array: level 0 is the initial pid namespace. */
	if (peer)
		ev.peer_pid = BPF_CORE_READ(peer, numbers[0].nr);
	fl_emit(&ev, sizeof(ev));
	return 0;
}

/*
 * sock_send_length fires after every sendmsg on every socket (6.4+), with the bytes
 * sent: the one place that sees both the socket and the length of a UDP datagram,
 * connected or not. Other sockets leave after two compares.
 */
SEC("tp_btf/sock_send_length")
int BPF_PROG(fl_sock_send, struct sock *sk, int ret, int flags)
{
	__u16 family = sk->__sk_common.skc_family;

	if (family == FL_AF_UNIX)
		return fl_unix_sent(sk);
	if (sk->sk_protocol == IPPROTO_UDP && (family == FL_AF_INET || family == FL_AF_INET6))
		return fl_udp_sent(sk, ret);
	return 0;
}
