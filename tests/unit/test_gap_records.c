/* Unit tests for user/records/gaps.c (gap records and their per-workload aggregation) and
 * user/agent/runstate.c (the run state file behind SENSOR_DOWN gaps). */
#include <errno.h>
#include <fcntl.h>
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

#include "records/gaps.h"
#include "records/record.h"
#include "agent/runstate.h"
#include "records/sink.h"

#include "capture_sink.h"

struct fixture {
	struct capture cap;
	struct recorder rec;
	struct gaps *gaps;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	capture_init(&f->cap);
	assert_int_equal(recorder__init(&f->rec, &f->cap.base), 0);
	f->gaps = gaps__new(&f->rec);
	assert_non_null(f->gaps);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	gaps__free(f->gaps);
	capture_free(&f->cap.base);
	recorder__fini(&f->rec);
	free(f);
	return 0;
}

static void test_emit_fields(void **state)
{
	struct fixture *f = *state;
	struct gap_info gi = {
		.kind = FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS, .cgroup_id = 77, .start_unix_ns = 10,
		.end_unix_ns = 20, .count = 3, .detail = "disk full", .reason = "disk-full",
		.first_seq = 100, .last_seq = 102,
	};
	Firstlight__V1__Gap *g;

	assert_int_equal(gaps__emit(f->gaps, &gi), 0);
	assert_int_equal(f->cap.n, 1);
	g = f->cap.recs[0]->gap;
	assert_non_null(g);
	assert_int_equal(g->kind, FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS);
	assert_int_equal(g->cgroup_id, 77);
	assert_string_equal(g->workload_key, "cgroup:77");
	assert_int_equal(g->start_time_unix_nano, 10);
	assert_int_equal(g->end_time_unix_nano, 20);
	assert_int_equal(g->count, 3);
	assert_int_equal(g->first_seq, 100);
	assert_int_equal(g->last_seq, 102);
	assert_string_equal(g->reason, "disk-full");
	assert_int_equal(gaps__by_kind(f->gaps)[FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS], 1);
}

static void test_no_cgroup_no_key(void **state)
{
	struct fixture *f = *state;
	struct gap_info gi = { .kind = FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, .count = 1 };

	gaps__emit(f->gaps, &gi);
	assert_string_equal(f->cap.recs[0]->gap->workload_key, "");
}

/* Floods come out as one record per workload and kind, with count and window. */
static void test_aggregation(void **state)
{
	struct fixture *f = *state;
	int ms = FIRSTLIGHT__V1__GAP__KIND__MISSING_START;
	int pe = FIRSTLIGHT__V1__GAP__KIND__PRE_EXISTING;

	for (int i = 0; i < 1000; i++)
		gaps__count(f->gaps, ms, 5, "cgroup:5", 1000 + (uint64_t)(i % 7));
	gaps__count(f->gaps, ms, 6, "cgroup:6", 50);
	gaps__count(f->gaps, pe, 5, "cgroup:5", 40);
	gaps__count(f->gaps, ms, 5, "sandbox:pidns:9", 60);
	assert_int_equal(f->cap.n, 0); /* nothing before the flush */
	gaps__flush(f->gaps);
	assert_int_equal(f->cap.n, 4);
	assert_int_equal(f->cap.recs[0]->gap->kind, ms);
	assert_int_equal(f->cap.recs[0]->gap->count, 1000);
	assert_int_equal(f->cap.recs[0]->gap->start_time_unix_nano, 1000);
	assert_int_equal(f->cap.recs[0]->gap->end_time_unix_nano, 1006);
	assert_string_equal(f->cap.recs[0]->gap->workload_key, "cgroup:5");
	assert_non_null(strstr(f->cap.recs[0]->gap->detail, "never recorded"));
	assert_int_equal(f->cap.recs[1]->gap->cgroup_id, 6);
	assert_int_equal(f->cap.recs[2]->gap->kind, pe);
	assert_string_equal(f->cap.recs[3]->gap->workload_key, "sandbox:pidns:9");
	gaps__flush(f->gaps); /* emptied: nothing more */
	assert_int_equal(f->cap.n, 4);
	assert_int_equal(gaps__by_kind(f->gaps)[ms], 3);
}

/* ---- runstate ------------------------------------------------------------------------- */

static char dir[64];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fl-runstate.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_state_round_trip(void **state)
{
	struct runstate in = { .run_id = "0123abcd-0000-4000-8000-00000000beef",
			       .boot_id = "faa7a74c-75cb-4b51-8f4c-1e03c45b0fdb",
			       .started_unix_ns = 1, .heartbeat_unix_ns = 1795778486375734294ull,
			       .last_seq = 42, .clean = 1, .stopped_unix_ns = 99 };
	struct runstate out;
	struct stat st;
	char path[128];

	(void)state;
	assert_int_equal(runstate__load(dir, &out), -ENOENT);
	assert_int_equal(runstate__save(dir, &in), 0);
	assert_int_equal(runstate__load(dir, &out), 0);
	assert_string_equal(out.run_id, in.run_id);
	assert_string_equal(out.boot_id, in.boot_id);
	assert_int_equal(out.started_unix_ns, in.started_unix_ns);
	assert_int_equal(out.heartbeat_unix_ns, in.heartbeat_unix_ns);
	assert_int_equal(out.last_seq, 42);
	assert_int_equal(out.clean, 1);
	assert_int_equal(out.stopped_unix_ns, 99);
	snprintf(path, sizeof(path), "%s/%s", dir, RUNSTATE_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	in.clean = 0;
	in.last_seq = 43;
	assert_int_equal(runstate__save(dir, &in), 0); /* replaces */
	assert_int_equal(runstate__load(dir, &out), 0);
	assert_int_equal(out.clean, 0);
	assert_int_equal(out.last_seq, 43);
}

static void test_state_malformed(void **state)
{
	static const char *const bad[] = {
		"",                                              /* no run id */
		"version=2\nrun_id=ab\n",                        /* a newer format */
		"run_id=../../etc\n",                            /* not an id */
		"run_id=ab\nlast_seq=-1\n",                      /* not a number */
		"run_id=ab\nlast_seq=99999999999999999999999\n", /* overflow */
		"garbage\n",
	};
	struct runstate out;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(RUNSTATE_FILE, bad[i]);
		assert_int_equal(runstate__load(dir, &out), -EBADMSG);
	}
	write_file(RUNSTATE_FILE, "run_id=ab\nfuture_key=whatever\n");
	assert_int_equal(runstate__load(dir, &out), 0); /* unknown keys are a newer agent's */
}

static void test_state_refuses_symlink(void **state)
{
	char path[128];
	struct runstate out;

	(void)state;
	write_file("elsewhere", "run_id=ab\n");
	snprintf(path, sizeof(path), "%s/%s", dir, RUNSTATE_FILE);
	assert_int_equal(symlink("elsewhere", path), 0);
	assert_int_equal(runstate__load(dir, &out), -ELOOP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_emit_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_cgroup_no_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aggregation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_round_trip, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_state_malformed, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_state_refuses_symlink, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
