/*
 * Unit tests for user/sensor/kcaps.c: what a node lacks, in order and with the first
 * reason found, and the NodeCapabilities record as written. The probing itself needs
 * real kernels: `make test-kernel` checks its result on each kernel of the matrix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "records/record.h"
#include "records/sink.h"
#include "sensor/kcaps.h"

#include "capture_sink.h"

/* A node as 5.10 is: the capabilities kcaps__probe finds missing there. */
static void kernel_510(struct kcaps *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->release, "5.10.0-32-cloud-amd64");
	strcpy(c->machine, "x86_64");
	kcaps__lack(c, KCAP_UNIX_CONNECTS, "cgroup/connect_unix (6.7+)");
	kcaps__lack(c, KCAP_TCP_ACCEPT_OWNER, "socket storage in tracing programs (5.11+)");
	kcaps__lack(c, KCAP_UDP_DATAGRAMS, "the sock_send_length tracepoint (6.4+)");
	/* a second reason for the same capability does not replace the first */
	kcaps__lack(c, KCAP_UDP_DATAGRAMS, "a cgroup2 mount");
}

static void test_missing(void **state)
{
	const char *names[KCAP_COUNT];
	struct kcaps c;
	size_t n;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(kcaps__missing_names(&c, names), 0);
	for (int k = 0; k < KCAP_COUNT; k++)
		assert_true(kcaps__has(&c, k));

	kernel_510(&c);
	n = kcaps__missing_names(&c, names);
	assert_int_equal(n, 3);
	/* enum order, not the order they were found in */
	assert_string_equal(names[0], "tcp-accept-owner");
	assert_string_equal(names[1], "udp-datagrams");
	assert_string_equal(names[2], "unix-connects");
	assert_false(kcaps__has(&c, KCAP_UDP_DATAGRAMS));
	assert_true(kcaps__has(&c, KCAP_UDP_CONNECTS));
	assert_string_equal(c.why[KCAP_UDP_DATAGRAMS], "the sock_send_length tracepoint (6.4+)");
	/* out of range: neither had nor marked */
	assert_false(kcaps__has(&c, KCAP_COUNT));
	kcaps__lack(&c, KCAP_COUNT, "nothing");
	assert_int_equal(kcaps__missing_names(&c, names), 3);
}

static void test_names_are_distinct(void **state)
{
	(void)state;
	for (int k = 0; k < KCAP_COUNT; k++) {
		assert_non_null(strchr(kcaps__name(k), '-')); /* kebab-case, as in docs/kernels.md */
		assert_true(strlen(kcaps__unobserved(k)) > 0);
		for (int j = 0; j < k; j++)
			assert_string_not_equal(kcaps__name(k), kcaps__name(j));
	}
	assert_string_equal(kcaps__name(KCAP_COUNT), "?");
}

static void test_record(void **state)
{
	const char *progs[] = { "fl_fork", "fl_exec_bounded", "fl_exit_legacy" };
	Firstlight__V1__NodeCapabilities *r;
	struct capture cap;
	struct recorder rec;
	struct kcaps c;

	(void)state;
	capture_init(&cap);
	assert_int_equal(recorder__init(&rec, &cap.base), 0);
	kernel_510(&c);
	assert_int_equal(kcaps__emit(&c, progs, 3, 0, &rec), 0);
	assert_int_equal(cap.n, 1);
	assert_int_equal(capture_last(&cap)->body_case, FIRSTLIGHT__V1__EVENT__BODY_NODE_CAPABILITIES);
	r = capture_last(&cap)->node_capabilities;
	assert_string_equal(r->kernel_release, "5.10.0-32-cloud-amd64");
	assert_string_equal(r->machine, "x86_64");
	assert_int_equal(r->n_available, KCAP_COUNT - 3);
	assert_string_equal(r->available[0], "process-lifecycle");
	assert_string_equal(r->available[KCAP_COUNT - 7], "unix-peers");
	assert_string_equal(r->available[KCAP_COUNT - 6], "privilege-changes");
	assert_string_equal(r->available[KCAP_COUNT - 5], "file-access");
	assert_string_equal(r->available[KCAP_COUNT - 4], "socket-families");
	assert_int_equal(r->n_missing, 3);
	assert_string_equal(r->missing[0], "tcp-accept-owner");
	assert_string_equal(r->missing[2], "unix-connects");
	assert_int_equal(r->n_missing_detail, 3);
	assert_string_equal(r->missing_detail[1]->name, "udp-datagrams");
	assert_string_equal(r->missing_detail[1]->reason, "the sock_send_length tracepoint (6.4+)");
	assert_string_equal(r->missing_detail[1]->unobserved, "UDP datagrams and bytes per peer");
	assert_int_equal(r->n_programs, 3);
	assert_string_equal(r->programs[1], "fl_exec_bounded");
	assert_false(capture_last(&cap)->snapshot);
	/* restated at a new segment's start */
	assert_int_equal(kcaps__emit(&c, progs, 3, 1, &rec), 0);
	assert_int_equal(cap.n, 2);
	assert_true(capture_last(&cap)->snapshot);
	assert_int_equal(capture_last(&cap)->node_capabilities->n_missing, 3);
	capture_free(&cap.base);
	recorder__fini(&rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_names_are_distinct),
		cmocka_unit_test(test_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
