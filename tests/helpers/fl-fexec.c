/*
 * Executes a program from a file descriptor, the ways a workload hides what it runs:
 *   fl-fexec memfd NAME PROGRAM [ARGS...]     copies PROGRAM into memfd_create(NAME) and
 *                                             fexecve()s it
 *   fl-fexec unlinked PATH PROGRAM [ARGS...]  copies PROGRAM to PATH, opens it, unlinks it,
 *                                             and fexecve()s the open file
 * Before the exec, prints the file's identity as fstat(2) sees it: "ino=N dev=N" on one
 * line (flushed), so a test can compare it with what the sensor recorded. ARGS[0] is the
 * new image's argv[0]. Exit status 1 with a message naming the problem; otherwise the
 * program's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what, const char *arg)
{
	fprintf(stderr, "fl-fexec: %s %s: %s\n", what, arg, strerror(errno));
	return 1;
}

/* Copies the file at path into fd, from its start. */
static int copy_into(int fd, const char *path)
{
	char buf[65536];
	int in = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (in < 0)
		return fail("open", path);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n) {
			close(in);
			return fail("write a copy of", path);
		}
	close(in);
	return n < 0 ? fail("read", path) : 0;
}

int main(int argc, char **argv)
{
	struct stat st;
	int fd;

	if (argc < 5) {
		fprintf(stderr, "usage: fl-fexec memfd NAME PROGRAM ARGV0 [ARGS...]\n"
				"       fl-fexec unlinked PATH PROGRAM ARGV0 [ARGS...]\n");
		return 2;
	}
	if (!strcmp(argv[1], "memfd")) {
		/* Not MFD_CLOEXEC: the kernel opens the file again by its fd for a script; an ELF
		 * file works either way. */
		fd = memfd_create(argv[2], 0);
		if (fd < 0)
			return fail("memfd_create", argv[2]);
		if (copy_into(fd, argv[3]))
			return 1;
	} else if (!strcmp(argv[1], "unlinked")) {
		int w = open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);

		if (w < 0)
			return fail("create", argv[2]);
		if (copy_into(w, argv[3]))
			return 1;
		close(w); /* a file open for writing cannot be executed (ETXTBSY) */
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail("open", argv[2]);
		if (unlink(argv[2]))
			return fail("unlink", argv[2]);
	} else {
		fprintf(stderr, "fl-fexec: unknown mode '%s' (memfd or unlinked)\n", argv[1]);
		return 2;
	}
	if (fstat(fd, &st))
		return fail("fstat", argv[2]);
	printf("ino=%llu dev=%llu\n", (unsigned long long)st.st_ino, (unsigned long long)st.st_dev);
	fflush(stdout);
	fexecve(fd, argv + 4, environ);
	return fail("fexecve", argv[3]);
}
