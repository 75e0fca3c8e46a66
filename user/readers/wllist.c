/* The workloads of a record; see wllist.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/kvtable.h"
#include "base/ptrvec.h"
#include "base/strmap.h"
#include "readers/wllist.h"
#include "records/wlkey.h"

typedef Firstlight__V1__Event Event;

/* A process, once per workload: pid and start (CLOCK_BOOTTIME ns) name it on one boot;
 * the boot's tag (the exec id's first field) tells boots apart. */
struct proc_key {
	uint32_t row;   /* the workload's index */
	uint32_t pid;
	uint64_t start;
	uint32_t boot;  /* hash of the exec id's boot tag */
	uint32_t pad;
};

struct wllist {
	struct arena *a;
	struct strmap *by_key;   /* key -> row */
	struct ptrvec rows;
	struct kvtable *seen;    /* struct proc_key: the processes counted */
	struct strmap *gaps;     /* "run/seq" of the gap records counted */
	int finished;
};

/* Unbounded in practice: a reader holds what the store holds (the agent's tables are
 * the ones that must be bounded). */
#define SEEN_MAX ((size_t)1 << 40)

struct wllist *wllist__new(void)
{
	struct wllist *l = calloc(1, sizeof(*l));

	if (!l)
		goto nomem;
	l->a = arena__new();
	l->by_key = strmap__new();
	l->gaps = strmap__new();
	l->seen = kvtable__new(sizeof(struct proc_key), 1, SEEN_MAX);
	if (!l->a || !l->by_key || !l->gaps || !l->seen)
		goto nomem;
	return l;
nomem:
	wllist__free(l);
	errno = ENOMEM;
	return NULL;
}

void wllist__free(struct wllist *l)
{
	if (!l)
		return;
	arena__free(l->a);
	strmap__free(l->by_key);
	strmap__free(l->gaps);
	kvtable__free(l->seen);
	ptrvec__free(&l->rows);
	free(l);
}

/* A workload key is a node's own ("cgroup:1" is on every node, and a collected store
 * holds many nodes): the map's key is the node, a unit separator, and the key. */
#define NODE_KEY_MAX (256 + WLKEY_MAX + 2)

static const char *node_key(char buf[NODE_KEY_MAX], const char *node, const char *key)
{
	snprintf(buf, NODE_KEY_MAX, "%.255s\x1f%s", node ? node : "", key);
	return buf;
}

static struct wl_row *row_get(struct wllist *l, const Event *ev, const char *key, uint64_t cgroup_id)
{
	char buf[NODE_KEY_MAX];
	struct wl_row *w = strmap__get(l->by_key, node_key(buf, ev->node, key));
	char *mapkey;

	if (w)
		return w;
	if (l->rows.n >= UINT32_MAX)
		return NULL;
	w = arena__alloc(l->a, sizeof(*w));
	if (!w || !(mapkey = arena__strdup(l->a, buf)) || !(w->key = arena__strdup(l->a, key)) ||
	    !(w->node = arena__strdup(l->a, ev->node)) || strmap__put(l->by_key, mapkey, w) ||
	    ptrvec__push(&l->rows, w))
		return NULL;
	w->index = (uint32_t)(l->rows.n - 1);
	w->cgroup_id = cgroup_id;
	w->runtime = w->container_id = w->container_name = w->pod_name = w->pod_namespace = "";
	w->pod_uid = w->image = w->cgroup_path = w->owner = "";
	return w;
}

static void seen_at(struct wl_row *w, uint64_t t_ns)
{
	if (!t_ns)
		return;
	if (!w->first_ns || t_ns < w->first_ns)
		w->first_ns = t_ns;
	if (t_ns > w->last_ns)
		w->last_ns = t_ns;
}

/* Each Workload record restates the workload in full: the latest one's fields win. */
static int merge_workload(struct wllist *l, const Event *ev)
{
	const Firstlight__V1__Workload *r = ev->workload;
	char buf[WLKEY_MAX];
	const char *key = wlkey__of_record(buf, r->key, r->cgroup_id);
	struct wl_row *w;

	if (!key)
		return 0;
	w = row_get(l, ev, key, r->cgroup_id);
	if (!w)
		return -ENOMEM;
	w->has_record = 1;
	w->ended |= r->state == FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED;
	seen_at(w, r->first_seen_unix_nano);
	seen_at(w, r->last_seen_unix_nano);
	seen_at(w, ev->time_unix_nano);
	if (ev->time_unix_nano < w->record_ns)
		return 0;
	w->record_ns = ev->time_unix_nano;
	w->kind = r->kind;
	w->cgroup_id = r->cgroup_id ? r->cgroup_id : w->cgroup_id;
	w->identity_verified = r->identity_verified;
#define TAKE(field, src)                                                                       \
	do {                                                                                   \
		if ((src) && *(src) && !(w->field = arena__strdup(l->a, (src))))               \
			return -ENOMEM;                                                        \
	} while (0)
	TAKE(runtime, r->runtime);
	TAKE(container_id, r->container_id);
	TAKE(container_name, r->container_name);
	TAKE(pod_name, r->pod_name);
	TAKE(pod_namespace, r->pod_namespace);
	TAKE(pod_uid, r->pod_uid);
	TAKE(image, r->image);
	TAKE(cgroup_path, r->cgroup_path);
	/* With an owners file applied the record says who owns it, or that no one does. */
	if (r->owners_sha256 && *r->owners_sha256)
		w->owner = "";
	TAKE(owner, r->owner);
#undef TAKE
	return 0;
}

/* FNV-1a of an exec id's boot tag (up to its first ':'). */
static uint32_t boot_hash(const char *exec_id)
{
	uint32_t h = 2166136261u;

	for (const char *c = exec_id; c && *c && *c != ':'; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	return h;
}

static int add_process(struct wllist *l, const Event *ev, const Firstlight__V1__Process *p)
{
	char buf[WLKEY_MAX];
	const char *key = wlkey__of_record(buf, p->workload_key, p->cgroup_id);
	struct proc_key k;
	struct wl_row *w;
	int created = 0;

	if (!key)
		return 0;
	w = row_get(l, ev, key, p->cgroup_id);
	if (!w)
		return -ENOMEM;
	seen_at(w, ev->time_unix_nano);
	memset(&k, 0, sizeof(k)); /* compared as bytes, padding included */
	k.row = w->index;
	k.pid = p->pid;
	k.start = p->start_boot_nano;
	k.boot = boot_hash(p->exec_id);
	if (!kvtable__put(l->seen, &k, &created))
		return -ENOMEM;
	w->processes += created;
	return 0;
}

/* A gap names its workload; counted once per (run, seq), as a record read twice is. */
static int add_gap(struct wllist *l, const Event *ev)
{
	const Firstlight__V1__Gap *g = ev->gap;
	char buf[WLKEY_MAX], *id;
	const char *key = wlkey__of_record(buf, g->workload_key, g->cgroup_id);
	struct wl_row *w;
	int n;

	if (!key)
		return 0; /* names no workload (a sensor down, a sink loss) */
	w = row_get(l, ev, key, g->cgroup_id);
	if (!w)
		return -ENOMEM;
	seen_at(w, ev->time_unix_nano);
	n = snprintf(NULL, 0, "%s/%" PRIu64, ev->agent_run_id ? ev->agent_run_id : "", ev->seq);
	id = n < 0 ? NULL : arena__alloc(l->a, (size_t)n + 1);
	if (!id)
		return -ENOMEM;
	snprintf(id, (size_t)n + 1, "%s/%" PRIu64, ev->agent_run_id ? ev->agent_run_id : "", ev->seq);
	if (strmap__get(l->gaps, id))
		return 0;
	w->gaps++;
	return strmap__put(l->gaps, id, w);
}

/* Flows and exits only say the workload was alive then. */
static int add_seen(struct wllist *l, const Event *ev, const char *wkey, uint64_t cgroup_id)
{
	char buf[WLKEY_MAX];
	const char *key = wlkey__of_record(buf, wkey, cgroup_id);
	struct wl_row *w;

	if (!key)
		return 0;
	w = row_get(l, ev, key, cgroup_id);
	if (!w)
		return -ENOMEM;
	seen_at(w, ev->time_unix_nano);
	return 0;
}

int wllist__add(struct wllist *l, const Firstlight__V1__Event *ev)
{
	if (l->finished)
		return -EINVAL;
	if (!ev)
		return 0;
	switch (ev->body_case) {
	case FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD:
		return ev->workload ? merge_workload(l, ev) : 0;
	case FIRSTLIGHT__V1__EVENT__BODY_EXEC:
		return ev->exec && ev->exec->process ? add_process(l, ev, ev->exec->process) : 0;
	case FIRSTLIGHT__V1__EVENT__BODY_FORK:
		return ev->fork && ev->fork->process ? add_process(l, ev, ev->fork->process) : 0;
	case FIRSTLIGHT__V1__EVENT__BODY_GAP:
		return ev->gap ? add_gap(l, ev) : 0;
	case FIRSTLIGHT__V1__EVENT__BODY_FLOW:
		/* A socket older than the sensor has no owner, and so no workload. */
		return ev->flow && !ev->flow->owner_unknown ?
			add_seen(l, ev, ev->flow->workload_key, ev->flow->cgroup_id) : 0;
	case FIRSTLIGHT__V1__EVENT__BODY_EXIT:
		/* An exit carries its cgroup only: it may end a sandbox's member, so it names
		 * the cgroup's workload only when that one is known already. */
		if (ev->exit && ev->exit->cgroup_id) {
			char buf[WLKEY_MAX], nbuf[NODE_KEY_MAX];
			struct wl_row *w = strmap__get(l->by_key, node_key(nbuf, ev->node,
							wlkey__of_record(buf, NULL, ev->exit->cgroup_id)));

			if (w)
				seen_at(w, ev->time_unix_nano);
		}
		return 0;
	default:
		return 0;
	}
}

static int cmp_rows(const void *a, const void *b)
{
	const struct wl_row *x = *(const struct wl_row *const *)a, *y = *(const struct wl_row *const *)b;

	int c = strcmp(x->node, y->node);

	if (c)
		return c; /* a node's workloads together */
	if (x->first_ns != y->first_ns) {
		if (!x->first_ns || !y->first_ns)
			return x->first_ns ? -1 : 1; /* unknown last */
		return x->first_ns < y->first_ns ? -1 : 1;
	}
	return strcmp(x->key, y->key);
}

int wllist__finish(struct wllist *l)
{
	if (l->finished)
		return -EINVAL;
	l->finished = 1;
	if (l->rows.n > 1)
		qsort(l->rows.v, l->rows.n, sizeof(l->rows.v[0]), cmp_rows);
	return 0;
}

size_t wllist__count(const struct wllist *l)
{
	return l->rows.n;
}

const struct wl_row *wllist__row(const struct wllist *l, size_t i)
{
	return i < l->rows.n ? l->rows.v[i] : NULL;
}

const struct wl_row *wllist__find(const struct wllist *l, const char *node, const char *key)
{
	char buf[NODE_KEY_MAX];

	return key ? strmap__get(l->by_key, node_key(buf, node, key)) : NULL;
}

size_t wllist__nodes(const struct wllist *l)
{
	size_t n = 0;

	/* Rows are sorted by node after finish; before, this counts changes in input order. */
	for (size_t i = 0; i < l->rows.n; i++)
		n += !i || strcmp(((struct wl_row *)l->rows.v[i])->node, ((struct wl_row *)l->rows.v[i - 1])->node);
	return n;
}
