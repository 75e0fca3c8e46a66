/* Unit tests for user/agent/metrics.c: the exact exposition text for a fixed snapshot, label
 * escaping, -ENOSPC at every short length, and the HTTP endpoint scraped over a real
 * loopback socket (status, content type, body, 404/405/503, bad addresses, port in use,
 * a stalled client, signal mask of the HTTP thread, and nothing left behind by stop). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sensor/drops.h"
#include "firstlight.pb-c.h"
#include "agent/metrics.h"
#include "base/clock.h"
#include "base/httpd.h"
#include "sensor/evtypes.h"
#include "sensor/kcaps.h"

/* ---- fixtures --------------------------------------------------------------------------- */

static void fill_snapshot(struct metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->records[MR_EXEC] = 120;
	s->records[MR_FORK] = 80;
	s->records[MR_EXIT] = 95;
	s->records[MR_WORKLOAD] = 4;
	s->records[MR_GAP] = 3;
	s->records[MR_HEARTBEAT] = 6;
	s->records[MR_AGENT] = 1;
	s->drops[FL_EV_EXEC] = 5;
	s->drops[FL_EV_FORK] = 2;
	s->drops[0] = 1;            /* no such type: counted as "unknown" ... */
	s->drops[8] = 2;            /* ... as is a reserved, unnamed one */
	s->drops[FL_EV_MAX - 1] = 4;
	s->gaps[FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP] = 2;
	s->gaps[FIRSTLIGHT__V1__GAP__KIND__PRE_EXISTING] = 1;
	s->gaps[0] = 99;            /* KIND_UNSPECIFIED is not a kind: never rendered */
	s->unattributed_workloads = 1;
	s->blind_workloads = 2;
	s->sink_lost = 0;
	s->malformed_events = 3;
	s->live_processes = 212;
	s->live_workloads = 7;
	s->capabilities_missing = 1u << KCAP_UDP_DATAGRAMS | 1u << KCAP_UNIX_CONNECTS;
	strcpy(s->workloads[0].key, "cgroup:4021");
	strcpy(s->workloads[0].owner, "team-\"pay\"");
	s->workloads[0].privilege_changes = 3;
	strcpy(s->workloads[1].key, "cgroup:4022");
	s->workloads[1].file_accesses = 10000; /* a workload listed for its opens only */
	s->n_workloads = 2;
	s->other_privilege_changes = 2;
	s->ring_fill_ratio = 0.25;
	s->last_heartbeat_seconds = 1700000010.5;
	s->start_seconds = 1700000000.125;
	s->heartbeat_interval_seconds = 10;
	strcpy(s->version, "0.1.0");
	strcpy(s->node, "node-a");
	strcpy(s->run_id, "0b9f6e1c-2d1a-4c56-8f3e-6a7b8c9d0e1f");
}

static const char golden[] =
	"# HELP firstlight_records_total Records written, by record kind.\n"
	"# TYPE firstlight_records_total counter\n"
	"firstlight_records_total{kind=\"exec\"} 120\n"
	"firstlight_records_total{kind=\"fork\"} 80\n"
	"firstlight_records_total{kind=\"exit\"} 95\n"
	"firstlight_records_total{kind=\"flow\"} 0\n"
	"firstlight_records_total{kind=\"workload\"} 4\n"
	"firstlight_records_total{kind=\"gap\"} 3\n"
	"firstlight_records_total{kind=\"heartbeat\"} 6\n"
	"firstlight_records_total{kind=\"agent\"} 1\n"
	"firstlight_records_total{kind=\"privilege\"} 0\n"
	"firstlight_records_total{kind=\"file_access\"} 0\n"
	"# HELP firstlight_drops_total Kernel events lost because the ring buffer was full or their "
	"workload had used its ring share, by event type.\n"
	"# TYPE firstlight_drops_total counter\n"
	"firstlight_drops_total{event_type=\"exec\"} 5\n"
	"firstlight_drops_total{event_type=\"fork\"} 2\n"
	"firstlight_drops_total{event_type=\"exit\"} 0\n"
	"firstlight_drops_total{event_type=\"seed\"} 0\n"
	"firstlight_drops_total{event_type=\"cgroup_mkdir\"} 0\n"
	"firstlight_drops_total{event_type=\"cgroup_rmdir\"} 0\n"
	"firstlight_drops_total{event_type=\"cgroup_attach\"} 0\n"
#ifdef FL_EV_TCP
	"firstlight_drops_total{event_type=\"tcp\"} 0\n"
	"firstlight_drops_total{event_type=\"udp\"} 0\n"
	"firstlight_drops_total{event_type=\"unix_connect\"} 0\n"
	"firstlight_drops_total{event_type=\"unix_peer\"} 0\n"
	"firstlight_drops_total{event_type=\"privilege\"} 0\n"
	"firstlight_drops_total{event_type=\"file\"} 0\n"
	"firstlight_drops_total{event_type=\"socket\"} 0\n"
#endif
	"firstlight_drops_total{event_type=\"unknown\"} 7\n"
	"# HELP firstlight_gaps_total Gap records written, by gap kind.\n"
	"# TYPE firstlight_gaps_total counter\n"
	"firstlight_gaps_total{kind=\"ring_buffer_drop\"} 2\n"
	"firstlight_gaps_total{kind=\"sensor_down\"} 0\n"
	"firstlight_gaps_total{kind=\"pre_existing\"} 1\n"
	"firstlight_gaps_total{kind=\"missing_start\"} 0\n"
	"firstlight_gaps_total{kind=\"unattributed_workload\"} 0\n"
	"firstlight_gaps_total{kind=\"blind_workload\"} 0\n"
	"firstlight_gaps_total{kind=\"sink_loss\"} 0\n"
	"firstlight_gaps_total{kind=\"ship_loss\"} 0\n"
	"firstlight_gaps_total{kind=\"node_silent\"} 0\n"
	"firstlight_gaps_total{kind=\"batch_rejected\"} 0\n"
	"firstlight_gaps_total{kind=\"chain_break\"} 0\n"
	"firstlight_gaps_total{kind=\"state_missing\"} 0\n"
	"firstlight_gaps_total{kind=\"argv_not_kept\"} 0\n"
	"firstlight_gaps_total{kind=\"share_exceeded\"} 0\n"
	"firstlight_gaps_total{kind=\"untracked_process\"} 0\n"
	"firstlight_gaps_total{kind=\"unowned_workload\"} 0\n"
	"firstlight_gaps_total{kind=\"unrecorded_sockets\"} 0\n"
	"# HELP firstlight_unattributed_workloads_total Workloads that ended before their "
	"identity could be resolved.\n"
	"# TYPE firstlight_unattributed_workloads_total counter\n"
	"firstlight_unattributed_workloads_total 1\n"
	"# HELP firstlight_blind_workloads_total Workloads seen with no process events: empty "
	"ones and opaque sandboxes.\n"
	"# TYPE firstlight_blind_workloads_total counter\n"
	"firstlight_blind_workloads_total 2\n"
	"# HELP firstlight_sink_lost_records_total Records a sink had to discard (disk or spool "
	"full).\n"
	"# TYPE firstlight_sink_lost_records_total counter\n"
	"firstlight_sink_lost_records_total 0\n"
	"# HELP firstlight_malformed_events_total Kernel events the agent could not decode.\n"
	"# TYPE firstlight_malformed_events_total counter\n"
	"firstlight_malformed_events_total 3\n"
	"# HELP firstlight_live_processes Processes currently known alive.\n"
	"# TYPE firstlight_live_processes gauge\n"
	"firstlight_live_processes 212\n"
	"# HELP firstlight_live_workloads Workloads currently known alive.\n"
	"# TYPE firstlight_live_workloads gauge\n"
	"firstlight_live_workloads 7\n"
	"# HELP firstlight_ring_buffer_fill_ratio Peak fraction of the ring buffer in use over the "
	"last heartbeat interval (0 to 1).\n"
	"# TYPE firstlight_ring_buffer_fill_ratio gauge\n"
	"firstlight_ring_buffer_fill_ratio 0.25\n"
	"# HELP firstlight_last_heartbeat_timestamp_seconds Unix time of the last heartbeat "
	"record.\n"
	"# TYPE firstlight_last_heartbeat_timestamp_seconds gauge\n"
	"firstlight_last_heartbeat_timestamp_seconds 1700000010.5\n"
	"# HELP firstlight_start_time_seconds Unix time the agent started.\n"
	"# TYPE firstlight_start_time_seconds gauge\n"
	"firstlight_start_time_seconds 1700000000.125\n"
	"# HELP firstlight_heartbeat_interval_seconds Seconds between heartbeat records: a heartbeat older than a few of these is stale.\n"
	"# TYPE firstlight_heartbeat_interval_seconds gauge\n"
	"firstlight_heartbeat_interval_seconds 10\n"
	"# HELP firstlight_node_capability What this node's kernel lets the sensor observe: 1 "
	"available, 0 missing (the NodeCapabilities record says why).\n"
	"# TYPE firstlight_node_capability gauge\n"
	"firstlight_node_capability{capability=\"process-lifecycle\"} 1\n"
	"firstlight_node_capability{capability=\"cgroup-workloads\"} 1\n"
	"firstlight_node_capability{capability=\"audit-loginuid\"} 1\n"
	"firstlight_node_capability{capability=\"tcp-flows\"} 1\n"
	"firstlight_node_capability{capability=\"tcp-accept-owner\"} 1\n"
	"firstlight_node_capability{capability=\"tcp-socket-cookie\"} 1\n"
	"firstlight_node_capability{capability=\"udp-connects\"} 1\n"
	"firstlight_node_capability{capability=\"udp-datagrams\"} 0\n"
	"firstlight_node_capability{capability=\"unix-connects\"} 0\n"
	"firstlight_node_capability{capability=\"unix-peers\"} 1\n"
	"firstlight_node_capability{capability=\"privilege-changes\"} 1\n"
	"firstlight_node_capability{capability=\"file-access\"} 1\n"
	"firstlight_node_capability{capability=\"socket-families\"} 1\n"
	"# HELP firstlight_workload_privilege_changes_total Privilege records (setuid, setgroups, "
	"capset, prctl...) of each live workload that made one, with its owner; past 64 workloads, "
	"workload=\"other\".\n"
	"# TYPE firstlight_workload_privilege_changes_total counter\n"
	"firstlight_workload_privilege_changes_total{workload=\"cgroup:4021\",owner=\"team-\\\"pay\\\"\"} 3\n"
	"firstlight_workload_privilege_changes_total{workload=\"other\",owner=\"\"} 2\n"
	"# HELP firstlight_workload_file_accesses_total Opens of watched paths (secrets, credentials, "
	"keys: FileAccess records' counts) by each live workload that made one, with its owner; past "
	"64 workloads, workload=\"other\".\n"
	"# TYPE firstlight_workload_file_accesses_total counter\n"
	"firstlight_workload_file_accesses_total{workload=\"cgroup:4022\",owner=\"\"} 10000\n"
	"# HELP firstlight_build_info Agent version, node name and run id; always 1.\n"
	"# TYPE firstlight_build_info gauge\n"
	"firstlight_build_info{version=\"0.1.0\",node=\"node-a\","
	"run_id=\"0b9f6e1c-2d1a-4c56-8f3e-6a7b8c9d0e1f\"} 1\n";

/* Renders s into a fresh heap buffer (caller frees); fails the test on error. */
static char *render(const struct metrics_snapshot *s)
{
	size_t cap = 1 << 16;
	char *buf = malloc(cap);
	int n;

	assert_non_null(buf);
	n = metrics__render(s, buf, cap);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	return buf;
}

/* The one line of text that starts with prefix, copied into line. */
static void find_line(const char *text, const char *prefix, char *line, size_t cap)
{
	const char *p = text;
	size_t n;

	for (;;) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			break;
		p = strchr(p, '\n');
		if (!p)
			fail_msg("no line starting with %s", prefix);
		p++;
	}
	n = strcspn(p, "\n");
	assert_true(n < cap);
	memcpy(line, p, n);
	line[n] = '\0';
}

/* ---- names and rendering ---------------------------------------------------------------- */

static void test_names(void **state)
{
	const ProtobufCEnumDescriptor *d = &firstlight__v1__gap__kind__descriptor;
	unsigned int i, j;

	(void)state;
	assert_string_equal(metrics_record_kind_name(MR_EXEC), "exec");
	assert_string_equal(metrics_record_kind_name(MR_WORKLOAD), "workload");
	assert_string_equal(metrics_record_kind_name(MR_AGENT), "agent");
	assert_string_equal(metrics_record_kind_name(MR_KINDS), "unknown");
	assert_string_equal(evtypes__name(FL_EV_EXEC), "exec");
	assert_string_equal(evtypes__name(FL_EV_SEED), "seed");
	assert_string_equal(evtypes__name(FL_EV_CGROUP_ATTACH), "cgroup_attach");
	assert_string_equal(evtypes__name(0), "unknown");
	assert_string_equal(evtypes__name(FL_EV_MAX), "unknown");
	assert_string_equal(evtypes__name(~0u), "unknown");
	assert_string_equal(metrics_gap_kind_name(0), "unknown");
	assert_string_equal(metrics_gap_kind_name(METRICS_GAP_KINDS), "unknown");

	/* One table (sensor/evtypes.c) names event types for gap records and metrics:
	 * every type the kernel sends has one. */
	{
		static const unsigned int types[] = { FL_EV_EXEC, FL_EV_FORK, FL_EV_EXIT, FL_EV_SEED,
			FL_EV_CGROUP_MKDIR, FL_EV_CGROUP_RMDIR, FL_EV_CGROUP_ATTACH, FL_EV_TCP, FL_EV_UDP,
			FL_EV_UNIX_CONNECT, FL_EV_UNIX_PEER, FL_EV_PRIV };

		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcmp(evtypes__name(types[i]), "unknown"))
				fail_msg("event type %u has no name", types[i]);
	}

	/* Gap kind labels are the proto's enum names in lower case, for every kind; the
	 * numbers reserved for other kinds (12, 15, 18) have none. */
	assert_int_equal(d->values[d->n_values - 1].value, METRICS_GAP_KINDS - 1);
	for (i = 0; i < d->n_values; i++) {
		char lower[64];
		const char *name = d->values[i].name;

		if (d->values[i].value == 0)
			continue;
		assert_true(d->values[i].value < METRICS_GAP_KINDS);
		assert_true(strlen(name) < sizeof(lower));
		for (j = 0; name[j]; j++)
			lower[j] = (char)(name[j] >= 'A' && name[j] <= 'Z' ? name[j] - 'A' + 'a' : name[j]);
		lower[j] = '\0';
		assert_string_equal(metrics_gap_kind_name((unsigned int)d->values[i].value), lower);
	}
}

static void test_render_golden(void **state)
{
	struct metrics_snapshot s;
	char *text;

	(void)state;
	fill_snapshot(&s);
	text = render(&s);
	assert_string_equal(text, golden);
	free(text);
}

static void test_render_escaping(void **state)
{
	struct metrics_snapshot s;
	char line[4096];
	char *text;

	(void)state;
	fill_snapshot(&s);
	strcpy(s.node, "a\"b\\c\nd");
	strcpy(s.version, "0.1.0\"x");
	strcpy(s.run_id, "r\\1");
	text = render(&s);
	find_line(text, "firstlight_build_info{", line, sizeof(line));
	assert_string_equal(line, "firstlight_build_info{version=\"0.1.0\\\"x\","
				  "node=\"a\\\"b\\\\c\\nd\",run_id=\"r\\\\1\"} 1");
	free(text);

	/* UTF-8 passes as it is; other bytes become \xHH (lossless, as in the records), whose
	 * backslash the exposition format then escapes. */
	strcpy(s.node, "n\xc5\x93ud-\xff\xfe");
	text = render(&s);
	find_line(text, "firstlight_build_info{", line, sizeof(line));
	assert_string_equal(line, "firstlight_build_info{version=\"0.1.0\\\"x\","
				  "node=\"n\xc5\x93ud-\\\\xff\\\\xfe\",run_id=\"r\\\\1\"} 1");
	free(text);

	/* A field that fills its array without a NUL is read only up to its size. */
	memset(s.version, 'v', sizeof(s.version));
	text = render(&s);
	find_line(text, "firstlight_build_info{", line, sizeof(line));
	assert_string_equal(line, "firstlight_build_info{version=\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\","
				  "node=\"n\xc5\x93ud-\\\\xff\\\\xfe\",run_id=\"r\\\\1\"} 1");
	free(text);

	/* The worst node name still renders: 255 invalid bytes, each 5 characters out. */
	memset(s.node, 0xff, sizeof(s.node) - 1);
	s.node[sizeof(s.node) - 1] = '\0';
	text = render(&s);
	find_line(text, "firstlight_build_info{", line, sizeof(line));
	assert_non_null(strstr(line, "node=\"\\\\xff\\\\xff"));
	free(text);
}

static void test_render_values(void **state)
{
	struct metrics_snapshot s;
	char line[256];
	char *text;

	(void)state;
	fill_snapshot(&s);
	s.ring_fill_ratio = 0.1;      /* shortest form that reads back, not 0.10000000000000001 */
	s.last_heartbeat_seconds = NAN;
	s.start_seconds = INFINITY;
	s.records[MR_EXEC] = UINT64_MAX;
	text = render(&s);
	find_line(text, "firstlight_ring_buffer_fill_ratio ", line, sizeof(line));
	assert_string_equal(line, "firstlight_ring_buffer_fill_ratio 0.1");
	find_line(text, "firstlight_last_heartbeat_timestamp_seconds ", line, sizeof(line));
	assert_string_equal(line, "firstlight_last_heartbeat_timestamp_seconds NaN");
	find_line(text, "firstlight_start_time_seconds ", line, sizeof(line));
	assert_string_equal(line, "firstlight_start_time_seconds +Inf");
	find_line(text, "firstlight_records_total{kind=\"exec\"}", line, sizeof(line));
	assert_string_equal(line, "firstlight_records_total{kind=\"exec\"} 18446744073709551615");
	free(text);

	s.start_seconds = -INFINITY;
	s.ring_fill_ratio = 1.0 / 3.0;
	text = render(&s);
	find_line(text, "firstlight_start_time_seconds ", line, sizeof(line));
	assert_string_equal(line, "firstlight_start_time_seconds -Inf");
	find_line(text, "firstlight_ring_buffer_fill_ratio ", line, sizeof(line));
	assert_string_equal(line, "firstlight_ring_buffer_fill_ratio 0.3333333333333333");
	free(text);
}

/* Every buffer shorter than the text gives -ENOSPC, written within its bounds (ASan sees
 * the exact-size heap block) and NUL-terminated; one byte more than the text fits. */
static void test_render_nospc(void **state)
{
	struct metrics_snapshot s;
	size_t need = sizeof(golden) - 1, len;

	(void)state;
	fill_snapshot(&s);
	assert_int_equal(metrics__render(&s, NULL, 0), -ENOSPC);
	for (len = 1; len <= need; len++) {
		char *buf = malloc(len);

		assert_non_null(buf);
		assert_int_equal(metrics__render(&s, buf, len), -ENOSPC);
		assert_true(strlen(buf) < len);
		free(buf);
	}
	{
		char *buf = malloc(need + 1);

		assert_non_null(buf);
		assert_int_equal(metrics__render(&s, buf, need + 1), (int)need);
		assert_string_equal(buf, golden);
		free(buf);
	}
}

/* ---- a plain HTTP client ---------------------------------------------------------------- */

struct reply {
	int status;
	char *raw;        /* the whole response, NUL-terminated */
	size_t raw_len;
	char *body;       /* points into raw */
	size_t body_len;
	/* The agent's CPU family, measured at the scrape: cut out of body (which then
	 * compares with a rendered snapshot) into these, in ns, when it was there. */
	int have_cpu;
	uint64_t cpu_ns[CPU_ROLES];
};

static void reply_free(struct reply *r)
{
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

/* A socket connected to the endpoint; reads give up after 10 s so that a server bug fails
 * the test instead of hanging it (a deadline, not a timing assertion). */
static int connect_to(int family, int port)
{
	struct sockaddr_storage ss = { 0 };
	struct timeval tv = { .tv_sec = 10 };
	socklen_t len;
	int fd;

	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

static void send_all(int fd, const char *s)
{
	size_t n = strlen(s), off = 0;

	while (off < n) {
		ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);

		assert_true(w > 0);
		off += (size_t)w;
	}
}

/* Takes the firstlight_cpu_seconds_total family out of a reply's body: its header, then
 * one line per role in role order, each value a non-negative number of seconds. */
static void cut_cpu_family(struct reply *r)
{
	static const char head[] = "# HELP firstlight_cpu_seconds_total ";
	char *start = strstr(r->body, head), *p;

	if (!start)
		return;
	p = strchr(start, '\n') + 1;
	assert_true(!strncmp(p, "# TYPE firstlight_cpu_seconds_total counter\n", 44));
	p += 44;
	for (int i = 0; i < CPU_ROLES; i++) {
		char want[80], *end;
		double v;

		snprintf(want, sizeof(want), "firstlight_cpu_seconds_total{role=\"%s\"} ",
			 cpuuse__role_name((enum cpu_role)i));
		assert_true(!strncmp(p, want, strlen(want)));
		v = strtod(p + strlen(want), &end);
		assert_true(end > p + strlen(want) && *end == '\n' && v >= 0);
		r->cpu_ns[i] = (uint64_t)llround(v * 1e9);
		p = end + 1;
	}
	memmove(start, p, strlen(p) + 1);
	r->body_len -= (size_t)(p - start);
	r->have_cpu = 1;
}

/* The agent's CPU by role: seconds from ns, every role always listed. */
static void test_render_cpu(void **state)
{
	struct metrics_snapshot s;
	struct reply r = { 0 };
	char *text;

	(void)state;
	fill_snapshot(&s);
	text = render(&s);
	assert_null(strstr(text, "firstlight_cpu_seconds_total"));
	free(text);
	s.have_cpu = 1;
	s.cpu_ns[CPU_RECORD] = 1500000000;
	s.cpu_ns[CPU_SHIP] = 250000;
	s.cpu_ns[CPU_IDENTITY] = 0;
	s.cpu_ns[CPU_METRICS] = 1;
	s.cpu_ns[CPU_OTHER] = 12345678901;
	text = render(&s);
	assert_non_null(strstr(text,
		"firstlight_cpu_seconds_total{role=\"record\"} 1.5\n"
		"firstlight_cpu_seconds_total{role=\"ship\"} 0.00025\n"
		"firstlight_cpu_seconds_total{role=\"identity\"} 0\n"
		"firstlight_cpu_seconds_total{role=\"metrics\"} 1e-09\n"
		"firstlight_cpu_seconds_total{role=\"other\"} 12.345678901\n"));
	/* Without the family, the rest is the snapshot's text as it was. */
	r.raw = text;
	r.body = text;
	r.body_len = strlen(text);
	cut_cpu_family(&r);
	assert_int_equal(r.have_cpu, 1);
	assert_int_equal(r.cpu_ns[CPU_OTHER], 12345678901);
	assert_string_equal(r.body, golden);
	assert_int_equal(r.body_len, strlen(golden));
	free(text);
}

/* Reads to EOF (the request said Connection: close) and splits status, headers, body. */
static void read_reply(int fd, struct reply *r)
{
	size_t cap = 4096;
	char *end;

	memset(r, 0, sizeof(*r));
	r->raw = malloc(cap);
	assert_non_null(r->raw);
	for (;;) {
		ssize_t n;

		if (cap - r->raw_len < 2) {
			char *p = realloc(r->raw, cap * 2);

			assert_non_null(p);
			r->raw = p;
			cap *= 2;
		}
		n = recv(fd, r->raw + r->raw_len, cap - r->raw_len - 1, 0);
		assert_true(n >= 0);
		if (n == 0)
			break;
		r->raw_len += (size_t)n;
	}
	r->raw[r->raw_len] = '\0';
	assert_int_equal(sscanf(r->raw, "HTTP/1.%*d %d", &r->status), 1);
	end = strstr(r->raw, "\r\n\r\n");
	assert_non_null(end);
	r->body = end + 4;
	r->body_len = r->raw_len - (size_t)(r->body - r->raw);
	cut_cpu_family(r);
}

static void http(int family, int port, const char *method, const char *path, struct reply *r)
{
	char req[256];
	int fd = connect_to(family, port);

	snprintf(req, sizeof(req),
		 "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		 method, path);
	send_all(fd, req);
	read_reply(fd, r);
	close(fd);
}

/* The value of header name (case-insensitive), copied into out; 0 if found. */
static int header(const struct reply *r, const char *name, char *out, size_t cap)
{
	const char *p = strstr(r->raw, "\r\n");
	size_t nlen = strlen(name);

	while (p && p + 2 < r->body) {
		const char *line = p + 2;
		const char *eol = strstr(line, "\r\n");

		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			const char *v = line + nlen + 1;
			size_t n;

			while (*v == ' ')
				v++;
			n = (size_t)(eol - v);
			assert_true(n < cap);
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
		p = eol;
	}
	return -1;
}

/* ---- the server ------------------------------------------------------------------------- */

/* Each server test keeps its server here so that teardown stops it even after a failure. */
struct fixture {
	struct metrics *m;
	struct metrics *m2;
	int fd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	metrics__stop(f->m);
	metrics__stop(f->m2);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
	return 0;
}

static struct metrics *start_ok(const char *addr)
{
	int err = 1;
	struct metrics *m = metrics__start(addr, &err);

	if (!m)
		fail_msg("metrics__start(%s): %s", addr, strerror(-err));
	assert_int_equal(err, 1); /* untouched on success */
	assert_true(metrics__port(m) > 0 && metrics__port(m) < 65536);
	return m;
}

static void test_scrape(void **state)
{
	struct fixture *f = *state;
	struct metrics_snapshot s;
	struct reply r;
	char ctype[128], *want;
	int port;

	f->m = start_ok("127.0.0.1:0");
	port = metrics__port(f->m);

	/* Nothing published yet: an honest failure rather than zeros. */
	http(AF_INET, port, "GET", "/metrics", &r);
	assert_int_equal(r.status, 503);
	reply_free(&r);

	fill_snapshot(&s);
	metrics__publish(f->m, &s);
	http(AF_INET, port, "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(header(&r, "Content-Type", ctype, sizeof(ctype)), 0);
	assert_string_equal(ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_int_equal(r.body_len, strlen(golden));
	assert_string_equal(r.body, golden);
	/* This process's CPU, measured at the scrape: the main thread's as "record", the
	 * server's as "metrics" (it names itself), adding up to at most the process's. */
	assert_true(r.have_cpu);
	assert_true(r.cpu_ns[CPU_RECORD] > 0);
	assert_true(r.cpu_ns[CPU_METRICS] > 0);
	assert_int_equal(r.cpu_ns[CPU_SHIP], 0);
	assert_int_equal(r.cpu_ns[CPU_IDENTITY], 0);
	{
		uint64_t sum = 0, first[CPU_ROLES];
		struct timespec ts;

		for (int i = 0; i < CPU_ROLES; i++)
			sum += first[i] = r.cpu_ns[i];
		assert_int_equal(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
		/* Each value went through a decimal form: within a ns of it. */
		assert_true(sum <= (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + CPU_ROLES);
		reply_free(&r);
		http(AF_INET, port, "GET", "/metrics", &r);
		for (int i = 0; i < CPU_ROLES; i++)
			assert_true(r.cpu_ns[i] + 1 >= first[i]); /* counters */
	}
	reply_free(&r);

	/* The next scrape shows the next snapshot, and only that. */
	s.records[MR_EXEC] = 121;
	s.drops[FL_EV_EXIT] = 9;
	strcpy(s.node, "node-\"b\"");
	metrics__publish(f->m, &s);
	want = render(&s);
	http(AF_INET, port, "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, want);
	assert_non_null(strstr(r.body, "firstlight_drops_total{event_type=\"exit\"} 9\n"));
	assert_non_null(strstr(r.body, "node=\"node-\\\"b\\\"\""));
	free(want);
	reply_free(&r);

	/* The query string is not part of the path. */
	http(AF_INET, port, "GET", "/metrics?x=1", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);

	/* HEAD: same status and type, no body. */
	http(AF_INET, port, "HEAD", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(header(&r, "Content-Type", ctype, sizeof(ctype)), 0);
	assert_string_equal(ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_int_equal(r.body_len, 0);
	reply_free(&r);
}

/* /healthz, the probes': the decision from exact inputs, then over HTTP. */
static void test_health(void **state)
{
	struct fixture *f = *state;
	const uint64_t s = 1000000000ull;
	char line[256];
	struct reply r;
	uint64_t now;
	int port;

	assert_int_equal(metrics__health(0, 5 * s, 5 * s, line, sizeof(line)), 503);
	assert_string_equal(line, "not ready: the programs are not attached yet\n");
	assert_int_equal(metrics__health(13, 100 * s, 100 * s + 7000000, line, sizeof(line)), 200);
	assert_string_equal(line, "ok: 13 programs attached, the ring buffer drained 7 ms ago\n");
	/* The limit itself is still healthy; a nanosecond more is not. */
	assert_int_equal(metrics__health(13, 100 * s, 100 * s + METRICS_HEALTH_STALL_NS, line, sizeof(line)), 200);
	assert_int_equal(metrics__health(13, 100 * s, 100 * s + METRICS_HEALTH_STALL_NS + 1, line, sizeof(line)), 503);
	assert_int_equal(metrics__health(13, 100 * s, 145 * s, line, sizeof(line)), 503);
	assert_string_equal(line, "unhealthy: the ring buffer was last drained 45 s ago (the limit is 30 s): "
				  "the consumer is stuck and events will be lost\n");
	/* A drain stamped after the probe's clock read (the threads race): healthy. */
	assert_int_equal(metrics__health(13, 100 * s + 1, 100 * s, line, sizeof(line)), 200);

	f->m = start_ok("127.0.0.1:0");
	port = metrics__port(f->m);
	http(AF_INET, port, "GET", "/healthz", &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "not ready: the programs are not attached yet\n");
	reply_free(&r);
	now = clock__mono_ns();
	metrics__drained(f->m, now);
	metrics__set_ready(f->m, 13);
	http(AF_INET, port, "GET", "/healthz", &r);
	assert_int_equal(r.status, 200);
	assert_true(!strncmp(r.body, "ok: 13 programs attached, the ring buffer drained ", 50));
	reply_free(&r);
	http(AF_INET, port, "HEAD", "/healthz", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	reply_free(&r);
	/* A consumer that stopped draining: the probe fails. */
	metrics__drained(f->m, now - METRICS_HEALTH_STALL_NS - s);
	http(AF_INET, port, "GET", "/healthz", &r);
	assert_int_equal(r.status, 503);
	assert_true(!strncmp(r.body, "unhealthy: the ring buffer was last drained 3", 45));
	reply_free(&r);
	/* /metrics is unaffected (nothing published yet there). */
	http(AF_INET, port, "GET", "/metrics", &r);
	assert_int_equal(r.status, 503);
	reply_free(&r);
}

static void test_not_found_and_method(void **state)
{
	static const char *const paths[] = { "/", "/metrics/", "/metricsx", "/Metrics", "/foo" };
	static const char *const methods[] = { "POST", "PUT", "DELETE", "PATCH", "OPTIONS" };
	struct fixture *f = *state;
	struct metrics_snapshot s;
	struct reply r;
	char allow[64];
	unsigned int i;
	int port;

	f->m = start_ok("127.0.0.1:0");
	port = metrics__port(f->m);
	fill_snapshot(&s);
	metrics__publish(f->m, &s);

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		http(AF_INET, port, "GET", paths[i], &r);
		if (r.status != 404)
			fail_msg("GET %s: expected 404, got %d", paths[i], r.status);
		assert_null(strstr(r.body, "firstlight_"));
		reply_free(&r);
	}
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		http(AF_INET, port, methods[i], "/metrics", &r);
		if (r.status != 405)
			fail_msg("%s /metrics: expected 405, got %d", methods[i], r.status);
		assert_int_equal(header(&r, "Allow", allow, sizeof(allow)), 0);
		assert_string_equal(allow, "GET, HEAD");
		assert_null(strstr(r.body, "firstlight_"));
		reply_free(&r);
	}
	/* Unknown path wins over a wrong method: there is nothing there to allow. */
	http(AF_INET, port, "POST", "/other", &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
}

static void test_bad_address(void **state)
{
	static const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", ":9464", "127.0.0.1:65536", "127.0.0.1:99999999",
		"127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1: 80", "127.0.0.1:0x10", "127.0.0.1:80x",
		"localhost:9464", "example.com:80", "256.0.0.1:80", "::1:9464", "[::1]", "[::1]9464",
		"[::1:9464", "[]:9464", "[127.0.0.1]:9464", "1.2.3.4.5:80", "127.0.0.1:80:80",
	};
	unsigned int i;
	int err;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = 0;
		errno = 0;
		if (metrics__start(bad[i], &err) != NULL)
			fail_msg("metrics__start(\"%s\") succeeded", bad[i]);
		if (err != -EINVAL)
			fail_msg("metrics__start(\"%s\"): expected -EINVAL, got %d", bad[i], err);
		assert_int_equal(errno, EINVAL);
	}
	err = 0;
	assert_null(metrics__start(NULL, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(metrics__start("", NULL)); /* err is optional */
	assert_int_equal(errno, EINVAL);

	/* The same addresses are refused by the option check, each with a reason. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		assert_int_equal(httpd__check_addr(bad[i], &why), -EINVAL);
		assert_non_null(why);
	}
	{
		const char *why = NULL;

		assert_int_equal(httpd__check_addr("localhost:9464", &why), -EINVAL);
		assert_string_equal(why, "the host is not a numeric IPv4 address (names are not resolved)");
		assert_int_equal(httpd__check_addr("::1:9464", &why), -EINVAL);
		assert_string_equal(why, "an IPv6 address goes in brackets");
		assert_int_equal(httpd__check_addr("127.0.0.1:65536", &why), -EINVAL);
		assert_string_equal(why, "the port is not a number from 0 to 65535");
		assert_int_equal(httpd__check_addr("[zz]:1", &why), -EINVAL);
		assert_string_equal(why, "not a numeric IPv6 address");
		assert_int_equal(httpd__check_addr("127.0.0.1:9464", &why), 0);
		assert_int_equal(httpd__check_addr("[::1]:0", &why), 0);
		assert_int_equal(httpd__check_addr("0.0.0.0:9464", &why), 0);
	}

	/* Well-formed, but not an address of this host (TEST-NET-1, RFC 5737). */
	err = 0;
	assert_null(metrics__start("192.0.2.1:0", &err));
	assert_int_equal(err, -EADDRNOTAVAIL);
}

static void test_port_in_use(void **state)
{
	struct fixture *f = *state;
	char addr[64];
	int err = 0;

	f->m = start_ok("127.0.0.1:0");
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", metrics__port(f->m));
	f->m2 = metrics__start(addr, &err);
	assert_null(f->m2);
	assert_int_equal(err, -EADDRINUSE);
	/* The wildcard address overlaps the listener on loopback: in use as well. */
	snprintf(addr, sizeof(addr), "0.0.0.0:%d", metrics__port(f->m));
	f->m2 = metrics__start(addr, &err);
	assert_null(f->m2);
	assert_int_equal(err, -EADDRINUSE);
}

static void test_ipv6(void **state)
{
	struct fixture *f = *state;
	struct metrics_snapshot s;
	struct reply r;
	int err = 0;

	/* Our machines have IPv6 loopback (the network tests need it too): no skipping. */
	f->m = metrics__start("[::1]:0", &err);
	assert_non_null(f->m);
	fill_snapshot(&s);
	metrics__publish(f->m, &s);
	http(AF_INET6, metrics__port(f->m), "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, golden);
	reply_free(&r);
}

/* A client that sends half a request and then nothing holds one connection, not the
 * server: another scrape is answered meanwhile, and stop does not wait for it. */
static void test_stalled_client(void **state)
{
	struct fixture *f = *state;
	struct metrics_snapshot s;
	struct reply r;
	char c;
	ssize_t n;
	int port;

	f->m = start_ok("127.0.0.1:0");
	port = metrics__port(f->m);
	fill_snapshot(&s);
	metrics__publish(f->m, &s);

	f->fd = connect_to(AF_INET, port);
	send_all(f->fd, "GET /metr");
	http(AF_INET, port, "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, golden);
	reply_free(&r);

	metrics__stop(f->m);
	f->m = NULL;
	/* Stop closed the stalled connection: the client sees EOF or a reset, not silence. */
	n = recv(f->fd, &c, 1, 0);
	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
}

/* Entries in a /proc/self directory (fds or threads). */
static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - (strcmp(path, "/proc/self/fd") == 0); /* the DIR's own fd */
}

static void test_stop_releases_everything(void **state)
{
	struct fixture *f = *state;
	struct metrics_snapshot s;
	struct reply r;
	int fds, threads, i;

	metrics__stop(NULL); /* a no-op */
	fds = count_dir("/proc/self/fd");
	threads = count_dir("/proc/self/task");
	for (i = 0; i < 3; i++) {
		f->m = start_ok("127.0.0.1:0");
		fill_snapshot(&s);
		metrics__publish(f->m, &s);
		http(AF_INET, metrics__port(f->m), "GET", "/metrics", &r);
		assert_int_equal(r.status, 200);
		reply_free(&r);
		assert_true(count_dir("/proc/self/task") > threads);
		metrics__stop(f->m);
		f->m = NULL;
		assert_int_equal(count_dir("/proc/self/fd"), fds);
		assert_int_equal(count_dir("/proc/self/task"), threads);
	}
	/* Failed starts leave nothing behind either (memory: the ASan build checks). */
	{
		char addr[64];
		int err = 0;

		f->m = start_ok("127.0.0.1:0");
		fds = count_dir("/proc/self/fd");
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", metrics__port(f->m));
		assert_null(metrics__start(addr, &err));
		assert_null(metrics__start("192.0.2.1:0", &err));
		assert_null(metrics__start("nonsense", &err));
		assert_int_equal(count_dir("/proc/self/fd"), fds);
	}
	/* Publish and port on NULL (metrics off) are harmless. */
	metrics__publish(NULL, &s);
	assert_int_equal(metrics__port(NULL), 0);
}

/* SigBlk of a thread, from /proc/self/task/TID/status. */
static unsigned long long sigblk(const char *tid)
{
	char path[300], line[256];
	unsigned long long mask = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	fp = fopen(path, "re");
	if (!fp)
		return ~0ull; /* the thread is gone: nothing it could catch */
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "SigBlk: %llx", &mask) == 1)
			break;
	fclose(fp);
	return mask;
}

/* With SIGTERM and SIGINT unblocked in the caller, the HTTP thread still blocks them, so
 * they can only reach the agent's own thread (and its signalfd). */
static void test_thread_blocks_signals(void **state)
{
	struct fixture *f = *state;
	unsigned long long want = (1ull << (SIGTERM - 1)) | (1ull << (SIGINT - 1));
	sigset_t none, old;
	char self[32];
	struct dirent *e;
	DIR *d;
	int others = 0;

	sigemptyset(&none);
	sigaddset(&none, SIGTERM);
	sigaddset(&none, SIGINT);
	assert_int_equal(pthread_sigmask(SIG_UNBLOCK, &none, &old), 0);
	f->m = start_ok("127.0.0.1:0");
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);

	snprintf(self, sizeof(self), "%d", gettid());
	d = opendir("/proc/self/task");
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, self) == 0)
			continue;
		others++;
		if ((sigblk(e->d_name) & want) != want) {
			closedir(d);
			fail_msg("thread %s does not block SIGTERM/SIGINT", e->d_name);
		}
	}
	closedir(d);
	assert_true(others > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_render_golden),
		cmocka_unit_test(test_render_escaping),
		cmocka_unit_test(test_render_cpu),
		cmocka_unit_test(test_render_values),
		cmocka_unit_test(test_render_nospc),
		cmocka_unit_test_setup_teardown(test_scrape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found_and_method, setup, teardown),
		cmocka_unit_test(test_bad_address),
		cmocka_unit_test_setup_teardown(test_port_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_releases_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_blocks_signals, setup, teardown),
	};

	/* A reset connection must fail a send, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
