/*
 * Unit tests for user/readers/jobtree.c (rebuilding a job from hand-built records, fed
 * through both passes as `firstlight tree` does) and user/readers/treefmt.c (the text
 * and JSON output).
 * Times: the job's records are at T0 + some ms of wall time and B0 + the same ms of
 * CLOCK_BOOTTIME, so process starts convert exactly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "readers/htmlfmt.h"
#include "readers/jobhtml.h"
#include "readers/jobtree.h"
#include "readers/treefmt.h"

#define MS 1000000ull
#define T0 (1700000000ull * 1000000000ull) /* 2023-11-14T22:13:20Z */
#define B0 (5000ull * 1000000000ull)
#define MAXEV 128

typedef Firstlight__V1__Event Event;

/* ---- building records ----------------------------------------------------------------- */

struct recs {
	Event ev[MAXEV];
	Firstlight__V1__Process proc[MAXEV];
	Firstlight__V1__ProcessFlags flags[MAXEV];
	Firstlight__V1__ProcessExec exec[MAXEV];
	Firstlight__V1__ProcessFork fork[MAXEV];
	Firstlight__V1__ProcessExit exit[MAXEV];
	Firstlight__V1__Flow flow[MAXEV];
	Firstlight__V1__Workload wl[MAXEV];
	Firstlight__V1__Gap gap[MAXEV];
	char *strs[MAXEV * 4];
	size_t n, n_strs;
	const char *run;
};

static struct recs *recs_new(void)
{
	struct recs *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->run = "run-1";
	return r;
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n_strs; i++)
		free(r->strs[i]);
	free(r);
}

static char *str(struct recs *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *str(struct recs *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	assert_true(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	assert_true(r->n_strs < MAXEV * 4);
	r->strs[r->n_strs++] = s;
	return s;
}

/* A record at T0 + ms (wall) = B0 + ms (boot). */
static Event *rec(struct recs *r, double ms)
{
	Event *e;

	assert_true(r->n < MAXEV);
	e = &r->ev[r->n];
	firstlight__v1__event__init(e);
	e->seq = r->n + 1;
	e->agent_run_id = (char *)r->run;
	e->node = "node-1";
	e->time_unix_nano = T0 + (uint64_t)(ms * MS);
	e->boot_nano = B0 + (uint64_t)(ms * MS);
	r->n++;
	return e;
}

/* Exec ids as the agent writes them: "<boot tag>:<start ns>:<pid>". */
static char *id(struct recs *r, double start_ms, uint32_t pid)
{
	return str(r, "b00710c5:%llu:%u", (unsigned long long)(B0 + (uint64_t)(start_ms * MS)), pid);
}

static Firstlight__V1__Process *proc(struct recs *r, Event *e, const char *exec_id, const char *parent,
				     uint32_t pid, uint32_t ppid, uint64_t cgroup, double start_ms)
{
	size_t i = (size_t)(e - r->ev);
	Firstlight__V1__Process *p = &r->proc[i];

	firstlight__v1__process__init(p);
	firstlight__v1__process_flags__init(&r->flags[i]);
	p->flags = &r->flags[i];
	p->exec_id = (char *)exec_id;
	p->parent_exec_id = (char *)parent;
	p->pid = pid;
	p->ppid = ppid;
	p->cgroup_id = cgroup;
	p->workload_key = str(r, "cgroup:%llu", (unsigned long long)cgroup);
	p->start_boot_nano = B0 + (uint64_t)(start_ms * MS);
	p->binary = "";
	p->cwd = "/";
	return p;
}

static Firstlight__V1__Process *fork_at(struct recs *r, double ms, const char *exec_id, const char *parent,
					uint32_t pid, uint32_t ppid, uint64_t cgroup, const char *binary,
					char **args, size_t n_args)
{
	Event *e = rec(r, ms);
	size_t i = (size_t)(e - r->ev);
	Firstlight__V1__Process *p = proc(r, e, exec_id, parent, pid, ppid, cgroup, ms);

	firstlight__v1__process_fork__init(&r->fork[i]);
	r->fork[i].process = p;
	r->fork[i].parent_exec_id = (char *)parent;
	p->binary = (char *)binary;
	p->args = args;
	p->n_args = n_args;
	e->body_case = FIRSTLIGHT__V1__EVENT__BODY_FORK;
	e->fork = &r->fork[i];
	return p;
}

static Firstlight__V1__Process *exec_at(struct recs *r, double ms, const char *exec_id, const char *replaced,
					const char *parent, uint32_t pid, uint32_t ppid, uint64_t cgroup,
					double start_ms, const char *binary, char **args, size_t n_args)
{
	Event *e = rec(r, ms);
	size_t i = (size_t)(e - r->ev);
	Firstlight__V1__Process *p = proc(r, e, exec_id, parent, pid, ppid, cgroup, start_ms);

	firstlight__v1__process_exec__init(&r->exec[i]);
	r->exec[i].process = p;
	r->exec[i].replaced_exec_id = (char *)replaced;
	p->binary = (char *)binary;
	p->args = args;
	p->n_args = n_args;
	e->body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
	e->exec = &r->exec[i];
	return p;
}

static Firstlight__V1__ProcessExit *exit_at(struct recs *r, double ms, const char *exec_id, uint32_t pid,
					    int code, uint32_t sig, double start_ms, uint64_t cgroup)
{
	Event *e = rec(r, ms);
	Firstlight__V1__ProcessExit *x = &r->exit[e - r->ev];

	firstlight__v1__process_exit__init(x);
	x->exec_id = (char *)exec_id;
	x->pid = pid;
	x->exit_code = code;
	x->signal = sig;
	x->duration_nano = (uint64_t)((ms - start_ms) * MS);
	x->cgroup_id = cgroup;
	x->start_seen = 1;
	e->body_case = FIRSTLIGHT__V1__EVENT__BODY_EXIT;
	e->exit = x;
	return x;
}

static Firstlight__V1__Workload *workload_at(struct recs *r, double ms, uint64_t cgroup, const char *cid,
					     int state)
{
	Event *e = rec(r, ms);
	Firstlight__V1__Workload *w = &r->wl[e - r->ev];

	firstlight__v1__workload__init(w);
	w->cgroup_id = cgroup;
	w->key = str(r, "cgroup:%llu", (unsigned long long)cgroup);
	w->container_id = (char *)cid;
	w->runtime = "runc";
	w->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER;
	w->state = state;
	w->identity_verified = 1;
	w->identity_source = "oci-bundle";
	w->first_seen_unix_nano = T0 + 0;
	w->last_seen_unix_nano = e->time_unix_nano;
	e->body_case = FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD;
	e->workload = w;
	return w;
}

static Firstlight__V1__Flow *flow_at(struct recs *r, double ms, int kind, const char *exec_id, uint32_t pid,
				     uint64_t cgroup, uint64_t cookie, double start_ms)
{
	Event *e = rec(r, ms);
	Firstlight__V1__Flow *f = &r->flow[e - r->ev];

	firstlight__v1__flow__init(f);
	f->kind = kind;
	f->protocol = 6;
	f->exec_id = (char *)exec_id;
	f->pid = pid;
	f->cgroup_id = cgroup;
	f->workload_key = str(r, "cgroup:%llu", (unsigned long long)cgroup);
	f->src_addr = "10.0.0.2";
	f->src_port = 40000;
	f->dst_addr = "10.0.0.9";
	f->dst_port = 443;
	f->socket_cookie = cookie;
	f->start_boot_nano = B0 + (uint64_t)(start_ms * MS);
	f->start_seen = 1;
	e->body_case = FIRSTLIGHT__V1__EVENT__BODY_FLOW;
	e->flow = f;
	return f;
}

static Firstlight__V1__Gap *gap_at(struct recs *r, double ms, int kind, uint64_t cgroup, uint64_t count,
				   double from_ms, double to_ms)
{
	Event *e = rec(r, ms);
	Firstlight__V1__Gap *g = &r->gap[e - r->ev];

	firstlight__v1__gap__init(g);
	g->kind = kind;
	g->cgroup_id = cgroup;
	if (cgroup)
		g->workload_key = str(r, "cgroup:%llu", (unsigned long long)cgroup);
	g->count = count;
	g->event_type = "exec";
	g->start_time_unix_nano = T0 + (uint64_t)(from_ms * MS);
	g->end_time_unix_nano = T0 + (uint64_t)(to_ms * MS);
	e->body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	e->gap = g;
	return g;
}

/* Both passes, as the command runs them. Returns resolve's result; *out the tree. */
static int run(struct recs *r, const struct jobtree_query *q, struct jobtree **out)
{
	struct jobtree *t = jobtree__new(q);
	int err;

	assert_non_null(t);
	for (size_t i = 0; i < r->n; i++)
		assert_int_equal(jobtree__scan(t, &r->ev[i]), 0);
	err = jobtree__resolve(t);
	if (!err) {
		for (size_t i = 0; i < r->n; i++)
			assert_int_equal(jobtree__add(t, &r->ev[i]), 0);
		assert_int_equal(jobtree__build(t), 0);
		assert_non_null(jobtree__job(t));
	}
	*out = t;
	return err;
}

static const struct jt_job *run_ok(struct recs *r, const struct jobtree_query *q, struct jobtree **t)
{
	assert_int_equal(run(r, q, t), 0);
	return jobtree__job(*t);
}

static char *text_of(const struct jt_job *job)
{
	struct json_buf b = {};

	assert_int_equal(treefmt__text(&b, job), 0);
	return b.data;
}

static json_t *json_of(const struct jt_job *job)
{
	struct json_buf b = {};
	json_error_t e;
	json_t *j;

	assert_int_equal(treefmt__json(&b, job), 0);
	j = json_loads(b.data, 0, &e);
	if (!j)
		fail_msg("JSON does not parse: %s at %d: %s", e.text, e.position, b.data);
	json_buf__free(&b);
	return j;
}

/* The n-th item of kind k among its list. */
static const struct jt_proc *child(const struct jt_item *items, size_t n_items, size_t n)
{
	for (size_t i = 0; i < n_items; i++)
		if (items[i].kind == JT_ITEM_PROC && n-- == 0)
			return items[i].proc;
	return NULL;
}

static size_t count_kind(const struct jt_item *items, size_t n_items, enum jt_item_kind k)
{
	size_t c = 0;

	for (size_t i = 0; i < n_items; i++)
		c += items[i].kind == k;
	return c;
}

/* ---- a container job: the runtime forks its init, which execs a shell script that starts
 * three children (curl, a killed sleep, sh -c 'exit 7'). ---------------------------------- */

#define CG 4242

static char *a_runc[] = { "runc", "init" };
static char *a_sh[] = { "sh", "-c", "script" };
static char *a_curl[] = { "curl", "-s", "http://10.0.0.9/" };
static char *a_sleep[] = { "sleep", "30" };
static char *a_exit7[] = { "sh", "-c", "exit 7" };

struct job_ids {
	char *runtime, *init, *init2, *sh, *c1f, *c1, *c2f, *c2, *c3f, *c3;
};

static void container_job(struct recs *r, struct job_ids *ids, int ended)
{
	ids->runtime = id(r, -5, 90);  /* runc init in the host cgroup: outside the workload */
	ids->init = id(r, 1, 100);     /* its fork into the container */
	ids->init2 = id(r, 2, 101);    /* the container's init, forked by it */
	ids->sh = id(r, 3, 101);       /* ... which execs the script */
	ids->c1f = id(r, 10, 102);
	ids->c1 = id(r, 11, 102);
	ids->c2f = id(r, 20, 103);
	ids->c2 = id(r, 21, 103);
	ids->c3f = id(r, 30, 104);
	ids->c3 = id(r, 31, 104);
	workload_at(r, 0, CG, "c0ffee1234", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED);
	fork_at(r, 1, ids->init, ids->runtime, 100, 80, CG, "runc", a_runc, 2);
	fork_at(r, 2, ids->init2, ids->init, 101, 80, CG, "runc", a_runc, 2);
	exit_at(r, 2.5, ids->init, 100, 0, 0, 1, CG);
	exit_at(r, 2.6, ids->runtime, 90, 0, 0, -5, CG); /* the runtime moved in, then exited */
	exec_at(r, 3, ids->sh, ids->init2, ids->init, 101, 80, CG, 2, "/bin/sh", a_sh, 3);
	fork_at(r, 10, ids->c1f, ids->sh, 102, 101, CG, "/bin/sh", a_sh, 3);
	exec_at(r, 11, ids->c1, ids->c1f, ids->sh, 102, 101, CG, 10, "/usr/bin/curl", a_curl, 3);
	flow_at(r, 12, FIRSTLIGHT__V1__FLOW__KIND__CONNECT, ids->c1, 102, CG, 77, 11.5)->duration_nano = MS / 2;
	fork_at(r, 20, ids->c2f, ids->sh, 103, 101, CG, "/bin/sh", a_sh, 3);
	exec_at(r, 21, ids->c2, ids->c2f, ids->sh, 103, 101, CG, 20, "/bin/sleep", a_sleep, 2);
	{
		Firstlight__V1__Flow *f = flow_at(r, 22, FIRSTLIGHT__V1__FLOW__KIND__CLOSE, ids->c1, 102, CG, 77, 11.5);

		f->bytes_sent = 80;
		f->bytes_received = 1200;
	}
	exit_at(r, 23, ids->c1, 102, 0, 0, 10, CG);
	exit_at(r, 24, ids->c2, 103, 0, 9, 20, CG);
	fork_at(r, 30, ids->c3f, ids->sh, 104, 101, CG, "/bin/sh", a_sh, 3);
	exec_at(r, 31, ids->c3, ids->c3f, ids->sh, 104, 101, CG, 30, "/bin/sh", a_exit7, 3);
	exit_at(r, 32, ids->c3, 104, 7, 0, 30, CG);
	exit_at(r, 40, ids->sh, 101, 4, 0, 2, CG);
	if (ended)
		workload_at(r, 41, CG, "c0ffee1234", FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED);
}

static void test_lineage_and_exec_chains(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER, .value = "c0ffee" };
	struct recs *r = recs_new();
	const struct jt_proc *root, *sh, *c1, *c2, *c3;
	const struct jt_job *job;
	struct job_ids ids;
	struct jobtree *t;

	(void)state;
	container_job(r, &ids, 1);
	job = run_ok(r, &q, &t);
	assert_int_equal(job->n_workloads, 1);
	assert_string_equal(job->workloads[0]->container_id, "c0ffee1234");
	assert_true(job->workloads[0]->ended);
	/* One root: the runtime's fork into the workload; the runtime itself is outside. */
	assert_int_equal(count_kind(job->top, job->n_top, JT_ITEM_PROC), 1);
	root = child(job->top, job->n_top, 0);
	assert_int_equal(root->pid, 100);
	assert_int_equal(root->outside_parent_pid, 90);
	assert_int_equal(root->n_images, 1);
	assert_int_equal(root->images[0]->kind, JT_IMAGE_FORK);
	/* fork -> exec: one process, two images. */
	sh = child(root->items, root->n_items, 0);
	assert_non_null(sh);
	assert_int_equal(sh->pid, 101);
	assert_int_equal(sh->n_images, 2);
	assert_int_equal(sh->images[0]->kind, JT_IMAGE_FORK);
	assert_int_equal(sh->images[1]->kind, JT_IMAGE_EXEC);
	assert_string_equal(sh->images[1]->binary, "/bin/sh");
	assert_int_equal(sh->state, JT_EXITED);
	assert_int_equal(sh->exit->code, 4);
	assert_int_equal(sh->start_ns, T0 + 2 * MS);
	/* Its three children, in start order, each a fork then an exec. */
	assert_int_equal(count_kind(sh->items, sh->n_items, JT_ITEM_PROC), 3);
	c1 = child(sh->items, sh->n_items, 0);
	c2 = child(sh->items, sh->n_items, 1);
	c3 = child(sh->items, sh->n_items, 2);
	assert_int_equal(c1->pid, 102);
	assert_ptr_equal(c1->parent, sh);
	assert_ptr_equal(c1->forked_by, sh->images[1]);
	assert_string_equal(c1->images[1]->args[0], "curl");
	assert_int_equal(c1->state, JT_EXITED);
	assert_int_equal(c2->state, JT_KILLED);
	assert_int_equal(c2->exit->signal, 9);
	assert_int_equal(c3->exit->code, 7);
	/* The connection under curl: CONNECT and CLOSE joined. */
	assert_int_equal(count_kind(c1->items, c1->n_items, JT_ITEM_FLOW), 1);
	assert_int_equal(c1->items[0].flow->kind, FIRSTLIGHT__V1__FLOW__KIND__CONNECT);
	assert_true(c1->items[0].flow->closed);
	assert_int_equal(c1->items[0].flow->bytes_received, 1200);
	assert_int_equal(c1->items[0].flow->records, 2);
	assert_int_equal(job->counts.processes, 5);
	assert_int_equal(job->counts.exited, 4);
	assert_int_equal(job->counts.killed, 1);
	assert_int_equal(job->counts.flows, 1);
	assert_int_equal(job->start_ns, T0);
	jobtree__free(t);
	recs_free(r);
}

static void test_text_golden(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER, .value = "c0ffee1234" };
	struct recs *r = recs_new();
	struct job_ids ids;
	struct jobtree *t;
	char *text;

	(void)state;
	container_job(r, &ids, 1);
	gap_at(r, 50, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, CG, 3, 15, 16.5);
	text = text_of(run_ok(r, &q, &t));
	assert_string_equal(text,
		"workload   cgroup:4242 (container)\n"
		"container  c0ffee1234, runtime runc\n"
		"identity   verified (oci-bundle)\n"
		"pod        -\n"
		"image      -\n"
		"cgroup     4242 -\n"
		"seen       2023-11-14T22:13:20.000000000Z to 2023-11-14T22:13:20.041000000Z, ended\n"
		"\n"
		"job        start 2023-11-14T22:13:20.000000000Z (+0), end +41.000ms\n"
		"           5 processes (4 exited, 1 killed, 0 without exit, 0 running), 1 flow, 1 gap (3 events dropped)\n"
		"\n"
		"+1.000ms pid 100 uid 0 exit 0 after 1.500ms: fork of runc [\"runc\",\"init\"] [forked by pid 90, outside the workload]\n"
		"└─ +2.000ms pid 101 uid 0 exit 4 after 38.000ms: fork -> exec at +3.000ms /bin/sh [\"sh\",\"-c\",\"script\"] [real parent pid 80]\n"
		"   ├─ +10.000ms pid 102 uid 0 exit 0 after 13.000ms: fork -> exec at +11.000ms /usr/bin/curl [\"curl\",\"-s\",\"http://10.0.0.9/\"]\n"
		"   │  └─ +11.500ms tcp connect 10.0.0.2:40000 -> 10.0.0.9:443: established in 0.500ms, closed at +22.000ms after 10.500ms, sent 80 B, received 1200 B\n"
		"   ├─ ! +15.000ms 3 exec events dropped in this workload between 22:13:20.015 and 22:13:20.016 (ring buffer full)\n"
		"   ├─ +20.000ms pid 103 uid 0 killed by SIGKILL after 4.000ms: fork -> exec at +21.000ms /bin/sleep [\"sleep\",\"30\"]\n"
		"   └─ +30.000ms pid 104 uid 0 exit 7 after 2.000ms: fork -> exec at +31.000ms /bin/sh [\"sh\",\"-c\",\"exit 7\"]\n");
	free(text);
	jobtree__free(t);
	recs_free(r);
}

static void test_json_document(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER, .value = "c0ffee" };
	struct recs *r = recs_new();
	struct job_ids ids;
	struct jobtree *t;
	json_t *j, *root, *sh, *kids, *c1;

	(void)state;
	container_job(r, &ids, 1);
	j = json_of(run_ok(r, &q, &t));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "query"), "by")), "container");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "workloads"), 0),
							      "containerId")), "c0ffee1234");
	root = json_array_get(json_object_get(j, "processes"), 0);
	assert_int_equal(json_integer_value(json_object_get(root, "pid")), 100);
	sh = json_array_get(json_object_get(root, "children"), 0);
	assert_string_equal(json_string_value(json_object_get(sh, "parentExecId")), ids.init);
	assert_string_equal(json_string_value(json_object_get(sh, "lastExecId")), ids.sh);
	assert_int_equal(json_integer_value(json_object_get(sh, "exitCode")), 4);
	kids = json_object_get(sh, "children");
	assert_int_equal(json_array_size(kids), 3);
	c1 = json_array_get(kids, 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(c1, "images"), 1),
							      "kind")), "exec");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(c1, "flows"), 0),
							    "dstPort")), 443);
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(c1, "flows"), 0), "established")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(kids, 1), "signalName")), "SIGKILL");
	assert_string_equal(json_string_value(json_object_get(json_array_get(kids, 1), "state")), "killed");
	assert_true(json_is_null(json_object_get(json_array_get(kids, 1), "exitCode")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "summary"), "processes")), 5);
	json_decref(j);
	jobtree__free(t);
	recs_free(r);
}

/* runc's start-up in its other shape. runc's parent starts `runc init` and only then
 * moves it into the container's cgroup; on a slow or busy machine the move lands before the
 * init's exec reaches its tracepoint, so the workload begins with that exec (its fork was
 * outside), then the init's fork (stage 1), whose own fork (stage 2) execs the script.
 * The same job as container_job: three runc processes above it, not one. */
static void test_runc_start_exec_shape(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER, .value = "c0ffee1234" };
	struct recs *r = recs_new();
	char *outside = id(r, -5, 100), *init = id(r, 1, 100), *stage1 = id(r, 2, 101);
	char *stage2 = id(r, 2.2, 102), *sh = id(r, 3, 102), *k1f = id(r, 10, 103), *k1 = id(r, 11, 103);
	char *k2f = id(r, 20, 104), *k2 = id(r, 21, 104), *runtime = id(r, -50, 80);
	const struct jt_proc *root, *s1, *script;
	const struct jt_job *job;
	struct jobtree *t;
	char *text;

	(void)state;
	workload_at(r, 0, CG, "c0ffee1234", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED);
	exec_at(r, 1, init, outside, runtime, 100, 80, CG, -5, "runc", a_runc, 2);
	fork_at(r, 2, stage1, init, 101, 100, CG, "runc", a_runc, 2);
	fork_at(r, 2.2, stage2, stage1, 102, 101, CG, "runc", a_runc, 2);
	exit_at(r, 2.5, stage1, 101, 0, 0, 2, CG);
	exit_at(r, 2.6, init, 100, 0, 0, -5, CG);
	exec_at(r, 3, sh, stage2, stage1, 102, 80, CG, 2.2, "/bin/sh", a_sh, 3);
	fork_at(r, 10, k1f, sh, 103, 102, CG, "/bin/sh", a_sh, 3);
	exec_at(r, 11, k1, k1f, sh, 103, 102, CG, 10, "/bin/sleep", a_sleep, 2);
	fork_at(r, 20, k2f, sh, 104, 102, CG, "/bin/sh", a_sh, 3);
	exec_at(r, 21, k2, k2f, sh, 104, 102, CG, 20, "/bin/sh", a_exit7, 3);
	exit_at(r, 22, k2, 104, 7, 0, 20, CG);
	exit_at(r, 23, k1, 103, 0, 9, 10, CG);
	exit_at(r, 40, sh, 102, 4, 0, 2.2, CG);
	workload_at(r, 41, CG, "c0ffee1234", FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED);
	job = run_ok(r, &q, &t);
	/* One root: the init's exec, the first the workload saw of it; the job starts where
	 * its process started (its fork, outside). */
	assert_int_equal(job->start_ns, T0 - 5 * MS);
	assert_int_equal(count_kind(job->top, job->n_top, JT_ITEM_PROC), 1);
	root = child(job->top, job->n_top, 0);
	assert_int_equal(root->pid, 100);
	assert_int_equal(root->n_images, 1);
	assert_int_equal(root->images[0]->kind, JT_IMAGE_EXEC);
	assert_int_equal(root->state, JT_EXITED);
	/* Stage 1, forked by it; stage 2 under that, which execs the script. */
	assert_int_equal(count_kind(root->items, root->n_items, JT_ITEM_PROC), 1);
	s1 = child(root->items, root->n_items, 0);
	assert_int_equal(s1->pid, 101);
	assert_ptr_equal(s1->forked_by, root->images[0]);
	assert_int_equal(s1->n_images, 1);
	assert_int_equal(s1->images[0]->kind, JT_IMAGE_FORK);
	script = child(s1->items, s1->n_items, 0);
	assert_non_null(script);
	assert_int_equal(script->pid, 102);
	assert_int_equal(script->n_images, 2);
	assert_int_equal(script->images[0]->kind, JT_IMAGE_FORK);
	assert_int_equal(script->images[1]->kind, JT_IMAGE_EXEC);
	assert_string_equal(script->images[1]->args[2], "script");
	assert_int_equal(script->exit->code, 4);
	assert_int_equal(count_kind(script->items, script->n_items, JT_ITEM_PROC), 2);
	assert_int_equal(child(script->items, script->n_items, 0)->state, JT_KILLED);
	assert_int_equal(child(script->items, script->n_items, 1)->exit->code, 7);
	assert_int_equal(job->counts.processes, 5);
	assert_int_equal(job->counts.exited, 4);
	assert_int_equal(job->counts.killed, 1);
	text = text_of(job);
	assert_non_null(strstr(text,
		"+0.000ms pid 100 uid 0 exit 0 after 7.600ms: exec at +6.000ms runc [\"runc\",\"init\"]\n"
		"└─ +7.000ms pid 101 uid 0 exit 0 after 0.500ms: fork\n"
		"   └─ +7.200ms pid 102 uid 0 exit 4 after 37.800ms: fork -> exec at +8.000ms /bin/sh "
		"[\"sh\",\"-c\",\"script\"] [real parent pid 80]\n"));
	free(text);
	jobtree__free(t);
	recs_free(r);
}

/* A child outlives its parent: re-parented to 1, it stays under the process that forked it. */
static void test_reparenting(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_WORKLOAD, .value = "cgroup:7" };
	struct recs *r = recs_new();
	char *a = id(r, 1, 10), *bf = id(r, 2, 11), *b = id(r, 5, 11);
	const struct jt_proc *pa, *pb;
	const struct jt_job *job;
	struct jobtree *t;
	char *text;

	(void)state;
	exec_at(r, 1, a, "", "", 10, 1, 7, 1, "/bin/sh", a_sh, 3);
	fork_at(r, 2, bf, a, 11, 10, 7, "/bin/sh", a_sh, 3);
	exit_at(r, 3, a, 10, 0, 0, 1, 7);
	/* The exec after the reparenting: ppid 1, the lineage parent still a. */
	exec_at(r, 5, b, bf, a, 11, 1, 7, 2, "/bin/sleep", a_sleep, 2);
	job = run_ok(r, &q, &t);
	assert_int_equal(count_kind(job->top, job->n_top, JT_ITEM_PROC), 1);
	pa = child(job->top, job->n_top, 0);
	pb = child(pa->items, pa->n_items, 0);
	assert_non_null(pb);
	assert_int_equal(pb->pid, 11);
	assert_int_equal(pb->ppid, 1);
	assert_int_equal(pb->state, JT_RUNNING);
	text = text_of(job);
	assert_non_null(strstr(text, "running at the end of the records: fork -> exec at +4.000ms /bin/sleep "
				     "[\"sleep\",\"30\"] [real parent pid 1]\n"));
	free(text);
	jobtree__free(t);
	recs_free(r);
}

/* Pid 50 twice: two processes, not one; the first, without exit, ended when the pid was
 * reused; --pid --at picks the one alive then. */
static void test_pid_reuse(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_WORKLOAD, .value = "cgroup:7" };
	struct recs *r = recs_new();
	char *sh = id(r, 0, 40), *p1 = id(r, 1, 50), *p2 = id(r, 100, 50), *k = id(r, 101, 51);
	const struct jt_proc *a, *b;
	const struct jt_job *job;
	struct jobtree *t;

	(void)state;
	exec_at(r, 0, sh, "", "", 40, 1, 7, 0, "/bin/sh", a_sh, 3);
	fork_at(r, 1, p1, sh, 50, 40, 7, "/bin/sh", a_sh, 3);
	/* p1's exit was lost; later the kernel gives pid 50 to another process. */
	fork_at(r, 100, p2, sh, 50, 40, 7, "/bin/sh", a_sh, 3);
	fork_at(r, 101, k, p2, 51, 50, 7, "/bin/sh", a_sh, 3);
	exit_at(r, 110, p2, 50, 3, 0, 100, 7);
	job = run_ok(r, &q, &t);
	a = child(child(job->top, job->n_top, 0)->items, child(job->top, job->n_top, 0)->n_items, 0);
	b = child(child(job->top, job->n_top, 0)->items, child(job->top, job->n_top, 0)->n_items, 1);
	assert_int_equal(a->pid, 50);
	assert_int_equal(b->pid, 50);
	assert_ptr_not_equal(a, b);
	assert_int_equal(a->state, JT_EXIT_MISSING);
	assert_int_equal(a->reused_ns, T0 + 100 * MS);
	assert_int_equal(b->state, JT_EXITED);
	assert_int_equal(count_kind(b->items, b->n_items, JT_ITEM_PROC), 1);
	assert_int_equal(count_kind(a->items, a->n_items, JT_ITEM_PROC), 0);
	jobtree__free(t);

	/* At 50 ms the pid is the first process (no exit, not yet reused): no children. */
	q = (struct jobtree_query){ .by = JOBTREE_BY_PID, .pid = 50, .at_ns = T0 + 50 * MS };
	job = run_ok(r, &q, &t);
	assert_int_equal(job->counts.processes, 1);
	assert_string_equal(child(job->top, job->n_top, 0)->images[0]->exec_id, p1);
	jobtree__free(t);
	/* At 105 ms it is the second, with its child. */
	q.at_ns = T0 + 105 * MS;
	job = run_ok(r, &q, &t);
	assert_int_equal(job->counts.processes, 2);
	assert_string_equal(child(job->top, job->n_top, 0)->images[0]->exec_id, p2);
	jobtree__free(t);
	/* Before both, after the second's exit: nothing. */
	q.at_ns = T0 + 120 * MS;
	assert_int_equal(run(r, &q, &t), -ENOENT);
	jobtree__free(t);
	recs_free(r);
}

/* A segment's snapshot restates live processes and workloads: counted once. A process
 * known only from a snapshot (its exec is in a segment not read) is still shown. */
static void test_snapshot_not_double_counted(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER, .value = "c0ffee" };
	struct recs *r = recs_new();
	char *old = id(r, -100, 60);
	const struct jt_job *job;
	struct job_ids ids;
	struct jobtree *t;
	Event *e;

	(void)state;
	container_job(r, &ids, 0);
	/* Rotation at 35 ms: the snapshot restates the workload and the live script. */
	workload_at(r, 35, CG, "c0ffee1234", FIRSTLIGHT__V1__WORKLOAD__STATE__RESOLVED)->key = "cgroup:4242";
	r->ev[r->n - 1].snapshot = 1;
	exec_at(r, 35, ids.sh, "", ids.init, 101, 80, CG, 2, "/bin/sh", a_sh, 3);
	r->ev[r->n - 1].snapshot = 1;
	/* A process whose exec is not in the input at all, restated. */
	exec_at(r, 35, old, "", "", 60, 1, CG, -100, "/bin/daemon", a_sleep, 2);
	e = &r->ev[r->n - 1];
	e->snapshot = 1;
	job = run_ok(r, &q, &t);
	assert_int_equal(job->counts.processes, 6);
	assert_int_equal(job->counts.images, 10);
	for (size_t i = 0; i < job->n_top; i++) {
		const struct jt_proc *p = job->top[i].proc;

		if (job->top[i].kind != JT_ITEM_PROC || p->pid != 60)
			continue;
		assert_int_equal(p->n_images, 1);
		assert_int_equal(p->images[0]->kind, JT_IMAGE_RESTATED);
		assert_int_equal(p->start_ns, T0 - 100 * MS);
	}
	/* The script's images are the fork and the real exec, not the restatement. */
	{
		const struct jt_proc *root = NULL, *sh;

		for (size_t i = 0; i < job->n_top; i++)
			if (job->top[i].kind == JT_ITEM_PROC && job->top[i].proc->pid == 100)
				root = job->top[i].proc;
		assert_non_null(root);
		sh = child(root->items, root->n_items, 0);
		assert_int_equal(sh->n_images, 2);
		assert_false(sh->images[1]->flags & JT_IMG_SNAPSHOT);
	}
	assert_int_equal(job->n_workloads, 1);
	jobtree__free(t);
	recs_free(r);
}

/* The same records read twice (a file given twice): nothing doubles. */
static void test_records_read_twice(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER, .value = "c0ffee" };
	struct recs *r = recs_new();
	const struct jt_job *job;
	struct job_ids ids;
	struct jobtree *t;
	size_t n;

	(void)state;
	container_job(r, &ids, 1);
	gap_at(r, 50, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, CG, 3, 15, 16);
	n = r->n;
	for (size_t i = 0; i < n; i++)
		*rec(r, 0) = r->ev[i]; /* same run, same seq: the same record */
	job = run_ok(r, &q, &t);
	assert_int_equal(job->counts.processes, 5);
	assert_int_equal(job->counts.flows, 1);
	assert_int_equal(job->counts.gaps, 1);
	assert_int_equal(job->counts.dropped_events, 3);
	{
		const struct jt_proc *c1 = NULL;

		for (size_t i = 0; i < job->n_top; i++) {
			const struct jt_proc *sh = child(job->top[i].proc->items, job->top[i].proc->n_items, 0);

			if (job->top[i].kind == JT_ITEM_PROC && sh)
				c1 = child(sh->items, sh->n_items, 0);
		}
		assert_non_null(c1);
		assert_int_equal(c1->items[0].flow->records, 2);
		assert_int_equal(c1->items[0].flow->bytes_received, 1200);
	}
	jobtree__free(t);
	recs_free(r);
}

/* Gaps stand where they happened: before the first process that started after them. */
static void test_gaps_placed_by_time(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER, .value = "c0ffee" };
	struct recs *r = recs_new();
	const struct jt_proc *root, *sh;
	const struct jt_job *job;
	struct job_ids ids;
	struct jobtree *t;
	size_t g_at = SIZE_MAX, c2_at = SIZE_MAX, c1_at = SIZE_MAX;

	(void)state;
	container_job(r, &ids, 1);
	gap_at(r, 45, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, CG, 2, 15, 16);   /* between c1, c2 */
	gap_at(r, 45, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, CG, 1, 40.5, 40.8); /* after all */
	gap_at(r, 45, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, CG, 4, 35, 36);     /* sh still runs */
	gap_at(r, 45, FIRSTLIGHT__V1__GAP__KIND__SENSOR_DOWN, 0, 0, 0.5, 0.7);       /* global, in */
	gap_at(r, 45, FIRSTLIGHT__V1__GAP__KIND__SENSOR_DOWN, 0, 0, 500, 600);       /* global, after */
	gap_at(r, 45, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, 999, 5, 15, 16);  /* another workload */
	job = run_ok(r, &q, &t);
	assert_int_equal(job->n_gaps, 4);
	assert_int_equal(job->counts.dropped_events, 7);
	root = child(job->top, job->n_top, 0);
	sh = child(root->items, root->n_items, 0);
	/* After the children, the script still running: its last item. */
	assert_int_equal(sh->items[sh->n_items - 1].kind, JT_ITEM_GAP);
	assert_int_equal(sh->items[sh->n_items - 1].gap->count, 4);
	for (size_t i = 0; i + 1 < sh->n_items; i++) {
		if (sh->items[i].kind == JT_ITEM_GAP)
			g_at = i;
		else if (sh->items[i].kind == JT_ITEM_PROC && sh->items[i].proc->pid == 102)
			c1_at = i;
		else if (sh->items[i].kind == JT_ITEM_PROC && sh->items[i].proc->pid == 103)
			c2_at = i;
	}
	assert_true(c1_at < g_at && g_at + 1 == c2_at);
	assert_int_equal(sh->items[g_at].gap->count, 2);
	assert_ptr_equal(sh->items[g_at].gap->under, sh);
	/* The global gap before the root, the late one after everything: top level. */
	assert_int_equal(job->top[0].kind, JT_ITEM_GAP);
	assert_int_equal(job->top[0].gap->kind, FIRSTLIGHT__V1__GAP__KIND__SENSOR_DOWN);
	assert_int_equal(job->top[job->n_top - 1].kind, JT_ITEM_GAP);
	assert_int_equal(job->top[job->n_top - 1].gap->count, 1);
	jobtree__free(t);
	recs_free(r);
}

static void test_select_container_prefix(void **state)
{
	struct recs *r = recs_new();
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER };
	struct jobtree *t;

	(void)state;
	workload_at(r, 0, 11, "abc123", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED);
	workload_at(r, 1, 12, "abd456", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED);
	workload_at(r, 2, 13, "abc", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED);
	workload_at(r, 3, 14, "", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED)->claimed_container_id = "feed99";
	q.value = "ab";
	assert_int_equal(run(r, &q, &t), -ENOTUNIQ);
	assert_int_equal(jobtree__candidates(t), 3);
	assert_string_equal(jobtree__candidate(t, 0)->what, "abc123");
	assert_string_equal(jobtree__candidate(t, 1)->key, "cgroup:12");
	jobtree__free(t);
	q.value = "abd";
	assert_int_equal(run(r, &q, &t), 0);
	assert_string_equal(jobtree__job(t)->workloads[0]->key, "cgroup:12");
	jobtree__free(t);
	/* An exact id wins over the longer ids it starts. */
	q.value = "abc";
	assert_int_equal(run(r, &q, &t), 0);
	assert_int_equal(jobtree__job(t)->n_workloads, 1);
	assert_string_equal(jobtree__job(t)->workloads[0]->key, "cgroup:13");
	jobtree__free(t);
	/* An id only claimed (not verified) is found, and says so. */
	q.value = "feed";
	assert_int_equal(run(r, &q, &t), 0);
	assert_string_equal(jobtree__job(t)->workloads[0]->claimed_container_id, "feed99");
	jobtree__free(t);
	q.value = "zzz";
	assert_int_equal(run(r, &q, &t), -ENOENT);
	assert_int_equal(jobtree__workloads_seen(t), 4);
	jobtree__free(t);
	/* Nothing matched: the nearest ids by their first characters, nearest first. */
	q.value = "abe";
	assert_int_equal(run(r, &q, &t), -ENOENT);
	assert_int_equal(jobtree__suggestions(t), 3);
	assert_string_equal(jobtree__suggestion(t, 0)->what, "abc123");
	assert_string_equal(jobtree__suggestion(t, 0)->key, "cgroup:11");
	assert_string_equal(jobtree__suggestion(t, 1)->what, "abd456");
	assert_string_equal(jobtree__suggestion(t, 2)->what, "abc");
	jobtree__free(t);
	/* --workload with a bare cgroup id: its key, and only that. */
	q = (struct jobtree_query){ .by = JOBTREE_BY_WORKLOAD, .value = "12" };
	assert_int_equal(run(r, &q, &t), -ENOENT);
	assert_int_equal(jobtree__suggestions(t), 1);
	assert_string_equal(jobtree__suggestion(t, 0)->key, "cgroup:12");
	jobtree__free(t);
	q.value = "cgroup:15";
	assert_int_equal(run(r, &q, &t), -ENOENT);
	assert_int_equal(jobtree__suggestions(t), 3);
	assert_string_equal(jobtree__suggestion(t, 0)->key, "cgroup:11");
	jobtree__free(t);
	recs_free(r);
}

static void test_select_pod(void **state)
{
	struct recs *r = recs_new();
	struct jobtree_query q = { .by = JOBTREE_BY_POD, .value = "web-0" };
	Firstlight__V1__Workload *w;
	struct jobtree *t;

	(void)state;
	/* web-0 in prod: two containers of one pod; web-0 in dev: another pod. */
	w = workload_at(r, 0, 21, "c-app", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED);
	w->pod_name = "web-0", w->pod_namespace = "prod", w->pod_uid = "uid-p";
	w = workload_at(r, 1, 22, "c-side", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED);
	w->pod_name = "web-0", w->pod_namespace = "prod", w->pod_uid = "uid-p";
	w = workload_at(r, 2, 23, "c-dev", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED);
	w->pod_name = "web-0", w->pod_namespace = "dev", w->pod_uid = "uid-d";
	assert_int_equal(run(r, &q, &t), -ENOTUNIQ);
	assert_int_equal(jobtree__candidates(t), 2);
	assert_string_equal(jobtree__candidate(t, 0)->what, "prod/web-0");
	assert_string_equal(jobtree__candidate(t, 0)->detail, "2 workloads");
	assert_string_equal(jobtree__candidate(t, 1)->key, "uid-d");
	jobtree__free(t);
	q.pod_namespace = "prod";
	assert_int_equal(run(r, &q, &t), 0);
	assert_int_equal(jobtree__job(t)->n_workloads, 2);
	jobtree__free(t);
	q = (struct jobtree_query){ .by = JOBTREE_BY_POD, .value = "uid-d" };
	assert_int_equal(run(r, &q, &t), 0);
	assert_int_equal(jobtree__job(t)->n_workloads, 1);
	assert_string_equal(jobtree__job(t)->workloads[0]->container_id, "c-dev");
	jobtree__free(t);
	q.pod_namespace = "nope";
	assert_int_equal(run(r, &q, &t), -ENOENT);
	jobtree__free(t);
	/* A pod name off by one: the pods nearest to it, as namespace/name. */
	q = (struct jobtree_query){ .by = JOBTREE_BY_POD, .value = "web-1" };
	assert_int_equal(run(r, &q, &t), -ENOENT);
	assert_int_equal(jobtree__suggestions(t), 1); /* one name, however many pods have it */
	assert_string_equal(jobtree__suggestion(t, 0)->what, "prod/web-0");
	jobtree__free(t);
	recs_free(r);
}

/* --exec-id of an image in the middle of a process: from that image on, and only the
 * children forked after it. */
static void test_select_exec_id(void **state)
{
	struct recs *r = recs_new();
	char *sh = id(r, 1, 10), *k1 = id(r, 2, 11), *cu = id(r, 5, 10), *k2 = id(r, 6, 12), *k2e = id(r, 7, 12);
	struct jobtree_query q = { .by = JOBTREE_BY_EXEC_ID, .value = cu };
	const struct jt_proc *root, *kid;
	const struct jt_job *job;
	struct jobtree *t;

	(void)state;
	exec_at(r, 1, sh, "", "", 10, 1, 7, 1, "/bin/sh", a_sh, 3);
	fork_at(r, 2, k1, sh, 11, 10, 7, "/bin/sh", a_sh, 3);
	exec_at(r, 5, cu, sh, "", 10, 1, 7, 1, "/usr/bin/curl", a_curl, 3);
	fork_at(r, 6, k2, cu, 12, 10, 7, "/usr/bin/curl", a_curl, 3);
	exec_at(r, 7, k2e, k2, cu, 12, 10, 7, 6, "/bin/sleep", a_sleep, 2);
	exit_at(r, 8, k2e, 12, 0, 0, 6, 7);
	exit_at(r, 9, cu, 10, 0, 0, 1, 7);
	job = run_ok(r, &q, &t);
	assert_int_equal(job->counts.processes, 2);
	root = child(job->top, job->n_top, 0);
	assert_int_equal(root->n_images, 1);
	assert_string_equal(root->images[0]->exec_id, cu);
	assert_int_equal(root->state, JT_EXITED);
	kid = child(root->items, root->n_items, 0);
	assert_int_equal(kid->pid, 12);
	assert_int_equal(kid->n_images, 2);
	jobtree__free(t);
	q.value = "b00710c5:1:2";
	assert_int_equal(run(r, &q, &t), -ENOENT);
	jobtree__free(t);
	/* A typo in an exec id: the nearest one first. */
	q.value = str(r, "%.*s9", (int)strlen(cu) - 1, cu);
	assert_int_equal(run(r, &q, &t), -ENOENT);
	assert_true(jobtree__suggestions(t) >= 1);
	assert_string_equal(jobtree__suggestion(t, 0)->key, cu);
	jobtree__free(t);
	/* --pid at a time it was not alive: the processes that had it, with their lifetime. */
	q = (struct jobtree_query){ .by = JOBTREE_BY_PID, .pid = 12, .at_ns = T0 + 100 * MS };
	assert_int_equal(run(r, &q, &t), -ENOENT);
	assert_int_equal(jobtree__suggestions(t), 1);
	assert_string_equal(jobtree__suggestion(t, 0)->key, k2);
	assert_int_equal(jobtree__suggestion(t, 0)->first_ns, T0 + 6 * MS);
	assert_int_equal(jobtree__suggestion(t, 0)->last_ns, T0 + 8 * MS);
	jobtree__free(t);
	recs_free(r);
}

/* tree -v: each image with its exec id, what --exec-id takes. */
static void test_text_exec_ids(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER, .value = "c0ffee1234" };
	struct recs *r = recs_new();
	struct json_buf b = {};
	struct job_ids ids;
	struct jobtree *t;
	char want[512];

	(void)state;
	container_job(r, &ids, 1);
	assert_int_equal(treefmt__text_with(&b, run_ok(r, &q, &t), TREEFMT_EXEC_IDS), 0);
	snprintf(want, sizeof(want), ": fork [exec id %s] -> exec at +3.000ms /bin/sh [\"sh\",\"-c\",\"script\"] "
		 "[exec id %s] [real parent pid 80]\n", ids.init2, ids.sh);
	assert_non_null(strstr(b.data, want));
	snprintf(want, sizeof(want), "fork of runc [\"runc\",\"init\"] [exec id %s] [forked by", ids.init);
	assert_non_null(strstr(b.data, want));
	json_buf__free(&b);
	/* Without the flag, none. */
	assert_int_equal(treefmt__text(&b, jobtree__job(t)), 0);
	assert_null(strstr(b.data, "[exec id"));
	json_buf__free(&b);
	jobtree__free(t);
	recs_free(r);
}

/* Holes in the record: an exec that was dropped (its exit names an image never recorded:
 * same pid, boot and start, so the same process), and an exit with no start at all. */
static void test_missing_starts(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_WORKLOAD, .value = "cgroup:7" };
	struct recs *r = recs_new();
	char *sh = id(r, 1, 10), *kf = id(r, 2, 11), *ke = id(r, 3, 11), *gk = id(r, 4, 12), *lost = id(r, 5, 13);
	const struct jt_proc *psh, *pk, *pg, *pl = NULL;
	const struct jt_job *job;
	struct jobtree *t;
	char *text;

	(void)state;
	exec_at(r, 1, sh, "", "", 10, 1, 7, 1, "/bin/sh", a_sh, 3);
	fork_at(r, 2, kf, sh, 11, 10, 7, "/bin/sh", a_sh, 3);
	/* (the exec ke of pid 11 at 3 ms was dropped) */
	fork_at(r, 4, gk, ke, 12, 11, 7, "/bin/sh", a_sh, 3);
	exit_at(r, 6, ke, 11, 1, 0, 2, 7);
	exit_at(r, 7, lost, 13, 2, 0, 5, 7)->start_seen = 0;
	exit_at(r, 8, sh, 10, 0, 0, 1, 7);
	job = run_ok(r, &q, &t);
	psh = child(job->top, job->n_top, 0);
	assert_int_equal(psh->pid, 10);
	pk = child(psh->items, psh->n_items, 0);
	assert_int_equal(pk->n_images, 2);
	assert_int_equal(pk->images[1]->kind, JT_IMAGE_UNRECORDED);
	assert_true(pk->flags & JT_PROC_UNRECORDED_EXEC);
	assert_int_equal(pk->exit->code, 1);
	pg = child(pk->items, pk->n_items, 0);
	assert_non_null(pg);
	assert_int_equal(pg->pid, 12);
	assert_ptr_equal(pg->forked_by, pk->images[1]);
	for (size_t i = 0; i < job->n_top; i++)
		if (job->top[i].kind == JT_ITEM_PROC && job->top[i].proc->pid == 13)
			pl = job->top[i].proc;
	assert_non_null(pl);
	assert_true(pl->flags & JT_PROC_MISSING_START);
	assert_int_equal(pl->start_ns, T0 + 5 * MS);
	assert_int_equal(job->counts.missing_start, 1);
	text = text_of(job);
	assert_non_null(strstr(text, "fork -> exec not recorded (b00710c5:"));
	assert_non_null(strstr(text, "pid 13 uid ? exit 2 after 2.000ms: start not recorded (b00710c5:"));
	assert_non_null(strstr(text, "[start not recorded]"));
	free(text);
	jobtree__free(t);
	recs_free(r);
}

/* The workload ended, a process of it has no exit: said so, not "running". */
static void test_exit_missing_when_job_ended(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER, .value = "c0ffee" };
	struct recs *r = recs_new();
	const struct jt_job *job;
	struct job_ids ids;
	struct jobtree *t;
	char *text;

	(void)state;
	container_job(r, &ids, 1);
	/* Drop c3's exit. */
	for (size_t i = 0; i < r->n; i++)
		if (r->ev[i].body_case == FIRSTLIGHT__V1__EVENT__BODY_EXIT && r->ev[i].exit->pid == 104)
			r->ev[i].exit->exec_id = "";
	job = run_ok(r, &q, &t);
	assert_int_equal(job->counts.exit_missing, 1);
	assert_int_equal(job->counts.running, 0);
	text = text_of(job);
	assert_non_null(strstr(text, "pid 104 uid 0 no exit recorded (the workload ended): fork -> exec"));
	free(text);
	jobtree__free(t);
	recs_free(r);

	/* No ENDED record, but the removal of its cgroup was dropped: it ended all the same. */
	r = recs_new();
	container_job(r, &ids, 0);
	for (size_t i = 0; i < r->n; i++)
		if (r->ev[i].body_case == FIRSTLIGHT__V1__EVENT__BODY_EXIT && r->ev[i].exit->pid == 101)
			r->ev[i].exit->exec_id = "";
	job = run_ok(r, &q, &t);
	assert_int_equal(job->counts.running, 1);
	assert_int_equal(job->end_ns, 0);
	jobtree__free(t);
	gap_at(r, 60, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, CG, 1, 41, 42)->event_type = "cgroup_rmdir";
	job = run_ok(r, &q, &t);
	assert_int_equal(job->counts.running, 0);
	assert_int_equal(job->counts.exit_missing, 1);
	assert_true(job->workloads[0]->end_lost);
	assert_int_equal(job->end_ns, T0 + 42 * MS);
	text = text_of(job);
	assert_non_null(strstr(text, ", ended (its end record was dropped)\n"));
	assert_non_null(strstr(text, "1 cgroup_rmdir event dropped in this workload between"));
	free(text);
	jobtree__free(t);
	recs_free(r);
}

static void test_flows(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_WORKLOAD, .value = "cgroup:7" };
	struct recs *r = recs_new();
	char *a = id(r, 1, 10), *ghost = id(r, 0.5, 30);
	Firstlight__V1__Flow *f;
	const struct jt_proc *pa, *pg = NULL;
	const struct jt_job *job;
	struct jobtree *t;
	char *text;
	size_t udp = 0, tcp = 0;

	(void)state;
	exec_at(r, 1, a, "", "", 10, 1, 7, 1, "/usr/bin/app", a_curl, 3);
	/* A CLOSE read before its CONNECT (files in any order) still joins it. */
	f = flow_at(r, 9, FIRSTLIGHT__V1__FLOW__KIND__CLOSE, a, 10, 7, 55, 2);
	f->bytes_sent = 5;
	flow_at(r, 3, FIRSTLIGHT__V1__FLOW__KIND__CONNECT, a, 10, 7, 55, 2)->duration_nano = MS;
	/* A refused connect. */
	f = flow_at(r, 4, FIRSTLIGHT__V1__FLOW__KIND__CONNECT, a, 10, 7, 56, 3.5);
	f->result = -111;
	f->error = "ECONNREFUSED";
	/* Two UDP windows to one peer: one line, summed. */
	for (int i = 0; i < 2; i++) {
		f = flow_at(r, 5 + i, FIRSTLIGHT__V1__FLOW__KIND__UDP, a, 10, 7, 0, 4.5 + i);
		f->protocol = 17;
		f->src_addr = "";
		f->dst_addr = "10.0.0.53";
		f->dst_port = 53;
		f->datagrams = 2;
		f->bytes_sent = 64;
		f->duration_nano = MS / 2;
	}
	/* A flow of a process whose start is not in the records at all. */
	flow_at(r, 8, FIRSTLIGHT__V1__FLOW__KIND__CONNECT, ghost, 30, 7, 57, 7.5)->start_seen = 0;
	/* A socket older than the sensor: no owner. */
	f = flow_at(r, 8.5, FIRSTLIGHT__V1__FLOW__KIND__CLOSE, "", 0, 7, 58, 0);
	f->owner_unknown = 1;
	f->start_boot_nano = 0;
	job = run_ok(r, &q, &t);
	for (size_t i = 0; i < job->n_top; i++)
		if (job->top[i].kind == JT_ITEM_PROC && job->top[i].proc->pid == 30)
			pg = job->top[i].proc;
	assert_non_null(pg);
	assert_true(pg->flags & JT_PROC_MISSING_START);
	assert_int_equal(count_kind(job->top, job->n_top, JT_ITEM_FLOW), 1);
	pa = child(job->top, job->n_top, 0);
	for (size_t i = 0; i < pa->n_items; i++) {
		const struct jt_flow *fl = pa->items[i].flow;

		if (pa->items[i].kind != JT_ITEM_FLOW)
			continue;
		if (fl->kind == FIRSTLIGHT__V1__FLOW__KIND__UDP) {
			udp++;
			assert_int_equal(fl->datagrams, 4);
			assert_int_equal(fl->bytes_sent, 128);
			assert_int_equal(fl->end_ns, T0 + 6 * MS);
		} else {
			tcp++;
		}
	}
	assert_int_equal(udp, 1);
	assert_int_equal(tcp, 2);
	text = text_of(job);
	assert_non_null(strstr(text, "tcp connect 10.0.0.2:40000 -> 10.0.0.9:443: established in 1.000ms, "
				     "closed at +8.000ms after 7.000ms, sent 5 B, received 0 B\n"));
	assert_non_null(strstr(text, "tcp connect 10.0.0.2:40000 -> 10.0.0.9:443: failed ECONNREFUSED (-111) after "));
	assert_non_null(strstr(text, "udp -> 10.0.0.53:53: 4 datagrams, 128 B sent over 1.500ms\n"));
	assert_non_null(strstr(text, "+? tcp close 10.0.0.2:40000 -> 10.0.0.9:443: opened before the records, "));
	free(text);
	jobtree__free(t);
	recs_free(r);
}

/* argv chosen by an attacker cannot move the cursor, fake a line or break the JSON. */
static void test_hostile_argv(void **state)
{
	static char *evil[] = { "sh", "-c", "echo \"hi\"\n\x1b[2J\r\xe2\x80\xae" "evil\\", "\x9b" "31m" };
	struct jobtree_query q = { .by = JOBTREE_BY_WORKLOAD, .value = "cgroup:7" };
	struct recs *r = recs_new();
	Firstlight__V1__Process *p;
	const struct jt_job *job;
	struct jobtree *t;
	char *text;
	json_t *j;

	(void)state;
	p = exec_at(r, 1, id(r, 1, 10), "", "", 10, 1, 7, 1, "/bin/\x1b]0;x\x07sh", evil, 4);
	(void)p;
	/* An escaped argv (the agent's \xHH convention) is shown as its bytes, escaped once. */
	{
		static char *esc[] = { "cat", "\\xff\\\\n" };

		p = exec_at(r, 2, id(r, 2, 11), "", "", 11, 1, 7, 2, "/bin/cat", esc, 2);
		p->flags->args_escaped = 1;
	}
	job = run_ok(r, &q, &t);
	text = text_of(job);
	for (const char *c = text; *c; c++)
		assert_true((unsigned char)*c >= 0x20 || *c == '\n');
	assert_null(strstr(text, "\xe2\x80\xae"));
	assert_non_null(strstr(text, "/bin/\\x1b]0;x\\x07sh [\"sh\""));
	assert_non_null(strstr(text, "[\"sh\",\"-c\",\"echo \\\"hi\\\"\\n\\x1b[2J\\r\\u202eevil\\\\\",\"\\x9b31m\"]"));
	assert_non_null(strstr(text, "/bin/cat [\"cat\",\"\\xff\\\\n\"]"));
	/* One line per process: the newline in argv did not start a new one. */
	{
		size_t lines = 0;

		for (const char *c = strstr(text, "\n\n+") + 2; *c; c++)
			lines += *c == '\n';
		assert_int_equal(lines, 2);
	}
	j = json_of(job);
	json_decref(j);
	free(text);
	jobtree__free(t);
	recs_free(r);
}

/* Records that make a lineage loop (only forged or corrupt ones can) end, cut. */
static void test_lineage_loop(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_WORKLOAD, .value = "cgroup:7" };
	struct recs *r = recs_new();
	char *a = id(r, 1, 10), *b = id(r, 2, 11), *c = id(r, 3, 12), *d = id(r, 4, 12);
	const struct jt_job *job;
	struct jobtree *t;
	size_t loops = 0;
	char *text;

	(void)state;
	fork_at(r, 1, a, b, 10, 1, 7, "x", a_sleep, 2);
	fork_at(r, 2, b, a, 11, 1, 7, "x", a_sleep, 2);
	/* Two images that replace each other. */
	exec_at(r, 3, c, d, "", 12, 1, 7, 3, "y", a_sleep, 2);
	exec_at(r, 4, d, c, "", 12, 1, 7, 3, "z", a_sleep, 2);
	job = run_ok(r, &q, &t);
	assert_int_equal(job->counts.processes, 3);
	for (size_t i = 0; i < job->n_top; i++)
		if (job->top[i].kind == JT_ITEM_PROC)
			loops += !!(job->top[i].proc->flags & JT_PROC_LINEAGE_LOOP);
	assert_int_equal(loops, 1);
	text = text_of(job);
	assert_non_null(strstr(text, "[lineage loop in the records: cut here]"));
	free(text);
	json_decref(json_of(job));
	jobtree__free(t);

	/* The same loop through --exec-id: the closure ends too. */
	q = (struct jobtree_query){ .by = JOBTREE_BY_EXEC_ID, .value = a };
	job = run_ok(r, &q, &t);
	assert_true(job->counts.processes >= 1);
	jobtree__free(t);
	recs_free(r);
}

/* The agent restarted while a process ran: the new run's seed of it (pre-existing, new
 * exec id) continues the same process, and children of either image hang under it. */
static void test_seed_continues_process(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_WORKLOAD, .value = "cgroup:7" };
	struct recs *r = recs_new();
	char *f = id(r, 1, 10), *e = id(r, 2, 10), *k1 = id(r, 3, 11), *k2 = id(r, 60, 12), *seed;
	Firstlight__V1__Process *p;
	const struct jt_proc *pr;
	const struct jt_job *job;
	struct jobtree *t;

	(void)state;
	fork_at(r, 1, f, "", 10, 1, 7, "/bin/sh", a_sh, 3);
	exec_at(r, 2, e, f, "", 10, 1, 7, 1, "/usr/sbin/daemon", a_sleep, 2);
	fork_at(r, 3, k1, e, 11, 10, 7, "/usr/sbin/daemon", a_sleep, 2);
	r->run = "run-2";
	/* A seed's id is made from the process start, an exec image's from the exec: the
	 * same process under another id, same pid, boot and start. */
	seed = str(r, "b00710c5:%llu:%u", (unsigned long long)(B0 + 1 * MS + 1), 10u);
	p = exec_at(r, 50, seed, "", "", 10, 1, 7, 1, "/usr/sbin/daemon", a_sleep, 2);
	p->flags->pre_existing = 1;
	p->flags->from_procfs = 1;
	fork_at(r, 60, k2, seed, 12, 10, 7, "/usr/sbin/daemon", a_sleep, 2);
	job = run_ok(r, &q, &t);
	assert_int_equal(count_kind(job->top, job->n_top, JT_ITEM_PROC), 1);
	pr = child(job->top, job->n_top, 0);
	assert_int_equal(pr->n_images, 3);
	assert_int_equal(pr->images[2]->kind, JT_IMAGE_SEEN);
	assert_int_equal(count_kind(pr->items, pr->n_items, JT_ITEM_PROC), 2);
	assert_true(pr->flags & JT_PROC_PRE_EXISTING);
	jobtree__free(t);
	recs_free(r);
}

/* A lineage across workloads (the runtime on the host, its child in a container): each
 * process says where it is when that changes. */
static void test_lineage_across_workloads(void **state)
{
	struct recs *r = recs_new();
	char *rt = id(r, 1, 10), *in = id(r, 2, 11);
	struct jobtree_query q = { .by = JOBTREE_BY_EXEC_ID, .value = rt };
	const struct jt_job *job;
	struct jobtree *t;
	char *text;

	(void)state;
	exec_at(r, 1, rt, "", "", 10, 1, 1, 1, "/usr/sbin/runc", a_runc, 2);
	fork_at(r, 2, in, rt, 11, 10, CG, "/usr/sbin/runc", a_runc, 2);
	job = run_ok(r, &q, &t);
	assert_int_equal(job->n_workloads, 2);
	text = text_of(job);
	assert_non_null(strstr(text, "[\"runc\",\"init\"] [in cgroup:1]\n"));
	assert_non_null(strstr(text, "└─ +1.000ms pid 11 uid 0 running at the end of the records: fork [in cgroup:4242]\n"));
	free(text);
	jobtree__free(t);
	recs_free(r);
}

/* ---- the HTML page (jobhtml.c) ----------------------------------------------------- */

/* Both passes with the records kept, then the page. */
static char *page_of(struct recs *r, const struct jobtree_query *q, struct jobtree **out)
{
	struct jobtree *t = jobtree__new(q);
	struct json_buf b = {};

	assert_non_null(t);
	for (size_t i = 0; i < r->n; i++)
		assert_int_equal(jobtree__scan(t, &r->ev[i]), 0);
	assert_int_equal(jobtree__resolve(t), 0);
	assert_int_equal(jobtree__keep_records(t), 0);
	for (size_t i = 0; i < r->n; i++)
		assert_int_equal(jobtree__add(t, &r->ev[i]), 0);
	assert_int_equal(jobtree__keep_records(t), -EINVAL); /* too late: pass 2 began */
	assert_int_equal(jobtree__build(t), 0);
	assert_int_equal(jobhtml__page(&b, jobtree__job(t)), 0);
	*out = t;
	return b.data;
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Every link leads to a record section, and every section is linked once. */
static void expect_links_resolve(const char *page)
{
	size_t links = 0;

	for (const char *p = page; (p = strstr(p, "href=\"#r")); p++) {
		char id[32];
		unsigned long n = strtoul(p + 8, NULL, 10);

		snprintf(id, sizeof(id), "id=\"r%lu\"", n);
		assert_int_equal(count_str(page, id), 1);
		links++;
	}
	assert_true(links > 0);
	assert_int_equal(count_str(page, "<section class=\"rec\""), links);
	/* Every record inside its section: hidden until its mark is clicked. */
	for (const char *p = strstr(page, "</section>"); p; p = strstr(p + 1, "</section>")) {
		const char *next = strstr(p, "<section"), *table = strstr(p, "<table");

		assert_true(!table || (next && table > next));
	}
}

static void test_html_page(void **state)
{
	static char *evil[] = { "sh", "-c", "</script><script>alert(1)</script>", "x\xe2\x80\xaey\n\"'&" };
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER, .value = "c0ffee" };
	struct recs *r = recs_new();
	const struct jt_job *job;
	struct job_ids ids;
	struct jobtree *t;
	char *page, want[128];

	(void)state;
	container_job(r, &ids, 1);
	/* A fourth child with hostile argv, and two gaps: one of the workload, one global. */
	fork_at(r, 33, id(r, 33, 105), ids.sh, 105, 101, CG, "/bin/sh", a_sh, 3);
	exec_at(r, 34, id(r, 34.5, 105), id(r, 33, 105), ids.sh, 105, 101, CG, 33, "/bin/sh", evil, 4);
	gap_at(r, 45, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, CG, 3, 15, 16);
	gap_at(r, 45, FIRSTLIGHT__V1__GAP__KIND__SENSOR_DOWN, 0, 0, 0.5, 0.7);
	page = page_of(r, &q, &t);
	job = jobtree__job(t);
	/* One lane per process, in the tree's order: runc's init first, the script's
	 * children after it. */
	assert_int_equal(count_str(page, "<g class=\"lane\""), job->counts.processes);
	assert_int_equal(job->counts.processes, 6);
	assert_true(strstr(page, "data-pid=\"100\"") < strstr(page, "data-pid=\"101\""));
	assert_true(strstr(page, "data-pid=\"101\"") < strstr(page, "data-pid=\"105\""));
	/* A band per gap: the workload's across its lanes (all of them here), the global
	 * one across every lane. */
	assert_int_equal(count_str(page, "<rect class=\"band\" data-gap=\"1\""), 1);
	assert_int_equal(count_str(page, "<rect class=\"band\" data-gap=\"2\""), 1);
	snprintf(want, sizeof(want), "height=\"%.1f\"", 6 * 20.0);
	assert_non_null(strstr(strstr(page, "data-gap=\"1\""), want));
	/* Ends: exits, the killed sleep, the exit 7. */
	assert_non_null(strstr(page, ">SIGKILL</text>"));
	assert_non_null(strstr(page, ">exit 7</text>"));
	assert_non_null(strstr(page, ">exit 4</text>"));
	assert_int_equal(count_str(page, "class=\"flow\""), 1);
	/* No markup, script or bidi control from the records: shown as text. */
	assert_int_equal(count_str(page, "<script"), 0);
	assert_int_equal(count_str(page, "<SCRIPT"), 0);
	assert_null(strstr(page, "\xe2\x80\xae"));
	assert_non_null(strstr(page, "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(page, "x\\u202ey\\n\\&quot;&#39;&amp;"));
	assert_non_null(strstr(page, "Content-Security-Policy\" content=\"default-src 'none';"));
	/* Records in full behind the marks. */
	expect_links_resolve(page);
	assert_non_null(strstr(page, "<tr><th>exec.process.binary</th><td>/usr/bin/curl</td></tr>"));
	assert_non_null(strstr(page, "<tr><th>exec.process.args[2]</th><td>&lt;/script&gt;"));
	assert_non_null(strstr(page, "<tr><th>exit.exitCode</th><td>7</td></tr>"));
	assert_non_null(strstr(page, "<tr><th>gap.kind</th><td>SENSOR_DOWN</td></tr>"));
	/* The text tree beside it. */
	assert_non_null(strstr(page, "<pre class=\"tree\">workload   cgroup:4242 (container)"));
	free(page);
	jobtree__free(t);
	recs_free(r);
}

/* The axis reads at the job's scale, from microseconds to hours. */
static void test_html_axis(void **state)
{
	static const struct { double end_ms; const char *tick; } cases[] = {
		{ 1, ">+500us</text>" },          /* 1 ms: steps of 100 us */
		{ 35, ">+10ms</text>" },          /* 35 ms: 5 ms */
		{ 2500, ">+1.5s</text>" },        /* 2.5 s: 500 ms */
		{ 150000, ">+2m</text>" },        /* 2.5 min: 30 s */
		{ 7200000, ">+1h15m</text>" },    /* 2 h: 15 min */
		{ 3 * 86400000.0, ">+1d12h</text>" },
	};
	struct jobtree_query q = { .by = JOBTREE_BY_WORKLOAD, .value = "cgroup:7" };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct recs *r = recs_new();
		struct jobtree *t;
		char *page, *e = id(r, 0, 10);

		exec_at(r, 0, e, "", "", 10, 1, 7, 0, "/bin/true", a_exit7, 3);
		exit_at(r, cases[i].end_ms, e, 10, 0, 0, 0, 7);
		page = page_of(r, &q, &t);
		if (!strstr(page, cases[i].tick))
			fail_msg("%g ms: no tick %s in %s", cases[i].end_ms, cases[i].tick, strstr(page, "<g class=\"axis\">"));
		free(page);
		jobtree__free(t);
		recs_free(r);
	}
}

static void test_bad_calls(void **state)
{
	struct jobtree_query q = { .by = JOBTREE_BY_CONTAINER, .value = "" };
	struct jobtree *t;

	(void)state;
	errno = 0;
	assert_null(jobtree__new(&q));
	assert_int_equal(errno, EINVAL);
	jobtree__free(NULL);
	q.value = "x";
	t = jobtree__new(&q);
	assert_int_equal(jobtree__add(t, NULL), -EINVAL);
	assert_int_equal(jobtree__build(t), -EINVAL);
	assert_null(jobtree__job(t));
	assert_int_equal(jobtree__resolve(t), -ENOENT);
	assert_int_equal(jobtree__scan(t, NULL), -EINVAL);
	jobtree__free(t);
}

static void test_formats(void **state)
{
	char b[48];

	(void)state;
	treefmt__duration(b, sizeof(b), 51234);
	assert_string_equal(b, "0.051ms");
	treefmt__duration(b, sizeof(b), 999999999);
	assert_string_equal(b, "999.999ms");
	treefmt__duration(b, sizeof(b), 12000000000ull);
	assert_string_equal(b, "12.000s");
	treefmt__duration(b, sizeof(b), 185120000000ull);
	assert_string_equal(b, "3m05.120s");
	treefmt__duration(b, sizeof(b), 3723456000000ull);
	assert_string_equal(b, "1h02m03.456s");
	treefmt__offset(b, sizeof(b), 12345678);
	assert_string_equal(b, "+12.345ms");
	treefmt__offset(b, sizeof(b), -1500000000);
	assert_string_equal(b, "-1.500s");
	treefmt__offset(b, sizeof(b), INT64_MIN);
	assert_int_equal(b[0], '-');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lineage_and_exec_chains),
		cmocka_unit_test(test_text_golden),
		cmocka_unit_test(test_text_exec_ids),
		cmocka_unit_test(test_json_document),
		cmocka_unit_test(test_runc_start_exec_shape),
		cmocka_unit_test(test_reparenting),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_snapshot_not_double_counted),
		cmocka_unit_test(test_records_read_twice),
		cmocka_unit_test(test_gaps_placed_by_time),
		cmocka_unit_test(test_select_container_prefix),
		cmocka_unit_test(test_select_pod),
		cmocka_unit_test(test_select_exec_id),
		cmocka_unit_test(test_missing_starts),
		cmocka_unit_test(test_exit_missing_when_job_ended),
		cmocka_unit_test(test_flows),
		cmocka_unit_test(test_hostile_argv),
		cmocka_unit_test(test_lineage_loop),
		cmocka_unit_test(test_seed_continues_process),
		cmocka_unit_test(test_lineage_across_workloads),
		cmocka_unit_test(test_html_page),
		cmocka_unit_test(test_html_axis),
		cmocka_unit_test(test_bad_calls),
		cmocka_unit_test(test_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
