/* Unit tests for user/readers/gapscan.c (hole detection on events built here, fed one at
 * a time) and for what `firstlight gaps` prints with: time parsing (user/base/timefmt.c),
 * terminal escaping (user/base/textesc.c), and the exact text and JSON renderings
 * (user/readers/gapfmt.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/textesc.h"
#include "base/timefmt.h"
#include "readers/gapfmt.h"
#include "readers/gapscan.h"

#define SEC 1000000000ull
#define T0 (1700000000ull * SEC) /* 2023-11-14T22:13:20Z */
#define AT(s) (T0 + (uint64_t)((s) * 1e3) * 1000000ull) /* T0 + s seconds, ms precision */

/* ---- building events ------------------------------------------------------------------ */

static void feed_ev(struct gapscan *s, Firstlight__V1__Event *ev, const char *run, uint64_t seq,
		    uint64_t t)
{
	ev->agent_run_id = (char *)run;
	ev->node = "node-1";
	ev->seq = seq;
	ev->time_unix_nano = t;
	assert_int_equal(gapscan__add(s, ev), 0);
}

/* An ordinary record (a process exit): only its seq and time matter here. */
static void plain(struct gapscan *s, const char *run, uint64_t seq, uint64_t t)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	Firstlight__V1__ProcessExit ex = FIRSTLIGHT__V1__PROCESS_EXIT__INIT;

	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXIT;
	ev.exit = &ex;
	feed_ev(s, &ev, run, seq, t);
}

static void beat(struct gapscan *s, const char *run, uint64_t seq, uint64_t t, uint64_t interval)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	Firstlight__V1__Heartbeat hb = FIRSTLIGHT__V1__HEARTBEAT__INIT;

	hb.interval_nano = interval;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT;
	ev.heartbeat = &hb;
	feed_ev(s, &ev, run, seq, t);
}

static void agent(struct gapscan *s, const char *run, uint64_t seq, uint64_t t, int state)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	Firstlight__V1__AgentLifecycle ag = FIRSTLIGHT__V1__AGENT_LIFECYCLE__INIT;

	ag.state = state;
	ag.pid = 4242;
	ag.boot_id = "boot-1";
	ev.boot_nano = 7 * SEC;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_AGENT;
	ev.agent = &ag;
	feed_ev(s, &ev, run, seq, t);
}

#define STARTED FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STARTED
#define STOPPED FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED

static void gap(struct gapscan *s, const char *run, uint64_t seq, uint64_t t,
		const Firstlight__V1__Gap *g)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	ev.gap = (Firstlight__V1__Gap *)g;
	feed_ev(s, &ev, run, seq, t);
}

/* Records from..to of run, one second apart from T0 + from seconds. */
static void plain_range(struct gapscan *s, const char *run, uint64_t from, uint64_t to)
{
	for (uint64_t q = from; q <= to; q++)
		plain(s, run, q, AT(q));
}

static struct gapscan *scan(void)
{
	struct gapscan *s = gapscan__new();

	assert_non_null(s);
	assert_int_equal(gapscan__begin_file(s, "a.seg.gz"), 0);
	return s;
}

static void finish(struct gapscan *s)
{
	assert_int_equal(gapscan__finish(s, NULL), 0);
}

static const struct gap_row *row(struct gapscan *s, size_t i)
{
	const struct gap_row *g = gapscan__row(s, i);

	assert_non_null(g);
	return g;
}

static void expect_missing(const struct gap_row *g, int kind, const char *run, uint64_t first,
			   uint64_t last, uint64_t start, uint64_t end)
{
	assert_int_equal(g->kind, kind);
	assert_int_equal(g->detected, 1);
	assert_string_equal(g->run_id, run);
	assert_int_equal(g->first_seq, first);
	assert_int_equal(g->last_seq, last);
	assert_int_equal(g->has_count, 1);
	assert_int_equal(g->count, last - first + 1);
	assert_int_equal(g->start_ns, start);
	assert_int_equal(g->end_ns, end);
}

/* ---- gapscan ------------------------------------------------------------------------- */

static void test_clean_run(void **state)
{
	struct gapscan *s = scan();
	struct gapscan_stats st;

	(void)state;
	agent(s, "r1", 1, AT(0), STARTED);
	beat(s, "r1", 2, AT(10), 10 * SEC);
	plain(s, "r1", 3, AT(11));
	plain(s, "r1", 4, AT(12));
	beat(s, "r1", 5, AT(20), 10 * SEC);
	beat(s, "r1", 6, AT(30), 10 * SEC);
	agent(s, "r1", 7, AT(35), STOPPED);
	finish(s);
	assert_int_equal(gapscan__count(s), 0);
	gapscan__stats(s, &st);
	assert_int_equal(st.records, 7);
	assert_int_equal(st.runs, 1);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.duplicates, 0);
	assert_int_equal(st.live_runs, 0);
	gapscan__free(s);
}

static void test_seq_hole(void **state)
{
	struct gapscan *s = scan();
	const struct gap_row *g;

	(void)state;
	agent(s, "r1", 1, AT(1), STARTED);
	plain_range(s, "r1", 2, 4);
	assert_int_equal(gapscan__begin_file(s, "b.seg.gz"), 0);
	plain_range(s, "r1", 8, 9);
	agent(s, "r1", 10, AT(10), STOPPED);
	plain(s, "r1", 12, AT(12)); /* a single one missing too: 11 */
	finish(s);
	assert_int_equal(gapscan__count(s), 2);
	g = row(s, 0);
	expect_missing(g, GAPSCAN_SEQUENCE_HOLE, "r1", 5, 7, AT(4), AT(8));
	assert_string_equal(g->detail, "seq 5-7 missing");
	assert_string_equal(g->file, "b.seg.gz"); /* where the record after the hole is */
	assert_string_equal(g->node, "node-1");
	assert_string_equal(g->workload, "");
	assert_int_equal(g->seq, 0);
	g = row(s, 1);
	expect_missing(g, GAPSCAN_SEQUENCE_HOLE, "r1", 11, 11, AT(10), AT(12));
	assert_string_equal(g->detail, "seq 11 missing");
	gapscan__free(s);
}

static void test_out_of_order_and_duplicates(void **state)
{
	struct gapscan *s = scan();
	struct gapscan_stats st;

	(void)state;
	/* Files given newest first, and one of them twice. */
	agent(s, "r1", 10, AT(10), STOPPED);
	plain_range(s, "r1", 6, 9);
	plain_range(s, "r1", 6, 9);
	plain_range(s, "r1", 2, 4);
	agent(s, "r1", 1, AT(1), STARTED);
	finish(s);
	assert_int_equal(gapscan__count(s), 1);
	expect_missing(row(s, 0), GAPSCAN_SEQUENCE_HOLE, "r1", 5, 5, AT(4), AT(6));
	gapscan__stats(s, &st);
	assert_int_equal(st.records, 13);
	assert_int_equal(st.duplicates, 4);
	gapscan__free(s);
}

/* A removal record of retention. */
static void removed(struct gapscan *s, const char *run, uint64_t seq, uint64_t t, const char *of_run,
		    uint64_t first, uint64_t last)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	Firstlight__V1__SegmentRemoved sr = FIRSTLIGHT__V1__SEGMENT_REMOVED__INIT;

	sr.agent_run_id = (char *)of_run;
	sr.first_seq = first;
	sr.last_seq = last;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_SEGMENT_REMOVED;
	ev.segment_removed = &sr;
	feed_ev(s, &ev, run, seq, t);
}

/*
 * Retention goes oldest first, and prunes its own removal records with the segments
 * that held them: the store starts at seq 40, the one removal record left names 30-39.
 * Seqs 1-29 went before, by the same policy: no hole. A hole after the removed range
 * is still one.
 */
static void test_retention_pruned_its_records(void **state)
{
	struct gapscan *s = scan();

	(void)state;
	plain_range(s, "r1", 40, 44);
	removed(s, "r1", 45, AT(45), "r1", 30, 39);
	plain_range(s, "r1", 46, 47);
	plain_range(s, "r1", 50, 51);
	agent(s, "r1", 52, AT(52), STOPPED);
	finish(s);
	assert_int_equal(gapscan__count(s), 1);
	expect_missing(row(s, 0), GAPSCAN_SEQUENCE_HOLE, "r1", 48, 49, AT(47), AT(50));
	gapscan__free(s);
}

/* Spans against a model: any order, any holes, the holes come out exactly. */
static void test_spans_model(void **state)
{
	enum { N = 300 };
	uint32_t rng = 12345;

	(void)state;
	for (int round = 0; round < 50; round++) {
		struct gapscan *s = scan();
		uint64_t order[N];
		int present[N + 1] = {};
		size_t n = 0, r = 0;

		for (uint64_t q = 1; q <= N; q++) {
			rng = rng * 1103515245u + 12345u;
			/* Keep seq 1 and N so that only inner holes exist. */
			if (q == 1 || q == N || (rng >> 16) % 4) {
				present[q] = 1;
				order[n++] = q;
			}
		}
		for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
			size_t j;
			uint64_t tmp;

			rng = rng * 1103515245u + 12345u;
			j = (rng >> 8) % (i + 1);
			tmp = order[i];
			order[i] = order[j];
			order[j] = tmp;
		}
		for (size_t i = 0; i < n; i++)
			if (order[i] == N)
				agent(s, "r", N, AT(N), STOPPED);
			else
				plain(s, "r", order[i], AT(order[i]));
		finish(s);
		for (uint64_t q = 1; q <= N; q++) {
			uint64_t end = q;

			if (present[q])
				continue;
			while (!present[end + 1])
				end++;
			expect_missing(row(s, r), GAPSCAN_SEQUENCE_HOLE, "r", q, end, AT(q - 1),
				       AT(end + 1));
			r++;
			q = end;
		}
		assert_int_equal(gapscan__count(s), r);
		gapscan__free(s);
	}
}

static void test_interleaved_runs(void **state)
{
	struct gapscan *s = scan();
	const struct gap_row *g;

	(void)state;
	/* Two agents' files read in name order: run "b" began earlier than run "a". */
	for (uint64_t q = 1; q <= 6; q++) {
		if (q != 3)
			plain(s, "a", q, AT(100 + q));
		if (q != 5)
			plain(s, "b", q, AT(q));
	}
	agent(s, "b", 7, AT(7), STOPPED);
	finish(s);
	assert_int_equal(gapscan__count(s), 3);
	expect_missing(row(s, 0), GAPSCAN_SEQUENCE_HOLE, "b", 5, 5, AT(4), AT(6));
	expect_missing(row(s, 1), GAPSCAN_SEQUENCE_HOLE, "a", 3, 3, AT(102), AT(104));
	g = row(s, 2);
	assert_int_equal(g->kind, GAPSCAN_UNCLEAN_END);
	assert_string_equal(g->run_id, "a");
	gapscan__free(s);
}

static void test_missing_beginning(void **state)
{
	struct gapscan *s = scan();
	const struct gap_row *g;

	(void)state;
	plain_range(s, "r1", 42, 44);
	agent(s, "r1", 45, AT(45), STOPPED);
	finish(s);
	assert_int_equal(gapscan__count(s), 1);
	g = row(s, 0);
	expect_missing(g, GAPSCAN_MISSING_BEGINNING, "r1", 1, 41, 0, AT(42));
	assert_string_equal(g->detail, "seq 1-41 missing: the first record read is seq 42 "
				       "(the run's start was pruned or deleted)");
	gapscan__free(s);
}

static void test_unclean_end(void **state)
{
	struct gapscan *s = scan();
	const struct gap_row *g;

	(void)state;
	agent(s, "r1", 1, AT(1), STARTED);
	plain(s, "r1", 2, AT(9)); /* the latest time, */
	plain(s, "r1", 3, AT(8)); /* though not the highest seq */
	finish(s);
	assert_int_equal(gapscan__count(s), 1);
	g = row(s, 0);
	assert_int_equal(g->kind, GAPSCAN_UNCLEAN_END);
	assert_int_equal(g->detected, 1);
	assert_int_equal(g->start_ns, AT(9));
	assert_int_equal(g->end_ns, 0);
	assert_int_equal(g->has_count, 0);
	assert_int_equal(g->first_seq, 0);
	assert_string_equal(g->detail, "no STOPPED record after seq 3: the agent crashed or was killed");
	assert_string_equal(g->file, "a.seg.gz");
	gapscan__free(s);
}

struct live_ctx {
	int answer, calls;
	uint32_t pid;
	char boot[32];
	uint64_t boot_ns;
};

static int live_cb(void *ctx, uint32_t pid, const char *boot_id, uint64_t started_boot_ns)
{
	struct live_ctx *c = ctx;

	c->calls++;
	c->pid = pid;
	snprintf(c->boot, sizeof(c->boot), "%s", boot_id);
	c->boot_ns = started_boot_ns;
	return c->answer;
}

static void live_run(struct gapscan *s)
{
	agent(s, "r1", 1, AT(0), STARTED);
	beat(s, "r1", 2, AT(10), 10 * SEC);
	plain(s, "r1", 3, AT(15));
}

static void test_live_run(void **state)
{
	struct live_ctx c = { .answer = 1 };
	struct gapscan_env env = { .now_ns = AT(30), .run_is_live = live_cb, .ctx = &c };
	struct gapscan *s = scan();
	struct gapscan_stats st;

	(void)state;
	live_run(s);
	assert_int_equal(gapscan__finish(s, &env), 0);
	/* Its agent runs and the last heartbeat is 20 s old: not more than 2 intervals. */
	assert_int_equal(gapscan__count(s), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.pid, 4242);
	assert_string_equal(c.boot, "boot-1");
	assert_int_equal(c.boot_ns, 7 * SEC);
	gapscan__stats(s, &st);
	assert_int_equal(st.live_runs, 1);
	gapscan__free(s);

	/* Alive but silent for 25 s: the heartbeats it owes are missing, up to now. */
	s = scan();
	live_run(s);
	env.now_ns = AT(35);
	assert_int_equal(gapscan__finish(s, &env), 0);
	assert_int_equal(gapscan__count(s), 1);
	assert_int_equal(row(s, 0)->kind, GAPSCAN_HEARTBEAT_MISSING);
	assert_int_equal(row(s, 0)->start_ns, AT(10));
	assert_int_equal(row(s, 0)->end_ns, AT(35));
	assert_int_equal(row(s, 0)->count, 2);
	assert_string_equal(row(s, 0)->detail, "no heartbeat for 25s (interval 10s) since seq 2, "
					       "yet agent pid 4242 still runs");
	gapscan__free(s);

	/* Not alive: an unclean end, and no heartbeat window up to now. */
	c.answer = 0;
	s = scan();
	live_run(s);
	assert_int_equal(gapscan__finish(s, &env), 0);
	assert_int_equal(gapscan__count(s), 1);
	assert_int_equal(row(s, 0)->kind, GAPSCAN_UNCLEAN_END);
	gapscan__free(s);

	/* Stopped runs are never asked about. */
	c.calls = 0;
	s = scan();
	live_run(s);
	agent(s, "r1", 4, AT(16), STOPPED);
	assert_int_equal(gapscan__finish(s, &env), 0);
	assert_int_equal(gapscan__count(s), 0);
	assert_int_equal(c.calls, 0);
	gapscan__free(s);
}

/* Runs of another machine (a collected store): live while heard from; the newest run of a
 * node that is not heard from and did not stop is NODE_SILENT; an older one UNCLEAN_END. */
static void test_remote_node_silent(void **state)
{
	struct live_ctx c = { .answer = 1 };
	struct gapscan_env env = { .now_ns = AT(30), .run_is_live = live_cb, .ctx = &c,
				   .local_node = "the-reader's-node" };
	struct gapscan *s = scan();

	(void)state;
	live_run(s);
	assert_int_equal(gapscan__finish(s, &env), 0);
	assert_int_equal(gapscan__count(s), 0); /* heard from 15 s ago: live */
	assert_int_equal(c.calls, 0);           /* /proc says nothing of another machine */
	gapscan__free(s);

	s = scan();
	live_run(s);
	env.now_ns = AT(100);
	assert_int_equal(gapscan__finish(s, &env), 0);
	assert_int_equal(gapscan__count(s), 1);
	assert_int_equal(row(s, 0)->kind, FIRSTLIGHT__V1__GAP__KIND__NODE_SILENT);
	assert_int_equal(row(s, 0)->detected, 1);
	assert_int_equal(row(s, 0)->start_ns, AT(15));
	assert_non_null(strstr(row(s, 0)->detail, "nothing heard since its record seq 3 and no STOPPED record"));
	gapscan__free(s);

	/* A run of the node without STOPPED, then a newer one: the older ended uncleanly. */
	s = scan();
	live_run(s);
	agent(s, "r2", 1, AT(20), STARTED);
	plain(s, "r2", 2, AT(25));
	env.now_ns = AT(30);
	assert_int_equal(gapscan__finish(s, &env), 0);
	assert_int_equal(gapscan__count(s), 1);
	assert_int_equal(row(s, 0)->kind, GAPSCAN_UNCLEAN_END);
	assert_string_equal(row(s, 0)->run_id, "r1");
	gapscan__free(s);
}

static void test_heartbeat_missing(void **state)
{
	struct gapscan *s = scan();
	const struct gap_row *g;

	(void)state;
	agent(s, "r1", 1, AT(0), STARTED);
	beat(s, "r1", 2, AT(10), 10 * SEC);
	beat(s, "r1", 3, AT(30), 10 * SEC);   /* exactly 2 intervals: fine */
	plain(s, "r1", 4, AT(40));            /* ordinary records do not count */
	beat(s, "r1", 5, AT(65), 10 * SEC);   /* 35 s: 3 heartbeats missing */
	beat(s, "r1", 6, AT(70), 10 * SEC);
	beat(s, "r1", 7, AT(90) + 1, 10 * SEC); /* 20 s + 1 ns: 2 missing */
	agent(s, "r1", 8, AT(91), STOPPED);
	finish(s);
	assert_int_equal(gapscan__count(s), 2);
	g = row(s, 0);
	assert_int_equal(g->kind, GAPSCAN_HEARTBEAT_MISSING);
	assert_int_equal(g->start_ns, AT(30));
	assert_int_equal(g->end_ns, AT(65));
	assert_int_equal(g->count, 3);
	assert_int_equal(g->first_seq, 0);
	assert_string_equal(g->detail, "no heartbeat for 35s (interval 10s) between seq 3 and seq 5");
	g = row(s, 1);
	assert_int_equal(g->start_ns, AT(70));
	assert_int_equal(g->end_ns, AT(90) + 1);
	assert_int_equal(g->count, 2);
	gapscan__free(s);
}

static void test_heartbeat_after_start(void **state)
{
	struct gapscan *s = scan();

	(void)state;
	/* Seeding a large node between STARTED and the first heartbeat is no stall. */
	agent(s, "r1", 1, AT(0), STARTED);
	plain_range(s, "r1", 2, 40);
	beat(s, "r1", 41, AT(45), 10 * SEC);
	beat(s, "r1", 42, AT(55), 10 * SEC);
	agent(s, "r1", 43, AT(56), STOPPED);
	finish(s);
	assert_int_equal(gapscan__count(s), 0);
	gapscan__free(s);

	/* The last heartbeat to the STOPPED record is checked. */
	s = scan();
	beat(s, "r1", 1, AT(0), 10 * SEC);
	agent(s, "r1", 2, AT(21), STOPPED);
	finish(s);
	assert_int_equal(gapscan__count(s), 1);
	assert_int_equal(row(s, 0)->kind, GAPSCAN_HEARTBEAT_MISSING);
	assert_int_equal(row(s, 0)->end_ns, AT(21));
	assert_int_equal(row(s, 0)->count, 2);
	gapscan__free(s);
}

static void test_heartbeat_needs_interval(void **state)
{
	struct gapscan *s = scan();

	(void)state;
	/* An agent that writes no heartbeat: nothing says how often to expect one. */
	agent(s, "r1", 1, AT(0), STARTED);
	agent(s, "r1", 2, AT(3600), STOPPED);
	finish(s);
	assert_int_equal(gapscan__count(s), 0);
	gapscan__free(s);
}

static void test_heartbeat_by_seq(void **state)
{
	struct gapscan *s = scan();

	(void)state;
	/* The wall clock stepped back 1 h between two heartbeats: no window either way. */
	agent(s, "r1", 1, AT(3600), STARTED);
	beat(s, "r1", 2, AT(3610), 10 * SEC);
	beat(s, "r1", 3, AT(5), 10 * SEC);
	beat(s, "r1", 4, AT(15), 10 * SEC);
	agent(s, "r1", 5, AT(16), STOPPED);
	finish(s);
	assert_int_equal(gapscan__count(s), 0);
	gapscan__free(s);
}

static Firstlight__V1__Gap sink_loss(uint64_t first, uint64_t last)
{
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;

	g.kind = FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS;
	g.first_seq = first;
	g.last_seq = last;
	g.count = last - first + 1;
	g.reason = "disk-full";
	return g;
}

static void test_sink_loss_accounts_for_holes(void **state)
{
	const struct { uint64_t f, l; int n; uint64_t holes[2][2]; } cases[] = {
		{ 5, 9, 0, {} },                        /* all of the hole: nothing detected */
		{ 5, 7, 1, { { 8, 9 } } },              /* its start */
		{ 6, 7, 2, { { 5, 5 }, { 8, 9 } } },    /* its middle */
		{ 1, 20, 0, {} },                       /* more than the hole */
		{ 12, 14, 1, { { 5, 9 } } },            /* elsewhere */
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		Firstlight__V1__Gap g = sink_loss(cases[c].f, cases[c].l);
		struct gapscan *s = scan();
		size_t r = 0;

		plain_range(s, "r1", 1, 4);
		plain_range(s, "r1", 10, 10);
		gap(s, "r1", 11, AT(11), &g);
		agent(s, "r1", 12, AT(12), STOPPED);
		finish(s);
		assert_int_equal(gapscan__count(s), 1 + (size_t)cases[c].n);
		for (size_t i = 0; i < gapscan__count(s); i++) {
			const struct gap_row *w = row(s, i);

			if (!w->detected) {
				assert_int_equal(w->kind, FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS);
				continue;
			}
			expect_missing(w, GAPSCAN_SEQUENCE_HOLE, "r1", cases[c].holes[r][0],
				       cases[c].holes[r][1], AT(4), AT(10));
			r++;
		}
		assert_int_equal(r, cases[c].n);
		gapscan__free(s);
	}
}

static void test_recorded_gap(void **state)
{
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;
	struct gapscan *s = scan();
	const struct gap_row *w;
	char buf[GAPSCAN_KIND_NAME_MAX];

	(void)state;
	/* Heap strings freed right after the add: the scanner must keep copies. */
	g.kind = FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP;
	g.cgroup_id = 77;
	g.start_time_unix_nano = AT(2);
	g.end_time_unix_nano = AT(3);
	g.count = 12;
	g.detail = strdup("12 exec events lost: ring buffer full");
	g.event_type = strdup("exec");
	g.workload_key = strdup("cgroup:77");
	g.reason = strdup("ring-full");
	g.previous_run_id = strdup("r0");
	agent(s, "r1", 1, AT(1), STARTED);
	gap(s, "r1", 2, AT(4), &g);
	free(g.detail);
	free(g.event_type);
	free(g.workload_key);
	free(g.reason);
	free(g.previous_run_id);
	agent(s, "r1", 3, AT(5), STOPPED);
	finish(s);
	assert_int_equal(gapscan__count(s), 1);
	w = row(s, 0);
	assert_int_equal(w->kind, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP);
	assert_string_equal(gapscan__kind_name(w->kind, buf), "RING_BUFFER_DROP");
	assert_int_equal(w->detected, 0);
	assert_string_equal(w->run_id, "r1");
	assert_string_equal(w->node, "node-1");
	assert_int_equal(w->seq, 2);
	assert_int_equal(w->record_ns, AT(4));
	assert_int_equal(w->cgroup_id, 77);
	assert_int_equal(w->start_ns, AT(2));
	assert_int_equal(w->end_ns, AT(3));
	assert_int_equal(w->count, 12);
	assert_int_equal(w->has_count, 1);
	assert_string_equal(w->detail, "12 exec events lost: ring buffer full");
	assert_string_equal(w->event_type, "exec");
	assert_string_equal(w->workload, "cgroup:77");
	assert_string_equal(w->reason, "ring-full");
	assert_string_equal(w->previous_run_id, "r0");
	assert_string_equal(w->file, "a.seg.gz");
	gapscan__free(s);
}

static void test_recorded_kinds_unknown(void **state)
{
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;
	struct gapscan *s = scan();
	char buf[GAPSCAN_KIND_NAME_MAX];

	(void)state;
	g.kind = 42; /* a newer agent's kind */
	gap(s, "r1", 1, AT(1), &g);
	g.kind = (Firstlight__V1__Gap__Kind)GAPSCAN_SEQUENCE_HOLE; /* hostile: must not pass for a detected kind */
	gap(s, "r1", 2, AT(2), &g);
	g.kind = -5;
	gap(s, "r1", 3, AT(3), &g);
	agent(s, "r1", 4, AT(4), STOPPED);
	finish(s);
	assert_int_equal(gapscan__count(s), 3);
	assert_string_equal(gapscan__kind_name(row(s, 0)->kind, buf), "GAP_KIND_42");
	assert_string_equal(gapscan__kind_name(row(s, 1)->kind, buf), "GAP_KIND_INVALID");
	assert_int_equal(row(s, 1)->detected, 0);
	assert_string_equal(gapscan__kind_name(row(s, 2)->kind, buf), "GAP_KIND_INVALID");
	gapscan__free(s);
}

static void test_hostile_values(void **state)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	struct gapscan *s = scan();
	struct gapscan_stats st;
	const struct gap_row *g;

	(void)state;
	/* No run id, no node, no body, no time. */
	assert_int_equal(gapscan__add(s, &ev), 0);
	plain(s, "r1", UINT64_MAX, UINT64_MAX);
	plain(s, "r1", UINT64_MAX - 1, 0);
	plain(s, "r1", 1, AT(1));
	beat(s, "r1", 2, AT(2), UINT64_MAX);
	beat(s, "r1", 3, UINT64_MAX, UINT64_MAX);
	beat(s, "r1", 0, AT(3), 1);
	agent(s, "r1", 4, AT(5), STOPPED);
	finish(s);
	gapscan__stats(s, &st);
	assert_int_equal(st.records, 8);
	assert_int_equal(st.no_seq, 2);
	assert_int_equal(st.runs, 2);
	/* Run "" (time and seq unknown) sorts after r1: the ends it lacks come last. */
	assert_int_equal(gapscan__count(s), 2);
	g = row(s, 0);
	expect_missing(g, GAPSCAN_SEQUENCE_HOLE, "r1", 5, UINT64_MAX - 2, AT(5), 0);
	/* Heartbeats with an interval of 1 ns and of 2^64-1 ns: none is missing. */
	g = row(s, 1);
	assert_int_equal(g->kind, GAPSCAN_UNCLEAN_END);
	assert_string_equal(g->run_id, "");
	assert_string_equal(g->detail, "no STOPPED record: the agent crashed or was killed");
	gapscan__free(s);
}

static void test_lifecycle_of_scanner(void **state)
{
	struct gapscan *s = scan();
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	(void)state;
	gapscan__free(NULL);
	assert_int_equal(gapscan__count(s), 0);
	assert_null(gapscan__row(s, 0));
	finish(s);
	assert_int_equal(gapscan__add(s, &ev), -EINVAL);
	assert_int_equal(gapscan__finish(s, NULL), -EINVAL);
	assert_null(gapscan__row(s, 0));
	gapscan__free(s);
}

static void test_kind_names(void **state)
{
	char buf[GAPSCAN_KIND_NAME_MAX];
	const char *want[] = { "RING_BUFFER_DROP", "SENSOR_DOWN", "PRE_EXISTING", "MISSING_START",
			       "UNATTRIBUTED_WORKLOAD", "BLIND_WORKLOAD", "SINK_LOSS", "SHIP_LOSS",
			       "NODE_SILENT", "BATCH_REJECTED", "CHAIN_BREAK", "STATE_MISSING", "ARGV_NOT_KEPT",
			       "SHARE_EXCEEDED", "UNTRACKED_PROCESS", "UNOWNED_WORKLOAD", "UNRECORDED_SOCKETS", "SEQUENCE_HOLE",
			       "HEARTBEAT_MISSING", "UNCLEAN_END",
			       "MISSING_BEGINNING" };
	int k;
	size_t i;

	(void)state;
	for (i = 0; (k = gapscan__kind_at(i)) >= 0; i++) {
		int back = -1;

		assert_true(i < sizeof(want) / sizeof(want[0]));
		assert_string_equal(gapscan__kind_name(k, buf), want[i]);
		assert_int_equal(gapscan__kind_parse(want[i], &back), 0);
		assert_int_equal(back, k);
	}
	assert_int_equal(i, sizeof(want) / sizeof(want[0]));
	assert_int_equal(gapscan__kind_parse("sequence_hole", &k), 0);
	assert_int_equal(k, GAPSCAN_SEQUENCE_HOLE);
	assert_int_equal(gapscan__kind_parse("Ring_Buffer_Drop", &k), 0);
	assert_int_equal(k, FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP);
	assert_int_equal(gapscan__kind_parse("any", &k), -EINVAL); /* the command's word */
	assert_int_equal(gapscan__kind_parse("", &k), -EINVAL);
	assert_int_equal(gapscan__kind_parse("SEQUENCE_HOLES", &k), -EINVAL);
}

/* `gaps --fail-on incomplete`: exactly the kinds that mean evidence is missing. */
static void test_incomplete_kinds(void **state)
{
	static const char *const incomplete[] = { "RING_BUFFER_DROP", "SINK_LOSS", "SEQUENCE_HOLE",
						  "MISSING_BEGINNING", "UNCLEAN_END", "HEARTBEAT_MISSING",
						  "STATE_MISSING", "SHARE_EXCEEDED" };
	static const char *const complete[] = { "SENSOR_DOWN", "PRE_EXISTING", "MISSING_START",
						"UNATTRIBUTED_WORKLOAD", "BLIND_WORKLOAD",
						"UNTRACKED_PROCESS", "UNOWNED_WORKLOAD",
						"UNRECORDED_SOCKETS" };
	static const char *const later[] = { "SHIP_LOSS", "NODE_SILENT", "BATCH_REJECTED", "CHAIN_BREAK" };
	size_t i, want = sizeof(incomplete) / sizeof(incomplete[0]), n = 0;
	int k;

	(void)state;
	for (i = 0; i < sizeof(incomplete) / sizeof(incomplete[0]); i++) {
		assert_int_equal(gapscan__kind_parse(incomplete[i], &k), 0);
		assert_true(gapscan__kind_incomplete(k));
	}
	for (i = 0; i < sizeof(complete) / sizeof(complete[0]); i++) {
		assert_int_equal(gapscan__kind_parse(complete[i], &k), 0);
		assert_false(gapscan__kind_incomplete(k));
	}
	/* Shipping's and the collector's kinds join the set once the schema has them. */
	for (i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		if (gapscan__kind_parse(later[i], &k))
			continue;
		assert_true(gapscan__kind_incomplete(k));
		want++;
	}
	/* And no other kind this build knows. */
	for (i = 0; (k = gapscan__kind_at(i)) >= 0; i++)
		n += gapscan__kind_incomplete(k) ? 1 : 0;
	assert_int_equal(n, want);
	/* A number no build knows is not in it. */
	assert_false(gapscan__kind_incomplete(999));
	assert_false(gapscan__kind_incomplete(-1));
}

/* ---- cmd_gaps: times ------------------------------------------------------------------- */

static void test_parse_time(void **state)
{
	const struct { const char *s; uint64_t ns; } ok[] = {
		{ "0", 0 },
		{ "1700000000", T0 },
		{ "1700000000.5", T0 + SEC / 2 },
		{ "1700000000.000000001", T0 + 1 },
		{ "2023-11-14T22:13:20Z", T0 },
		{ "2023-11-14t22:13:20z", T0 },
		{ "2023-11-14 22:13:20Z", T0 },
		{ "2023-11-14T22:13:20.25Z", T0 + SEC / 4 },
		{ "2023-11-15T00:13:20+02:00", T0 },
		{ "2023-11-14T20:43:20-01:30", T0 },
		{ "2023-11-14", T0 - (22 * 3600 + 13 * 60 + 20) * SEC },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2024-02-29T00:00:00Z", 1709164800ull * SEC },
		{ "2016-12-31T23:59:60Z", 1483228800ull * SEC }, /* leap second */
		{ "2554-07-21T23:34:32Z", 18446744072ull * SEC },
	};
	const char *bad[] = {
		"", "-1", "+5", "abc", "17000000000000000000000", "1700000000.", "1700000000.1234567891",
		"18446744073", "2023-11-14T22:13:20", "2023-11-14T22:13Z", "2023-13-01", "2023-02-29",
		"2023-11-31", "2023-11-14T24:00:00Z", "2023-11-14T22:60:00Z", "2023-11-14T22:13:61Z",
		"2023-11-14T22:13:20+2:00", "2023-11-14T22:13:20Zjunk", "1969-12-31T23:59:59Z",
		"2023-11-14X22:13:20Z", "2023-1-14", "20231114T221320Z", "1700000000 ", " 1700000000",
		"2023-11-14T22:13:20.Z", "9999-12-31T00:00:00Z",
	};
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ns = 1;
		if (timefmt__parse(ok[i].s, &ns))
			fail_msg("'%s' rejected", ok[i].s);
		if (ns != ok[i].ns)
			fail_msg("'%s': got %llu, want %llu", ok[i].s, (unsigned long long)ns,
				 (unsigned long long)ok[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (timefmt__parse(bad[i], &ns) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
}

static void expect_time(uint64_t ns, int decimals, const char *want)
{
	struct json_buf b = {};

	assert_int_equal(decimals < 0 ? timefmt__clock(&b, ns) : timefmt__rfc3339(&b, ns, decimals), 0);
	assert_string_equal(b.data, want);
	json_buf__free(&b);
}

/* The one printer: whole seconds (tree's candidates), ms (tables), ns (JSON, tree). */
static void test_print_time(void **state)
{
	const uint64_t t = T0 + 123456789;

	(void)state;
	expect_time(t, 0, "2023-11-14T22:13:20Z");
	expect_time(t, 3, "2023-11-14T22:13:20.123Z");
	expect_time(t, 9, "2023-11-14T22:13:20.123456789Z");
	expect_time(t, -1, "22:13:20.123");
	expect_time(0, 9, "1970-01-01T00:00:00.000000000Z");
}

/* ---- textesc and gapfmt: escaping and rendering---------------------------------------------- */

static void expect_escape(const char *in, size_t max, const char *want)
{
	struct json_buf b = {};

	assert_true(textesc__append(&b, in, strlen(in), max, 0) >= 0);
	assert_string_equal(b.data ? b.data : "", want);
	json_buf__free(&b);
}

static void test_escape_text(void **state)
{
	(void)state;
	expect_escape("plain text", 0, "plain text");
	expect_escape("", 0, "");
	expect_escape("\x1b[2J\x1b]0;pwned\x07", 0, "\\x1b[2J\\x1b]0;pwned\\x07");
	expect_escape("a\nb\tc\rd\x7f", 0, "a\\nb\\tc\\rd\\x7f");
	expect_escape("back\\slash", 0, "back\\\\slash");
	expect_escape("caf\xc3\xa9 \xe6\x97\xa5", 0, "caf\xc3\xa9 \xe6\x97\xa5"); /* kept */
	expect_escape("\xc2\x9b" "31m", 0, "\\u009b31m");             /* C1 CSI */
	expect_escape("abc\xe2\x80\xae" "fed", 0, "abc\\u202efed");   /* RLO */
	expect_escape("\xe2\x81\xa6x\xe2\x81\xa9", 0, "\\u2066x\\u2069");
	expect_escape("line\xe2\x80\xa8sep", 0, "line\\u2028sep");
	expect_escape("bad \xff\xfe utf8 \xc3", 0, "bad \\xff\\xfe utf8 \\xc3");
	expect_escape("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");           /* a surrogate */
	expect_escape("abcdef", 3, "abc...");
	expect_escape("abc", 3, "abc");
	expect_escape("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 2, "\xc3\xa9\xc3\xa9...");
}

static void expect_html(const char *in, unsigned int flags, const char *want)
{
	struct json_buf b = {};

	assert_true(textesc__append(&b, in, strlen(in), 0, TEXTESC_HTML | flags) >= 0);
	assert_string_equal(b.data ? b.data : "", want);
	json_buf__free(&b);
}

/* The same escaping, safe in an HTML page: markup and quotes become entities, the
 * terminal's escapes stay (so a bidi override shows as what it is, not what it does). */
static void test_escape_html(void **state)
{
	(void)state;
	expect_html("plain", 0, "plain");
	expect_html("</script><script>alert(1)</script>", 0,
		    "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
	expect_html("a&b \"q\" 'q'", 0, "a&amp;b &quot;q&quot; &#39;q&#39;");
	expect_html("abc\xe2\x80\xae" "fed\n", 0, "abc\\u202efed\\n");
	expect_html("x\"<y", TEXTESC_QUOTE, "&quot;x\\&quot;&lt;y&quot;");
	expect_html("caf\xc3\xa9 \xff", 0, "caf\xc3\xa9 \\xff");
}

/* gapscan__row_meets: the window test `gaps --since/--until` and `report` share. */
static void test_row_meets(void **state)
{
	struct gap_row g = { .start_ns = AT(10), .end_ns = AT(20) };

	(void)state;
	assert_true(gapscan__row_meets(&g, 0, 0));
	assert_true(gapscan__row_meets(&g, AT(20), AT(30)));   /* touches at its end */
	assert_true(gapscan__row_meets(&g, AT(0), AT(10)));    /* touches at its start */
	assert_true(gapscan__row_meets(&g, AT(12), AT(13)));   /* inside it */
	assert_false(gapscan__row_meets(&g, AT(21), 0));
	assert_false(gapscan__row_meets(&g, 0, AT(9)));
	g = (struct gap_row){ .start_ns = AT(5) };              /* an UNCLEAN_END: an instant */
	assert_true(gapscan__row_meets(&g, AT(5), AT(6)));
	assert_false(gapscan__row_meets(&g, AT(6), AT(7)));
	g = (struct gap_row){ .record_ns = AT(8) };             /* no window: its record's time */
	assert_true(gapscan__row_meets(&g, AT(7), AT(9)));
	assert_false(gapscan__row_meets(&g, AT(9), AT(10)));
	g = (struct gap_row){ 0 };                              /* no time at all: shown */
	assert_true(gapscan__row_meets(&g, AT(1), AT(2)));
}

/* gapscan__run: each run's span, beats and end, in listing order. */
static void test_runs(void **state)
{
	struct live_ctx c = { .answer = 1 };
	struct gapscan_env env = { .now_ns = AT(100), .run_is_live = live_cb, .ctx = &c };
	struct gapscan *s = scan();
	struct gapscan_run r;

	(void)state;
	assert_int_equal(gapscan__runs(s), 0);
	/* Read out of order: r2 (later) first. */
	agent(s, "r2", 1, AT(50), STARTED);
	beat(s, "r2", 2, AT(60), 10 * SEC);
	plain(s, "r2", 3, AT(61));
	plain(s, "r2", 3, AT(61)); /* read twice: counts once */
	agent(s, "r1", 1, AT(0), STARTED);
	beat(s, "r1", 2, AT(10), 10 * SEC);
	agent(s, "r1", 3, AT(12), STOPPED);
	assert_int_equal(gapscan__finish(s, &env), 0);
	assert_int_equal(gapscan__runs(s), 2);
	gapscan__run(s, 0, &r);
	assert_string_equal(r.id, "r1");
	assert_string_equal(r.node, "node-1");
	assert_int_equal(r.first_ns, AT(0));
	assert_int_equal(r.last_ns, AT(12));
	assert_int_equal(r.last_beat_ns, AT(12));
	assert_int_equal(r.interval_ns, 10 * SEC);
	assert_int_equal(r.records, 3);
	assert_true(r.started && r.stopped && !r.live && !r.removed_only);
	gapscan__run(s, 1, &r);
	assert_string_equal(r.id, "r2");
	assert_int_equal(r.first_ns, AT(50));
	assert_int_equal(r.last_ns, AT(61));
	assert_int_equal(r.last_beat_ns, AT(60));
	assert_int_equal(r.records, 3);
	assert_true(r.started && !r.stopped && r.live);
	gapscan__run(s, 2, &r); /* past the end: zeroed */
	assert_null(r.id);
	gapscan__free(s);
}

static struct gap_row hole_row(void)
{
	return (struct gap_row){
		.kind = GAPSCAN_SEQUENCE_HOLE, .detected = 1, .run_id = "run-a", .node = "n1",
		.workload = "", .start_ns = T0 + 123456789, .end_ns = T0 + 2 * SEC,
		.count = 3, .has_count = 1, .first_seq = 5, .last_seq = 7,
		.event_type = "", .reason = "", .previous_run_id = "", .about = "", .detail = "seq 5-7 missing",
		.file = "d/seg-2.seg.gz",
	};
}

static struct gap_row drop_row(void)
{
	return (struct gap_row){
		.kind = FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, .run_id = "run-a", .node = "n1",
		.workload = "", .cgroup_id = 4021, .start_ns = T0, .end_ns = T0,
		.count = 1200, .has_count = 1, .seq = 9, .event_type = "exec", .reason = "ring-full",
		.previous_run_id = "", .about = "", .detail = "evil\x1b[31m \xff", .file = "d/seg-1.seg.gz",
	};
}

static struct gap_row end_row(void)
{
	return (struct gap_row){
		.kind = GAPSCAN_UNCLEAN_END, .detected = 1, .run_id = "run-a", .node = "n1",
		.workload = "", .start_ns = T0 + 3 * SEC, .event_type = "", .reason = "",
		.previous_run_id = "", .about = "", .detail = "", .file = "",
	};
}

static void test_render_text(void **state)
{
	struct gap_row a = drop_row(), b = hole_row(), c = end_row();
	const struct gap_row *rows[] = { &a, &b, &c };
	struct json_buf out = {};

	(void)state;
	assert_int_equal(gapfmt__text(&out, rows, 0), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(gapfmt__text(&out, rows, 3), 0);
	assert_string_equal(out.data,
		"SOURCE    KIND              RUN    WORKLOAD     START                     END                       COUNT  DETAIL\n"
		"recorded  RING_BUFFER_DROP  run-a  cgroup:4021  2023-11-14T22:13:20.000Z  2023-11-14T22:13:20.000Z   1200  evil\\x1b[31m \\xff\n"
		"detected  SEQUENCE_HOLE     run-a  -            2023-11-14T22:13:20.123Z  2023-11-14T22:13:22.000Z      3  seq 5-7 missing\n"
		"detected  UNCLEAN_END       run-a  -            2023-11-14T22:13:23.000Z  -                             -\n");
	json_buf__free(&out);
}

static void test_render_text_hostile_cells(void **state)
{
	struct gap_row a = drop_row();
	const struct gap_row *rows[] = { &a };
	struct json_buf out = {};
	char long_key[200];

	(void)state;
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	a.run_id = "r\n1";
	a.workload = long_key;
	a.start_ns = 0;
	a.has_count = 0;
	a.detail = "\xe2\x80\xae";
	assert_int_equal(gapfmt__text(&out, rows, 1), 0);
	/* One line per row whatever the strings hold; cut cells end in "...". */
	assert_string_equal(strchr(out.data, '\n') + 1,
		"recorded  RING_BUFFER_DROP  r\\n1  kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...  -      2023-11-14T22:13:20.000Z      -  \\u202e\n");
	json_buf__free(&out);
}

static void test_render_json(void **state)
{
	struct gap_row a = drop_row(), b = hole_row(), c = end_row();
	struct json_buf out = {};

	(void)state;
	a.workload = "cgroup:4021";
	a.previous_run_id = "run-0";
	a.about = "n2"; /* as a collector's finding about another node */
	a.first_seq = 41; /* as SENSOR_DOWN: the previous run's last seq, no range */
	assert_int_equal(gapfmt__json(&out, &a), 0);
	assert_int_equal(gapfmt__json(&out, &b), 0);
	assert_int_equal(gapfmt__json(&out, &c), 0);
	assert_string_equal(out.data,
		"{\"source\":\"recorded\",\"kind\":\"RING_BUFFER_DROP\",\"node\":\"n1\",\"runId\":\"run-a\","
		"\"seq\":\"9\",\"workload\":\"cgroup:4021\",\"cgroupId\":\"4021\","
		"\"owner\":null,\"start\":\"2023-11-14T22:13:20.000000000Z\",\"end\":\"2023-11-14T22:13:20.000000000Z\","
		"\"startUnixNano\":\"1700000000000000000\",\"endUnixNano\":\"1700000000000000000\","
		"\"count\":\"1200\",\"firstSeq\":\"41\",\"lastSeq\":null,\"eventType\":\"exec\","
		"\"reason\":\"ring-full\",\"previousRunId\":\"run-0\",\"aboutNode\":\"n2\","
		"\"detail\":\"evil\\u001b[31m \\\\xff\",\"file\":\"d/seg-1.seg.gz\"}\n"
		"{\"source\":\"detected\",\"kind\":\"SEQUENCE_HOLE\",\"node\":\"n1\",\"runId\":\"run-a\","
		"\"seq\":null,\"workload\":null,\"cgroupId\":null,\"owner\":null,"
		"\"start\":\"2023-11-14T22:13:20.123456789Z\",\"end\":\"2023-11-14T22:13:22.000000000Z\","
		"\"startUnixNano\":\"1700000000123456789\",\"endUnixNano\":\"1700000002000000000\","
		"\"count\":\"3\",\"firstSeq\":\"5\",\"lastSeq\":\"7\",\"eventType\":null,\"reason\":null,"
		"\"previousRunId\":null,\"aboutNode\":null,\"detail\":\"seq 5-7 missing\",\"file\":\"d/seg-2.seg.gz\"}\n"
		"{\"source\":\"detected\",\"kind\":\"UNCLEAN_END\",\"node\":\"n1\",\"runId\":\"run-a\","
		"\"seq\":null,\"workload\":null,\"cgroupId\":null,\"owner\":null,"
		"\"start\":\"2023-11-14T22:13:23.000000000Z\",\"end\":null,"
		"\"startUnixNano\":\"1700000003000000000\",\"endUnixNano\":null,\"count\":null,"
		"\"firstSeq\":null,\"lastSeq\":null,\"eventType\":null,\"reason\":null,"
		"\"previousRunId\":null,\"aboutNode\":null,\"detail\":\"\",\"file\":null}\n");
	json_buf__free(&out);
}

static void test_render_summary(void **state)
{
	struct gap_row a = drop_row(), b = hole_row(), c = end_row(), d = hole_row(), e = drop_row();
	const struct gap_row *rows[] = { &a, &b, &c, &d, &e };
	struct gapscan_stats st = { .records = 1, .runs = 2, .files = 1 };
	struct json_buf out = {};

	(void)state;
	e.kind = 42;
	assert_int_equal(gapfmt__summary(&out, rows, 5, &st, 0), 0);
	assert_string_equal(out.data, "gaps: 5 (RING_BUFFER_DROP 1, SEQUENCE_HOLE 2, UNCLEAN_END 1, "
				      "GAP_KIND_42 1) in 1 record, 2 runs, 1 file\n");
	json_buf__reset(&out);
	st = (struct gapscan_stats){ .records = 310, .runs = 1, .files = 3, .live_runs = 1,
				     .duplicates = 4, .no_seq = 1 };
	assert_int_equal(gapfmt__summary(&out, rows, 0, &st, 2), 0);
	assert_string_equal(out.data, "gaps: 0 in 310 records, 1 run, 3 files; 2 outside "
				      "--since/--until; 1 run still running; 4 duplicate records; "
				      "1 record without seq\n");
	json_buf__free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_run),
		cmocka_unit_test(test_incomplete_kinds),
		cmocka_unit_test(test_seq_hole),
		cmocka_unit_test(test_out_of_order_and_duplicates),
		cmocka_unit_test(test_spans_model),
		cmocka_unit_test(test_interleaved_runs),
		cmocka_unit_test(test_missing_beginning),
		cmocka_unit_test(test_unclean_end),
		cmocka_unit_test(test_live_run),
		cmocka_unit_test(test_remote_node_silent),
		cmocka_unit_test(test_heartbeat_missing),
		cmocka_unit_test(test_heartbeat_after_start),
		cmocka_unit_test(test_heartbeat_needs_interval),
		cmocka_unit_test(test_heartbeat_by_seq),
		cmocka_unit_test(test_sink_loss_accounts_for_holes),
		cmocka_unit_test(test_recorded_gap),
		cmocka_unit_test(test_recorded_kinds_unknown),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_lifecycle_of_scanner),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_print_time),
		cmocka_unit_test(test_escape_text),
		cmocka_unit_test(test_escape_html),
		cmocka_unit_test(test_row_meets),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_retention_pruned_its_records),
		cmocka_unit_test(test_render_text),
		cmocka_unit_test(test_render_text_hostile_cells),
		cmocka_unit_test(test_render_json),
		cmocka_unit_test(test_render_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
