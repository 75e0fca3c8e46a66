/* A local store against the collector's copy; see against.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/array.h"
#include "base/kvtable.h"
#include "readers/against.h"
#include "readers/inputs.h"
#include "store/batchwire.h"
#include "store/chain.h"
#include "store/segment_reader.h"
#include "transport/subjects.h"

/* A run's records the local store removed by retention, as its SegmentRemoved says. */
struct removed {
	char run_id[48];
	uint64_t first_seq, last_seq;
};

struct scan {
	struct kvtable *hashes;   /* the other side's batch hashes */
	struct removed *removed;
	size_t n_removed, cap_removed;
	char node[256];
	uint64_t batches;
};

static void say(struct against_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct against_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

typedef int batch_fn(void *ctx, const uint8_t hash[CHAIN_HASH_LEN], const Firstlight__V1__Batch *b);

/* Every batch of one store, in chain order: its hash and its records. */
static int each_batch(const char *dir, batch_fn *fn, void *ctx, struct against_result *r)
{
	struct inputs in;
	int err;

	if (inputs__collect(&in, 1, (char **)&dir, dir))
		return -ENOENT;
	if (!in.n) {
		say(r, "%s: no segment files", dir);
		inputs__free(&in);
		return -ENOENT;
	}
	for (int i = 0, rc; i < in.n; i++) {
		struct segment_reader *rd = segment_reader__open(in.paths[i]);
		const uint8_t *body, *hash, *sig;
		size_t len, core;
		uint64_t off;

		if (!rd) {
			err = -errno;
			say(r, "%s: %s", in.paths[i], strerror(errno));
			inputs__free(&in);
			return err;
		}
		while ((rc = segment_reader__next_raw(rd, &body, &len, &off)) > 0) {
			Firstlight__V1__Batch *b;

			if (chain__split(body, len, &core, &hash, &sig))
				continue; /* verify says what is wrong with it */
			b = batchwire__scan(body, len, &(struct batchwire){ 0 }) ? NULL :
			    batchwire__unpack(body, len);
			if (!b)
				continue; /* verify says so too */
			err = fn(ctx, hash, b);
			firstlight__v1__batch__free_unpacked(b, NULL);
			if (err) {
				segment_reader__close(rd);
				inputs__free(&in);
				return err;
			}
		}
		segment_reader__close(rd);
	}
	inputs__free(&in);
	return 0;
}

static int note_node(struct scan *s, const Firstlight__V1__Batch *b)
{
	const char *node = b->header && *b->header->node ? b->header->node :
			   b->n_events && b->events[0]->node ? b->events[0]->node : NULL;

	if (node && !s->node[0])
		snprintf(s->node, sizeof(s->node), "%s", node);
	return 0;
}

/* The local side: its hashes, its node, what its retention removed. */
static int take_local(void *ctx, const uint8_t hash[CHAIN_HASH_LEN], const Firstlight__V1__Batch *b)
{
	struct scan *s = ctx;
	int created;

	if (!kvtable__put(s->hashes, hash, &created))
		return -ENOMEM;
	s->batches++;
	note_node(s, b);
	for (size_t i = 0; i < b->n_events; i++) {
		const Firstlight__V1__SegmentRemoved *rm = b->events[i]->segment_removed;

		if (b->events[i]->body_case != FIRSTLIGHT__V1__EVENT__BODY_SEGMENT_REMOVED)
			continue;
		if (ARRAY_GROW(s->removed, s->cap_removed, s->n_removed + 1))
			return -ENOMEM;
		snprintf(s->removed[s->n_removed].run_id, sizeof(s->removed[0].run_id), "%s", rm->agent_run_id);
		s->removed[s->n_removed].first_seq = rm->first_seq;
		s->removed[s->n_removed].last_seq = rm->last_seq;
		s->n_removed++;
	}
	return 0;
}

struct walk {
	struct scan *local;
	struct kvtable *collected; /* filled on the way, for the unshipped count */
	struct against_result *r;
	size_t cap_gone;
	int in_gap;                /* the previous collected batch was gone too */
};

static int covered(const struct scan *s, const char *run, uint64_t first, uint64_t last)
{
	for (size_t i = 0; i < s->n_removed; i++)
		if (!strcmp(s->removed[i].run_id, run) && s->removed[i].first_seq <= first &&
		    last <= s->removed[i].last_seq)
			return 1;
	return 0;
}

/* The collected side, batch by batch: each one gone from the local store is counted into
 * the stretch it belongs to (same run, consecutive). */
static int take_collected(void *ctx, const uint8_t hash[CHAIN_HASH_LEN], const Firstlight__V1__Batch *b)
{
	struct walk *w = ctx;
	struct against_result *r = w->r;
	struct against_gone *g;
	const char *run = b->n_events ? b->events[0]->agent_run_id : b->header ? b->header->agent_run_id : "";
	int created;

	if (!kvtable__put(w->collected, hash, &created))
		return -ENOMEM;
	r->collected++;
	if (!r->node[0])
		snprintf(r->node, sizeof(r->node), "%s", w->local->node);
	if (kvtable__get(w->local->hashes, hash)) {
		w->in_gap = 0;
		return 0;
	}
	g = w->in_gap && r->n_gone && !strcmp(r->gone[r->n_gone - 1].run_id, run ? run : "") ?
	    &r->gone[r->n_gone - 1] : NULL;
	if (!g) {
		if (ARRAY_GROW(r->gone, w->cap_gone, r->n_gone + 1))
			return -ENOMEM;
		g = &r->gone[r->n_gone++];
		memset(g, 0, sizeof(*g));
		snprintf(g->run_id, sizeof(g->run_id), "%s", run ? run : "");
	}
	w->in_gap = 1;
	g->batches++;
	for (size_t i = 0; i < b->n_events; i++) {
		const Firstlight__V1__Event *ev = b->events[i];

		if (!g->first_seq || ev->seq < g->first_seq)
			g->first_seq = ev->seq;
		if (ev->seq > g->last_seq)
			g->last_seq = ev->seq;
		if (!g->first_ns || ev->time_unix_nano < g->first_ns)
			g->first_ns = ev->time_unix_nano;
		if (ev->time_unix_nano > g->last_ns)
			g->last_ns = ev->time_unix_nano;
		g->records++;
	}
	return 0;
}

static int count_unshipped(void *ctx, const uint8_t hash[CHAIN_HASH_LEN], const Firstlight__V1__Batch *b)
{
	struct walk *w = ctx;

	(void)b;
	if (!kvtable__get(w->collected, hash))
		w->r->unshipped++;
	return 0;
}

int against__compare(const char *collected, const char *local, struct against_result *r)
{
	struct scan s = { 0 };
	struct walk w = { .local = &s, .r = r };
	char token[SUBJECTS_TOKEN_MAX];
	struct stat st;
	int err;

	memset(r, 0, sizeof(*r));
	s.hashes = kvtable__new(CHAIN_HASH_LEN, 1, SIZE_MAX / 2);
	w.collected = kvtable__new(CHAIN_HASH_LEN, 1, SIZE_MAX / 2);
	if (!s.hashes || !w.collected) {
		err = -ENOMEM;
		say(r, "%s", strerror(ENOMEM));
		goto out;
	}
	err = each_batch(local, take_local, &s, r);
	if (err)
		goto out;
	r->local = s.batches;
	if (!s.node[0] || subjects__token(s.node, token)) {
		err = -EINVAL;
		say(r, "%s: no record names its node", local);
		goto out;
	}
	snprintf(r->node, sizeof(r->node), "%s", s.node);
	snprintf(r->folder, sizeof(r->folder), "%s/%s", collected, token);
	if (stat(r->folder, &st) || !S_ISDIR(st.st_mode)) {
		err = -ENOENT;
		say(r, "%s holds nothing of node %s (no folder %s)", collected, s.node, token);
		goto out;
	}
	err = each_batch(r->folder, take_collected, &w, r);
	if (!err)
		err = each_batch(local, count_unshipped, &w, r);
	for (size_t i = 0; !err && i < r->n_gone; i++) {
		r->gone[i].by_retention = r->gone[i].first_seq &&
					  covered(&s, r->gone[i].run_id, r->gone[i].first_seq, r->gone[i].last_seq);
		r->deleted |= !r->gone[i].by_retention;
	}
out:
	kvtable__free(s.hashes);
	kvtable__free(w.collected);
	free(s.removed);
	return err;
}

void against__free(struct against_result *r)
{
	free(r->gone);
	r->gone = NULL;
	r->n_gone = 0;
}
