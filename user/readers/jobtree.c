/* Rebuilding a job from its records; see jobtree.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/closest.h"
#include "base/json.h"
#include "readers/jobgraph.h"
#include "readers/jobtree.h"
#include "base/strmap.h"
#include "records/wlkey.h"

typedef Firstlight__V1__Event Event;

/* qsort, which must not be given a NULL base, even for nothing to sort. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* ---- the job -------------------------------------------------------------------------- */

struct jobtree {
	struct jobtree_query q;
	struct arena *a;          /* workloads, candidates, flows, gaps, the job */
	int phase;                /* 0 scan, 1 resolved, 2 built */
	int lineage;              /* the query follows lineage: pass 1 builds a graph */
	struct strmap *wl_by_key; /* "<node>\x1f<key>" -> jt_workload: keys are per node */
	const char *node;         /* after resolve: the node the job is on (NULL: unknown) */
	int keep_json;            /* pass 2 keeps each record as JSON (jobtree__keep_records) */
	int added;                /* pass 2 has begun */
	struct json_buf jbuf;     /* where a record's JSON is made before its arena copy */
	struct ptrvec workloads;
	struct jobgraph g1;          /* pass 1 (lineage queries), freed at resolve */
	struct jobgraph g;           /* pass 2: the job */
	struct strmap *sel_ids;   /* lineage: exec ids of the job */
	struct ptrvec candidates;
	struct ptrvec suggestions; /* nothing matched: what comes closest */
	struct strmap *seen;      /* pass 2: "run/seq" of the records kept */
	struct strmap *flow_by;   /* pass 2: cookie or aggregate key -> jt_flow */
	struct ptrvec flows;
	struct ptrvec files;      /* pass 2: fileAccess records (jt_file) */
	struct ptrvec gaps;
	struct jt_job job;
	struct ptrvec top, all_gaps;
};

struct jobtree *jobtree__new(const struct jobtree_query *q)
{
	struct jobtree *t;

	if (!q || (q->by != JOBTREE_BY_PID && (!q->value || !*q->value)) || q->by > JOBTREE_BY_PID) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto nomem;
	t->q = *q;
	t->a = arena__new();
	t->wl_by_key = strmap__new();
	t->sel_ids = strmap__new();
	t->seen = strmap__new();
	t->flow_by = strmap__new();
	if (!t->a || !t->wl_by_key || !t->sel_ids || !t->seen || !t->flow_by)
		goto nomem;
	t->q.value = q->value ? arena__strdup(t->a, q->value) : NULL;
	t->q.pod_namespace = q->pod_namespace ? arena__strdup(t->a, q->pod_namespace) : NULL;
	t->q.node = q->node ? arena__strdup(t->a, q->node) : NULL;
	if ((q->value && !t->q.value) || (q->pod_namespace && !t->q.pod_namespace) || (q->node && !t->q.node))
		goto nomem;
	t->lineage = q->by == JOBTREE_BY_EXEC_ID || q->by == JOBTREE_BY_PID;
	if (jobgraph__init(&t->g, 1) || (t->lineage && jobgraph__init(&t->g1, 0)))
		goto nomem;
	t->job.query = &t->q;
	return t;
nomem:
	jobtree__free(t);
	errno = ENOMEM;
	return NULL;
}

void jobtree__free(struct jobtree *t)
{
	if (!t)
		return;
	jobgraph__fini(&t->g1);
	jobgraph__fini(&t->g);
	strmap__free(t->wl_by_key);
	strmap__free(t->sel_ids);
	strmap__free(t->seen);
	strmap__free(t->flow_by);
	ptrvec__free(&t->workloads);
	ptrvec__free(&t->candidates);
	ptrvec__free(&t->suggestions);
	ptrvec__free(&t->flows);
	ptrvec__free(&t->files);
	ptrvec__free(&t->gaps);
	ptrvec__free(&t->top);
	ptrvec__free(&t->all_gaps);
	json_buf__free(&t->jbuf);
	arena__free(t->a);
	free(t);
}

/* ---- pass 1: workloads ---------------------------------------------------------------- */

/* A workload key is a node's own ("cgroup:1234" exists on every node): the map's key is
 * the node, a unit separator, and the key. */
#define NODE_KEY_MAX (256 + WLKEY_MAX + 2)

static const char *node_key(char buf[NODE_KEY_MAX], const char *node, const char *key)
{
	snprintf(buf, NODE_KEY_MAX, "%.255s\x1f%s", node ? node : "", key ? key : "");
	return buf;
}

/* The workload of key on node (the job's node once resolved). */
static struct jt_workload *workload_find(const struct jobtree *t, const char *node, const char *key)
{
	char buf[NODE_KEY_MAX];

	return key && *key ? strmap__get(t->wl_by_key, node_key(buf, node ? node : t->node, key)) : NULL;
}

static struct jt_workload *workload_get(struct jobtree *t, const char *node, const char *key,
					uint64_t cgroup_id)
{
	char buf[NODE_KEY_MAX];
	struct jt_workload *w = strmap__get(t->wl_by_key, node_key(buf, node, key));
	char *map_key;

	if (w)
		return w;
	w = arena__alloc(t->a, sizeof(*w));
	if (!w || !(w->key = arena__strdup(t->a, key)) || !(w->node = arena__strdup(t->a, node ? node : "")) ||
	    !(map_key = arena__strdup(t->a, buf)) || strmap__put(t->wl_by_key, map_key, w) ||
	    ptrvec__push(&t->workloads, w))
		return NULL;
	w->cgroup_id = cgroup_id;
	w->runtime = w->container_id = w->claimed_container_id = w->container_name = "";
	w->pod_name = w->pod_namespace = w->pod_uid = w->image = w->cgroup_path = "";
	w->identity_source = w->creator_exec_id = w->detail = "";
	w->owner = w->approval_ref = w->boundary = w->owners_sha256 = "";
	return w;
}

/* Each Workload record restates the workload in full: the latest one's fields win;
 * first and last seen widen; ENDED sticks. */
static int merge_workload(struct jobtree *t, const Event *ev)
{
	const Firstlight__V1__Workload *r = ev->workload;
	char buf[WLKEY_MAX];
	const char *key = wlkey__of_record(buf, r->key, r->cgroup_id);
	struct jt_workload *w;

	if (!key)
		return 0;
	w = workload_get(t, ev->node, key, r->cgroup_id);
	if (!w)
		return -ENOMEM;
	w->has_record = 1;
	if (r->state == FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED)
		w->ended = 1;
	if (r->first_seen_unix_nano && (!w->first_seen_ns || r->first_seen_unix_nano < w->first_seen_ns))
		w->first_seen_ns = r->first_seen_unix_nano;
	if (r->last_seen_unix_nano > w->last_seen_ns)
		w->last_seen_ns = r->last_seen_unix_nano;
	if (ev->time_unix_nano < w->record_ns)
		return 0;
	w->record_ns = ev->time_unix_nano;
	w->cgroup_id = r->cgroup_id ? r->cgroup_id : w->cgroup_id;
	w->kind = r->kind;
	w->identity_verified = r->identity_verified;
	w->unattributed = r->unattributed;
	w->process_count = r->process_count;
	w->exec_count = r->exec_count;
	w->drops = r->drops;
#define TAKE(field, src)                                                                       \
	do {                                                                                   \
		if ((src) && *(src) && !(w->field = arena__strdup(t->a, (src))))               \
			return -ENOMEM;                                                        \
	} while (0)
	TAKE(runtime, r->runtime);
	TAKE(container_id, r->container_id);
	TAKE(claimed_container_id, r->claimed_container_id);
	TAKE(container_name, r->container_name);
	TAKE(pod_name, r->pod_name);
	TAKE(pod_namespace, r->pod_namespace);
	TAKE(pod_uid, r->pod_uid);
	TAKE(image, r->image);
	TAKE(cgroup_path, r->cgroup_path);
	TAKE(identity_source, r->identity_source);
	TAKE(creator_exec_id, r->creator_exec_id);
	TAKE(detail, r->detail);
	/* A record written under an owners file restates the owner in full (or none). */
	if (r->owners_sha256 && *r->owners_sha256) {
		w->owner = w->approval_ref = w->boundary = "";
		w->unowned = r->unowned;
		TAKE(owners_sha256, r->owners_sha256);
		TAKE(owner, r->owner);
		TAKE(approval_ref, r->approval_ref);
		TAKE(boundary, r->boundary);
	}
#undef TAKE
	return 0;
}

static const Firstlight__V1__Process *process_of(const Event *ev)
{
	if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_EXEC && ev->exec)
		return ev->exec->process;
	if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_FORK && ev->fork)
		return ev->fork->process;
	return NULL;
}

static int image_kind(const Event *ev, const Firstlight__V1__Process *p)
{
	int pre = p->flags && p->flags->pre_existing;

	if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_FORK)
		return JT_IMAGE_FORK;
	if (pre)
		return JT_IMAGE_SEEN;
	return ev->snapshot ? JT_IMAGE_RESTATED : JT_IMAGE_EXEC;
}

static const char *replaced_of(const Event *ev)
{
	return ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_EXEC ? ev->exec->replaced_exec_id : "";
}

int jobtree__scan(struct jobtree *t, const Firstlight__V1__Event *ev)
{
	const Firstlight__V1__Process *p;

	if (t->phase != 0)
		return -EINVAL;
	if (!ev || (t->q.node && strcmp(ev->node ? ev->node : "", t->q.node)))
		return 0;
	if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD && ev->workload)
		return merge_workload(t, ev);
	p = process_of(ev);
	if (p) {
		/* Processes name workloads too: --workload works without a Workload record. */
		char buf[WLKEY_MAX];
		const char *key = wlkey__of_record(buf, p->workload_key, p->cgroup_id);

		if (key && !workload_get(t, ev->node, key, p->cgroup_id))
			return -ENOMEM;
		if (t->lineage)
			return jobgraph__add_image(&t->g1, ev, p, image_kind(ev, p), replaced_of(ev), NULL);
		return 0;
	}
	if (t->lineage && ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_EXIT && ev->exit)
		return jobgraph__add_exit(&t->g1, ev, NULL);
	return 0;
}

/* ---- resolve -------------------------------------------------------------------------- */

static int push_candidate(struct jobtree *t, struct ptrvec *to, const char *what, const char *key,
			  const char *detail, uint64_t first_ns)
{
	struct jt_candidate *c = arena__alloc(t->a, sizeof(*c));

	if (!c || !(c->what = arena__strdup(t->a, what)) || !(c->key = arena__strdup(t->a, key)) ||
	    !(c->detail = arena__strdup(t->a, detail)))
		return -ENOMEM;
	c->first_ns = first_ns;
	return ptrvec__push(to, c);
}

static int add_candidate(struct jobtree *t, const char *what, const char *key, const char *detail,
			 uint64_t first_ns)
{
	return push_candidate(t, &t->candidates, what, key, detail, first_ns);
}

static int add_suggestion(struct jobtree *t, const char *what, const char *key, const char *detail,
			  uint64_t first_ns)
{
	return push_candidate(t, &t->suggestions, what, key, detail, first_ns);
}

#define SUGGEST_MAX 3 /* closest candidates named when nothing matched */

/* Nothing matched a workload selection: the workloads nearest to what was typed. */
static int suggest_workloads(struct jobtree *t)
{
	struct jt_workload **ws = (struct jt_workload **)t->workloads.v;
	const char *v = t->q.value;
	struct closest c;
	int err = 0;

	if (t->q.by == JOBTREE_BY_WORKLOAD && strspn(v, "0123456789") == strlen(v)) {
		/* A bare number is most likely a cgroup id: "cgroup:<id>" is its key. */
		char key[WLKEY_MAX];

		wlkey__format_text(key, v);
		for (size_t i = 0; i < t->workloads.n; i++) /* keys are per node: any node's */
			if (!strcmp(ws[i]->key, key))
				return add_suggestion(t, ws[i]->key, ws[i]->key, "", ws[i]->first_seen_ns);
	}
	closest__init(&c, v, SUGGEST_MAX, t->q.by == JOBTREE_BY_CONTAINER ? CLOSEST_PREFIX : 0);
	for (size_t i = 0; i < t->workloads.n; i++) {
		struct jt_workload *w = ws[i];

		switch (t->q.by) {
		case JOBTREE_BY_CONTAINER:
			closest__offer(&c, *w->container_id ? w->container_id : w->claimed_container_id, w);
			break;
		case JOBTREE_BY_POD:
			closest__offer(&c, w->pod_name, w);
			break;
		default:
			closest__offer(&c, w->key, w);
		}
	}
	for (size_t i = 0; i < c.n && !err; i++) {
		const struct jt_workload *w = c.best[i].data;
		char what[300];

		if (t->q.by == JOBTREE_BY_POD)
			snprintf(what, sizeof(what), "%.140s/%.140s", w->pod_namespace, w->pod_name);
		else
			snprintf(what, sizeof(what), "%.140s", c.best[i].s);
		err = add_suggestion(t, what, w->key, t->q.by == JOBTREE_BY_CONTAINER ? w->container_name : "",
				     w->first_seen_ns);
	}
	return err;
}

/* Nothing matched --exec-id: the nearest exec ids; for --pid, the processes that had
 * that pid at other times. g is the lineage graph of pass 1, indexed by pid. */
static int suggest_processes(struct jobtree *t, const struct jobgraph *g)
{
	int err = 0;

	if (t->q.by == JOBTREE_BY_EXEC_ID) {
		struct closest c;

		closest__init(&c, t->q.value, SUGGEST_MAX, 0);
		for (size_t i = 0; i < g->images.n; i++)
			closest__offer(&c, ((struct jt_image *)g->images.v[i])->exec_id, g->images.v[i]);
		for (size_t i = 0; i < c.n && !err; i++) {
			const struct jt_image *img = c.best[i].data;
			char what[32];

			snprintf(what, sizeof(what), "pid %u", img->pid);
			err = add_suggestion(t, img->exec_id, img->exec_id, what, img->t_ns);
		}
		return err;
	}
	for (size_t j = jobgraph__first_of_pid(g, t->q.pid); j < g->by_pid.n && !err; j++) {
		const struct jt_proc *p = g->by_pid.v[j];
		char what[32];

		if (p->pid != t->q.pid || t->suggestions.n >= 2 * SUGGEST_MAX)
			break;
		snprintf(what, sizeof(what), "pid %u", p->pid);
		err = add_suggestion(t, what, p->images[0]->exec_id, p->exit ? "exited" : "no exit recorded",
				     p->start_ns);
		if (!err)
			((struct jt_candidate *)t->suggestions.v[t->suggestions.n - 1])->last_ns = p->end_ns;
	}
	return err;
}

static int starts_with(const char *s, const char *prefix)
{
	return *s && !strncmp(s, prefix, strlen(prefix));
}

static int resolve_container(struct jobtree *t)
{
	const char *v = t->q.value;
	struct jt_workload **ws = (struct jt_workload **)t->workloads.v;
	size_t n = 0;
	int exact = 0, err = 0;

	/* An exact id wins over longer ids it is a prefix of (as git does with hashes). */
	for (size_t i = 0; i < t->workloads.n; i++)
		exact |= !strcmp(ws[i]->container_id, v) || !strcmp(ws[i]->claimed_container_id, v);
	for (size_t i = 0; i < t->workloads.n; i++) {
		struct jt_workload *w = ws[i];
		int own = exact ? !strcmp(w->container_id, v) : starts_with(w->container_id, v);
		int claimed = exact ? !strcmp(w->claimed_container_id, v) :
				      starts_with(w->claimed_container_id, v);

		if (!own && !claimed)
			continue;
		w->selected = 1;
		n++;
	}
	if (n <= 1)
		return n ? 0 : suggest_workloads(t) ?: -ENOENT;
	for (size_t i = 0; i < t->workloads.n && !err; i++) {
		struct jt_workload *w = ws[i];
		char detail[160];

		if (!w->selected)
			continue;
		w->selected = 0;
		snprintf(detail, sizeof(detail), "%s%s%s", w->runtime,
			 *w->runtime ? ", " : "",
			 *w->container_id ? (w->identity_verified ? "identity verified" : "identity not verified") :
					    "claimed id, not verified");
		err = add_candidate(t, *w->container_id ? w->container_id : w->claimed_container_id,
				    w->key, detail, w->first_seen_ns);
	}
	return err ? err : -ENOTUNIQ;
}

static int resolve_pod(struct jobtree *t)
{
	struct jt_workload **ws = (struct jt_workload **)t->workloads.v;
	const char *v = t->q.value, *ns = t->q.pod_namespace;
	struct jt_workload *first = NULL;
	int many = 0, err = 0;

	/* A pod is its uid: a name is reused (StatefulSets, or another namespace). */
	for (size_t i = 0; i < t->workloads.n; i++) {
		struct jt_workload *w = ws[i];

		if (strcmp(w->pod_name, v) && strcmp(w->pod_uid, v))
			continue;
		if (ns && strcmp(w->pod_namespace, ns))
			continue;
		w->selected = 1;
		if (!first)
			first = w;
		else if (strcmp(first->pod_uid, w->pod_uid) || strcmp(first->pod_namespace, w->pod_namespace) ||
			 strcmp(first->pod_name, w->pod_name))
			many = 1;
	}
	if (!first)
		return suggest_workloads(t) ?: -ENOENT;
	if (!many)
		return 0;
	/* One candidate per pod, in the order first seen. */
	for (size_t i = 0; i < t->workloads.n && !err; i++) {
		struct jt_workload *w = ws[i];
		char what[300], detail[64];
		size_t count = 0;
		int dup = 0;

		if (!w->selected)
			continue;
		for (size_t j = 0; j < i; j++)
			dup |= ws[j]->selected && !strcmp(ws[j]->pod_uid, w->pod_uid) &&
			       !strcmp(ws[j]->pod_namespace, w->pod_namespace) &&
			       !strcmp(ws[j]->pod_name, w->pod_name);
		if (dup)
			continue;
		for (size_t j = i; j < t->workloads.n; j++)
			count += ws[j]->selected && !strcmp(ws[j]->pod_uid, w->pod_uid) &&
				 !strcmp(ws[j]->pod_namespace, w->pod_namespace) &&
				 !strcmp(ws[j]->pod_name, w->pod_name);
		snprintf(what, sizeof(what), "%.140s/%.140s", w->pod_namespace, w->pod_name);
		snprintf(detail, sizeof(detail), "%zu workload%s", count, count == 1 ? "" : "s");
		err = add_candidate(t, what, *w->pod_uid ? w->pod_uid : "-", detail, w->first_seen_ns);
	}
	for (size_t i = 0; i < t->workloads.n; i++)
		ws[i]->selected = 0;
	return err ? err : -ENOTUNIQ;
}

static int build_children(struct jobgraph *g, struct ptrvec **kids_out)
{
	struct jt_proc **ps = (struct jt_proc **)g->procs.v;
	struct ptrvec *kids = calloc(g->procs.n ? g->procs.n : 1, sizeof(*kids));
	int err = 0;

	if (!kids)
		return -ENOMEM;
	for (size_t i = 0; i < g->procs.n; i++)
		ps[i]->preorder = i; /* the index, until preorder is computed */
	for (size_t i = 0; i < g->procs.n && !err; i++)
		if (ps[i]->parent)
			err = ptrvec__push(&kids[ps[i]->parent->preorder], ps[i]);
	*kids_out = kids;
	return err;
}

static void free_children(struct ptrvec *kids, size_t n)
{
	if (!kids)
		return;
	for (size_t i = 0; i < n; i++)
		ptrvec__free(&kids[i]);
	free(kids);
}

/* Is p the pid's process at `at`? Started by then, and not ended (an exit, or the pid's
 * next process on the same boot starting) before. */
static int alive_at(const struct jobgraph *g, size_t j, uint64_t at)
{
	const struct jt_proc *p = g->by_pid.v[j];

	if (!p->start_ns || p->start_ns > at)
		return 0;
	if (p->exit)
		return p->end_ns >= at;
	for (size_t k = j + 1; k < g->by_pid.n; k++) {
		const struct jt_proc *q = g->by_pid.v[k];

		if (q->pid != p->pid)
			break;
		if (jobgraph__same_boot(q->images[0]->exec_id, p->images[0]->exec_id) && q->start_ns > p->start_ns &&
		    q->start_ns <= at)
			return 0;
	}
	return 1;
}

static int select_id(struct jobtree *t, const char *id)
{
	char *c;

	if (strmap__get(t->sel_ids, id))
		return 0;
	c = arena__strdup(t->a, id);
	return c ? strmap__put(t->sel_ids, c, c) : -ENOMEM;
}

/* The selected process (from image `from` on) and every descendant into sel_ids; the
 * workloads they ran in are the job's. */
static int select_subtree(struct jobtree *t, struct jt_proc *root, size_t from, struct ptrvec *kids)
{
	struct ptrvec stack = {};
	int err = ptrvec__push(&stack, root);

	while (stack.n && !err) {
		struct jt_proc *p = stack.v[--stack.n];
		size_t first = p == root ? from : 0;
		struct ptrvec *k = &kids[p->preorder];

		for (size_t i = first; i < p->n_images && !err; i++) {
			struct jt_workload *w;

			err = select_id(t, p->images[i]->exec_id);
			w = workload_find(t, p->images[i]->node, p->images[i]->workload_key);
			if (w)
				w->selected = 1;
		}
		for (size_t i = 0; i < k->n && !err; i++) {
			struct jt_proc *c = k->v[i];

			/* Children of the root's images before `from` are not its descendants. */
			if (p == root && from) {
				size_t at = 0;

				while (at < p->n_images && p->images[at] != c->forked_by)
					at++;
				if (at < from)
					continue;
			}
			err = ptrvec__push(&stack, c);
		}
	}
	ptrvec__free(&stack);
	return err;
}

static int resolve_lineage(struct jobtree *t)
{
	struct jobgraph *g = &t->g1;
	struct ptrvec rest = {}, *kids = NULL;
	struct jt_proc *root = NULL;
	size_t from = 0;
	int err;

	err = jobgraph__link(g, &rest);
	for (size_t i = 0; i < rest.n && !err; i++)
		err = jobgraph__placeholder_for_exit(g, rest.v[i]);
	err = err ?: jobgraph__link_parents(g);
	if (err)
		goto cleanup;
	for (size_t i = 0; i < g->procs.n; i++)
		jobgraph__proc_fields(g->procs.v[i]);
	err = jobgraph__index_by_pid(g) ?: build_children(g, &kids);
	if (err)
		goto cleanup;
	if (t->q.by == JOBTREE_BY_EXEC_ID) {
		struct jt_image *img = strmap__get(g->img, t->q.value);

		if (!img) {
			err = suggest_processes(t, g) ?: -ENOENT;
			goto cleanup;
		}
		root = img->proc;
		while (root->images[from] != img)
			from++;
	} else {
		for (size_t j = jobgraph__first_of_pid(g, t->q.pid); j < g->by_pid.n && !err; j++) {
			struct jt_proc *p = g->by_pid.v[j];
			char what[32], detail[64];

			if (p->pid != t->q.pid)
				break;
			if (!alive_at(g, j, t->q.at_ns))
				continue;
			if (root) {
				if (!t->candidates.n) {
					snprintf(what, sizeof(what), "pid %u", root->pid);
					err = add_candidate(t, what, root->images[0]->exec_id, "", root->start_ns);
				}
				snprintf(what, sizeof(what), "pid %u", p->pid);
				snprintf(detail, sizeof(detail), "%s", p->exit ? "exited" : "no exit recorded");
				err = err ?: add_candidate(t, what, p->images[0]->exec_id, detail, p->start_ns);
				continue;
			}
			root = p;
		}
		if (!err && t->candidates.n)
			err = -ENOTUNIQ;
		else if (!err && !root)
			err = suggest_processes(t, g) ?: -ENOENT;
		if (err)
			goto cleanup;
	}
	err = select_subtree(t, root, from, kids);
cleanup:
	free_children(kids, g->procs.n);
	ptrvec__free(&rest);
	jobgraph__fini(g);
	return err;
}

/* --workload KEY: a key is a node's own; on several nodes, say which ones. */
static int resolve_workload(struct jobtree *t)
{
	struct jt_workload **ws = (struct jt_workload **)t->workloads.v;
	size_t n = 0;

	for (size_t i = 0; i < t->workloads.n; i++)
		if (!strcmp(ws[i]->key, t->q.value)) {
			ws[i]->selected = 1;
			n++;
		}
	return n ? 0 : suggest_workloads(t) ?: -ENOENT;
}

/* One job is on one node: the selected workloads' node is the job's. Selected on several
 * (a collected store, a key or a prefix that names workloads of many nodes): ambiguous,
 * each node a candidate, --node chooses. */
static int pin_node(struct jobtree *t)
{
	struct jt_workload **ws = (struct jt_workload **)t->workloads.v;
	int many = 0, err = 0;

	for (size_t i = 0; i < t->workloads.n; i++) {
		if (!ws[i]->selected)
			continue;
		if (!t->node)
			t->node = ws[i]->node;
		else if (strcmp(t->node, ws[i]->node))
			many = 1;
	}
	if (!many)
		return 0;
	for (size_t i = 0; i < t->workloads.n && !err; i++) {
		struct jt_workload *w = ws[i];
		char what[300], detail[300];

		if (!w->selected)
			continue;
		w->selected = 0;
		snprintf(what, sizeof(what), "node %.255s", w->node);
		snprintf(detail, sizeof(detail), "%.100s %.100s", *w->container_id ? w->container_id : w->pod_name,
			 *w->container_id ? "" : w->pod_namespace);
		err = add_candidate(t, what, w->key, detail, w->first_seen_ns);
	}
	t->node = NULL;
	return err ?: -ENOTUNIQ;
}

int jobtree__resolve(struct jobtree *t)
{
	int err;

	if (t->phase != 0)
		return -EINVAL;
	t->phase = 1;
	switch (t->q.by) {
	case JOBTREE_BY_WORKLOAD:
		err = resolve_workload(t);
		break;
	case JOBTREE_BY_CONTAINER:
		err = resolve_container(t);
		break;
	case JOBTREE_BY_POD:
		err = resolve_pod(t);
		break;
	default:
		return resolve_lineage(t);
	}
	return err ?: pin_node(t);
}

size_t jobtree__candidates(const struct jobtree *t)
{
	return t->candidates.n;
}

const struct jt_candidate *jobtree__candidate(const struct jobtree *t, size_t i)
{
	return i < t->candidates.n ? t->candidates.v[i] : NULL;
}

size_t jobtree__suggestions(const struct jobtree *t)
{
	return t->suggestions.n;
}

const struct jt_candidate *jobtree__suggestion(const struct jobtree *t, size_t i)
{
	return i < t->suggestions.n ? t->suggestions.v[i] : NULL;
}

size_t jobtree__workloads_seen(const struct jobtree *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->workloads.n; i++)
		n += ((struct jt_workload *)t->workloads.v[i])->has_record;
	return n;
}

/* ---- pass 2: the job's records -------------------------------------------------------- */

static int wl_selected(const struct jobtree *t, const char *node, const char *key, uint64_t cgroup_id)
{
	struct jt_workload *w = workload_find(t, node, key);
	char buf[WLKEY_MAX];

	if (!w && cgroup_id)
		w = workload_find(t, node, wlkey__of_record(buf, NULL, cgroup_id));
	return w && w->selected;
}

static int id_selected(const struct jobtree *t, const char *exec_id)
{
	return exec_id && *exec_id &&
	       (t->lineage ? strmap__get(t->sel_ids, exec_id) : strmap__get(t->g.img, exec_id)) != NULL;
}

/* 1 when this (run, seq) was already kept: the same record read twice. */
static int read_twice(struct jobtree *t, const Event *ev, int *err)
{
	char buf[160], *key;

	*err = 0;
	if (!ev->seq)
		return 0;
	snprintf(buf, sizeof(buf), "%.120s/%" PRIu64, ev->agent_run_id ? ev->agent_run_id : "", ev->seq);
	if (strmap__get(t->seen, buf))
		return 1;
	key = arena__strdup(t->a, buf);
	*err = key ? strmap__put(t->seen, key, key) : -ENOMEM;
	return 0;
}

static const char *str_or_empty(struct jobtree *t, const char *s)
{
	return arena__strdup(t->a, s ? s : "");
}

/* One fileAccess record: each is a window's opens already summed by the agent. */
static int add_file(struct jobtree *t, const Event *ev, const char *record)
{
	const Firstlight__V1__FileAccess *r = ev->file_access;
	struct jt_file *f = arena__alloc(t->a, sizeof(*f));
	const ProtobufCEnumValue *mode;

	if (!f || ptrvec__push(&t->files, f))
		return -ENOMEM;
	mode = protobuf_c_enum_descriptor_get_value(&firstlight__v1__file_access__mode__descriptor, r->mode);
	f->exec_id = str_or_empty(t, r->exec_id);
	f->workload_key = str_or_empty(t, r->workload_key);
	f->path = str_or_empty(t, r->path);
	f->watch = str_or_empty(t, r->watch);
	f->host_path = str_or_empty(t, r->host_path);
	f->mode = str_or_empty(t, mode ? mode->name : "?");
	if (!f->exec_id || !f->workload_key || !f->path || !f->watch || !f->host_path || !f->mode)
		return -ENOMEM;
	f->pid = r->pid;
	f->path_escaped = r->path_escaped;
	f->host_path_escaped = r->host_path_escaped;
	f->count = r->count;
	f->start_ns = jobgraph__wall_of(ev, r->start_boot_nano);
	f->end_ns = f->start_ns ? f->start_ns + r->duration_nano : 0;
	f->order = t->files.n - 1;
	f->record = record;
	return 0;
}

/* One flow record into its flow: a connection's opening and close join by socket cookie,
 * UDP windows of one peer and repeated LISTENs of one address sum. */
static int add_flow(struct jobtree *t, const Event *ev, const char *record)
{
	const Firstlight__V1__Flow *r = ev->flow;
	char buf[600];
	const char *keyp = NULL;
	struct jt_flow *f = NULL;
	uint64_t start = jobgraph__wall_of(ev, r->start_boot_nano);
	int tcp_kind = r->kind == FIRSTLIGHT__V1__FLOW__KIND__CONNECT ||
		       r->kind == FIRSTLIGHT__V1__FLOW__KIND__ACCEPT ||
		       r->kind == FIRSTLIGHT__V1__FLOW__KIND__CLOSE;

	if (tcp_kind && r->socket_cookie) {
		snprintf(buf, sizeof(buf), "cookie/%" PRIu64, r->socket_cookie);
		keyp = buf;
	} else if (r->kind == FIRSTLIGHT__V1__FLOW__KIND__UDP || r->kind == FIRSTLIGHT__V1__FLOW__KIND__LISTEN) {
		snprintf(buf, sizeof(buf), "%d/%.64s/%u/%.200s/%u/%.200s/%u/%d", r->kind, r->exec_id, r->pid,
			 r->src_addr, r->src_port, r->dst_addr, r->dst_port, r->inbound);
		keyp = buf;
	}
	if (keyp)
		f = strmap__get(t->flow_by, keyp);
	if (!f) {
		char *k = keyp ? arena__strdup(t->a, keyp) : NULL;

		f = arena__alloc(t->a, sizeof(*f));
		if (!f || (keyp && (!k || strmap__put(t->flow_by, k, f))) || ptrvec__push(&t->flows, f))
			return -ENOMEM;
		f->kind = r->kind;
		f->socket_cookie = r->socket_cookie;
		f->error = f->close_error = "";
		f->order = t->flows.n - 1;
	}
	f->records++;
	if (!f->first_record)
		f->first_record = record;
	f->last_record = record;
	/* Who owns it and where it goes: the opening record says best; else the first. */
	if (f->records == 1 || (r->kind != FIRSTLIGHT__V1__FLOW__KIND__CLOSE && !f->opened)) {
		if (r->kind != FIRSTLIGHT__V1__FLOW__KIND__CLOSE || f->records == 1)
			f->kind = r->kind;
		f->protocol = r->protocol;
		f->exec_id = str_or_empty(t, r->exec_id);
		f->workload_key = str_or_empty(t, r->workload_key);
		f->src = str_or_empty(t, r->src_addr);
		f->dst = str_or_empty(t, r->dst_addr);
		f->peer_exec_id = str_or_empty(t, r->peer_exec_id);
		if (!f->exec_id || !f->workload_key || !f->src || !f->dst || !f->peer_exec_id)
			return -ENOMEM;
		f->pid = r->pid;
		f->cgroup_id = r->cgroup_id;
		f->src_port = r->src_port;
		f->dst_port = r->dst_port;
		f->inbound = r->inbound;
		f->owner_unknown = r->owner_unknown;
		f->start_seen = r->start_seen;
		f->pre_existing = r->pre_existing;
		f->dst_escaped = r->dst_addr_escaped;
		f->peer_pid = r->peer_pid;
		f->socket_type = r->socket_type;
	}
	switch (r->kind) {
	case FIRSTLIGHT__V1__FLOW__KIND__CONNECT:
	case FIRSTLIGHT__V1__FLOW__KIND__ACCEPT:
		f->opened = 1;
		f->result = r->result;
		if (!(f->error = str_or_empty(t, r->error)))
			return -ENOMEM;
		f->connect_ns = r->duration_nano;
		if (start)
			f->start_ns = start;
		else if (!f->start_ns)
			f->start_ns = ev->time_unix_nano;
		break;
	case FIRSTLIGHT__V1__FLOW__KIND__CLOSE:
		f->closed = 1;
		f->close_result = r->result;
		if (!(f->close_error = str_or_empty(t, r->error)))
			return -ENOMEM;
		f->bytes_sent = r->bytes_sent;
		f->bytes_received = r->bytes_received;
		f->bytes_retransmitted = r->bytes_retransmitted;
		f->end_ns = ev->time_unix_nano;
		if (!f->start_ns)
			f->start_ns = start;
		break;
	case FIRSTLIGHT__V1__FLOW__KIND__UDP: {
		uint64_t end = start && r->duration_nano <= UINT64_MAX - start ? start + r->duration_nano : 0;

		f->datagrams += r->datagrams;
		f->connects += r->connects;
		f->bytes_sent += r->bytes_sent;
		f->bytes_received += r->bytes_received;
		if (start && (!f->start_ns || start < f->start_ns))
			f->start_ns = start;
		if (end > f->end_ns)
			f->end_ns = end;
		break;
	}
	default:
		if (!f->start_ns)
			f->start_ns = start ? start : ev->time_unix_nano;
	}
	return 0;
}

static int add_gap(struct jobtree *t, const Event *ev, const char *record)
{
	const Firstlight__V1__Gap *r = ev->gap;
	struct jt_gap *gp = arena__alloc(t->a, sizeof(*gp));

	if (!gp)
		return -ENOMEM;
	gp->kind = r->kind;
	gp->workload_key = str_or_empty(t, r->workload_key);
	gp->event_type = str_or_empty(t, r->event_type);
	gp->reason = str_or_empty(t, r->reason);
	gp->detail = str_or_empty(t, r->detail);
	gp->previous_run_id = str_or_empty(t, r->previous_run_id);
	if (!gp->workload_key || !gp->event_type || !gp->reason || !gp->detail || !gp->previous_run_id)
		return -ENOMEM;
	gp->cgroup_id = r->cgroup_id;
	gp->count = r->count;
	gp->first_seq = r->first_seq;
	gp->last_seq = r->last_seq;
	gp->start_ns = r->start_time_unix_nano;
	gp->end_ns = r->end_time_unix_nano;
	gp->record_ns = ev->time_unix_nano;
	gp->t_ns = gp->start_ns ? gp->start_ns : gp->end_ns ? gp->end_ns : gp->record_ns;
	gp->global = !*gp->workload_key && !gp->cgroup_id;
	gp->order = t->gaps.n;
	gp->record = record;
	return ptrvec__push(&t->gaps, gp);
}

int jobtree__keep_records(struct jobtree *t)
{
	if (t->phase > 1 || t->added)
		return -EINVAL;
	t->keep_json = 1;
	return 0;
}

/* The record as one line of canonical JSON, in the arena; NULL unless asked for. */
static int record_json(struct jobtree *t, const Event *ev, const char **out)
{
	int err;

	*out = NULL;
	if (!t->keep_json)
		return 0;
	json_buf__reset(&t->jbuf);
	err = json__append_message(&t->jbuf, &ev->base);
	if (err)
		return err;
	*out = arena__memdup(t->a, t->jbuf.data ? t->jbuf.data : "", t->jbuf.len);
	return *out ? 0 : -ENOMEM;
}

int jobtree__add(struct jobtree *t, const Firstlight__V1__Event *ev)
{
	const Firstlight__V1__Process *p;
	const char *rec;
	int keep = 0, err;

	if (t->phase != 1)
		return -EINVAL;
	t->added = 1;
	/* One job is on one node: the others' records are none of it. */
	if (!ev || (t->node && strcmp(ev->node ? ev->node : "", t->node)) ||
	    (t->q.node && strcmp(ev->node ? ev->node : "", t->q.node)))
		return 0;
	/* A workload record written since pass 1 read its file (a live segment) still
	 * counts; merging one twice changes nothing. */
	if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD && ev->workload)
		return merge_workload(t, ev);
	p = process_of(ev);
	if (p) {
		keep = t->lineage ? id_selected(t, p->exec_id) : wl_selected(t, ev->node, p->workload_key, p->cgroup_id);
	} else if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_EXIT && ev->exit) {
		/* Also the exits of the workload's processes that left it, and in the workload,
		 * of processes that came from outside (the runtime that forked its first). */
		keep = id_selected(t, ev->exit->exec_id) ||
		       (!t->lineage && wl_selected(t, ev->node, NULL, ev->exit->cgroup_id));
	} else if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_FLOW && ev->flow) {
		keep = id_selected(t, ev->flow->exec_id) ||
		       (!t->lineage && wl_selected(t, ev->node, ev->flow->workload_key, ev->flow->cgroup_id));
	} else if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_FILE_ACCESS && ev->file_access) {
		keep = id_selected(t, ev->file_access->exec_id) ||
		       (!t->lineage && wl_selected(t, ev->node, ev->file_access->workload_key,
						   ev->file_access->cgroup_id));
	} else if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_GAP && ev->gap) {
		keep = wl_selected(t, ev->node, ev->gap->workload_key, ev->gap->cgroup_id) ||
		       ((!ev->gap->workload_key || !*ev->gap->workload_key) && !ev->gap->cgroup_id);
	}
	if (!keep || read_twice(t, ev, &err))
		return 0;
	if (err || (err = record_json(t, ev, &rec)))
		return err;
	if (p)
		return jobgraph__add_image(&t->g, ev, p, image_kind(ev, p), replaced_of(ev), rec);
	switch (ev->body_case) {
	case FIRSTLIGHT__V1__EVENT__BODY_EXIT:
		return jobgraph__add_exit(&t->g, ev, rec);
	case FIRSTLIGHT__V1__EVENT__BODY_FLOW:
		return add_flow(t, ev, rec);
	case FIRSTLIGHT__V1__EVENT__BODY_FILE_ACCESS:
		return add_file(t, ev, rec);
	default:
		return add_gap(t, ev, rec);
	}
}

/* ---- build ---------------------------------------------------------------------------- */

static int add_item(struct arena *a, struct jt_proc *p, struct ptrvec *top, enum jt_item_kind kind,
		    uint64_t t_ns, void *ptr)
{
	struct jt_item *it;

	if (!p) {
		it = arena__alloc(a, sizeof(*it));
		if (!it || ptrvec__push(top, it))
			return -ENOMEM;
	} else {
		if (p->n_items == p->cap_items) {
			size_t cap = p->cap_items ? p->cap_items * 2 : 4;
			struct jt_item *n = arena__alloc(a, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			if (p->n_items)
				memcpy(n, p->items, p->n_items * sizeof(*n));
			p->items = n;
			p->cap_items = cap;
		}
		it = &p->items[p->n_items++];
	}
	it->kind = kind;
	it->t_ns = t_ns;
	if (kind == JT_ITEM_PROC)
		it->proc = ptr;
	else if (kind == JT_ITEM_FLOW)
		it->flow = ptr;
	else if (kind == JT_ITEM_FILE)
		it->file = ptr;
	else
		it->gap = ptr;
	return 0;
}

static int cmp_item(const void *pa, const void *pb)
{
	const struct jt_item *a = pa, *b = pb;

	if (a->t_ns != b->t_ns)
		return a->t_ns < b->t_ns ? -1 : 1;
	/* At the same instant: a gap first (it is placed before what follows it), then
	 * flows, then file opens, then processes. */
	static const int rank[] = { [JT_ITEM_GAP] = 0, [JT_ITEM_FLOW] = 1, [JT_ITEM_FILE] = 2,
				    [JT_ITEM_PROC] = 3 };

	if (a->kind != b->kind)
		return rank[a->kind] < rank[b->kind] ? -1 : 1;
	if (a->kind == JT_ITEM_PROC)
		return jobgraph__cmp_proc_time(&a->proc, &b->proc);
	if (a->kind == JT_ITEM_FLOW)
		return a->flow->order < b->flow->order ? -1 : a->flow->order > b->flow->order;
	if (a->kind == JT_ITEM_FILE)
		return a->file->order < b->file->order ? -1 : a->file->order > b->file->order;
	return a->gap->order < b->gap->order ? -1 : a->gap->order > b->gap->order;
}

static int cmp_item_ptr(const void *pa, const void *pb)
{
	return cmp_item(*(const struct jt_item *const *)pa, *(const struct jt_item *const *)pb);
}

static int cmp_gap_time(const void *pa, const void *pb)
{
	const struct jt_gap *a = *(struct jt_gap *const *)pa, *b = *(struct jt_gap *const *)pb;

	if (a->t_ns != b->t_ns)
		return a->t_ns < b->t_ns ? -1 : 1;
	if (a->record_ns != b->record_ns)
		return a->record_ns < b->record_ns ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order; /* input order */
}

/* Flows to their owner; an owner never recorded becomes a process of its own. */
static int attach_flows(struct jobtree *t)
{
	struct jobgraph *g = &t->g;

	for (size_t i = 0; i < t->flows.n; i++) {
		struct jt_flow *f = t->flows.v[i];
		struct jt_image *img = *f->exec_id ? strmap__get(g->img, f->exec_id) : NULL;

		if (img) {
			f->proc = img->proc;
			/* A process known only by its flows sorts by the first of them. */
			if (img->kind == JT_IMAGE_UNRECORDED && f->start_ns &&
			    (!f->proc->first_ns || f->start_ns < f->proc->first_ns))
				f->proc->first_ns = f->start_ns;
			continue;
		}
		if (f->owner_unknown || !*f->exec_id)
			continue; /* the socket predates the sensor: no process to put it under */
		f->proc = jobgraph__placeholder(g, f->exec_id, f->pid);
		if (!f->proc)
			return -ENOMEM;
		f->proc->first_ns = f->start_ns;
		f->proc->flags |= f->start_seen ? JT_PROC_START_ELSEWHERE :
				  f->pre_existing ? JT_PROC_PRE_EXISTING : JT_PROC_MISSING_START;
	}
	return 0;
}

/*
 * Exits that fit no recorded process. In a workload query, the exit of a process that
 * started outside it and forked its first process (the runtime) names that root's
 * creator; any other becomes a process of its own.
 */
static int place_rest_exits(struct jobtree *t, struct ptrvec *rest)
{
	struct jobgraph *g = &t->g;
	struct strmap *parents = NULL;
	int err = 0;

	if (!t->lineage) {
		parents = strmap__new();
		if (!parents)
			return -ENOMEM;
		for (size_t i = 0; i < g->images.n && !err; i++) {
			struct jt_image *img = g->images.v[i];

			if (*img->parent_exec_id)
				err = strmap__put(parents, img->parent_exec_id, img);
		}
	}
	for (size_t i = 0; i < rest->n && !err; i++) {
		struct jt_exit *x = rest->v[i];

		if (parents && x->start_seen && strmap__get(parents, x->exec_id))
			continue;
		err = jobgraph__placeholder_for_exit(g, x);
	}
	strmap__free(parents);
	return err;
}

/* A dropped cgroup_rmdir of a workload still says that it ended (and by when). */
static void lost_ends(struct jobtree *t)
{
	for (size_t i = 0; i < t->gaps.n; i++) {
		struct jt_gap *g = t->gaps.v[i];
		struct jt_workload *w;

		if (g->kind != FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP || strcmp(g->event_type, "cgroup_rmdir"))
			continue;
		w = workload_find(t, NULL, g->workload_key);
		if (!w || w->ended)
			continue;
		w->end_lost = 1;
		if (g->end_ns > w->end_lost_ns)
			w->end_lost_ns = g->end_ns;
	}
}

/* Ended without an exit record? The workload ended, or the pid started another process. */
static void exit_missing(struct jobtree *t)
{
	struct jobgraph *g = &t->g;

	for (size_t j = 0; j < g->by_pid.n; j++) {
		struct jt_proc *p = g->by_pid.v[j];
		struct jt_workload *w;

		if (p->exit)
			continue;
		for (size_t k = j + 1; k < g->by_pid.n; k++) {
			struct jt_proc *q = g->by_pid.v[k];

			if (q->pid != p->pid)
				break;
			if (q->start_ns > p->start_ns && jobgraph__same_boot(q->images[0]->exec_id, p->images[0]->exec_id)) {
				p->state = JT_EXIT_MISSING;
				p->reused_ns = q->start_ns;
				break;
			}
		}
		w = workload_find(t, p->images[0]->node, p->workload_key);
		if (p->state == JT_RUNNING && w && (w->ended || w->end_lost))
			p->state = JT_EXIT_MISSING;
	}
}

static uint64_t flow_end(const struct jt_flow *f)
{
	if (f->end_ns)
		return f->end_ns;
	if (f->start_ns && f->connect_ns <= UINT64_MAX - f->start_ns)
		return f->start_ns + f->connect_ns;
	return f->start_ns;
}

/* The job's window: from its first start (or its workload's birth) to its last end. */
static void job_window(struct jobtree *t)
{
	struct jt_job *job = &t->job;
	int open = 0;

	job->start_ns = job->end_ns = 0;
	for (size_t i = 0; i < t->g.procs.n; i++) {
		struct jt_proc *p = t->g.procs.v[i];

		if (p->start_ns && (!job->start_ns || p->start_ns < job->start_ns))
			job->start_ns = p->start_ns;
		if (p->end_ns > job->end_ns)
			job->end_ns = p->end_ns;
		open |= p->state == JT_RUNNING;
	}
	for (size_t i = 0; i < t->flows.n; i++) {
		struct jt_flow *f = t->flows.v[i];

		if (f->start_ns && (!job->start_ns || f->start_ns < job->start_ns))
			job->start_ns = f->start_ns;
		if (flow_end(f) > job->end_ns)
			job->end_ns = flow_end(f);
	}
	if (!t->lineage) {
		for (size_t i = 0; i < job->n_workloads; i++) {
			struct jt_workload *w = job->workloads[i];

			if (w->first_seen_ns && (!job->start_ns || w->first_seen_ns < job->start_ns))
				job->start_ns = w->first_seen_ns;
			if (w->last_seen_ns > job->end_ns)
				job->end_ns = w->last_seen_ns;
			if (w->end_lost_ns > job->end_ns)
				job->end_ns = w->end_lost_ns;
			open |= !w->ended && !w->end_lost;
		}
	}
	if (open)
		job->end_ns = 0;
}

static int gap_applies(const struct jt_job *job, const struct jt_gap *g)
{
	uint64_t lo = g->t_ns, hi = g->end_ns > lo ? g->end_ns : lo;

	if (!job->start_ns)
		return 1; /* nothing timed in the job: every gap of its workloads says something */
	if (!lo)
		return 1;
	return hi >= job->start_ns && (!job->end_ns || lo <= job->end_ns);
}

/* Was p running at t? A process without an exit ran until the records end. */
static int running_at(const struct jt_proc *p, uint64_t t)
{
	return p->start_ns && p->start_ns <= t && (!p->end_ns || p->end_ns >= t);
}

/*
 * Each gap goes where the text reads chronologically: just before the first process (in
 * tree order) that started at or after the gap began, as that process's sibling. When
 * none did, after everything, as the last item of the last process (in tree order) still
 * running then: the holes of a job are most often in what its live processes did.
 */
#define ALIVE_SCAN_MAX 4096 /* processes examined per gap for that: bad records stay fast */

static int place_gaps(struct jobtree *t, struct jt_proc **pre, size_t n_pre)
{
	struct jt_job *job = &t->job;
	struct jt_proc **by_start = NULL;
	size_t k, best = SIZE_MAX;

	if (n_pre) {
		by_start = malloc(n_pre * sizeof(*by_start));
		if (!by_start)
			return -ENOMEM;
		memcpy(by_start, pre, n_pre * sizeof(*by_start));
		sort(by_start, n_pre, sizeof(*by_start), jobgraph__cmp_proc_time);
	}
	/* Gaps latest first; processes that started at or after each, latest first: the
	 * smallest tree position among those is the one to stand before. */
	k = n_pre;
	for (size_t i = job->n_gaps; i-- > 0;) {
		struct jt_gap *g = job->gaps[i];

		while (k > 0 && by_start[k - 1]->start_ns >= g->t_ns && by_start[k - 1]->start_ns) {
			k--;
			if (by_start[k]->preorder < best)
				best = by_start[k]->preorder;
		}
		g->under = best == SIZE_MAX ? NULL : pre[best]->parent;
		if (best != SIZE_MAX)
			continue;
		for (size_t j = n_pre, seen = 0; j-- > 0 && seen < ALIVE_SCAN_MAX; seen++) {
			if (running_at(pre[j], g->t_ns)) {
				g->under = pre[j];
				break;
			}
		}
	}
	free(by_start);
	return 0;
}

static int sort_children_preorder(struct jobtree *t, struct ptrvec *top, struct jt_proc ***pre_out)
{
	struct jobgraph *g = &t->g;
	struct jt_proc **pre = NULL;
	struct ptrvec stack = {};
	size_t n = 0;
	int err = 0;

	for (size_t i = 0; i < g->procs.n && !err; i++) {
		struct jt_proc *p = g->procs.v[i];

		err = add_item(t->a, p->parent, top, JT_ITEM_PROC, p->first_ns, p);
	}
	if (err)
		return err;
	sort(top->v, top->n, sizeof(void *), cmp_item_ptr);
	for (size_t i = 0; i < g->procs.n; i++) {
		struct jt_proc *p = g->procs.v[i];

		sort(p->items, p->n_items, sizeof(*p->items), cmp_item);
	}
	pre = malloc((g->procs.n ? g->procs.n : 1) * sizeof(*pre));
	if (!pre)
		return -ENOMEM;
	for (size_t i = top->n; i-- > 0 && !err;)
		err = ptrvec__push(&stack, ((struct jt_item *)top->v[i])->proc);
	while (stack.n && !err) {
		struct jt_proc *p = stack.v[--stack.n];

		p->depth = p->parent ? p->parent->depth + 1 : 0;
		p->preorder = n;
		pre[n++] = p;
		for (size_t i = p->n_items; i-- > 0 && !err;)
			err = ptrvec__push(&stack, p->items[i].proc);
	}
	ptrvec__free(&stack);
	if (err) {
		free(pre);
		return err;
	}
	*pre_out = pre;
	return 0;
}

static void count(struct jobtree *t)
{
	struct jt_counts *c = &t->job.counts;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < t->g.procs.n; i++) {
		struct jt_proc *p = t->g.procs.v[i];

		c->processes++;
		c->images += p->n_images;
		c->exited += p->state == JT_EXITED;
		c->killed += p->state == JT_KILLED;
		c->exit_missing += p->state == JT_EXIT_MISSING;
		c->running += p->state == JT_RUNNING;
		c->missing_start += !!(p->flags & JT_PROC_MISSING_START);
	}
	c->flows = t->flows.n;
	c->files = t->files.n;
	c->gaps = t->job.n_gaps;
	for (size_t i = 0; i < t->job.n_gaps; i++)
		if (t->job.gaps[i]->kind == FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP)
			c->dropped_events += t->job.gaps[i]->count;
}

int jobtree__build(struct jobtree *t)
{
	struct jobgraph *g = &t->g;
	struct jt_job *job = &t->job;
	struct jt_proc **pre = NULL;
	struct ptrvec rest = {}, wls = {};
	int err;

	if (t->phase != 1)
		return -EINVAL;
	t->phase = 2;
	err = jobgraph__link(g, &rest) ?: place_rest_exits(t, &rest) ?: attach_flows(t) ?: jobgraph__link_parents(g);
	if (err)
		goto cleanup;
	for (size_t i = 0; i < g->procs.n; i++) {
		struct jt_proc *p = g->procs.v[i];

		jobgraph__proc_fields(p);
		if (!p->parent && *p->parent_exec_id && !t->lineage) {
			struct jt_exit *x = strmap__get(g->exit, p->parent_exec_id);

			if (x && !x->used)
				p->outside_parent_pid = x->pid;
		}
	}
	err = jobgraph__index_by_pid(g);
	if (err)
		goto cleanup;
	lost_ends(t);
	exit_missing(t);
	/* The workloads to describe: those asked for, or those the processes ran in. */
	for (size_t i = 0; i < t->workloads.n && !err; i++) {
		struct jt_workload *w = t->workloads.v[i];

		if (w->selected)
			err = ptrvec__push(&wls, w);
	}
	if (err)
		goto cleanup;
	job->workloads = arena__alloc(t->a, (wls.n ? wls.n : 1) * sizeof(*job->workloads));
	if (!job->workloads) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (wls.n)
		memcpy(job->workloads, wls.v, wls.n * sizeof(*job->workloads));
	job->n_workloads = wls.n;
	job_window(t);
	sort(t->gaps.v, t->gaps.n, sizeof(void *), cmp_gap_time);
	for (size_t i = 0; i < t->gaps.n && !err; i++)
		if (gap_applies(job, t->gaps.v[i]))
			err = ptrvec__push(&t->all_gaps, t->gaps.v[i]);
	if (err)
		goto cleanup;
	job->gaps = (struct jt_gap **)t->all_gaps.v;
	job->n_gaps = t->all_gaps.n;
	for (size_t i = 0; i < job->n_gaps; i++)
		job->gaps[i]->order = i;
	err = sort_children_preorder(t, &t->top, &pre) ?: place_gaps(t, pre, g->procs.n);
	for (size_t i = 0; i < t->flows.n && !err; i++) {
		struct jt_flow *f = t->flows.v[i];

		err = add_item(t->a, f->proc, &t->top, JT_ITEM_FLOW, f->start_ns, f);
	}
	/* File opens under their opener's process (its image in the tree), else at the top. */
	for (size_t i = 0; i < t->files.n && !err; i++) {
		struct jt_file *f = t->files.v[i];
		struct jt_image *img = *f->exec_id ? strmap__get(g->img, f->exec_id) : NULL;

		f->proc = img ? img->proc : NULL;
		err = add_item(t->a, f->proc, &t->top, JT_ITEM_FILE, f->start_ns, f);
	}
	for (size_t i = 0; i < job->n_gaps && !err; i++)
		err = add_item(t->a, job->gaps[i]->under, &t->top, JT_ITEM_GAP, job->gaps[i]->t_ns,
			       job->gaps[i]);
	if (err)
		goto cleanup;
	for (size_t i = 0; i < g->procs.n; i++) {
		struct jt_proc *p = g->procs.v[i];

		sort(p->items, p->n_items, sizeof(*p->items), cmp_item);
	}
	sort(t->top.v, t->top.n, sizeof(void *), cmp_item_ptr);
	/* The top level as an array like every process's items. */
	job->top = arena__alloc(t->a, (t->top.n ? t->top.n : 1) * sizeof(*job->top));
	if (!job->top) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < t->top.n; i++)
		job->top[i] = *(struct jt_item *)t->top.v[i];
	job->n_top = t->top.n;
	count(t);
cleanup:
	free(pre);
	ptrvec__free(&rest);
	ptrvec__free(&wls);
	return err;
}

const struct jt_job *jobtree__job(const struct jobtree *t)
{
	return t->phase == 2 ? &t->job : NULL;
}
