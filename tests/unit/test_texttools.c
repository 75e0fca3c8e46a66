/* Unit tests for user/base/closest.c (the strings nearest to what was typed) and
 * user/base/texttable.c (aligned text tables). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/closest.h"
#include "base/texttable.h"

static void test_distance(void **state)
{
	(void)state;
	assert_int_equal(closest__distance("", 0, "", 0), 0);
	assert_int_equal(closest__distance("abc", 3, "abc", 3), 0);
	assert_int_equal(closest__distance("abc", 3, "abd", 3), 1);  /* substitution */
	assert_int_equal(closest__distance("abc", 3, "ab", 2), 1);   /* deletion */
	assert_int_equal(closest__distance("ab", 2, "abc", 3), 1);   /* insertion */
	assert_int_equal(closest__distance("kitten", 6, "sitting", 7), 3);
	assert_int_equal(closest__distance("", 0, "xyz", 3), 3);
}

static void test_closest(void **state)
{
	struct closest c;
	int data[4];

	(void)state;
	closest__init(&c, "cgroup:3766", 2, 0);
	closest__offer(&c, "cgroup:1", &data[0]);
	closest__offer(&c, "cgroup:37664", &data[1]);
	closest__offer(&c, "sandbox:pidns:4026532111", &data[2]);
	closest__offer(&c, "cgroup:37664", &data[3]); /* a duplicate is ignored */
	closest__offer(&c, "", &data[3]);             /* and an empty string */
	closest__offer(&c, NULL, &data[3]);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.best[0].s, "cgroup:37664");
	assert_ptr_equal(c.best[0].data, &data[1]);
	assert_int_equal(c.best[0].dist, 1);
	assert_string_equal(c.best[1].s, "cgroup:1");
	/* By prefix: an abbreviated id compares with the ids' first characters. */
	closest__init(&c, "3f9c2f", 3, CLOSEST_PREFIX);
	closest__offer(&c, "77aa00000000000000000000", NULL);
	closest__offer(&c, "3f9c2e81aa00000000000000", NULL);
	assert_string_equal(c.best[0].s, "3f9c2e81aa00000000000000");
	assert_int_equal(c.best[0].dist, 1);
	/* Ties keep the order offered; k caps what is kept. */
	closest__init(&c, "x", 100, 0);
	assert_int_equal(c.k, CLOSEST_MAX);
	closest__offer(&c, "a", NULL);
	closest__offer(&c, "b", NULL);
	assert_string_equal(c.best[0].s, "a");
	assert_string_equal(c.best[1].s, "b");
}

static void test_table(void **state)
{
	static const char *const head[] = { "KEY", "NAME", "COUNT", "NOTE" };
	struct json_buf out = {};
	struct texttable t;

	(void)state;
	texttable__init(&t, head, 4, 1u << 2);
	assert_int_equal(texttable__render(&t, &out), 0);
	assert_int_equal(out.len, 0); /* no row: nothing, not even the header */
	assert_int_equal(texttable__cell(&t, "cgroup:1"), 0);
	assert_int_equal(texttable__cell(&t, "-"), 0);
	assert_int_equal(texttable__cell(&t, "7"), 0);
	assert_int_equal(texttable__cell(&t, ""), 0);
	assert_int_equal(texttable__rows(&t), 1);
	json_buf__append_str(texttable__cell_begin(&t), "cgroup:37664");
	assert_int_equal(texttable__cell_end(&t), 0);
	assert_int_equal(texttable__cell(&t, "démo"), 0); /* characters, not bytes */
	assert_int_equal(texttable__cell(&t, "1234567"), 0);
	assert_int_equal(texttable__cell(&t, "last"), 0);
	assert_int_equal(texttable__render(&t, &out), 0);
	assert_string_equal(out.data,
			    "KEY           NAME    COUNT  NOTE\n"
			    "cgroup:1      -           7\n"
			    "cgroup:37664  démo  1234567  last\n");
	texttable__fini(&t);
	json_buf__free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_closest),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
