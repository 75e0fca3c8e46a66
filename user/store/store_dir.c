/* The store's data directory and segment names; see store_dir.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fdio.h"
#include "base/array.h"
#include "base/log.h"
#include "store/store_dir.h"

int store_dir__open(const char *dir)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	/* Evidence is readable by its owner only; a directory made by hand may say otherwise. */
	if ((st.st_mode & 077) && st.st_uid == geteuid()) {
		if (fchmod(fd, 0700)) {
			int err = -errno;

			close(fd);
			return err;
		}
		log_warn("data dir %s was mode %04o: now 0700", dir, (unsigned)(st.st_mode & 07777));
	}
	return fd;
}

int store_dir__lock(int dirfd)
{
	if (flock(dirfd, LOCK_EX | LOCK_NB))
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

void store_dir__segment_name(char out[SEGMENT_NAME_MAX], uint64_t number, time_t t,
			     const char *run_id)
{
	struct tm tm;
	char stamp[32];

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out, SEGMENT_NAME_MAX, "seg-%010" PRIu64 "-%.16s-%.8s.seg.gz", number,
		 stamp, run_id);
}

int store_dir__segment_number(const char *name, uint64_t *number)
{
	uint64_t n = 0;
	size_t len = strlen(name);

	if (strncmp(name, "seg-", 4) || len < 4 + 10 + 8 || name[14] != '-' ||
	    strcmp(name + len - 7, ".seg.gz"))
		return -EINVAL;
	for (int i = 4; i < 14; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(name[i] - '0');
	}
	*number = n;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct seg_entry *x = a, *y = b;

	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return strcmp(x->name, y->name);
}

int store_dir__list(int dirfd, struct seg_entry **out, size_t *n)
{
	/* A description of its own: a dup would share dirfd's position, and two threads
	 * listing through one dirfd (the shipper's, read by the store's retention too) would
	 * each see part of the folder. */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct seg_entry *v = NULL;
	size_t cap = 0;
	struct dirent *de;
	int err = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	while ((de = readdir(d))) {
		struct seg_entry e = { 0 };
		struct stat st;

		if (store_dir__segment_number(de->d_name, &e.number) ||
		    strlen(de->d_name) >= sizeof(e.name))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue; /* gone meanwhile, or not a file we wrote */
		memcpy(e.name, de->d_name, strlen(de->d_name) + 1); /* length checked above */
		e.bytes = (uint64_t)st.st_size;
		e.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		if ((err = ARRAY_GROW(v, cap, *n + 1)))
			break;
		v[(*n)++] = e;
	}
	closedir(d);
	if (err) {
		free(v);
		*n = 0;
		return err;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_entry);
	*out = v;
	return 0;
}

int store_dir__fsync(int dirfd)
{
	return fsync(dirfd) ? -errno : 0;
}

int64_t store_dir__trim_reserved(int dirfd, const char *name)
{
	struct stat before, after;
	int64_t freed = 0;
	uint64_t used;
	int fd, err = 0;

	/* Non-blocking: a FIFO put in the segment's place must not hang the start. */
	fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &before)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(before.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	/* What the content needs: its size in whole blocks of the file system. */
	used = ((uint64_t)before.st_size + (uint64_t)before.st_blksize - 1) /
	       (uint64_t)before.st_blksize * (uint64_t)before.st_blksize;
	if ((uint64_t)before.st_blocks * 512 <= used)
		goto out;
	/* A truncate to the size it has frees what lies past it (the sink's own way). Its
	 * time of last write is put back: retention by age reads it. */
	if (ftruncate(fd, before.st_size) || fstat(fd, &after) ||
	    futimens(fd, (struct timespec[2]){ { .tv_nsec = UTIME_OMIT }, before.st_mtim }))
		err = -errno;
	else if (before.st_blocks > after.st_blocks)
		freed = (int64_t)(before.st_blocks - after.st_blocks) * 512;
out:
	close(fd);
	return err ? err : freed;
}


int store_dir__write_atomic(int dirfd, const char *name, const void *data, size_t len)
{
	char tmp[256];
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = fdio__write_all(fd, data, len);
	if (!err && fdatasync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(dirfd, tmp, dirfd, name))
		err = -errno;
	if (err)
		unlinkat(dirfd, tmp, 0);
	else
		err = store_dir__fsync(dirfd);
	return err;
}


int store_dir__open_cache(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}

int store_dir__write_cache(int fd, const void *data, size_t len)
{
	ssize_t w;

	do
		w = pwrite(fd, data, len, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return (size_t)w == len ? 0 : -EIO;
}

int store_dir__read_small(int dirfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	size_t have = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	while (have < cap - 1 && (r = read(fd, buf + have, cap - 1 - have)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		have += (size_t)r;
	}
	close(fd);
	buf[have] = 0;
	return (int)have;
}
