/* A node's window, judged; see report.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/array.h"
#include "base/ptrvec.h"
#include "base/strmap.h"
#include "readers/report.h"
#include "readers/treefmt.h"
#include "records/wlkey.h"
#include "store/segment_reader.h"

typedef Firstlight__V1__Event Event;
typedef Firstlight__V1__NodeCapabilities NodeCaps;

struct rwl {
	struct report_workload pub;
	uint64_t record_ns;      /* the record its fields come from */
	/* What its records say of its coverage (report.h tells how each is used). */
	uint64_t rec_latency_ns; /* the largest first-event latency of its records */
	uint64_t rec_drops;      /* the largest drops of its records */
	uint64_t end_latency_ns, end_drops; /* its ENDED record's */
	const char **end_unobserved;        /* its ENDED record's list */
	size_t n_end_unobserved;
	int born_seen;           /* a record of it gives its parent: the sensor saw its mkdir */
	uint64_t first_proc_ns;  /* the earliest exec or fork record in its cgroup; 0: none */
	uint64_t gap_drops;      /* RING_BUFFER_DROP and SHARE_EXCEEDED of every gap naming it */
};

/* One distinct NodeCapabilities record of a node's window (or the one in force at its
 * start): its records' times and what they say. */
struct capstate {
	uint64_t first_ns, last_ns;
	const char *release, *machine;
	struct report_missing *missing;
	size_t n_missing;
};

/* A list of reasons (or of notes) as the verdict states them. */
struct reasons {
	struct report_reason *v;
	size_t n, cap;
};

/* A gap kind met in the window: how many gaps, and what they count. */
struct kind_sum {
	int kind;
	size_t gaps;
	uint64_t count;
};

struct rnode {
	struct report_node pub;
	struct verifier *v;
	struct gapscan *gs;
	size_t file;             /* the report's file the scanner was last told of */
	int has_file;
	struct strmap *wl;       /* key -> struct rwl */
	struct ptrvec wls;
	struct gapscan_run *runs;
	size_t n_runs, cap_runs;
	struct ptrvec gaps;
	struct report_span *strip;
	size_t n_strip, cap_strip;
	struct reasons reasons, notes;
	struct ptrvec shown_wls;
	struct capstate cap_before;   /* the latest at or before the window's start */
	int has_cap_before;
	struct capstate *caps;        /* distinct ones within the window, as read */
	size_t n_caps, cap_caps;
	const char **latest_missing;  /* the names the one in force at the window's end lacks */
	size_t n_latest_missing;
	int own;                      /* a collector's own records (inputs__group) */
	struct ptrvec found;          /* a collector's findings about this node (gap rows) */
};

struct report {
	struct report_opts o;
	uint8_t (*keys)[KEYS_PUB_LEN];
	struct arena *a;
	struct strmap *by_name;
	struct ptrvec nodes;     /* struct rnode *, sorted by name at finish */
	const char *group;       /* the file being read: whose records it holds, NULL: its node */
	size_t files;
	char err[600];
	int finished, complete;
	const char *verdict;
	struct json_buf tmp;
};

const char *report__state_name(enum report_state s)
{
	static const char *const names[] = { "covered", "gap", "down", "notShipped" };

	return (unsigned)s < REPORT_STATES ? names[s] : "unknown";
}

struct report *report__new(const struct report_opts *o)
{
	struct report *r;

	if (!o || o->since_ns >= o->until_ns) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->o = *o;
	if (o->n_keys) {
		r->keys = malloc(o->n_keys * KEYS_PUB_LEN);
		if (!r->keys)
			goto nomem;
		memcpy(r->keys, o->keys, o->n_keys * KEYS_PUB_LEN);
		r->o.keys = (const uint8_t(*)[KEYS_PUB_LEN])r->keys;
	}
	r->a = arena__new();
	r->by_name = strmap__new();
	if (!r->a || !r->by_name)
		goto nomem;
	return r;
nomem:
	report__free(r);
	errno = ENOMEM;
	return NULL;
}

static void node_free(struct rnode *n)
{
	verifier__free(n->v);
	gapscan__free(n->gs);
	strmap__free(n->wl);
	ptrvec__free(&n->wls);
	free(n->runs);
	ptrvec__free(&n->gaps);
	ptrvec__free(&n->found);
	free(n->strip);
	free(n->reasons.v);
	free(n->notes.v);
	ptrvec__free(&n->shown_wls);
	free(n->caps);
	free(n);
}

void report__free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nodes.n; i++)
		node_free(r->nodes.v[i]);
	ptrvec__free(&r->nodes);
	strmap__free(r->by_name);
	arena__free(r->a);
	json_buf__free(&r->tmp);
	free(r->keys);
	free(r);
}

const char *report__error(const struct report *r)
{
	return r->err;
}

/* A node's chain is checked with the keys pinned for all nodes and its own, if it has one. */
static struct verifier *node_verifier(struct report *r, const char *node)
{
	uint8_t (*keys)[KEYS_PUB_LEN] = calloc(r->o.n_keys + 1, KEYS_PUB_LEN);
	struct verifier *v;
	size_t n = r->o.n_keys;

	if (!keys)
		return NULL;
	if (n)
		memcpy(keys, r->o.keys, n * KEYS_PUB_LEN);
	if (r->o.node_key && r->o.node_key(r->o.key_ctx, node, keys[n]) == 0)
		n++;
	v = verifier__new((const uint8_t(*)[KEYS_PUB_LEN])keys, n);
	free(keys);
	return v;
}

/* The node named name, made at its first mention; while a collector's own folder is read
 * (r->group), that is its name and the node is the collector's (own). */
static struct rnode *node_get(struct report *r, const char *name)
{
	struct rnode *n = strmap__get(r->by_name, name ? name : "");
	char *key;

	if (n) {
		n->own |= r->group != NULL;
		return n;
	}
	n = calloc(1, sizeof(*n));
	key = arena__strdup(r->a, name);
	if (!n || !key)
		goto nomem;
	n->pub.node = key;
	n->own = r->group != NULL;
	n->v = node_verifier(r, key);
	n->gs = gapscan__new();
	n->wl = strmap__new();
	if (!n->v || !n->gs || !n->wl || strmap__put(r->by_name, key, n))
		goto nomem;
	if (ptrvec__push(&r->nodes, n)) {
		/* by_name holds it: freed with the nodes, so take it back out of reach. */
		strmap__put(r->by_name, key, NULL);
		goto nomem;
	}
	return n;
nomem:
	if (n)
		node_free(n);
	return NULL;
}

/* ---- reading ----------------------------------------------------------------------------- */

static const char *str_of(struct report *r, const char *cur, const char *s)
{
	if (!s || !*s || !strcmp(cur, s))
		return cur;
	return arena__strdup(r->a, s);
}

static const char *kind_name(int kind)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&firstlight__v1__workload__kind__descriptor, kind);

	return v ? v->name : "KIND_UNSPECIFIED";
}

/* A Workload record: each restates its workload in full; the latest one's fields win,
 * first and last seen widen, ENDED sticks and carries the coverage. */
static int add_workload(struct report *r, struct rnode *n, const Event *ev)
{
	const Firstlight__V1__Workload *w = ev->workload;
	char buf[WLKEY_MAX];
	const char *key = wlkey__of_record(buf, w->key, w->cgroup_id);
	struct rwl *x;
	struct report_workload *p;

	if (!key)
		return 0;
	x = strmap__get(n->wl, key);
	if (!x) {
		uint64_t born = w->first_seen_unix_nano ? w->first_seen_unix_nano : ev->time_unix_nano;

		if (born > r->o.until_ns)
			return 0; /* born after the window: nothing of it belongs to the report */
		x = arena__alloc(r->a, sizeof(*x));
		if (!x || !(x->pub.key = arena__strdup(r->a, key)) || strmap__put(n->wl, x->pub.key, x) ||
		    ptrvec__push(&n->wls, x))
			return -ENOMEM;
		p = &x->pub;
		p->kind = p->runtime = p->container_id = p->container_name = p->pod_name = "";
		p->pod_namespace = p->image = p->cgroup_path = p->identity_source = "";
	}
	p = &x->pub;
	if (w->first_seen_unix_nano && (!p->first_seen_ns || w->first_seen_unix_nano < p->first_seen_ns))
		p->first_seen_ns = w->first_seen_unix_nano;
	if (w->last_seen_unix_nano > p->last_seen_ns)
		p->last_seen_ns = w->last_seen_unix_nano;
	/* Every Workload record carries the coverage known when it was written. */
	if (w->first_event_latency_nano > x->rec_latency_ns)
		x->rec_latency_ns = w->first_event_latency_nano;
	if (w->drops > x->rec_drops)
		x->rec_drops = w->drops;
	/* Only the mkdir the sensor saw gives a workload its parent (sensor/workload.c). */
	x->born_seen |= w->parent_cgroup_id != 0;
	if (w->state == FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED) {
		p->ended = 1;
		x->end_latency_ns = w->first_event_latency_nano;
		x->end_drops = w->drops;
		x->n_end_unobserved = 0;
		if (w->n_unobserved && !(x->end_unobserved = arena__alloc(r->a, w->n_unobserved * sizeof(char *))))
			return -ENOMEM;
		for (size_t i = 0; i < w->n_unobserved; i++) {
			if (!w->unobserved[i] || !*w->unobserved[i])
				continue;
			if (!(x->end_unobserved[x->n_end_unobserved++] = arena__strdup(r->a, w->unobserved[i])))
				return -ENOMEM;
		}
	}
	p->unattributed |= w->unattributed;
	if (ev->time_unix_nano < x->record_ns)
		return 0;
	x->record_ns = ev->time_unix_nano;
	p->cgroup_id = w->cgroup_id ? w->cgroup_id : p->cgroup_id;
	p->identity_verified = w->identity_verified;
	p->processes = w->process_count;
	p->kind = str_of(r, p->kind, kind_name(w->kind));
	p->runtime = str_of(r, p->runtime, w->runtime);
	p->container_id = str_of(r, p->container_id, w->container_id);
	p->container_name = str_of(r, p->container_name, w->container_name);
	p->pod_name = str_of(r, p->pod_name, w->pod_name);
	p->pod_namespace = str_of(r, p->pod_namespace, w->pod_namespace);
	p->image = str_of(r, p->image, w->image);
	p->cgroup_path = str_of(r, p->cgroup_path, w->cgroup_path);
	p->identity_source = str_of(r, p->identity_source, w->identity_source);
	if (!p->kind || !p->runtime || !p->container_id || !p->container_name || !p->pod_name ||
	    !p->pod_namespace || !p->image || !p->cgroup_path || !p->identity_source)
		return -ENOMEM;
	return 0;
}

/* An exec or fork: the first one in a workload's cgroup is its first process event (a
 * restatement of an older process at a segment's start is not). */
static int add_process(struct rnode *n, const Event *ev, const Firstlight__V1__Process *proc)
{
	char key[WLKEY_MAX];
	struct rwl *x;

	if (!proc || !proc->cgroup_id || ev->snapshot || !ev->time_unix_nano)
		return 0;
	wlkey__format(key, proc->cgroup_id, 0);
	x = strmap__get(n->wl, key);
	if (x && (!x->first_proc_ns || ev->time_unix_nano < x->first_proc_ns))
		x->first_proc_ns = ev->time_unix_nano;
	return 0;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* What a NodeCapabilities record lacks, in out (pointing into it): its missing_detail,
 * then the names of missing without one; each name once, at most max (*cut then set). */
static size_t caps_missing_of(const NodeCaps *m, struct report_missing *out, size_t max, int *cut)
{
	size_t n = 0, total = m->n_missing_detail + m->n_missing;

	for (size_t i = 0; i < total; i++) {
		const Firstlight__V1__NodeCapabilities__Missing *d =
			i < m->n_missing_detail ? m->missing_detail[i] : NULL;
		const char *name = i < m->n_missing_detail ? (d ? nz(d->name) : "") : nz(m->missing[i - m->n_missing_detail]);
		size_t k;

		if (!*name)
			continue;
		for (k = 0; k < n && strcmp(out[k].name, name); k++)
			;
		if (k < n)
			continue;
		if (n == max) {
			*cut = 1;
			break;
		}
		out[n++] = (struct report_missing){ name, d ? nz(d->reason) : "", d ? nz(d->unobserved) : "" };
	}
	return n;
}

static int caps_same(const struct capstate *c, const NodeCaps *m, const struct report_missing *miss, size_t n)
{
	if (strcmp(c->release, nz(m->kernel_release)) || strcmp(c->machine, nz(m->machine)) || c->n_missing != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(c->missing[i].name, miss[i].name) || strcmp(c->missing[i].reason, miss[i].reason) ||
		    strcmp(c->missing[i].unobserved, miss[i].unobserved))
			return 0;
	return 1;
}

static int caps_set(struct report *r, struct capstate *c, const NodeCaps *m, const struct report_missing *miss,
		    size_t n, uint64_t t)
{
	*c = (struct capstate){ .first_ns = t, .last_ns = t, .n_missing = n };
	c->release = arena__strdup(r->a, nz(m->kernel_release));
	c->machine = arena__strdup(r->a, nz(m->machine));
	c->missing = n ? arena__alloc(r->a, n * sizeof(*c->missing)) : NULL;
	if (!c->release || !c->machine || (n && !c->missing))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c->missing[i].name = arena__strdup(r->a, miss[i].name);
		c->missing[i].reason = arena__strdup(r->a, miss[i].reason);
		c->missing[i].unobserved = arena__strdup(r->a, miss[i].unobserved);
		if (!c->missing[i].name || !c->missing[i].reason || !c->missing[i].unobserved)
			return -ENOMEM;
	}
	return 0;
}

/* A NodeCapabilities record (the agent writes one at every start and restates it at every
 * segment's start): the latest at or before the window's start is in force at its start;
 * each distinct one within it is kept; later ones say nothing of the window. */
static int add_caps(struct report *r, struct rnode *n, const Event *ev)
{
	const NodeCaps *m = ev->node_capabilities;
	struct report_missing miss[REPORT_CAPS_MAX];
	uint64_t t = ev->time_unix_nano;
	size_t nm;
	int cut = 0, err;

	if (t > r->o.until_ns)
		return 0;
	nm = caps_missing_of(m, miss, REPORT_CAPS_MAX, &cut);
	n->pub.caps.truncated |= cut;
	if (t <= r->o.since_ns) {
		if (n->has_cap_before && t < n->cap_before.last_ns)
			return 0;
		if (n->has_cap_before && caps_same(&n->cap_before, m, miss, nm)) {
			n->cap_before.last_ns = t;
			return 0;
		}
		err = caps_set(r, &n->cap_before, m, miss, nm, t);
		n->has_cap_before = !err;
		return err;
	}
	for (size_t i = 0; i < n->n_caps; i++)
		if (caps_same(&n->caps[i], m, miss, nm)) {
			if (t < n->caps[i].first_ns)
				n->caps[i].first_ns = t;
			if (t > n->caps[i].last_ns)
				n->caps[i].last_ns = t;
			return 0;
		}
	if (n->n_caps == REPORT_CAPS_MAX) {
		n->pub.caps.truncated = 1;
		return 0;
	}
	if (ARRAY_GROW(n->caps, n->cap_caps, n->n_caps + 1))
		return -ENOMEM;
	err = caps_set(r, &n->caps[n->n_caps], m, miss, nm, t);
	n->n_caps += !err;
	return err;
}

static int add_event(struct report *r, const Event *ev, const char *path)
{
	struct rnode *n = node_get(r, r->group ? r->group : ev->node);
	int err;

	if (!n)
		return -ENOMEM;
	if (!n->has_file || n->file != r->files) {
		err = gapscan__begin_file(n->gs, path);
		if (err)
			return err;
		n->file = r->files;
		n->has_file = 1;
	}
	err = gapscan__add(n->gs, ev);
	if (err)
		return err;
	switch (ev->body_case) {
	case FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD:
		return ev->workload ? add_workload(r, n, ev) : 0;
	case FIRSTLIGHT__V1__EVENT__BODY_EXEC:
		return ev->exec ? add_process(n, ev, ev->exec->process) : 0;
	case FIRSTLIGHT__V1__EVENT__BODY_FORK:
		return ev->fork ? add_process(n, ev, ev->fork->process) : 0;
	case FIRSTLIGHT__V1__EVENT__BODY_NODE_CAPABILITIES:
		return ev->node_capabilities ? add_caps(r, n, ev) : 0;
	default:
		return 0;
	}
}

static void damaged(struct report *r, struct rnode *n, const char *path, const char *why)
{
	snprintf(r->err, sizeof(r->err), "%s: %s", path, why);
	if (n && !n->pub.damage)
		n->pub.damage = arena__strdup(r->a, r->err);
}

static int read_file(struct report *r, const char *path, const char *group)
{
	struct segment_reader *sr;
	Firstlight__V1__Batch *b;
	const char *file_node = NULL;
	struct rnode *n;
	int rc = 0, err = 0, first = 1;

	if (r->finished)
		return -EINVAL;
	r->err[0] = '\0';
	r->files++;
	sr = segment_reader__open(path);
	if (!sr) {
		if (errno == ENOMEM)
			return -ENOMEM;
		n = node_get(r, group ? group : "");
		damaged(r, n, path, strerror(errno));
		return n ? 1 : -ENOMEM;
	}
	while (!err && (rc = segment_reader__next(sr, &b)) > 0) {
		/* The file belongs to the chain of the node its header names. */
		if (first && b->header && b->header->node && *b->header->node)
			file_node = arena__strdup(r->a, b->header->node);
		for (size_t i = 0; i < b->n_events && !err; i++) {
			if (!b->events[i])
				continue;
			if (!file_node && b->events[i]->node && *b->events[i]->node)
				file_node = arena__strdup(r->a, b->events[i]->node);
			err = add_event(r, b->events[i], path);
		}
		first = 0;
		firstlight__v1__batch__free_unpacked(b, NULL);
	}
	if (err) {
		segment_reader__close(sr);
		return err;
	}
	n = node_get(r, group ? group : file_node ? file_node : "");
	if (!n) {
		segment_reader__close(sr);
		return -ENOMEM;
	}
	if (rc < 0)
		damaged(r, n, path, segment_reader__error(sr));
	segment_reader__close(sr);
	n->pub.files++;
	/* The verifier reads it again, as stored: hashes are of the stored bytes. */
	verifier__file(n->v, path);
	return rc < 0;
}

int report__file(struct report *r, const char *path, const char *group)
{
	int rc;

	r->group = group; /* for add_event */
	rc = read_file(r, path, group);
	r->group = NULL;
	return rc;
}

/* ---- judging a node ---------------------------------------------------------------------- */

static uint64_t clip(const struct report *r, uint64_t t)
{
	return t < r->o.since_ns ? r->o.since_ns : t > r->o.until_ns ? r->o.until_ns : t;
}

/*
 * Does a gap of this kind lose evidence? The one set, `gaps --fail-on incomplete`'s. The
 * others (what every healthy store has, what the kernel cannot see, findings about the
 * owners file) are noted, not reasons.
 */
static int loses_evidence(int kind)
{
	return gapscan__kind_incomplete(kind);
}

/*
 * Does it make its time a gap on the strip? What loses evidence, and a SENSOR_DOWN: where
 * its window meets a run's records (from a killed run's last heartbeat) what that run had
 * not written yet was lost (the UNCLEAN_END says so); elsewhere no run covers it anyway.
 */
static int shades_strip(const struct gap_row *g)
{
	/* A collector's finding tells what it could not keep, not when the node's sensor
	 * saw nothing: the node's own records show that. */
	if (g->about[0])
		return 0;
	return loses_evidence(g->kind) || g->kind == FIRSTLIGHT__V1__GAP__KIND__SENSOR_DOWN;
}

/*
 * The node of the report a collector's finding (a gap row of its own records, own) is
 * about, where it counts: NULL for every other row, and for a finding about a node the
 * inputs do not hold (it stays the collector's).
 */
static struct rnode *found_about(const struct report *r, const struct rnode *own, const struct gap_row *g)
{
	struct rnode *x;

	if (!own->own || !g->about[0] || !strcmp(g->about, own->pub.node))
		return NULL;
	x = strmap__get(r->by_name, g->about);
	return x && !x->own ? x : NULL;
}

/* A gap's window as gapscan__row_meets reads it. */
static void row_window(const struct gap_row *g, uint64_t *lo, uint64_t *hi)
{
	*lo = g->start_ns ? g->start_ns : g->end_ns ? g->end_ns : g->record_ns;
	*hi = g->end_ns ? g->end_ns : *lo;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int add_span(struct rnode *n, uint64_t a, uint64_t b, enum report_state st)
{
	if (n->n_strip && n->strip[n->n_strip - 1].state == st && n->strip[n->n_strip - 1].end_ns == a) {
		n->strip[n->n_strip - 1].end_ns = b;
		return 0;
	}
	if (ARRAY_GROW(n->strip, n->cap_strip, n->n_strip + 1))
		return -ENOMEM;
	n->strip[n->n_strip++] = (struct report_span){ a, b, st };
	return 0;
}

/*
 * The window cut at every run's first and last record and every gap's bounds; each piece
 * is covered when a run's records span it, down or not shipped when none does, and a gap
 * where a gap's window spans a covered piece.
 */
static int make_strip(struct report *r, struct rnode *n, const struct gapscan_run *all, size_t n_all)
{
	uint64_t *pts = NULL, last = 0;
	size_t np = 0, cap = 0;
	int last_live = 0, err = 0;

#define POINT(t)                                                                                 \
	do {                                                                                     \
		if (!err && !(err = ARRAY_GROW(pts, cap, np + 1)))                               \
			pts[np++] = clip(r, (t));                                                \
	} while (0)
	POINT(r->o.since_ns);
	POINT(r->o.until_ns);
	for (size_t i = 0; i < n_all; i++) {
		POINT(all[i].first_ns);
		POINT(all[i].last_ns);
		if (all[i].last_ns >= last) {
			last = all[i].last_ns;
			last_live = all[i].live;
		}
	}
	for (size_t i = 0; i < n->gaps.n; i++) {
		const struct gap_row *g = n->gaps.v[i];
		uint64_t lo, hi;

		if (!shades_strip(g))
			continue;
		row_window(g, &lo, &hi);
		if (lo && lo < hi) {
			POINT(lo);
			POINT(hi);
		}
	}
#undef POINT
	if (err)
		goto out;
	qsort(pts, np, sizeof(*pts), cmp_u64);
	for (size_t i = 0; i + 1 < np && !err; i++) {
		uint64_t a = pts[i], b = pts[i + 1];
		enum report_state st = REPORT_DOWN;

		if (a == b)
			continue;
		for (size_t k = 0; k < n_all; k++)
			if (all[k].first_ns <= a && b <= all[k].last_ns)
				st = REPORT_COVERED;
		if (st == REPORT_DOWN && last_live && a >= last)
			st = REPORT_NOT_SHIPPED;
		for (size_t k = 0; k < n->gaps.n && st == REPORT_COVERED; k++) {
			uint64_t lo, hi;

			if (!shades_strip(n->gaps.v[k]))
				continue;
			row_window(n->gaps.v[k], &lo, &hi);
			if (lo && lo < hi && lo <= a && b <= hi)
				st = REPORT_GAP;
		}
		n->pub.state_ns[st] += b - a;
		err = add_span(n, a, b, st);
	}
out:
	free(pts);
	return err;
}

static int reason(struct report *r, struct reasons *to, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int reason(struct report *r, struct reasons *to, const char *kind, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -ENOMEM;
	if (ARRAY_GROW(to->v, to->cap, to->n + 1)) {
		free(text);
		return -ENOMEM;
	}
	to->v[to->n].kind = arena__strdup(r->a, kind);
	to->v[to->n].text = arena__strdup(r->a, text);
	free(text);
	if (!to->v[to->n].kind || !to->v[to->n].text)
		return -ENOMEM;
	to->n++;
	return 0;
}

/* What the verdict says of the gaps of one kind: a reason, or a note. */
static int gap_reason(struct report *r, struct rnode *n, const struct kind_sum *k)
{
	struct reasons *to = loses_evidence(k->kind) ? &n->reasons : &n->notes;
	char buf[GAPSCAN_KIND_NAME_MAX];
	const char *name = gapscan__kind_name(k->kind, buf);
	const char *unit = NULL, *one = "gap", *many = "gaps";

	switch (k->kind) {
	case FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP: unit = "events lost"; break;
	case FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS: unit = "records lost"; break;
	case FIRSTLIGHT__V1__GAP__KIND__SHIP_LOSS: unit = "records removed before they were shipped"; break;
	case FIRSTLIGHT__V1__GAP__KIND__SHARE_EXCEEDED: unit = "events dropped beyond their workload's share"; break;
	case FIRSTLIGHT__V1__GAP__KIND__ARGV_NOT_KEPT: unit = "processes whose argv was not kept"; break;
	case FIRSTLIGHT__V1__GAP__KIND__UNTRACKED_PROCESS: unit = "execs the live-process map had no room for"; break;
	case FIRSTLIGHT__V1__GAP__KIND__PRE_EXISTING: unit = "processes started before the sensor"; break;
	case FIRSTLIGHT__V1__GAP__KIND__MISSING_START: unit = "processes without a recorded start"; break;
	case GAPSCAN_SEQUENCE_HOLE:
	case GAPSCAN_MISSING_BEGINNING: unit = "records missing"; break;
	case GAPSCAN_HEARTBEAT_MISSING: unit = "heartbeats missing"; break;
	case GAPSCAN_UNCLEAN_END:
		one = "run ended without its STOPPED record";
		many = "runs ended without their STOPPED record";
		break;
	case FIRSTLIGHT__V1__GAP__KIND__UNATTRIBUTED_WORKLOAD:
		one = "workload without a trusted identity";
		many = "workloads without a trusted identity";
		break;
	case FIRSTLIGHT__V1__GAP__KIND__BLIND_WORKLOAD:
		one = "blind workload";
		many = "blind workloads";
		break;
	case FIRSTLIGHT__V1__GAP__KIND__SENSOR_DOWN:
		one = "gap (no agent ran between two runs)";
		many = "gaps (no agent ran between two runs)";
		break;
	case FIRSTLIGHT__V1__GAP__KIND__NODE_SILENT:
		one = "gap (the node went silent without a STOPPED record)";
		many = "gaps (the node went silent without a STOPPED record)";
		break;
	case FIRSTLIGHT__V1__GAP__KIND__BATCH_REJECTED:
		one = "batch refused by the collector";
		many = "batches refused by the collector";
		break;
	case FIRSTLIGHT__V1__GAP__KIND__CHAIN_BREAK:
		one = "batch that does not follow the one before it";
		many = "batches that do not follow the one before them";
		break;
	case FIRSTLIGHT__V1__GAP__KIND__STATE_MISSING:
		one = "gap (the data dir's state files and segments disagreed at a start)";
		many = "gaps (the data dir's state files and segments disagreed at a start)";
		break;
	case FIRSTLIGHT__V1__GAP__KIND__UNOWNED_WORKLOAD:
		one = "workload no owner rule matched";
		many = "workloads no owner rule matched";
		break;
	default:
		break;
	}
	if (unit)
		return reason(r, to, name, "%s: %zu %s, %" PRIu64 " %s", name, k->gaps, k->gaps == 1 ? one : many,
			      k->count, unit);
	return reason(r, to, name, "%s: %zu %s", name, k->gaps, k->gaps == 1 ? one : many);
}

static int cmp_kind(const void *a, const void *b)
{
	const struct kind_sum *x = a, *y = b;

	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

/* Gap reasons in the order `gaps --help` lists kinds: recorded, then detected, then
 * kinds this build does not know. */
static int gap_reasons(struct report *r, struct rnode *n)
{
	struct kind_sum *sums = NULL;
	size_t ns = 0, cap = 0, handed = 0;
	int err = 0, k;

	for (size_t i = 0; i < n->gaps.n && !err; i++) {
		const struct gap_row *g = n->gaps.v[i];
		size_t j;

		if (found_about(r, n, g)) {
			handed++; /* the node's it is about: counted there */
			continue;
		}
		for (j = 0; j < ns && sums[j].kind != g->kind; j++)
			;
		if (j == ns) {
			if ((err = ARRAY_GROW(sums, cap, ns + 1)))
				break;
			sums[ns++] = (struct kind_sum){ .kind = g->kind };
		}
		sums[j].gaps++;
		if (g->has_count)
			sums[j].count += g->count;
	}
	if (ns > 1)
		qsort(sums, ns, sizeof(*sums), cmp_kind);
	for (size_t i = 0; (k = gapscan__kind_at(i)) >= 0 && !err; i++)
		for (size_t j = 0; j < ns && !err; j++)
			if (sums[j].kind == k) {
				err = gap_reason(r, n, &sums[j]);
				sums[j].gaps = 0;
			}
	for (size_t j = 0; j < ns && !err; j++)
		if (sums[j].gaps)
			err = gap_reason(r, n, &sums[j]);
	free(sums);
	if (!err && handed)
		err = reason(r, &n->notes, "FINDINGS", "FINDINGS: %zu about the nodes they name, in their verdicts",
			     handed);
	return err;
}

/* Events of a workload the kernel did not deliver, as the agent counts its drops. */
static int is_drop(int kind)
{
	return kind == FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP || kind == FIRSTLIGHT__V1__GAP__KIND__SHARE_EXCEEDED;
}

/* What the window's gaps say of each workload. */
static void gaps_to_workloads(struct rnode *n)
{
	for (size_t i = 0; i < n->gaps.n; i++) {
		const struct gap_row *g = n->gaps.v[i];
		char buf[WLKEY_MAX];
		const char *key = wlkey__of_record(buf, g->workload, g->cgroup_id);
		struct rwl *x = key ? strmap__get(n->wl, key) : NULL;

		if (!x)
			continue;
		x->pub.gaps++;
		if (is_drop(g->kind))
			x->pub.dropped_in_window += g->count;
		/* As the tree reads it: a dropped cgroup_rmdir still says the workload ended. */
		if (g->kind == FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP && !x->pub.ended &&
		    !strcmp(g->event_type, "cgroup_rmdir")) {
			x->pub.end_lost = 1;
			if (g->end_ns > x->pub.last_seen_ns)
				x->pub.last_seen_ns = g->end_ns;
		}
		else if (g->kind == FIRSTLIGHT__V1__GAP__KIND__BLIND_WORKLOAD)
			x->pub.blind = 1;
		else if (g->kind == FIRSTLIGHT__V1__GAP__KIND__UNATTRIBUTED_WORKLOAD)
			x->pub.unattributed = 1;
	}
}

static int cmp_caps(const void *a, const void *b)
{
	const struct capstate *x = a, *y = b;

	return x->first_ns < y->first_ns ? -1 : x->first_ns > y->first_ns;
}

/* The node's capabilities in the window, from the records add_caps kept: the one in force
 * at its start, then the others in the order they were first written. */
static int caps_finish(struct report *r, struct rnode *n)
{
	struct report_caps *c = &n->pub.caps;
	const struct capstate *latest = n->has_cap_before ? &n->cap_before : NULL;
	size_t total = n->n_caps + !!n->has_cap_before, nk = 0, nm = 0;
	const char **kernels;
	struct report_missing *missing;

	if (n->n_caps > 1)
		qsort(n->caps, n->n_caps, sizeof(*n->caps), cmp_caps);
	for (size_t i = 0; i < n->n_caps; i++)
		if (!latest || n->caps[i].last_ns >= latest->last_ns)
			latest = &n->caps[i];
	if (!latest)
		return 0;
	kernels = arena__alloc(r->a, total * sizeof(*kernels));
	missing = arena__alloc(r->a, REPORT_CAPS_MAX * sizeof(*missing));
	n->latest_missing = arena__alloc(r->a, (latest->n_missing + 1) * sizeof(char *));
	if (!kernels || !missing || !n->latest_missing)
		return -ENOMEM;
	for (size_t i = 0; i < total; i++) {
		const struct capstate *s = !n->has_cap_before ? &n->caps[i] : i ? &n->caps[i - 1] : &n->cap_before;
		size_t k;

		for (k = 0; k < nk && strcmp(kernels[k], s->release); k++)
			;
		if (k == nk && *s->release)
			kernels[nk++] = s->release;
		for (size_t j = 0; j < s->n_missing; j++) {
			for (k = 0; k < nm && strcmp(missing[k].name, s->missing[j].name); k++)
				;
			if (k < nm)
				continue;
			if (nm == REPORT_CAPS_MAX) {
				c->truncated = 1;
				break;
			}
			missing[nm++] = s->missing[j];
		}
	}
	for (size_t j = 0; j < latest->n_missing; j++)
		n->latest_missing[n->n_latest_missing++] = latest->missing[j].name;
	c->known = 1;
	c->kernel = latest->release;
	c->machine = latest->machine;
	c->kernels = kernels;
	c->n_kernels = nk;
	c->missing = missing;
	c->n_missing = nm;
	return 0;
}

/* Each workload's coverage: its ENDED record's, or what its records say (report.h). */
static void coverage(struct rnode *n)
{
	/* Every drop gap naming it, in or out of the window: its drops so far. */
	for (size_t i = 0; i < gapscan__count(n->gs); i++) {
		const struct gap_row *g = gapscan__row(n->gs, i);
		char buf[WLKEY_MAX];
		const char *key;
		struct rwl *x;

		if (!is_drop(g->kind) || !g->has_count)
			continue;
		key = wlkey__of_record(buf, g->workload, g->cgroup_id);
		if (key && (x = strmap__get(n->wl, key)))
			x->gap_drops += g->count;
	}
	for (size_t i = 0; i < n->wls.n; i++) {
		struct rwl *x = n->wls.v[i];
		struct report_workload *p = &x->pub;

		if (p->ended) {
			p->coverage_from = "ended";
			p->has_latency = x->end_latency_ns != 0;
			p->first_event_latency_ns = x->end_latency_ns;
			p->drops = x->end_drops;
			/* An agent that wrote its capabilities wrote the list: empty is none. */
			p->has_unobserved = x->n_end_unobserved || n->pub.caps.known;
			p->unobserved = (const char *const *)x->end_unobserved;
			p->n_unobserved = x->n_end_unobserved;
			continue;
		}
		p->coverage_from = "records";
		if (x->rec_latency_ns) {
			p->has_latency = 1;
			p->first_event_latency_ns = x->rec_latency_ns;
		} else if (x->born_seen && p->first_seen_ns && x->first_proc_ns > p->first_seen_ns) {
			p->has_latency = 1;
			p->first_event_latency_ns = x->first_proc_ns - p->first_seen_ns;
		}
		p->drops = x->rec_drops > x->gap_drops ? x->rec_drops : x->gap_drops;
		p->has_unobserved = n->pub.caps.known;
		p->unobserved = n->latest_missing;
		p->n_unobserved = n->n_latest_missing;
	}
}

static int cmp_wl(const void *pa, const void *pb)
{
	const struct report_workload *a = *(const struct report_workload *const *)pa;
	const struct report_workload *b = *(const struct report_workload *const *)pb;

	if (a->first_seen_ns != b->first_seen_ns)
		return a->first_seen_ns < b->first_seen_ns ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* The workloads alive at some time of the window: born by its end, not ended before it. */
static int window_workloads(struct report *r, struct rnode *n)
{
	int err = 0;

	for (size_t i = 0; i < n->wls.n && !err; i++) {
		const struct report_workload *w = &((struct rwl *)n->wls.v[i])->pub;

		if ((w->ended || w->end_lost) && w->last_seen_ns && w->last_seen_ns < r->o.since_ns)
			continue;
		err = ptrvec__push(&n->shown_wls, (void *)w);
	}
	if (!err && n->shown_wls.n > 1)
		qsort(n->shown_wls.v, n->shown_wls.n, sizeof(void *), cmp_wl);
	return err;
}

/* A node's inputs read to their end: its gaps found, its chain checked. */
static int settle(struct report *r, struct rnode *n)
{
	struct gapscan_env env = { .now_ns = r->o.now_ns, .run_is_live = r->o.run_is_live, .ctx = r->o.ctx };
	int err = gapscan__finish(n->gs, &env);

	if (!err)
		verifier__finish(n->v);
	return err;
}

/* Collectors' findings about the nodes of the report: each counts there (found). */
static int hand_findings(struct report *r)
{
	int err = 0;

	for (size_t i = 0; i < r->nodes.n && !err; i++) {
		struct rnode *n = r->nodes.v[i];

		for (size_t k = 0; n->own && k < gapscan__count(n->gs) && !err; k++) {
			const struct gap_row *g = gapscan__row(n->gs, k);
			struct rnode *x = found_about(r, n, g);

			if (x && gapscan__row_meets(g, r->o.since_ns, r->o.until_ns))
				err = ptrvec__push(&x->found, (void *)g);
		}
	}
	return err;
}

static int judge(struct report *r, struct rnode *n)
{
	const struct verify_result *vr;
	struct report_node *p = &n->pub;
	struct gapscan_run *all = NULL;
	size_t n_all = 0;
	char d[48];
	int err = 0;

	vr = verifier__result(n->v);
	p->chain = vr;
	for (size_t i = 0; i < gapscan__count(n->gs) + n->found.n && !err; i++) {
		const struct gap_row *g = i < gapscan__count(n->gs) ? gapscan__row(n->gs, i) :
				   n->found.v[i - gapscan__count(n->gs)];

		if (!gapscan__row_meets(g, r->o.since_ns, r->o.until_ns))
			continue;
		err = ptrvec__push(&n->gaps, (void *)g);
		if (g->kind == GAPSCAN_SEQUENCE_HOLE || g->kind == GAPSCAN_MISSING_BEGINNING) {
			p->seq_holes++;
			p->seq_missing += g->count;
		} else if (g->kind == GAPSCAN_HEARTBEAT_MISSING) {
			p->beat_holes++;
			p->beats_missing += g->count;
		}
	}
	/* Runs with a time: all of them shape the strip, those meeting the window are listed. */
	all = calloc(gapscan__runs(n->gs) + 1, sizeof(*all));
	if (!all)
		err = -ENOMEM;
	for (size_t i = 0; i < gapscan__runs(n->gs) && !err; i++) {
		struct gapscan_run run;

		gapscan__run(n->gs, i, &run);
		if (run.removed_only || !run.first_ns)
			continue;
		all[n_all++] = run;
		if (run.first_ns > r->o.until_ns || run.last_ns < r->o.since_ns)
			continue;
		if (!(err = ARRAY_GROW(n->runs, n->cap_runs, n->n_runs + 1)))
			n->runs[n->n_runs++] = run;
	}
	err = err ?: make_strip(r, n, all, n_all);
	free(all);
	if (err)
		return err;
	err = caps_finish(r, n);
	gaps_to_workloads(n);
	coverage(n);
	err = err ?: window_workloads(r, n);
	/* The reasons, in the order an auditor checks them. */
	if (!err && p->damage)
		err = reason(r, &n->reasons, "INPUT", "an input was not read in full: %s", p->damage);
	if (!err && vr->failed)
		err = reason(r, &n->reasons, "CHAIN", "the chain does not verify: %s", vr->failure);
	else if (!err && !vr->key_trusted)
		err = reason(r, &n->reasons, "KEY_NOT_PINNED", "signatures checked only against the key the "
			     "store names, not a pinned one (--pubkey)");
	err = err ?: gap_reasons(r, n);
	if (!err && p->state_ns[REPORT_DOWN]) {
		treefmt__duration(d, sizeof(d), p->state_ns[REPORT_DOWN]);
		err = reason(r, &n->reasons, "DOWN", "sensor down: no agent run's records cover %s of the window", d);
	}
	if (!err && p->state_ns[REPORT_NOT_SHIPPED]) {
		treefmt__duration(d, sizeof(d), p->state_ns[REPORT_NOT_SHIPPED]);
		err = reason(r, &n->reasons, "NOT_SHIPPED", "no records yet for the last %s of the window: its "
			     "agent still runs (not written or shipped yet)", d);
	}
	if (err)
		return err;
	p->complete = !n->reasons.n;
	json_buf__reset(&r->tmp);
	if (p->complete) {
		err = json_buf__appendf(&r->tmp, "complete: %zu agent run%s cover%s the window, every batch "
					"verifies with a pinned key, no gap%s", n->n_runs, n->n_runs == 1 ? "" : "s",
					n->n_runs == 1 ? "s" : "", n->notes.n ? " loses evidence" : "");
	} else {
		err = json_buf__append_str(&r->tmp, "incomplete: ");
		for (size_t i = 0; i < n->reasons.n && !err; i++)
			err = (i ? json_buf__append_str(&r->tmp, "; ") : 0) ?:
			      json_buf__append_str(&r->tmp, n->reasons.v[i].text);
	}
	/* Then what was noted, so that the line still tells every gap's kind. */
	for (size_t i = 0; i < n->notes.n && !err; i++)
		err = json_buf__append_str(&r->tmp, i ? "; " : "; noted: ") ?:
		      json_buf__append_str(&r->tmp, n->notes.v[i].text);
	if (err || !(p->verdict = arena__strdup(r->a, r->tmp.data)))
		return -ENOMEM;
	p->reasons = n->reasons.v;
	p->n_reasons = n->reasons.n;
	p->notes = n->notes.v;
	p->n_notes = n->notes.n;
	p->runs = n->runs;
	p->gaps = (const struct gap_row *const *)n->gaps.v;
	p->strip = n->strip;
	p->workloads = (const struct report_workload *const *)n->shown_wls.v;
	p->n_workloads = n->shown_wls.n;
	return 0;
}

static int cmp_node(const void *a, const void *b)
{
	const struct rnode *x = *(const struct rnode *const *)a, *y = *(const struct rnode *const *)b;

	return strcmp(x->pub.node, y->pub.node);
}

int report__finish(struct report *r)
{
	size_t bad = 0;
	int err = 0;

	if (r->finished)
		return -EINVAL;
	r->finished = 1;
	if (r->nodes.n > 1)
		qsort(r->nodes.v, r->nodes.n, sizeof(void *), cmp_node);
	for (size_t i = 0; i < r->nodes.n && !err; i++)
		err = settle(r, r->nodes.v[i]);
	err = err ?: hand_findings(r);
	for (size_t i = 0; i < r->nodes.n && !err; i++) {
		struct rnode *n = r->nodes.v[i];

		err = judge(r, n);
		/* Counted so, and the gaps, runs and strip must be the node's own: they are set. */
		n->pub.n_runs = n->n_runs;
		n->pub.n_gaps = n->gaps.n;
		n->pub.n_strip = n->n_strip;
		bad += !n->pub.complete;
	}
	if (err)
		return err;
	r->complete = r->nodes.n && !bad;
	json_buf__reset(&r->tmp);
	if (!r->nodes.n)
		err = json_buf__append_str(&r->tmp, "incomplete: no records in the inputs");
	else if (r->nodes.n == 1)
		err = json_buf__append_str(&r->tmp, ((struct rnode *)r->nodes.v[0])->pub.verdict);
	else if (!bad)
		err = json_buf__appendf(&r->tmp, "complete: every one of the %zu nodes", r->nodes.n);
	else
		err = json_buf__appendf(&r->tmp, "incomplete: %zu of the %zu nodes (see each node's verdict)",
					bad, r->nodes.n);
	if (err || !(r->verdict = arena__strdup(r->a, r->tmp.data)))
		return -ENOMEM;
	return 0;
}

size_t report__nodes(const struct report *r)
{
	return r->finished ? r->nodes.n : 0;
}

const struct report_node *report__node(const struct report *r, size_t i)
{
	return i < report__nodes(r) ? &((struct rnode *)r->nodes.v[i])->pub : NULL;
}

int report__complete(const struct report *r)
{
	return r->finished && r->complete;
}

const char *report__verdict(const struct report *r)
{
	return r->finished ? r->verdict : NULL;
}

const struct report_opts *report__opts(const struct report *r)
{
	return &r->o;
}
