/* Checking a segment store, batch by batch; see verify.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/batchwire.h"
#include "store/chain.h"
#include "base/array.h"
#include "firstlight.pb-c.h"
#include "store/segment_reader.h"
#include "readers/verify.h"

#define RUN_MAX 64
/*
 * What verify keeps grows with what is unexplained, never with the records: a hole in
 * a run's sequence waits for the SINK_LOSS record that follows it (in a real store, in
 * the same or the next batch), losses are kept until their run ends, and a removal only
 * while it may explain where the chain starts. Past these, the store is crafted.
 */
#define HOLES_MAX 4096
#define LOSSES_MAX 65536
#define NAME_MAX_ 256
#define WHERE_MAX 600

typedef Firstlight__V1__SegmentHeader Header;

/* Sequence numbers missing between two records of a run: fine only if a loss covers them. */
struct hole {
	char run[RUN_MAX];
	uint64_t first, last;
	char where[WHERE_MAX]; /* the batch after the hole */
};

/* A SINK_LOSS gap: its run and range. */
struct loss {
	char run[RUN_MAX];
	uint64_t first, last;
};

/* A SegmentRemoved record: where the removed segment's chain ended. */
struct removal {
	uint8_t hash[CHAIN_HASH_LEN];
	char file[NAME_MAX_];
	char where[WHERE_MAX]; /* the record */
};

/* How the previous file ended, judged once the next file's header says what it knows. */
struct file_end {
	int valid;
	char path[NAME_MAX_ * 4];
	char name[NAME_MAX_];
	uint64_t batches;
	uint64_t last_seq; /* of its last complete batch's last record; 0 if none */
	int rc, truncated, unclean;
	uint64_t err_offset;
	char err[256];
};

struct verifier {
	struct verify_result res;
	uint8_t (*trusted)[KEYS_PUB_LEN];
	size_t n_trusted;
	int have_key;
	uint8_t key[KEYS_PUB_LEN];     /* with no trusted keys: the first header's */
	uint8_t seg_key[KEYS_PUB_LEN]; /* the key of the file being read */
	char seg_run[RUN_MAX];         /* its run */

	int have_chain;                /* a batch was seen: last_hash is the chain's end */
	uint8_t last_hash[CHAIN_HASH_LEN];
	char last_where[WHERE_MAX];

	int starts_after;              /* the first batch continues from start_hash */
	uint8_t start_hash[CHAIN_HASH_LEN];
	char start_where[WHERE_MAX];
	char start_prev[NAME_MAX_];

	uint64_t file_last_seq;        /* the last record read in the current file */
	char run[RUN_MAX];             /* the run whose records are being read */
	uint64_t expected;             /* its next seq; 0: not known yet */

	struct hole *holes;
	size_t n_holes, cap_holes;
	struct loss *losses;
	size_t n_losses, cap_losses;
	struct removal *removals;
	size_t n_removals, cap_removals;
	char (*seen)[NAME_MAX_];       /* file names read, to spot a removed one still here */
	size_t n_seen, cap_seen;

	struct file_end prev;
};


struct verifier *verifier__new(const uint8_t (*keys)[KEYS_PUB_LEN], size_t n)
{
	struct verifier *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	if (n) {
		v->trusted = malloc(n * KEYS_PUB_LEN);
		if (!v->trusted) {
			free(v);
			errno = ENOMEM;
			return NULL;
		}
		memcpy(v->trusted, keys, n * KEYS_PUB_LEN);
		v->n_trusted = n;
		v->res.key_trusted = 1;
	}
	return v;
}

void verifier__free(struct verifier *v)
{
	if (!v)
		return;
	free(v->trusted);
	free(v->holes);
	free(v->losses);
	free(v->removals);
	free(v->seen);
	free(v);
}

const struct verify_result *verifier__result(const struct verifier *v)
{
	return &v->res;
}

static int failf(struct verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(struct verifier *v, const char *fmt, ...)
{
	va_list ap;

	if (v->res.failed)
		return 1;
	va_start(ap, fmt);
	vsnprintf(v->res.failure, sizeof(v->res.failure), fmt, ap);
	va_end(ap);
	v->res.failed = 1;
	return 1;
}

static void note(struct verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct verifier *v, const char *fmt, ...)
{
	va_list ap;

	if (v->res.n_notes == VERIFY_NOTES_MAX) {
		v->res.notes_dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(v->res.notes[v->res.n_notes++], VERIFY_MSG_MAX, fmt, ap);
	va_end(ap);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static const char *end_name(int end)
{
	const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value(
		&firstlight__v1__segment_header__prev_end__descriptor, end);

	return e ? e->name : "?";
}

/* "seq A-B", "seq A", or "no records": which records a batch holds, from its wire scan
 * (known before the batch is unpacked, for messages about batches never unpacked). */
static void seq_span(const struct batchwire *w, char *out, size_t len)
{
	if (!w)
		snprintf(out, len, "seq unknown");
	else if (!w->events)
		snprintf(out, len, "no records");
	else if (w->events == 1)
		snprintf(out, len, "seq %" PRIu64, w->first_seq);
	else
		snprintf(out, len, "seq %" PRIu64 "-%" PRIu64, w->first_seq, w->last_seq);
}

/* ---- runs and sequence numbers --------------------------------------------------- */

/* Whether every seq of first..last of run is in some loss of that run. */
static int covered(const struct verifier *v, const char *run, uint64_t first, uint64_t last)
{
	uint64_t cur = first;

	while (cur <= last) {
		size_t i;

		for (i = 0; i < v->n_losses; i++)
			if (!strcmp(v->losses[i].run, run) && v->losses[i].first <= cur &&
			    cur <= v->losses[i].last)
				break;
		if (i == v->n_losses)
			return 0;
		if (v->losses[i].last == UINT64_MAX)
			return 1;
		cur = v->losses[i].last + 1;
	}
	return 1;
}

/* A run's records are all read: its holes must be losses it recorded. */
static int end_run(struct verifier *v)
{
	for (size_t i = 0; i < v->n_holes; i++) {
		const struct hole *h = &v->holes[i];

		if (strcmp(h->run, v->run))
			continue;
		if (!covered(v, h->run, h->first, h->last))
			return failf(v, "%s: records seq %" PRIu64 "-%" PRIu64 " of run %.8s are "
				     "missing before it, and no SINK_LOSS record accounts for them: "
				     "removed", h->where, h->first, h->last, h->run);
	}
	v->n_holes = 0;
	v->n_losses = 0; /* they explain holes of their own run only */
	return 0;
}

static int check_records(struct verifier *v, const Firstlight__V1__Batch *b, const char *where)
{
	for (size_t i = 0; i < b->n_events; i++) {
		const Firstlight__V1__Event *ev = b->events[i];
		const char *run = ev->agent_run_id ? ev->agent_run_id : "";

		if (strcmp(run, v->seg_run))
			return failf(v, "%s: record seq %" PRIu64 " belongs to run %.8s, in a segment "
				     "of run %.8s: records were moved between segments", where, ev->seq,
				     run, v->seg_run);
		if (!ev->seq || (v->expected && ev->seq < v->expected))
			return failf(v, "%s: record seq %" PRIu64 " repeats or goes back (the next "
				     "was %" PRIu64 "): records were duplicated or reordered", where,
				     ev->seq, v->expected);
		if (v->expected && ev->seq > v->expected) {
			struct hole *h;

			if (v->n_holes == HOLES_MAX)
				return failf(v, "%s: more than %d holes in the sequence of run %.8s that no "
					     "SINK_LOSS record accounts for: records were removed", where,
					     HOLES_MAX, run);
			if (ARRAY_GROW(v->holes, v->cap_holes, v->n_holes + 1))
				return failf(v, "out of memory");
			h = &v->holes[v->n_holes++];
			snprintf(h->run, sizeof(h->run), "%s", run);
			h->first = v->expected;
			h->last = ev->seq - 1;
			snprintf(h->where, sizeof(h->where), "%s", where);
		}
		v->expected = ev->seq + 1;
		v->file_last_seq = ev->seq;
		v->res.records++;
		if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_GAP && ev->gap &&
		    ev->gap->kind == FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS && ev->gap->first_seq &&
		    ev->gap->last_seq >= ev->gap->first_seq) {
			struct loss *l;

			if (v->n_losses == LOSSES_MAX)
				return failf(v, "%s: more than %d SINK_LOSS records in run %.8s: no agent "
					     "writes that many, crafted", where, LOSSES_MAX, run);
			if (ARRAY_GROW(v->losses, v->cap_losses, v->n_losses + 1))
				return failf(v, "out of memory");
			l = &v->losses[v->n_losses++];
			snprintf(l->run, sizeof(l->run), "%s", run);
			l->first = ev->gap->first_seq;
			l->last = ev->gap->last_seq;
			v->res.lost_records += ev->gap->count;
		}
		/* What the agent found at its start: a store that may have lost its newest
		 * runs. The chain cannot show it (it was cut where it ends), so say it. */
		if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_GAP && ev->gap &&
		    ev->gap->kind == FIRSTLIGHT__V1__GAP__KIND__STATE_MISSING)
			note(v, "run %.8s found at its start (seq %" PRIu64 "): %.300s; only a copy shipped "
			     "off the node can show what is missing", run, ev->seq,
			     ev->gap->detail ? ev->gap->detail : "its state files do not match its segments");
		if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_SEGMENT_REMOVED && ev->segment_removed) {
			const Firstlight__V1__SegmentRemoved *r = ev->segment_removed;
			char here[WHERE_MAX];

			v->res.removed_segments++;
			snprintf(here, sizeof(here), "seq %" PRIu64 " of run %.8s", ev->seq, run);
			/* A removed file still among the inputs was read before its record. */
			for (size_t k = 0; r->file && k < v->n_seen; k++)
				if (!strcmp(r->file, v->seen[k]))
					note(v, "%s was recorded as removed (%s) but is still here: its "
					     "removal was interrupted", v->seen[k], here);
			/* Kept only if it explains where the chain starts (the first match). */
			if (r->last_hash.len != CHAIN_HASH_LEN || !v->starts_after || v->n_removals ||
			    memcmp(r->last_hash.data, v->start_hash, CHAIN_HASH_LEN))
				continue;
			if (ARRAY_GROW(v->removals, v->cap_removals, 1))
				return failf(v, "out of memory");
			memcpy(v->removals[0].hash, r->last_hash.data, CHAIN_HASH_LEN);
			snprintf(v->removals[0].file, sizeof(v->removals[0].file), "%s", r->file ? r->file : "");
			snprintf(v->removals[0].where, sizeof(v->removals[0].where), "%s", here);
			v->n_removals = 1;
		}
	}
	return 0;
}

/* ---- segment boundaries ---------------------------------------------------------- */

/*
 * The previous file's end against what the header of the segment after it says. A
 * segment cut mid-write is fine when the next segment continues from its last complete
 * batch and says it was cut; corruption is never fine; a missing gzip trailer (a writer
 * that did not close) is worth a note.
 */
static int judge_prev_end(struct verifier *v, const Header *h)
{
	const struct file_end *p = &v->prev;
	int names_it = h && h->prev_segment && !strcmp(h->prev_segment, p->name);

	if (!p->valid)
		return 0;
	if (p->rc < 0) {
		int cut_ok = p->truncated && names_it && h->prev_offset == p->err_offset &&
			     (h->prev_end == FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__INCOMPLETE ||
			      h->prev_end == FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__WRITE_FAILED);

		if (cut_ok) {
			note(v, "%s: %s: its last batch was cut mid-write, as the next segment's "
			     "header records (%s)", p->name, p->err,
			     h->prev_detail && h->prev_detail[0] ? h->prev_detail : end_name(h->prev_end));
			return 0;
		}
		/* Its first batch cut: it holds nothing, and the chain link says if it should. */
		if (p->truncated && !p->batches) {
			note(v, "%s: %s: its writer stopped during its first batch", p->name, p->err);
			return 0;
		}
		return failf(v, "%s: batch %" PRIu64 " (after seq %" PRIu64 "): %s%s", p->path,
			     p->batches, p->last_seq, p->err,
			     names_it && h->prev_end == FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__DAMAGED
			     ? " (the next run found it damaged too)" : ": damaged or altered");
	}
	/* Emptied by the agent itself: a failed sync cut it back to nothing, and it was kept
	 * because chain.state named it. Its records are the next segment's SINK_LOSS. */
	if (!p->batches && h && h->prev_end == FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__WRITE_FAILED)
		note(v, "%s holds no batch: the next segment's header says why (%s)", p->name,
		     h->prev_detail && h->prev_detail[0] ? h->prev_detail : end_name(h->prev_end));
	else if (p->unclean && !p->batches)
		note(v, "%s holds no batch: its writer stopped before the first", p->name);
	else if (p->unclean && names_it &&
		 h->prev_end != FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__ROTATED &&
		 h->prev_end != FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__STOPPED)
		note(v, "%s ends without a clean close (%s): %s", p->name, end_name(h->prev_end),
		     h->prev_detail && h->prev_detail[0] ? h->prev_detail : "");
	else if (p->unclean)
		note(v, "%s lacks its gzip trailer although the next segment says it was closed "
		     "(%s): every batch is there", p->name, h ? end_name(h->prev_end) : "?");
	return 0;
}

/* The segment header of a file's first batch. */
static int check_header(struct verifier *v, const Header *h, const char *where)
{
	char hex[KEYS_HEX_LEN], was[KEYS_HEX_LEN];

	if (!h)
		return failf(v, "%s: the first batch of the file has no segment header: not the "
			     "start of a segment", where);
	if (h->format_version != CHAIN_FORMAT_VERSION)
		return failf(v, "%s: segment format %u, this verifier knows %u", where,
			     h->format_version, CHAIN_FORMAT_VERSION);
	if (h->public_key.len != KEYS_PUB_LEN)
		return failf(v, "%s: the segment header names no Ed25519 key", where);
	keys__hex(h->public_key.data, hex);
	if (v->n_trusted) {
		size_t i;

		for (i = 0; i < v->n_trusted; i++)
			if (!memcmp(v->trusted[i], h->public_key.data, KEYS_PUB_LEN))
				break;
		if (i == v->n_trusted)
			return failf(v, "%s: the segment is signed by key %s, which is not a trusted "
				     "key (--pubkey): forged, or signed by another node", where, hex);
	} else if (!v->have_key) {
		v->have_key = 1;
		memcpy(v->key, h->public_key.data, KEYS_PUB_LEN);
	} else if (memcmp(v->key, h->public_key.data, KEYS_PUB_LEN)) {
		keys__hex(v->key, was);
		return failf(v, "%s: the signing key changes here, from %s to %s: forged, or the "
			     "node key was replaced (give the keys you trust with --pubkey)", where,
			     was, hex);
	}
	memcpy(v->seg_key, h->public_key.data, KEYS_PUB_LEN);
	memcpy(v->res.key_hex, hex, sizeof(hex));
	if (h->prev_end == FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__MISSING)
		return failf(v, "%s: at its start the agent found a segment missing: %s", where,
			     h->prev_detail ? h->prev_detail : "");
	if (h->prev_end == FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__DAMAGED)
		return failf(v, "%s: at its start the agent found %s damaged: %s", where,
			     h->prev_segment ? h->prev_segment : "?", h->prev_detail ? h->prev_detail : "");
	/*
	 * A new run: the one before is over, and this one counts from 1 (a start that is
	 * missing is a hole like any other), unless the chain itself starts here, after
	 * removed segments, where the run's first number is not known.
	 */
	if (strcmp(h->agent_run_id ? h->agent_run_id : "", v->run)) {
		if (v->run[0] && end_run(v))
			return 1;
		v->res.runs++;
		snprintf(v->run, sizeof(v->run), "%s", h->agent_run_id ? h->agent_run_id : "");
		v->expected = v->have_chain ? 1 : 0;
	}
	snprintf(v->seg_run, sizeof(v->seg_run), "%s", v->run);
	return 0;
}

/* The chain link: this batch (its wire scan, and its header when it has one) continues
 * the one before it. */
static int check_link(struct verifier *v, const struct batchwire *w, const Header *hd,
		      uint64_t index, const char *where)
{
	char want[CHAIN_HEX_LEN], got[CHAIN_HEX_LEN];
	size_t plen = w->prev_hash ? w->prev_hash_len : 0;

	if (!v->have_chain) {
		if (plen == CHAIN_HASH_LEN) {
			v->starts_after = 1;
			memcpy(v->start_hash, w->prev_hash, CHAIN_HASH_LEN);
			snprintf(v->start_where, sizeof(v->start_where), "%s", where);
			snprintf(v->start_prev, sizeof(v->start_prev), "%s",
				 hd && hd->prev_segment ? hd->prev_segment : "?");
		} else if (plen) {
			return failf(v, "%s: its previous hash is %zu bytes long, not %d", where,
				     plen, CHAIN_HASH_LEN);
		}
		return 0;
	}
	if (plen == CHAIN_HASH_LEN && !memcmp(w->prev_hash, v->last_hash, CHAIN_HASH_LEN))
		return 0;
	chain__hex(v->last_hash, CHAIN_HASH_LEN, want);
	chain__hex(w->prev_hash, plen, got);
	if (index == 0) {
		const char *prev = hd && hd->prev_segment && hd->prev_segment[0] ? hd->prev_segment : NULL;
		int present = 0;

		for (size_t i = 0; prev && i + 1 < v->n_seen; i++)
			present |= !strcmp(v->seen[i], prev);
		if (prev && !present)
			return failf(v, "%s: the segment continues from %s (previous hash %s), which "
				     "is not among the inputs: removed without a retention record (the "
				     "batch before it in the inputs is %s)", where, prev, got, v->last_where);
		return failf(v, "%s: the segment does not continue the chain: it follows %s "
			     "(previous hash %s), but the batch before it in the inputs is %s (hash "
			     "%s): a segment was cut short or replaced, or files are out of order",
			     where, prev ? prev : "nothing", got[0] ? got : "none", v->last_where, want);
	}
	return failf(v, "%s: it does not follow the batch before it (%s): a batch was "
		     "removed, inserted or moved", where, v->last_where);
}

/*
 * One stored batch: its hash, its shape (limits), its header, its link and its
 * signature are checked on the bytes as stored, before it is unpacked: a batch that is
 * not what the node key signed costs no more than its bytes. Then its records.
 */
static int check_batch(struct verifier *v, const char *path, uint64_t index, uint64_t off,
		       const uint8_t *body, size_t len)
{
	Firstlight__V1__Batch *b = NULL;
	Header *hd = NULL;
	struct batchwire w;
	const uint8_t *hash, *sig;
	uint8_t computed[CHAIN_HASH_LEN];
	char where[WHERE_MAX], span[64], hex[KEYS_HEX_LEN];
	size_t core;
	int split = chain__split(body, len, &core, &hash, &sig);
	int scan = batchwire__scan(body, split ? len : core, &w);
	int rc = 1;

	seq_span(scan ? NULL : &w, span, sizeof(span));
	snprintf(where, sizeof(where), "%s: batch %" PRIu64 " at byte %" PRIu64 " (%s)", path,
		 index, off, span);
	if (split) {
		failf(v, "%s: it has no hash and signature at its end: written without the hash "
		      "chain, or altered", where);
		goto out;
	}
	if (chain__hash(body, core, computed)) {
		failf(v, "%s: hashing failed", where);
		goto out;
	}
	if (memcmp(computed, hash, CHAIN_HASH_LEN)) {
		failf(v, "%s: its contents do not match its hash: modified after it was written",
		      where);
		goto out;
	}
	if (scan == -E2BIG) {
		failf(v, "%s: it holds more than %u records or a header over %u bytes, which no "
		      "agent writes: crafted", where, BATCH_MAX_EVENTS, BATCH_HEADER_MAX);
		goto out;
	}
	if (scan) {
		failf(v, "%s: it does not decode as a Batch", where);
		goto out;
	}
	if (w.has_hash || w.has_signature) {
		failf(v, "%s: a hash or signature field inside its hashed part", where);
		goto out;
	}
	if (w.header && !(hd = batchwire__unpack_header(&w))) {
		failf(v, "%s: its segment header does not decode", where);
		goto out;
	}
	if (index == 0 && check_header(v, hd, where))
		goto out;
	if (index > 0 && hd) {
		failf(v, "%s: a segment header in the middle of a file: batches of another "
		      "segment were inserted", where);
		goto out;
	}
	if (check_link(v, &w, hd, index, where))
		goto out;
	if (chain__check_signature(v->seg_key, hash, sig)) {
		keys__hex(v->seg_key, hex);
		failf(v, "%s: its signature does not verify with key %s: forged without the "
		      "node key", where, hex);
		goto out;
	}
	/* Signed by the key: now its records are worth unpacking (within the budget). */
	b = batchwire__unpack(body, core);
	if (!b) {
		failf(v, "%s: %s", where, errno == E2BIG ?
		      "it would take more memory to unpack than any agent's batch: crafted" :
		      "it does not decode as a Batch");
		goto out;
	}
	if (index == 0 && b->n_events && hd->first_seq != b->events[0]->seq) {
		failf(v, "%s: the header says the segment starts at seq %" PRIu64, where,
		      hd->first_seq);
		goto out;
	}
	if (check_records(v, b, where))
		goto out;
	v->have_chain = 1;
	memcpy(v->last_hash, hash, CHAIN_HASH_LEN);
	snprintf(v->last_where, sizeof(v->last_where), "%s", where);
	v->res.batches++;
	rc = 0;
out:
	firstlight__v1__segment_header__free_unpacked(hd, NULL);
	firstlight__v1__batch__free_unpacked(b, NULL);
	return rc;
}

int verifier__file(struct verifier *v, const char *path)
{
	struct segment_reader *r;
	const uint8_t *body;
	uint64_t off, index = 0;
	size_t len;
	int rc;

	if (v->res.failed)
		return 1;
	r = segment_reader__open(path);
	if (!r)
		return failf(v, "%s: %s", path, strerror(errno));
	v->res.files++;
	v->file_last_seq = 0;
	if (!ARRAY_GROW(v->seen, v->cap_seen, v->n_seen + 1))
		snprintf(v->seen[v->n_seen++], NAME_MAX_, "%s", base_name(path));
	while ((rc = segment_reader__next_raw(r, &body, &len, &off)) > 0) {
		if (index == 0) {
			Header *hd = NULL;
			struct batchwire w;
			size_t core;
			const uint8_t *h, *s;

			/* The previous file is judged by what this header says of it (the header
			 * alone is unpacked: the batch is checked before its records are). */
			if (!chain__split(body, len, &core, &h, &s) && !batchwire__scan(body, core, &w))
				hd = batchwire__unpack_header(&w);
			rc = judge_prev_end(v, hd);
			firstlight__v1__segment_header__free_unpacked(hd, NULL);
			v->prev.valid = 0;
			if (rc)
				break;
		}
		rc = check_batch(v, path, index++, off, body, len);
		if (rc)
			break;
	}
	if (!v->res.failed) {
		struct file_end *p = &v->prev;

		if (!index && p->valid && rc == 0) {
			/* An empty file says nothing about the one before: keep judging that. */
			note(v, "%s holds no batch: its writer stopped before the first",
			     base_name(path));
		} else {
			/* Damage no header will ever acknowledge. */
			if (!index && p->valid && p->rc < 0)
				judge_prev_end(v, NULL);
			memset(p, 0, sizeof(*p));
			p->valid = 1;
			snprintf(p->path, sizeof(p->path), "%s", path);
			snprintf(p->name, sizeof(p->name), "%s", base_name(path));
			p->batches = index;
			p->last_seq = v->file_last_seq;
			p->rc = rc;
			p->truncated = segment_reader__truncated(r);
			p->unclean = segment_reader__unclean_end(r);
			p->err_offset = segment_reader__offset(r);
			if (rc < 0)
				snprintf(p->err, sizeof(p->err), "%s", segment_reader__error(r));
		}
	}
	segment_reader__close(r);
	return v->res.failed;
}

int verifier__finish(struct verifier *v)
{
	const struct file_end *p = &v->prev;

	if (v->res.failed)
		return 1;
	if (p->valid && p->rc < 0 && p->truncated)
		return failf(v, "%s: batch %" PRIu64 " (after seq %" PRIu64 "): %s: the store ends "
			     "inside a batch (a file cut short, or a writer killed mid-write and not "
			     "restarted since)", p->path, p->batches, p->last_seq, p->err);
	if (p->valid && p->rc < 0)
		return failf(v, "%s: batch %" PRIu64 " (after seq %" PRIu64 "): %s: damaged or "
			     "altered", p->path, p->batches, p->last_seq, p->err);
	if (p->valid && p->unclean && p->batches)
		note(v, "%s, the last segment, ends without a clean close: the agent is running, "
		     "or was killed and has not restarted since", p->name);
	if (p->valid && p->unclean && !p->batches)
		note(v, "%s holds no batch: its writer stopped before the first", p->name);
	if (v->run[0] && end_run(v))
		return 1;
	if (!v->have_chain)
		return failf(v, "no batch to verify");
	if (v->starts_after) {
		size_t i;

		for (i = 0; i < v->n_removals; i++)
			if (!memcmp(v->removals[i].hash, v->start_hash, CHAIN_HASH_LEN))
				break;
		if (i == v->n_removals)
			return failf(v, "%s: the chain starts here, after %s, which is not among the "
				     "inputs, and no retention record in the chain says it was removed: "
				     "deleted, or give all the segments", v->start_where, v->start_prev);
		note(v, "the chain starts after segments removed by retention (the last, %s, "
		     "recorded at %s)", v->removals[i].file, v->removals[i].where);
	}
	return 0;
}
