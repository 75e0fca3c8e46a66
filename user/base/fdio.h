/* Whole writes to a file descriptor: the one loop every writer of files here needs; and
 * the one read of a small file (/proc's) that its readers need. */
#ifndef FL_FDIO_H
#define FL_FDIO_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

/* Writes all n bytes, retrying short writes and EINTR. 0, or -errno (-EIO if the fd took
 * nothing). A failure may leave part of the bytes written: callers that care cut back. */
static inline int fdio__write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads a small file (dir: a directory fd or AT_FDCWD) into buf in one read, as /proc
 * gives its small files, NUL-terminated and without its trailing newline. Returns the
 * bytes kept, or -errno. */
static inline ssize_t fdio__read_small(int dir, const char *path, char *buf, size_t size)
{
	int fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

#endif
