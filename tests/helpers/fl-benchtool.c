/*
 * fl-benchtool: small measuring aids for scripts/bench.sh, none of which touches the
 * sensors it measures.
 *
 *   fl-benchtool stats
 *       Turns on the kernel's BPF run-time statistics with BPF_ENABLE_STATS (an fd, not
 *       the global sysctl) and holds them on until SIGTERM/SIGINT or until its parent
 *       dies; the kernel turns them off with the last such fd. Prints "ready" once on.
 *   fl-benchtool watch OUT DIR
 *       Logs every write to a file in DIR as it is noticed (inotify IN_MODIFY, then the
 *       file's size): "<boottime ns> <monotonic ns> <realtime ns> <name> <size>" lines to
 *       OUT, until SIGTERM/SIGINT. Everything up to <size> was written at or before
 *       those times: when writes come faster than they are read, inotify merges them and
 *       the earlier ones are stamped late, never early. Prints "ready" once watching.
 *   fl-benchtool hold N READY PROGRAM [ARGS...]
 *       Starts N children running PROGRAM (each exec checked), creates the file READY,
 *       keeps them alive until SIGTERM/SIGINT or its parent dies, then kills and reaps
 *       them. The children die with the holder (PR_SET_PDEATHSIG).
 *   fl-benchtool pause [ARGS...]
 *       Waits for a signal, whatever ARGS are: a live process whose argv the caller
 *       chooses (`hold N READY fl-benchtool pause ARGV...` holds N of them).
 *
 * Exit status 0, or 1 with a message naming the problem.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* SIGTERM and SIGINT are blocked and taken synchronously (sigwaitinfo, a signalfd), so
 * none can slip in between a check and a wait; the tool gets SIGTERM when its parent
 * dies. Returns the set. */
static sigset_t setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		raise(SIGTERM); /* the parent is already gone: pending, seen at the first wait */
	return set;
}

/* A stop signal is pending (checked without waiting). */
static int stop_pending(const sigset_t *set)
{
	sigset_t pend;

	sigpending(&pend);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(set, sig) && sigismember(&pend, sig))
			return 1;
	return 0;
}

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmd_stats(const sigset_t *set)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.enable_stats.type = BPF_STATS_RUN_TIME;
	fd = (int)syscall(SYS_bpf, BPF_ENABLE_STATS, &attr, sizeof(attr));
	if (fd < 0) {
		fprintf(stderr, "fl-benchtool: BPF_ENABLE_STATS: %s\n", strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (sigwaitinfo(set, NULL) < 0 && errno == EINTR)
		;
	close(fd);
	return 0;
}

static int cmd_watch(const char *out, const char *dir, const sigset_t *set)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	FILE *f = fopen(out, "we");
	int in, dfd, sfd = signalfd(-1, set, SFD_CLOEXEC);

	if (!f) {
		fprintf(stderr, "fl-benchtool: %s: %s\n", out, strerror(errno));
		return 1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	in = inotify_init1(IN_CLOEXEC);
	if (sfd < 0 || dfd < 0 || in < 0 || inotify_add_watch(in, dir, IN_MODIFY) < 0) {
		fprintf(stderr, "fl-benchtool: watch %s: %s\n", dir, strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd pf[2] = { { .fd = in, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		ssize_t n;

		if (poll(pf, 2, -1) < 0 && errno != EINTR) {
			fprintf(stderr, "fl-benchtool: poll: %s\n", strerror(errno));
			return 1;
		}
		/* inotify first: writes noticed together with the stop are still logged */
		n = (pf[0].revents & POLLIN) ? read(in, buf, sizeof(buf)) : 0;
		if (n <= 0 && (pf[1].revents & POLLIN))
			break;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "fl-benchtool: inotify: %s\n", strerror(errno));
			return 1;
		}
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			uint64_t boot = clock_ns(CLOCK_BOOTTIME), mono = clock_ns(CLOCK_MONOTONIC),
				 real = clock_ns(CLOCK_REALTIME);
			struct stat st;

			if (ev->len && fstatat(dfd, ev->name, &st, 0) == 0)
				fprintf(f, "%llu %llu %llu %s %lld\n", (unsigned long long)boot,
					(unsigned long long)mono, (unsigned long long)real, ev->name,
					(long long)st.st_size);
			p += sizeof(*ev) + ev->len;
		}
	}
	if (fclose(f)) {
		fprintf(stderr, "fl-benchtool: %s: %s\n", out, strerror(errno));
		return 1;
	}
	return 0;
}

static int cmd_hold(long n, const char *ready, char **cmd, const sigset_t *set)
{
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	long started = 0;
	int err = 0, fd;

	if (!pids)
		return 1;
	for (; started < n && !stop_pending(set); started++) {
		int pfd[2];
		char c;

		if (pipe2(pfd, O_CLOEXEC)) {
			perror("fl-benchtool: pipe");
			err = 1;
			break;
		}
		pids[started] = fork();
		if (pids[started] < 0) {
			perror("fl-benchtool: fork");
			close(pfd[0]);
			close(pfd[1]);
			err = 1;
			break;
		}
		if (pids[started] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			sigprocmask(SIG_UNBLOCK, set, NULL);
			execv(cmd[0], cmd);
			c = 1; /* exec failed: say so through the pipe */
			(void)!write(pfd[1], &c, 1);
			_exit(127);
		}
		close(pfd[1]);
		/* EOF: the write end was closed by a successful exec. */
		if (read(pfd[0], &c, 1) != 0) {
			fprintf(stderr, "fl-benchtool: exec %s failed\n", cmd[0]);
			close(pfd[0]);
			started++;
			err = 1;
			break;
		}
		close(pfd[0]);
	}
	if (!err && !stop_pending(set)) {
		fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "fl-benchtool: %s: %s\n", ready, strerror(errno));
			err = 1;
		} else {
			close(fd);
		}
	}
	while (!err && sigwaitinfo(set, NULL) < 0 && errno == EINTR)
		;
	for (long i = 0; i < started; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	for (long i = 0; i < started; i++)
		if (pids[i] > 0)
			while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
				;
	free(pids);
	return err;
}

int main(int argc, char **argv)
{
	sigset_t set = setup_signals();

	if (argc >= 2 && !strcmp(argv[1], "pause")) {
		pause();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "stats"))
		return cmd_stats(&set);
	if (argc == 4 && !strcmp(argv[1], "watch"))
		return cmd_watch(argv[2], argv[3], &set);
	if (argc >= 5 && !strcmp(argv[1], "hold") && atol(argv[2]) > 0)
		return cmd_hold(atol(argv[2]), argv[3], argv + 4, &set);
	fprintf(stderr, "usage: fl-benchtool stats | watch OUT DIR | hold N READY PROGRAM [ARGS...] | pause [ARGS...]\n");
	return 2;
}
