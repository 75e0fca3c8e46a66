/* Unit tests for user/base/units.c (numbers in options) and user/base/cliopt.c. */
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cliopt.h"
#include "base/units.h"

static uint64_t ok(const char *s, enum units u, uint64_t min, uint64_t max, unsigned int flags)
{
	uint64_t v = 12345;

	assert_int_equal(units__parse("--x", s, u, min, max, flags, &v), 0);
	return v;
}

static void bad(const char *s, enum units u, uint64_t min, uint64_t max, unsigned int flags)
{
	uint64_t v = 12345;

	assert_int_equal(units__parse("--x", s, u, min, max, flags, &v), -EINVAL);
	assert_int_equal(v, 12345); /* untouched */
}

static void test_units(void **state)
{
	(void)state;
	assert_int_equal(ok("4096", UNITS_BYTES, 1, UINT64_MAX, 0), 4096);
	assert_int_equal(ok("16K", UNITS_BYTES, 1, UINT64_MAX, 0), 16384);
	assert_int_equal(ok("8m", UNITS_BYTES, 1, UINT64_MAX, 0), 8u << 20);
	assert_int_equal(ok("1G", UNITS_BYTES, 1, UINT64_MAX, 0), 1u << 30);
	assert_int_equal(ok("90", UNITS_NS, 1, UINT64_MAX, 0), 90000000000ull);
	assert_int_equal(ok("2h", UNITS_NS, 1, UINT64_MAX, 0), 7200000000000ull);
	assert_int_equal(ok("1d", UNITS_NS, 1, UINT64_MAX, 0), 86400000000000ull);
	assert_int_equal(ok("0", UNITS_BYTES, 1024, UINT64_MAX, UNITS_ZERO_OK), 0);
	assert_int_equal(ok("65536", UNITS_COUNT, 1, 65536, 0), 65536);
	bad("0", UNITS_BYTES, 1024, UINT64_MAX, 0);
	bad("1023", UNITS_BYTES, 1024, UINT64_MAX, UNITS_ZERO_OK);
	bad("65537", UNITS_COUNT, 1, 65536, 0);
	bad("64K", UNITS_COUNT, 1, UINT64_MAX, 0);   /* counts take no unit */
	bad("5x", UNITS_BYTES, 1, UINT64_MAX, 0);
	bad("5KK", UNITS_BYTES, 1, UINT64_MAX, 0);
	bad("-1", UNITS_COUNT, 0, UINT64_MAX, 0);
	bad("+1", UNITS_COUNT, 0, UINT64_MAX, 0);
	bad(" 1", UNITS_COUNT, 0, UINT64_MAX, 0);
	bad("\t1", UNITS_COUNT, 0, UINT64_MAX, 0);
	bad("\n1", UNITS_COUNT, 0, UINT64_MAX, 0);
	bad("x", UNITS_COUNT, 0, UINT64_MAX, UNITS_QUIET);
	bad("", UNITS_COUNT, 0, UINT64_MAX, 0);
	bad("K", UNITS_BYTES, 0, UINT64_MAX, 0);
	bad("18446744073709551616", UNITS_COUNT, 0, UINT64_MAX, 0); /* 2^64 */
	bad("17179869184G", UNITS_BYTES, 0, UINT64_MAX, 0);         /* 2^64 bytes */
	bad("213503982335d", UNITS_NS, 0, UINT64_MAX, 0);           /* past 2^64 ns */
}

static void test_u32(void **state)
{
	uint32_t v = 7;

	(void)state;
	assert_int_equal(units__parse_u32("--x", "4G", UNITS_BYTES, 1, UINT64_MAX, 0, &v), -EINVAL);
	assert_int_equal(v, 7);
	assert_int_equal(units__parse_u32("--x", "1G", UNITS_BYTES, 1, UINT64_MAX, 0, &v), 0);
	assert_int_equal(v, 1u << 30);
	assert_int_equal(units__parse_u32("--x", "0", UNITS_COUNT, 1, UINT64_MAX, UNITS_QUIET, &v), -EINVAL);
	assert_int_equal(units__parse_u32("--x", "4294967296", UNITS_COUNT, 1, UINT64_MAX, UNITS_QUIET, &v),
			 -EINVAL);
	assert_int_equal(v, 1u << 30);
	assert_int_equal(units__parse_u32("--x", "4294967295", UNITS_COUNT, 1, UINT64_MAX, UNITS_QUIET, &v), 0);
	assert_int_equal(v, UINT32_MAX);
}

static void test_full_long_options(void **state)
{
	static const struct option longopts[] = {
		{ "data-dir", required_argument, NULL, 1 },
		{ "retain-bytes", required_argument, NULL, 2 },
		{ "retain-age", required_argument, NULL, 3 },
		{ "json", no_argument, NULL, 4 },
		{},
	};
	char *full[] = { "run", "--data-dir", "--dat", "--retain-age=1h", "--json", "dir", NULL };
	char *abbrev[] = { "run", "--json", "--data", "x", NULL };
	char *abbrev_eq[] = { "run", "--retain-b=1G", NULL };
	char *ambiguous[] = { "run", "--retain", "1G", NULL };
	char *after_dashes[] = { "run", "--", "--data", NULL };
	char *unknown[] = { "run", "--bogus", NULL };

	(void)state;
	/* "--dat" is the value of --data-dir, not an option. */
	assert_int_equal(cliopt__check_full("run", 6, full, longopts), 0);
	assert_int_equal(cliopt__check_full("run", 4, abbrev, longopts), -EINVAL);
	assert_int_equal(cliopt__check_full("run", 2, abbrev_eq, longopts), -EINVAL);
	assert_int_equal(cliopt__check_full("run", 3, ambiguous, longopts), -EINVAL);
	assert_int_equal(cliopt__check_full("run", 3, after_dashes, longopts), 0);
	assert_int_equal(cliopt__check_full("run", 2, unknown, longopts), 0); /* getopt says so */
}

/* An option written where a value belongs: the value is missing. */
static void test_option_as_value(void **state)
{
	static const struct option longopts[] = {
		{ "container", required_argument, NULL, 1 },
		{ "json", no_argument, NULL, 2 },
		{},
	};
	char *missing[] = { "tree", "--container", "--json", "dir", NULL };
	char *missing_eq[] = { "tree", "--container", "--json=x", NULL };
	char *not_ours[] = { "tree", "--container", "--bogus", NULL };
	char *dash[] = { "tree", "--container", "-", NULL };
	char *given_eq[] = { "tree", "--container=--json", NULL };

	(void)state;
	assert_int_equal(cliopt__check_full("tree", 4, missing, longopts), -EINVAL);
	assert_int_equal(cliopt__check_full("tree", 3, missing_eq, longopts), -EINVAL);
	/* Not one of the options: a value, however odd (the command judges it). */
	assert_int_equal(cliopt__check_full("tree", 3, not_ours, longopts), 0);
	assert_int_equal(cliopt__check_full("tree", 3, dash, longopts), 0);
	/* Written with '=', the value is what the user meant. */
	assert_int_equal(cliopt__check_full("tree", 2, given_eq, longopts), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_u32),
		cmocka_unit_test(test_full_long_options),
		cmocka_unit_test(test_option_as_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
