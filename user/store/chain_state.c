/* Where the chain ends: chain.state and the newest segment's tail; see chain_state.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/batchwire.h"
#include "store/chain_state.h"
#include "firstlight.pb-c.h"
#include "base/log.h"
#include "store/segment_reader.h"

#define STATE_MAGIC "firstlight chain state 1"

/* What chain.state says. */
struct state {
	char segment[SEGMENT_NAME_MAX];
	int clean;
	uint64_t bytes;
	struct chain_pos pos; /* meaningful when clean */
};

int chain_state__opened(int dirfd, const char *segment)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), STATE_MAGIC "\nsegment %s\nclean 0\n", segment);

	return store_dir__write_atomic(dirfd, CHAIN_STATE_FILE, buf, (size_t)n);
}

int chain_state__closed(int dirfd, const struct chain_pos *pos, uint64_t segment_bytes)
{
	char buf[512], hex[CHAIN_HEX_LEN];
	int n = snprintf(buf, sizeof(buf),
			 STATE_MAGIC "\nsegment %s\nclean 1\nbytes %" PRIu64 "\nhash %s\nseq %" PRIu64
			 "\nrun %s\noffset %" PRIu64 "\n",
			 pos->segment, segment_bytes, chain__hex(pos->hash, CHAIN_HASH_LEN, hex),
			 pos->last_seq, pos->run_id, pos->offset);

	return store_dir__write_atomic(dirfd, CHAIN_STATE_FILE, buf, (size_t)n);
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (uint8_t)b;
	}
	return strlen(s) == 2 * n ? 0 : -EINVAL;
}

/* Parses chain.state; -ENOENT when absent, -EINVAL when it is not one. */
static int read_state(int dirfd, struct state *st)
{
	char buf[1024], *save = NULL, *line;
	int n = store_dir__read_small(dirfd, CHAIN_STATE_FILE, buf, sizeof(buf));
	int seen_hash = 0;

	memset(st, 0, sizeof(*st));
	if (n < 0)
		return n;
	line = strtok_r(buf, "\n", &save);
	if (!line || strcmp(line, STATE_MAGIC))
		return -EINVAL;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char key[16], val[128];

		if (sscanf(line, "%15s %127s", key, val) != 2)
			return -EINVAL;
		if (!strcmp(key, "segment") && strlen(val) < sizeof(st->segment))
			memcpy(st->segment, val, strlen(val) + 1);
		else if (!strcmp(key, "clean"))
			st->clean = !strcmp(val, "1");
		else if (!strcmp(key, "bytes"))
			st->bytes = strtoull(val, NULL, 10);
		else if (!strcmp(key, "hash"))
			seen_hash = !unhex(val, st->pos.hash, CHAIN_HASH_LEN);
		else if (!strcmp(key, "seq"))
			st->pos.last_seq = strtoull(val, NULL, 10);
		else if (!strcmp(key, "run") && strlen(val) < sizeof(st->pos.run_id))
			memcpy(st->pos.run_id, val, strlen(val) + 1);
		else if (!strcmp(key, "offset"))
			st->pos.offset = strtoull(val, NULL, 10);
	}
	if (store_dir__segment_number(st->segment, &(uint64_t){ 0 }))
		return -EINVAL;
	st->clean = st->clean && seen_hash;
	st->pos.has_hash = seen_hash;
	snprintf(st->pos.segment, sizeof(st->pos.segment), "%s", st->segment);
	return 0;
}

/* What the tail of one segment file says. */
struct tail {
	uint64_t batches;
	int has_hash;
	uint8_t hash[CHAIN_HASH_LEN];
	uint64_t end_offset; /* after the last complete batch */
	uint64_t last_seq;
	int stopped;         /* the last record is the agent's STOPPED */
	char run_id[CHAIN_RUN_ID_MAX];
	int rc, unclean, truncated;
	char err[256];
};

/* The last record's seq of a batch, and whether it is a STOPPED record. */
static void last_record(const uint8_t *body, size_t len, struct tail *t)
{
	Firstlight__V1__Batch *b = batchwire__unpack(body, len);
	const Firstlight__V1__Event *ev;

	if (!b)
		return;
	if (b->n_events) {
		ev = b->events[b->n_events - 1];
		t->last_seq = ev->seq;
		t->stopped = ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_AGENT && ev->agent &&
			     ev->agent->state == FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED;
		if (!t->run_id[0] && ev->agent_run_id)
			snprintf(t->run_id, sizeof(t->run_id), "%s", ev->agent_run_id);
	} else if (b->header && b->header->first_seq) {
		t->last_seq = b->header->first_seq - 1; /* a header alone: nothing new */
	}
	if (b->header && b->header->agent_run_id && b->header->agent_run_id[0])
		snprintf(t->run_id, sizeof(t->run_id), "%s", b->header->agent_run_id);
	firstlight__v1__batch__free_unpacked(b, NULL);
}

/*
 * Reads every batch of name, keeping the last one. The whole file is read: a gzip
 * stream cannot be entered from its end. This runs at start only, and only when
 * chain.state does not describe a clean stop.
 */
static int scan_tail(int dirfd, const char *name, struct tail *t)
{
	struct segment_reader *r = segment_reader__openat(dirfd, name);
	uint8_t *last = NULL;
	size_t last_len = 0, last_cap = 0;
	const uint8_t *body;
	size_t len;
	uint64_t off;

	memset(t, 0, sizeof(*t));
	if (!r)
		return -errno;
	while ((t->rc = segment_reader__next_raw(r, &body, &len, &off)) > 0) {
		if (len > last_cap) {
			uint8_t *nl = realloc(last, len);

			if (!nl) {
				t->rc = -ENOMEM;
				break;
			}
			last = nl;
			last_cap = len;
		}
		memcpy(last, body, len);
		last_len = len;
		if (!t->batches)
			last_record(body, len, t); /* the header names the run */
		t->batches++;
		t->end_offset = segment_reader__offset(r);
	}
	if (t->batches) {
		size_t core;
		const uint8_t *h, *sig;

		t->has_hash = !chain__split(last, last_len, &core, &h, &sig);
		if (t->has_hash)
			memcpy(t->hash, h, CHAIN_HASH_LEN);
		last_record(last, last_len, t);
	}
	t->unclean = segment_reader__unclean_end(r);
	t->truncated = segment_reader__truncated(r);
	snprintf(t->err, sizeof(t->err), "%s", t->rc < 0 ? segment_reader__error(r) : "");
	segment_reader__close(r);
	free(last);
	return t->rc == -ENOMEM ? -ENOMEM : 0;
}

/* Appends a sentence to pos->detail. */
static void say(struct chain_pos *pos, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct chain_pos *pos, const char *fmt, ...)
{
	size_t n = strlen(pos->detail);
	va_list ap;

	if (n && n + 2 < sizeof(pos->detail)) {
		memcpy(pos->detail + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(pos->detail + n, sizeof(pos->detail) - n, fmt, ap);
	va_end(ap);
}

static void from_tail(struct chain_pos *pos, const char *name, const struct tail *t)
{
	pos->has_hash = t->has_hash;
	memcpy(pos->hash, t->hash, CHAIN_HASH_LEN);
	snprintf(pos->segment, sizeof(pos->segment), "%s", name);
	snprintf(pos->run_id, sizeof(pos->run_id), "%s", t->run_id);
	pos->last_seq = t->last_seq;
	pos->offset = t->end_offset;
	if (t->rc < 0 && t->truncated) {
		pos->end = FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__INCOMPLETE;
		say(pos, "run %.8s ended without a clean stop after seq %" PRIu64
		    " and its last batch was cut mid-write (%s)", t->run_id, t->last_seq, t->err);
	} else if (t->rc < 0) {
		pos->end = FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__DAMAGED;
		say(pos, "unreadable after byte %" PRIu64 " (%s): not a cut write", t->end_offset,
		    t->err);
	} else if (t->stopped && !t->unclean) {
		pos->end = FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__STOPPED;
	} else {
		pos->end = FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__KILLED;
		say(pos, "run %.8s ended without a clean stop after seq %" PRIu64
		    " (killed, crashed or power lost): records not yet written then were lost",
		    t->run_id, t->last_seq);
	}
	if (!t->has_hash)
		say(pos, "its last batch carries no hash (written before the hash chain)");
}

int chain_state__find_end(int dirfd, struct chain_pos *pos, uint64_t *next_number)
{
	struct seg_entry *segs = NULL;
	struct state st;
	uint64_t st_number = 0;
	size_t n = 0;
	int err, have_state, missing = 0;

	memset(pos, 0, sizeof(*pos));
	pos->end = FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__GENESIS;
	err = store_dir__list(dirfd, &segs, &n);
	if (err)
		return err;
	*next_number = n ? segs[n - 1].number + 1 : 1;
	err = read_state(dirfd, &st);
	have_state = !err;
	pos->had_segments = n > 0;
	pos->state_absent = err == -ENOENT && n > 0;
	if (err && err != -ENOENT)
		log_warn("%s: %s; finding the chain's end from the segments",
			 CHAIN_STATE_FILE, err == -EINVAL ? "not a chain state file" : strerror(-err));
	if (have_state) {
		store_dir__segment_number(st.segment, &st_number);
		if (st_number >= *next_number)
			*next_number = st_number + 1;
		/* Segments go away oldest first (retention): the newest never should. */
		missing = !n || st_number > segs[n - 1].number;
	}
	err = 0;
	if (n && !missing && st.clean && !strcmp(st.segment, segs[n - 1].name) &&
	    st.bytes == segs[n - 1].bytes) {
		*pos = st.pos;
		pos->end = FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__STOPPED;
		pos->had_segments = 1;
		goto out;
	}
	for (size_t i = n; i-- > 0;) {
		struct tail t;

		err = scan_tail(dirfd, segs[i].name, &t);
		if (err)
			goto out;
		if (t.batches) {
			from_tail(pos, segs[i].name, &t);
			break;
		}
		say(pos, "%s holds no complete batch (%s)", segs[i].name,
		    t.rc < 0 ? t.err : "its writer stopped before the first");
	}
	if (!pos->segment[0] && n)
		say(pos, "no segment holds a complete batch: the chain starts again");
	if (pos->state_absent)
		say(pos, "%s is missing while %zu segment file%s remain: segments of later runs may "
		    "have been deleted with it", CHAIN_STATE_FILE, n, n == 1 ? "" : "s");
out:
	if (missing) {
		struct chain_pos was = *pos;

		/* Nothing left to continue from: the state's word is all there is. */
		if (!n && st.clean)
			*pos = st.pos;
		pos->end = FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__MISSING;
		pos->detail[0] = 0;
		say(pos, "%s names %s as the newest segment, but it is gone", CHAIN_STATE_FILE,
		    st.segment);
		if (was.detail[0])
			say(pos, "%s", was.detail);
	}
	free(segs);
	return err;
}
