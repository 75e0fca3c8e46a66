/* Unit tests for user/sensor/flowagg.c: UDP contributions summed per (generation, process,
 * peer), flushed by generation, what the agent knew of the sender kept from the first
 * contribution that knew it, padding never splitting a key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "sensor/flowagg.h"

static struct fl_udp_key key(uint32_t tgid, uint8_t last_octet, uint16_t port, uint32_t gen)
{
	struct fl_udp_key k;

	memset(&k, 0, sizeof(k));
	k.id.start_ns = 1000 + tgid;
	k.id.tgid = tgid;
	k.cgroup_id = 77;
	k.family = AF_INET;
	k.daddr[0] = 10;
	k.daddr[3] = last_octet;
	k.dport = port;
	k.netns = 4026531840u;
	k.gen = gen;
	return k;
}

static struct fl_udp_value val(uint64_t dgrams, uint64_t bytes, uint64_t first, uint64_t last)
{
	struct fl_udp_value v = { .datagrams = dgrams, .bytes = bytes, .first_ns = first,
				  .last_ns = last, .pid = 9 };

	return v;
}

#define MAX_OUT 64

struct out {
	struct fl_udp_key k[MAX_OUT];
	struct flowagg_entry e[MAX_OUT];
	size_t n;
};

static void collect(void *ctx, const struct fl_udp_key *k, const struct flowagg_entry *e)
{
	struct out *o = ctx;

	assert_true(o->n < MAX_OUT);
	o->k[o->n] = *k;
	o->e[o->n++] = *e;
}

static void test_sum(void **state)
{
	struct flowagg *a = flowagg__new(100);
	struct fl_udp_key k = key(100, 1, 53, 0);
	struct fl_udp_value v;
	struct out o = { .n = 0 };

	(void)state;
	/* the ring's first datagram, then the map's rest, in either time order */
	struct flowagg_proc seen = { .flags = FLOWAGG_PROC_KNOWN | FLOWAGG_START_SEEN, .sandbox = 5 };

	v = val(1, 40, 500, 500);
	assert_int_equal(flowagg__add(a, &k, &v, &seen), 0);
	v = val(9, 360, 400, 900);
	v.connects = 2;
	assert_int_equal(flowagg__add(a, &k, &v, NULL), 0);
	assert_int_equal(flowagg__count(a), 1);
	assert_int_equal(flowagg__flush(a, 0, collect, &o), 1);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.e[0].sum.datagrams, 10);
	assert_int_equal(o.e[0].sum.bytes, 400);
	assert_int_equal(o.e[0].sum.connects, 2);
	assert_int_equal(o.e[0].sum.first_ns, 400);
	assert_int_equal(o.e[0].sum.last_ns, 900);
	assert_int_equal(o.e[0].sum.pid, 9);
	assert_int_equal(o.e[0].proc.flags, FLOWAGG_PROC_KNOWN | FLOWAGG_START_SEEN);
	assert_int_equal(o.e[0].proc.sandbox, 5);
	assert_int_equal(o.e[0].contributions, 2);
	assert_memory_equal(&o.k[0], &k, sizeof(k));
	assert_int_equal(flowagg__count(a), 0);
	flowagg__free(a);
	flowagg__free(NULL);
}

/* The first contribution that knew the process decides; later ones do not overwrite. */
static void test_proc_flags(void **state)
{
	struct flowagg *a = flowagg__new(100);
	struct fl_udp_key k = key(100, 1, 53, 1);
	struct fl_udp_value v = val(1, 1, 1, 1);
	struct out o = { .n = 0 };
	struct flowagg_proc unknown = { .flags = FLOWAGG_START_SEEN }, /* not KNOWN: ignored */
		pre = { .flags = FLOWAGG_PROC_KNOWN | FLOWAGG_PRE_EXISTING, .sandbox = 1 },
		seen = { .flags = FLOWAGG_PROC_KNOWN | FLOWAGG_START_SEEN, .sandbox = 2 };

	(void)state;
	flowagg__add(a, &k, &v, NULL);
	flowagg__add(a, &k, &v, &unknown);
	flowagg__add(a, &k, &v, &pre);
	flowagg__add(a, &k, &v, &seen);
	flowagg__flush(a, 1, collect, &o);
	assert_int_equal(o.e[0].proc.flags, FLOWAGG_PROC_KNOWN | FLOWAGG_PRE_EXISTING);
	assert_int_equal(o.e[0].proc.sandbox, 1);
	/* nobody knew: left unknown for the caller to decide */
	flowagg__add(a, &k, &v, &unknown);
	flowagg__flush(a, 1, collect, &o);
	assert_int_equal(o.e[1].proc.flags, 0);
	flowagg__free(a);
}

/* Distinct processes, peers, ports and generations are distinct aggregates. */
static void test_keys_apart(void **state)
{
	struct flowagg *a = flowagg__new(100);
	struct fl_udp_key ks[] = { key(100, 1, 53, 0), key(101, 1, 53, 0), key(100, 2, 53, 0),
				   key(100, 1, 54, 0), key(100, 1, 53, 1) };
	struct fl_udp_value v = val(1, 10, 1, 1);
	struct fl_udp_key k6 = ks[0];
	struct out o = { .n = 0 };

	(void)state;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(flowagg__add(a, &ks[i], &v, NULL), 0);
	k6.family = AF_INET6; /* same first bytes, other family */
	assert_int_equal(flowagg__add(a, &k6, &v, NULL), 0);
	k6 = ks[0];
	k6.cgroup_id++;
	assert_int_equal(flowagg__add(a, &k6, &v, NULL), 0);
	k6 = ks[0];
	k6.netns++;
	assert_int_equal(flowagg__add(a, &k6, &v, NULL), 0);
	assert_int_equal(flowagg__count(a), 8);
	/* generation 0 only: 7 of them, generation 1 stays */
	assert_int_equal(flowagg__flush(a, 0, collect, &o), 7);
	assert_int_equal(flowagg__count(a), 1);
	for (size_t i = 0; i < o.n; i++) {
		assert_int_equal(o.k[i].gen, 0);
		assert_int_equal(o.e[i].sum.datagrams, 1);
	}
	assert_int_equal(flowagg__flush(a, FLOWAGG_ALL_GENS, collect, &o), 1);
	assert_int_equal(o.k[7].gen, 1);
	flowagg__free(a);
}

/* Padding and bytes past an IPv4 address never split a key; gen is taken mod 2. */
static void test_canonical_key(void **state)
{
	struct flowagg *a = flowagg__new(100);
	struct fl_udp_key k = key(100, 1, 53, 0), noisy = k;
	struct fl_udp_value v = val(1, 5, 1, 1);
	struct out o = { .n = 0 };

	(void)state;
	noisy.id.pad = 0xdeadbeef;
	noisy.pad = 0x12345678;
	memset(noisy.daddr + 4, 0xaa, 12);
	noisy.gen = 2;
	flowagg__add(a, &k, &v, NULL);
	flowagg__add(a, &noisy, &v, NULL);
	assert_int_equal(flowagg__count(a), 1);
	flowagg__flush(a, 0, collect, &o);
	assert_int_equal(o.e[0].sum.datagrams, 2);
	assert_int_equal(o.k[0].pad, 0);
	assert_int_equal(o.k[0].id.pad, 0);
	/* IPv6 keeps all 16 bytes */
	k.family = AF_INET6;
	noisy = k;
	noisy.daddr[15] = 1;
	flowagg__add(a, &k, &v, NULL);
	flowagg__add(a, &noisy, &v, NULL);
	assert_int_equal(flowagg__count(a), 2);
	flowagg__free(a);
}

static void test_full(void **state)
{
	struct flowagg *a = flowagg__new(3);
	struct fl_udp_value v = val(1, 5, 1, 1);
	struct out o = { .n = 0 };

	(void)state;
	for (uint8_t i = 0; i < 3; i++) {
		struct fl_udp_key k = key(100, i, 53, 0);

		assert_int_equal(flowagg__add(a, &k, &v, NULL), 0);
	}
	struct fl_udp_key extra = key(100, 9, 53, 0), old = key(100, 0, 53, 0);

	assert_int_equal(flowagg__add(a, &extra, &v, NULL), -ENOSPC);
	assert_int_equal(flowagg__add(a, &old, &v, NULL), 0); /* existing keys still add */
	flowagg__flush(a, 0, collect, &o);
	assert_int_equal(o.n, 3);
	assert_int_equal(flowagg__add(a, &extra, &v, NULL), 0); /* room again */
	flowagg__free(a);
}

/* Sums saturate: a damaged or hostile input cannot wrap a count into a small number. */
static void test_saturation(void **state)
{
	struct flowagg *a = flowagg__new(3);
	struct fl_udp_key k = key(100, 1, 53, 0);
	struct fl_udp_value v = val(UINT64_MAX - 1, UINT64_MAX, 1, 1);
	struct out o = { .n = 0 };

	(void)state;
	flowagg__add(a, &k, &v, NULL);
	v = val(5, 5, 0, 0); /* no times: must not become the first */
	flowagg__add(a, &k, &v, NULL);
	flowagg__flush(a, 0, collect, &o);
	assert_true(o.e[0].sum.datagrams == UINT64_MAX);
	assert_true(o.e[0].sum.bytes == UINT64_MAX);
	assert_int_equal(o.e[0].sum.first_ns, 1);
	flowagg__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sum),
		cmocka_unit_test(test_proc_flags),
		cmocka_unit_test(test_keys_apart),
		cmocka_unit_test(test_canonical_key),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_saturation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
