/*
 * Segment files: the default, local store. A segment is a gzip stream (so `zcat` works)
 * of length-delimited firstlight.v1.Batch messages. Records are collected into a batch
 * and the batch is compressed with Z_SYNC_FLUSH when it is flushed (every flush tick or
 * at flush_bytes), so what was flushed is readable even if the agent is killed before
 * it closes the gzip stream. Files are 0600 in a 0700 directory, opened without
 * following symlinks, never overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "sink.h"
#include "varint.h"

#define BATCH_EVENTS_TAG 0x0a /* Batch.events: field 1, wire type 2 */

struct sink_segment {
	struct sink base;
	int dirfd;
	int fd;
	char name[128];
	z_stream z;
	int z_ready;
	uint8_t *batch; /* Batch message being built: repeated events, each tagged */
	size_t batch_len, batch_cap;
	uint32_t batch_events;
	uint64_t flush_bytes;
	uint8_t zout[64 * 1024];
	int failed; /* last write failed: log once per failure streak */
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Feeds in[0..n) to the compressor and writes what it produces. */
static int deflate_out(struct sink_segment *ss, const uint8_t *in, size_t n, int mode)
{
	int err;

	ss->z.next_in = (Bytef *)in;
	ss->z.avail_in = (uInt)n;
	do {
		ss->z.next_out = ss->zout;
		ss->z.avail_out = sizeof(ss->zout);
		if (deflate(&ss->z, mode) == Z_STREAM_ERROR)
			return -EIO;
		err = write_all(ss->fd, ss->zout, sizeof(ss->zout) - ss->z.avail_out);
		if (err)
			return err;
	} while (ss->z.avail_out == 0 || ss->z.avail_in);
	return 0;
}

static int segment_flush(struct sink *s)
{
	struct sink_segment *ss = (struct sink_segment *)s;
	uint8_t hdr[VARINT_MAX];
	size_t hlen;
	int err;

	if (!ss->batch_events)
		return 0;
	hlen = varint__put(hdr, ss->batch_len);
	err = deflate_out(ss, hdr, hlen, Z_NO_FLUSH);
	if (!err)
		err = deflate_out(ss, ss->batch, ss->batch_len, Z_SYNC_FLUSH);
	if (err) {
		s->lost += ss->batch_events;
		if (!ss->failed)
			log_error("segment %s: %s; %u records lost and counted", ss->name,
				  strerror(-err), ss->batch_events);
		ss->failed = 1;
	} else {
		s->written += ss->batch_events;
		ss->failed = 0;
	}
	ss->batch_len = 0;
	ss->batch_events = 0;
	return err;
}

static int segment_write(struct sink *s, const Event *ev, const uint8_t *packed, size_t len)
{
	struct sink_segment *ss = (struct sink_segment *)s;
	size_t need = ss->batch_len + 1 + VARINT_MAX + len;

	(void)ev;
	if (need > ss->batch_cap) {
		size_t cap = ss->batch_cap * 2 > need ? ss->batch_cap * 2 : need;
		uint8_t *b = realloc(ss->batch, cap);

		if (!b) {
			s->lost++;
			return -ENOMEM;
		}
		ss->batch = b;
		ss->batch_cap = cap;
	}
	ss->batch[ss->batch_len++] = BATCH_EVENTS_TAG;
	ss->batch_len += varint__put(ss->batch + ss->batch_len, len);
	memcpy(ss->batch + ss->batch_len, packed, len);
	ss->batch_len += len;
	ss->batch_events++;
	return ss->batch_len >= ss->flush_bytes ? segment_flush(s) : 0;
}

static void segment_free(struct sink *s)
{
	struct sink_segment *ss = (struct sink_segment *)s;

	if (ss->fd >= 0) {
		segment_flush(s);
		if (ss->z_ready && deflate_out(ss, NULL, 0, Z_FINISH))
			log_error("segment %s: could not write the gzip trailer", ss->name);
		if (fsync(ss->fd))
			log_error("segment %s: fsync: %s", ss->name, strerror(errno));
		close(ss->fd);
	}
	if (ss->z_ready)
		deflateEnd(&ss->z);
	if (ss->dirfd >= 0)
		close(ss->dirfd);
	free(ss->batch);
	free(ss);
}

/* Opens (creating 0700 if absent) the data directory without following a symlink. */
static int open_data_dir(const char *dir)
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
	return fd;
}

struct sink *sink_segment__new(const struct segment_opts *opts, int *err)
{
	struct sink_segment *ss = calloc(1, sizeof(*ss));
	struct tm tm;
	struct timespec now;
	char stamp[32];

	if (!ss) {
		*err = -ENOMEM;
		return NULL;
	}
	ss->base.name = "segment";
	ss->base.write = segment_write;
	ss->base.flush = segment_flush;
	ss->base.free = segment_free;
	ss->fd = -1;
	ss->flush_bytes = opts->flush_bytes ? opts->flush_bytes : 256 * 1024;
	ss->dirfd = open_data_dir(opts->dir);
	if (ss->dirfd < 0) {
		*err = ss->dirfd;
		goto fail;
	}
	/* Names sort in time order (readers take a directory in name order), to the
	 * nanosecond: two runs can start within the same second. */
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(ss->name, sizeof(ss->name), "seg-%s.%09ldZ-%.8s-%06u.seg.gz", stamp, now.tv_nsec,
		 opts->run_id, 1);
	ss->fd = openat(ss->dirfd, ss->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600);
	if (ss->fd < 0) {
		*err = -errno;
		goto fail;
	}
	/* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
	if (deflateInit2(&ss->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		*err = -ENOMEM;
		goto fail;
	}
	ss->z_ready = 1;
	*err = 0;
	return &ss->base;
fail:
	segment_free(&ss->base);
	return NULL;
}
