/* Whole writes to a file descriptor: the one loop every writer of files here needs. */
#ifndef FL_FDIO_H
#define FL_FDIO_H

#include <errno.h>
#include <stddef.h>
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

#endif
