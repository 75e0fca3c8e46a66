/* Unit tests for user/sensor/proctable.c: the open-addressing table (upsert, get, remove with
 * backward-shift deletion, growth), reference-counted images and the sweep of processes
 * whose exit was missed. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sensor/proctable.h"

/* Deterministic values an entry carries, to check that moves keep the whole struct. */
static uint64_t start_of(uint32_t tgid)
{
	return (uint64_t)tgid * 1000003u + 17;
}

static struct proc *put(struct proctable *pt, uint32_t tgid)
{
	int err = 0;
	struct proc *p = proctable__upsert(pt, tgid, &err);

	assert_non_null(p);
	assert_int_equal(err, 0);
	assert_int_equal(p->tgid, tgid);
	p->start_ns = start_of(tgid);
	p->id.tgid = tgid;
	p->id.start_ns = start_of(tgid) + 1;
	p->cgroup_id = ~(uint64_t)tgid;
	return p;
}

static void expect_present(struct proctable *pt, uint32_t tgid)
{
	struct proc *p = proctable__get(pt, tgid);

	if (!p)
		fail_msg("tgid %u missing", tgid);
	assert_int_equal(p->tgid, tgid);
	assert_int_equal(p->start_ns, start_of(tgid));
	assert_int_equal(p->id.tgid, tgid);
	assert_int_equal(p->id.start_ns, start_of(tgid) + 1);
	assert_int_equal(p->cgroup_id, ~(uint64_t)tgid);
}

static void expect_absent(struct proctable *pt, uint32_t tgid)
{
	if (proctable__get(pt, tgid))
		fail_msg("tgid %u still present", tgid);
}

static void test_upsert_get_remove(void **state)
{
	struct proctable *pt = proctable__new(0);
	struct proc *p;
	int err = 0;

	(void)state;
	assert_non_null(pt);
	assert_int_equal(proctable__count(pt), 0);
	assert_null(proctable__get(pt, 1));

	p = proctable__upsert(pt, 42, &err);
	assert_non_null(p);
	/* created zeroed, tgid set */
	assert_int_equal(p->tgid, 42);
	assert_int_equal(p->flags, 0);
	assert_int_equal(p->start_ns, 0);
	assert_int_equal(p->id.start_ns, 0);
	assert_int_equal(p->cgroup_id, 0);
	assert_int_equal(p->last_seen_mono_ns, 0);
	assert_null(p->image);
	assert_int_equal(proctable__count(pt), 1);
	p->start_ns = 777;
	p->flags = PROC_START_SEEN;

	/* an upsert of a present tgid returns the same entry, untouched */
	assert_ptr_equal(proctable__upsert(pt, 42, &err), p);
	assert_int_equal(p->start_ns, 777);
	assert_int_equal(p->flags, PROC_START_SEEN);
	assert_int_equal(proctable__count(pt), 1);
	assert_ptr_equal(proctable__get(pt, 42), p);
	assert_null(proctable__get(pt, 43));

	put(pt, 43);
	put(pt, UINT32_MAX);
	assert_int_equal(proctable__count(pt), 3);
	expect_present(pt, 43);
	expect_present(pt, UINT32_MAX);

	proctable__remove(pt, 42);
	assert_null(proctable__get(pt, 42));
	assert_int_equal(proctable__count(pt), 2);
	/* removing an absent tgid is a no-op */
	proctable__remove(pt, 42);
	proctable__remove(pt, 12345);
	assert_int_equal(proctable__count(pt), 2);
	expect_present(pt, 43);
	expect_present(pt, UINT32_MAX);

	/* a removed tgid comes back zeroed */
	p = proctable__upsert(pt, 42, &err);
	assert_non_null(p);
	assert_int_equal(p->start_ns, 0);
	assert_int_equal(p->flags, 0);
	assert_int_equal(proctable__count(pt), 3);

	proctable__free(pt);
	proctable__free(NULL);
}

/* 100k entries: growth from the smallest table, then every other one removed. */
static void test_growth_and_half_removal(void **state)
{
	enum { N = 100000 };
	struct proctable *pt = proctable__new(1);
	uint32_t i;

	(void)state;
	assert_non_null(pt);
	for (i = 1; i <= N; i++) {
		put(pt, i);
		assert_int_equal(proctable__count(pt), i);
	}
	/* pids far apart too: the high bits of the key matter */
	for (i = 0; i < 1000; i++)
		put(pt, 0x80000000u + i * 65536u);
	assert_int_equal(proctable__count(pt), N + 1000);
	for (i = 1; i <= N; i++)
		expect_present(pt, i);

	for (i = 2; i <= N; i += 2)
		proctable__remove(pt, i);
	for (i = 0; i < 1000; i += 2)
		proctable__remove(pt, 0x80000000u + i * 65536u);
	assert_int_equal(proctable__count(pt), N / 2 + 500);
	for (i = 1; i <= N; i++) {
		if (i % 2)
			expect_present(pt, i);
		else
			expect_absent(pt, i);
	}
	for (i = 0; i < 1000; i++) {
		if (i % 2)
			expect_present(pt, 0x80000000u + i * 65536u);
		else
			expect_absent(pt, 0x80000000u + i * 65536u);
	}
	expect_absent(pt, N + 1);

	/* and the rest: the table ends empty and still works */
	for (i = 1; i <= N; i += 2)
		proctable__remove(pt, i);
	for (i = 1; i < 1000; i += 2)
		proctable__remove(pt, 0x80000000u + i * 65536u);
	assert_int_equal(proctable__count(pt), 0);
	for (i = 1; i <= N; i++)
		expect_absent(pt, i);
	put(pt, 5);
	expect_present(pt, 5);
	proctable__free(pt);
}

/* The home slot as the table computes it (Fibonacci hashing); used only to pick keys that
 * collide, so a change of hash makes this test less sharp, not wrong. */
static size_t home_of(uint32_t tgid, size_t cap)
{
	return (size_t)((tgid * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

/*
 * Keys that all want the last slots of a 64-slot table, so their probe run wraps around
 * to slot 0: every removal order must leave the others reachable.
 */
static void test_collisions_wrap(void **state)
{
	enum { CAP = 64, K = 12 };
	uint32_t keys[K];
	size_t nk = 0;

	(void)state;
	for (uint32_t t = 1; nk < K; t++) {
		size_t h = home_of(t, CAP);

		if (h >= CAP - 3 || h == 0)
			keys[nk++] = t;
	}
	/* several removal orders: forwards, backwards, middle-out, a fixed shuffle */
	for (int order = 0; order < 4; order++) {
		struct proctable *pt = proctable__new(16); /* 64 slots, holds 32 */
		unsigned int seed = 7;
		size_t idx[K];
		int present[K];

		assert_non_null(pt);
		for (size_t k = 0; k < K; k++) {
			put(pt, keys[k]);
			present[k] = 1;
			idx[k] = k;
		}
		if (order == 1)
			for (size_t k = 0; k < K; k++)
				idx[k] = K - 1 - k;
		if (order == 2)
			for (size_t k = 0; k < K; k++) {
				int v = K / 2 + (k % 2 ? (int)(k / 2) + 1 : -(int)(k / 2));

				idx[k] = (size_t)((v % K + K) % K);
			}
		if (order == 3)
			for (size_t k = K - 1; k > 0; k--) {
				size_t j = (size_t)rand_r(&seed) % (k + 1), tmp = idx[k];

				idx[k] = idx[j];
				idx[j] = tmp;
			}
		for (size_t r = 0; r < K; r++) {
			proctable__remove(pt, keys[idx[r]]);
			present[idx[r]] = 0;
			assert_int_equal(proctable__count(pt), K - r - 1);
			for (size_t k = 0; k < K; k++) {
				if (present[k])
					expect_present(pt, keys[k]);
				else
					expect_absent(pt, keys[k]);
			}
		}
		proctable__free(pt);
	}
}

/* Random operations on a small key space against a plain array. */
static void test_random_against_model(void **state)
{
	enum { KEYS = 3000, OPS = 200000 };
	static uint8_t model[KEYS + 1];
	struct proctable *pt = proctable__new(4);
	unsigned int seed = 4242;
	size_t count = 0;

	(void)state;
	memset(model, 0, sizeof(model));
	assert_non_null(pt);
	for (int op = 0; op < OPS; op++) {
		uint32_t k = 1 + (uint32_t)rand_r(&seed) % KEYS;

		if (rand_r(&seed) % 3) {
			put(pt, k);
			count += !model[k];
			model[k] = 1;
		} else {
			proctable__remove(pt, k);
			count -= model[k];
			model[k] = 0;
		}
		assert_int_equal(proctable__count(pt), count);
		if (op % 5000 == 0)
			for (uint32_t j = 1; j <= KEYS; j++) {
				if (model[j])
					expect_present(pt, j);
				else
					expect_absent(pt, j);
			}
	}
	for (uint32_t j = 1; j <= KEYS; j++) {
		if (model[j])
			expect_present(pt, j);
		else
			expect_absent(pt, j);
	}
	proctable__free(pt);
}

static void test_image_new_copies(void **state)
{
	char bin[] = "/usr/bin/env", cwd[] = "/home/u", a0[] = "env", a1[] = "", a2[] = "x y";
	char *args[] = { a0, a1, a2 };
	struct proc_image *img;

	(void)state;
	img = proc_image__new(bin, cwd, args, 3, IMG_ARGS_ESCAPED | IMG_FROM_PROCFS);
	assert_non_null(img);
	/* the caller's buffers can change or go away */
	memset(bin, 'Z', sizeof(bin) - 1);
	memset(cwd, 'Z', sizeof(cwd) - 1);
	a0[0] = 'Z';
	a2[0] = 'Z';
	args[1] = NULL;
	assert_int_equal(img->refs, 1);
	assert_int_equal(img->flags, IMG_ARGS_ESCAPED | IMG_FROM_PROCFS);
	assert_string_equal(img->binary, "/usr/bin/env");
	assert_string_equal(img->cwd, "/home/u");
	assert_int_equal(img->n_args, 3);
	assert_int_equal(img->args_count, 3);
	assert_int_equal(img->args_size, 4 + 1 + 4); /* with their NULs */
	assert_string_equal(img->args[0], "env");
	assert_string_equal(img->args[1], "");
	assert_string_equal(img->args[2], "x y");
	assert_ptr_not_equal(img->binary, bin);
	proc_image__put(img);

	/* no args, empty strings */
	img = proc_image__new("", "", NULL, 0, 0);
	assert_non_null(img);
	assert_string_equal(img->binary, "");
	assert_string_equal(img->cwd, "");
	assert_int_equal(img->n_args, 0);
	assert_int_equal(img->args_count, 0);
	assert_int_equal(img->args_size, 0);
	proc_image__put(img);

	/* NULL-safe */
	assert_null(proc_image__get(NULL));
	proc_image__put(NULL);
}

static void test_image_shared(void **state)
{
	char *args[] = { "sleep", "60" };
	struct proctable *pt = proctable__new(0);
	struct proc_image *img = proc_image__new("/bin/sleep", "/", args, 2, 0);
	struct proc *a, *b;
	int err = 0;

	(void)state;
	assert_non_null(pt);
	assert_non_null(img);
	a = proctable__upsert(pt, 100, &err);
	assert_non_null(a);
	proc__set_image(a, img); /* takes our reference */
	b = proctable__upsert(pt, 101, &err);
	assert_non_null(b);
	a = proctable__get(pt, 100);
	proc__set_image(b, proc_image__get(a->image));
	assert_int_equal(img->refs, 2);
	assert_ptr_equal(proctable__get(pt, 100)->image, proctable__get(pt, 101)->image);

	/* the image survives the removal of one of its processes */
	proctable__remove(pt, 100);
	b = proctable__get(pt, 101);
	assert_non_null(b);
	assert_ptr_equal(b->image, img);
	assert_int_equal(img->refs, 1);
	assert_string_equal(b->image->binary, "/bin/sleep");
	assert_string_equal(b->image->cwd, "/");
	assert_int_equal(b->image->n_args, 2);
	assert_string_equal(b->image->args[0], "sleep");
	assert_string_equal(b->image->args[1], "60");

	/* replacing an image drops the old one (ASan would report a leak otherwise) */
	proc__set_image(b, proc_image__new("/bin/true", "/tmp", NULL, 0, 0));
	assert_string_equal(proctable__get(pt, 101)->image->binary, "/bin/true");
	/* setting the same image again with its extra reference keeps it alive */
	proc_image__get(b->image);
	proc__set_image(b, b->image);
	assert_int_equal(b->image->refs, 1);
	assert_string_equal(b->image->cwd, "/tmp");
	proc__set_image(b, NULL);
	assert_null(b->image);

	/* images held by entries are released by the table's free */
	proc__set_image(b, proc_image__new("/bin/a", "/", NULL, 0, 0));
	for (uint32_t t = 200; t < 300; t++) {
		struct proc *p = proctable__upsert(pt, t, &err);

		assert_non_null(p);
		proc__set_image(p, proc_image__new("/bin/b", "/", args, 2, 0));
	}
	/* and by removal, also of entries moved by removals and growth */
	for (uint32_t t = 200; t < 300; t += 3)
		proctable__remove(pt, t);
	for (uint32_t t = 200; t < 300; t++) {
		struct proc *p = proctable__get(pt, t);

		if (t % 3 == 200 % 3) {
			assert_null(p);
		} else {
			assert_non_null(p);
			assert_string_equal(p->image->binary, "/bin/b");
			assert_int_equal(p->image->refs, 1);
		}
	}
	proctable__free(pt);
}

struct gone_log {
	uint32_t tgids[4096];
	size_t n;
};

static void on_gone(void *ctx, const struct proc *p)
{
	struct gone_log *g = ctx;

	assert_true(g->n < sizeof(g->tgids) / sizeof(g->tgids[0]));
	assert_int_equal(p->start_ns, start_of(p->tgid)); /* called before the removal */
	g->tgids[g->n++] = p->tgid;
}

static int logged(const struct gone_log *g, uint32_t tgid)
{
	int n = 0;

	for (size_t i = 0; i < g->n; i++)
		n += g->tgids[i] == tgid;
	return n;
}

/* A pid that belonged to a child we reaped, and that no process holds now. */
static pid_t dead_pid(void)
{
	for (int tries = 0; tries < 100; tries++) {
		int status;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			_exit(0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (kill(pid, 0) && errno == ESRCH)
			return pid;
	}
	fail_msg("no dead pid found");
	return -1;
}

/* A pid above pid_max: no process can have it. */
static uint32_t impossible_pid(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
	unsigned long max = 4194304;

	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 4194304;
		fclose(f);
	}
	return (uint32_t)max + 1;
}

static void test_sweep(void **state)
{
	struct proctable *pt = proctable__new(0);
	struct gone_log *g = calloc(1, sizeof(*g));
	uint32_t self = (uint32_t)getpid(), dead = (uint32_t)dead_pid();
	uint32_t never = impossible_pid(), recent = never + 1;
	size_t removed;

	(void)state;
	assert_non_null(pt);
	assert_non_null(g);
	put(pt, self)->last_seen_mono_ns = 10;
	put(pt, 1)->last_seen_mono_ns = 10; /* exists; EPERM when not root */
	put(pt, dead)->last_seen_mono_ns = 10;
	put(pt, never)->last_seen_mono_ns = 10;
	put(pt, recent)->last_seen_mono_ns = 1000; /* dead but touched after the cutoff */
	proc__set_image(proctable__get(pt, dead), proc_image__new("/x", "/", NULL, 0, 0));

	removed = proctable__sweep(pt, 1000, on_gone, g);
	if (logged(g, dead) == 0 && kill((pid_t)dead, 0) == 0) {
		/* the pid was reused between fork and sweep: only possible on a busy host */
		assert_int_equal(removed, 1);
		expect_present(pt, dead);
		proctable__remove(pt, dead);
	} else {
		assert_int_equal(removed, 2);
		assert_int_equal(logged(g, dead), 1);
		expect_absent(pt, dead);
	}
	assert_int_equal(logged(g, never), 1);
	expect_absent(pt, never);
	expect_present(pt, self);
	expect_present(pt, 1);
	expect_present(pt, recent);
	assert_int_equal(logged(g, self) + logged(g, 1) + logged(g, recent), 0);
	assert_int_equal(proctable__count(pt), 3);

	/* a NULL callback is allowed; the later cutoff now takes the recent entry */
	assert_int_equal(proctable__sweep(pt, 1001, NULL, NULL), 1);
	expect_absent(pt, recent);
	expect_present(pt, self);
	assert_int_equal(proctable__count(pt), 2);
	proctable__free(pt);
	free(g);
}

/*
 * Many dead entries among live ones: each removal shifts later entries back into the slot
 * being looked at, which the sweep must look at again instead of skipping.
 */
static void sweep_all_dead(const uint32_t *dead, size_t n_dead, size_t hint)
{
	struct proctable *pt = proctable__new(hint);
	struct gone_log *g = calloc(1, sizeof(*g));
	uint32_t self = (uint32_t)getpid();

	assert_non_null(pt);
	assert_non_null(g);
	for (size_t i = 0; i < n_dead; i++)
		put(pt, dead[i]);
	put(pt, self);
	assert_int_equal(proctable__sweep(pt, 1, on_gone, g), n_dead);
	assert_int_equal(g->n, n_dead);
	for (size_t i = 0; i < n_dead; i++) {
		assert_int_equal(logged(g, dead[i]), 1);
		expect_absent(pt, dead[i]);
	}
	expect_present(pt, self);
	assert_int_equal(proctable__count(pt), 1);
	/* nothing left to sweep */
	assert_int_equal(proctable__sweep(pt, 1, on_gone, g), 0);
	proctable__free(pt);
	free(g);
}

static void test_sweep_clusters(void **state)
{
	enum { MANY = 3000, CLUSTER = 40, CAP = 128 };
	static uint32_t dead[MANY];
	uint32_t base = impossible_pid(), self = (uint32_t)getpid();
	size_t n = 0;

	(void)state;
	for (uint32_t i = 0; i < MANY; i++)
		dead[i] = base + i;
	sweep_all_dead(dead, MANY, 0);

	/* dead pids whose home slots (in 128 slots) are the last 8 and the first 4, so
	 * their run is long and wraps; the live entry's own slot is left out */
	for (uint32_t t = base; n < CLUSTER; t++) {
		size_t h = home_of(t, CAP);

		if ((h >= CAP - 8 || h < 4) && h != home_of(self, CAP))
			dead[n++] = t;
	}
	sweep_all_dead(dead, CLUSTER, 64); /* 128 slots, no growth */
}

/* tgid 0 marks a free slot, so it must never be found; get(0) returns a free slot and
 * remove(0) decrements the count of a table that never held it. */
static void test_tgid_zero(void **state)
{
	struct proctable *pt = proctable__new(0);

	(void)state;
	put(pt, 5);
	assert_null(proctable__get(pt, 0));
	proctable__remove(pt, 0);
	assert_int_equal(proctable__count(pt), 1);
	proctable__free(pt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upsert_get_remove),
		cmocka_unit_test(test_growth_and_half_removal),
		cmocka_unit_test(test_collisions_wrap),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_image_new_copies),
		cmocka_unit_test(test_image_shared),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_sweep_clusters),
		cmocka_unit_test(test_tgid_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
