/* Shipping segment batches to NATS JetStream; see shipper.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/varint.h"
#include "ship/shipper.h"
#include "store/chain.h"
#include "store/segment_reader.h"
#include "store/store_dir.h"
#include "transport/jetstream.h"
#include "transport/subjects.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define QUEUE_DEFAULT (16u << 20)
#define SAVE_EVERY_NS NS_PER_S            /* ship.state: a cache, the server is the truth */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define DUPLICATE_WINDOW_NS (10 * 60 * NS_PER_S)
/* A message carries up to this many batches of one segment, up to this many bytes (well
 * under the server's default max_payload of 1 MiB; a single larger batch goes alone). */
#define BUNDLE_MAX_BATCHES 64
#define BUNDLE_MAX_BYTES (512u * 1024)

const double ship_lag_bounds[SHIP_LAG_BUCKETS - 1] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 60 };

/* A batch's place in the store: its segment's number and its index there. */
struct pos {
	uint64_t number, index;
};

static int pos_cmp(const struct pos *a, const struct pos *b)
{
	if (a->number != b->number)
		return a->number < b->number ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* A batch to ship: a copy, from memory (the queue) or from a file. */
struct item {
	struct item *next;
	struct pos pos;
	char segment[SEGMENT_NAME_MAX];
	uint8_t hash[CHAIN_HASH_LEN];
	uint64_t first_seq, last_seq; /* 0: unknown or none */
	uint64_t unix_ns;             /* when it was written, or its first record's time */
	int deflated;                 /* data: its length prefix and bytes as the file holds them
					 compressed (raw deflate standing alone); else the batch */
	size_t len;
	size_t raw_len;               /* the batch's own size (what the backlog counts) */
	uint8_t data[];
};

struct shipper {
	/* Options (copies). */
	char *urls, *creds, *tls_ca, *prefix, *node, *data_dir;
	char *shown_urls;           /* urls without passwords, for messages */
	int replicas;
	size_t queue_bytes;
	uint64_t linger_ns;
	uint64_t live_from;
	char token[SUBJECTS_TOKEN_MAX];
	char subject[JS_SUBJECT_MAX], stream[JS_STREAM_MAX];
	int dirfd;
	int state_fd;               /* ship.state, opened at its first write */

	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cond;

	/* Under mu. */
	struct item *head, *tail;   /* batches as written, oldest first */
	uint64_t sealed_gen;        /* batches handed over so far */
	uint64_t seen_gen;          /* sealed_gen when the thread last looked at the queue */
	uint64_t wake_batches;      /* the thread waits for this many new batches (0: for none) */
	size_t wake_bytes;          /* ... or this many bytes queued (0: not for bytes) */
	size_t q_bytes;
	int have_handed;
	struct pos handed;          /* after the last batch handed over */
	int have_floor;
	struct pos q_floor;         /* every batch from here on is in the queue or was taken
				       from it: the files are read only for batches before */
	int stopping;
	uint64_t stop_at_mono_ns;
	int have_acked;             /* the server holds a batch of ours */
	struct pos acked;           /* the last one */
	uint8_t acked_hash[CHAIN_HASH_LEN];
	uint64_t acked_stream_seq;  /* its stream sequence: the next publish expects it */
	uint64_t acked_last_seq;    /* its last record's seq, 0 unknown */
	int have_removed;
	uint64_t removed_upto;      /* segments up to this number were removed unshipped */
	struct ship_stats st;

	/* The shipping thread's own. */
	struct js_conn *js;
	struct item *cur;           /* the batches being shipped: consecutive, of one segment */
	struct item *cur_tail;
	size_t cur_n, cur_bytes;
	uint8_t *body;              /* a bundle's message body, reused */
	size_t body_cap;
	uint64_t published_mono_ns; /* the last publish: the linger counts from it */
	int cur_from_files;         /* cur was read back: catching up, no linger */
	unsigned resyncs, cur_resyncs; /* the server asked where we stand; cur loaded after the
					  cur_resyncs-th time (older: from a place it corrected) */
	struct segment_reader *rd;  /* reading a segment file back */
	uint64_t rd_number, rd_index; /* rd's segment, and the index of its next batch */
	uint64_t saved_mono_ns;
	int dirty;                  /* acked moved since ship.state was written */
	char said[JS_ERR_MAX];      /* the last failure logged: not repeated */
	int backoff_ms;
	int was_up;                 /* connected once: later changes are news */
	int resync_retried;         /* shipped again at once after a resync, with no ack since */
};

/* ---- ship.state ----------------------------------------------------------------------- */

/*
 * ship.state is rewritten in place at one length, so a reader may find it torn: its last
 * line is a check (FNV-1a of the lines before it), and padding keeps the length.
 */
#define SHIP_STATE_LEN 256

static uint64_t state_check(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
	return h;
}

static void save_state(struct shipper *sh)
{
	char buf[SHIP_STATE_LEN], hex[CHAIN_HEX_LEN];
	int n, err;

	pthread_mutex_lock(&sh->mu);
	if (!sh->have_acked) {
		pthread_mutex_unlock(&sh->mu);
		return;
	}
	n = snprintf(buf, sizeof(buf),
		     "firstlight-ship 1\nsegment %" PRIu64 "\nbatch %" PRIu64 "\nstream-seq %" PRIu64
		     "\nlast-seq %" PRIu64 "\nhash %s\n",
		     sh->acked.number, sh->acked.index, sh->acked_stream_seq, sh->acked_last_seq,
		     chain__hex(sh->acked_hash, CHAIN_HASH_LEN, hex));
	pthread_mutex_unlock(&sh->mu);
	/* Five numbers of at most 20 digits and a hash: the check always fits. */
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "check %016" PRIx64 "\n", state_check(buf, (size_t)n));
	memset(buf + n, '\n', sizeof(buf) - (size_t)n);
	if (sh->state_fd < 0 && (sh->state_fd = store_dir__open_cache(sh->dirfd, SHIP_STATE_FILE)) < 0)
		err = sh->state_fd;
	else
		err = store_dir__write_cache(sh->state_fd, buf, sizeof(buf));
	if (err)
		log_warn("ship: %s: %s", SHIP_STATE_FILE, strerror(-err));
	sh->dirty = 0;
	sh->saved_mono_ns = clock__mono_ns();
}

static int unhex(const char *s, uint8_t out[CHAIN_HASH_LEN])
{
	for (int i = 0; i < CHAIN_HASH_LEN; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (uint8_t)b;
	}
	return s[2 * CHAIN_HASH_LEN] ? -EINVAL : 0;
}

/* Where the previous run left shipping; the server has the last word at connection. */
static void load_state(struct shipper *sh)
{
	char buf[SHIP_STATE_LEN + 1], hex[CHAIN_HEX_LEN + 1] = "", *check;
	uint64_t number, index, seq, last, want;
	int n = store_dir__read_small(sh->dirfd, SHIP_STATE_FILE, buf, sizeof(buf));

	if (n == -ENOENT)
		return;
	check = n > 0 ? strstr(buf, "\ncheck ") : NULL;
	if (n < 0 || !check || sscanf(check, "\ncheck %16" SCNx64, &want) != 1 ||
	    want != state_check(buf, (size_t)(check - buf) + 1) || sscanf(buf, "firstlight-ship 1\nsegment %" SCNu64 "\nbatch %" SCNu64 "\nstream-seq %" SCNu64
			    "\nlast-seq %" SCNu64 "\nhash %64s\n", &number, &index, &seq, &last, hex) != 5 ||
	    unhex(hex, sh->acked_hash)) {
		log_warn("ship: %s/%s is damaged: where shipping stands is asked of the server", sh->data_dir,
			 SHIP_STATE_FILE);
		return;
	}
	sh->have_acked = 1;
	sh->acked = (struct pos){ number, index };
	sh->acked_stream_seq = seq;
	sh->acked_last_seq = last;
}

/* ---- reading batches back from the segment files --------------------------------------- */

static void reader_close(struct shipper *sh)
{
	segment_reader__close(sh->rd);
	sh->rd = NULL;
}

/* The first segment file numbered at least number: 1 and its entry, 0 if none. */
static int segment_from(struct shipper *sh, uint64_t number, struct seg_entry *out)
{
	struct seg_entry *segs = NULL;
	size_t n = 0;
	int found = 0;

	if (store_dir__list(sh->dirfd, &segs, &n))
		return 0;
	for (size_t i = 0; i < n && !found; i++)
		if (segs[i].number >= number) {
			*out = segs[i];
			found = 1;
		}
	free(segs);
	return found;
}

/* Fills what only the batch's own bytes say: its hash, its records' seqs and time. */
static int describe(struct item *it)
{
	Firstlight__V1__Batch *b;
	const uint8_t *hash, *sig;
	size_t core;

	if (chain__split(it->data, it->len, &core, &hash, &sig))
		return -EBADMSG;
	memcpy(it->hash, hash, CHAIN_HASH_LEN);
	b = firstlight__v1__batch__unpack(NULL, it->len, it->data);
	if (!b)
		return -EBADMSG;
	if (b->n_events) {
		it->first_seq = b->events[0]->seq;
		it->last_seq = b->events[b->n_events - 1]->seq;
		it->unix_ns = b->events[0]->time_unix_nano;
	} else if (b->header) {
		it->unix_ns = b->header->created_unix_nano;
	}
	firstlight__v1__batch__free_unpacked(b, NULL);
	return 0;
}

static struct item *item_new(const uint8_t *data, size_t len)
{
	struct item *it = malloc(sizeof(*it) + len);

	if (!it)
		return NULL;
	memset(it, 0, sizeof(*it));
	it->len = it->raw_len = len;
	memcpy(it->data, data, len);
	return it;
}

/* Whether the batch at p may be read from the files: one of an earlier run's segments, or
 * handed over by the store (so stored). */
static int handed_over(struct shipper *sh, const struct pos *p)
{
	int yes;

	if (!sh->live_from || p->number < sh->live_from)
		return 1;
	pthread_mutex_lock(&sh->mu);
	yes = sh->have_handed && pos_cmp(p, &sh->handed) < 0;
	pthread_mutex_unlock(&sh->mu);
	return yes;
}

/*
 * The batch at p from the files, moving p past finished segments and removed ones. NULL
 * when there is none yet (p is the live end), or on a read error (logged).
 */
static struct item *read_at(struct shipper *sh, struct pos *p, int same_segment)
{
	for (int hops = 0; hops < 1000; hops++) {
		struct seg_entry seg, later;
		const uint8_t *body;
		uint64_t off;
		size_t len;
		int rc;

		if (!segment_from(sh, p->number, &seg))
			return NULL;
		if (seg.number != p->number) {
			if (same_segment)
				return NULL;
			*p = (struct pos){ seg.number, 0 }; /* removed, or numbers skipped */
			continue;
		}
		if (!handed_over(sh, p))
			return NULL; /* written, perhaps not stored yet: it comes through the queue */
		if (!sh->rd || sh->rd_number != p->number || sh->rd_index > p->index) {
			reader_close(sh);
			sh->rd = segment_reader__openat(sh->dirfd, seg.name);
			if (!sh->rd)
				return NULL;
			sh->rd_number = p->number;
			sh->rd_index = 0;
		}
		while ((rc = segment_reader__next_raw(sh->rd, &body, &len, &off)) > 0) {
			if (sh->rd_index++ == p->index) {
				struct item *it = item_new(body, len);

				if (!it)
					return NULL;
				it->pos = *p;
				snprintf(it->segment, sizeof(it->segment), "%s", seg.name);
				if (describe(it)) {
					log_warn("ship: %s batch %" PRIu64 ": not a sealed batch; skipped", seg.name,
						 p->index);
					free(it);
					p->index++;
					break;
				}
				return it;
			}
		}
		if (rc > 0) {
			if (same_segment)
				return NULL; /* a bundle stops before a skipped batch */
			continue; /* a bad batch skipped: go on from the next */
		}
		/* The end of what the file holds now: finished if a later segment exists. */
		{
			int damaged = rc < 0 && !segment_reader__truncated(sh->rd);

			reader_close(sh);
			if (same_segment)
				return NULL;
			if (!segment_from(sh, p->number + 1, &later))
				return NULL; /* the segment being written: more comes */
			if (damaged)
				log_warn("ship: %s: unreadable after batch %" PRIu64 "; going on with %s", seg.name,
					 p->index, later.name);
		}
		*p = (struct pos){ later.number, 0 };
	}
	return NULL;
}

/* ---- the queue ------------------------------------------------------------------------ */

static void idle(struct shipper *sh, int ms, uint64_t batches, size_t bytes);

/* Under mu. */
static void raise_floor(struct shipper *sh, const struct pos *p)
{
	if (pos_cmp(p, &sh->q_floor) > 0)
		sh->q_floor = *p;
}

void shipper__sealed(struct shipper *sh, const struct sealed_batch *b)
{
	/* Compressed when the store says how: a sixth of the bytes to copy and send. */
	struct item *it = b->deflated ? item_new(b->deflated, b->deflated_len) : item_new(b->data, b->len);
	int wake;

	pthread_mutex_lock(&sh->mu);
	sh->sealed_gen++;
	sh->handed = (struct pos){ b->number, b->index + 1 };
	sh->have_handed = 1;
	sh->st.backlog++;
	sh->st.backlog_bytes += b->len;
	if (!sh->have_floor) {
		sh->q_floor = (struct pos){ b->number, b->index };
		sh->have_floor = 1;
	}
	if (!it) /* not queued: the queue is whole only after it */
		raise_floor(sh, &(struct pos){ b->number, b->index + 1 });
	if (it) {
		it->pos = (struct pos){ b->number, b->index };
		it->deflated = b->deflated != NULL;
		it->raw_len = b->len;
		snprintf(it->segment, sizeof(it->segment), "%s", b->segment);
		memcpy(it->hash, b->hash, CHAIN_HASH_LEN);
		it->first_seq = b->first_seq;
		it->last_seq = b->last_seq;
		it->unix_ns = b->unix_ns;
		if (sh->tail)
			sh->tail->next = it;
		else
			sh->head = it;
		sh->tail = it;
		sh->q_bytes += it->len; /* what it holds: the deflated bytes when compressed */
		/* Past the bound the oldest go: the files still hold them. */
		while (sh->q_bytes > sh->queue_bytes && sh->head) {
			struct item *old = sh->head;

			sh->head = old->next;
			if (!sh->head)
				sh->tail = NULL;
			sh->q_bytes -= old->len;
			raise_floor(sh, &(struct pos){ old->pos.number, old->pos.index + 1 });
			free(old);
		}
	}
	/* Only a wait this batch ends is woken: a batch a second is a wake-up a second less. */
	wake = (sh->wake_batches && sh->sealed_gen - sh->seen_gen >= sh->wake_batches) ||
	       (sh->wake_bytes && sh->q_bytes >= sh->wake_bytes);
	pthread_mutex_unlock(&sh->mu);
	/* After the unlock: signalled under it, the thread would wake only to wait for it. */
	if (wake)
		pthread_cond_signal(&sh->cond);
}

/* Where shipping goes on: after the last acked batch, past removed segments. Under mu. */
static struct pos next_pos(const struct shipper *sh)
{
	struct pos p = { 0, 0 };

	if (sh->have_acked)
		p = (struct pos){ sh->acked.number, sh->acked.index + 1 };
	if (sh->have_removed && p.number <= sh->removed_upto)
		p = (struct pos){ sh->removed_upto + 1, 0 };
	return p;
}

/* Whether the queue holds every batch from p on (then the files need not be read). Under mu. */
static int queue_covers(const struct shipper *sh, const struct pos *p)
{
	return sh->have_floor && pos_cmp(p, &sh->q_floor) >= 0;
}

/* The queue's oldest batch, out of it; NULL when empty. Under mu. */
static struct item *pop_head(struct shipper *sh)
{
	struct item *it = sh->head;

	if (!it)
		return NULL;
	sh->head = it->next;
	if (!sh->head)
		sh->tail = NULL;
	sh->q_bytes -= it->len;
	it->next = NULL;
	return it;
}

/* Takes the batch at p from the queue (dropping older ones), under mu; NULL if not there. */
static struct item *take_queued(struct shipper *sh, const struct pos *p)
{
	while (sh->head && pos_cmp(&sh->head->pos, p) < 0)
		free(pop_head(sh));
	return sh->head && !pos_cmp(&sh->head->pos, p) ? pop_head(sh) : NULL;
}

static void bundle_add(struct shipper *sh, struct item *it)
{
	if (sh->cur_tail)
		sh->cur_tail->next = it;
	else
		sh->cur = it;
	sh->cur_tail = it;
	sh->cur_n++;
	sh->cur_bytes += it->len;
}

static void bundle_free(struct shipper *sh)
{
	while (sh->cur) {
		struct item *next = sh->cur->next;

		free(sh->cur);
		sh->cur = next;
	}
	sh->cur_tail = NULL;
	sh->cur_n = sh->cur_bytes = 0;
}

/*
 * Lets go of the bundle unacked: the next load takes its batches again, from the files.
 * Those it took from the queue are out of it: the queue no longer holds every batch from
 * its floor on, only those after the bundle. Without the raise, the next load would find
 * the bundle's first batch "covered" and not queued, and go on with the queue's head: a
 * hole in the stream.
 */
static void bundle_drop(struct shipper *sh)
{
	if (sh->cur_tail) {
		pthread_mutex_lock(&sh->mu);
		raise_floor(sh, &(struct pos){ sh->cur_tail->pos.number, sh->cur_tail->pos.index + 1 });
		pthread_mutex_unlock(&sh->mu);
	}
	bundle_free(sh);
}

static int bundle_full(const struct shipper *sh)
{
	return sh->cur_n >= BUNDLE_MAX_BATCHES || sh->cur_bytes >= BUNDLE_MAX_BYTES;
}

/*
 * Adds to the bundle the batches that follow it in its segment and are there now (queue,
 * else files), while it has room. 1 when one was added.
 */
static int bundle_extend(struct shipper *sh)
{
	int added = 0;

	while (sh->cur && !bundle_full(sh)) {
		struct pos p = { sh->cur_tail->pos.number, sh->cur_tail->pos.index + 1 };
		struct item *it;

		int covered;

		pthread_mutex_lock(&sh->mu);
		sh->seen_gen = sh->sealed_gen;
		it = take_queued(sh, &p);
		covered = queue_covers(sh, &p);
		pthread_mutex_unlock(&sh->mu);
		/* The files only from where their reader stands: never a segment read again. */
		if (!it && !covered && sh->rd && sh->rd_number == p.number && sh->rd_index == p.index)
			it = read_at(sh, &p, 1);
		if (!it)
			break;
		if (sh->cur_bytes + it->len > BUNDLE_MAX_BYTES || it->deflated != sh->cur->deflated) {
			/* No room: back to the queue's front, the next bundle starts with it. */
			pthread_mutex_lock(&sh->mu);
			it->next = sh->head;
			sh->head = it;
			if (!sh->tail)
				sh->tail = it;
			sh->q_bytes += it->len;
			pthread_mutex_unlock(&sh->mu);
			break;
		}
		bundle_add(sh, it);
		added = 1;
	}
	return added;
}

/* The next batches to ship, into sh->cur: from the queue when it holds them, else the files. */
static void load_next(struct shipper *sh)
{
	struct item *it;
	struct pos p;
	int covered;

	pthread_mutex_lock(&sh->mu);
	sh->seen_gen = sh->sealed_gen;
	p = next_pos(sh);
	it = take_queued(sh, &p);
	covered = queue_covers(sh, &p);
	if (!it && covered) /* p is past its segment's last batch: the queue's head is next */
		it = pop_head(sh);
	pthread_mutex_unlock(&sh->mu);
	/* The files only for what the queue never held: at the live end the queue is empty,
	 * and the segment must not be read again at every turn. */
	sh->cur_from_files = 0;
	if (!it && !covered) {
		it = read_at(sh, &p, 0);
		sh->cur_from_files = it != NULL;
	}
	if (it) {
		bundle_add(sh, it);
		sh->cur_resyncs = sh->resyncs;
		bundle_extend(sh);
	}
	pthread_mutex_lock(&sh->mu);
	sh->st.oldest_unix_ns = sh->cur ? sh->cur->unix_ns : 0;
	pthread_mutex_unlock(&sh->mu);
}

/* How long the linger since the last publish has to run, in ms (rounded up); 0 if over. */
static int linger_left_ms(const struct shipper *sh)
{
	uint64_t due = sh->published_mono_ns + sh->linger_ns, now = clock__mono_ns();

	if (!sh->linger_ns || !sh->published_mono_ns || now >= due)
		return 0;
	return (int)((due - now + NS_PER_MS - 1) / NS_PER_MS);
}

/*
 * Under a steady flow, at most one message per linger: the batches written meanwhile go
 * with it, so a storm costs a few messages a second rather than one per batch. The first
 * batch after a quiet time goes at once.
 */
static void linger(struct shipper *sh)
{
	while (sh->cur && !bundle_full(sh)) {
		int left_ms = linger_left_ms(sh), queued_elsewhere;

		if (!left_ms || sh->cur_from_files)
			return; /* catching up from the files: as fast as the server takes it */
		pthread_mutex_lock(&sh->mu);
		queued_elsewhere = sh->head != NULL || sh->stopping;
		pthread_mutex_unlock(&sh->mu);
		if (queued_elsewhere)
			return; /* the queue holds what cannot join (the next segment), or we stop */
		/* Woken early only by batches that fill the bundle. */
		idle(sh, left_ms, BUNDLE_MAX_BATCHES - sh->cur_n, BUNDLE_MAX_BYTES - sh->cur_bytes);
		bundle_extend(sh);
	}
}

/* ---- the server ---------------------------------------------------------------------- */

/* Logs a failure once until it changes. */
static void say_once(struct shipper *sh, const char *what, const char *why)
{
	char line[JS_ERR_MAX];

	snprintf(line, sizeof(line), "%s: %s", what, why);
	if (strcmp(line, sh->said)) {
		log_warn("ship: %s; recording goes on, batches wait in %s", line, sh->data_dir);
		snprintf(sh->said, sizeof(sh->said), "%s", line);
	}
}

/* Batches in the files from a up to (not including) b, and their bytes. */
static uint64_t count_between(struct shipper *sh, struct pos a, const struct pos *b, uint64_t *bytes)
{
	uint64_t n = 0;
	struct item *it;

	*bytes = 0;
	while (pos_cmp(&a, b) < 0 && (it = read_at(sh, &a, 0))) {
		int before = pos_cmp(&it->pos, b) < 0;

		if (before) {
			n++;
			*bytes += it->len;
		}
		a = (struct pos){ it->pos.number, it->pos.index + 1 };
		free(it);
		if (!before)
			break;
	}
	return n;
}

static int resync_now(struct shipper *sh);

/*
 * Whether the batch the server holds last at p is ours: 1 when our store has that batch
 * there, or had (its segment was removed, as retention does); 0 when the place holds
 * another batch or none (a store started afresh numbers its segments from the start
 * again).
 */
static int batch_is_ours(struct shipper *sh, struct pos p, const uint8_t hash[CHAIN_HASH_LEN])
{
	struct seg_entry seg;
	struct item *it;
	int same;

	if (!segment_from(sh, p.number, &seg))
		return 0; /* past our newest segment */
	if (seg.number != p.number)
		return 1; /* removed here */
	it = read_at(sh, &p, 1);
	reader_close(sh);
	same = it && !memcmp(it->hash, hash, CHAIN_HASH_LEN);
	free(it);
	return same;
}

/*
 * Where the server stands for our subject, which wins over ship.state; the backlog
 * follows it (the batches between where we thought we stood and where the server does).
 */
static int resync(struct shipper *sh)
{
	struct pos was, now;
	uint64_t n, bytes;
	int err;

	pthread_mutex_lock(&sh->mu);
	was = next_pos(sh);
	pthread_mutex_unlock(&sh->mu);
	err = resync_now(sh);
	pthread_mutex_lock(&sh->mu);
	now = next_pos(sh);
	pthread_mutex_unlock(&sh->mu);
	if (err || !pos_cmp(&was, &now))
		return err;
	n = pos_cmp(&was, &now) < 0 ? count_between(sh, was, &now, &bytes) : count_between(sh, now, &was, &bytes);
	pthread_mutex_lock(&sh->mu);
	if (pos_cmp(&was, &now) < 0) {
		sh->st.backlog -= n < sh->st.backlog ? n : sh->st.backlog;
		sh->st.backlog_bytes -= bytes < sh->st.backlog_bytes ? bytes : sh->st.backlog_bytes;
	} else {
		sh->st.backlog += n;
		sh->st.backlog_bytes += bytes;
		/* Back to batches taken from the queue already (the server lost them: its
		 * stream deleted, its store lost or restored from an older copy): the queue
		 * no longer holds every batch from its floor on, only from its head. */
		if (sh->head)
			raise_floor(sh, &sh->head->pos);
		else
			sh->have_floor = 0;
	}
	pthread_mutex_unlock(&sh->mu);
	return 0;
}

static int resync_now(struct shipper *sh)
{
	char why[JS_ERR_MAX];
	struct js_msg *m = NULL;
	const char *seg, *idx, *hash;
	uint64_t number, index;
	uint8_t h[CHAIN_HASH_LEN];
	int mine, err = js_conn__last(sh->js, sh->stream, sh->subject, &m, why);

	if (err == -ENOENT) {
		pthread_mutex_lock(&sh->mu);
		if (sh->have_acked)
			log_warn("ship: stream %s holds nothing of this node although %s says it did: "
				 "shipping the whole local store again", sh->stream, SHIP_STATE_FILE);
		sh->have_acked = 0;
		sh->acked_stream_seq = 0;
		pthread_mutex_unlock(&sh->mu);
		sh->resyncs++;
		return 0;
	}
	if (err) {
		say_once(sh, sh->shown_urls, why);
		return err;
	}
	seg = js_msg__header(m, "Fl-Segment");
	idx = seg ? js_msg__header(m, "Fl-Batch") : NULL;
	hash = idx ? js_msg__header(m, "Fl-Hash") : NULL;
	if (!hash || store_dir__segment_number(seg, &number) || sscanf(idx, "%" SCNu64, &index) != 1 ||
	    unhex(hash, h)) {
		pthread_mutex_lock(&sh->mu);
		log_warn("ship: the last message on %s is not a batch of ours: going on from %s", sh->subject,
			 SHIP_STATE_FILE);
	} else if ((mine = batch_is_ours(sh, (struct pos){ number, index }, h)) == 0) {
		/* Its place in our store holds another batch, or none: our positions mean
		 * nothing against it, and trusting them would skip our batches up to there. */
		log_warn("ship: the last batch on %s (%.64s batch %" PRIu64 ") is not in this node's store: the "
			 "store was started afresh, or another node ships under this name; shipping the whole "
			 "store after it (the collector records the break in the chain)",
			 sh->subject, seg, index);
		pthread_mutex_lock(&sh->mu);
		sh->have_acked = 0;
	} else {
		pthread_mutex_lock(&sh->mu);
		sh->have_acked = 1;
		sh->acked = (struct pos){ number, index };
		memcpy(sh->acked_hash, h, CHAIN_HASH_LEN);
	}
	sh->acked_stream_seq = js_msg__seq(m);
	pthread_mutex_unlock(&sh->mu);
	js_msg__free(m);
	sh->dirty = 1;
	sh->resyncs++;
	return 0;
}

static void disconnect(struct shipper *sh)
{
	js_conn__close(sh->js);
	sh->js = NULL;
}

static int connect_now(struct shipper *sh)
{
	struct js_opts jo = { .urls = sh->urls, .creds = sh->creds, .tls_ca = sh->tls_ca,
			      .name = "firstlight-agent" };
	struct js_stream js = { .name = sh->stream, .replicas = sh->replicas,
				.duplicate_window_ns = DUPLICATE_WINDOW_NS };
	char why[JS_ERR_MAX], all[JS_SUBJECT_MAX];
	int err;

	subjects__all_batches(sh->prefix, all, sizeof(all));
	js.subjects = all;
	sh->js = js_conn__open(&jo, &err, why);
	if (!sh->js) {
		say_once(sh, sh->shown_urls, why);
		return err;
	}
	err = js_conn__ensure_stream(sh->js, &js, why);
	if (!err)
		err = resync(sh);
	else
		say_once(sh, "stream", why);
	if (err) {
		disconnect(sh);
		return err;
	}
	log_info("ship: connected to %s, shipping on %s (stream %s)", sh->shown_urls, sh->subject, sh->stream);
	sh->said[0] = '\0';
	return 0;
}

/*
 * The message's body: a lone batch as its stored bytes; a bundle as the batches one
 * after another, each after its length as a varint, as the segment file holds them;
 * compressed batches as the file holds them (which inflate to that same framing).
 */
static int bundle_body(struct shipper *sh, const void **data, size_t *len)
{
	size_t need = sh->cur_bytes + sh->cur_n * VARINT_MAX, off = 0;

	if (sh->cur_n == 1) {
		*data = sh->cur->data;
		*len = sh->cur->len;
		return 0;
	}
	if (need > sh->body_cap) {
		uint8_t *p = realloc(sh->body, need);

		if (!p)
			return -ENOMEM;
		sh->body = p;
		sh->body_cap = need;
	}
	for (const struct item *it = sh->cur; it; it = it->next) {
		if (!it->deflated)
			off += varint__put(sh->body + off, it->len);
		memcpy(sh->body + off, it->data, it->len);
		off += it->len;
	}
	*data = sh->body;
	*len = off;
	return 0;
}

/* The lag of each batch acked, in the histogram. Under mu. */
static void count_lag(struct shipper *sh, const struct item *it)
{
	double lag = ((double)clock__unix_ns() - (double)it->unix_ns) / 1e9;

	lag = lag < 0 ? 0 : lag;
	for (int i = 0; i < SHIP_LAG_BUCKETS; i++)
		if (i == SHIP_LAG_BUCKETS - 1 || lag <= ship_lag_bounds[i])
			sh->st.lag_buckets[i]++;
	sh->st.lag_sum_s += lag;
	sh->st.lag_count++;
}

/*
 * Publishes the bundle: 1 when the server acked it, 0 when it was let go to ship again
 * after a resync, negative errno when it failed (kept, or let go to connect afresh).
 */
static int publish(struct shipper *sh)
{
	const struct item *first = sh->cur, *last = sh->cur_tail;
	char hex[CHAIN_HEX_LEN], idx[24], count[24], first_seq[24], last_seq[24], why[JS_ERR_MAX];
	struct js_publish p = { .subject = sh->subject };
	uint64_t seq, fs = 0, ls = 0;
	int dup, err;

	if ((err = bundle_body(sh, &p.data, &p.len))) {
		say_once(sh, "publishing", strerror(-err));
		return err;
	}
	for (const struct item *it = first; it; it = it->next) {
		if (!fs && it->first_seq)
			fs = it->first_seq;
		if (it->last_seq)
			ls = it->last_seq;
	}
	/* The message is known by its last batch: the headers say where that one is, so that
	 * the server's last message tells a restarted agent where shipping stands. */
	chain__hex(last->hash, CHAIN_HASH_LEN, hex);
	snprintf(idx, sizeof(idx), "%" PRIu64, last->pos.index);
	snprintf(count, sizeof(count), "%zu", sh->cur_n);
	snprintf(first_seq, sizeof(first_seq), "%" PRIu64, fs);
	snprintf(last_seq, sizeof(last_seq), "%" PRIu64, ls);
	p.msg_id = hex;
	p.hdr[p.n_hdr++] = (struct js_header){ "Fl-Node", sh->token };
	p.hdr[p.n_hdr++] = (struct js_header){ "Fl-Segment", last->segment };
	p.hdr[p.n_hdr++] = (struct js_header){ "Fl-Batch", idx };
	p.hdr[p.n_hdr++] = (struct js_header){ "Fl-Hash", hex };
	if (sh->cur_n > 1 || first->deflated)
		p.hdr[p.n_hdr++] = (struct js_header){ "Fl-Count", count };
	if (first->deflated)
		p.hdr[p.n_hdr++] = (struct js_header){ "Fl-Encoding", "deflate" };
	if (ls) {
		p.hdr[p.n_hdr++] = (struct js_header){ "Fl-First-Seq", first_seq };
		p.hdr[p.n_hdr++] = (struct js_header){ "Fl-Last-Seq", last_seq };
	}
	pthread_mutex_lock(&sh->mu);
	p.expect_last_subject_seq = sh->acked_stream_seq;
	pthread_mutex_unlock(&sh->mu);
	err = js_conn__publish(sh->js, &p, &seq, &dup, why);
	sh->published_mono_ns = clock__mono_ns();
	pthread_mutex_lock(&sh->mu);
	if (!err) {
		sh->have_acked = 1;
		sh->acked = last->pos;
		memcpy(sh->acked_hash, last->hash, CHAIN_HASH_LEN);
		sh->acked_stream_seq = seq;
		if (ls)
			sh->acked_last_seq = ls;
		sh->st.acked += sh->cur_n;
		sh->st.messages++;
		sh->st.message_bytes += p.len;
		sh->st.duplicates += dup ? sh->cur_n : 0;
		for (const struct item *it = first; it; it = it->next) {
			if (it->unix_ns)
				count_lag(sh, it);
			if (sh->st.backlog) {
				sh->st.backlog--;
				sh->st.backlog_bytes -= sh->st.backlog_bytes >= it->raw_len ? it->raw_len : sh->st.backlog_bytes;
			}
		}
	} else {
		sh->st.publish_errors++;
	}
	pthread_mutex_unlock(&sh->mu);
	if (!err) {
		sh->dirty = 1;
		sh->said[0] = '\0';
		bundle_free(sh);
		return 1;
	}
	if (err == -ENODEV) {
		/* No stream answers: it is gone (deleted, or the server came back without its
		 * store), which the client's own reconnection does not mend, or a cluster is
		 * electing its leader. Connect afresh: that makes the stream if it is gone, and
		 * asks where this node stands in it. */
		log_warn("ship: %s: %s; connecting again (the stream is made again if it is gone)",
			 sh->stream, why);
		bundle_drop(sh);
		disconnect(sh);
		return err;
	}
	if (err == -ESTALE) {
		/* Someone else wrote on our subject, or we were wrong about where the server
		 * stands: ask it again, and ship what follows its last batch. */
		log_warn("ship: %s: %s; asking the server where it stands", sh->subject, why);
		bundle_drop(sh);
		return resync(sh);
	}
	say_once(sh, "publishing", why);
	return err;
}

/*
 * Sleeps up to ms, never past the stop's grace, and not at all once a stop begins. It ends
 * early when `batches` were handed over since the queue was last looked at, or `bytes` are
 * queued (each 0: not for that); with neither, it is a backoff and waits its time.
 */
static void idle(struct shipper *sh, int ms, uint64_t batches, size_t bytes)
{
	struct timespec ts;
	int stopping;

	pthread_mutex_lock(&sh->mu);
	stopping = sh->stopping;
	if (stopping) {
		uint64_t now = clock__mono_ns(), left_ms = sh->stop_at_mono_ns > now ?
						   (sh->stop_at_mono_ns - now) / NS_PER_MS : 0;

		ms = left_ms < (uint64_t)ms ? (int)left_ms : ms;
	}
	pthread_mutex_unlock(&sh->mu);
	if (ms <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&sh->mu);
	sh->wake_batches = batches;
	sh->wake_bytes = bytes;
	while (!(batches && sh->sealed_gen - sh->seen_gen >= batches) && !(bytes && sh->q_bytes >= bytes) &&
	       sh->stopping == stopping)
		if (pthread_cond_timedwait(&sh->cond, &sh->mu, &ts) == ETIMEDOUT)
			break;
	sh->wake_batches = 0;
	sh->wake_bytes = 0;
	pthread_mutex_unlock(&sh->mu);
}

static int stop_due(struct shipper *sh, int idle_now)
{
	int due;

	pthread_mutex_lock(&sh->mu);
	/* Stopping: ship what there is until the grace ends; with nothing left, at once. */
	due = sh->stopping && (idle_now || clock__mono_ns() >= sh->stop_at_mono_ns);
	pthread_mutex_unlock(&sh->mu);
	return due;
}

static void *run(void *arg)
{
	struct shipper *sh = arg;

	for (;;) {
		int err = 0, acked = 0, resynced = 0, left_ms;

		if (!sh->cur)
			load_next(sh);
		if (stop_due(sh, !sh->cur))
			break;
		if (!sh->js && (err = connect_now(sh))) {
			idle(sh, sh->backoff_ms, 0, 0);
			sh->backoff_ms = sh->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : sh->backoff_ms * 2;
			continue;
		}
		sh->backoff_ms = BACKOFF_MIN_MS;
		{
			int up = js_conn__connected(sh->js);
			uint64_t backlog;

			pthread_mutex_lock(&sh->mu);
			/* The client reconnects by itself: say when it is away and when it is back. */
			if (up != sh->st.connected && sh->was_up) {
				backlog = sh->st.backlog;
				pthread_mutex_unlock(&sh->mu);
				if (up)
					log_info("ship: connected to %s again: %" PRIu64 " batches to catch up",
						 sh->shown_urls, backlog);
				else
					say_once(sh, sh->shown_urls, "connection lost");
				pthread_mutex_lock(&sh->mu);
			}
			sh->st.connected = up;
			sh->was_up |= up;
			pthread_mutex_unlock(&sh->mu);
		}
		if (sh->cur && sh->cur_resyncs != sh->resyncs) {
			/* Loaded from where ship.state said, before the server said otherwise:
			 * publishing it could store batches twice under another message id. */
			bundle_drop(sh);
			continue;
		}
		if (sh->cur && sh->st.connected) {
			linger(sh);
			err = publish(sh);
			acked = err > 0;
			resynced = err == 0;
			err = err < 0 ? err : 0;
		}
		if (sh->dirty && clock__mono_ns() - sh->saved_mono_ns >= SAVE_EVERY_NS)
			save_state(sh);
		/* After an ack the next bundle goes at once: a backlog of many segments (a
		 * bundle never spans two) must not wait a turn of idle per segment for a batch
		 * newer than the last look at the queue, which a quiet node or a stop never
		 * brings. */
		if (acked) {
			sh->resync_retried = 0;
			continue;
		}
		/* The server corrected where we stand (another writer on our subject): what
		 * follows its last batch goes at once, with nothing new sealed to wake us. Once:
		 * a server that keeps refusing is asked again only after the idle. */
		if (resynced && !sh->resync_retried) {
			sh->resync_retried = 1;
			continue;
		}
		if (!sh->cur && !err && (left_ms = linger_left_ms(sh)) > 0)
			/* A steady flow: what is sealed until the linger ends goes in one message
			 * then, so the first batch need not wake us to wait for the rest. */
			idle(sh, left_ms, BUNDLE_MAX_BATCHES, BUNDLE_MAX_BYTES);
		else if (!sh->cur || err)
			idle(sh, err ? 200 : 1000, !err, 0);
		else if (!sh->st.connected)
			idle(sh, 200, 0, 0); /* the client reconnects on its own: look again soon */
	}
	if (sh->dirty)
		save_state(sh);
	{
		struct ship_stats st;
		struct pos p;

		pthread_mutex_lock(&sh->mu);
		st = sh->st;
		p = next_pos(sh);
		pthread_mutex_unlock(&sh->mu);
		/* What this run shipped, and where shipping stands, said at every stop: what the
		 * next run starts from. */
		log_info("ship: stopped; this run shipped %" PRIu64 " batches in %" PRIu64 " messages (%" PRIu64
			 " bytes); shipping goes on from segment %" PRIu64 " batch %" PRIu64 " (%" PRIu64
			 " batches counted unshipped)", st.acked, st.messages, st.message_bytes, p.number, p.index,
			 st.backlog);
	}
	return NULL;
}

/* ---- set-up --------------------------------------------------------------------------- */

static char *dup_or_null(const char *s, int *err)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*err = -ENOMEM;
	return d;
}

/* What is waiting at start: every batch after the last acked one, in the files. */
static void count_backlog(struct shipper *sh)
{
	struct pos p = next_pos(sh);
	struct item *it;

	while ((it = read_at(sh, &p, 0))) {
		if (!sh->st.backlog)
			sh->st.oldest_unix_ns = it->unix_ns;
		sh->st.backlog++;
		sh->st.backlog_bytes += it->len;
		p.index++;
		free(it);
	}
	reader_close(sh);
}

struct shipper *shipper__start(const struct shipper_opts *o, int *err)
{
	struct shipper *sh = calloc(1, sizeof(*sh));
	const char *prefix = o->prefix ? o->prefix : SUBJECTS_DEFAULT_PREFIX;
	int e;

	*err = 0;
	if (!sh) {
		*err = -ENOMEM;
		return NULL;
	}
	sh->dirfd = -1;
	sh->state_fd = -1;
	if (subjects__check_prefix(prefix)) {
		log_error("--ship-subject-prefix '%s': not a NATS subject prefix (tokens of letters, digits, "
			  "'_' and '-', joined by dots)", prefix);
		*err = -EINVAL;
		goto fail;
	}
	if ((e = subjects__token(o->node, sh->token))) {
		log_error("ship: node name '%s': %s", o->node, strerror(-e));
		*err = e;
		goto fail;
	}
	if (o->creds && access(o->creds, R_OK)) {
		*err = -errno;
		log_error("--ship-creds %s: %s", o->creds, strerror(errno));
		goto fail;
	}
	if (o->tls_ca && access(o->tls_ca, R_OK)) {
		*err = -errno;
		log_error("--ship-tls-ca %s: %s", o->tls_ca, strerror(errno));
		goto fail;
	}
	sh->urls = dup_or_null(o->urls, err);
	sh->shown_urls = js__shown_urls(o->urls);
	if (!sh->shown_urls)
		*err = -ENOMEM;
	sh->creds = dup_or_null(o->creds, err);
	sh->tls_ca = dup_or_null(o->tls_ca, err);
	sh->prefix = dup_or_null(prefix, err);
	sh->node = dup_or_null(o->node, err);
	sh->data_dir = dup_or_null(o->data_dir, err);
	if (*err)
		goto fail;
	sh->replicas = o->replicas > 0 ? o->replicas : 1;
	sh->queue_bytes = o->queue_bytes ? o->queue_bytes : QUEUE_DEFAULT;
	sh->linger_ns = (uint64_t)o->linger_ms * NS_PER_MS;
	sh->live_from = o->live_from;
	sh->backoff_ms = BACKOFF_MIN_MS;
	subjects__batches(sh->prefix, sh->token, sh->subject, sizeof(sh->subject));
	subjects__stream(sh->prefix, sh->stream, sizeof(sh->stream));
	sh->dirfd = open(o->data_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sh->dirfd < 0) {
		*err = -errno;
		log_error("ship: data dir %s: %s", o->data_dir, strerror(errno));
		goto fail;
	}
	load_state(sh);
	count_backlog(sh);
	pthread_mutex_init(&sh->mu, NULL);
	pthread_cond_init(&sh->cond, NULL);
	if ((e = pthread_create(&sh->thread, NULL, run, sh))) {
		*err = -e;
		log_error("ship: thread: %s", strerror(e));
		pthread_mutex_destroy(&sh->mu);
		pthread_cond_destroy(&sh->cond);
		goto fail;
	}
	/* In top -H and perf, and the CPU metric's ship role (agent/cpuuse). */
	pthread_setname_np(sh->thread, "fl-ship");
	sh->started = 1;
	log_info("ship: %" PRIu64 " batches to ship to %s, subject %s", sh->st.backlog, sh->shown_urls, sh->subject);
	return sh;
fail:
	if (sh->dirfd >= 0)
		close(sh->dirfd);
	if (sh->state_fd >= 0)
		close(sh->state_fd);
	free(sh->urls), free(sh->shown_urls), free(sh->creds), free(sh->tls_ca), free(sh->prefix), free(sh->node);
	free(sh->data_dir);
	free(sh);
	return NULL;
}

int shipper__unshipped(struct shipper *sh, uint64_t number, uint64_t *first_seq)
{
	struct pos p;
	int left;

	pthread_mutex_lock(&sh->mu);
	p = next_pos(sh);
	*first_seq = p.number == number && sh->acked_last_seq ? sh->acked_last_seq + 1 : 0;
	pthread_mutex_unlock(&sh->mu);
	if (p.number > number)
		return 0;
	if (p.number < number || !p.index)
		return 1;
	/* Part of it was shipped: is there a batch after the last acked one? Read the file
	 * with a reader of our own: the shipping thread has its own. */
	{
		struct seg_entry seg;
		struct segment_reader *r;
		const uint8_t *body;
		uint64_t off, i = 0;
		size_t len;

		if (!segment_from(sh, number, &seg) || seg.number != number)
			return 0;
		r = segment_reader__openat(sh->dirfd, seg.name);
		left = 1; /* unreadable: say not shipped */
		if (r) {
			while (segment_reader__next_raw(r, &body, &len, &off) > 0)
				i++;
			left = i > p.index;
			segment_reader__close(r);
		}
	}
	return left;
}

void shipper__removed(struct shipper *sh, uint64_t number)
{
	pthread_mutex_lock(&sh->mu);
	if (!sh->have_removed || number > sh->removed_upto)
		sh->removed_upto = number;
	sh->have_removed = 1;
	pthread_cond_signal(&sh->cond);
	pthread_mutex_unlock(&sh->mu);
}

void shipper__stats(struct shipper *sh, struct ship_stats *out)
{
	pthread_mutex_lock(&sh->mu);
	*out = sh->st;
	pthread_mutex_unlock(&sh->mu);
}

void shipper__stop(struct shipper *sh, int64_t grace_ms)
{
	if (!sh)
		return;
	if (sh->started) {
		pthread_mutex_lock(&sh->mu);
		sh->stopping = 1;
		sh->stop_at_mono_ns = clock__mono_ns() + (uint64_t)(grace_ms > 0 ? grace_ms : 0) * NS_PER_MS;
		pthread_cond_signal(&sh->cond);
		pthread_mutex_unlock(&sh->mu);
		pthread_join(sh->thread, NULL);
		pthread_mutex_destroy(&sh->mu);
		pthread_cond_destroy(&sh->cond);
	}
	disconnect(sh);
	reader_close(sh);
	bundle_free(sh);
	free(sh->body);
	while (sh->head) {
		struct item *next = sh->head->next;

		free(sh->head);
		sh->head = next;
	}
	close(sh->dirfd);
	if (sh->state_fd >= 0)
		close(sh->state_fd);
	free(sh->urls), free(sh->shown_urls), free(sh->creds), free(sh->tls_ca), free(sh->prefix), free(sh->node);
	free(sh->data_dir);
	free(sh);
}
