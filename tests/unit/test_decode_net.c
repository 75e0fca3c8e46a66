/* Unit tests for user/sensor/decode_net.c: hand-built network events (bpf/firstlight.h) go
 * through decoder__handle and the UDP drain entry points; every record that reaches the
 * sink is unpacked from its protobuf bytes and checked field by field. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "sensor/decode.h"
#include "sensor/decode_net.h"
#include "records/exec_id.h"
#include "sensor/flowagg.h"
#include "records/gaps.h"
#include "sensor/proctable.h"
#include "records/record.h"
#include "records/sink.h"

typedef Firstlight__V1__Event Rec;
typedef Firstlight__V1__Flow Flow;

#include "capture_sink.h"

struct fx {
	struct capture cap;
	struct recorder rec;
	struct proctable *procs;
	struct decoder d;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	capture_init(&f->cap);
	if (recorder__init(&f->rec, &f->cap.base))
		return -1;
	f->procs = proctable__new(0);
	if (!f->procs || decoder__init(&f->d, &f->rec, f->procs, 64))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	decoder__fini(&f->d);
	proctable__free(f->procs);
	recorder__fini(&f->rec);
	sink__free(&f->cap.base);
	free(f);
	return 0;
}

/* ---- event builders ------------------------------------------------------------------ */

#define START 2000000000ull

static struct fl_exec_id mkid(uint64_t start_ns, uint32_t tgid)
{
	struct fl_exec_id id;

	memset(&id, 0, sizeof(id));
	id.start_ns = start_ns;
	id.tgid = tgid;
	return id;
}

static char *idstr(char *buf, struct fx *f, uint64_t start_ns, uint32_t tgid)
{
	snprintf(buf, EXEC_ID_STRLEN, "%08" PRIx32 ":%" PRIu64 ":%" PRIu32, f->rec.boot_tag,
		 start_ns, tgid);
	return buf;
}

/* The fork of pid (its start seen by the sensor), as the process module reports it. */
static void forked(struct fx *f, uint32_t pid)
{
	struct fl_fork_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = FL_EV_FORK;
	ev.hdr.size = sizeof(ev);
	ev.hdr.boot_ns = START + pid;
	ev.task.id = mkid(START + pid, pid);
	ev.task.parent_id = mkid(1, 1);
	ev.task.pid = pid;
	ev.task.ppid = 1;
	ev.task.start_ns = START + pid;
	ev.task.cgroup_id = 900;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
}

static void exited(struct fx *f, uint32_t pid)
{
	struct fl_exit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = FL_EV_EXIT;
	ev.hdr.size = sizeof(ev);
	ev.hdr.boot_ns = START + pid + 1000;
	ev.id = mkid(START + pid, pid);
	ev.start_ns = START + pid;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
}

static struct fl_sock_owner owner(uint32_t pid)
{
	struct fl_sock_owner o;

	memset(&o, 0, sizeof(o));
	o.id = mkid(START + pid, pid);
	o.cgroup_id = 900;
	o.pid = pid;
	return o;
}

static void v4(uint8_t out[16], const char *s)
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

static void v6(uint8_t out[16], const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static struct fl_tcp_event tcp(uint16_t kind, uint32_t pid, uint64_t cookie, uint64_t now)
{
	struct fl_tcp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = FL_EV_TCP;
	ev.hdr.size = sizeof(ev);
	ev.hdr.boot_ns = now;
	ev.owner = owner(pid);
	ev.tuple.family = AF_INET;
	v4(ev.tuple.saddr, "10.0.0.1");
	v4(ev.tuple.daddr, "10.0.0.2");
	ev.tuple.sport = 40000;
	ev.tuple.dport = 8080;
	ev.cookie = cookie;
	ev.start_ns = START + 5000;
	ev.netns = 4026531840u;
	ev.kind = kind;
	return ev;
}

static Flow *last_flow(struct fx *f)
{
	Rec *r = capture_last(&f->cap);

	assert_int_equal(r->body_case, FIRSTLIGHT__V1__EVENT__BODY_FLOW);
	assert_non_null(r->flow);
	return r->flow;
}

/* ---- TCP ----------------------------------------------------------------------------- */

/* Connect, owner exits, close: the close still knows the owner's start was recorded. */
static void test_tcp_connect_close(void **state)
{
	struct fx *f = *state;
	struct fl_tcp_event ev;
	char id[EXEC_ID_STRLEN];
	Flow *fl;

	forked(f, 500);
	ev = tcp(FL_TCP_CONNECT, 500, 7, START + 6000);
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	fl = last_flow(f);
	assert_int_equal(fl->kind, FIRSTLIGHT__V1__FLOW__KIND__CONNECT);
	assert_int_equal(fl->protocol, 6);
	assert_string_equal(fl->exec_id, idstr(id, f, START + 500, 500));
	assert_int_equal(fl->pid, 500);
	assert_int_equal(fl->cgroup_id, 900);
	assert_string_equal(fl->src_addr, "10.0.0.1");
	assert_int_equal(fl->src_port, 40000);
	assert_string_equal(fl->dst_addr, "10.0.0.2");
	assert_int_equal(fl->dst_port, 8080);
	assert_int_equal(fl->result, 0);
	assert_string_equal(fl->error, "");
	assert_int_equal(fl->start_boot_nano, START + 5000);
	assert_int_equal(fl->duration_nano, 1000); /* the handshake */
	assert_int_equal(fl->socket_cookie, 7);
	assert_int_equal(fl->netns, 4026531840u);
	assert_true(fl->start_seen);
	assert_false(fl->pre_existing);
	assert_false(fl->inbound);
	assert_false(fl->owner_unknown);
	assert_string_equal(fl->workload_key, "cgroup:900");
	assert_int_equal(f->cap.recs[f->cap.n - 1]->boot_nano, START + 6000);

	exited(f, 500);
	ev = tcp(FL_TCP_CLOSE, 500, 7, START + 9000);
	ev.bytes_sent = 1000;
	ev.bytes_received = 300;
	ev.bytes_retrans = 2;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	fl = last_flow(f);
	assert_int_equal(fl->kind, FIRSTLIGHT__V1__FLOW__KIND__CLOSE);
	assert_int_equal(fl->bytes_sent, 1000);
	assert_int_equal(fl->bytes_received, 300);
	assert_int_equal(fl->bytes_retransmitted, 2);
	assert_int_equal(fl->duration_nano, 4000); /* the connection's life */
	assert_true(fl->start_seen);
	/* a second close of the same cookie (cannot happen) no longer finds it */
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	assert_false(last_flow(f)->start_seen);
	assert_int_equal(netdec__stats(f->d.net)->flows, 3);
}

static void test_tcp_refused(void **state)
{
	struct fx *f = *state;
	struct fl_tcp_event ev;
	Flow *fl;

	forked(f, 501);
	ev = tcp(FL_TCP_CONNECT, 501, 8, START + 5100);
	ev.result = -111;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	fl = last_flow(f);
	assert_int_equal(fl->result, -111);
	assert_string_equal(fl->error, "ECONNREFUSED");
	assert_int_equal(fl->duration_nano, 100);
	ev.result = -103;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	assert_string_equal(last_flow(f)->error, "ECONNABORTED");
	ev.result = -99999; /* no such errno: no name, the number stays */
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	assert_string_equal(last_flow(f)->error, "");
	assert_int_equal(last_flow(f)->result, -99999);
}

static void test_tcp_accept_listen(void **state)
{
	struct fx *f = *state;
	struct fl_tcp_event ev;
	Flow *fl;

	forked(f, 502);
	ev = tcp(FL_TCP_LISTEN, 502, 9, START + 5000);
	ev.tuple.dport = 0;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	fl = last_flow(f);
	assert_int_equal(fl->kind, FIRSTLIGHT__V1__FLOW__KIND__LISTEN);
	assert_string_equal(fl->src_addr, "10.0.0.1");
	assert_string_equal(fl->dst_addr, "");
	assert_int_equal(fl->duration_nano, 0);

	ev = tcp(FL_TCP_ACCEPT, 502, 10, START + 5500);
	ev.owner.flags = FL_OWNER_INBOUND;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	fl = last_flow(f);
	assert_int_equal(fl->kind, FIRSTLIGHT__V1__FLOW__KIND__ACCEPT);
	assert_true(fl->inbound);
	assert_int_equal(fl->pid, 502);
	assert_true(fl->start_seen);

	exited(f, 502);
	ev.kind = FL_TCP_CLOSE;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	fl = last_flow(f);
	assert_true(fl->inbound);
	assert_true(fl->start_seen);
}

/* A v4 peer through an AF_INET6 socket is spelled as IPv4; real IPv6 stays IPv6. */
static void test_tcp_v6(void **state)
{
	struct fx *f = *state;
	struct fl_tcp_event ev = tcp(FL_TCP_CONNECT, 503, 11, START + 6000);
	Flow *fl;

	ev.tuple.family = AF_INET6;
	v6(ev.tuple.saddr, "::ffff:127.0.0.1");
	v6(ev.tuple.daddr, "::ffff:127.0.0.2");
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	fl = last_flow(f);
	assert_string_equal(fl->src_addr, "127.0.0.1");
	assert_string_equal(fl->dst_addr, "127.0.0.2");
	v6(ev.tuple.saddr, "::1");
	v6(ev.tuple.daddr, "fd00::2");
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	fl = last_flow(f);
	assert_string_equal(fl->src_addr, "::1");
	assert_string_equal(fl->dst_addr, "fd00::2");
}

/* Flagged, not dropped: an owner the sensor never saw start, and a socket with no owner. */
static void test_tcp_flags(void **state)
{
	struct fx *f = *state;
	struct fl_tcp_event ev = tcp(FL_TCP_CONNECT, 504, 12, START + 6000);
	char id[EXEC_ID_STRLEN];
	Flow *fl;

	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	fl = last_flow(f);
	assert_string_equal(fl->exec_id, idstr(id, f, START + 504, 504));
	assert_false(fl->start_seen);
	assert_false(fl->pre_existing);
	assert_false(fl->owner_unknown);
	assert_int_equal(netdec__stats(f->d.net)->flows_without_start, 1);

	/* an entry for the pid, but of another image: not this owner's start */
	forked(f, 505);
	ev = tcp(FL_TCP_CONNECT, 505, 13, START + 6000);
	ev.owner.id.start_ns++;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	assert_false(last_flow(f)->start_seen);

	ev = tcp(FL_TCP_CLOSE, 0, 14, START + 6000);
	memset(&ev.owner, 0, sizeof(ev.owner));
	ev.owner.flags = FL_OWNER_UNKNOWN;
	ev.start_ns = 0;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	fl = last_flow(f);
	assert_true(fl->owner_unknown);
	assert_string_equal(fl->exec_id, "");
	assert_string_equal(fl->workload_key, "");
	assert_int_equal(fl->pid, 0);
	assert_int_equal(fl->cgroup_id, 0);
	assert_int_equal(fl->duration_nano, 0);
	assert_int_equal(netdec__stats(f->d.net)->flows_unattributed, 1);
}

/*
 * A process in a sandbox (workload.c put it there): its flows carry the sandbox's key,
 * the close too, after the process exited; a flow's cgroup is the event's.
 */
static void test_workload_key(void **state)
{
	struct fx *f = *state;
	struct fl_tcp_event ev;
	struct proc *p;

	forked(f, 506);
	p = proctable__get(f->procs, 506);
	assert_non_null(p);
	p->sandbox = (1ull << 63) | 4026532999ull; /* workload.c's pid-namespace sandbox key */
	ev = tcp(FL_TCP_CONNECT, 506, 15, START + 6000);
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	assert_string_equal(last_flow(f)->workload_key, "sandbox:pidns:4026532999");
	exited(f, 506);
	ev = tcp(FL_TCP_CLOSE, 506, 15, START + 7000);
	ev.owner.cgroup_id = 901; /* moved meanwhile */
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	assert_string_equal(last_flow(f)->workload_key, "sandbox:pidns:4026532999");
	assert_int_equal(last_flow(f)->cgroup_id, 901);
	/* not in a sandbox: its cgroup at the event */
	forked(f, 507);
	ev = tcp(FL_TCP_LISTEN, 507, 16, START + 6000);
	ev.owner.cgroup_id = 902;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	assert_string_equal(last_flow(f)->workload_key, "cgroup:902");
}

/*
 * The table of open connections is bounded: when full, connections whose owner exited
 * more than 15 minutes ago (their close was lost) make room; live owners' stay.
 */
static void test_tcp_conn_table_full(void **state)
{
	struct fx *f = *state;
	struct netdec_opts o = { .max_conns = 2 };
	uint64_t later = START + 16 * 60 * 1000000000ull;
	struct fl_tcp_event ev;

	netdec__free(f->d.net);
	f->d.net = netdec__new(&f->rec, f->d.procs, &o);
	assert_non_null(f->d.net);
	forked(f, 520);
	forked(f, 521);
	ev = tcp(FL_TCP_CONNECT, 520, 41, START + 6000);
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	ev = tcp(FL_TCP_CONNECT, 521, 42, START + 6000);
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	exited(f, 521); /* its close will be lost */
	forked(f, 522);
	ev = tcp(FL_TCP_CONNECT, 522, 43, later);
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	assert_int_equal(netdec__stats(f->d.net)->conns_forgotten, 1);
	assert_int_equal(netdec__stats(f->d.net)->conns_untracked, 0);
	/* full again, nothing stale: not remembered, counted */
	ev = tcp(FL_TCP_CONNECT, 522, 44, later);
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	assert_int_equal(netdec__stats(f->d.net)->conns_untracked, 1);
	/* the live owner's connection was kept: its close knows the start, after the exit */
	exited(f, 520);
	ev = tcp(FL_TCP_CLOSE, 520, 41, later + 1);
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	assert_true(last_flow(f)->start_seen);
	exited(f, 522);
	ev = tcp(FL_TCP_CLOSE, 522, 43, later + 2);
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	assert_true(last_flow(f)->start_seen);
}

/* ---- UDP ----------------------------------------------------------------------------- */

static struct fl_udp_event udp(uint32_t pid, uint32_t gen, uint64_t dgrams, uint64_t bytes,
			       uint64_t now)
{
	struct fl_udp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = FL_EV_UDP;
	ev.hdr.size = sizeof(ev);
	ev.hdr.boot_ns = now;
	ev.key.id = mkid(START + pid, pid);
	ev.key.cgroup_id = 900;
	ev.key.family = AF_INET;
	v4(ev.key.daddr, "10.0.0.53");
	ev.key.dport = 53;
	ev.key.netns = 4026531840u;
	ev.key.gen = gen;
	ev.value.datagrams = dgrams;
	ev.value.bytes = bytes;
	ev.value.first_ns = now;
	ev.value.last_ns = now;
	ev.value.pid = pid;
	return ev;
}

/*
 * The first datagram through the ring while the sender lives; it exits; the rest comes
 * from the map: one record, counts summed, the start known from the ring's time.
 */
static void test_udp_window(void **state)
{
	struct fx *f = *state;
	struct fl_udp_event ev;
	struct fl_udp_value rest;
	char id[EXEC_ID_STRLEN];
	size_t before;
	Flow *fl;

	forked(f, 600);
	ev = udp(600, 1, 1, 40, START + 7000);
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	before = f->cap.n;
	assert_int_equal(before, 1); /* the fork; nothing recorded for UDP yet */
	exited(f, 600);
	rest = ev.value;
	rest.datagrams = 99;
	rest.bytes = 3960;
	rest.first_ns = START + 7000;
	rest.last_ns = START + 9000;
	assert_int_equal(netdec__udp_drained(f->d.net, &ev.key, &rest), 0);
	assert_int_equal(netdec__udp_flush(f->d.net, 0), 0); /* the other generation */
	assert_int_equal(f->cap.n, before + 1);                /* (the exit) */
	assert_int_equal(netdec__udp_flush(f->d.net, 1), 0);
	fl = last_flow(f);
	assert_int_equal(fl->kind, FIRSTLIGHT__V1__FLOW__KIND__UDP);
	assert_int_equal(fl->protocol, 17);
	assert_string_equal(fl->exec_id, idstr(id, f, START + 600, 600));
	assert_int_equal(fl->pid, 600);
	assert_string_equal(fl->dst_addr, "10.0.0.53");
	assert_int_equal(fl->dst_port, 53);
	assert_string_equal(fl->src_addr, "");
	assert_int_equal(fl->datagrams, 100);
	assert_int_equal(fl->bytes_sent, 4000);
	assert_int_equal(fl->start_boot_nano, START + 7000);
	assert_int_equal(fl->duration_nano, 2000);
	assert_true(fl->start_seen);
	assert_string_equal(fl->workload_key, "cgroup:900");
	assert_int_equal(f->cap.recs[f->cap.n - 1]->boot_nano, START + 7000);
	/* flushed means forgotten */
	assert_int_equal(netdec__udp_flush(f->d.net, 1), 0);
	assert_int_equal(f->cap.n, before + 2);
}

/* A map aggregate whose ring contribution was lost: recorded, flags decided at flush. */
static void test_udp_drained_only(void **state)
{
	struct fx *f = *state;
	struct fl_udp_event ev = udp(601, 0, 3, 30, START + 7000);

	assert_int_equal(netdec__udp_drained(f->d.net, &ev.key, &ev.value), 0);
	assert_int_equal(netdec__flush(f->d.net), 0);
	assert_int_equal(last_flow(f)->datagrams, 3);
	assert_false(last_flow(f)->start_seen);
	ev.key.family = 99;
	assert_int_equal(netdec__udp_drained(f->d.net, &ev.key, &ev.value), -EINVAL);
}

/* ---- unix ---------------------------------------------------------------------------- */

static struct fl_unix_connect_event ux(uint32_t pid, uint64_t cookie, const char *path,
				       size_t len, uint64_t now)
{
	struct fl_unix_connect_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = FL_EV_UNIX_CONNECT;
	ev.hdr.size = sizeof(ev);
	ev.hdr.boot_ns = now;
	ev.owner = owner(pid);
	ev.cookie = cookie;
	ev.sock_type = SOCK_STREAM;
	ev.netns = 4026531840u;
	memcpy(ev.path, path, len);
	ev.path_len = (uint32_t)len;
	return ev;
}

static struct fl_unix_peer_event peer(uint64_t cookie, uint32_t pid)
{
	struct fl_unix_peer_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = FL_EV_UNIX_PEER;
	ev.hdr.size = sizeof(ev);
	ev.cookie = cookie;
	ev.peer_pid = pid;
	return ev;
}

static void test_unix_peer(void **state)
{
	struct fx *f = *state;
	struct fl_unix_connect_event c = ux(700, 21, "/run/x.sock\0", 12, START + 100);
	struct fl_unix_peer_event p = peer(21, 701);
	char id[EXEC_ID_STRLEN];
	size_t n;
	Flow *fl;

	forked(f, 700);
	forked(f, 701);
	n = f->cap.n;
	assert_int_equal(decoder__handle(&f->d, &c, sizeof(c)), 0);
	assert_int_equal(f->cap.n, n); /* waits for its peer */
	assert_int_equal(decoder__handle(&f->d, &p, sizeof(p)), 0);
	fl = last_flow(f);
	assert_int_equal(fl->kind, FIRSTLIGHT__V1__FLOW__KIND__UNIX_CONNECT);
	assert_int_equal(fl->protocol, 0);
	assert_string_equal(fl->dst_addr, "/run/x.sock");
	assert_false(fl->dst_addr_escaped);
	assert_int_equal(fl->socket_type, SOCK_STREAM);
	assert_int_equal(fl->peer_pid, 701);
	assert_string_equal(fl->peer_exec_id, idstr(id, f, START + 701, 701));
	assert_string_equal(fl->exec_id, idstr(id, f, START + 700, 700));
	assert_true(fl->start_seen);
	assert_int_equal(f->cap.recs[f->cap.n - 1]->boot_nano, START + 100);
	/* a second peer report for the same socket (cannot happen) is counted, not recorded */
	n = f->cap.n;
	assert_int_equal(decoder__handle(&f->d, &p, sizeof(p)), 0);
	assert_int_equal(f->cap.n, n);
	assert_int_equal(netdec__stats(f->d.net)->unix_late_peers, 1);
	/* a peer the sensor does not know: its pid only */
	c = ux(700, 22, "\0abstract", 9, START + 200);
	p = peer(22, 999);
	decoder__handle(&f->d, &c, sizeof(c));
	decoder__handle(&f->d, &p, sizeof(p));
	fl = last_flow(f);
	assert_string_equal(fl->dst_addr, "@abstract");
	assert_int_equal(fl->peer_pid, 999);
	assert_string_equal(fl->peer_exec_id, "");
}

/* No peer comes (no send, or a datagram socket): recorded once the hold ends, or at stop. */
static void test_unix_no_peer(void **state)
{
	struct fx *f = *state;
	struct fl_unix_connect_event c = ux(702, 23, "/a", 2, START);
	uint64_t hold = 1000000000ull;
	size_t n = f->cap.n;

	assert_int_equal(decoder__handle(&f->d, &c, sizeof(c)), 0);
	assert_int_equal(netdec__tick(f->d.net, START + hold), 0);
	assert_int_equal(f->cap.n, n); /* not older than the hold yet */
	assert_int_equal(netdec__tick(f->d.net, START + hold + 1), 0);
	assert_int_equal(f->cap.n, n + 1);
	assert_string_equal(last_flow(f)->dst_addr, "/a");
	assert_int_equal(last_flow(f)->peer_pid, 0);
	assert_int_equal(netdec__stats(f->d.net)->unix_without_peer, 1);

	/* reconnected before any send: the first connect is recorded then */
	c = ux(702, 24, "/b", 2, START);
	decoder__handle(&f->d, &c, sizeof(c));
	c = ux(702, 24, "/c", 2, START + 1);
	decoder__handle(&f->d, &c, sizeof(c));
	assert_int_equal(f->cap.n, n + 2);
	assert_string_equal(last_flow(f)->dst_addr, "/b");
	/* the agent stops: everything held is recorded */
	assert_int_equal(netdec__flush(f->d.net), 0);
	assert_int_equal(f->cap.n, n + 3);
	assert_string_equal(last_flow(f)->dst_addr, "/c");
	/* an early boot clock cannot underflow the hold */
	assert_int_equal(netdec__tick(f->d.net, 5), 0);
}

/* ---- gaps ---------------------------------------------------------------------------- */

static Firstlight__V1__Gap *last_gap(struct fx *f)
{
	Rec *r = capture_last(&f->cap);

	assert_int_equal(r->body_case, FIRSTLIGHT__V1__EVENT__BODY_GAP);
	return r->gap;
}

/* A flow of a process whose start was never seen is a MISSING_START gap, as an exit is. */
static void test_gap_missing_start(void **state)
{
	struct fx *f = *state;
	struct gaps *g = gaps__new(&f->rec);
	struct fl_tcp_event ev = tcp(FL_TCP_CONNECT, 510, 30, START + 6000);
	Firstlight__V1__Gap *gap;

	assert_non_null(g);
	decoder__set_gaps(&f->d, g, 0);
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	ev.cookie = 31;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	/* an unattributed socket is flagged in its record, not as a missing start */
	ev.owner.flags = FL_OWNER_UNKNOWN;
	assert_int_equal(decoder__handle(&f->d, &ev, sizeof(ev)), 0);
	gaps__flush(g);
	gap = last_gap(f);
	assert_int_equal(gap->kind, FIRSTLIGHT__V1__GAP__KIND__MISSING_START);
	assert_int_equal(gap->count, 2);
	assert_int_equal(gap->cgroup_id, 900);
	assert_string_equal(gap->workload_key, "cgroup:900");
	decoder__set_gaps(&f->d, NULL, 0);
	gaps__free(g);
}

/* Program runs the kernel did not make (re-entry): one gap per report, for the new ones. */
static void test_gap_reentered_runs(void **state)
{
	struct fx *f = *state;
	struct gaps *g = gaps__new(&f->rec);
	size_t n;

	assert_non_null(g);
	decoder__set_gaps(&f->d, g, 0);
	assert_int_equal(netdec__skipped(f->d.net, 0), 0);
	n = f->cap.n;
	assert_int_equal(netdec__skipped(f->d.net, 5), 0);
	assert_int_equal(f->cap.n, n + 1);
	assert_int_equal(last_gap(f)->kind, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP);
	assert_int_equal(last_gap(f)->count, 5);
	assert_string_equal(last_gap(f)->reason, "program-reentered");
	assert_true(last_gap(f)->start_time_unix_nano <= last_gap(f)->end_time_unix_nano);
	assert_int_equal(netdec__skipped(f->d.net, 5), 0); /* nothing new */
	assert_int_equal(f->cap.n, n + 1);
	assert_int_equal(netdec__skipped(f->d.net, 8), 0);
	assert_int_equal(last_gap(f)->count, 3);
	decoder__set_gaps(&f->d, NULL, 0);
	gaps__free(g);
}

/* ---- bad input ----------------------------------------------------------------------- */

static void test_malformed(void **state)
{
	struct fx *f = *state;
	struct fl_tcp_event t = tcp(FL_TCP_CONNECT, 1, 1, 1);
	struct fl_udp_event u = udp(1, 0, 1, 1, 1);
	struct fl_unix_connect_event c = ux(1, 1, "/a", 2, 1);
	struct fl_unix_peer_event p = peer(1, 1);
	uint64_t malformed = f->d.stats.malformed;

	/* cut events, whatever hdr.size claims */
	t.hdr.size = sizeof(t) - 1;
	assert_int_equal(decoder__handle(&f->d, &t, sizeof(t)), -EINVAL);
	u.hdr.size = sizeof(u) - 8;
	assert_int_equal(decoder__handle(&f->d, &u, sizeof(u)), -EINVAL);
	c.hdr.size = sizeof(c) - 1;
	assert_int_equal(decoder__handle(&f->d, &c, sizeof(c)), -EINVAL);
	p.hdr.size = sizeof(p.hdr);
	assert_int_equal(decoder__handle(&f->d, &p, sizeof(p)), -EINVAL);
	/* fields out of range */
	t.hdr.size = sizeof(t);
	t.kind = 0;
	assert_int_equal(decoder__handle(&f->d, &t, sizeof(t)), -EINVAL);
	t.kind = FL_TCP_CLOSE + 1;
	assert_int_equal(decoder__handle(&f->d, &t, sizeof(t)), -EINVAL);
	t.kind = FL_TCP_CLOSE;
	t.tuple.family = AF_UNIX;
	assert_int_equal(decoder__handle(&f->d, &t, sizeof(t)), -EINVAL);
	u.hdr.size = sizeof(u);
	u.key.family = 0;
	assert_int_equal(decoder__handle(&f->d, &u, sizeof(u)), -EINVAL);
	c.hdr.size = sizeof(c);
	c.path_len = FL_UNIX_PATH_MAX + 1;
	assert_int_equal(decoder__handle(&f->d, &c, sizeof(c)), -EINVAL);
	c.path_len = UINT32_MAX;
	assert_int_equal(decoder__handle(&f->d, &c, sizeof(c)), -EINVAL);
	/* a reserved network type the decoder does not know */
	p.hdr.size = sizeof(p);
	p.hdr.type = 19;
	assert_int_equal(decoder__handle(&f->d, &p, sizeof(p)), -EINVAL);
	assert_int_equal(f->d.stats.malformed, malformed + 11);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(netdec__flush(f->d.net), 0);
	assert_int_equal(f->cap.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tcp_connect_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_accept_listen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workload_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_conn_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_drained_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unix_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unix_no_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_missing_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_reentered_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
