/* Reading written bytes back from the device; see readback.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "store/readback.h"

/* A multiple of every device's logical block size: O_DIRECT's alignment of the offset,
 * the length and the buffer. */
#define ALIGN 4096
#define CHUNK (64 * 1024)

uint32_t readback__crc(uint32_t crc, const void *data, size_t len)
{
	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = (uint32_t)crc32(crc, data, n);
		data = (const uint8_t *)data + n;
		len -= n;
	}
	return crc;
}

int readback__check(int dirfd, const char *name, off_t from, off_t to, uint32_t crc)
{
	off_t at = from - from % ALIGN;
	uint32_t got = 0;
	uint8_t *buf = NULL;
	int fd, err = 0;

	if (from >= to)
		return 0;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECT | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == EINVAL ? -EOPNOTSUPP : -errno;
	if (posix_memalign((void **)&buf, ALIGN, CHUNK)) {
		close(fd);
		return -ENOMEM;
	}
	while (!err && at < to) {
		/* Whole blocks; the file's last one comes cut at the file's end. */
		ssize_t n = pread(fd, buf, CHUNK, at);
		off_t lo = at < from ? from - at : 0, hi;

		if (n < 0) {
			err = errno == EINVAL ? -EOPNOTSUPP : -errno;
			break;
		}
		hi = at + n > to ? to - at : n;
		if (hi > lo)
			got = readback__crc(got, buf + lo, (size_t)(hi - lo));
		at += n;
		if (n < CHUNK && at < to)
			err = -EIO; /* the file ends before the bytes written */
	}
	if (!err && got != crc)
		err = -EIO;
	free(buf);
	close(fd);
	return err;
}
