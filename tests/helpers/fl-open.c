/*
 * Test helper for fileAccess records (tests/e2e/t_fileaccess.sh, scripts/bench.sh).
 *   fl-open PATH COUNT SYSCALL MODE [MARKER...]
 * opens PATH COUNT times (closing each) with SYSCALL (openat, openat2 or open) and MODE
 * (r, w, rw, or path for O_PATH); PATH may be relative (to the working directory). Prints
 * "pid PID". MARKER only names the process in its argv. Exit 0 when every open succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long count;
	int flags;

	if (argc < 5 || (count = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: fl-open PATH COUNT openat|openat2|open r|w|rw|path [MARKER...]\n");
		return 2;
	}
	if (!strcmp(argv[4], "r"))
		flags = O_RDONLY;
	else if (!strcmp(argv[4], "w"))
		flags = O_WRONLY;
	else if (!strcmp(argv[4], "rw"))
		flags = O_RDWR;
	else if (!strcmp(argv[4], "path"))
		flags = O_PATH;
	else
		return 2;
	printf("pid %d\n", getpid());
	fflush(stdout);
	for (long i = 0; i < count; i++) {
		long fd;

		if (!strcmp(argv[3], "openat")) {
			fd = syscall(SYS_openat, AT_FDCWD, argv[1], flags | O_CLOEXEC);
		} else if (!strcmp(argv[3], "openat2")) {
			struct open_how how = { .flags = (unsigned long long)(flags | O_CLOEXEC) };

			fd = syscall(SYS_openat2, AT_FDCWD, argv[1], &how, sizeof(how));
		} else if (!strcmp(argv[3], "open")) {
#ifdef SYS_open
			fd = syscall(SYS_open, argv[1], flags | O_CLOEXEC);
#else
			fd = syscall(SYS_openat, AT_FDCWD, argv[1], flags | O_CLOEXEC);
#endif
		} else {
			return 2;
		}
		if (fd < 0) {
			fprintf(stderr, "fl-open: %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
		close((int)fd);
	}
	return 0;
}
