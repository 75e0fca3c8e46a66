/* The segment store's policy around the segment sink; see store.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/chain_state.h"
#include "base/clock.h"
#include "store/keys.h"
#include "base/log.h"
#include "store/retention.h"
#include "store/sink_segment.h"
#include "store/readback.h"
#include "store/store.h"
#include "store/store_dir.h"

#define NS_PER_S 1000000000ull
#define RETRY_NS (1 * NS_PER_S)       /* after a write failure, try a new segment this often */
#define RETENTION_NS (60 * NS_PER_S)  /* between retention checks, besides each rotation */
#define LOSS_RUNS_PER_TICK 16

struct store {
	struct store_opts opts;
	int dirfd;              /* holds the data dir's lock */
	struct node_key *key;
	struct sink *seg;       /* not owned: see store__sink */
	struct store_events ev;
	uint64_t retry_at_ns;
	uint64_t last_retention_ns;
	int retention_due;
	struct chain_pos resumed; /* where the chain went on from at open */
};

void store_opts__defaults(struct store_opts *o)
{
	*o = (struct store_opts){
		.key_path = STORE_DEFAULT_KEY,
		.segment_bytes = 16u << 20,
		.segment_age_ns = 3600 * NS_PER_S,
		.retain_bytes = 1ull << 30,
	};
}


/* Whether to read synced batches back (store_opts.readback), said when it does. */
static int wants_readback(int dirfd, int mode, const char *dir)
{
	struct stat s;

	if (mode == STORE_READBACK_OFF)
		return 0;
	if (mode == STORE_READBACK_ON) {
		log_info("store: every synced batch is read back from the disk (--store-readback on)");
		return 1;
	}
	if (fstat(dirfd, &s) || !readback__device_may_lie(s.st_dev))
		return 0;
	log_info("store: %s is on a loop device (or one built on it), which can report a write it "
		 "made only in part: every synced batch is read back from the disk", dir);
	return 1;
}

/* Says, once at start, where the chain goes on from. */
static void log_resume(const struct chain_pos *pos)
{
	const ProtobufCEnumValue *end = protobuf_c_enum_descriptor_get_value(
		&firstlight__v1__segment_header__prev_end__descriptor, pos->end);

	if (!pos->has_hash)
		log_info("store: a new hash chain starts%s%s", pos->detail[0] ? ": " : "",
			 pos->detail);
	else
		log_info("store: the hash chain goes on from %s (run %.8s, seq %" PRIu64 "; %s)%s%s",
			 pos->segment, pos->run_id, pos->last_seq, end ? end->name : "?",
			 pos->detail[0] ? ": " : "", pos->detail);
}

/*
 * A run killed mid-segment left the blocks its newest segment had reserved ahead of its
 * writes (sink_segment's prealloc) allocated past the file's end: given back here, or
 * every crash of a crash-looping agent would keep disk space that retention, which counts
 * the files' sizes, never sees. Older segments were closed, and trimmed, by their run.
 */
static void trim_newest(int dirfd)
{
	struct seg_entry *segs = NULL;
	size_t n = 0;
	int64_t freed;

	if (store_dir__list(dirfd, &segs, &n) || !n)
		goto out;
	freed = store_dir__trim_reserved(dirfd, segs[n - 1].name);
	if (freed > 0)
		log_info("store: gave back %" PRId64 " KiB reserved past the end of %s by a run "
			 "that did not stop cleanly", freed / 1024, segs[n - 1].name);
	else if (freed < 0)
		log_warn("store: %s: cannot give back the blocks reserved past its end: %s",
			 segs[n - 1].name, strerror((int)-freed));
out:
	free(segs);
}

/* The segment sink's hook, forwarded while someone listens. */
static void on_sealed(void *ctx, const struct sealed_batch *b)
{
	struct store *st = ctx;

	if (st->ev.sealed)
		st->ev.sealed(st->ev.ctx, b);
}

/* Why the data dir cannot be opened, and what to do about it: one line. */
static void log_dir_error(const char *dir, int err)
{
	char *parent = strdup(dir), *slash;
	struct stat st;

	if (err == -ENOENT && parent) {
		/* mkdir made no missing parents: the parent is what is missing. */
		while ((slash = strrchr(parent, '/')) && slash[1] == '\0' && slash != parent)
			*slash = '\0';
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		log_error("data dir %s: its parent directory %s does not exist: create it, or give "
			  "--data-dir a directory whose parent exists", dir, slash ? parent : ".");
	} else if (err == -ELOOP || (err == -ENOTDIR && !lstat(dir, &st) && S_ISLNK(st.st_mode))) {
		log_error("data dir %s: is a symbolic link, which the store does not follow: give "
			  "the directory it points to", dir);
	} else if (err == -ENOTDIR) {
		log_error("data dir %s: Not a directory: give --data-dir a directory (it is created "
			  "if absent)", dir);
	} else {
		log_error("data dir %s: %s", dir, strerror(-err));
	}
	free(parent);
}

struct store *store__open(const char *dir, const struct store_opts *o, const struct store_ident *id,
			  int *err)
{
	struct store *st = calloc(1, sizeof(*st));
	struct segment_opts so;
	struct chain_pos pos;
	uint64_t next_number;
	int created;

	if (!st) {
		*err = -ENOMEM;
		log_error("store: %s", strerror(ENOMEM));
		return NULL;
	}
	st->dirfd = -1;
	st->opts = *o;
	st->dirfd = store_dir__open(dir);
	if (st->dirfd < 0) {
		*err = st->dirfd;
		log_dir_error(dir, *err);
		goto fail;
	}
	*err = store_dir__lock(st->dirfd);
	if (*err) {
		log_error("data dir %s: %s", dir, *err == -EBUSY ?
			  "in use by another firstlight agent (locked): stop it first, or give this one "
			  "another --data-dir" : strerror(-*err));
		goto fail;
	}
	st->key = keys__load_or_create(o->key_path, &created, err);
	if (!st->key)
		goto fail;
	if (created) {
		char hex[KEYS_HEX_LEN];

		keys__hex(keys__public(st->key), hex);
		log_info("store: generated the node key %s (public key %s)", o->key_path, hex);
	}
	*err = chain_state__find_end(st->dirfd, &pos, &next_number);
	if (*err) {
		log_error("data dir %s: finding where the hash chain ends: %s", dir, strerror(-*err));
		goto fail;
	}
	log_resume(&pos);
	st->resumed = pos;
	if (pos.end != FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__STOPPED)
		trim_newest(st->dirfd);
	so = (struct segment_opts){
		.readback = wants_readback(st->dirfd, o->readback, dir),
		.dir = dir,
		.run_id = id->run_id,
		.node = id->node,
		.boot_id = id->boot_id,
		.fsync_interval_ns = o->fsync_interval_ns,
		.key = st->key,
		.resume = &pos,
		.sealed = on_sealed,
		.sealed_ctx = st,
	};
	st->seg = sink_segment__new(&so, err);
	if (!st->seg) {
		log_error("data dir %s: %s", dir, strerror(-*err));
		goto fail;
	}
	st->retention_due = 1;
	return st;
fail:
	store__free(st);
	return NULL;
}

const struct chain_pos *store__resumed(const struct store *st)
{
	return &st->resumed;
}

int store__sync(struct store *st)
{
	return sink_segment__sync(st->seg);
}

uint64_t store__first_segment(struct store *st)
{
	struct segment_status s;

	sink_segment__status(st->seg, &s);
	return s.first_number;
}

struct sink *store__sink(struct store *st)
{
	return st->seg;
}

void store__set_events(struct store *st, const struct store_events *ev)
{
	st->ev = *ev;
}

void store__free(struct store *st)
{
	if (!st)
		return;
	keys__free(st->key);
	if (st->dirfd >= 0)
		close(st->dirfd); /* releases the lock */
	free(st);
}

/*
 * Every run of lost records is reported (a SINK_LOSS gap with its exact range). The runs
 * reported are left in l[] (LOSS_RUNS_PER_TICK), to give back if these records are lost.
 */
static size_t report_losses(struct store *st, struct sink_loss *l)
{
	size_t n;

	if (!st->ev.lost)
		return 0; /* kept until someone writes them down */
	n = sink_segment__take_losses(st->seg, l, LOSS_RUNS_PER_TICK);
	for (size_t i = 0; i < n; i++)
		st->ev.lost(st->ev.ctx, &l[i]);
	return n;
}

/* Flushes the records just emitted; if they were lost, the loss runs they reported
 * are not reported after all. */
static int flush_reports(struct store *st, const struct sink_loss *l, size_t n)
{
	struct segment_status s;

	st->seg->flush(st->seg);
	sink_segment__status(st->seg, &s);
	if (!s.open && n)
		sink_segment__return_losses(st->seg, l, n);
	return s.open ? 0 : s.err;
}

/*
 * A new segment (rotation, or the retry after a write failure). Its header goes first,
 * alone and synced: after a failure that is the test that the disk takes writes again,
 * costing no record. Then the records of what was lost meanwhile, before any later
 * record (a hole in the sequence never reaches the disk without its explanation after
 * it), and the snapshot of live processes.
 */
static int next_segment(struct store *st)
{
	struct sink_loss l[LOSS_RUNS_PER_TICK];
	size_t n;
	int err = sink_segment__next(st->seg);

	if (!err)
		err = sink_segment__sync(st->seg);
	if (err)
		return err;
	n = report_losses(st, l);
	if (st->ev.opened)
		st->ev.opened(st->ev.ctx);
	st->retention_due = 1;
	return flush_reports(st, l, n);
}

/* Retention's record(): the removal goes into the chain and is made durable first. */
static int record_removal(void *ctx, const Firstlight__V1__SegmentRemoved *r, int by_bytes)
{
	struct store *st = ctx;
	uint64_t lost = st->seg->lost;
	int err;

	err = st->ev.removing(st->ev.ctx, r, by_bytes);
	if (!err)
		err = sink_segment__sync(st->seg);
	if (!err && st->seg->lost != lost)
		err = -EIO;
	return err;
}

void store__tick(struct store *st)
{
	struct segment_status s;
	uint64_t now = clock__mono_ns();
	struct retention_policy rp = { st->opts.retain_bytes, st->opts.retain_age_ns };

	sink_segment__status(st->seg, &s);
	if (s.open) {
		/* A segment holding only its first batch (header, snapshot) is not rotated:
		 * an idle node would otherwise write snapshots only. */
		int due = s.batches > 1 &&
			  ((st->opts.segment_bytes && s.bytes >= st->opts.segment_bytes) ||
			   (st->opts.segment_age_ns && now - s.opened_mono_ns >= st->opts.segment_age_ns));

		if (due)
			next_segment(st);
	} else if (now >= st->retry_at_ns) {
		if (next_segment(st))
			st->retry_at_ns = now + RETRY_NS;
		else
			log_info("store: writing again, to a new segment");
	}
	sink_segment__status(st->seg, &s);
	if (!s.open)
		return;
	{
		struct sink_loss l[LOSS_RUNS_PER_TICK];
		size_t n = report_losses(st, l);

		if (n && flush_reports(st, l, n))
			return;
	}
	if (st->ev.removing && (st->retention_due || now - st->last_retention_ns >= RETENTION_NS)) {
		st->retention_due = 0;
		st->last_retention_ns = now;
		retention__apply(st->dirfd, &rp, s.name, record_removal, st);
	}
}

void store__stopping(struct store *st)
{
	st->retry_at_ns = 0;
	st->retention_due = 0;
	st->last_retention_ns = clock__mono_ns();
	store__tick(st);
}
