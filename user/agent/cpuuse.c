/* The agent's CPU time by role; see cpuuse.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fdio.h"
#include "agent/cpuuse.h"

static const char *const role_names[CPU_ROLES] = {
	[CPU_RECORD] = "record", [CPU_SHIP] = "ship", [CPU_IDENTITY] = "identity",
	[CPU_METRICS] = "metrics", [CPU_OTHER] = "other",
};

const char *cpuuse__role_name(enum cpu_role role)
{
	return (unsigned int)role < CPU_ROLES ? role_names[role] : "other";
}

/* The names the agent gives its threads (shipper.c, resolver.c, metrics.c). */
enum cpu_role cpuuse__role_of(int tid, const char *comm, int pid)
{
	if (tid == pid)
		return CPU_RECORD; /* the event loop: drain, decode, write, seal, sync */
	if (!strcmp(comm, "fl-ship"))
		return CPU_SHIP;
	if (!strcmp(comm, "fl-resolve"))
		return CPU_IDENTITY;
	if (!strcmp(comm, "fl-metrics"))
		return CPU_METRICS;
	return CPU_OTHER;
}

static struct cpuuse_thread *find(struct cpuuse *a, int tid)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->threads[i].tid == tid)
			return &a->threads[i];
	return NULL;
}

static void end_thread(struct cpuuse *a, const struct cpuuse_thread *t)
{
	a->ended_ns[t->role] += t->last_ns - t->base_ns;
}

void cpuuse__fold(struct cpuuse *a, const struct cpuuse_sample *s, size_t n, uint64_t process_ns,
		  uint64_t out[CPU_ROLES])
{
	unsigned char seen[CPUUSE_THREADS_MAX] = { 0 };
	uint64_t named = 0, other;

	for (size_t i = 0; i < n; i++) {
		struct cpuuse_thread *t;

		if ((unsigned int)s[i].role >= CPU_ROLES)
			continue;
		/* "other" threads are listed too: one renamed into a role brings only what it
		 * uses from then on. */
		t = find(a, s[i].tid);
		if (t && s[i].ns < t->last_ns) {
			/* Less than before: the id was reused by a new thread. */
			end_thread(a, t);
			t->role = s[i].role;
			t->base_ns = 0;
		} else if (t && s[i].role != t->role) {
			/* Renamed (a thread is named just after it starts): what it used so far
			 * stays where it was counted. */
			end_thread(a, t);
			t->role = s[i].role;
			t->base_ns = t->last_ns;
		} else if (!t) {
			if (a->n == CPUUSE_THREADS_MAX)
				continue; /* unlisted: its time is in "other" */
			t = &a->threads[a->n++];
			*t = (struct cpuuse_thread){ .tid = s[i].tid, .role = s[i].role };
		}
		t->last_ns = s[i].ns;
		seen[t - a->threads] = 1;
	}
	/* Threads gone since the last scan keep what they were last seen to use. */
	for (size_t i = a->n; i-- > 0;) {
		if (seen[i])
			continue;
		end_thread(a, &a->threads[i]);
		a->threads[i] = a->threads[--a->n];
		seen[i] = seen[a->n];
	}
	for (int r = 0; r < CPU_ROLES; r++)
		out[r] = a->ended_ns[r];
	for (size_t i = 0; i < a->n; i++)
		out[a->threads[i].role] += a->threads[i].last_ns - a->threads[i].base_ns;
	for (int r = 0; r < CPU_OTHER; r++)
		named += out[r];
	/* What the roles leave: unnamed threads, threads past the list, and the time of a
	 * thread after its last scan until it ended. */
	other = process_ns > named ? process_ns - named : 0;
	if (other < a->other_ns)
		other = a->other_ns; /* a counter: never down, though the sum may then pass the total */
	a->other_ns = other;
	out[CPU_OTHER] = other;
}

/* A thread's CPU time in ns: schedstat's first field. A kernel without schedstats lists
 * no thread, and "other" then holds the whole process's time. */
static int thread_ns(int dir, long tid, uint64_t *ns)
{
	char path[64], buf[128], *end;

	snprintf(path, sizeof(path), "%ld/schedstat", tid);
	if (fdio__read_small(dir, path, buf, sizeof(buf)) <= 0)
		return -ENOENT; /* ended since the directory was read, or no schedstats */
	*ns = strtoull(buf, &end, 10);
	return end != buf ? 0 : -EINVAL;
}

/* A /proc/self-like link's last number: ids as this procfs numbers them, which are
 * getpid()'s and gettid()'s unless /proc belongs to another pid namespace. */
static long proc_link_id(const char *link, long fallback)
{
	char buf[64], *p;
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);

	if (n <= 0)
		return fallback;
	buf[n] = '\0';
	p = strrchr(buf, '/');
	return strtol(p ? p + 1 : buf, NULL, 10) ?: fallback;
}

int cpuuse__measure(struct cpuuse *a, uint64_t out[CPU_ROLES])
{
	struct cpuuse_sample s[CPUUSE_THREADS_MAX];
	struct timespec ts;
	struct dirent *e;
	size_t n = 0;
	int pid = (int)proc_link_id("/proc/self", getpid());
	long self = proc_link_id("/proc/thread-self", gettid());
	int dfd;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return -errno;
	dfd = dirfd(d);
	while ((e = readdir(d)) && n < CPUUSE_THREADS_MAX) {
		char path[32], comm[32];
		char *end;
		long tid = strtol(e->d_name, &end, 10);
		ssize_t len;

		if (end == e->d_name || *end || tid <= 0)
			continue; /* "." and ".." */
		snprintf(path, sizeof(path), "%ld/comm", tid);
		len = fdio__read_small(dfd, path, comm, sizeof(comm));
		if (len < 0)
			continue; /* ended meanwhile: "other" holds its time */
		s[n].tid = (int)tid;
		s[n].role = cpuuse__role_of((int)tid, comm, pid);
		/* This thread's own from the clock, which adds the time since the kernel last
		 * updated it (schedstat does not): the total, read next, holds that too. */
		if (tid == self && !clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
			s[n++].ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		else if (thread_ns(dfd, tid, &s[n].ns) == 0)
			n++;
	}
	closedir(d);
	/* After the threads: the total holds at least what they were seen to use. */
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		return -errno;
	cpuuse__fold(a, s, n, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, out);
	return 0;
}
