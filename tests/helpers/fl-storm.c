/*
 * Exec storm generator for tests and the benchmark: N fork+exec+wait of a program across
 * P worker processes, as fast as possible (or at a fixed rate with -r). A C loop rather
 * than a shell loop, so the generator itself costs little and no shell builtin hides an
 * exec. Exits non-zero if any child could not be started or did not exit 0.
 * usage: fl-storm [-n N] [-p P] [-r PER_SECOND] -- PROGRAM [ARGS...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs count children one after another; with a rate, paces them on an absolute schedule. */
static int worker(long count, double rate, char **cmd)
{
	double start = now_s();
	int failures = 0;

	for (long i = 0; i < count; i++) {
		int status;
		pid_t pid;

		if (rate > 0) {
			double due = start + (double)i / rate, wait = due - now_s();

			if (wait > 0)
				usleep((useconds_t)(wait * 1e6));
		}
		pid = fork();
		if (pid < 0) {
			failures++;
			continue;
		}
		if (pid == 0) {
			execv(cmd[0], cmd);
			_exit(127);
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failures++;
	}
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	long n = 1000, p = 2;
	double rate = 0;
	int opt, failed = 0;

	while ((opt = getopt(argc, argv, "n:p:r:")) != -1) {
		switch (opt) {
		case 'n': n = atol(optarg); break;
		case 'p': p = atol(optarg); break;
		case 'r': rate = atof(optarg); break;
		default: goto usage;
		}
	}
	if (optind >= argc || n < 1 || p < 1 || p > 256 || rate < 0)
		goto usage;
	for (long w = 0; w < p; w++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			_exit(worker(n / p + (w < n % p), rate / (double)p, argv + optind));
	}
	for (long w = 0; w < p; w++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	}
	if (failed)
		fprintf(stderr, "fl-storm: some children failed\n");
	return failed;
usage:
	fprintf(stderr, "usage: fl-storm [-n N] [-p P] [-r PER_SECOND] -- PROGRAM [ARGS...]\n");
	return 2;
}
