/* Unit tests for user/utf8.c: validity rules, \xHH escaping, and lossless round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/utf8.h"

#define S(lit) lit, sizeof(lit) - 1

/* Escapes lit and compares with want; valid is the expected utf8__valid result. */
static void check(const char *in, size_t len, int valid, const char *want)
{
	char out[256];
	int n;

	assert_int_equal(utf8__valid(in, len), valid);
	n = utf8__escape(in, len, out, sizeof(out));
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(out, want);
}

static void test_valid_kept(void **state)
{
	(void)state;
	check(S(""), 1, "");
	check(S("/usr/bin/env"), 1, "/usr/bin/env");
	check(S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), 1,
	      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	check(S("\xf4\x8f\xbf\xbf"), 1, "\xf4\x8f\xbf\xbf");     /* U+10FFFF */
	check(S("\xed\x9f\xbf"), 1, "\xed\x9f\xbf");             /* U+D7FF */
	assert_int_equal(utf8__valid(S("a\0b")), 1);
}

static void test_invalid_escaped(void **state)
{
	(void)state;
	check(S("a\xff" "b"), 0, "a\\xffb");
	check(S("\x80"), 0, "\\x80");
	check(S("x\xe2\x82"), 0, "x\\xe2\\x82");                  /* truncated */
	check(S("\xc0\xaf"), 0, "\\xc0\\xaf");                    /* overlong '/' */
	check(S("\xe0\x80\xaf"), 0, "\\xe0\\x80\\xaf");           /* overlong 3-byte */
	check(S("\xed\xa0\x80"), 0, "\\xed\\xa0\\x80");           /* surrogate U+D800 */
	check(S("\xf4\x90\x80\x80"), 0, "\\xf4\\x90\\x80\\x80");  /* > U+10FFFF */
	check(S("\xf5\x80\x80\x80"), 0, "\\xf5\\x80\\x80\\x80");
	/* a broken lead byte does not eat the valid character after it */
	check(S("\xe2\xc3\xa9"), 0, "\\xe2\xc3\xa9");
}

/* ASCII is checked eight bytes at a time: a bad or a multi-byte sequence at every
 * position of a longer ASCII string is judged as alone. */
static void test_valid_at_every_position(void **state)
{
	static const struct {
		const char *seq;
		int valid;
	} cases[] = { { "\xff", 0 }, { "\x80", 0 }, { "\xc3\xa9", 1 }, { "\xe2\x82\xac", 1 },
		      { "\xf0\x9f\x98\x80", 1 }, { "\xed\xa0\x80", 0 }, { "\xe2\x82", 0 } };
	char buf[64];

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t k = strlen(cases[c].seq);

		for (size_t at = 0; at + k <= 24; at++) {
			memset(buf, 'a', 24);
			memcpy(buf + at, cases[c].seq, k);
			assert_int_equal(utf8__valid(buf, 24), cases[c].valid);
			/* cut inside the sequence: never valid */
			if (k > 1)
				assert_int_equal(utf8__valid(buf, at + k - 1), 0);
		}
	}
}

static void test_backslash(void **state)
{
	(void)state;
	/* valid input is kept as-is by the caller, so its backslash stays single */
	assert_int_equal(utf8__valid(S("C:\\dir")), 1);
	/* in escaped mode a backslash doubles, so "\x41" text is not mistaken for 'A' */
	check(S("\\x41\xff"), 0, "\\\\x41\\xff");
	check(S("a\0b\xff"), 0, "a\\x00b\\xff");
}

static void test_enospc(void **state)
{
	char out[16];

	(void)state;
	/* "\xff\xff" needs 8 bytes plus the NUL */
	assert_int_equal(utf8__escape(S("\xff\xff"), out, 8), -ENOSPC);
	assert_string_equal(out, "");
	assert_int_equal(utf8__escape(S("\xff\xff"), out, 9), 8);
	assert_int_equal(utf8__escape(S("abcdefg"), out, 8), 7);
	assert_int_equal(utf8__escape(S("abcdefgh"), out, 8), -ENOSPC);
	assert_int_equal(utf8__escape(S(""), out, 0), -ENOSPC);
	assert_int_equal(utf8__escape(S(""), out, 1), 0);
	assert_int_equal(utf8__unescape(S("\\xff\\xff"), out, 2), -ENOSPC);
	assert_int_equal(utf8__unescape(S("\\xff\\xff"), out, 3), 2);
}

static void test_unescape_malformed(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(utf8__unescape(S("ab\\"), out, sizeof(out)), -EINVAL);
	assert_int_equal(utf8__unescape(S("\\x4"), out, sizeof(out)), -EINVAL);
	assert_int_equal(utf8__unescape(S("\\xg0"), out, sizeof(out)), -EINVAL);
	assert_int_equal(utf8__unescape(S("\\n"), out, sizeof(out)), -EINVAL);
	assert_int_equal(utf8__unescape(S("a\\\\b\\x41\\xFF"), out, sizeof(out)), 5);
	assert_memory_equal(out, "a\\bA\xff", 5);
}

/* Random byte strings biased towards UTF-8 lead/continuation bytes and backslashes so
 * that valid sequences, broken ones and escapes all occur. */
static void test_round_trip(void **state)
{
	unsigned char in[64];
	char esc[4 * sizeof(in) + 1], back[sizeof(in) + 1];
	static const unsigned char pick[] = { 'a', '\\', 'x', 0x00, 0x7f, 0x80, 0xa0,
					      0xbf, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xff };
	unsigned int seed = 12345;
	int i, n, e, u;

	(void)state;
	for (i = 0; i < 5000; i++) {
		n = rand_r(&seed) % (int)sizeof(in);
		for (int j = 0; j < n; j++)
			in[j] = rand_r(&seed) % 2 ? pick[rand_r(&seed) % sizeof(pick)]
						  : (unsigned char)rand_r(&seed);
		e = utf8__escape((char *)in, (size_t)n, esc, sizeof(esc));
		assert_true(e >= n);
		assert_int_equal((size_t)e, strlen(esc));
		assert_int_equal(utf8__valid(esc, (size_t)e), 1);
		/* valid text without '\\' or NUL must come out unchanged */
		if (utf8__valid((char *)in, (size_t)n) && !memchr(in, '\\', (size_t)n) &&
		    !memchr(in, 0, (size_t)n))
			assert_true(e == n && memcmp(esc, in, (size_t)n) == 0);
		u = utf8__unescape(esc, (size_t)e, back, sizeof(back));
		assert_int_equal(u, n);
		assert_memory_equal(back, in, (size_t)n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_kept),
		cmocka_unit_test(test_invalid_escaped),
		cmocka_unit_test(test_valid_at_every_position),
		cmocka_unit_test(test_backslash),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_unescape_malformed),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
