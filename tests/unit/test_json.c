/* Unit tests for user/base/json.c: exact proto3 canonical JSON for firstlight.v1 messages,
 * plus a hand-built descriptor for the scalar types the schema does not use yet; and
 * user/records/recordjson.c: the zeros that are values. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "firstlight.pb-c.h"
#include "base/json.h"
#include "records/recordjson.h"

/* Renders msg into a fresh buffer and compares it with want. */
static void expect_json(const ProtobufCMessage *msg, const char *want)
{
	struct json_buf jb = { 0 };

	assert_int_equal(json__append_message(&jb, msg), 0);
	assert_int_equal(jb.len, strlen(want));
	assert_string_equal(jb.data, want);
	json_buf__free(&jb);
}

static void test_exec(void **state)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	Firstlight__V1__ProcessExec ex = FIRSTLIGHT__V1__PROCESS_EXEC__INIT;
	Firstlight__V1__Process p = FIRSTLIGHT__V1__PROCESS__INIT;
	Firstlight__V1__Namespaces ns = FIRSTLIGHT__V1__NAMESPACES__INIT;
	Firstlight__V1__ProcessFlags fl = FIRSTLIGHT__V1__PROCESS_FLAGS__INIT;
	char *args[] = { "sh", "-c", "exit 7" };

	(void)state;
	ns.pid = 4026531836u;
	ns.mnt = 4026531841u;
	fl.args_escaped = 1;
	p.exec_id = "n:1:812";
	p.pid = 812;
	p.ppid = 1;
	p.binary = "/bin/sh";
	p.n_args = 3;
	p.args = args;
	p.cgroup_id = 12345;
	p.namespaces = &ns;
	p.flags = &fl;
	p.cgroup_v1_name = "init.scope";
	ex.process = &p;
	ev.seq = 1;
	ev.time_unix_nano = 1700000000123456789ull;
	ev.node = "node-a";
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
	ev.exec = &ex;
	expect_json(&ev.base,
		    "{\"seq\":\"1\",\"timeUnixNano\":\"1700000000123456789\",\"node\":\"node-a\","
		    "\"exec\":{\"process\":{\"execId\":\"n:1:812\",\"pid\":812,\"ppid\":1,"
		    "\"binary\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"exit 7\"],"
		    "\"cgroupId\":\"12345\",\"namespaces\":{\"pid\":4026531836,\"mnt\":4026531841},"
		    "\"flags\":{\"argsEscaped\":true},\"cgroupV1Name\":\"init.scope\"}}}");
}

static void test_exit(void **state)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	Firstlight__V1__ProcessExit x = FIRSTLIGHT__V1__PROCESS_EXIT__INIT;

	(void)state;
	x.exec_id = "n:1:812";
	x.pid = 812;
	x.exit_code = -1;
	x.duration_nano = 1500;
	x.cgroup_id = 12345;
	x.start_seen = 1;
	ev.seq = 2;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXIT;
	ev.exit = &x;
	expect_json(&ev.base, "{\"seq\":\"2\",\"exit\":{\"execId\":\"n:1:812\",\"pid\":812,"
			      "\"exitCode\":-1,\"durationNano\":\"1500\",\"cgroupId\":\"12345\","
			      "\"startSeen\":true}}");
}

static void test_gap_enum(void **state)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	Firstlight__V1__Gap g = FIRSTLIGHT__V1__GAP__INIT;

	(void)state;
	g.kind = FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP;
	g.start_time_unix_nano = 5;
	g.count = 3;
	g.event_type = "exec";
	ev.seq = 3;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	ev.gap = &g;
	expect_json(&ev.base, "{\"seq\":\"3\",\"gap\":{\"kind\":\"RING_BUFFER_DROP\","
			      "\"startTimeUnixNano\":\"5\",\"count\":\"3\",\"eventType\":\"exec\"}}");
	g.kind = 99; /* from a newer schema: unknown names print as numbers */
	expect_json(&g.base, "{\"kind\":99,\"startTimeUnixNano\":\"5\",\"count\":\"3\","
			     "\"eventType\":\"exec\"}");
}

static void test_defaults_and_oneof(void **state)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	Firstlight__V1__Heartbeat hb = FIRSTLIGHT__V1__HEARTBEAT__INIT;
	Firstlight__V1__AgentLifecycle ag = FIRSTLIGHT__V1__AGENT_LIFECYCLE__INIT;

	(void)state;
	expect_json(&ev.base, "{}");
	ev.node = NULL; /* hand-built messages may leave strings NULL */
	expect_json(&ev.base, "{}");
	ev.seq = 4;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT;
	ev.heartbeat = &hb;
	expect_json(&ev.base, "{\"seq\":\"4\",\"heartbeat\":{}}");
	ev.heartbeat = NULL; /* the case alone says it is set */
	expect_json(&ev.base, "{\"seq\":\"4\",\"heartbeat\":{}}");
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_AGENT;
	ev.agent = &ag;
	ag.state = FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED;
	ag.records = 10;
	expect_json(&ev.base,
		    "{\"seq\":\"4\",\"agent\":{\"state\":\"STOPPED\",\"records\":\"10\"}}");
}

static void test_string_escaping(void **state)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	(void)state;
	ev.node = "a\"b\\c\nd\x01" "e\x7f\tf\r\b\f\x1f\xc3\xa9/";
	expect_json(&ev.base, "{\"node\":\"a\\\"b\\\\c\\nd\\u0001e\x7f\\tf\\r\\b\\f\\u001f"
			      "\xc3\xa9/\"}");
}

/* A hostile file's string field may hold bytes that are not UTF-8: the JSON stays valid,
 * each such byte one U+FFFD; valid multibyte characters around them are kept. */
static void test_invalid_utf8_replaced(void **state)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	(void)state;
	ev.node = "a\xff\xc3\xa9\xe2\x82z\xed\xa0\x80";
	expect_json(&ev.base, "{\"node\":\"a\\ufffd\xc3\xa9\\ufffd\\ufffdz\\ufffd\\ufffd\\ufffd\"}");
}

static void test_bytes_base64(void **state)
{
	Firstlight__V1__Batch b = FIRSTLIGHT__V1__BATCH__INIT;
	Firstlight__V1__Event e1 = FIRSTLIGHT__V1__EVENT__INIT, e2 = FIRSTLIGHT__V1__EVENT__INIT;
	Firstlight__V1__Event *evs[] = { &e1, &e2 };
	uint8_t d[] = { 0xfb, 0xff, 0xfe };

	(void)state;
	expect_json(&b.base, "{}");
	b.prev_hash.data = d;
	b.prev_hash.len = 1;
	expect_json(&b.base, "{\"prevHash\":\"+w==\"}");
	b.prev_hash.len = 2;
	expect_json(&b.base, "{\"prevHash\":\"+/8=\"}");
	b.prev_hash.len = 3;
	expect_json(&b.base, "{\"prevHash\":\"+//+\"}");
	b.hash.data = (uint8_t *)"abcd";
	b.hash.len = 4;
	e1.seq = 1;
	e2.seq = 2;
	b.n_events = 2;
	b.events = evs;
	expect_json(&b.base, "{\"events\":[{\"seq\":\"1\"},{\"seq\":\"2\"}],"
			     "\"prevHash\":\"+//+\",\"hash\":\"YWJjZA==\"}");
}

static void test_uint64_max_and_reuse(void **state)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	struct json_buf jb = { 0 };
	size_t cap;

	(void)state;
	ev.seq = UINT64_MAX;
	expect_json(&ev.base, "{\"seq\":\"18446744073709551615\"}");
	assert_int_equal(json__append_message(&jb, NULL), -EINVAL);
	assert_int_equal(json__append_message(&jb, &ev.base), 0);
	assert_int_equal(json__append_message(&jb, &ev.base), 0);
	assert_string_equal(jb.data, "{\"seq\":\"18446744073709551615\"}"
				     "{\"seq\":\"18446744073709551615\"}");
	cap = jb.cap;
	json_buf__reset(&jb);
	assert_int_equal(jb.len, 0);
	assert_int_equal(json__append_message(&jb, &ev.base), 0);
	assert_int_equal(jb.cap, cap);
	json_buf__free(&jb);
	json_buf__free(&jb);
	json_buf__free(NULL);
}

/* A message type built by hand, covering float, double, signed 64-bit and packed
 * repeated scalars, which firstlight.proto does not use (yet). */
struct scalars {
	ProtobufCMessage base;
	double d;
	float f;
	int64_t i64;
	size_t n_vals;
	int32_t *vals;
};

#define FIELD(name_, id_, label_, type_, q_, off_) \
	{ name_, id_, label_, type_, q_, off_, NULL, NULL, 0, 0, NULL, NULL }

static void test_scalars(void **state)
{
	static const ProtobufCFieldDescriptor fields[] = {
		FIELD("d_val", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_DOUBLE, 0,
		      offsetof(struct scalars, d)),
		FIELD("f_val", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_FLOAT, 0,
		      offsetof(struct scalars, f)),
		FIELD("i64", 3, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_SINT64, 0,
		      offsetof(struct scalars, i64)),
		FIELD("vals", 4, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_SINT32,
		      offsetof(struct scalars, n_vals), offsetof(struct scalars, vals)),
	};
	static const ProtobufCMessageDescriptor desc = {
		PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "t.Scalars", "Scalars", "Scalars", "t",
		sizeof(struct scalars), 4, fields, NULL, 0, NULL, NULL, NULL, NULL, NULL,
	};
	int32_t vals[] = { -2147483647 - 1, 0, 7 };
	struct scalars m = { PROTOBUF_C_MESSAGE_INIT(&desc), 0, 0, 0, 0, NULL };

	(void)state;
	expect_json(&m.base, "{}");
	m.d = 0.1;
	m.f = 0.1f;
	m.i64 = INT64_MIN;
	m.n_vals = 3;
	m.vals = vals;
	expect_json(&m.base, "{\"dVal\":0.1,\"fVal\":0.1,\"i64\":\"-9223372036854775808\","
			     "\"vals\":[-2147483648,0,7]}");
	m.d = NAN;
	m.f = INFINITY;
	m.i64 = 0;
	m.n_vals = 0;
	expect_json(&m.base, "{\"dVal\":\"NaN\",\"fVal\":\"Infinity\"}");
	m.d = 1.0 / 3;
	m.f = -INFINITY;
	expect_json(&m.base, "{\"dVal\":0.3333333333333333,\"fVal\":\"-Infinity\"}");
	m.d = 1e300;
	m.f = 16777216.0f;
	expect_json(&m.base, "{\"dVal\":1e+300,\"fVal\":16777216}");
}

/* A record through recordjson: want is the JSON of the whole event. */
static void expect_record(const Firstlight__V1__Event *ev, const char *want)
{
	struct json_buf jb = { 0 };

	assert_int_equal(recordjson__append(&jb, ev), 0);
	assert_string_equal(jb.data, want);
	json_buf__free(&jb);
}

/* The zeros that are values are printed, where they are values; other zeros are not. */
static void test_meaningful_zeros(void **state)
{
	Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	Firstlight__V1__ProcessExit ex = FIRSTLIGHT__V1__PROCESS_EXIT__INIT;
	Firstlight__V1__ProcessExec exec = FIRSTLIGHT__V1__PROCESS_EXEC__INIT;
	Firstlight__V1__Process p = FIRSTLIGHT__V1__PROCESS__INIT;
	Firstlight__V1__Flow fl = FIRSTLIGHT__V1__FLOW__INIT;
	Firstlight__V1__Workload w = FIRSTLIGHT__V1__WORKLOAD__INIT;
	Firstlight__V1__AgentLifecycle a = FIRSTLIGHT__V1__AGENT_LIFECYCLE__INIT;
	Firstlight__V1__Heartbeat hb = FIRSTLIGHT__V1__HEARTBEAT__INIT;

	(void)state;
	ev.seq = 3;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXIT;
	ev.exit = &ex;
	ex.pid = 812;
	expect_record(&ev, "{\"seq\":\"3\",\"exit\":{\"pid\":812,\"exitCode\":0,\"signal\":0}}");
	/* Killed: a signal and no exit code (0 would be a lie). */
	ex.signal = 9;
	expect_record(&ev, "{\"seq\":\"3\",\"exit\":{\"pid\":812,\"signal\":9}}");
	/* Without the option (json__append_message), proto3's implicit presence. */
	ex.signal = 0;
	expect_json(&ev.base, "{\"seq\":\"3\",\"exit\":{\"pid\":812}}");

	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
	ev.exec = &exec;
	exec.process = &p;
	p.pid = 812;
	p.auid = 4294967295u;
	p.session_id = 4294967295u;
	expect_record(&ev, "{\"seq\":\"3\",\"exec\":{\"process\":{\"pid\":812,\"ppid\":0,\"uid\":0,"
			   "\"gid\":0,\"euid\":0,\"egid\":0,\"auid\":4294967295,\"sessionId\":4294967295,"
			   "\"capEffective\":\"0\"}}}");

	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_FLOW;
	ev.flow = &fl;
	fl.kind = FIRSTLIGHT__V1__FLOW__KIND__CONNECT;
	expect_record(&ev, "{\"seq\":\"3\",\"flow\":{\"kind\":\"CONNECT\",\"result\":0}}");
	fl.kind = FIRSTLIGHT__V1__FLOW__KIND__CLOSE;
	expect_record(&ev, "{\"seq\":\"3\",\"flow\":{\"kind\":\"CLOSE\",\"result\":0,\"bytesSent\":\"0\","
			   "\"bytesReceived\":\"0\",\"bytesRetransmitted\":\"0\"}}");
	fl.kind = FIRSTLIGHT__V1__FLOW__KIND__UDP;
	expect_record(&ev, "{\"seq\":\"3\",\"flow\":{\"kind\":\"UDP\"}}");

	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD;
	ev.workload = &w;
	w.state = FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED;
	expect_record(&ev, "{\"seq\":\"3\",\"workload\":{\"state\":\"STARTED\"}}");
	w.state = FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED;
	expect_record(&ev, "{\"seq\":\"3\",\"workload\":{\"state\":\"ENDED\",\"processCount\":0,"
			   "\"execCount\":0,\"argsTruncatedCount\":0,\"drops\":\"0\",\"gapCount\":0}}");

	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_AGENT;
	ev.agent = &a;
	a.state = FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STARTED;
	expect_record(&ev, "{\"seq\":\"3\",\"agent\":{\"state\":\"STARTED\"}}");
	a.state = FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED;
	expect_record(&ev, "{\"seq\":\"3\",\"agent\":{\"state\":\"STOPPED\",\"records\":\"0\",\"drops\":\"0\"}}");

	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT;
	ev.heartbeat = &hb;
	hb.interval_nano = 10000000000ull;
	expect_record(&ev, "{\"seq\":\"3\",\"heartbeat\":{\"intervalNano\":\"10000000000\",\"records\":\"0\","
			   "\"drops\":\"0\",\"liveProcesses\":\"0\",\"liveWorkloads\":\"0\",\"execRecords\":\"0\","
			   "\"forkRecords\":\"0\",\"exitRecords\":\"0\",\"flowRecords\":\"0\","
			   "\"workloadRecords\":\"0\",\"gapRecords\":\"0\",\"ringFillRatio\":0,"
			   "\"sinkBacklog\":\"0\",\"sinkLost\":\"0\",\"malformedEvents\":\"0\",\"privilegeRecords\":\"0\",\"fileAccessRecords\":\"0\"}}");
	assert_int_equal(recordjson__append(NULL, NULL), -EINVAL);
}

/* Every declared field exists in its message, and is a number (a declared string or
 * message would be a mistake: their emptiness is already absence). */
static void test_zero_fields_exist(void **state)
{
	size_t n;
	const struct json_zero_field *z = recordjson__zero_fields(&n);

	(void)state;
	assert_true(n > 20);
	for (size_t i = 0; i < n; i++) {
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(z[i].msg, z[i].field);

		if (!f)
			fail_msg("%s has no field %s", z[i].msg->name, z[i].field);
		assert_true(f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE &&
			    f->type != PROTOBUF_C_TYPE_BYTES && f->label == PROTOBUF_C_LABEL_NONE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_meaningful_zeros),
		cmocka_unit_test(test_zero_fields_exist),
		cmocka_unit_test(test_exit),
		cmocka_unit_test(test_gap_enum),
		cmocka_unit_test(test_defaults_and_oneof),
		cmocka_unit_test(test_string_escaping),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_bytes_base64),
		cmocka_unit_test(test_uint64_max_and_reuse),
		cmocka_unit_test(test_scalars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
