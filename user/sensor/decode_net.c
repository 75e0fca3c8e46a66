/* Network events to Flow records; see decode_net.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sensor/decode_net.h"
#include "records/exec_id.h"
#include "sensor/flowagg.h"
#include "base/kvtable.h"
#include "sensor/netaddr.h"
#include "sensor/workload.h"
#include "records/wlkey.h"


#define DEFAULT_HOLD_NS 1000000000ull
#define DEFAULT_MAX_UDP 65536
#define DEFAULT_MAX_CONNS 65536
#define DEFAULT_MAX_UNIX 4096

typedef Firstlight__V1__Flow Flow;

/*
 * What the agent knew of a socket's owner while it was alive (flowagg.h): for a TCP
 * connection, kept by cookie from connect/accept to close.
 */
typedef struct flowagg_proc owner_info;

/* An open TCP connection, by cookie: what was known of its owner at connect/accept. */
struct conn {
	owner_info info;
	struct fl_exec_id owner;
	uint64_t since_ns; /* boot time of its connect/accept */
};

/*
 * A remembered connection whose close was lost (ring full) would stay: when the table is
 * full, those of owners gone for this long are dropped. A live connection of an exited
 * owner that old is rare; its close then falls back to what the process table says.
 */
#define CONN_STALE_NS (15 * 60 * 1000000000ull)

/* A unix connect waiting for its peer, by cookie. */
struct unix_wait {
	struct fl_unix_connect_event ev;
	owner_info owner;
};

struct netdec {
	struct netdec_opts opts;
	struct recorder *rec;     /* not owned */
	struct proctable *procs;  /* not owned */
	struct gaps *gaps;        /* not owned; NULL: no gap records */
	uint64_t skipped_reported;     /* kernel-skipped program runs already in gap records */
	uint64_t skipped_since_unix_ns;
	struct flowagg *udp;
	struct kvtable *conns;
	struct kvtable *unix_wait;
	struct netdec_stats stats;
};

struct netdec *netdec__new(struct recorder *rec, struct proctable *procs, const struct netdec_opts *opts)
{
	struct netdec *n = calloc(1, sizeof(*n));
	int err;

	if (!n)
		return NULL;
	n->rec = rec;
	n->procs = procs;
	if (opts)
		n->opts = *opts;
	if (!n->opts.hold_ns)
		n->opts.hold_ns = DEFAULT_HOLD_NS;
	if (!n->opts.max_udp)
		n->opts.max_udp = DEFAULT_MAX_UDP;
	if (!n->opts.max_conns)
		n->opts.max_conns = DEFAULT_MAX_CONNS;
	if (!n->opts.max_unix)
		n->opts.max_unix = DEFAULT_MAX_UNIX;
	n->udp = flowagg__new(n->opts.max_udp);
	n->conns = kvtable__new(sizeof(uint64_t), sizeof(struct conn), n->opts.max_conns);
	n->unix_wait = kvtable__new(sizeof(uint64_t), sizeof(struct unix_wait), n->opts.max_unix);
	if (!n->udp || !n->conns || !n->unix_wait) {
		err = errno;
		netdec__free(n);
		errno = err;
		return NULL;
	}
	return n;
}

void netdec__free(struct netdec *n)
{
	if (!n)
		return;
	flowagg__free(n->udp);
	kvtable__free(n->conns);
	kvtable__free(n->unix_wait);
	free(n);
}

const struct netdec_stats *netdec__stats(const struct netdec *n)
{
	return &n->stats;
}

void netdec__set_gaps(struct netdec *n, struct gaps *g)
{
	n->gaps = g;
}

void netdec__set_hold(struct netdec *n, uint64_t hold_ns)
{
	n->opts.hold_ns = hold_ns ? hold_ns : DEFAULT_HOLD_NS;
}

/* What the process table says of the image id now. */
static owner_info owner_info_of(struct netdec *d, const struct fl_exec_id *id)
{
	const struct proc *p = proctable__get(d->procs, id->tgid);
	owner_info o = { .flags = FLOWAGG_PROC_KNOWN };

	if (!p || p->id.start_ns != id->start_ns)
		return o; /* not in the table, or another image of that pid */
	if (p->flags & PROC_START_SEEN)
		o.flags |= FLOWAGG_START_SEEN;
	if (p->flags & PROC_PRE_EXISTING)
		o.flags |= FLOWAGG_PRE_EXISTING;
	o.sandbox = p->sandbox;
	return o;
}

/* The strings a Flow points to while it is emitted. */
struct flow_bufs {
	char exec_id[EXEC_ID_STRLEN];
	char peer_exec_id[EXEC_ID_STRLEN];
	char src[NETADDR_STRLEN];
	char dst[NETADDR_UNIX_STRLEN];
	char workload_key[WLKEY_MAX];
};

/*
 * Owner, workload and start flags: the fields every network record shares. A flow of a
 * process whose start was never recorded is also counted as a MISSING_START gap, as an
 * exit is (gaps.h).
 */
static void set_owner(struct netdec *d, Flow *f, struct flow_bufs *b,
		      const struct fl_sock_owner *o, const owner_info *info, uint64_t boot_ns)
{
	if (o->flags & FL_OWNER_UNKNOWN) {
		f->owner_unknown = 1;
		d->stats.flows_unattributed++;
	} else {
		f->exec_id = exec_id__format(b->exec_id, d->rec->boot_tag, &o->id);
		f->cgroup_id = o->cgroup_id;
		f->pid = o->pid;
		/* The cgroup of the event (the owner may have moved), the sandbox it was in. */
		wlkey__format(b->workload_key, o->cgroup_id, info->sandbox);
		f->workload_key = b->workload_key;
	}
	f->start_seen = !!(info->flags & FLOWAGG_START_SEEN);
	f->pre_existing = !!(info->flags & FLOWAGG_PRE_EXISTING);
	if (!f->start_seen && !f->pre_existing) {
		d->stats.flows_without_start++;
		if (d->gaps && !f->owner_unknown)
			gaps__count(d->gaps, FIRSTLIGHT__V1__GAP__KIND__MISSING_START, o->cgroup_id,
				    f->workload_key, wallclock__unix_ns(&d->rec->clock, boot_ns));
	}
}

static void set_result(Flow *f, int32_t result)
{
	f->result = result;
	if (result < 0) {
		const char *name = strerrorname_np(-result);

		f->error = (char *)(name ? name : "");
	}
}

static int emit_flow(struct netdec *d, Flow *f, uint64_t boot_ns)
{
	Event rec = FIRSTLIGHT__V1__EVENT__INIT;

	rec.body_case = FIRSTLIGHT__V1__EVENT__BODY_FLOW;
	rec.flow = f;
	d->stats.flows++;
	return recorder__emit(d->rec, &rec, boot_ns);
}

/* ---- TCP ------------------------------------------------------------------------------ */

/*
 * What is known of the owner of a TCP event: decided at connect/accept and remembered
 * for the close, which often comes after the owner exited.
 */
struct stale_ctx {
	struct netdec *d;
	uint64_t before_ns;
};

static int conn_stale(void *ctx, const void *key, void *value)
{
	struct stale_ctx *c = ctx;
	struct conn *conn = value;
	const struct proc *p = proctable__get(c->d->procs, conn->owner.tgid);

	(void)key;
	return conn->since_ns < c->before_ns && !(p && p->id.start_ns == conn->owner.start_ns);
}

/* Remembers an open connection; when the table is full, forgets stale ones first. */
static void conn_remember(struct netdec *d, uint64_t cookie, const struct fl_tcp_event *ev,
			  const owner_info *info)
{
	struct netdec *n = d;
	struct conn *c;
	int created;

	c = kvtable__put(n->conns, &cookie, &created);
	if (!c && errno == ENOSPC && ev->hdr.boot_ns > CONN_STALE_NS) {
		struct stale_ctx sc = { .d = d, .before_ns = ev->hdr.boot_ns - CONN_STALE_NS };

		n->stats.conns_forgotten += kvtable__remove_if(n->conns, conn_stale, &sc);
		c = kvtable__put(n->conns, &cookie, &created);
	}
	if (!c) {
		n->stats.conns_untracked++;
		return;
	}
	c->info = *info;
	c->owner = ev->owner.id;
	c->since_ns = ev->hdr.boot_ns;
}

static owner_info tcp_owner_info(struct netdec *d, const struct fl_tcp_event *ev)
{
	owner_info o = { .flags = FLOWAGG_PROC_KNOWN };
	uint64_t cookie = ev->cookie;
	struct conn *c;

	if (ev->owner.flags & FL_OWNER_UNKNOWN)
		return o;
	if (ev->kind == FL_TCP_CLOSE) {
		c = kvtable__get(d->conns, &cookie);
		if (!c)
			return owner_info_of(d, &ev->owner.id);
		o = c->info;
		kvtable__remove(d->conns, &cookie);
		return o;
	}
	o = owner_info_of(d, &ev->owner.id);
	if (ev->kind == FL_TCP_ACCEPT || (ev->kind == FL_TCP_CONNECT && ev->result == 0))
		conn_remember(d, cookie, ev, &o);
	return o;
}

static int handle_tcp(struct netdec *d, const struct fl_tcp_event *ev, size_t size)
{
	static const int kinds[] = {
		[FL_TCP_LISTEN] = FIRSTLIGHT__V1__FLOW__KIND__LISTEN,
		[FL_TCP_CONNECT] = FIRSTLIGHT__V1__FLOW__KIND__CONNECT,
		[FL_TCP_ACCEPT] = FIRSTLIGHT__V1__FLOW__KIND__ACCEPT,
		[FL_TCP_CLOSE] = FIRSTLIGHT__V1__FLOW__KIND__CLOSE,
	};
	Flow f = FIRSTLIGHT__V1__FLOW__INIT;
	const struct fl_inet_tuple *t = &ev->tuple;
	struct flow_bufs b;
	owner_info info;

	if (size < sizeof(*ev) || ev->kind < FL_TCP_LISTEN || ev->kind > FL_TCP_CLOSE ||
	    (t->family != AF_INET && t->family != AF_INET6))
		return -EINVAL;
	f.kind = kinds[ev->kind];
	f.protocol = 6;
	info = tcp_owner_info(d, ev);
	set_owner(d, &f, &b, &ev->owner, &info, ev->hdr.boot_ns);
	f.src_addr = netaddr__format(b.src, t->family, t->saddr);
	f.src_port = t->sport;
	if (ev->kind != FL_TCP_LISTEN) {
		f.dst_addr = netaddr__format(b.dst, t->family, t->daddr);
		f.dst_port = t->dport;
	}
	set_result(&f, ev->result);
	f.inbound = ev->kind == FL_TCP_ACCEPT || !!(ev->owner.flags & FL_OWNER_INBOUND);
	f.socket_cookie = ev->cookie;
	f.netns = ev->netns;
	f.start_boot_nano = ev->start_ns;
	if (ev->start_ns && ev->hdr.boot_ns > ev->start_ns &&
	    (ev->kind == FL_TCP_CONNECT || ev->kind == FL_TCP_CLOSE))
		f.duration_nano = ev->hdr.boot_ns - ev->start_ns;
	if (ev->kind == FL_TCP_CLOSE) {
		f.bytes_sent = ev->bytes_sent;
		f.bytes_received = ev->bytes_received;
		f.bytes_retransmitted = ev->bytes_retrans;
	}
	return emit_flow(d, &f, ev->hdr.boot_ns);
}

/* ---- UDP ------------------------------------------------------------------------------ */

static int emit_udp(struct netdec *d, const struct fl_udp_key *k, const struct fl_udp_value *v,
		    const owner_info *info)
{
	Flow f = FIRSTLIGHT__V1__FLOW__INIT;
	struct fl_sock_owner o = { .id = k->id, .cgroup_id = k->cgroup_id, .pid = v->pid };
	owner_info now;
	struct flow_bufs b;

	if (!info || !(info->flags & FLOWAGG_PROC_KNOWN)) {
		now = owner_info_of(d, &k->id); /* its first datagram's event was lost */
		info = &now;
	}
	f.kind = FIRSTLIGHT__V1__FLOW__KIND__UDP;
	f.protocol = 17;
	set_owner(d, &f, &b, &o, info, v->first_ns);
	f.dst_addr = netaddr__format(b.dst, k->family, k->daddr);
	f.dst_port = k->dport;
	f.datagrams = v->datagrams;
	f.bytes_sent = v->bytes;
	f.connects = v->connects;
	f.netns = k->netns;
	f.start_boot_nano = v->first_ns;
	if (v->last_ns > v->first_ns)
		f.duration_nano = v->last_ns - v->first_ns;
	return emit_flow(d, &f, v->first_ns);
}

static int udp_add(struct netdec *d, const struct fl_udp_key *k, const struct fl_udp_value *v,
		   const owner_info *info)
{
	int err = flowagg__add(d->udp, k, v, info);

	if (err != -ENOSPC && err != -ENOMEM)
		return err;
	/* No room to aggregate: record this contribution alone rather than lose it. */
	d->stats.udp_alone++;
	return emit_udp(d, k, v, info);
}

static int handle_udp(struct netdec *d, const struct fl_udp_event *ev, size_t size)
{
	owner_info info;

	if (size < sizeof(*ev) || (ev->key.family != AF_INET && ev->key.family != AF_INET6))
		return -EINVAL;
	info = owner_info_of(d, &ev->key.id);
	return udp_add(d, &ev->key, &ev->value, &info);
}

int netdec__udp_drained(struct netdec *d, const struct fl_udp_key *key,
			    const struct fl_udp_value *value)
{
	struct fl_udp_key k = *key;

	if (k.family != AF_INET && k.family != AF_INET6)
		return -EINVAL;
	proctable__resolve(d->procs, &k.id);
	return udp_add(d, &k, value, NULL);
}

struct udp_flush_ctx {
	struct netdec *d;
	int err;
};

static void udp_flush_one(void *ctx, const struct fl_udp_key *key, const struct flowagg_entry *e)
{
	struct udp_flush_ctx *c = ctx;
	int err = emit_udp(c->d, key, &e->sum, &e->proc);

	if (err && !c->err)
		c->err = err;
}

int netdec__udp_flush(struct netdec *d, uint32_t gen)
{
	struct udp_flush_ctx c = { .d = d };

	flowagg__flush(d->udp, gen, udp_flush_one, &c);
	return c.err;
}

/* ---- unix ----------------------------------------------------------------------------- */

static int emit_unix(struct netdec *d, const struct fl_unix_connect_event *ev,
		     const owner_info *info, uint32_t peer_pid)
{
	Flow f = FIRSTLIGHT__V1__FLOW__INIT;
	struct flow_bufs b;
	int escaped;

	f.kind = FIRSTLIGHT__V1__FLOW__KIND__UNIX_CONNECT;
	f.protocol = 0;
	set_owner(d, &f, &b, &ev->owner, info, ev->hdr.boot_ns);
	f.dst_addr = netaddr__unix_path(b.dst, ev->path, ev->path_len, &escaped);
	f.dst_addr_escaped = escaped;
	f.socket_type = ev->sock_type;
	f.socket_cookie = ev->cookie;
	f.netns = ev->netns;
	f.start_boot_nano = ev->hdr.boot_ns;
	if (peer_pid) {
		const struct proc *p = proctable__get(d->procs, peer_pid);

		f.peer_pid = peer_pid;
		if (p)
			f.peer_exec_id = exec_id__format(b.peer_exec_id, d->rec->boot_tag, &p->id);
	} else {
		d->stats.unix_without_peer++;
	}
	return emit_flow(d, &f, ev->hdr.boot_ns);
}

static int handle_unix_connect(struct netdec *d, const struct fl_unix_connect_event *ev, size_t size)
{
	owner_info info;
	struct unix_wait *w;
	uint64_t cookie;
	int created;

	if (size < sizeof(*ev) || ev->path_len > FL_UNIX_PATH_MAX)
		return -EINVAL;
	info = owner_info_of(d, &ev->owner.id);
	cookie = ev->cookie;
	w = kvtable__get(d->unix_wait, &cookie);
	if (w) {
		/* The socket connected again before its first send: record the first one. */
		int err = emit_unix(d, &w->ev, &w->owner, 0);

		kvtable__remove(d->unix_wait, &cookie);
		if (err)
			return err;
	}
	w = kvtable__put(d->unix_wait, &cookie, &created);
	if (!w)
		return emit_unix(d, ev, &info, 0); /* no room to wait: record it now */
	w->ev = *ev;
	w->owner = info;
	return 0;
}

static int handle_unix_peer(struct netdec *d, const struct fl_unix_peer_event *ev, size_t size)
{
	uint64_t cookie;
	struct unix_wait *w;
	int err;

	if (size < sizeof(*ev))
		return -EINVAL;
	cookie = ev->cookie;
	w = kvtable__get(d->unix_wait, &cookie);
	if (!w) {
		d->stats.unix_late_peers++; /* its connect was recorded without it */
		return 0;
	}
	err = emit_unix(d, &w->ev, &w->owner, ev->peer_pid);
	kvtable__remove(d->unix_wait, &cookie);
	return err;
}

struct unix_expire_ctx {
	struct netdec *d;
	uint64_t before_ns; /* connects older than this are recorded; 0: all */
	int err;
};

static int unix_expire_one(void *ctx, const void *key, void *value)
{
	struct unix_expire_ctx *c = ctx;
	struct unix_wait *w = value;
	int err;

	(void)key;
	if (c->before_ns && w->ev.hdr.boot_ns >= c->before_ns)
		return 0;
	err = emit_unix(c->d, &w->ev, &w->owner, 0);
	if (err && !c->err)
		c->err = err;
	return 1;
}

int netdec__tick(struct netdec *d, uint64_t now_boot_ns)
{
	struct unix_expire_ctx c = { .d = d };

	if (now_boot_ns <= d->opts.hold_ns)
		return 0;
	c.before_ns = now_boot_ns - d->opts.hold_ns;
	kvtable__remove_if(d->unix_wait, unix_expire_one, &c);
	return c.err;
}

int netdec__flush(struct netdec *d)
{
	struct unix_expire_ctx c = { .d = d };
	int err = netdec__udp_flush(d, FLOWAGG_ALL_GENS);

	kvtable__remove_if(d->unix_wait, unix_expire_one, &c);
	return err ? err : c.err;
}

/*
 * The owner's id as the kernel sent it can be the pre-exec id of a process the kernel
 * could not track (proctable__resolve): each event is decoded from a copy made right.
 */
int netdec__handle(struct netdec *d, const void *data, size_t size)
{
	const struct fl_event_hdr *hdr = data;
	union {
		struct fl_tcp_event tcp;
		struct fl_udp_event udp;
		struct fl_unix_connect_event unix_connect;
	} e;

	switch (hdr->type) {
	case FL_EV_TCP:
		if (size < sizeof(e.tcp))
			return -EINVAL;
		memcpy(&e.tcp, data, sizeof(e.tcp));
		proctable__resolve(d->procs, &e.tcp.owner.id);
		return handle_tcp(d, &e.tcp, size);
	case FL_EV_UDP:
		if (size < sizeof(e.udp))
			return -EINVAL;
		memcpy(&e.udp, data, sizeof(e.udp));
		proctable__resolve(d->procs, &e.udp.key.id);
		return handle_udp(d, &e.udp, size);
	case FL_EV_UNIX_CONNECT:
		if (size < sizeof(e.unix_connect))
			return -EINVAL;
		memcpy(&e.unix_connect, data, sizeof(e.unix_connect));
		proctable__resolve(d->procs, &e.unix_connect.owner.id);
		return handle_unix_connect(d, &e.unix_connect, size);
	case FL_EV_UNIX_PEER:
		return handle_unix_peer(d, data, size);
	}
	return -EINVAL;
}

int netdec__skipped(struct netdec *d, uint64_t total)
{
	struct netdec *n = d;
	uint64_t now = wallclock__unix_ns(&d->rec->clock, clock__boot_ns()), count;
	char detail[160];
	struct gap_info gi = {
		.kind = FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP,
		.event_type = "tcp",
		.reason = "program-reentered",
		.detail = detail,
	};
	int err = 0;

	if (!n->skipped_since_unix_ns)
		n->skipped_since_unix_ns = now;
	if (total <= n->skipped_reported)
		return 0;
	count = total - n->skipped_reported;
	gi.count = count;
	gi.start_unix_ns = n->skipped_since_unix_ns;
	gi.end_unix_ns = now;
	snprintf(detail, sizeof(detail),
		 "%" PRIu64 " network events not seen: the kernel skipped a sensor program "
		 "re-entered on a CPU where it was running (workload unknown)", count);
	if (d->gaps)
		err = gaps__emit(d->gaps, &gi);
	n->skipped_reported = total;
	n->skipped_since_unix_ns = now;
	return err;
}

uint64_t netdec__skipped_reported(const struct netdec *n)
{
	return n->skipped_reported;
}

void netdec__set_skipped_reported(struct netdec *n, uint64_t reported)
{
	n->skipped_reported = reported;
}
