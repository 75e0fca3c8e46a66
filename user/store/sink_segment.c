/*
 * Segment files: the default, local store. A segment is a gzip stream (so `zcat` works)
 * of length-delimited firstlight.v1.Batch messages. Records are collected into a batch;
 * the batch is closed on every flush tick or at flush_bytes, chained (the previous
 * batch's hash), sealed (its own hash and the node key's signature, see chain.h),
 * compressed into memory as zlib's Z_FULL_FLUSH would (batchzip.h) and written with one
 * write(), then made durable per the policy: fdatasync after every batch by default, or
 * at most every fsync interval. What was written is readable even if the agent is killed before it
 * closes the gzip stream. The full flush makes each batch's compressed bytes stand alone
 * (raw deflate, no reference to the batches before): shipping sends them as they are.
 *
 * A write that fails (disk full, I/O error) is undone (the file is cut back to its last
 * complete batch), the segment is abandoned where it stands, and from then on records
 * are counted as lost, by sequence range, until the policy opens the next segment; that
 * segment's header says why the previous one ended, so the chain stays whole.
 *
 * A batch is stored once fdatasync returned and the bytes read back from the device as
 * written (store/readback.h: a device can report a write it made only in part). A sync
 * that fails, or a read-back that differs, leaves every batch written since the last good
 * sync unknown: the kernel reports a writeback error once, and the page cache goes on
 * serving the bytes the disk lacks. Those batches are cut from the file, their records
 * counted as lost, and the segment abandoned at the last batch known stored, which the
 * next segment's header names. A batch is handed on (to shipping) once it is stored, so
 * nothing leaves the node that its store then cuts: with an fsync interval, a copy of it
 * waits for the sync that stores it.
 *
 * Files are 0600 in a 0700 directory, opened without following symlinks, never
 * overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "base/array.h"
#include "base/fdio.h"
#include "store/batchzip.h"
#include "store/chain.h"
#include "store/chain_state.h"
#include "base/clock.h"
#include "store/keys.h"
#include "base/log.h"
#include "store/readback.h"
#include "store/sink_segment.h"
#include "base/varint.h"

#define TAG_EVENTS 0x0a    /* Batch.events: field 1, wire type 2 */
#define TAG_PREV_HASH 0x12 /* Batch.prev_hash: field 2 */
#define TAG_HEADER 0x22    /* Batch.header: field 4 */
#define LOSS_RUNS 16
/*
 * Blocks are reserved for the open segment this far ahead of what it holds
 * (fallocate, KEEP_SIZE: the file's size and content are as before). Without it each
 * batch's write allocates blocks, and the fdatasync after it writes the allocator's
 * metadata too: on ext4 that was a fifth of the fdatasync's CPU here (a third of the
 * agent's). What is reserved past the end is given back when the segment closes or is
 * cut back; a killed agent leaves at most this much reserved past its last segment's end,
 * which the next run gives back as it opens the store (store.c).
 * On a nearly full file system nothing is reserved: the agent's writes meet the disk's
 * end as they did, and take no space ahead of need from whoever else writes there.
 */
#define PREALLOC_STEP (1u << 20)
#define PREALLOC_MIN_FREE (64ull << 20) /* free space below which nothing is reserved */

/* A batch written, not yet stored, to be handed on once it is (a copy: see sealed). */
struct held {
	struct held *next;
	struct sealed_batch sb; /* its pointers into bytes, hash and the open segment's name */
	uint8_t hash[CHAIN_HASH_LEN];
	uint8_t bytes[];        /* data, then deflated */
};

struct sink_segment {
	struct sink base;
	int dirfd;
	char run_id[CHAIN_RUN_ID_MAX];
	char node[256];
	char boot_id[40];
	uint64_t flush_bytes;
	uint64_t fsync_interval_ns;
	struct node_key *key; /* not owned */
	void (*sealed)(void *ctx, const struct sealed_batch *b);
	void *sealed_ctx;

	/* The open segment; fd < 0 when there is none (err says why). */
	int fd;
	int err;
	char name[SEGMENT_NAME_MAX];
	uint64_t number, next_number;
	uint64_t first_number; /* this sink's first segment: those before are earlier runs' */
	struct batchzip *zip; /* the open segment's gzip stream */
	uint64_t seg_bytes;   /* compressed bytes in the file: all complete batches */
	uint64_t seg_raw;     /* the same, decompressed */
	uint64_t seg_batches;
	uint64_t opened_mono_ns;
	uint64_t prealloc_end; /* blocks reserved up to here; 0: none */
	int prealloc_off;     /* the file system cannot (EOPNOTSUPP): not again */
	int dirty;            /* written since the last fdatasync */
	uint64_t last_sync_mono_ns;
	int failing;          /* in a streak of failures: log once */

	/* What the last good sync stored (synced and read back as written): the file's
	 * length there, and the chain's end. What came after is not known stored. */
	uint64_t durable_bytes, durable_raw, durable_batches;
	struct chain_pos durable_pos;
	uint32_t unsynced_crc; /* of the bytes written after durable_bytes */
	uint64_t unsynced_records, unsynced_first_seq, unsynced_last_seq;
	uint64_t unsynced_first_ns, unsynced_last_ns;
	int rb_fd;            /* the open segment, read past the page cache; -1: not open */
	int readback_off;     /* the file system cannot: fdatasync's word alone */
	int readback_said;    /* the segment could not be opened to read back: said */
	int named;            /* chain.state names the open segment as the newest */
	struct held *held, *held_tail; /* written since the last sync, oldest first */

	/* The chain: pos is its end (the last batch written); carry is what the header of
	 * the open segment states it continues from, until that header is written. */
	struct chain_pos pos;
	struct chain_pos carry;
	int header_pending;
	uint64_t last_seq_seen;

	/* The batch being built: repeated events, each tagged; then the chain fields. */
	uint8_t *batch;
	size_t batch_len, batch_cap;
	uint32_t batch_events;
	uint64_t batch_first_seq, batch_last_seq, batch_first_ns, batch_last_ns;

	struct sink_loss losses[LOSS_RUNS]; /* not yet taken */
	size_t n_losses;
};

static struct sink_segment *of(struct sink *s)
{
	return (struct sink_segment *)s;
}


/* Counts n records first..last (times t0..t1) as lost, extending the current run. */
static void count_loss(struct sink_segment *ss, uint64_t first, uint64_t last, uint64_t n,
		       uint64_t t0, uint64_t t1, int err)
{
	struct sink_loss *l = ss->n_losses ? &ss->losses[ss->n_losses - 1] : NULL;

	ss->base.lost += n;
	if (!l || (first != l->last_seq + 1 && ss->n_losses < LOSS_RUNS)) {
		l = &ss->losses[ss->n_losses++];
		*l = (struct sink_loss){ .first_seq = first, .first_unix_ns = t0, .err = err };
	}
	/* Contiguous, or no room left for another run: the range grows, count stays exact. */
	l->last_seq = last;
	l->last_unix_ns = t1;
	l->count += n;
}

static void reset_batch(struct sink_segment *ss)
{
	ss->batch_len = 0;
	ss->batch_events = 0;
}

static void close_fd(struct sink_segment *ss)
{
	if (ss->fd >= 0)
		close(ss->fd);
	ss->fd = -1;
	if (ss->rb_fd >= 0)
		close(ss->rb_fd);
	ss->rb_fd = -1;
}

/*
 * A write or sync failed: cut the file back to its last complete batch and leave it as
 * a killed writer would (no gzip trailer; the compressor state no longer matches the
 * file, so the stream cannot go on). A segment without a batch is no evidence: removed,
 * unless chain.state already names it as the newest (a sync failed after its first batch
 * was handed on): then it stays, empty, so that the name chain.state holds is there.
 */
static void abandon(struct sink_segment *ss, int err, const char *what)
{
	if (!ss->failing)
		log_error("segment %s: %s: %s; records are counted as lost until a segment "
			  "can be written again", ss->name, what, strerror(-err));
	ss->failing = 1;
	/* Cut back to seg_bytes, which also gives back the blocks reserved past it; synced,
	 * so that a crash does not bring back the length with what the disk lacks. */
	if (ss->fd >= 0 && (ftruncate(ss->fd, (off_t)ss->seg_bytes) || fdatasync(ss->fd)))
		log_warn("segment %s: cannot cut back to its last complete batch: %s", ss->name,
			 strerror(errno));
	ss->prealloc_end = 0;
	close_fd(ss);
	if (!ss->seg_batches && !ss->named) {
		unlinkat(ss->dirfd, ss->name, 0);
	} else {
		/* The next segment continues from the last batch that made it. */
		ss->carry = ss->pos;
		ss->carry.end = FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__WRITE_FAILED;
		snprintf(ss->carry.detail, sizeof(ss->carry.detail),
			 "%s failed after %llu batches: %s", what,
			 (unsigned long long)ss->seg_batches, strerror(-err));
	}
	ss->err = err;
}

/* Reserves blocks for the next len bytes and well beyond, when not done yet. Best
 * effort: a failure only means the write allocates them itself (or fails itself). Not on
 * a nearly full file system: the last megabytes are not ours to take ahead of need. */
static void prealloc(struct sink_segment *ss, size_t len)
{
	uint64_t want = ss->seg_bytes + len;
	struct statvfs fs;

	if (ss->prealloc_off || want <= ss->prealloc_end)
		return;
	if (fstatvfs(ss->fd, &fs) || (uint64_t)fs.f_bavail * fs.f_frsize < PREALLOC_MIN_FREE)
		return;
	want += PREALLOC_STEP;
	if (fallocate(ss->fd, FALLOC_FL_KEEP_SIZE, (off_t)ss->seg_bytes,
		      (off_t)(want - ss->seg_bytes)) == 0)
		ss->prealloc_end = want;
	else if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EPERM)
		ss->prealloc_off = 1;
}

/* Gives back what was reserved past the segment's end (before it is closed or left). */
static void prealloc_trim(struct sink_segment *ss)
{
	if (ss->prealloc_end > ss->seg_bytes && ftruncate(ss->fd, (off_t)ss->seg_bytes))
		log_debug("segment %s: cannot give back its reserved blocks: %s", ss->name,
			  strerror(errno));
	ss->prealloc_end = 0;
}

/* Hands on the batches held for the sync that stored them, in order. */
static void hand_on_held(struct sink_segment *ss)
{
	while (ss->held) {
		struct held *h = ss->held;

		ss->held = h->next;
		ss->sealed(ss->sealed_ctx, &h->sb);
		free(h);
	}
	ss->held_tail = NULL;
}

/* The held batches were cut from the file: nothing to hand on. */
static void drop_held(struct sink_segment *ss)
{
	while (ss->held) {
		struct held *h = ss->held;

		ss->held = h->next;
		free(h);
	}
	ss->held_tail = NULL;
}

/* A copy of sb to hand on at the sync; 0, or -ENOMEM. */
static int hold(struct sink_segment *ss, const struct sealed_batch *sb)
{
	struct held *h = malloc(sizeof(*h) + sb->len + sb->deflated_len);

	if (!h)
		return -ENOMEM;
	h->next = NULL;
	h->sb = *sb;
	memcpy(h->hash, sb->hash, CHAIN_HASH_LEN);
	h->sb.hash = h->hash;
	memcpy(h->bytes, sb->data, sb->len);
	h->sb.data = h->bytes;
	if (sb->deflated) {
		memcpy(h->bytes + sb->len, sb->deflated, sb->deflated_len);
		h->sb.deflated = h->bytes + sb->len;
	}
	if (ss->held_tail)
		ss->held_tail->next = h;
	else
		ss->held = h;
	ss->held_tail = h;
	return 0;
}

/* The open segment holds bytes nothing has synced yet: their CRC, for the read-back. */
static void wrote(struct sink_segment *ss, const uint8_t *out, size_t len)
{
	if (!ss->readback_off)
		ss->unsynced_crc = readback__crc(ss->unsynced_crc, out, len);
	ss->dirty = 1;
}

/* Everything written so far is stored: the segment may end here if a later sync fails. */
static void mark_durable(struct sink_segment *ss)
{
	ss->durable_bytes = ss->seg_bytes;
	ss->durable_raw = ss->seg_raw;
	ss->durable_batches = ss->seg_batches;
	ss->durable_pos = ss->pos;
	ss->unsynced_crc = 0;
	ss->unsynced_records = 0;
}

/* The file system cannot be read past its cache (no O_DIRECT): said once, and
 * fdatasync's word taken from then on. */
static int readback_unsupported(struct sink_segment *ss)
{
	if (ss->rb_fd >= 0)
		close(ss->rb_fd);
	ss->rb_fd = -1;
	ss->readback_off = 1;
	log_info("store: the data dir's file system cannot be read past its cache (no O_DIRECT): "
		 "batches count as stored on fdatasync's word alone");
	return 0;
}

/* Whether the bytes synced since the last good sync read back from the device as written. */
static int read_back(struct sink_segment *ss)
{
	int err;

	if (ss->readback_off || ss->seg_bytes == ss->durable_bytes)
		return 0;
	if (ss->rb_fd < 0) {
		int fd = readback__open(ss->dirfd, ss->name);

		if (fd == -EOPNOTSUPP)
			return readback_unsupported(ss);
		/* Not opened (out of descriptors, say): nothing said about the disk, so
		 * nothing lost for it; tried again at the next sync. */
		if (fd < 0) {
			if (!ss->readback_said)
				log_warn("segment %s: cannot open it to read back: %s; synced batches "
					 "count as stored on fdatasync's word until it can",
					 ss->name, strerror(-fd));
			ss->readback_said = 1;
			return 0;
		}
		ss->rb_fd = fd;
		ss->readback_said = 0;
	}
	err = readback__check_fd(ss->rb_fd, (off_t)ss->durable_bytes, (off_t)ss->seg_bytes,
				 ss->unsynced_crc);
	if (err == -EOPNOTSUPP)
		return readback_unsupported(ss);
	if (err == -ENOMEM) /* nothing said about the disk */
		return 0;
	if (err && !ss->failing)
		log_error("segment %s: bytes %llu to %llu, synced, %s", ss->name,
			  (unsigned long long)ss->durable_bytes, (unsigned long long)ss->seg_bytes,
			  err == -EIO ? "read back from the disk otherwise than written"
				      : "cannot be read back from the disk");
	return err;
}

/*
 * A sync failed, or what it synced read back otherwise than written: the batches written
 * since the last good sync are cut (see the file comment), their records counted as lost.
 */
static void sync_failed(struct sink_segment *ss, int err, const char *what)
{
	uint64_t n = ss->unsynced_records;

	if (n) {
		count_loss(ss, ss->unsynced_first_seq, ss->unsynced_last_seq, n,
			   ss->unsynced_first_ns, ss->unsynced_last_ns, err);
		ss->base.written -= n;
	}
	ss->seg_bytes = ss->durable_bytes;
	ss->seg_raw = ss->durable_raw;
	ss->seg_batches = ss->durable_batches;
	ss->pos = ss->durable_pos;
	mark_durable(ss);
	drop_held(ss);
	abandon(ss, err, what);
}

static int sync_now(struct sink_segment *ss)
{
	int err;

	if (!ss->dirty || ss->fd < 0)
		return 0;
	if (fdatasync(ss->fd)) {
		err = -errno;
		sync_failed(ss, err, "fdatasync");
		return err;
	}
	err = read_back(ss);
	if (err) {
		sync_failed(ss, err, "read-back");
		return err;
	}
	mark_durable(ss);
	hand_on_held(ss);
	ss->dirty = 0;
	ss->last_sync_mono_ns = clock__mono_ns();
	return 0;
}

/* The durability policy: every batch, or when the interval has passed. */
static int maybe_sync(struct sink_segment *ss)
{
	if (ss->dirty && (!ss->fsync_interval_ns ||
			  clock__mono_ns() - ss->last_sync_mono_ns >= ss->fsync_interval_ns))
		return sync_now(ss);
	return 0;
}

/* Appends the packed SegmentHeader of the open segment to the batch. */
static int append_header(struct sink_segment *ss)
{
	Firstlight__V1__SegmentHeader h = FIRSTLIGHT__V1__SEGMENT_HEADER__INIT;
	struct timespec now;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &now);
	h.format_version = CHAIN_FORMAT_VERSION;
	h.node = ss->node;
	h.agent_run_id = ss->run_id;
	h.boot_id = ss->boot_id;
	h.segment_number = ss->number;
	h.first_seq = ss->batch_events ? ss->batch_first_seq : ss->last_seq_seen + 1;
	h.created_unix_nano = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	h.public_key.data = (uint8_t *)keys__public(ss->key);
	h.public_key.len = KEYS_PUB_LEN;
	h.prev_segment = ss->carry.segment;
	h.prev_run_id = ss->carry.run_id;
	h.prev_last_seq = ss->carry.last_seq;
	h.prev_end = ss->carry.end;
	h.prev_detail = ss->carry.detail;
	h.prev_offset = ss->carry.offset;
	len = firstlight__v1__segment_header__get_packed_size(&h);
	if (ARRAY_GROW(ss->batch, ss->batch_cap, ss->batch_len + 1 + VARINT_MAX + len))
		return -ENOMEM;
	ss->batch[ss->batch_len++] = TAG_HEADER;
	ss->batch_len += varint__put(ss->batch + ss->batch_len, len);
	ss->batch_len += firstlight__v1__segment_header__pack(&h, ss->batch + ss->batch_len);
	return 0;
}

/* Chains, seals, compresses and writes the batch being built; see the file comment. */
static int write_batch(struct sink_segment *ss)
{
	uint8_t prefix[VARINT_MAX], hash[CHAIN_HASH_LEN];
	const uint8_t *out;
	size_t plen, core_len, out_len;
	int err, first;

	err = ARRAY_GROW(ss->batch, ss->batch_cap, ss->batch_len + 2 + CHAIN_HASH_LEN + CHAIN_TRAILER_LEN);
	if (err)
		goto fail;
	if (ss->pos.has_hash) {
		ss->batch[ss->batch_len++] = TAG_PREV_HASH;
		ss->batch[ss->batch_len++] = CHAIN_HASH_LEN;
		memcpy(ss->batch + ss->batch_len, ss->pos.hash, CHAIN_HASH_LEN);
		ss->batch_len += CHAIN_HASH_LEN;
	}
	if (ss->header_pending && (err = append_header(ss)))
		goto fail;
	core_len = ss->batch_len;
	err = ARRAY_GROW(ss->batch, ss->batch_cap, core_len + CHAIN_TRAILER_LEN);
	if (!err)
		err = chain__seal(ss->key, ss->batch, core_len, ss->batch + core_len, hash);
	if (err)
		goto fail;
	ss->batch_len += CHAIN_TRAILER_LEN;
	plen = varint__put(prefix, ss->batch_len);
	first = ss->seg_batches == 0;
	err = batchzip__chunk(ss->zip, prefix, plen, ss->batch, ss->batch_len);
	out = batchzip__output(ss->zip, &out_len);
	if (!err) {
		prealloc(ss, out_len);
		err = fdio__write_all(ss->fd, out, out_len);
	}
	if (err)
		goto fail;

	wrote(ss, out, out_len);
	ss->seg_bytes += out_len;
	ss->seg_raw += plen + ss->batch_len;
	ss->seg_batches++;
	ss->header_pending = 0;
	ss->failing = 0;
	ss->base.written += ss->batch_events;
	if (ss->batch_events) {
		if (!ss->unsynced_records) {
			ss->unsynced_first_seq = ss->batch_first_seq;
			ss->unsynced_first_ns = ss->batch_first_ns;
		}
		ss->unsynced_records += ss->batch_events;
		ss->unsynced_last_seq = ss->batch_last_seq;
		ss->unsynced_last_ns = ss->batch_last_ns;
	}
	ss->pos.has_hash = 1;
	memcpy(ss->pos.hash, hash, CHAIN_HASH_LEN);
	snprintf(ss->pos.segment, sizeof(ss->pos.segment), "%s", ss->name);
	snprintf(ss->pos.run_id, sizeof(ss->pos.run_id), "%s", ss->run_id);
	if (ss->batch_events)
		ss->pos.last_seq = ss->batch_last_seq;
	ss->pos.offset = ss->seg_raw;
	/* Stored (or left to the fsync interval) before it is handed on. */
	err = maybe_sync(ss);
	if (!err && ss->sealed) {
		/* The segment's first output starts with the gzip header (10 bytes: no name). */
		size_t skip = first ? BATCHZIP_HEADER_LEN : 0;
		struct sealed_batch sb = {
			.segment = ss->name,
			.number = ss->number,
			.index = ss->seg_batches - 1,
			.data = ss->batch,
			.len = ss->batch_len,
			.hash = hash,
			.first_seq = ss->batch_events ? ss->batch_first_seq : 0,
			.last_seq = ss->batch_events ? ss->batch_last_seq : 0,
			.unix_ns = clock__unix_ns(),
		};

		if (out_len > skip && (!first || (out[0] == 0x1f && out[1] == 0x8b))) {
			sb.deflated = out + skip;
			sb.deflated_len = out_len - skip;
		}

		/* Not stored yet (the fsync interval): a copy waits for the sync. Without
		 * memory for one, stored now (a failed sync cuts it: not handed on). */
		if (!ss->dirty)
			ss->sealed(ss->sealed_ctx, &sb);
		else if (hold(ss, &sb) && !(err = sync_now(ss)))
			ss->sealed(ss->sealed_ctx, &sb);
	}
	reset_batch(ss);
	/*
	 * Named as the newest once it holds a batch (a segment abandoned before that is
	 * removed, and must not be missed at the next start). chain.state is a cache and a
	 * witness only (chain_state.h): failing to update it is not fatal.
	 */
	if (!err && !ss->named) {
		int serr = chain_state__opened(ss->dirfd, ss->name);

		if (serr)
			log_debug("%s: %s", CHAIN_STATE_FILE, strerror(-serr));
		ss->named = 1;
	}
	return err;
fail:
	if (ss->batch_events)
		count_loss(ss, ss->batch_first_seq, ss->batch_last_seq, ss->batch_events,
			   ss->batch_first_ns, ss->batch_last_ns, err);
	reset_batch(ss);
	abandon(ss, err, "write");
	return err;
}

static int segment_flush(struct sink *s)
{
	struct sink_segment *ss = of(s);

	if (ss->fd < 0)
		return ss->err; /* records were counted as lost as they came */
	if (ss->batch_events || ss->header_pending)
		return write_batch(ss);
	return maybe_sync(ss);
}

static int segment_write(struct sink *s, const Event *ev, const uint8_t *packed, size_t len)
{
	struct sink_segment *ss = of(s);

	if (ev->seq > ss->last_seq_seen)
		ss->last_seq_seen = ev->seq;
	if (ss->fd < 0) {
		count_loss(ss, ev->seq, ev->seq, 1, ev->time_unix_nano, ev->time_unix_nano, ss->err);
		return ss->err;
	}
	if (ARRAY_GROW(ss->batch, ss->batch_cap, ss->batch_len + 1 + VARINT_MAX + len)) {
		count_loss(ss, ev->seq, ev->seq, 1, ev->time_unix_nano, ev->time_unix_nano, -ENOMEM);
		return -ENOMEM;
	}
	if (!ss->batch_events) {
		ss->batch_first_seq = ev->seq;
		ss->batch_first_ns = ev->time_unix_nano;
	}
	ss->batch_last_seq = ev->seq;
	ss->batch_last_ns = ev->time_unix_nano;
	ss->batch[ss->batch_len++] = TAG_EVENTS;
	ss->batch_len += varint__put(ss->batch + ss->batch_len, len);
	memcpy(ss->batch + ss->batch_len, packed, len);
	ss->batch_len += len;
	ss->batch_events++;
	return ss->batch_len >= ss->flush_bytes ? write_batch(ss) : 0;
}

/* Ends the open segment cleanly: its last batch, the gzip trailer, fdatasync, close. */
static int close_segment(struct sink_segment *ss)
{
	int err = segment_flush(&ss->base);
	const uint8_t *out;
	size_t out_len;

	if (ss->fd < 0)
		return err;
	err = batchzip__finish(ss->zip);
	out = batchzip__output(ss->zip, &out_len);
	if (!err)
		err = fdio__write_all(ss->fd, out, out_len);
	if (err) {
		abandon(ss, err, "gzip trailer");
		return err;
	}
	wrote(ss, out, out_len);
	ss->seg_bytes += out_len;
	prealloc_trim(ss);
	err = sync_now(ss);
	if (err)
		return err;
	close_fd(ss);
	return 0;
}

static int open_segment(struct sink_segment *ss)
{
	int err = 0;

	/* A name already taken (a clock that went back, a copy) is skipped, not reused. */
	for (int tries = 0; tries < 100; tries++) {
		ss->number = ss->next_number++;
		store_dir__segment_name(ss->name, ss->number, time(NULL), ss->run_id);
		ss->fd = openat(ss->dirfd, ss->name,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (ss->fd >= 0 || errno != EEXIST)
			break;
	}
	if (ss->fd < 0) {
		err = -errno;
		goto fail;
	}
	/*
	 * Level 1 (batchzip.c): the agent profile showed zlib at level 6 as over half of its
	 * CPU; level 1 costs a fraction of that for records that are mostly repeated field
	 * tags and ids (make bench-store: 6.7 -> 4.7 ms CPU per 1,000 records in batches of
	 * 100, 4.4 -> 2.4 in batches of 1,000; 28-30 -> 30-33 bytes per record on disk), and
	 * libdeflate's level 1 a third of zlib's at the same size.
	 */
	batchzip__start(ss->zip);
	/* The name must survive a power loss as much as the batches will. */
	err = store_dir__fsync(ss->dirfd);
	if (err)
		goto fail;
	ss->seg_bytes = ss->seg_raw = ss->seg_batches = 0;
	ss->prealloc_end = 0;
	ss->opened_mono_ns = ss->last_sync_mono_ns = clock__mono_ns();
	ss->dirty = 0;
	ss->named = 0;
	mark_durable(ss);
	ss->header_pending = 1;
	ss->err = 0;
	return 0;
fail:
	if (!ss->failing)
		log_error("segment %s: cannot create it: %s; records are counted as lost until "
			  "a segment can be written again", ss->name, strerror(-err));
	ss->failing = 1;
	if (ss->fd >= 0)
		unlinkat(ss->dirfd, ss->name, 0);
	close_fd(ss);
	ss->err = err;
	return err;
}

int sink_segment__next(struct sink *s)
{
	struct sink_segment *ss = of(s);

	if (ss->fd >= 0 && !close_segment(ss)) {
		ss->carry = ss->pos;
		ss->carry.end = FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__ROTATED;
		ss->carry.detail[0] = 0;
	}
	return open_segment(ss);
}

int sink_segment__sync(struct sink *s)
{
	struct sink_segment *ss = of(s);
	int err = segment_flush(s);

	return err ? err : (ss->fd < 0 ? ss->err : sync_now(ss));
}

void sink_segment__status(struct sink *s, struct segment_status *st)
{
	struct sink_segment *ss = of(s);

	memset(st, 0, sizeof(*st));
	st->open = ss->fd >= 0;
	st->err = ss->err;
	snprintf(st->name, sizeof(st->name), "%s", ss->name);
	st->bytes = ss->seg_bytes;
	st->batches = ss->seg_batches;
	st->opened_mono_ns = ss->opened_mono_ns;
	st->first_number = ss->first_number;
}

size_t sink_segment__take_losses(struct sink *s, struct sink_loss *out, size_t max)
{
	struct sink_segment *ss = of(s);
	size_t n = ss->n_losses < max ? ss->n_losses : max;

	memcpy(out, ss->losses, n * sizeof(*out));
	memmove(ss->losses, ss->losses + n, (ss->n_losses - n) * sizeof(*out));
	ss->n_losses -= n;
	return n;
}

void sink_segment__return_losses(struct sink *s, const struct sink_loss *l, size_t n)
{
	struct sink_segment *ss = of(s);
	struct sink_loss all[2 * LOSS_RUNS];
	size_t total;

	if (n > LOSS_RUNS)
		n = LOSS_RUNS;
	memcpy(all, l, n * sizeof(*l));
	memcpy(all + n, ss->losses, ss->n_losses * sizeof(*l));
	/* No room for every run: the newest merge, their count staying exact. */
	for (total = n + ss->n_losses; total > LOSS_RUNS; total--) {
		all[total - 2].last_seq = all[total - 1].last_seq;
		all[total - 2].last_unix_ns = all[total - 1].last_unix_ns;
		all[total - 2].count += all[total - 1].count;
	}
	memcpy(ss->losses, all, total * sizeof(*l));
	ss->n_losses = total;
}

static void segment_free(struct sink *s)
{
	struct sink_segment *ss = of(s);

	if (ss->fd >= 0 && !close_segment(ss)) {
		int err = chain_state__closed(ss->dirfd, &ss->pos, ss->seg_bytes);

		if (err)
			log_warn("%s: %s", CHAIN_STATE_FILE, strerror(-err));
	}
	close_fd(ss);
	drop_held(ss);
	if (ss->dirfd >= 0)
		close(ss->dirfd);
	batchzip__free(ss->zip);
	free(ss->batch);
	free(ss);
}

struct sink *sink_segment__new(const struct segment_opts *opts, int *err)
{
	struct sink_segment *ss = calloc(1, sizeof(*ss));
	struct seg_entry *segs = NULL;
	size_t n = 0;

	if (!ss) {
		*err = -ENOMEM;
		return NULL;
	}
	ss->base.name = "segment";
	ss->base.write = segment_write;
	ss->base.flush = segment_flush;
	ss->base.free = segment_free;
	ss->fd = -1;
	ss->rb_fd = -1;
	ss->key = opts->key;
	ss->sealed = opts->sealed;
	ss->sealed_ctx = opts->sealed_ctx;
	ss->flush_bytes = opts->flush_bytes ? opts->flush_bytes : 256 * 1024;
	ss->fsync_interval_ns = opts->fsync_interval_ns;
	ss->readback_off = !opts->readback;
	snprintf(ss->run_id, sizeof(ss->run_id), "%s", opts->run_id);
	snprintf(ss->node, sizeof(ss->node), "%s", opts->node ? opts->node : "");
	snprintf(ss->boot_id, sizeof(ss->boot_id), "%s", opts->boot_id ? opts->boot_id : "");
	if (opts->resume) {
		ss->pos = *opts->resume;
	} else {
		ss->pos.end = FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__GENESIS;
	}
	ss->carry = ss->pos;
	ss->zip = batchzip__new(0);
	if (!ss->zip) {
		*err = -errno;
		ss->dirfd = -1;
		goto fail;
	}
	ss->dirfd = store_dir__open(opts->dir);
	if (ss->dirfd < 0) {
		*err = ss->dirfd;
		goto fail;
	}
	/* Numbers go on from the highest present, whatever the state file says. */
	*err = store_dir__list(ss->dirfd, &segs, &n);
	if (*err)
		goto fail;
	ss->next_number = ss->first_number = n ? segs[n - 1].number + 1 : 1;
	free(segs);
	*err = open_segment(ss);
	/* A full disk at start is a loss to count, like later; anything else is fatal. */
	if (*err && *err != -ENOSPC && *err != -EDQUOT)
		goto fail;
	return &ss->base;
fail:
	segment_free(&ss->base);
	return NULL;
}
