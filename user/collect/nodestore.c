/* One node's folder in the collector's store; see nodestore.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/fdio.h"
#include "base/log.h"
#include "base/varint.h"
#include "collect/nodestore.h"
#include "store/readback.h"
#include "store/segment_reader.h"
#include "store/store_dir.h"

/* More than the collector fetches at once: a redelivery is always among these. */
#define RECENT 512
#define READ_CHUNK (64 * 1024)

struct nodestore {
	int dirfd;
	char token[SEGMENT_NAME_MAX * 13]; /* for messages */
	int fd;                            /* the segment file being appended to, or -1 */
	int dirty;                         /* fd written since its last fdatasync */
	int dir_dirty;                     /* a file created since the directory's last fsync */
	char segment[SEGMENT_NAME_MAX];
	uint8_t recent[RECENT][CHAIN_HASH_LEN];
	size_t n_recent, next_recent;
	int have_last;
	uint8_t last[CHAIN_HASH_LEN];
	/* What the last fdatasync made durable: the file's length, the last hash, and how
	 * many remembered since (a failed sync forgets them, see undo_unsynced). */
	off_t durable_len;
	uint32_t unsynced_crc;             /* of the bytes appended since durable_len */
	int readback_off;                  /* the file system cannot read past its cache */
	int readback_said;                 /* a failed read-back logged, none good since */
	size_t unsynced;
	int durable_have_last;
	uint8_t durable_last[CHAIN_HASH_LEN];
	uint64_t undone;                   /* how many times a failed sync forgot batches */
	/* A file whose sync failed, to be copied to a fresh one (see rewrite_durable). */
	int redo;
	char redo_name[SEGMENT_NAME_MAX];
	off_t redo_len;
	uint8_t *out;                      /* one member, compressed */
	size_t out_cap;
	/* nodestore__holds: the hashes of one file read whole, kept for the batches after
	 * (a store shipped again comes file by file); forgotten when that file grows. */
	char scanned[SEGMENT_NAME_MAX];
	uint8_t (*scanned_hashes)[CHAIN_HASH_LEN];
	size_t n_scanned, cap_scanned;
};

static void remember(struct nodestore *n, const uint8_t hash[CHAIN_HASH_LEN])
{
	memcpy(n->recent[n->next_recent], hash, CHAIN_HASH_LEN);
	n->next_recent = (n->next_recent + 1) % RECENT;
	if (n->n_recent < RECENT)
		n->n_recent++;
	memcpy(n->last, hash, CHAIN_HASH_LEN);
	n->have_last = 1;
	n->unsynced++;
}

/* What is remembered now is durable. */
static void mark_durable(struct nodestore *n, off_t len)
{
	n->durable_len = len;
	n->unsynced_crc = 0;
	n->unsynced = 0;
	n->durable_have_last = n->have_last;
	memcpy(n->durable_last, n->last, CHAIN_HASH_LEN);
}

/*
 * Whether bytes [from, to) of name, synced, read back from the disk as written (crc):
 * see store/readback.h for the device that says a write it stored in part is stored.
 * 0, or -EIO (said) when they do not. Where nothing can be read past the cache, said once
 * and taken on fdatasync's word. A device that goes on failing is said once, until a
 * read-back succeeds (a copy is tried again before every append).
 */
static int reads_back(struct nodestore *n, const char *name, off_t from, off_t to, uint32_t crc)
{
	int err;

	if (n->readback_off)
		return 0;
	err = readback__check(n->dirfd, name, from, to, crc);
	if (err == -EOPNOTSUPP) {
		n->readback_off = 1;
		log_warn("collect: %s: the file system cannot read past its cache (O_DIRECT): batches are "
			 "taken as stored on fdatasync's word alone", n->token);
		return 0;
	}
	if (!err || n->readback_said) {
		n->readback_said = err != 0;
		return err;
	}
	n->readback_said = 1;
	if (err == -EIO)
		log_error("collect: %s/%s: bytes %lld to %lld, synced, read back from the disk otherwise than "
			  "written (a device that acknowledged a write it did not make)",
			  n->token, name, (long long)from, (long long)to);
	else
		log_error("collect: %s/%s: reading back bytes %lld to %lld: %s", n->token, name,
			  (long long)from, (long long)to, strerror(-err));
	return err;
}

/*
 * The durable part of a file whose sync failed, copied to a fresh file that takes its
 * name. Its inode is not written to again: ext4 leaves the blocks whose writeback failed
 * as unwritten extents, and data written there again, even synced without error, read
 * back as zeros once the cache is gone (seen with a thin backing store that ran out).
 * The durable part is read back as it is (from the cache, or from the disk that holds
 * it), and the copy from the disk once synced. 0, or -errno and the copy is tried again
 * before the next append.
 */
static int rewrite_durable(struct nodestore *n)
{
	char tmp[SEGMENT_NAME_MAX + 8];
	uint8_t *buf = NULL;
	int src = -1, dst = -1, err = 0;
	uint32_t crc = 0;
	off_t done = 0;

	snprintf(tmp, sizeof(tmp), "%s.redo", n->redo_name); /* not a segment name: no reader lists it */
	src = openat(n->dirfd, n->redo_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	dst = src < 0 ? -1 : openat(n->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	buf = dst < 0 ? NULL : malloc(READ_CHUNK);
	if (!buf) {
		err = src < 0 || dst < 0 ? -errno : -ENOMEM;
		goto out;
	}
	while (done < n->redo_len) {
		size_t want = n->redo_len - done < READ_CHUNK ? (size_t)(n->redo_len - done) : READ_CHUNK;
		ssize_t got = pread(src, buf, want, done);

		if (got <= 0) {
			err = got < 0 ? -errno : -EIO;
			goto out;
		}
		if ((err = fdio__write_all(dst, buf, (size_t)got)))
			goto out;
		crc = readback__crc(crc, buf, (size_t)got);
		done += got;
	}
	if (fdatasync(dst)) {
		err = -errno;
		goto out;
	}
	if ((err = reads_back(n, tmp, 0, done, crc)))
		goto out;
	if (renameat(n->dirfd, tmp, n->dirfd, n->redo_name)) {
		err = -errno;
		goto out;
	}
	err = store_dir__fsync(n->dirfd);
	if (!err) {
		n->redo = 0;
		log_info("collect: %s/%s: its %lld bytes stored before the failed sync copied to a fresh file",
			 n->token, n->redo_name, (long long)n->redo_len);
	}
out:
	if (err && dst >= 0)
		unlinkat(n->dirfd, tmp, 0);
	if (dst >= 0)
		close(dst);
	if (src >= 0)
		close(src);
	free(buf);
	return err;
}

/*
 * A failed fdatasync: which of the batches written since the last good one reached the
 * disk is not known, and a later fdatasync would not say (the kernel reports a writeback
 * error once; the pages may stay in the cache, clean, and read back as if stored). So
 * they are forgotten and cut from the file: when they come again they are not taken for
 * batches held already, they are written again, into a fresh copy of the file's durable
 * part (rewrite_durable).
 */
static void undo_unsynced(struct nodestore *n)
{
	size_t k = n->unsynced < n->n_recent ? n->unsynced : n->n_recent;

	if (ftruncate(n->fd, n->durable_len))
		log_warn("collect: %s/%s: could not cut the batches whose sync failed: %s", n->token, n->segment,
			 strerror(errno));
	close(n->fd);
	n->fd = -1;
	n->dirty = 0;
	n->redo = 1;
	snprintf(n->redo_name, sizeof(n->redo_name), "%s", n->segment);
	n->redo_len = n->durable_len;
	(void)rewrite_durable(n); /* the disk may still refuse: tried again before the next append */
	n->segment[0] = '\0';
	n->scanned[0] = '\0';
	n->next_recent = (n->next_recent + RECENT - k) % RECENT;
	n->n_recent -= k;
	n->unsynced = 0;
	n->have_last = n->durable_have_last;
	memcpy(n->last, n->durable_last, CHAIN_HASH_LEN);
	n->undone++;
}

/*
 * The byte length of fd's complete gzip members, from the start: where a member cut by a
 * crash begins (or the file's size when none is cut). -errno when the file is not gzip.
 */
static off_t complete_members(int fd)
{
	uint8_t *in = malloc(READ_CHUNK), *out = malloc(READ_CHUNK);
	z_stream z = { 0 };
	off_t pos = 0, good = 0;
	int rc = Z_OK, started = 0;

	if (!in || !out || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(in);
		free(out);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t got = pread(fd, in, READ_CHUNK, pos);

		if (got < 0) {
			good = -errno;
			started = 0;
			pos = good;
			break;
		}
		if (!got)
			break;
		z.next_in = in;
		z.avail_in = (uInt)got;
		while (z.avail_in) {
			z.next_out = out;
			z.avail_out = READ_CHUNK;
			rc = inflate(&z, Z_NO_FLUSH);
			started = 1;
			if (rc == Z_STREAM_END) {
				good = pos + (off_t)(got - z.avail_in);
				inflateReset(&z);
				started = 0;
			} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
				inflateEnd(&z);
				free(in);
				free(out);
				return good ? good : -EBADMSG;
			} else if (rc == Z_BUF_ERROR && !z.avail_in) {
				break;
			}
		}
		pos += got;
	}
	inflateEnd(&z);
	free(in);
	free(out);
	return started ? good : pos;
}

/* The newest segment file: cut back to its complete members, its batches' hashes read. */
static int recover(struct nodestore *n)
{
	struct seg_entry *segs = NULL;
	struct segment_reader *r;
	const uint8_t *body;
	uint64_t off;
	size_t cnt = 0, len;
	off_t good;
	int fd, rc, err = 0;

	err = store_dir__list(n->dirfd, &segs, &cnt);
	if (err || !cnt) {
		free(segs);
		return err;
	}
	/* The two newest: the last hashes may straddle a segment boundary. */
	for (size_t i = cnt > 1 ? cnt - 2 : 0; i < cnt && !err; i++) {
		if (i == cnt - 1) {
			fd = openat(n->dirfd, segs[i].name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				err = -errno;
				break;
			}
			good = complete_members(fd);
			if (good >= 0 && good < (off_t)segs[i].bytes) {
				log_warn("collect: %s/%s: cutting a batch left half-written by a crash (%lld of %llu bytes kept)",
					 n->token, segs[i].name, (long long)good, (unsigned long long)segs[i].bytes);
				if (ftruncate(fd, good) || fdatasync(fd))
					err = -errno;
			}
			close(fd);
		}
		r = segment_reader__openat(n->dirfd, segs[i].name);
		if (!r) {
			err = -errno;
			break;
		}
		while ((rc = segment_reader__next_raw(r, &body, &len, &off)) > 0) {
			size_t core;
			const uint8_t *hash, *sig;

			if (!chain__split(body, len, &core, &hash, &sig))
				remember(n, hash);
		}
		segment_reader__close(r);
	}
	free(segs);
	return err;
}

struct nodestore *nodestore__open(int store_dirfd, const char *token, int *err)
{
	struct nodestore *n = calloc(1, sizeof(*n));

	if (!n) {
		*err = -ENOMEM;
		return NULL;
	}
	n->fd = -1;
	snprintf(n->token, sizeof(n->token), "%s", token);
	if (mkdirat(store_dirfd, token, 0700) && errno != EEXIST) {
		*err = -errno;
		goto fail;
	}
	n->dirfd = openat(store_dirfd, token, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (n->dirfd < 0) {
		*err = -errno;
		goto fail;
	}
	*err = recover(n);
	if (*err)
		goto fail;
	mark_durable(n, 0); /* what the files hold; durable_len is set when one is opened */
	return n;
fail:
	if (n->dirfd > 0)
		close(n->dirfd);
	free(n);
	return NULL;
}

void nodestore__free(struct nodestore *n)
{
	if (!n)
		return;
	if (n->fd >= 0)
		close(n->fd);
	close(n->dirfd);
	free(n->out);
	free(n->scanned_hashes);
	free(n);
}

/* The batch hashes of the file named segment, into n->scanned_hashes. */
static int scan(struct nodestore *n, const char *segment)
{
	struct segment_reader *r;
	const uint8_t *body;
	uint64_t off;
	size_t len;
	int rc;

	n->scanned[0] = '\0';
	n->n_scanned = 0;
	r = segment_reader__openat(n->dirfd, segment);
	if (!r)
		return errno == ENOENT ? 0 : -errno;
	while ((rc = segment_reader__next_raw(r, &body, &len, &off)) > 0) {
		size_t core;
		const uint8_t *hash, *sig;

		if (chain__split(body, len, &core, &hash, &sig))
			continue;
		if (n->n_scanned == n->cap_scanned) {
			size_t cap = n->cap_scanned ? 2 * n->cap_scanned : 64;
			void *h = realloc(n->scanned_hashes, cap * CHAIN_HASH_LEN);

			if (!h) {
				segment_reader__close(r);
				return -ENOMEM;
			}
			n->scanned_hashes = h;
			n->cap_scanned = cap;
		}
		memcpy(n->scanned_hashes[n->n_scanned++], hash, CHAIN_HASH_LEN);
	}
	segment_reader__close(r);
	snprintf(n->scanned, sizeof(n->scanned), "%s", segment);
	return 0;
}

int nodestore__holds(struct nodestore *n, const char *segment, const uint8_t hash[CHAIN_HASH_LEN])
{
	int err;

	if (strcmp(n->scanned, segment) && (err = scan(n, segment)))
		return err;
	for (size_t i = 0; i < n->n_scanned; i++)
		if (!memcmp(n->scanned_hashes[i], hash, CHAIN_HASH_LEN))
			return 1;
	return 0;
}

int nodestore__has(const struct nodestore *n, const uint8_t hash[CHAIN_HASH_LEN])
{
	for (size_t i = 0; i < n->n_recent; i++)
		if (!memcmp(n->recent[i], hash, CHAIN_HASH_LEN))
			return 1;
	return 0;
}

const uint8_t *nodestore__last_hash(const struct nodestore *n)
{
	return n->have_last ? n->last : NULL;
}

/* One gzip member of the length prefix and the batch, into n->out. The size. */
static int compress_member(struct nodestore *n, const uint8_t *batch, size_t len, size_t *out_len)
{
	uint8_t prefix[VARINT_MAX];
	size_t plen = varint__put(prefix, len), bound;
	z_stream z = { 0 };
	int rc;

	if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&z, len + plen) + 64;
	if (bound > n->out_cap) {
		uint8_t *o = realloc(n->out, bound);

		if (!o) {
			deflateEnd(&z);
			return -ENOMEM;
		}
		n->out = o;
		n->out_cap = bound;
	}
	z.next_out = n->out;
	z.avail_out = (uInt)n->out_cap;
	z.next_in = prefix;
	z.avail_in = (uInt)plen;
	rc = deflate(&z, Z_NO_FLUSH);
	if (rc == Z_OK) {
		z.next_in = (uint8_t *)batch;
		z.avail_in = (uInt)len;
		rc = deflate(&z, Z_FINISH);
	}
	*out_len = n->out_cap - z.avail_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -EIO;
}

int nodestore__append(struct nodestore *n, const char *segment, const uint8_t *batch, size_t len,
		      const uint8_t hash[CHAIN_HASH_LEN])
{
	size_t out_len;
	off_t before;
	int err = 0, created = 0;

	if (n->redo && (err = rewrite_durable(n)))
		return err;
	if (n->fd < 0 || strcmp(n->segment, segment)) {
		if (n->fd >= 0 && (err = nodestore__sync(n)))
			return err; /* the previous file's batches first */
		if (n->fd >= 0)
			close(n->fd);
		n->fd = -1;
		n->fd = openat(n->dirfd, segment, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (n->fd < 0 && errno == ENOENT) {
			n->fd = openat(n->dirfd, segment, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
				       O_CLOEXEC, 0600);
			created = 1;
		}
		if (n->fd < 0)
			return -errno;
		snprintf(n->segment, sizeof(n->segment), "%s", segment);
		n->durable_len = lseek(n->fd, 0, SEEK_END);
		n->unsynced_crc = 0;
		if (n->durable_len < 0) {
			err = -errno;
			close(n->fd);
			n->fd = -1;
			return err;
		}
	}
	if (!strcmp(n->scanned, segment))
		n->scanned[0] = '\0'; /* it grows: read it again when asked */
	err = compress_member(n, batch, len, &out_len);
	if (err)
		return err;
	before = lseek(n->fd, 0, SEEK_END);
	err = fdio__write_all(n->fd, n->out, out_len);
	n->dirty = 1;
	n->dir_dirty |= created;
	if (err) {
		/* Undone: the batch is not acked and comes again. */
		if (before >= 0 && ftruncate(n->fd, before))
			log_warn("collect: %s/%s: could not undo a failed write", n->token, segment);
		return err;
	}
	n->unsynced_crc = readback__crc(n->unsynced_crc, n->out, out_len);
	remember(n, hash);
	return 0;
}

uint64_t nodestore__undone(const struct nodestore *n)
{
	return n->undone;
}

int nodestore__sync(struct nodestore *n)
{
	if (n->fd >= 0 && n->dirty) {
		off_t len = lseek(n->fd, 0, SEEK_END);

		int err = len < 0 || fdatasync(n->fd) ? -errno : 0;

		if (!err)
			err = reads_back(n, n->segment, n->durable_len, len, n->unsynced_crc);
		if (err) {
			undo_unsynced(n);
			return err;
		}
		n->dirty = 0;
		mark_durable(n, len);
	}
	if (n->dir_dirty) {
		int err = store_dir__fsync(n->dirfd); /* a new file's name must survive a power loss */

		if (err)
			return err;
		n->dir_dirty = 0;
	}
	return 0;
}
