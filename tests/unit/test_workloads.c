/*
 * Unit tests for user/readers/wllist.c (the workloads of a record, for `firstlight
 * workloads`) and user/readers/wlfmt.c (its table and JSON lines), fed hand-built records.
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

#include "readers/wlfmt.h"
#include "readers/wllist.h"

#define MS 1000000ull
#define T0 (1700000000ull * 1000000000ull) /* 2023-11-14T22:13:20Z */
#define B0 (5000ull * 1000000000ull)

typedef Firstlight__V1__Event Event;

/* One record of each shape, filled in place; fed at once. */
struct fx {
	struct wllist *l;
	uint64_t seq;
	const char *run;
};

static Event ev_at(struct fx *f, double ms)
{
	Event e = FIRSTLIGHT__V1__EVENT__INIT;

	e.seq = ++f->seq;
	e.agent_run_id = (char *)f->run;
	e.time_unix_nano = T0 + (uint64_t)(ms * MS);
	return e;
}

static void workload(struct fx *f, double ms, const char *key, uint64_t cg, int state, const char *cid,
		     const char *pod, const char *ns, const char *image)
{
	Event e = ev_at(f, ms);
	Firstlight__V1__Workload w = FIRSTLIGHT__V1__WORKLOAD__INIT;

	w.key = (char *)key;
	w.cgroup_id = cg;
	w.state = state;
	w.kind = cid ? FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER : FIRSTLIGHT__V1__WORKLOAD__KIND__SERVICE;
	w.container_id = (char *)(cid ? cid : "");
	w.container_name = cid ? "app" : "";
	w.pod_name = (char *)(pod ? pod : "");
	w.pod_namespace = (char *)(ns ? ns : "");
	w.image = (char *)(image ? image : "");
	w.runtime = "runc";
	w.identity_verified = 1;
	w.first_seen_unix_nano = e.time_unix_nano;
	w.last_seen_unix_nano = e.time_unix_nano;
	e.body_case = FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD;
	e.workload = &w;
	assert_int_equal(wllist__add(f->l, &e), 0);
}

/* A fork (exec 0) or exec record of process pid started at start_ms, in key. */
static void process(struct fx *f, double ms, int exec, const char *key, uint32_t pid, double start_ms,
		    int snapshot)
{
	Event e = ev_at(f, ms);
	Firstlight__V1__Process p = FIRSTLIGHT__V1__PROCESS__INIT;
	Firstlight__V1__ProcessExec x = FIRSTLIGHT__V1__PROCESS_EXEC__INIT;
	Firstlight__V1__ProcessFork k = FIRSTLIGHT__V1__PROCESS_FORK__INIT;
	char id[64];

	snprintf(id, sizeof(id), "b00710c5:%llu:%u", (unsigned long long)(B0 + (uint64_t)(ms * MS)), pid);
	p.exec_id = id;
	p.pid = pid;
	p.workload_key = (char *)key;
	p.start_boot_nano = B0 + (uint64_t)(start_ms * MS);
	e.snapshot = snapshot;
	if (exec) {
		x.process = &p;
		e.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
		e.exec = &x;
	} else {
		k.process = &p;
		e.body_case = FIRSTLIGHT__V1__EVENT__BODY_FORK;
		e.fork = &k;
	}
	assert_int_equal(wllist__add(f->l, &e), 0);
}

static void gap(struct fx *f, double ms, const char *key, uint64_t seq)
{
	Event e = ev_at(f, ms);
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;

	if (seq)
		e.seq = seq;
	g.kind = FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP;
	g.workload_key = (char *)key;
	g.count = 3;
	e.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	e.gap = &g;
	assert_int_equal(wllist__add(f->l, &e), 0);
}

static void test_list(void **state)
{
	struct fx f = { .run = "run-1" };
	const struct wl_row *w, *h;

	(void)state;
	f.l = wllist__new();
	assert_non_null(f.l);
	/* A service seen first, a container with a pod after it. */
	workload(&f, 0, "cgroup:5", 5, FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, NULL, NULL, NULL, NULL);
	workload(&f, 10, "cgroup:42", 42, FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, "c0ffee1234567890", NULL, NULL, NULL);
	/* The runtime's init: a fork, then its exec, is one process. */
	process(&f, 11, 0, "cgroup:42", 100, 11, 0);
	process(&f, 12, 1, "cgroup:42", 100, 11, 0);
	/* Its child: fork and exec; and the same exec restated by a snapshot, and read twice. */
	process(&f, 13, 0, "cgroup:42", 101, 13, 0);
	process(&f, 14, 1, "cgroup:42", 101, 13, 0);
	process(&f, 30, 1, "cgroup:42", 101, 13, 1);
	process(&f, 14, 1, "cgroup:42", 101, 13, 0);
	/* The same pid later is another process. */
	process(&f, 20, 0, "cgroup:42", 100, 20, 0);
	/* RESOLVED: the pod and image; the latest record's fields win. */
	workload(&f, 15, "cgroup:42", 42, FIRSTLIGHT__V1__WORKLOAD__STATE__RESOLVED, "c0ffee1234567890", "web-0", "prod",
		 "busybox:1.35");
	/* A gap, read twice (same run and seq): one gap. */
	gap(&f, 16, "cgroup:42", 900);
	gap(&f, 16, "cgroup:42", 900);
	gap(&f, 17, "cgroup:42", 901);
	workload(&f, 40, "cgroup:42", 42, FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED, "c0ffee1234567890", "web-0", "prod",
		 "busybox:1.35");
	/* A sandbox known only from its processes' key. */
	process(&f, 5, 1, "sandbox:pidns:4026532999", 300, 5, 0);
	assert_int_equal(wllist__finish(f.l), 0);
	assert_int_equal(wllist__add(f.l, NULL), -EINVAL); /* after finish */

	assert_int_equal(wllist__count(f.l), 3);
	/* In the order first seen. */
	assert_string_equal(wllist__row(f.l, 0)->key, "cgroup:5");
	assert_string_equal(wllist__row(f.l, 1)->key, "sandbox:pidns:4026532999");
	assert_string_equal(wllist__row(f.l, 2)->key, "cgroup:42");
	w = wllist__find(f.l, NULL, "cgroup:42");
	assert_ptr_equal(w, wllist__row(f.l, 2));
	assert_int_equal(w->kind, FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER);
	assert_string_equal(w->container_id, "c0ffee1234567890");
	assert_string_equal(w->pod_name, "web-0");
	assert_string_equal(w->pod_namespace, "prod");
	assert_string_equal(w->image, "busybox:1.35");
	assert_string_equal(w->owner, "");
	assert_true(w->ended);
	assert_int_equal(w->processes, 3);
	assert_int_equal(w->gaps, 2);
	assert_int_equal(w->first_ns, T0 + 10 * MS);
	assert_int_equal(w->last_ns, T0 + 40 * MS);
	h = wllist__find(f.l, NULL, "sandbox:pidns:4026532999");
	assert_false(h->has_record);
	assert_int_equal(h->kind, 0);
	assert_int_equal(h->processes, 1);
	assert_null(wllist__find(f.l, NULL, "cgroup:7"));
	assert_null(wllist__find(f.l, "other-node", "cgroup:42"));
	assert_int_equal(wllist__nodes(f.l), 1);
	wllist__free(f.l);
	wllist__free(NULL);
}

static void test_render(void **state)
{
	struct fx f = { .run = "run-1" };
	const struct wl_row *rows[2];
	struct json_buf out = {};
	json_error_t e;
	json_t *j;

	(void)state;
	f.l = wllist__new();
	workload(&f, 0, "cgroup:42", 42, FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, "c0ffee1234567890", "web-0", "prod",
		 "busybox:1.35");
	process(&f, 1, 1, "cgroup:42", 100, 1, 0);
	/* A hostile image name: escaped for the terminal, lossless in JSON. */
	process(&f, 2, 1, "cgroup:7", 200, 2, 0);
	workload(&f, 3, "cgroup:7", 7, FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, "bad", NULL, NULL, "x\x1b[2Jy");
	wllist__finish(f.l);
	rows[0] = wllist__row(f.l, 0);
	rows[1] = wllist__row(f.l, 1);
	assert_int_equal(wlfmt__text(&out, rows, 2), 0);
	assert_string_equal(out.data,
		"KEY        KIND       CONTAINER     NAME  POD         IMAGE         OWNER  FIRST SEEN                LAST SEEN                 PROCESSES  GAPS\n"
		"cgroup:42  CONTAINER  c0ffee123456  app   prod/web-0  busybox:1.35  -      2023-11-14T22:13:20.000Z  2023-11-14T22:13:20.001Z          1     0\n"
		"cgroup:7   CONTAINER  bad           app   -           x\\x1b[2Jy     -      2023-11-14T22:13:20.002Z  2023-11-14T22:13:20.003Z          1     0\n");
	json_buf__reset(&out);
	assert_int_equal(wlfmt__json(&out, rows[0]), 0);
	j = json_loads(out.data, 0, &e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "key")), "cgroup:42");
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "CONTAINER");
	assert_string_equal(json_string_value(json_object_get(j, "containerId")), "c0ffee1234567890");
	assert_string_equal(json_string_value(json_object_get(j, "podNamespace")), "prod");
	assert_true(json_is_null(json_object_get(j, "owner")));
	assert_string_equal(json_string_value(json_object_get(j, "processes")), "1");
	assert_string_equal(json_string_value(json_object_get(j, "firstSeen")), "2023-11-14T22:13:20.000000000Z");
	assert_true(json_is_false(json_object_get(j, "ended")));
	assert_int_equal(json_object_size(j), 21);
	assert_string_equal(json_string_value(json_object_get(j, "node")), "");
	json_decref(j);
	json_buf__reset(&out);
	assert_int_equal(wlfmt__text(&out, rows, 0), 0);
	assert_int_equal(out.len, 0);
	json_buf__free(&out);
	assert_string_equal(wlfmt__kind_name(0), "-");
	assert_string_equal(wlfmt__kind_name(FIRSTLIGHT__V1__WORKLOAD__KIND__POD_SANDBOX), "POD_SANDBOX");
	assert_string_equal(wlfmt__kind_name(999), "-");
	wllist__free(f.l);
}

/* Two nodes (a collected store): "cgroup:1" is each node's own, listed apart, by node. */
static void test_nodes(void **state)
{
	struct fx f = { .run = "run-1" };
	const struct wl_row *rows[3];
	struct json_buf out = {};
	Event e;
	Firstlight__V1__Workload w = FIRSTLIGHT__V1__WORKLOAD__INIT;
	const char *nodes[] = { "node-b", "node-a", "node-b" };

	(void)state;
	f.l = wllist__new();
	for (int i = 0; i < 3; i++) {
		e = ev_at(&f, i);
		e.node = (char *)nodes[i];
		w.key = "cgroup:1";
		w.cgroup_id = 1;
		w.kind = FIRSTLIGHT__V1__WORKLOAD__KIND__HOST;
		w.state = FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED;
		e.body_case = FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD;
		e.workload = &w;
		assert_int_equal(wllist__add(f.l, &e), 0);
	}
	wllist__finish(f.l);
	assert_int_equal(wllist__count(f.l), 2);
	assert_int_equal(wllist__nodes(f.l), 2);
	assert_string_equal(wllist__row(f.l, 0)->node, "node-a");
	assert_string_equal(wllist__row(f.l, 1)->node, "node-b");
	assert_non_null(wllist__find(f.l, "node-b", "cgroup:1"));
	for (size_t i = 0; i < 2; i++)
		rows[i] = wllist__row(f.l, i);
	assert_int_equal(wlfmt__text(&out, rows, 2), 0);
	assert_string_equal(out.data,
		"NODE    KEY       KIND  CONTAINER  NAME  POD  IMAGE  OWNER  FIRST SEEN                LAST SEEN                 PROCESSES  GAPS\n"
		"node-a  cgroup:1  HOST  -          -     -    -      -      2023-11-14T22:13:20.001Z  2023-11-14T22:13:20.001Z          0     0\n"
		"node-b  cgroup:1  HOST  -          -     -    -      -      2023-11-14T22:13:20.000Z  2023-11-14T22:13:20.002Z          0     0\n");
	json_buf__free(&out);
	wllist__free(f.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
