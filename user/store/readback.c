/* Reading written bytes back from the device; see readback.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

int readback__open(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECT | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == EINVAL ? -EOPNOTSUPP : -errno;
	return fd;
}

int readback__check_fd(int fd, off_t from, off_t to, uint32_t crc)
{
	off_t at = from - from % ALIGN;
	uint32_t got = 0;
	uint8_t *buf = NULL;
	int err = 0;

	if (from >= to)
		return 0;
	if (posix_memalign((void **)&buf, ALIGN, CHUNK))
		return -ENOMEM;
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
	return err;
}

/* A loop device's sysfs directory has "loop"; a partition's sits in its disk's; a
 * stacked device lists what it is built on under "slaves". */
static int sys_on_loop(const char *dir, int depth)
{
	char p[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int yes = 0;

	if (depth < 0 || snprintf(p, sizeof(p), "%s/loop", dir) >= (int)sizeof(p))
		return 0;
	if (!access(p, F_OK))
		return 1;
	snprintf(p, sizeof(p), "%s/partition", dir);
	if (!access(p, F_OK)) {
		snprintf(p, sizeof(p), "%s/..", dir);
		return sys_on_loop(p, depth - 1);
	}
	snprintf(p, sizeof(p), "%s/slaves", dir);
	d = opendir(p);
	if (!d)
		return 0;
	while (!yes && (e = readdir(d))) {
		char sub[PATH_MAX];

		if (e->d_name[0] == '.' ||
		    snprintf(sub, sizeof(sub), "%s/slaves/%s", dir, e->d_name) >= (int)sizeof(sub))
			continue;
		yes = sys_on_loop(sub, depth - 1);
	}
	closedir(d);
	return yes;
}

int readback__device_may_lie(dev_t dev)
{
	char dir[64];

	if (!major(dev))
		return 0;
	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u", major(dev), minor(dev));
	return sys_on_loop(dir, 4);
}

int readback__check(int dirfd, const char *name, off_t from, off_t to, uint32_t crc)
{
	int fd, err;

	if (from >= to)
		return 0;
	fd = readback__open(dirfd, name);
	if (fd < 0)
		return fd;
	err = readback__check_fd(fd, from, to, crc);
	close(fd);
	return err;
}
