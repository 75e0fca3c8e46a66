/* Unit tests for user/base/kvtable.c: the bound, growth, removal by backward shift, and
 * remove_if visiting every entry exactly once, checked against a plain array model. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/kvtable.h"

struct val {
	uint64_t a;
	uint32_t b;
};

static void test_put_get_remove(void **state)
{
	struct kvtable *t = kvtable__new(sizeof(uint64_t), sizeof(struct val), 100);
	uint64_t k = 42, other = 43;
	struct val *v;
	int created;

	(void)state;
	assert_non_null(t);
	assert_null(kvtable__get(t, &k));
	v = kvtable__put(t, &k, &created);
	assert_non_null(v);
	assert_true(created);
	assert_int_equal(v->a, 0); /* created zeroed */
	v->a = 7;
	v = kvtable__put(t, &k, &created);
	assert_false(created);
	assert_int_equal(v->a, 7);
	assert_int_equal(kvtable__count(t), 1);
	assert_null(kvtable__get(t, &other));
	assert_int_equal(kvtable__remove(t, &other), -ENOENT);
	assert_int_equal(kvtable__remove(t, &k), 0);
	assert_null(kvtable__get(t, &k));
	assert_int_equal(kvtable__count(t), 0);
	kvtable__free(t);
	kvtable__free(NULL);
}

static void test_bad_sizes(void **state)
{
	(void)state;
	errno = 0;
	assert_null(kvtable__new(0, 8, 10));
	assert_int_equal(errno, EINVAL);
	assert_null(kvtable__new(8, 0, 10));
	assert_null(kvtable__new(8, 8, 0));
	assert_null(kvtable__new(SIZE_MAX, 8, 10));
}

static void test_bound(void **state)
{
	struct kvtable *t = kvtable__new(sizeof(uint32_t), 1, 1000);
	int created;

	(void)state;
	for (uint32_t k = 1; k <= 1000; k++)
		assert_non_null(kvtable__put(t, &k, &created));
	for (uint32_t k = 1001; k < 1010; k++) {
		errno = 0;
		assert_null(kvtable__put(t, &k, &created));
		assert_int_equal(errno, ENOSPC);
	}
	/* an existing key is still found and updatable when full */
	uint32_t k = 500;

	assert_non_null(kvtable__put(t, &k, &created));
	assert_false(created);
	/* and room comes back with a removal */
	assert_int_equal(kvtable__remove(t, &k), 0);
	k = 5000;
	assert_non_null(kvtable__put(t, &k, &created));
	for (k = 1; k <= 1000; k++)
		if (k != 500)
			assert_non_null(kvtable__get(t, &k));
	kvtable__free(t);
}

/* Odd key sizes: padding in the slot layout must not reach the key comparison. */
static void test_odd_key(void **state)
{
	struct kvtable *t = kvtable__new(13, 3, 64);
	char k1[13] = "abcdefghijkl", k2[13] = "abcdefghijkm";
	char *v;
	int created;

	(void)state;
	v = kvtable__put(t, k1, &created);
	memcpy(v, "xyz", 3);
	v = kvtable__put(t, k2, &created);
	assert_true(created);
	memcpy(v, "uvw", 3);
	assert_memory_equal(kvtable__get(t, k1), "xyz", 3);
	assert_memory_equal(kvtable__get(t, k2), "uvw", 3);
	kvtable__free(t);
}

struct visit {
	uint32_t seen[4096];
	uint32_t remove_mod;
};

static int visit_fn(void *ctx, const void *key, void *value)
{
	struct visit *v = ctx;
	uint32_t k = *(const uint32_t *)key;

	assert_int_equal(*(uint32_t *)value, k * 3);
	v->seen[k]++;
	return k % v->remove_mod == 0;
}

/*
 * Random puts and removes against a model; then remove_if must visit every live entry
 * exactly once, remove exactly those it said, and leave the rest findable.
 */
static void test_model(void **state)
{
	static uint8_t live[4096];
	struct kvtable *t = kvtable__new(sizeof(uint32_t), sizeof(uint32_t), 4096);
	struct visit *v = calloc(1, sizeof(*v));
	size_t n = 0, removed_expected = 0;
	int created;

	(void)state;
	memset(live, 0, sizeof(live));
	srand(12345);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 20000; i++) {
			uint32_t k = (uint32_t)rand() % 4096;

			if (rand() % 3) {
				uint32_t *val = kvtable__put(t, &k, &created);

				assert_non_null(val);
				assert_int_equal(created, !live[k]);
				*val = k * 3;
				n += !live[k];
				live[k] = 1;
			} else {
				assert_int_equal(kvtable__remove(t, &k), live[k] ? 0 : -ENOENT);
				n -= live[k];
				live[k] = 0;
			}
		}
		assert_int_equal(kvtable__count(t), n);
		memset(v->seen, 0, sizeof(v->seen));
		v->remove_mod = 3 + (uint32_t)round;
		removed_expected = 0;
		for (uint32_t k = 0; k < 4096; k++)
			removed_expected += live[k] && k % v->remove_mod == 0;
		assert_int_equal(kvtable__remove_if(t, visit_fn, v), removed_expected);
		for (uint32_t k = 0; k < 4096; k++) {
			assert_int_equal(v->seen[k], live[k]);
			if (live[k] && k % v->remove_mod == 0) {
				live[k] = 0;
				n--;
			}
			if (live[k])
				assert_int_equal(*(uint32_t *)kvtable__get(t, &k), k * 3);
			else
				assert_null(kvtable__get(t, &k));
		}
		assert_int_equal(kvtable__count(t), n);
	}
	free(v);
	kvtable__free(t);
}

static int remove_all(void *ctx, const void *key, void *value)
{
	(void)ctx;
	(void)key;
	(void)value;
	return 1;
}

static void test_remove_if_empty_and_all(void **state)
{
	struct kvtable *t = kvtable__new(sizeof(uint64_t), 8, 10000);
	int created;

	(void)state;
	assert_int_equal(kvtable__remove_if(t, remove_all, NULL), 0);
	for (uint64_t k = 0; k < 5000; k++)
		assert_non_null(kvtable__put(t, &k, &created));
	assert_int_equal(kvtable__remove_if(t, remove_all, NULL), 5000);
	assert_int_equal(kvtable__count(t), 0);
	kvtable__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_remove),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_odd_key),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_remove_if_empty_and_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
