/* Lowering the capabilities of every thread; see threadcaps.h. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include "base/threadcaps.h"

#define ROUNDS_MAX 5000 /* 1 ms apart: a thread that has not followed in 5 s never will */

/*
 * The set to keep, for the signal handler: a handler receives nothing else. Written
 * before the first signal is sent and only read after (the signal orders them).
 */
static volatile uint64_t keep_set;

struct caps {
	uint64_t eff, prm;
};

static int caps_get(pid_t tid, struct caps *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = tid };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	c->eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	c->prm = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	return 0;
}

/* The calling thread: bounding set, ambient, then effective/permitted/inheritable.
 * Async-signal-safe (system calls only); errno is the caller's to save. */
static int limit_self(uint64_t keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	uint64_t eff, prm;

	if (syscall(SYS_capget, &h, d))
		return -errno;
	eff = ((uint64_t)d[1].effective << 32 | d[0].effective) & keep;
	prm = ((uint64_t)d[1].permitted << 32 | d[0].permitted) & keep;
	/* The bounding set needs CAP_SETPCAP, so it goes first; a container without it
	 * keeps its bounding set (what exec could regain is nothing under no-new-privs). */
	if (d[0].effective & (1u << CAP_SETPCAP))
		for (int cap = 0; cap < 64; cap++)
			if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EINVAL)
				break; /* past the kernel's last capability */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); /* EINVAL before 4.3: none */
	d[0].effective = (uint32_t)eff;
	d[1].effective = (uint32_t)(eff >> 32);
	d[0].permitted = (uint32_t)prm;
	d[1].permitted = (uint32_t)(prm >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? -errno : 0;
}

static void on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	limit_self(keep_set); /* checked by the sender with capget() */
	errno = saved;
}

/* A thread's name, for the message about it. */
static void thread_name(pid_t tid, char *out, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(out, len, "?");
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = 0;
	fclose(f);
}

/*
 * One pass over the threads: signals each that does not hold want yet. 0 when all
 * did, 1 when some were signalled (*late: the last), -errno.
 */
static int pass(const struct caps *want, pid_t self, pid_t *late)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int rc = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		struct caps c;

		if (tid <= 0 || tid == self)
			continue;
		if (caps_get(tid, &c))
			continue; /* it has exited */
		if (c.eff == want->eff && c.prm == want->prm)
			continue;
		if (syscall(SYS_tgkill, getpid(), tid, THREADCAPS_SIGNAL) && errno != ESRCH) {
			rc = -errno;
			break;
		}
		*late = tid;
		rc = 1;
	}
	closedir(d);
	return rc;
}

int threadcaps__limit(uint64_t keep, char *why, size_t why_len)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	struct timespec ms = { 0, 1000000 };
	pid_t self = (pid_t)syscall(SYS_gettid), late = 0;
	struct caps want;
	int err, rounds = 0;

	snprintf(why, why_len, "ok");
	keep_set = keep;
	sigemptyset(&sa.sa_mask);
	if (sigaction(THREADCAPS_SIGNAL, &sa, NULL)) {
		err = -errno;
		snprintf(why, why_len, "signal handler: %s", strerror(errno));
		return err;
	}
	err = limit_self(keep) ?: caps_get(self, &want);
	if (err) {
		snprintf(why, why_len, "this thread: %s", strerror(-err));
		goto out;
	}
	while ((err = pass(&want, self, &late)) == 1 && ++rounds < ROUNDS_MAX)
		nanosleep(&ms, NULL);
	if (err == 1) {
		char name[32];

		thread_name(late, name, sizeof(name));
		snprintf(why, why_len, "thread %d (%s) kept its capabilities (does it block signal %d?)",
			 (int)late, name, THREADCAPS_SIGNAL);
		err = -ETIMEDOUT;
	} else if (err) {
		snprintf(why, why_len, "signalling a thread: %s", strerror(-err));
	}
out:
	/* A signal still on its way is ignored: every thread holds the set already. */
	sa.sa_handler = SIG_IGN;
	sigaction(THREADCAPS_SIGNAL, &sa, NULL);
	return err;
}
