/*
 * Unit tests for user/readers/report.c and its renderers (reportfmt.c, reporthtml.c):
 * stores written by the real segment sink (hash chain, signatures, headers, a second run
 * resumed where the first ended, as the agent does) holding records built here with the
 * times and sequence numbers each case needs; then the report over a window, and its JSON
 * verdict asserted exactly: a complete window, one window per gap kind, sensor down, not
 * shipped, a damaged input, two nodes, and hostile strings in the page.
 * Times: T0 + s seconds; every store's runs are around T0 + 100..200.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "readers/inputs.h"
#include "readers/report.h"
#include "readers/reportfmt.h"
#include "readers/reporthtml.h"
#include "records/sink.h"
#include "store/chain_state.h"
#include "store/keys.h"
#include "store/sink_segment.h"
#include "store/store_dir.h"

#define SEC 1000000000ull
#define T0 (1700000000ull * SEC) /* 2023-11-14T22:13:20Z */
#define AT(s) (T0 + (uint64_t)((s) * 1000.0) * 1000000ull)

typedef Firstlight__V1__Event Event;

/* ---- stores ------------------------------------------------------------------------------ */

struct store {
	char root[256], dir[300];
	struct node_key *key;
	uint8_t pub[KEYS_PUB_LEN];
	struct sink *s;
	const char *run, *node;
	uint64_t seq;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static struct store *store_new(const char *node)
{
	struct store *st = calloc(1, sizeof(*st));
	const char *tmp = getenv("TMPDIR");
	int err;

	assert_non_null(st);
	snprintf(st->root, sizeof(st->root), "%s/fl-test-report-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(st->root));
	snprintf(st->dir, sizeof(st->dir), "%s/data", st->root);
	st->key = keys__generate(&err);
	assert_non_null(st->key);
	memcpy(st->pub, keys__public(st->key), KEYS_PUB_LEN);
	st->node = node;
	return st;
}

static void store_free(struct store *st)
{
	sink__free(st->s);
	keys__free(st->key);
	nftw(st->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(st);
}

/* A run of the agent: its segments continue the chain where the store's ends. */
static void run_begin(struct store *st, const char *run)
{
	struct chain_pos pos = {};
	uint64_t next = 0;
	int dirfd = store_dir__open(st->dir), err = 1;
	struct segment_opts o = { .dir = st->dir, .run_id = run, .node = st->node, .boot_id = "boot-1",
				  .key = st->key, .resume = &pos };

	if (dirfd >= 0) {
		assert_int_equal(chain_state__find_end(dirfd, &pos, &next), 0);
		close(dirfd);
	}
	st->s = sink_segment__new(&o, &err);
	assert_non_null(st->s);
	assert_int_equal(err, 0);
	st->run = run;
	st->seq = 0;
}

static void run_end(struct store *st)
{
	sink__free(st->s);
	st->s = NULL;
}

/* One record at time t: the next seq of the run (or skip seqs first). */
static void put(struct store *st, Event *ev, double t)
{
	uint8_t buf[4096];
	size_t len;

	ev->seq = ++st->seq;
	ev->time_unix_nano = AT(t);
	ev->node = (char *)st->node;
	ev->agent_run_id = (char *)st->run;
	len = firstlight__v1__event__get_packed_size(ev);
	assert_true(len <= sizeof(buf));
	firstlight__v1__event__pack(ev, buf);
	assert_int_equal(st->s->write(st->s, ev, buf, len), 0);
	/* A batch per record: each sealed and signed as the agent's flush tick does. */
	assert_int_equal(st->s->flush(st->s), 0);
}

static void agent(struct store *st, double t, int state)
{
	Firstlight__V1__AgentLifecycle a = FIRSTLIGHT__V1__AGENT_LIFECYCLE__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	a.state = state;
	a.pid = 4242;
	a.boot_id = "boot-1";
	ev.boot_nano = 7 * SEC;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_AGENT;
	ev.agent = &a;
	put(st, &ev, t);
}

#define STARTED FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STARTED
#define STOPPED FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED

static void beat(struct store *st, double t)
{
	Firstlight__V1__Heartbeat hb = FIRSTLIGHT__V1__HEARTBEAT__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	hb.interval_nano = 10 * SEC;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT;
	ev.heartbeat = &hb;
	put(st, &ev, t);
}

/* Heartbeats every 10 s from t0 to t1. */
static void beats(struct store *st, double t0, double t1)
{
	for (double t = t0; t <= t1; t += 10)
		beat(st, t);
}

static void plain(struct store *st, double t)
{
	Firstlight__V1__ProcessExit x = FIRSTLIGHT__V1__PROCESS_EXIT__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	x.exec_id = "b:1:77";
	x.pid = 77;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXIT;
	ev.exit = &x;
	put(st, &ev, t);
}

static void workload(struct store *st, double t, uint64_t cg, const char *cid, int state, double born)
{
	Firstlight__V1__Workload w = FIRSTLIGHT__V1__WORKLOAD__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char key[32];

	snprintf(key, sizeof(key), "cgroup:%llu", (unsigned long long)cg);
	w.key = key;
	w.cgroup_id = cg;
	w.container_id = (char *)cid;
	w.runtime = "runc";
	w.kind = FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER;
	w.state = state;
	w.identity_verified = 1;
	w.first_seen_unix_nano = AT(born);
	w.last_seen_unix_nano = AT(t);
	if (state == FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED) {
		w.process_count = 3;
		w.first_event_latency_nano = 2000000;
		w.drops = 5;
	}
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD;
	ev.workload = &w;
	put(st, &ev, t);
}

static void gap(struct store *st, double t, int kind, uint64_t cg, uint64_t count, double from, double to)
{
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char key[32];

	snprintf(key, sizeof(key), "cgroup:%llu", (unsigned long long)cg);
	g.kind = kind;
	g.cgroup_id = cg;
	g.workload_key = cg ? key : "";
	g.count = count;
	g.event_type = kind == FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP ? "exec" : "";
	g.start_time_unix_nano = from ? AT(from) : 0;
	g.end_time_unix_nano = to ? AT(to) : 0;
	g.detail = "made by the test";
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	ev.gap = &g;
	put(st, &ev, t);
}

/* A Workload record with what the coverage cases need. */
struct wl {
	uint64_t cg;
	int state;
	double born;
	uint64_t parent;          /* 0: the sensor did not see its cgroup's mkdir */
	uint64_t latency_ns, drops;
	const char *const *unobserved;
	size_t n_unobserved;
};

static void workload_as(struct store *st, double t, const struct wl *o)
{
	Firstlight__V1__Workload w = FIRSTLIGHT__V1__WORKLOAD__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char key[32], cid[32];

	snprintf(key, sizeof(key), "cgroup:%llu", (unsigned long long)o->cg);
	snprintf(cid, sizeof(cid), "c%llu", (unsigned long long)o->cg);
	w.key = key;
	w.cgroup_id = o->cg;
	w.parent_cgroup_id = o->parent;
	w.container_id = cid;
	w.runtime = "runc";
	w.kind = FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER;
	w.state = o->state;
	w.identity_verified = 1;
	w.first_seen_unix_nano = AT(o->born);
	w.last_seen_unix_nano = AT(t);
	w.first_event_latency_nano = o->latency_ns;
	w.drops = o->drops;
	w.unobserved = (char **)o->unobserved;
	w.n_unobserved = o->n_unobserved;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD;
	ev.workload = &w;
	put(st, &ev, t);
}

/* An exec in cgroup cg. */
static void exec_in(struct store *st, double t, uint64_t cg)
{
	Firstlight__V1__ProcessExec x = FIRSTLIGHT__V1__PROCESS_EXEC__INIT;
	Firstlight__V1__Process p = FIRSTLIGHT__V1__PROCESS__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char key[32];

	snprintf(key, sizeof(key), "cgroup:%llu", (unsigned long long)cg);
	p.exec_id = "b:1:99";
	p.pid = 99;
	p.binary = "/bin/true";
	p.cgroup_id = cg;
	p.workload_key = key;
	x.process = &p;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
	ev.exec = &x;
	put(st, &ev, t);
}

/* What kcaps.c writes for these capabilities. */
static const Firstlight__V1__NodeCapabilities__Missing miss_accept_owner = {
	.base = PROTOBUF_C_MESSAGE_INIT(&firstlight__v1__node_capabilities__missing__descriptor),
	.name = "tcp-accept-owner",
	.reason = "needs socket storage in tracing programs (5.11+), which accepted sockets inherit",
	.unobserved = "the process behind an accepted TCP connection",
};
static const Firstlight__V1__NodeCapabilities__Missing miss_udp_datagrams = {
	.base = PROTOBUF_C_MESSAGE_INIT(&firstlight__v1__node_capabilities__missing__descriptor),
	.name = "udp-datagrams",
	.reason = "needs the sock_send_length tracepoint (6.4+)",
	.unobserved = "UDP datagrams and bytes per peer",
};
static const Firstlight__V1__NodeCapabilities__Missing miss_unix_connects = {
	.base = PROTOBUF_C_MESSAGE_INIT(&firstlight__v1__node_capabilities__missing__descriptor),
	.name = "unix-connects",
	.reason = "needs cgroup/connect_unix (6.7+)",
	.unobserved = "unix socket connects",
};

/* A NodeCapabilities record: the kernel release and what it lacks (n of them). */
static void capabilities(struct store *st, double t, const char *release,
			 const Firstlight__V1__NodeCapabilities__Missing *const *missing, size_t n)
{
	Firstlight__V1__NodeCapabilities c = FIRSTLIGHT__V1__NODE_CAPABILITIES__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char *names[8];

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		names[i] = missing[i]->name;
	c.kernel_release = (char *)release;
	c.machine = "x86_64";
	c.missing = names;
	c.n_missing = n;
	c.missing_detail = (Firstlight__V1__NodeCapabilities__Missing **)missing;
	c.n_missing_detail = n;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_NODE_CAPABILITIES;
	ev.node_capabilities = &c;
	put(st, &ev, t);
}

/* The usual run: started at 100, heartbeats every 10 s, records in between, stopped at
 * 195. extra() adds the case's records, at times from 145 to 160. */
static void clean_run(struct store *st, const char *run, void (*extra)(struct store *st))
{
	run_begin(st, run);
	agent(st, 100, STARTED);
	beats(st, 110, 140);
	plain(st, 145);
	if (extra)
		extra(st);
	beats(st, 160, 190);
	agent(st, 195, STOPPED);
	run_end(st);
}

/* ---- the report ------------------------------------------------------------------------- */

struct live {
	int answer;
};

static int live_cb(void *ctx, uint32_t pid, const char *boot_id, uint64_t started_boot_ns)
{
	(void)pid;
	(void)boot_id;
	(void)started_boot_ns;
	return ((struct live *)ctx)->answer;
}

struct run_opts {
	double since, until;
	int pinned;
	int live;
	double now;
	const char *whole; /* read this directory (a collected store) instead of each store's */
};

/* The report over every store's files, as the command reads them; its JSON parsed. */
static json_t *report_json(struct store *const *sts, size_t n, const struct run_opts *ro,
			   struct report **out, int *file_rc)
{
	uint8_t keys[4][KEYS_PUB_LEN];
	struct live lv = { ro->live };
	struct report_opts o = { .since_ns = AT(ro->since), .until_ns = AT(ro->until),
				 .now_ns = ro->now ? AT(ro->now) : AT(1000), .run_is_live = live_cb, .ctx = &lv };
	struct json_buf b = {};
	struct report *r;
	json_error_t e;
	json_t *j;

	for (size_t i = 0; i < n; i++)
		memcpy(keys[i], sts[i]->pub, KEYS_PUB_LEN);
	if (ro->pinned) {
		o.keys = (const uint8_t(*)[KEYS_PUB_LEN])keys;
		o.n_keys = n;
	}
	r = report__new(&o);
	assert_non_null(r);
	*file_rc = 0;
	for (size_t i = 0; i < (ro->whole ? 1 : n); i++) {
		struct inputs in;
		char *argv[] = { ro->whole ? (char *)ro->whole : sts[i]->dir };

		assert_int_equal(inputs__collect(&in, 1, argv, NULL), 0);
		for (int k = 0; k < in.n; k++)
			*file_rc |= report__file(r, in.paths[k], inputs__group(&in, k));
		inputs__free(&in);
	}
	assert_int_equal(report__finish(r), 0);
	assert_int_equal(reportfmt__json(&b, r), 0);
	j = json_loads(b.data, 0, &e);
	if (!j)
		fail_msg("JSON does not parse: %s at %d: %s", e.text, e.position, b.data);
	json_buf__free(&b);
	*out = r;
	return j;
}

static const char *jstr(json_t *j, const char *path)
{
	json_t *v = json_object_get(j, path);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static json_t *node0(json_t *j)
{
	return json_array_get(json_object_get(j, "nodes"), 0);
}

/* The kinds of a node's reasons (or notes), space-separated. */
static void expect_list(json_t *node, const char *list, const char *want)
{
	json_t *rs = json_object_get(node, list);
	char got[512] = "";

	for (size_t i = 0; i < json_array_size(rs); i++) {
		if (i)
			strcat(got, " ");
		strncat(got, jstr(json_array_get(rs, i), "kind"), sizeof(got) - strlen(got) - 1);
	}
	assert_string_equal(got, want);
}

static void expect_kinds(json_t *node, const char *want)
{
	expect_list(node, "reasons", want);
}

/* One store, one window: the verdict of the node and of the whole report, exactly, and
 * the kinds of its reasons and of its notes. */
static void expect_verdict_noted(void (*extra)(struct store *), const struct run_opts *ro, const char *verdict,
				 const char *kinds, const char *notes)
{
	struct store *st = store_new("n1");
	struct report *r;
	json_t *j;
	int rc;

	clean_run(st, "run-1", extra);
	j = report_json(&st, 1, ro, &r, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(jstr(node0(j), "verdict"), verdict);
	assert_string_equal(jstr(j, "verdict"), verdict);
	assert_int_equal(json_is_true(json_object_get(j, "complete")), !strncmp(verdict, "complete", 8));
	expect_kinds(node0(j), kinds);
	expect_list(node0(j), "notes", notes);
	/* A complete window has no time in a gap: only gaps that lose evidence shade it. */
	if (json_is_true(json_object_get(j, "complete")))
		assert_string_equal(jstr(json_object_get(node0(j), "coverage"), "gapNano"), "0");
	json_decref(j);
	report__free(r);
	store_free(st);
}

static void expect_verdict(void (*extra)(struct store *), const struct run_opts *ro, const char *verdict,
			   const char *kinds)
{
	expect_verdict_noted(extra, ro, verdict, kinds, "");
}

#define COMPLETE_1 "complete: 1 agent run covers the window, every batch verifies with a pinned key, "

static const struct run_opts window = { .since = 120, .until = 180, .pinned = 1 };

/* ---- cases -------------------------------------------------------------------------------- */

static void test_complete(void **state)
{
	struct store *st = store_new("n1");
	struct report *r;
	json_t *j, *n, *strip;
	int rc;

	(void)state;
	clean_run(st, "run-1", NULL);
	j = report_json(&st, 1, &window, &r, &rc);
	n = node0(j);
	assert_string_equal(jstr(j, "verdict"), "complete: 1 agent run covers the window, every batch "
						"verifies with a pinned key, no gap");
	assert_true(json_is_true(json_object_get(j, "complete")));
	assert_string_equal(jstr(n, "node"), "n1");
	assert_true(json_is_true(json_object_get(json_object_get(n, "chain"), "verified")));
	assert_true(json_is_true(json_object_get(json_object_get(n, "chain"), "keyPinned")));
	assert_int_equal(json_array_size(json_object_get(n, "reasons")), 0);
	strip = json_object_get(n, "strip");
	assert_int_equal(json_array_size(strip), 1);
	assert_string_equal(jstr(json_array_get(strip, 0), "state"), "covered");
	assert_string_equal(jstr(json_array_get(strip, 0), "start"), "2023-11-14T22:15:20.000000000Z");
	assert_string_equal(jstr(json_array_get(strip, 0), "end"), "2023-11-14T22:16:20.000000000Z");
	assert_string_equal(jstr(json_object_get(n, "coverage"), "coveredNano"), "60000000000");
	assert_int_equal(json_array_size(json_object_get(n, "runs")), 1);
	assert_true(report__complete(r));
	json_decref(j);
	report__free(r);
	store_free(st);

	/* The same store without a pinned key: consistent, but signed by whom? */
	expect_verdict(NULL, &(struct run_opts){ .since = 120, .until = 180 },
		       "incomplete: signatures checked only against the key the store names, not a "
		       "pinned one (--pubkey)", "KEY_NOT_PINNED");
	/* A window reaching before the start and after the stop: no agent ran then. */
	expect_verdict(NULL, &(struct run_opts){ .since = 90, .until = 200, .pinned = 1 },
		       "incomplete: sensor down: no agent run's records cover 15.000s of the window", "DOWN");
}

static void with_drops(struct store *st)
{
	workload(st, 146, 77, "c0ffee", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, 146);
	gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, 77, 5, 149, 151);
	workload(st, 160, 77, "c0ffee", FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED, 146);
}

/* Its end lost with the ring full: the dropped cgroup_rmdir still says it ended. */
static void with_end_dropped(struct store *st)
{
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	workload(st, 146, 80, "dead10cc", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, 146);
	g.kind = FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP;
	g.cgroup_id = 80;
	g.workload_key = "cgroup:80";
	g.event_type = "cgroup_rmdir";
	g.count = 1;
	g.start_time_unix_nano = AT(150);
	g.end_time_unix_nano = AT(151);
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	ev.gap = &g;
	put(st, &ev, 152);
}

static void test_ring_buffer_drop(void **state)
{
	struct store *st = store_new("n1");
	struct report *r;
	json_t *j, *n, *w, *strip;
	int rc;

	(void)state;
	expect_verdict(with_drops, &window, "incomplete: RING_BUFFER_DROP: 1 gap, 5 events lost", "RING_BUFFER_DROP");
	/* The gap and the workload it blinded, in detail. */
	clean_run(st, "run-1", with_drops);
	j = report_json(&st, 1, &window, &r, &rc);
	n = node0(j);
	assert_int_equal(json_array_size(json_object_get(n, "gaps")), 1);
	assert_string_equal(jstr(json_array_get(json_object_get(n, "gaps"), 0), "kind"), "RING_BUFFER_DROP");
	assert_string_equal(jstr(json_array_get(json_object_get(n, "gaps"), 0), "workload"), "cgroup:77");
	assert_string_equal(jstr(json_array_get(json_object_get(n, "gaps"), 0), "count"), "5");
	w = json_array_get(json_object_get(n, "workloads"), 0);
	assert_int_equal(json_array_size(json_object_get(n, "workloads")), 1);
	assert_string_equal(jstr(w, "key"), "cgroup:77");
	assert_string_equal(jstr(w, "kind"), "CONTAINER");
	assert_string_equal(jstr(w, "containerId"), "c0ffee");
	assert_true(json_is_true(json_object_get(w, "ended")));
	assert_int_equal(json_integer_value(json_object_get(w, "processes")), 3);
	assert_string_equal(jstr(w, "coverageFrom"), "ended");
	assert_string_equal(jstr(w, "firstEventLatencyNano"), "2000000");
	assert_string_equal(jstr(w, "drops"), "5");
	/* Its ENDED record lists nothing, and its agent wrote no NodeCapabilities: unknown. */
	assert_true(json_is_null(json_object_get(w, "unobserved")));
	assert_true(json_is_null(json_object_get(n, "capabilities")));
	assert_string_equal(jstr(w, "droppedInWindow"), "5");
	assert_int_equal(json_integer_value(json_object_get(w, "gaps")), 1);
	/* covered, the drop's 2 s, covered. */
	strip = json_object_get(n, "strip");
	assert_int_equal(json_array_size(strip), 3);
	assert_string_equal(jstr(json_array_get(strip, 1), "state"), "gap");
	assert_string_equal(jstr(json_array_get(strip, 1), "startUnixNano"), "1700000149000000000");
	assert_string_equal(jstr(json_array_get(strip, 1), "endUnixNano"), "1700000151000000000");
	assert_string_equal(jstr(json_object_get(n, "coverage"), "gapNano"), "2000000000");
	json_decref(j);
	report__free(r);
	store_free(st);
	/* A workload whose end was among the drops: ended, the end not recorded. */
	st = store_new("n1");
	clean_run(st, "run-1", with_end_dropped);
	j = report_json(&st, 1, &window, &r, &rc);
	w = json_array_get(json_object_get(node0(j), "workloads"), 0);
	assert_string_equal(jstr(w, "key"), "cgroup:80");
	assert_true(json_is_true(json_object_get(w, "ended")));
	assert_false(json_is_true(json_object_get(w, "endRecorded")));
	assert_string_equal(jstr(w, "lastSeenUnixNano"), "1700000151000000000");
	/* No ENDED record: its coverage is what its records say, the dropped rmdir a drop. */
	assert_string_equal(jstr(w, "coverageFrom"), "records");
	assert_string_equal(jstr(w, "drops"), "1");
	assert_true(json_is_null(json_object_get(w, "firstEventLatencyNano")));
	assert_string_equal(jstr(w, "droppedInWindow"), "1");
	json_decref(j);
	report__free(r);
	store_free(st);
	/* A window that ends before it: complete. */
	expect_verdict(with_drops, &(struct run_opts){ .since = 120, .until = 148, .pinned = 1 }, COMPLETE_1 "no gap", "");
}

static void with_missing_start(struct store *st)
{
	gap(st, 152, FIRSTLIGHT__V1__GAP__KIND__MISSING_START, 77, 2, 150, 152);
}

static void with_unattributed(struct store *st)
{
	gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__UNATTRIBUTED_WORKLOAD, 78, 1, 147, 150);
}

static void with_blind(struct store *st)
{
	gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__BLIND_WORKLOAD, 79, 1, 148, 149);
}

static void with_pre_existing(struct store *st)
{
	gap(st, 146, FIRSTLIGHT__V1__GAP__KIND__PRE_EXISTING, 1, 3, 50, 100);
}

static void with_sink_loss(struct store *st)
{
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	plain(st, 150);
	g.first_seq = st->seq + 1;
	st->seq += 3; /* three records the store could not write... */
	g.last_seq = st->seq;
	g.kind = FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS; /* ... and said so */
	g.count = 3;
	g.start_time_unix_nano = AT(151);
	g.end_time_unix_nano = AT(155);
	g.reason = "disk-full";
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	ev.gap = &g;
	put(st, &ev, 156);
}

static void with_argv_not_kept(struct store *st)
{
	gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__ARGV_NOT_KEPT, 77, 4, 148, 150);
}

static void with_untracked(struct store *st)
{
	gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__UNTRACKED_PROCESS, 77, 6, 147, 150);
}

static void with_unowned(struct store *st)
{
	gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__UNOWNED_WORKLOAD, 77, 1, 146, 150);
}

/*
 * Kinds outside the set `gaps --fail-on incomplete` fails on (gapscan__kind_incomplete):
 * they lose nothing that was recorded, so the window is complete, and each is noted.
 */
static void test_noted_kinds(void **state)
{
	(void)state;
	expect_verdict_noted(with_missing_start, &window,
			     COMPLETE_1 "no gap loses evidence; noted: MISSING_START: 1 gap, 2 processes without a "
			     "recorded start", "", "MISSING_START");
	expect_verdict_noted(with_unattributed, &window,
			     COMPLETE_1 "no gap loses evidence; noted: UNATTRIBUTED_WORKLOAD: 1 workload without a "
			     "trusted identity", "", "UNATTRIBUTED_WORKLOAD");
	expect_verdict_noted(with_blind, &window,
			     COMPLETE_1 "no gap loses evidence; noted: BLIND_WORKLOAD: 1 blind workload", "",
			     "BLIND_WORKLOAD");
	expect_verdict_noted(with_argv_not_kept, &window,
			     COMPLETE_1 "no gap loses evidence; noted: ARGV_NOT_KEPT: 1 gap, 4 processes whose argv "
			     "was not kept", "", "ARGV_NOT_KEPT");
	expect_verdict_noted(with_untracked, &window,
			     COMPLETE_1 "no gap loses evidence; noted: UNTRACKED_PROCESS: 1 gap, 6 execs the "
			     "live-process map had no room for", "", "UNTRACKED_PROCESS");
	expect_verdict_noted(with_unowned, &window,
			     COMPLETE_1 "no gap loses evidence; noted: UNOWNED_WORKLOAD: 1 workload no owner rule "
			     "matched", "", "UNOWNED_WORKLOAD");
	/* Processes older than the sensor: noted in any window that reaches back to then,
	 * which is incomplete for the time no agent ran. */
	expect_verdict_noted(with_pre_existing, &(struct run_opts){ .since = 90, .until = 180, .pinned = 1 },
			     "incomplete: sensor down: no agent run's records cover 10.000s of the window; noted: "
			     "PRE_EXISTING: 1 gap, 3 processes started before the sensor", "DOWN", "PRE_EXISTING");
	expect_verdict(with_pre_existing, &window, COMPLETE_1 "no gap", "");
}

static void with_ship_loss(struct store *st)
{
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	g.kind = FIRSTLIGHT__V1__GAP__KIND__SHIP_LOSS;
	g.first_seq = 2;
	g.last_seq = 5;
	g.count = 4;
	g.run_id = "run-1";
	g.reason = "retention";
	g.start_time_unix_nano = AT(140);
	g.end_time_unix_nano = AT(150);
	g.detail = "removed by --retain-bytes before it was shipped";
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	ev.gap = &g;
	put(st, &ev, 150);
}

/* The collector's findings about a node (about), as its own store holds them. */
static void collector_gap(struct store *st, double t, int kind, const char *reason, const char *about)
{
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	g.kind = kind;
	g.count = 1;
	g.node = (char *)about;
	g.reason = (char *)reason;
	g.start_time_unix_nano = AT(t - 2);
	g.end_time_unix_nano = AT(t);
	g.detail = "made by the test";
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	ev.gap = &g;
	put(st, &ev, t);
}

static void with_node_silent(struct store *st)
{
	collector_gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__NODE_SILENT, "no-batches", "node-x");
}

static void with_batch_rejected(struct store *st)
{
	collector_gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__BATCH_REJECTED, "bad-signature", "node-x");
	collector_gap(st, 152, FIRSTLIGHT__V1__GAP__KIND__BATCH_REJECTED, "bad-hash", "node-x");
}

static void with_chain_break(struct store *st)
{
	collector_gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__CHAIN_BREAK, "chain-break", "node-x");
}

static void with_state_missing(struct store *st)
{
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	g.kind = FIRSTLIGHT__V1__GAP__KIND__STATE_MISSING;
	g.count = 1;
	g.reason = "chain-state-missing";
	g.end_time_unix_nano = AT(150);
	g.detail = "chain.state is missing while segments remain";
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	ev.gap = &g;
	put(st, &ev, 150);
}

static void with_share_exceeded(struct store *st)
{
	gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__SHARE_EXCEEDED, 77, 9, 149, 150);
}

/* Kinds of the incomplete set not covered above: each is a reason, exactly. */
static void test_incomplete_kinds(void **state)
{
	(void)state;
	expect_verdict(with_ship_loss, &window,
		       "incomplete: SHIP_LOSS: 1 gap, 4 records removed before they were shipped", "SHIP_LOSS");
	expect_verdict(with_node_silent, &window,
		       "incomplete: NODE_SILENT: 1 gap (the node went silent without a STOPPED record)", "NODE_SILENT");
	expect_verdict(with_batch_rejected, &window,
		       "incomplete: BATCH_REJECTED: 2 batches refused by the collector", "BATCH_REJECTED");
	expect_verdict(with_chain_break, &window,
		       "incomplete: CHAIN_BREAK: 1 batch that does not follow the one before it", "CHAIN_BREAK");
	expect_verdict(with_state_missing, &window,
		       "incomplete: STATE_MISSING: 1 gap (the data dir's state files and segments disagreed at a "
		       "start)", "STATE_MISSING");
	expect_verdict(with_share_exceeded, &window,
		       "incomplete: SHARE_EXCEEDED: 1 gap, 9 events dropped beyond their workload's share",
		       "SHARE_EXCEEDED");
}

/* Records the store lost and said so: the chain verifies (the SINK_LOSS record accounts
 * for the hole), the window is not complete. */
static void test_sink_loss(void **state)
{
	struct store *st = store_new("n1");
	struct report *r;
	json_t *j, *n;
	int rc;

	(void)state;
	run_begin(st, "run-1");
	agent(st, 100, STARTED);
	beats(st, 110, 140);
	with_sink_loss(st);
	beats(st, 160, 190);
	agent(st, 195, STOPPED);
	run_end(st);
	j = report_json(&st, 1, &window, &r, &rc);
	n = node0(j);
	assert_true(json_is_true(json_object_get(json_object_get(n, "chain"), "verified")));
	assert_string_equal(jstr(n, "verdict"), "incomplete: SINK_LOSS: 1 gap, 3 records lost");
	assert_true(json_is_true(json_object_get(json_object_get(n, "sequence"), "continuous")));
	json_decref(j);
	report__free(r);
	store_free(st);
}

static void test_sequence_hole(void **state)
{
	struct store *st = store_new("n1");
	char want[1024], *argv[1];
	struct inputs in;
	struct report *r;
	json_t *j, *n;
	int rc;

	(void)state;
	run_begin(st, "run-1");
	agent(st, 100, STARTED);
	beats(st, 110, 140);
	plain(st, 150);
	st->seq += 2; /* two records gone, nothing says why */
	beats(st, 160, 190);
	agent(st, 195, STOPPED);
	run_end(st);
	j = report_json(&st, 1, &window, &r, &rc);
	n = node0(j);
	expect_kinds(n, "CHAIN SEQUENCE_HOLE");
	/* The verifier names the batch after the hole in the store's one segment. */
	argv[0] = st->dir;
	assert_int_equal(inputs__collect(&in, 1, argv, NULL), 0);
	assert_int_equal(in.n, 1);
	snprintf(want, sizeof(want), "incomplete: the chain does not verify: %s: batch 6 at byte 1075 (seq 9): "
		 "records seq 7-8 of run run-1 are missing before it, and no SINK_LOSS record accounts for "
		 "them: removed; SEQUENCE_HOLE: 1 gap, 2 records missing", in.paths[0]);
	inputs__free(&in);
	assert_string_equal(jstr(n, "verdict"), want);
	assert_false(json_is_true(json_object_get(json_object_get(n, "chain"), "verified")));
	assert_false(json_is_true(json_object_get(json_object_get(n, "sequence"), "continuous")));
	assert_string_equal(jstr(json_object_get(n, "sequence"), "missingRecords"), "2");
	json_decref(j);
	report__free(r);
	store_free(st);
}

/* A run read from seq 3: its beginning is not in the store. */
static void test_missing_beginning(void **state)
{
	struct store *st = store_new("n1");
	struct report *r;
	json_t *j;
	int rc;

	(void)state;
	run_begin(st, "run-1");
	st->seq = 2;
	beats(st, 110, 190);
	agent(st, 195, STOPPED);
	run_end(st);
	/* Missing before its first record (at 110): a window after that is complete. */
	j = report_json(&st, 1, &window, &r, &rc);
	assert_true(json_is_true(json_object_get(j, "complete")));
	json_decref(j);
	report__free(r);
	j = report_json(&st, 1, &(struct run_opts){ .since = 100, .until = 180, .pinned = 1 }, &r, &rc);
	assert_string_equal(jstr(node0(j), "verdict"), "incomplete: MISSING_BEGINNING: 1 gap, 2 records missing; "
						       "sensor down: no agent run's records cover 10.000s of the window");
	json_decref(j);
	report__free(r);
	store_free(st);
}

static void test_heartbeat_missing(void **state)
{
	struct store *st = store_new("n1");
	struct report *r;
	json_t *j, *n, *strip;
	int rc;

	(void)state;
	run_begin(st, "run-1");
	agent(st, 100, STARTED);
	beats(st, 110, 130);
	beats(st, 165, 190); /* 35 s without one: three missing */
	agent(st, 195, STOPPED);
	run_end(st);
	j = report_json(&st, 1, &window, &r, &rc);
	n = node0(j);
	assert_string_equal(jstr(n, "verdict"), "incomplete: HEARTBEAT_MISSING: 1 gap, 3 heartbeats missing");
	assert_false(json_is_true(json_object_get(json_object_get(n, "heartbeats"), "continuous")));
	strip = json_object_get(n, "strip");
	assert_int_equal(json_array_size(strip), 3);
	assert_string_equal(jstr(json_array_get(strip, 1), "state"), "gap");
	assert_string_equal(jstr(json_array_get(strip, 1), "startUnixNano"), "1700000130000000000");
	assert_string_equal(jstr(json_array_get(strip, 1), "endUnixNano"), "1700000165000000000");
	json_decref(j);
	report__free(r);
	store_free(st);
}

/* kill -9: no STOPPED record, the agent gone; then a later run after a time down. */
static void test_unclean_end_and_sensor_down(void **state)
{
	struct store *st = store_new("n1");
	struct report *r;
	json_t *j, *n, *strip;
	int rc;

	(void)state;
	run_begin(st, "run-1");
	agent(st, 100, STARTED);
	beats(st, 110, 140);
	plain(st, 141);
	run_end(st);
	j = report_json(&st, 1, &window, &r, &rc);
	assert_string_equal(jstr(node0(j), "verdict"), "incomplete: UNCLEAN_END: 1 run ended without its STOPPED "
						       "record; sensor down: no agent run's records cover 39.000s of the window");
	json_decref(j);
	report__free(r);

	run_begin(st, "run-2");
	agent(st, 160, STARTED);
	gap(st, 160.5, FIRSTLIGHT__V1__GAP__KIND__SENSOR_DOWN, 0, 0, 140, 160);
	beats(st, 170, 190);
	agent(st, 195, STOPPED);
	run_end(st);
	j = report_json(&st, 1, &window, &r, &rc);
	n = node0(j);
	/* SENSOR_DOWN loses nothing recorded (the crash is the UNCLEAN_END): noted. */
	assert_string_equal(jstr(n, "verdict"), "incomplete: UNCLEAN_END: 1 run ended without its STOPPED record; "
						"sensor down: no agent run's records cover 19.000s of the window; noted: "
						"SENSOR_DOWN: 1 gap (no agent ran between two runs)");
	expect_kinds(n, "UNCLEAN_END DOWN");
	expect_list(n, "notes", "SENSOR_DOWN");
	assert_true(json_is_true(json_object_get(json_object_get(n, "chain"), "verified")));
	assert_int_equal(json_array_size(json_object_get(n, "runs")), 2);
	/* covered 120-140, a gap 140-141 (the down gap over the first run's last second),
	 * down 141-160, covered 160-180. */
	strip = json_object_get(n, "strip");
	assert_int_equal(json_array_size(strip), 4);
	assert_string_equal(jstr(json_array_get(strip, 0), "state"), "covered");
	assert_string_equal(jstr(json_array_get(strip, 1), "state"), "gap");
	assert_string_equal(jstr(json_array_get(strip, 2), "state"), "down");
	assert_string_equal(jstr(json_array_get(strip, 2), "startUnixNano"), "1700000141000000000");
	assert_string_equal(jstr(json_array_get(strip, 2), "endUnixNano"), "1700000160000000000");
	assert_string_equal(jstr(json_array_get(strip, 3), "state"), "covered");
	json_decref(j);
	report__free(r);
	store_free(st);
}

/* The agent still runs: the window's end is not written yet. */
static void test_not_shipped(void **state)
{
	struct store *st = store_new("n1");
	struct report *r;
	json_t *j, *n, *strip;
	int rc;

	(void)state;
	run_begin(st, "run-1");
	agent(st, 100, STARTED);
	beats(st, 110, 170);
	run_end(st);
	j = report_json(&st, 1, &(struct run_opts){ .since = 120, .until = 180, .pinned = 1, .live = 1, .now = 175 },
			&r, &rc);
	n = node0(j);
	assert_string_equal(jstr(n, "verdict"), "incomplete: no records yet for the last 10.000s of the window: "
						"its agent still runs (not written or shipped yet)");
	expect_kinds(n, "NOT_SHIPPED");
	strip = json_object_get(n, "strip");
	assert_string_equal(jstr(json_array_get(strip, 1), "state"), "notShipped");
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(n, "runs"), 0), "live")));
	json_decref(j);
	report__free(r);
	store_free(st);
}

/* ---- what the node's kernel could not observe ------------------------------------------------ */

static const Firstlight__V1__NodeCapabilities__Missing *const lacks_6_1[] = { &miss_udp_datagrams,
									       &miss_unix_connects };
static const Firstlight__V1__NodeCapabilities__Missing *const lacks_5_10[] = { &miss_accept_owner,
										&miss_udp_datagrams,
										&miss_unix_connects };
static const char *const unobserved_6_1[] = { "udp-datagrams", "unix-connects" };

/* A 6.1 kernel: its capabilities written at the start (before the window), an ENDED
 * workload naming what it could not observe, one still running. */
static void run_on_6_1(struct store *st, const char *run, double t0)
{
	run_begin(st, run);
	agent(st, t0, STARTED);
	capabilities(st, t0 + 0.5, "6.1.0-50-cloud-amd64", lacks_6_1, 2);
	beats(st, t0 + 10, t0 + 40);
	workload_as(st, t0 + 46, &(struct wl){ .cg = 81, .state = FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED,
					      .born = t0 + 46, .parent = 5 });
	workload_as(st, t0 + 47, &(struct wl){ .cg = 82, .state = FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED,
					      .born = t0 + 47, .parent = 5 });
	workload_as(st, t0 + 50, &(struct wl){ .cg = 82, .state = FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED,
					      .born = t0 + 47, .parent = 5, .latency_ns = 1000000,
					      .unobserved = unobserved_6_1, .n_unobserved = 2 });
	beats(st, t0 + 60, t0 + 90);
	agent(st, t0 + 95, STOPPED);
	run_end(st);
}

static json_t *missing_entry(json_t *caps, size_t i)
{
	return json_array_get(json_object_get(caps, "missing"), i);
}

static void test_capabilities(void **state)
{
	struct store *st = store_new("n1");
	struct json_buf b = {};
	struct report *r;
	json_t *j, *n, *c, *w;
	int rc;

	(void)state;
	run_on_6_1(st, "run-1", 100);
	j = report_json(&st, 1, &window, &r, &rc);
	n = node0(j);
	/* A known limit of the node, not a reason. */
	assert_string_equal(jstr(n, "verdict"), COMPLETE_1 "no gap");
	c = json_object_get(n, "capabilities");
	assert_string_equal(jstr(c, "kernel"), "6.1.0-50-cloud-amd64");
	assert_string_equal(jstr(c, "machine"), "x86_64");
	assert_int_equal(json_array_size(json_object_get(c, "kernels")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "kernels"), 0)), "6.1.0-50-cloud-amd64");
	assert_int_equal(json_array_size(json_object_get(c, "missing")), 2);
	assert_string_equal(jstr(missing_entry(c, 0), "name"), "udp-datagrams");
	assert_string_equal(jstr(missing_entry(c, 0), "reason"), "needs the sock_send_length tracepoint (6.4+)");
	assert_string_equal(jstr(missing_entry(c, 0), "unobserved"), "UDP datagrams and bytes per peer");
	assert_string_equal(jstr(missing_entry(c, 1), "name"), "unix-connects");
	assert_string_equal(jstr(missing_entry(c, 1), "reason"), "needs cgroup/connect_unix (6.7+)");
	assert_string_equal(jstr(missing_entry(c, 1), "unobserved"), "unix socket connects");
	assert_false(json_is_true(json_object_get(c, "truncated")));
	/* The ENDED one names what its record names; the running one what the node lacks. */
	w = json_array_get(json_object_get(n, "workloads"), 0);
	assert_string_equal(jstr(w, "key"), "cgroup:81");
	assert_int_equal(json_array_size(json_object_get(w, "unobserved")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(w, "unobserved"), 0)), "udp-datagrams");
	assert_string_equal(json_string_value(json_array_get(json_object_get(w, "unobserved"), 1)), "unix-connects");
	w = json_array_get(json_object_get(n, "workloads"), 1);
	assert_string_equal(jstr(w, "key"), "cgroup:82");
	assert_string_equal(jstr(w, "coverageFrom"), "ended");
	assert_int_equal(json_array_size(json_object_get(w, "unobserved")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(w, "unobserved"), 1)), "unix-connects");
	/* The text: one line for the node's kernel, a column per workload. */
	assert_int_equal(reportfmt__text(&b, r), 0);
	assert_non_null(strstr(b.data, "\n  kernel     6.1.0-50-cloud-amd64 (x86_64), capabilities: missing udp-datagrams "
				       "(needs the sock_send_length tracepoint (6.4+)), unix-connects (needs "
				       "cgroup/connect_unix (6.7+))\n"));
	assert_non_null(strstr(b.data, "\n             cgroup:82 CONTAINER 0 1.000ms 0(0) 0 udp-datagrams,unix-connects c82\n"));
	json_buf__reset(&b);
	/* The page: a row, a line per capability missing, a cell per workload. */
	assert_int_equal(reporthtml__page(&b, r), 0);
	assert_int_equal(count_str(b.data, "<tr class=\"capabilities\">"), 1);
	assert_non_null(strstr(b.data, "<li data-capability=\"udp-datagrams\"><b>udp-datagrams</b>: needs the "
				       "sock_send_length tracepoint (6.4+); not recorded: UDP datagrams and bytes per peer</li>"));
	assert_int_equal(count_str(b.data, "<li data-capability="), 2);
	assert_int_equal(count_str(b.data, "<td class=\"unobserved\">udp-datagrams, unix-connects</td>"), 2);
	json_buf__free(&b);
	json_decref(j);
	report__free(r);

	/* Rebooted into 6.18, which lacks nothing: a window over both runs names both kernels
	 * and what either lacked; a workload running at its end, what the newest lacks. */
	run_begin(st, "run-2");
	agent(st, 200, STARTED);
	capabilities(st, 200.5, "6.18.44", NULL, 0);
	beats(st, 210, 240);
	workload_as(st, 246, &(struct wl){ .cg = 83, .state = FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, .born = 246,
					   .parent = 5 });
	beats(st, 250, 290);
	run_end(st);
	/* A kernel written after the window says nothing of it. */
	run_begin(st, "run-3");
	agent(st, 300, STARTED);
	capabilities(st, 300.5, "5.10.0-32-cloud-amd64", lacks_5_10, 3);
	agent(st, 301, STOPPED);
	run_end(st);
	j = report_json(&st, 1, &(struct run_opts){ .since = 120, .until = 280, .pinned = 1 }, &r, &rc);
	n = node0(j);
	c = json_object_get(n, "capabilities");
	assert_string_equal(jstr(c, "kernel"), "6.18.44");
	assert_int_equal(json_array_size(json_object_get(c, "kernels")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "kernels"), 0)), "6.1.0-50-cloud-amd64");
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "kernels"), 1)), "6.18.44");
	assert_int_equal(json_array_size(json_object_get(c, "missing")), 2);
	assert_string_equal(jstr(missing_entry(c, 0), "name"), "udp-datagrams");
	assert_string_equal(jstr(missing_entry(c, 1), "name"), "unix-connects");
	w = json_array_get(json_object_get(n, "workloads"), 2);
	assert_string_equal(jstr(w, "key"), "cgroup:83");
	assert_true(json_is_array(json_object_get(w, "unobserved")));
	assert_int_equal(json_array_size(json_object_get(w, "unobserved")), 0);
	assert_int_equal(reportfmt__text(&b, r), 0);
	assert_non_null(strstr(b.data, "\n  kernel     6.1.0-50-cloud-amd64, 6.18.44 (x86_64), capabilities: missing "
				       "udp-datagrams (needs the sock_send_length tracepoint (6.4+)), unix-connects "
				       "(needs cgroup/connect_unix (6.7+))\n"));
	json_buf__free(&b);
	json_decref(j);
	report__free(r);
	/* Only the newest: all. */
	j = report_json(&st, 1, &(struct run_opts){ .since = 220, .until = 280, .pinned = 1 }, &r, &rc);
	c = json_object_get(node0(j), "capabilities");
	assert_string_equal(jstr(c, "kernel"), "6.18.44");
	assert_int_equal(json_array_size(json_object_get(c, "missing")), 0);
	assert_int_equal(reportfmt__text(&b, r), 0);
	assert_non_null(strstr(b.data, "\n  kernel     6.18.44 (x86_64), capabilities: all\n"));
	json_buf__free(&b);
	json_decref(j);
	report__free(r);
	store_free(st);

	/* No NodeCapabilities record (an older agent): unknown, said so. */
	st = store_new("n1");
	clean_run(st, "run-1", NULL);
	j = report_json(&st, 1, &window, &r, &rc);
	assert_true(json_is_null(json_object_get(node0(j), "capabilities")));
	assert_int_equal(reportfmt__text(&b, r), 0);
	assert_non_null(strstr(b.data, "\n  kernel     unknown (no NodeCapabilities record by the window's end), "
				       "capabilities: unknown\n"));
	json_buf__free(&b);
	json_decref(j);
	report__free(r);
	store_free(st);
}

/* ---- coverage of workloads still running ------------------------------------------------------- */

/* Four workloads running at the window's end, each with what its records allow. */
static void with_running(struct store *st)
{
	/* Born while the sensor watched (its parent given), its first exec 250 ms later,
	 * drops in the window and after it. */
	workload_as(st, 146, &(struct wl){ .cg = 90, .state = FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, .born = 146,
					   .parent = 5 });
	exec_in(st, 146.25, 90);
	exec_in(st, 146.5, 90);
	gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, 90, 4, 149, 150);
	gap(st, 151, FIRSTLIGHT__V1__GAP__KIND__SHARE_EXCEEDED, 90, 3, 150.5, 151);
	gap(st, 158, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, 90, 10, 157, 158);
	/* Existed before the sensor (no parent): no birth to count from. */
	workload_as(st, 147, &(struct wl){ .cg = 91, .state = FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, .born = 147 });
	exec_in(st, 147.5, 91);
	/* Its RESOLVED record carries the agent's own latency and drops. */
	workload_as(st, 148, &(struct wl){ .cg = 92, .state = FIRSTLIGHT__V1__WORKLOAD__STATE__RESOLVED, .born = 147,
					   .parent = 5, .latency_ns = 3000000, .drops = 2 });
	/* Born, no process yet. */
	workload_as(st, 148.5, &(struct wl){ .cg = 93, .state = FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED,
					     .born = 148.5, .parent = 5 });
}

static json_t *workload_of(json_t *node, const char *key)
{
	json_t *ws = json_object_get(node, "workloads");

	for (size_t i = 0; i < json_array_size(ws); i++)
		if (!strcmp(jstr(json_array_get(ws, i), "key"), key))
			return json_array_get(ws, i);
	fail_msg("no workload %s", key);
	return NULL;
}

static void test_running_coverage(void **state)
{
	struct store *st = store_new("n1");
	struct json_buf b = {};
	struct report *r;
	json_t *j, *n, *w;
	int rc;

	(void)state;
	clean_run(st, "run-1", with_running);
	j = report_json(&st, 1, &(struct run_opts){ .since = 120, .until = 155, .pinned = 1 }, &r, &rc);
	n = node0(j);
	assert_string_equal(jstr(n, "verdict"), "incomplete: RING_BUFFER_DROP: 1 gap, 4 events lost; SHARE_EXCEEDED: "
						"1 gap, 3 events dropped beyond their workload's share");
	assert_int_equal(json_array_size(json_object_get(n, "workloads")), 4);
	w = workload_of(n, "cgroup:90");
	assert_false(json_is_true(json_object_get(w, "ended")));
	assert_string_equal(jstr(w, "coverageFrom"), "records");
	assert_string_equal(jstr(w, "firstEventLatencyNano"), "250000000");
	assert_string_equal(jstr(w, "drops"), "17");          /* every drop recorded of it */
	assert_string_equal(jstr(w, "droppedInWindow"), "7"); /* those of the window */
	assert_true(json_is_null(json_object_get(w, "unobserved"))); /* no NodeCapabilities record */
	w = workload_of(n, "cgroup:91");
	assert_true(json_is_null(json_object_get(w, "firstEventLatencyNano")));
	assert_string_equal(jstr(w, "drops"), "0");
	w = workload_of(n, "cgroup:92");
	assert_string_equal(jstr(w, "firstEventLatencyNano"), "3000000");
	assert_string_equal(jstr(w, "drops"), "2");
	w = workload_of(n, "cgroup:93");
	assert_true(json_is_null(json_object_get(w, "firstEventLatencyNano")));
	assert_int_equal(reportfmt__text(&b, r), 0);
	assert_non_null(strstr(b.data, "\n             cgroup:90 CONTAINER 0 250.000ms 17(7) 2 - [running] c90\n"));
	assert_non_null(strstr(b.data, "\n             cgroup:91 CONTAINER 0 - 0(0) 0 - [running] c91\n"));
	json_buf__free(&b);
	json_decref(j);
	report__free(r);
	store_free(st);
}

/* A segment cut short (a copy gone wrong): what was read counts, the input is named. */
static void test_damaged_input(void **state)
{
	struct store *st = store_new("n1");
	struct inputs in;
	char *argv[1];
	struct stat sb;
	struct report *r;
	json_t *j, *n;
	int rc;

	(void)state;
	clean_run(st, "run-1", NULL);
	argv[0] = st->dir;
	assert_int_equal(inputs__collect(&in, 1, argv, NULL), 0);
	assert_int_equal(stat(in.paths[0], &sb), 0);
	assert_int_equal(truncate(in.paths[0], sb.st_size / 2), 0);
	inputs__free(&in);
	j = report_json(&st, 1, &window, &r, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(report__error(r), ".seg.gz: "));
	n = node0(j);
	assert_true(!strncmp(jstr(n, "verdict"), "incomplete: an input was not read in full: ", 43));
	assert_non_null(jstr(json_object_get(n, "input"), "damage"));
	assert_string_equal(jstr(json_array_get(json_object_get(n, "reasons"), 0), "kind"), "INPUT");
	json_decref(j);
	report__free(r);
	store_free(st);
}

/* Two nodes: each judged alone (its own chain and key), the report by both. */
static void test_two_nodes(void **state)
{
	struct store *sts[2] = { store_new("node-b"), store_new("node-a") };
	struct report *r;
	json_t *j;
	int rc;

	(void)state;
	clean_run(sts[0], "run-b", with_drops);
	clean_run(sts[1], "run-a", NULL);
	j = report_json(sts, 2, &window, &r, &rc);
	assert_string_equal(jstr(j, "verdict"), "incomplete: 1 of the 2 nodes (see each node's verdict)");
	assert_int_equal(json_array_size(json_object_get(j, "nodes")), 2);
	assert_string_equal(jstr(json_array_get(json_object_get(j, "nodes"), 0), "node"), "node-a");
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(j, "nodes"), 0), "complete")));
	assert_string_equal(jstr(json_array_get(json_object_get(j, "nodes"), 1), "verdict"),
			    "incomplete: RING_BUFFER_DROP: 1 gap, 5 events lost");
	json_decref(j);
	report__free(r);
	/* Node b's key pinned for both: node a's chain is signed by a key not trusted. */
	memcpy(sts[1]->pub, sts[0]->pub, KEYS_PUB_LEN);
	j = report_json(sts, 2, &window, &r, &rc);
	expect_kinds(json_array_get(json_object_get(j, "nodes"), 0), "CHAIN");
	assert_non_null(strstr(jstr(json_array_get(json_object_get(j, "nodes"), 0), "verdict"),
			       "which is not a trusted key (--pubkey): forged, or signed by another node"));
	json_decref(j);
	report__free(r);
	store_free(sts[0]);
	store_free(sts[1]);
}

static void with_findings(struct store *st)
{
	collector_gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__BATCH_REJECTED, "bad-signature", "n1");
	collector_gap(st, 152, FIRSTLIGHT__V1__GAP__KIND__CHAIN_BREAK, "chain-break", "ghost"); /* not in the inputs */
}

/*
 * A collected store: the node's folder and the collector's own (@collector), whose records
 * name the collector's host, here the node's own name. The collector's records are its
 * own node, its findings count where they belong: about n1 in n1's verdict (the node's
 * chain still verifies, the finding shades none of its time), about a node the inputs do
 * not hold in the collector's.
 */
static void test_collected_store(void **state)
{
	struct store *sts[2] = { store_new("n1"), store_new("n1") };
	char whole[sizeof(sts[0]->root) + 8];
	struct run_opts ro = window;
	struct report *r;
	json_t *j, *n1, *gaps;
	int rc;

	(void)state;
	snprintf(whole, sizeof(whole), "%.255s/store", sts[0]->root);
	assert_int_equal(mkdir(whole, 0700), 0);
	snprintf(sts[0]->dir, sizeof(sts[0]->dir), "%.263s/n1", whole);
	snprintf(sts[1]->dir, sizeof(sts[1]->dir), "%.263s/@collector", whole);
	assert_int_equal(mkdir(sts[0]->dir, 0700), 0);
	assert_int_equal(mkdir(sts[1]->dir, 0700), 0);
	clean_run(sts[0], "run-n", NULL);
	clean_run(sts[1], "run-c", with_findings);
	ro.whole = whole;
	j = report_json(sts, 2, &ro, &r, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(json_array_size(json_object_get(j, "nodes")), 2);
	assert_string_equal(jstr(node0(j), "node"), "@collector");
	assert_string_equal(jstr(node0(j), "verdict"), "incomplete: CHAIN_BREAK: 1 batch that does not follow the "
			    "one before it; noted: FINDINGS: 1 about the nodes they name, in their verdicts");
	n1 = json_array_get(json_object_get(j, "nodes"), 1);
	assert_string_equal(jstr(n1, "node"), "n1");
	assert_string_equal(jstr(n1, "verdict"), "incomplete: BATCH_REJECTED: 1 batch refused by the collector");
	gaps = json_object_get(n1, "gaps");
	assert_int_equal(json_array_size(gaps), 1);
	assert_string_equal(jstr(json_array_get(gaps, 0), "aboutNode"), "n1");
	assert_string_equal(jstr(json_array_get(gaps, 0), "runId"), "run-c");
	assert_string_equal(jstr(json_object_get(n1, "coverage"), "gapNano"), "0");
	json_decref(j);
	report__free(r);
	/* Each folder named alone: records by the node they name, as before (both "n1"). */
	j = report_json(sts, 2, &window, &r, &rc);
	assert_int_equal(json_array_size(json_object_get(j, "nodes")), 1);
	json_decref(j);
	report__free(r);
	/* Two collected stores: their collectors are not one, each known by its folder. */
	{
		struct store *other = store_new("n1");
		char whole2[sizeof(other->root) + 8];
		struct inputs in;
		char *argv[] = { whole, whole2 };
		const char *g;

		snprintf(whole2, sizeof(whole2), "%.255s/store", other->root);
		assert_int_equal(mkdir(whole2, 0700), 0);
		snprintf(other->dir, sizeof(other->dir), "%.263s/@collector", whole2);
		assert_int_equal(mkdir(other->dir, 0700), 0);
		clean_run(other, "run-c2", NULL);
		assert_int_equal(inputs__collect(&in, 2, argv, NULL), 0);
		for (int k = 0; k < in.n; k++) {
			g = inputs__group(&in, k);
			if (strstr(in.paths[k], "/@collector/"))
				assert_string_equal(g, !strncmp(in.paths[k], whole2, strlen(whole2)) ? other->dir : sts[1]->dir);
			else
				assert_null(g);
		}
		inputs__free(&in);
		store_free(other);
	}
	store_free(sts[0]);
	store_free(sts[1]);
}

/* Each node's key by its name, as --keys DIR pins them. */
static int key_of_node(void *ctx, const char *node, uint8_t key[KEYS_PUB_LEN])
{
	struct store *const *sts = ctx;

	for (size_t i = 0; i < 2; i++)
		if (!strcmp(sts[i]->node, node)) {
			memcpy(key, sts[i]->pub, KEYS_PUB_LEN);
			return 0;
		}
	return -ENOENT;
}

static void test_node_keys(void **state)
{
	struct store *sts[2] = { store_new("node-b"), store_new("node-a") };
	struct report_opts o = { .since_ns = AT(120), .until_ns = AT(180), .node_key = key_of_node, .key_ctx = sts };
	struct report *r;

	(void)state;
	clean_run(sts[0], "run-b", NULL);
	clean_run(sts[1], "run-a", NULL);
	r = report__new(&o);
	for (size_t i = 0; i < 2; i++) {
		struct inputs in;
		char *argv[] = { sts[i]->dir };

		assert_int_equal(inputs__collect(&in, 1, argv, NULL), 0);
		for (int k = 0; k < in.n; k++)
			assert_int_equal(report__file(r, in.paths[k], NULL), 0);
		inputs__free(&in);
	}
	assert_int_equal(report__finish(r), 0);
	assert_true(report__complete(r));
	assert_string_equal(report__verdict(r), "complete: every one of the 2 nodes");
	assert_true(report__node(r, 0)->chain->key_trusted && report__node(r, 1)->chain->key_trusted);
	report__free(r);
	/* One node's key given for the other: that chain does not verify. */
	memcpy(sts[1]->pub, sts[0]->pub, KEYS_PUB_LEN);
	r = report__new(&o);
	for (size_t i = 0; i < 2; i++) {
		struct inputs in;
		char *argv[] = { sts[i]->dir };

		assert_int_equal(inputs__collect(&in, 1, argv, NULL), 0);
		for (int k = 0; k < in.n; k++)
			report__file(r, in.paths[k], NULL);
		inputs__free(&in);
	}
	assert_int_equal(report__finish(r), 0);
	assert_string_equal(report__node(r, 0)->node, "node-a");
	assert_string_equal(report__node(r, 0)->reasons[0].kind, "CHAIN");
	assert_true(report__node(r, 1)->complete);
	report__free(r);
	store_free(sts[0]);
	store_free(sts[1]);
}

static void hostile_workload(struct store *st)
{
	static const Firstlight__V1__NodeCapabilities__Missing evil = {
		.base = PROTOBUF_C_MESSAGE_INIT(&firstlight__v1__node_capabilities__missing__descriptor),
		.name = "udp-datagrams\"><script>",
		.reason = "</td><script>alert(2)</script>",
		.unobserved = "<b>\xe2\x80\xae",
	};
	static const Firstlight__V1__NodeCapabilities__Missing *const lacks[] = { &evil };

	workload(st, 146, 77, "</script><script>alert(1)</script>\xe2\x80\xae", FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, 146);
	capabilities(st, 147, "6.1</code><script>", lacks, 1);
	gap(st, 150, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, 77, 5, 149, 151);
}

/* The page: a strip per node with its spans, the verdict, records' strings as text. */
static void test_html_page(void **state)
{
	struct store *st = store_new("n1<b>");
	struct json_buf b = {};
	struct report *r;
	json_t *j;
	int rc;

	(void)state;
	clean_run(st, "run-1", hostile_workload);
	j = report_json(&st, 1, &(struct run_opts){ .since = 90, .until = 180, .pinned = 1 }, &r, &rc);
	assert_int_equal(reporthtml__page(&b, r), 0);
	assert_int_equal(count_str(b.data, "<section class=\"node\""), 1);
	assert_int_equal(count_str(b.data, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"strip\""), 1);
	/* down 90-100, covered 100-149, gap 149-151, covered 151-180. */
	assert_int_equal(count_str(b.data, "<rect class=\"span down\""), 1);
	assert_int_equal(count_str(b.data, "<rect class=\"span gap\""), 1);
	assert_int_equal(count_str(b.data, "<rect class=\"span covered\""), 2);
	assert_int_equal(count_str(b.data, "<rect class=\"gaptick\""), 1);
	assert_non_null(strstr(b.data, "<p class=\"verdict incomplete\" id=\"verdict\">incomplete: RING_BUFFER_DROP: "
				       "1 gap, 5 events lost; sensor down: no agent run&#39;s records cover 10.000s of the window</p>"));
	assert_non_null(strstr(b.data, "<h2>Node n1&lt;b&gt;</h2>"));
	assert_int_equal(count_str(b.data, "<script"), 0);
	assert_null(strstr(b.data, "\xe2\x80\xae"));
	assert_non_null(strstr(b.data, "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;\\u202e"));
	/* A capability's strings as text too. */
	assert_non_null(strstr(b.data, "<code>6.1&lt;/code&gt;&lt;script&gt;</code> (x86_64); capabilities: missing"
				       "<ul class=\"missing\"><li data-capability=\"udp-datagrams&quot;&gt;&lt;script&gt;\">"
				       "<b>udp-datagrams&quot;&gt;&lt;script&gt;</b>: &lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;; "
				       "not recorded: &lt;b&gt;\\u202e</li></ul>"));
	json_buf__free(&b);
	json_decref(j);
	report__free(r);
	store_free(st);
}

static void test_bad_calls(void **state)
{
	struct report_opts o = { .since_ns = AT(2), .until_ns = AT(1) };
	struct report *r;

	(void)state;
	errno = 0;
	assert_null(report__new(&o));
	assert_int_equal(errno, EINVAL);
	report__free(NULL);
	o.until_ns = AT(3);
	r = report__new(&o);
	assert_non_null(r);
	assert_int_equal(report__nodes(r), 0);
	assert_null(report__verdict(r));
	assert_int_equal(report__file(r, "/nonexistent/seg.seg.gz", NULL), 1);
	assert_non_null(strstr(report__error(r), "/nonexistent/seg.seg.gz: No such file"));
	assert_int_equal(report__finish(r), 0);
	assert_int_equal(report__finish(r), -EINVAL);
	assert_int_equal(report__file(r, "x", NULL), -EINVAL);
	/* The unreadable input is a node of its own, unnamed, and not complete. */
	assert_int_equal(report__nodes(r), 1);
	assert_string_equal(report__node(r, 0)->node, "");
	assert_false(report__complete(r));
	report__free(r);

	r = report__new(&o);
	assert_int_equal(report__finish(r), 0);
	assert_string_equal(report__verdict(r), "incomplete: no records in the inputs");
	assert_false(report__complete(r));
	report__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_ring_buffer_drop),
		cmocka_unit_test(test_noted_kinds),
		cmocka_unit_test(test_incomplete_kinds),
		cmocka_unit_test(test_sink_loss),
		cmocka_unit_test(test_sequence_hole),
		cmocka_unit_test(test_missing_beginning),
		cmocka_unit_test(test_heartbeat_missing),
		cmocka_unit_test(test_unclean_end_and_sensor_down),
		cmocka_unit_test(test_not_shipped),
		cmocka_unit_test(test_damaged_input),
		cmocka_unit_test(test_two_nodes),
		cmocka_unit_test(test_node_keys),
		cmocka_unit_test(test_collected_store),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_running_coverage),
		cmocka_unit_test(test_html_page),
		cmocka_unit_test(test_bad_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
