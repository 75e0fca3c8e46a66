/* Unit tests for user/records/exec_id.c: the "<boot tag>:<start ns>:<tgid>" form, its parser and
 * the boot tag read from the running kernel; and the workload keys (records/wlkey.c), the
 * other id written for every process record. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/decimal.h"
#include "records/exec_id.h"
#include "records/wlkey.h"

static struct fl_exec_id mkid(uint64_t start_ns, uint32_t tgid)
{
	struct fl_exec_id id;

	memset(&id, 0, sizeof(id));
	id.start_ns = start_ns;
	id.tgid = tgid;
	return id;
}

static void expect_format(uint32_t tag, uint64_t start_ns, uint32_t tgid, const char *want)
{
	char buf[EXEC_ID_STRLEN];
	struct fl_exec_id id = mkid(start_ns, tgid);

	memset(buf, 'X', sizeof(buf));
	assert_ptr_equal(exec_id__format(buf, tag, &id), buf);
	assert_string_equal(buf, want);
}

static void test_format_golden(void **state)
{
	(void)state;
	expect_format(0x2a, 123456789, 812, "0000002a:123456789:812");
	expect_format(0x9f86d081, 1234567890123ull, 812, "9f86d081:1234567890123:812");
	expect_format(0, 1, 1, "00000000:1:1");
	expect_format(0xABCDEF01, 5, 7, "abcdef01:5:7"); /* lowercase hex */
	/* only one of start/tgid zero is still an id */
	expect_format(0x2a, 0, 1, "0000002a:0:1");
	expect_format(0x2a, 99, 0, "0000002a:99:0");
	/* the longest id fits EXEC_ID_STRLEN with its NUL */
	expect_format(UINT32_MAX, UINT64_MAX, UINT32_MAX,
		      "ffffffff:18446744073709551615:4294967295");
	assert_true(strlen("ffffffff:18446744073709551615:4294967295") < EXEC_ID_STRLEN);
}

/* decimal__put writes what printf's %llu writes: every length, both sides of each power
 * of ten, and a spread of values between. */
static void expect_decimal(uint64_t v)
{
	char got[DECIMAL_MAX + 1], want[DECIMAL_MAX + 1];

	*decimal__put(got, v) = 0;
	snprintf(want, sizeof(want), "%" PRIu64, v);
	assert_string_equal(got, want);
}

static void test_decimal(void **state)
{
	uint64_t p = 1, x = 0x9e3779b97f4a7c15ull;

	(void)state;
	expect_decimal(0);
	expect_decimal(UINT64_MAX);
	for (int i = 0; i < 20; i++, p *= 10) {
		expect_decimal(p - 1);
		expect_decimal(p);
		expect_decimal(p + 1);
		expect_decimal(p * 5);
	}
	for (int i = 0; i < 10000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		expect_decimal(x);
		expect_decimal(x >> (i % 64));
	}
}

static void test_format_zero(void **state)
{
	char buf[EXEC_ID_STRLEN];
	struct fl_exec_id id = mkid(0, 0);

	(void)state;
	memset(buf, 'X', sizeof(buf));
	assert_string_equal(exec_id__format(buf, 0x2a, &id), "");
	assert_string_equal(exec_id__format(buf, 0, &id), "");
	/* the pad field is not part of the id */
	id.pad = 77;
	assert_string_equal(exec_id__format(buf, 0x2a, &id), "");
	id = mkid(1, 2);
	id.pad = 77;
	assert_string_equal(exec_id__format(buf, 0x2a, &id), "0000002a:1:2");
}

static void expect_parse(const char *s, uint32_t tag, uint64_t start_ns, uint32_t tgid)
{
	struct fl_exec_id id;
	uint32_t got_tag = 0;

	memset(&id, 0xa5, sizeof(id));
	assert_int_equal(exec_id__parse(s, &got_tag, &id), 0);
	assert_int_equal(got_tag, tag);
	assert_int_equal(id.start_ns, start_ns);
	assert_int_equal(id.tgid, tgid);
	assert_int_equal(id.pad, 0);
}

static void test_parse_golden(void **state)
{
	(void)state;
	expect_parse("0000002a:123456789:812", 0x2a, 123456789, 812);
	expect_parse("9f86d081:1234567890123:812", 0x9f86d081, 1234567890123ull, 812);
	expect_parse("ffffffff:18446744073709551615:4294967295", UINT32_MAX, UINT64_MAX,
		     UINT32_MAX);
	expect_parse("00000000:0:1", 0, 0, 1);
}

static void test_round_trip(void **state)
{
	static const uint64_t starts[] = { 0, 1, 9, 10, 999999999, 1000000000,
					   1234567890123ull, UINT32_MAX, 1ull << 63, UINT64_MAX };
	static const uint32_t tgids[] = { 1, 2, 812, 32768, 4194304, INT32_MAX, UINT32_MAX };
	static const uint32_t tags[] = { 0, 0x2a, 0x9f86d081, 0x80000000u, UINT32_MAX };
	char buf[EXEC_ID_STRLEN], again[EXEC_ID_STRLEN];

	(void)state;
	for (size_t a = 0; a < sizeof(tags) / sizeof(tags[0]); a++)
		for (size_t b = 0; b < sizeof(starts) / sizeof(starts[0]); b++)
			for (size_t c = 0; c < sizeof(tgids) / sizeof(tgids[0]); c++) {
				struct fl_exec_id id = mkid(starts[b], tgids[c]), back;
				uint32_t tag;

				exec_id__format(buf, tags[a], &id);
				assert_int_equal(buf[8], ':');
				assert_int_equal(exec_id__parse(buf, &tag, &back), 0);
				assert_int_equal(tag, tags[a]);
				assert_int_equal(back.start_ns, starts[b]);
				assert_int_equal(back.tgid, tgids[c]);
				exec_id__format(again, tag, &back);
				assert_string_equal(again, buf);
			}
}

static void expect_reject(const char *s)
{
	struct fl_exec_id id = mkid(11, 22);
	uint32_t tag = 33;

	if (exec_id__parse(s, &tag, &id) != -EINVAL)
		fail_msg("exec_id__parse(\"%s\") was accepted", s);
	/* outputs are untouched on failure */
	assert_int_equal(tag, 33);
	assert_int_equal(id.start_ns, 11);
	assert_int_equal(id.tgid, 22);
}

static void test_parse_rejects(void **state)
{
	(void)state;
	/* empty, and the all-zero id's empty rendering */
	expect_reject("");
	/* short or long tag */
	expect_reject("2a:123456789:812");
	expect_reject("000002a:123456789:812");
	expect_reject("00000002a:123456789:812");
	expect_reject("100000000:1:1"); /* 9 digits, also > UINT32_MAX */
	/* missing fields */
	expect_reject("0000002a");
	expect_reject("0000002a:");
	expect_reject("0000002a:123456789");
	expect_reject("0000002a:123456789:");
	expect_reject("0000002a::812");
	expect_reject(":123456789:812");
	expect_reject("0000002a:812");
	/* trailing junk */
	expect_reject("0000002a:123456789:812x");
	expect_reject("0000002a:123456789:812 ");
	expect_reject("0000002a:123456789:812\n");
	expect_reject("0000002a:123456789:812:1");
	expect_reject("0000002a:123456789:812:");
	/* non-digits */
	expect_reject("0000002g:123456789:812");
	expect_reject("0000002a:12345x789:812");
	expect_reject("0000002a:-123456789:812");
	expect_reject("0000002a:+123456789:812");
	expect_reject("0000002a: 123456789:812");
	expect_reject("0000002a:123456789:-812");
	expect_reject("0000002a:123456789:+812");
	expect_reject("0000002a:123456789: 812");
	expect_reject("0000002a:0x10:812");
	expect_reject("0000002a:123456789:0x10");
	expect_reject("-000002a:123456789:812");
	/* other separators */
	expect_reject("0000002a-123456789-812");
	expect_reject("0000002a:123456789;812");
	/* overflow: tgid > UINT32_MAX, start > UINT64_MAX */
	expect_reject("0000002a:123456789:4294967296");
	expect_reject("0000002a:123456789:99999999999999999999");
	expect_reject("0000002a:18446744073709551616:812");
	expect_reject("0000002a:99999999999999999999999:812");
}

/* A stale errno from before the call must not make a good id fail. */
static void test_parse_ignores_stale_errno(void **state)
{
	(void)state;
	errno = ERANGE;
	expect_parse("0000002a:123456789:812", 0x2a, 123456789, 812);
}

/* strtoul() skips blanks and takes a sign and a 0x prefix, so the 8-character tag check
 * lets non-canonical tags through: parse(s) succeeds but format(parse(s)) != s. */
static void test_parse_rejects_noncanonical_tag(void **state)
{
	(void)state;
	expect_reject(" 000002a:123456789:812");
	expect_reject("+000002a:123456789:812");
	expect_reject("0x00002a:123456789:812");
	expect_reject("0X00002a:123456789:812");
}

static void test_boot_tag(void **state)
{
	char boot_id[40], raw[64] = "";
	uint32_t tag = 0, want;
	FILE *f;

	(void)state;
	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	assert_non_null(f); /* every Linux has it; the agent needs it too */
	assert_non_null(fgets(raw, sizeof(raw), f));
	fclose(f);
	raw[strcspn(raw, "\n")] = 0;
	assert_int_equal(strlen(raw), 36);
	want = (uint32_t)strtoul(raw, NULL, 16); /* the first 8 hex digits, before the '-' */

	assert_int_equal(exec_id__boot_tag(&tag, boot_id, sizeof(boot_id)), 0);
	assert_int_equal(tag, want);
	assert_string_equal(boot_id, raw);
	/* boot_id is optional */
	tag = 0;
	assert_int_equal(exec_id__boot_tag(&tag, NULL, 0), 0);
	assert_int_equal(tag, want);
	/* a short buffer gets a truncated, terminated copy */
	assert_int_equal(exec_id__boot_tag(&tag, boot_id, 9), 0);
	assert_int_equal(strlen(boot_id), 8);
	assert_int_equal(strncmp(boot_id, raw, 8), 0);
}

/* Golden keys, the largest values included: the form every reader parses. */
static void test_wlkey_format(void **state)
{
	char key[WLKEY_MAX];

	(void)state;
	wlkey__format(key, 0, 0);
	assert_string_equal(key, "cgroup:0");
	wlkey__format(key, 4026531835ull, 0);
	assert_string_equal(key, "cgroup:4026531835");
	wlkey__format(key, UINT64_MAX, 0);
	assert_string_equal(key, "cgroup:18446744073709551615");
	wlkey__format(key, 7, WLKEY_SANDBOX_PID | 4026532201ull);
	assert_string_equal(key, "sandbox:pidns:4026532201");
	wlkey__format(key, 7, WLKEY_SANDBOX_MNT | WLKEY_INODE_MASK);
	assert_string_equal(key, "sandbox:mntns:4294967295");
	/* Both tags: the pid namespace's, as before. */
	wlkey__format(key, 7, WLKEY_SANDBOX_PID | WLKEY_SANDBOX_MNT | 12);
	assert_string_equal(key, "sandbox:pidns:12");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_golden),
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_format_zero),
		cmocka_unit_test(test_parse_golden),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_ignores_stale_errno),
		cmocka_unit_test(test_parse_rejects_noncanonical_tag),
		cmocka_unit_test(test_boot_tag),
		cmocka_unit_test(test_wlkey_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
