/* Unit tests for user/sensor/netaddr.c: one spelling per peer (v4-mapped IPv6 shown as IPv4),
 * and unix socket paths as connect() gave them, abstract names and bad bytes included. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "sensor/netaddr.h"

static const char *fmt6(char *buf, const char *text)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(AF_INET6, text, a), 1);
	return netaddr__format(buf, AF_INET6, a);
}

static void test_ipv4(void **state)
{
	uint8_t a[16] = { 10, 0, 2, 15, 0xde, 0xad }; /* bytes past the 4th are ignored */
	char buf[NETADDR_STRLEN];

	(void)state;
	assert_string_equal(netaddr__format(buf, AF_INET, a), "10.0.2.15");
	memset(a, 0xff, sizeof(a));
	assert_string_equal(netaddr__format(buf, AF_INET, a), "255.255.255.255");
	memset(a, 0, sizeof(a));
	assert_string_equal(netaddr__format(buf, AF_INET, a), "0.0.0.0");
}

static void test_ipv6(void **state)
{
	char buf[NETADDR_STRLEN];

	(void)state;
	assert_string_equal(fmt6(buf, "::1"), "::1");
	assert_string_equal(fmt6(buf, "fd00:1::2"), "fd00:1::2");
	assert_string_equal(fmt6(buf, "::"), "::");
	/* the longest form fits */
	assert_string_equal(fmt6(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_v4_mapped_shown_as_v4(void **state)
{
	char buf[NETADDR_STRLEN];
	uint8_t a[16];

	(void)state;
	assert_string_equal(fmt6(buf, "::ffff:127.0.0.1"), "127.0.0.1");
	assert_string_equal(fmt6(buf, "::ffff:10.1.2.3"), "10.1.2.3");
	assert_string_equal(fmt6(buf, "::ffff:0.0.0.0"), "0.0.0.0");
	inet_pton(AF_INET6, "::ffff:192.168.1.1", a);
	assert_true(netaddr__is_v4mapped(a));
	/* look-alikes that are not v4-mapped stay IPv6 */
	/* v4-compatible (deprecated): glibc writes a dotted tail, but it stays IPv6 */
	assert_string_equal(fmt6(buf, "::127.0.0.1"), "::127.0.0.1");
	assert_string_equal(fmt6(buf, "::fffe:7f00:1"), "::fffe:7f00:1");
	assert_string_equal(fmt6(buf, "64:ff9b::7f00:1"), "64:ff9b::7f00:1"); /* NAT64 */
	inet_pton(AF_INET6, "::ffff:0:7f00:1", a); /* SIIT translated form */
	assert_false(netaddr__is_v4mapped(a));
}

static void test_unknown_family(void **state)
{
	uint8_t a[16] = { 1, 2, 3, 4 };
	char buf[NETADDR_STRLEN] = "stale";

	(void)state;
	assert_string_equal(netaddr__format(buf, 0, a), "");
	assert_string_equal(netaddr__format(buf, AF_UNIX, a), "");
	assert_string_equal(netaddr__format(buf, 0xffff, a), "");
}

static void test_unix_path(void **state)
{
	char buf[NETADDR_UNIX_STRLEN];
	char raw[108];
	int esc;

	(void)state;
	/* a path up to its NUL, whatever follows in the given length */
	memset(raw, 'x', sizeof(raw));
	memcpy(raw, "/run/app.sock\0junk", 18);
	assert_string_equal(netaddr__unix_path(buf, raw, 18, &esc), "/run/app.sock");
	assert_false(esc);
	/* a path given without its NUL */
	assert_string_equal(netaddr__unix_path(buf, "/tmp/s", 6, &esc), "/tmp/s");
	/* all 108 bytes, no NUL */
	memset(raw, 'a', sizeof(raw));
	raw[0] = '/';
	netaddr__unix_path(buf, raw, sizeof(raw), &esc);
	assert_int_equal(strlen(buf), 108);
	/* a length beyond sun_path is clipped, not read past */
	netaddr__unix_path(buf, raw, 4096, &esc);
	assert_int_equal(strlen(buf), 108);
	/* nothing */
	assert_string_equal(netaddr__unix_path(buf, raw, 0, &esc), "");
	assert_false(esc);
}

static void test_unix_abstract(void **state)
{
	char buf[NETADDR_UNIX_STRLEN];
	int esc;

	(void)state;
	assert_string_equal(netaddr__unix_path(buf, "\0name", 5, &esc), "@name");
	assert_false(esc);
	/* NULs inside an abstract name are part of it: escaped, flagged */
	assert_string_equal(netaddr__unix_path(buf, "\0a\0b", 4, &esc), "@a\\x00b");
	assert_true(esc);
	/* just the leading NUL: the empty abstract name (autobind form) */
	assert_string_equal(netaddr__unix_path(buf, "\0", 1, &esc), "@");
	assert_false(esc);
}

static void test_unix_not_utf8(void **state)
{
	char buf[NETADDR_UNIX_STRLEN];
	char raw[108];
	int esc;

	(void)state;
	assert_string_equal(netaddr__unix_path(buf, "/tmp/\xff\\s", 8, &esc), "/tmp/\\xff\\\\s");
	assert_true(esc);
	/* worst case: every byte escaped to 4, behind the '@' */
	memset(raw, 0xff, sizeof(raw));
	raw[0] = 0;
	netaddr__unix_path(buf, raw, sizeof(raw), &esc);
	assert_true(esc);
	assert_int_equal(strlen(buf), 1 + 4 * 107);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_v4_mapped_shown_as_v4),
		cmocka_unit_test(test_unknown_family),
		cmocka_unit_test(test_unix_path),
		cmocka_unit_test(test_unix_abstract),
		cmocka_unit_test(test_unix_not_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
