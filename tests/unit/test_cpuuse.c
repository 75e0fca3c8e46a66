/* Unit tests for user/agent/cpuuse.c: roles from thread names, the account over scans
 * (threads that end, are renamed, or whose id is reused; counters that never go down;
 * roles that add up to the process's total), and a real scan of this process. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "agent/cpuuse.h"

static void test_roles(void **state)
{
	(void)state;
	assert_int_equal(cpuuse__role_of(100, "firstlight", 100), CPU_RECORD);
	assert_int_equal(cpuuse__role_of(100, "anything", 100), CPU_RECORD); /* the main thread, by id */
	assert_int_equal(cpuuse__role_of(101, "fl-ship", 100), CPU_SHIP);
	assert_int_equal(cpuuse__role_of(102, "fl-resolve", 100), CPU_IDENTITY);
	assert_int_equal(cpuuse__role_of(103, "fl-metrics", 100), CPU_METRICS);
	assert_int_equal(cpuuse__role_of(104, "firstlight", 100), CPU_OTHER);
	assert_int_equal(cpuuse__role_of(105, "fl-ship2", 100), CPU_OTHER);
	assert_string_equal(cpuuse__role_name(CPU_RECORD), "record");
	assert_string_equal(cpuuse__role_name(CPU_SHIP), "ship");
	assert_string_equal(cpuuse__role_name(CPU_IDENTITY), "identity");
	assert_string_equal(cpuuse__role_name(CPU_METRICS), "metrics");
	assert_string_equal(cpuuse__role_name(CPU_OTHER), "other");
	assert_string_equal(cpuuse__role_name((enum cpu_role)99), "other");
}

static void want(const uint64_t out[CPU_ROLES], uint64_t record, uint64_t ship, uint64_t identity,
		 uint64_t metrics, uint64_t other)
{
	assert_int_equal(out[CPU_RECORD], record);
	assert_int_equal(out[CPU_SHIP], ship);
	assert_int_equal(out[CPU_IDENTITY], identity);
	assert_int_equal(out[CPU_METRICS], metrics);
	assert_int_equal(out[CPU_OTHER], other);
}

static void test_fold(void **state)
{
	static struct cpuuse a;
	uint64_t out[CPU_ROLES];

	(void)state;
	memset(&a, 0, sizeof(a));
	/* The shipper and the NATS client's thread (named after it), the resolver, and a
	 * thread not yet named: the rest of the total is "other". */
	const struct cpuuse_sample s1[] = {
		{ 10, CPU_RECORD, 100 }, { 11, CPU_SHIP, 50 }, { 12, CPU_SHIP, 30 },
		{ 13, CPU_IDENTITY, 20 }, { 14, CPU_OTHER, 4 },
	};
	cpuuse__fold(&a, s1, 5, 215, out);
	want(out, 100, 80, 20, 0, 15);

	/* Thread 14 is named fl-metrics: only what it uses from now on is the metrics role's
	 * (its 4 ns before stay in "other"). Thread 12 ended after using 35 ns in all, 5 of
	 * them since the last scan: its 30 stay in "ship", the 5 go to "other". */
	const struct cpuuse_sample s2[] = {
		{ 10, CPU_RECORD, 150 }, { 11, CPU_SHIP, 60 }, { 13, CPU_IDENTITY, 20 },
		{ 14, CPU_METRICS, 6 },
	};
	cpuuse__fold(&a, s2, 4, 150 + 60 + 35 + 20 + 6 + 10, out);
	want(out, 150, 90, 20, 2, 19);
	assert_int_equal(out[0] + out[1] + out[2] + out[3] + out[4], 281);

	/* Thread 11's id is reused by a new fl-ship thread (less CPU than the id had): the
	 * old one's 60 stay, the new one's 7 are added. */
	const struct cpuuse_sample s3[] = {
		{ 10, CPU_RECORD, 160 }, { 11, CPU_SHIP, 7 }, { 13, CPU_IDENTITY, 25 },
		{ 14, CPU_METRICS, 6 },
	};
	cpuuse__fold(&a, s3, 4, 160 + 60 + 7 + 35 + 25 + 6 + 10, out);
	want(out, 160, 97, 25, 2, 19);

	/* A total read short of the roles (a thread's time read after the total's): "other"
	 * stays where it was, a counter does not go down. */
	const struct cpuuse_sample s4[] = {
		{ 10, CPU_RECORD, 170 }, { 11, CPU_SHIP, 7 }, { 13, CPU_IDENTITY, 25 },
		{ 14, CPU_METRICS, 6 },
	};
	cpuuse__fold(&a, s4, 4, 200, out);
	want(out, 170, 97, 25, 2, 19);

	/* Everything ends but the main thread: the roles keep what they had. */
	const struct cpuuse_sample s5[] = { { 10, CPU_RECORD, 171 } };
	cpuuse__fold(&a, s5, 1, 400, out);
	want(out, 171, 97, 25, 2, 400 - 171 - 97 - 25 - 2);
	assert_int_equal(a.n, 1);
}

/* More threads than the list holds: those past it are "other", nothing is lost. */
static void test_fold_full(void **state)
{
	static struct cpuuse a;
	struct cpuuse_sample s[CPUUSE_THREADS_MAX + 8];
	uint64_t out[CPU_ROLES];

	(void)state;
	memset(&a, 0, sizeof(a));
	for (int i = 0; i < CPUUSE_THREADS_MAX + 8; i++)
		s[i] = (struct cpuuse_sample){ 100 + i, CPU_SHIP, 10 };
	cpuuse__fold(&a, s, CPUUSE_THREADS_MAX + 8, 10 * (CPUUSE_THREADS_MAX + 8), out);
	want(out, 0, 10 * CPUUSE_THREADS_MAX, 0, 0, 80);
}

static atomic_int spun, spin_stop;

/* Named as the shipper's thread: uses a millisecond of CPU, says so, then waits without
 * running, so that a scan meanwhile reads every thread at rest but the scanning one. */
static void *spin(void *arg)
{
	struct timespec ts, nap = { 0, 1000000 };

	(void)arg;
	pthread_setname_np(pthread_self(), "fl-ship");
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	while (ts.tv_sec == 0 && ts.tv_nsec < 1000000);
	atomic_store(&spun, 1);
	while (!atomic_load(&spin_stop))
		nanosleep(&nap, NULL);
	return NULL;
}

static uint64_t process_ns(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A real scan: this process's main thread and a thread named as the shipper's. */
static void test_measure(void **state)
{
	static struct cpuuse a;
	uint64_t out[CPU_ROLES], again[CPU_ROLES], sum = 0, before, after;
	struct timespec nap = { 0, 1000000 };
	pthread_t t;

	(void)state;
	memset(&a, 0, sizeof(a));
	atomic_store(&spun, 0);
	atomic_store(&spin_stop, 0);
	assert_int_equal(pthread_create(&t, NULL, spin, NULL), 0);
	while (!atomic_load(&spun))
		nanosleep(&nap, NULL);
	before = process_ns();
	assert_int_equal(cpuuse__measure(&a, out), 0);
	after = process_ns();
	assert_true(out[CPU_RECORD] > 0);
	assert_true(out[CPU_SHIP] >= 1000000);
	assert_int_equal(out[CPU_IDENTITY], 0);
	assert_int_equal(out[CPU_METRICS], 0);
	for (int i = 0; i < CPU_ROLES; i++)
		sum += out[i];
	/* The other thread at rest: the roles add up to the total the scan read. */
	assert_true(sum >= before && sum <= after);

	/* The thread ends: its time stays in "ship", the rest is "other". */
	atomic_store(&spin_stop, 1);
	pthread_join(t, NULL);
	assert_int_equal(cpuuse__measure(&a, again), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(again[CPU_SHIP], out[CPU_SHIP]);
	for (int i = 0; i < CPU_ROLES; i++)
		assert_true(again[i] >= out[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_fold_full),
		cmocka_unit_test(test_measure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
