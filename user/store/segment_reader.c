/* Decompression and batch framing for readers; see segment_reader.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "store/segment_reader.h"
#include "base/varint.h"

#define IN_CHUNK (64 * 1024)

struct segment_reader {
	int fd;
	int gzip;     /* -1 undecided, 0 raw, 1 gzip */
	int in_eof;
	int z_end;    /* the current gzip member ended */
	z_stream z;
	int z_ready;
	uint8_t in[IN_CHUNK];
	uint8_t *buf; /* decompressed bytes not yet consumed: buf[pos..len) */
	size_t pos, len, cap;
	uint64_t offset;  /* decompressed stream offset of buf[pos] */
	uint64_t batches;
	int unclean_end;
	int truncated;
	uint64_t offset_failed; /* where the last batch read by segment_reader__next began */
	int inflate_failed;     /* the gzip data is corrupt */
	char err[256];
};

static int reserve(struct segment_reader *r, size_t extra);

/* A reader of fd (taken, closed on failure). NULL with errno set. */
static struct segment_reader *open_fd(int fd)
{
	struct segment_reader *r;

	if (fd < 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	r->gzip = -1;
	r->fd = fd;
	/* Allocated up front: the framing code may then always point into buf. */
	if (reserve(r, IN_CHUNK)) {
		segment_reader__close(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

struct segment_reader *segment_reader__open(const char *path)
{
	return open_fd(strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO));
}

struct segment_reader *segment_reader__fdopen(int fd)
{
	if (fd < 0)
		errno = EBADF;
	return open_fd(fd);
}

struct segment_reader *segment_reader__openat(int dirfd, const char *name)
{
	return open_fd(openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
}

void segment_reader__close(struct segment_reader *r)
{
	if (!r)
		return;
	if (r->z_ready)
		inflateEnd(&r->z);
	close(r->fd);
	free(r->buf);
	free(r);
}

const char *segment_reader__error(const struct segment_reader *r)
{
	return r->err;
}

int segment_reader__unclean_end(const struct segment_reader *r)
{
	return r->unclean_end;
}

int segment_reader__truncated(const struct segment_reader *r)
{
	return r->truncated;
}

uint64_t segment_reader__offset(const struct segment_reader *r)
{
	return r->offset;
}

static int fail(struct segment_reader *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct segment_reader *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return err;
}

static int reserve(struct segment_reader *r, size_t extra)
{
	if (r->pos > 0 && r->pos == r->len)
		r->pos = r->len = 0;
	if (r->pos > 0 && r->len + extra > r->cap) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len + extra > r->cap) {
		size_t cap = r->cap ? r->cap : IN_CHUNK * 4;
		uint8_t *b;

		while (cap < r->len + extra)
			cap *= 2;
		b = realloc(r->buf, cap);
		if (!b)
			return -ENOMEM;
		r->buf = b;
		r->cap = cap;
	}
	return 0;
}

static ssize_t read_in(struct segment_reader *r, uint8_t *dst, size_t n)
{
	for (;;) {
		ssize_t got = read(r->fd, dst, n);

		if (got < 0 && errno == EINTR)
			continue;
		return got < 0 ? -errno : got;
	}
}

/* Appends more decompressed bytes to buf. 1 if some were added, 0 at end, -errno. */
static int fill(struct segment_reader *r)
{
	int err = reserve(r, IN_CHUNK);
	ssize_t got;

	if (err)
		return fail(r, err, "out of memory");
	if (r->gzip == 0) {
		got = read_in(r, r->buf + r->len, IN_CHUNK);
		if (got < 0)
			return fail(r, (int)got, "read: %s", strerror((int)-got));
		r->len += (size_t)got;
		return got > 0;
	}
	for (;;) {
		size_t before;
		int zr;

		if (r->z.avail_in == 0 && !r->in_eof) {
			got = read_in(r, r->in, sizeof(r->in));
			if (got < 0)
				return fail(r, (int)got, "read: %s", strerror((int)-got));
			if (got == 0)
				r->in_eof = 1;
			r->z.next_in = r->in;
			r->z.avail_in = (uInt)got;
		}
		if (r->z_end) {
			if (r->z.avail_in == 0)
				return 0; /* clean end after a complete member */
			/* Another gzip member follows (concatenated segments). */
			inflateReset(&r->z);
			r->z_end = 0;
		}
		if (r->z.avail_in == 0 && r->in_eof) {
			/* Input ended inside a gzip member: the writer never closed it. */
			r->unclean_end = 1;
			return 0;
		}
		before = r->len;
		r->z.next_out = r->buf + r->len;
		r->z.avail_out = (uInt)(r->cap - r->len);
		zr = inflate(&r->z, Z_NO_FLUSH);
		r->len = r->cap - r->z.avail_out;
		if (zr == Z_STREAM_END)
			r->z_end = 1;
		else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			r->inflate_failed = 1;
			return fail(r, -EBADMSG, "corrupt gzip data after byte %" PRIu64
				    " of the decompressed stream: %s",
				    r->offset + (r->len - r->pos), r->z.msg ? r->z.msg : "inflate error");
		}
		if (r->len > before)
			return 1;
	}
}

static int detect(struct segment_reader *r)
{
	ssize_t got = 0;

	/* Two bytes tell gzip from raw; a pipe may deliver them one at a time. */
	while (got < 2) {
		ssize_t n = read_in(r, r->in + got, (size_t)(2 - got));

		if (n < 0)
			return fail(r, (int)n, "read: %s", strerror((int)-n));
		if (n == 0)
			break;
		got += n;
	}
	if (got == 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
		r->gzip = 1;
		/* windowBits 15 + 32: accept gzip or zlib headers. */
		if (inflateInit2(&r->z, 15 + 32) != Z_OK)
			return fail(r, -ENOMEM, "out of memory");
		r->z_ready = 1;
		r->z.next_in = r->in;
		r->z.avail_in = 2;
		return 0;
	}
	r->gzip = 0;
	if (got > 0) {
		int err = reserve(r, (size_t)got);

		if (err)
			return fail(r, err, "out of memory");
		memcpy(r->buf, r->in, (size_t)got);
		r->len = (size_t)got;
	}
	return 0;
}

int segment_reader__next_raw(struct segment_reader *r, const uint8_t **body, size_t *len,
			     uint64_t *offset)
{
	uint64_t blen;
	int n, err;

	*body = NULL;
	*len = 0;
	*offset = r->offset;
	if (r->gzip < 0 && (err = detect(r)))
		return err;
	/* The varint length prefix. */
	for (;;) {
		n = varint__get(r->buf + r->pos, r->len - r->pos, &blen);
		if (n < 0)
			return fail(r, -EBADMSG, "corrupt batch length at byte %" PRIu64, r->offset);
		if (n > 0)
			break;
		err = fill(r);
		if (err < 0)
			return err;
		if (err == 0) {
			if (r->len == r->pos)
				return 0;
			r->truncated = 1;
			return fail(r, -EBADMSG, "truncated batch length at byte %" PRIu64, r->offset);
		}
	}
	/* Before a byte of it is buffered: a decompression bomb stops here. */
	if (blen > BATCH_MAX_BYTES)
		return fail(r, -E2BIG, "batch at byte %" PRIu64 " claims %" PRIu64
			    " bytes decompressed (limit %u, which no agent reaches): corrupt or crafted",
			    r->offset, blen, BATCH_MAX_BYTES);
	while (r->len - r->pos < (size_t)n + blen) {
		err = fill(r);
		if (err < 0)
			return err;
		if (err == 0) {
			r->truncated = 1;
			return fail(r, -EBADMSG, "truncated batch at byte %" PRIu64 ": %" PRIu64
				    " of %" PRIu64 " bytes present", r->offset,
				    (uint64_t)(r->len - r->pos - (size_t)n), blen);
		}
	}
	*body = r->buf + r->pos + n;
	*len = (size_t)blen;
	r->pos += (size_t)n + blen;
	r->offset += (uint64_t)n + blen;
	r->batches++;
	return 1;
}

/*
 * A file that fails at its very first batch is most likely not a segment at all (the
 * store's chain.state, a log, a key): saying "truncated batch at byte 0" would send the
 * reader looking for damage. Read errors and memory are still themselves.
 */
static int not_a_segment(struct segment_reader *r, int rc)
{
	char why[sizeof(r->err)];

	if (rc != -EBADMSG || r->offset_failed != 0)
		return rc;
	/* A gzip segment cut inside its first batch is a segment, and its message says so:
	 * what there is of the batch starts like one (the tag of a Batch field). */
	if (r->gzip == 1 && r->truncated) {
		uint64_t blen;
		int n = varint__get(r->buf + r->pos, r->len - r->pos, &blen);
		uint8_t tag = n > 0 && r->len - r->pos > (size_t)n ? r->buf[r->pos + (size_t)n] : 0;

		if (n <= 0 || tag == 0 || tag == 0x0a || tag == 0x12 || tag == 0x1a || tag == 0x22 ||
		    tag == 0x2a)
			return rc;
	}
	if (r->inflate_failed)
		return rc; /* damaged compressed data: a segment's, for all we know */
	snprintf(why, sizeof(why), "%s", r->err);
	return fail(r, rc, "not a segment file: %s (%s); segment files are the data dir's "
		    "seg-*.seg.gz: read one of them, or the data dir", r->gzip ?
		    "a gzip stream, but what it holds does not start with a record batch" :
		    "it starts with neither a gzip header nor a record batch", why);
}

int segment_reader__next(struct segment_reader *r, Firstlight__V1__Batch **out)
{
	const uint8_t *body;
	struct batchwire w;
	uint64_t offset;
	size_t len;
	int rc;

	*out = NULL;
	rc = segment_reader__next_raw(r, &body, &len, &offset);
	r->offset_failed = offset;
	if (rc < 0)
		return not_a_segment(r, rc);
	if (rc == 0)
		return rc;
	rc = batchwire__scan(body, len, &w);
	if (rc == -E2BIG)
		return fail(r, rc, "batch at byte %" PRIu64 " holds more than %u records (or a header "
			    "over %u bytes), which no agent writes: corrupt or crafted", offset,
			    BATCH_MAX_EVENTS, BATCH_HEADER_MAX);
	*out = rc ? NULL : batchwire__unpack(body, len);
	if (!*out && !rc && errno == E2BIG)
		return fail(r, -E2BIG, "batch at byte %" PRIu64 " would take more than %u MiB to "
			    "unpack, which no agent's batch does: corrupt or crafted", offset,
			    BATCH_UNPACK_MAX >> 20);
	if (!*out)
		return not_a_segment(r, fail(r, -EBADMSG, "batch at byte %" PRIu64 " does not decode",
					     offset));
	return 1;
}
