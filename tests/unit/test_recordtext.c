/*
 * Unit tests for user/records/recordtext.c: the one line per record of `read --text` and of the
 * live view, for every record kind, and hostile strings made harmless.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "records/recordtext.h"

typedef Firstlight__V1__Event Event;

#define T0 (1700000000ull * 1000000000ull + 5) /* 2023-11-14T22:13:20.000000005Z */

static char *line_of(const Event *ev)
{
	struct json_buf b = {};

	assert_int_equal(recordtext__append(&b, ev), 0);
	return b.data;
}

static void expect(const Event *ev, const char *want)
{
	char *got = line_of(ev);

	assert_string_equal(got, want);
	free(got);
}

static Event event(uint64_t seq)
{
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	ev.seq = seq;
	ev.time_unix_nano = T0;
	ev.node = "node-1";
	ev.agent_run_id = "run-1";
	return ev;
}

static void test_process_records(void **state)
{
	Firstlight__V1__Process p = FIRSTLIGHT__V1__PROCESS__INIT;
	Firstlight__V1__ProcessFlags fl = FIRSTLIGHT__V1__PROCESS_FLAGS__INIT;
	Firstlight__V1__ProcessExec x = FIRSTLIGHT__V1__PROCESS_EXEC__INIT;
	Firstlight__V1__ProcessFork f = FIRSTLIGHT__V1__PROCESS_FORK__INIT;
	Firstlight__V1__ProcessExit e = FIRSTLIGHT__V1__PROCESS_EXIT__INIT;
	char *args[] = { "sh", "-c", "exit 7" };
	Event ev = event(3);

	(void)state;
	p.pid = 812;
	p.ppid = 800;
	p.exec_id = "b0:5:812";
	p.parent_exec_id = "b0:1:800";
	p.workload_key = "cgroup:42";
	p.binary = "/bin/sh";
	p.args = args;
	p.n_args = 3;
	p.flags = &fl;
	x.process = &p;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
	ev.exec = &x;
	expect(&ev, "3 2023-11-14T22:13:20.000000005Z exec pid=812 ppid=800 uid=0 exec_id=b0:5:812 parent=b0:1:800 "
		    "workload=cgroup:42 binary=/bin/sh args=[\"sh\",\"-c\",\"exit 7\"]");
	p.args_truncated = 1;
	p.args_count = 9;
	fl.pre_existing = 1;
	ev.snapshot = 1;
	expect(&ev, "3 2023-11-14T22:13:20.000000005Z snapshot exec pid=812 ppid=800 uid=0 exec_id=b0:5:812 "
		    "parent=b0:1:800 workload=cgroup:42 binary=/bin/sh args=[\"sh\",\"-c\",\"exit 7\"] "
		    "args-truncated=3/9 pre-existing");
	ev.snapshot = 0;
	fl.pre_existing = 0;
	f.process = &p;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_FORK;
	ev.fork = &f;
	expect(&ev, "3 2023-11-14T22:13:20.000000005Z fork pid=812 ppid=800 uid=0 exec_id=b0:5:812 parent=b0:1:800 "
		    "workload=cgroup:42 binary=/bin/sh");
	e.pid = 812;
	e.exec_id = "b0:5:812";
	e.exit_code = 0;
	e.duration_nano = 1500000;
	e.start_seen = 1;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXIT;
	ev.exit = &e;
	expect(&ev, "3 2023-11-14T22:13:20.000000005Z exit pid=812 exec_id=b0:5:812 code=0 signal=0 lifetime=1.500ms");
	e.signal = 9;
	e.start_seen = 0;
	expect(&ev, "3 2023-11-14T22:13:20.000000005Z exit pid=812 exec_id=b0:5:812 code=0 signal=9 lifetime=1.500ms "
		    "start-not-seen");
}

static void test_flow(void **state)
{
	Firstlight__V1__Flow f = FIRSTLIGHT__V1__FLOW__INIT;
	Event ev = event(4);

	(void)state;
	f.kind = FIRSTLIGHT__V1__FLOW__KIND__CONNECT;
	f.pid = 9;
	f.exec_id = "b0:2:9";
	f.workload_key = "cgroup:42";
	f.src_addr = "::1";
	f.src_port = 40000;
	f.dst_addr = "::1";
	f.dst_port = 443;
	f.result = -111;
	f.error = "ECONNREFUSED";
	f.start_seen = 1;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_FLOW;
	ev.flow = &f;
	expect(&ev, "4 2023-11-14T22:13:20.000000005Z flow CONNECT pid=9 exec_id=b0:2:9 workload=cgroup:42 "
		    "[::1]:40000 -> [::1]:443 result=-111 error=ECONNREFUSED");
	f.kind = FIRSTLIGHT__V1__FLOW__KIND__UNIX_CONNECT;
	f.dst_addr = "@bus\x1b[2J";
	f.result = 0;
	f.peer_pid = 7;
	expect(&ev, "4 2023-11-14T22:13:20.000000005Z flow UNIX_CONNECT pid=9 exec_id=b0:2:9 workload=cgroup:42 "
		    "path=\"@bus\\x1b[2J\" peer=7");
}

static void test_workload_gap_heartbeat_agent(void **state)
{
	Firstlight__V1__Workload w = FIRSTLIGHT__V1__WORKLOAD__INIT;
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;
	Firstlight__V1__Heartbeat h = FIRSTLIGHT__V1__HEARTBEAT__INIT;
	Firstlight__V1__AgentLifecycle a = FIRSTLIGHT__V1__AGENT_LIFECYCLE__INIT;
	Firstlight__V1__SegmentRemoved r = FIRSTLIGHT__V1__SEGMENT_REMOVED__INIT;
	Event ev = event(5);

	(void)state;
	w.state = FIRSTLIGHT__V1__WORKLOAD__STATE__RESOLVED;
	w.key = "cgroup:42";
	w.kind = FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER;
	w.runtime = "runc";
	w.container_id = "c0ffee";
	w.pod_namespace = "payments";
	w.pod_name = "pay-7";
	w.image = "registry.local/pay:1";
	w.cgroup_path = "/kubepods/c0ffee";
	w.identity_verified = 1;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD;
	ev.workload = &w;
	expect(&ev, "5 2023-11-14T22:13:20.000000005Z workload RESOLVED key=cgroup:42 kind=CONTAINER runtime=runc "
		    "container=c0ffee pod_namespace=payments pod=pay-7 image=registry.local/pay:1 "
		    "path=/kubepods/c0ffee verified");
	w.state = FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED;
	w.process_count = 5;
	w.exec_count = 4;
	w.drops = 2;
	w.gap_count = 1;
	expect(&ev, "5 2023-11-14T22:13:20.000000005Z workload ENDED key=cgroup:42 kind=CONTAINER runtime=runc "
		    "container=c0ffee pod_namespace=payments pod=pay-7 image=registry.local/pay:1 "
		    "path=/kubepods/c0ffee verified processes=5 execs=4 drops=2 gaps=1");

	g.kind = FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP;
	g.count = 3;
	g.event_type = "exec";
	g.workload_key = "cgroup:42";
	g.start_time_unix_nano = T0 + 15000000;
	g.end_time_unix_nano = T0 + 16500000;
	g.reason = "ring-full";
	g.detail = "3 exec events lost";
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	ev.gap = &g;
	expect(&ev, "5 2023-11-14T22:13:20.000000005Z gap kind=RING_BUFFER_DROP count=3 event=exec workload=cgroup:42 "
		    "window=22:13:20.015-22:13:20.016 reason=ring-full detail=\"3 exec events lost\"");

	h.records = 100;
	h.drops = 1;
	h.live_processes = 80;
	h.live_workloads = 3;
	h.ring_fill_ratio = 0.125;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT;
	ev.heartbeat = &h;
	expect(&ev, "5 2023-11-14T22:13:20.000000005Z heartbeat records=100 drops=1 processes=80 workloads=3 "
		    "ring=12.5% backlog=0 lost=0");

	a.state = FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED;
	a.version = "0.1.0";
	a.records = 101;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_AGENT;
	ev.agent = &a;
	expect(&ev, "5 2023-11-14T22:13:20.000000005Z agent STOPPED version=0.1.0 run=run-1 node=node-1 records=101 drops=0");

	r.first_seq = 1;
	r.last_seq = 99;
	r.agent_run_id = "run-0";
	r.file = "seg-1.seg.gz";
	r.reason = "--retain-bytes 1G";
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_SEGMENT_REMOVED;
	ev.segment_removed = &r;
	expect(&ev, "5 2023-11-14T22:13:20.000000005Z segment-removed seq=1-99 run=run-0 file=seg-1.seg.gz "
		    "reason=\"--retain-bytes 1G\"");

	ev.body_case = 99;
	expect(&ev, "5 2023-11-14T22:13:20.000000005Z record of an unknown kind (body 99): read --json shows its fields");
}

/* Strings from a hostile store: controls, bidi overrides, quotes and newlines never
 * reach the terminal raw, whichever field they are in. */
/* The node's capabilities, and a workload's coverage naming what its node could not see. */
static void test_node_capabilities(void **state)
{
	Firstlight__V1__NodeCapabilities c = FIRSTLIGHT__V1__NODE_CAPABILITIES__INIT;
	Firstlight__V1__Workload w = FIRSTLIGHT__V1__WORKLOAD__INIT;
	char *have[] = { "process-lifecycle", "tcp-flows" };
	char *lack[] = { "udp-datagrams", "unix-connects" };
	Event ev = event(2);

	(void)state;
	c.kernel_release = "5.10.0-32-cloud-amd64";
	c.machine = "x86_64";
	c.available = have;
	c.n_available = 2;
	c.missing = lack;
	c.n_missing = 2;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_NODE_CAPABILITIES;
	ev.node_capabilities = &c;
	expect(&ev, "2 2023-11-14T22:13:20.000000005Z capabilities kernel=5.10.0-32-cloud-amd64 "
		    "machine=x86_64 missing=udp-datagrams,unix-connects "
		    "available=process-lifecycle,tcp-flows");
	c.n_missing = 0;
	expect(&ev, "2 2023-11-14T22:13:20.000000005Z capabilities kernel=5.10.0-32-cloud-amd64 "
		    "machine=x86_64 missing=- available=process-lifecycle,tcp-flows");

	w.state = FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED;
	w.key = "cgroup:7";
	w.kind = FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER;
	w.process_count = 1;
	w.unobserved = lack;
	w.n_unobserved = 2;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD;
	ev.workload = &w;
	expect(&ev, "2 2023-11-14T22:13:20.000000005Z workload ENDED key=cgroup:7 kind=CONTAINER "
		    "processes=1 execs=0 drops=0 gaps=0 unobserved=udp-datagrams,unix-connects");
}

static void test_hostile_strings(void **state)
{
	Firstlight__V1__AgentLifecycle a = FIRSTLIGHT__V1__AGENT_LIFECYCLE__INIT;
	Event ev = event(6);
	char *got;

	(void)state;
	a.state = FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STARTED;
	a.version = "1\n7 2023 fake line";
	ev.node = "n\xe2\x80\xae" "1"; /* U+202E RIGHT-TO-LEFT OVERRIDE */
	ev.agent_run_id = "r\"un\x9b";
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_AGENT;
	ev.agent = &a;
	got = line_of(&ev);
	assert_string_equal(got, "6 2023-11-14T22:13:20.000000005Z agent STARTED version=\"1\\n7 2023 fake line\" "
				 "run=\"r\\\"un\\x9b\" node=\"n\\u202e1\"");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_process_records),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_workload_gap_heartbeat_agent),
		cmocka_unit_test(test_node_capabilities),
		cmocka_unit_test(test_hostile_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
