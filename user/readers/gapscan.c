/* Gap records and the holes between records; see gapscan.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "readers/gapscan.h"
#include "base/arena.h"
#include "base/array.h"
#include "base/strmap.h"
#include "records/wlkey.h"

/* Consecutive seq numbers read, lo..hi, with the times of the records at both ends. */
struct span {
	uint64_t lo, hi;
	uint64_t t_lo, t_hi;
	size_t file_lo; /* input of the record lo: where a hole before it shows */
};

/* A heartbeat or the STOPPED record: proof that the agent's loop ran then. */
struct beat {
	uint64_t seq, t;
	size_t file;
};

struct range {
	uint64_t lo, hi;
};

struct run {
	char *id, *node, *boot_id;
	size_t order;             /* first appearance among runs */
	uint64_t first_ns, last_ns; /* earliest and latest record time (0s ignored) */
	uint64_t last_seq;        /* highest seq read, and where it was */
	size_t last_file;
	struct span *spans;       /* sorted, disjoint, never adjacent */
	size_t n_spans, cap_spans;
	struct beat *beats;
	size_t n_beats, cap_beats;
	struct range *lost;       /* seq ranges a SINK_LOSS or segment_removed record accounts for */
	size_t n_removed;         /* segments of it the store's retention removed */
	uint64_t removed_lo;      /* the lowest seq such a removal names (0: none) */
	size_t n_lost, cap_lost;
	uint64_t interval_ns;     /* heartbeat interval (the largest announced) */
	int started, stopped, live;
	uint64_t records;         /* distinct records read */
	uint32_t pid;
	uint64_t started_boot_ns;
};

struct row {
	struct gap_row pub;
	size_t added;       /* insertion order: the last tie-breaker, for a stable listing */
	size_t rank;        /* of its run */
};

struct gapscan {
	struct run *runs;
	size_t *run_order;  /* after finish: run indexes in listing order */
	size_t n_runs, cap_runs;
	struct strmap *run_ids; /* run id (the run's own copy) -> run index + 1 */
	size_t cur_run;     /* the last run looked up: records come in long runs */
	int has_cur;
	char **files;
	size_t n_files, cap_files;
	size_t cur_file;    /* SIZE_MAX: no begin_file yet */
	struct row *rows;
	size_t n_rows, cap_rows;
	struct gapscan_stats st;
	int finished;
	struct arena *a;       /* the owners map's keys and values */
	struct strmap *owners; /* "node\x1fworkload key" -> owner ("": no rule matched) */
};

static const char *const detected_names[] = {
	[GAPSCAN_SEQUENCE_HOLE - GAPSCAN_DETECTED] = "SEQUENCE_HOLE",
	[GAPSCAN_HEARTBEAT_MISSING - GAPSCAN_DETECTED] = "HEARTBEAT_MISSING",
	[GAPSCAN_UNCLEAN_END - GAPSCAN_DETECTED] = "UNCLEAN_END",
	[GAPSCAN_MISSING_BEGINNING - GAPSCAN_DETECTED] = "MISSING_BEGINNING",
};


static char *dup_str(const char *s)
{
	return strdup(s ? s : "");
}

struct gapscan *gapscan__new(void)
{
	struct gapscan *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cur_file = SIZE_MAX;
	s->a = arena__new();
	s->owners = strmap__new();
	s->run_ids = strmap__new();
	if (!s->a || !s->owners || !s->run_ids) {
		gapscan__free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

static void free_row(struct row *r)
{
	free((char *)r->pub.workload);
	free((char *)r->pub.event_type);
	free((char *)r->pub.reason);
	free((char *)r->pub.previous_run_id);
	free((char *)r->pub.about);
	free((char *)r->pub.detail);
}

void gapscan__free(struct gapscan *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_runs; i++) {
		struct run *r = &s->runs[i];

		free(r->id);
		free(r->node);
		free(r->boot_id);
		free(r->spans);
		free(r->beats);
		free(r->lost);
	}
	free(s->runs);
	free(s->run_order);
	strmap__free(s->run_ids);
	for (size_t i = 0; i < s->n_files; i++)
		free(s->files[i]);
	free(s->files);
	for (size_t i = 0; i < s->n_rows; i++)
		free_row(&s->rows[i]);
	free(s->rows);
	strmap__free(s->owners);
	arena__free(s->a);
	free(s);
}

/* "node\x1fkey" in the arena: a workload key is its node's own. NULL: no memory. */
static char *owner_key(struct gapscan *s, const char *node, const char *key)
{
	size_t n = strlen(node ? node : "") + strlen(key) + 2;
	char *k = arena__alloc(s->a, n);

	if (k)
		snprintf(k, n, "%s\x1f%s", node ? node : "", key);
	return k;
}

/* A Workload record written under an owners file: who owns it, as of this record. */
static int note_owner(struct gapscan *s, const Firstlight__V1__Event *ev)
{
	const Firstlight__V1__Workload *w = ev->workload;
	char buf[WLKEY_MAX];
	const char *key;
	char *k, *v;

	if (!w || !w->owners_sha256 || !*w->owners_sha256)
		return 0;
	key = wlkey__of_record(buf, w->key, w->cgroup_id);
	if (!key)
		return 0;
	k = owner_key(s, ev->node, key);
	v = arena__strdup(s->a, w->owner ? w->owner : "");
	return k && v ? strmap__put(s->owners, k, v) : -ENOMEM;
}

int gapscan__begin_file(struct gapscan *s, const char *name)
{
	char *copy;

	if (s->n_files && !strcmp(s->files[s->n_files - 1], name)) {
		s->cur_file = s->n_files - 1;
		return 0;
	}
	if (ARRAY_GROW(s->files, s->cap_files, s->n_files + 1) || !(copy = strdup(name)))
		return -ENOMEM;
	s->files[s->n_files] = copy;
	s->cur_file = s->n_files++;
	return 0;
}

static const char *file_name(const struct gapscan *s, size_t i)
{
	return i < s->n_files ? s->files[i] : "";
}

/* The run named id, created on first sight. NULL on -ENOMEM. */
static struct run *run_get(struct gapscan *s, const char *id)
{
	uintptr_t found;
	struct run *r;

	if (s->has_cur && !strcmp(s->runs[s->cur_run].id, id))
		return &s->runs[s->cur_run];
	/* An index, not a pointer: the runs array moves as it grows. */
	found = (uintptr_t)strmap__get(s->run_ids, id);
	if (found) {
		s->cur_run = found - 1;
		s->has_cur = 1;
		return &s->runs[s->cur_run];
	}
	if (ARRAY_GROW(s->runs, s->cap_runs, s->n_runs + 1))
		return NULL;
	r = &s->runs[s->n_runs];
	memset(r, 0, sizeof(*r));
	r->id = strdup(id);
	r->node = strdup("");
	if (!r->id || !r->node || strmap__put(s->run_ids, r->id, (void *)(uintptr_t)(s->n_runs + 1))) {
		free(r->id);
		free(r->node);
		return NULL;
	}
	r->order = s->n_runs;
	s->cur_run = s->n_runs++;
	s->has_cur = 1;
	return r;
}

/*
 * Marks seq as read. 1 if it already was (a duplicate), 0, or -ENOMEM. Records of a run
 * read in order only ever extend the last span, so the search is for the rare rest.
 */
static int spans_add(struct run *r, uint64_t seq, uint64_t t, size_t file)
{
	struct span *sp;
	size_t lo = 0, hi = r->n_spans;

	if (hi && r->spans[hi - 1].hi < seq - 1)
		lo = hi; /* past the end: skip the search */
	/* The first span that ends at or after seq - 1 (seq >= 1 here). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->spans[mid].hi < seq - 1)
			lo = mid + 1;
		else
			hi = mid;
	}
	sp = lo < r->n_spans ? &r->spans[lo] : NULL;
	if (sp && sp->lo - 1 <= seq) { /* touches or is inside span lo; lo >= 1 */
		if (seq >= sp->lo && seq <= sp->hi)
			return 1;
		if (seq == sp->lo - 1) {
			sp->lo = seq;
			sp->t_lo = t;
			sp->file_lo = file;
			return 0;
		}
		/* seq == sp->hi + 1: extend, and join the next span if it now touches. */
		sp->hi = seq;
		sp->t_hi = t;
		if (lo + 1 < r->n_spans && sp[1].lo - 1 == seq) {
			sp->hi = sp[1].hi;
			sp->t_hi = sp[1].t_hi;
			memmove(sp + 1, sp + 2, (r->n_spans - lo - 2) * sizeof(*sp));
			r->n_spans--;
		}
		return 0;
	}
	if (ARRAY_GROW(r->spans, r->cap_spans, r->n_spans + 1))
		return -ENOMEM;
	sp = &r->spans[lo];
	memmove(sp + 1, sp, (r->n_spans - lo) * sizeof(*sp));
	*sp = (struct span){ .lo = seq, .hi = seq, .t_lo = t, .t_hi = t, .file_lo = file };
	r->n_spans++;
	return 0;
}

static int beat_add(struct run *r, uint64_t seq, uint64_t t, size_t file)
{
	if (!t)
		return 0; /* no time, no proof of when the agent ran */
	if (ARRAY_GROW(r->beats, r->cap_beats, r->n_beats + 1))
		return -ENOMEM;
	r->beats[r->n_beats++] = (struct beat){ .seq = seq, .t = t, .file = file };
	return 0;
}

static struct row *row_new(struct gapscan *s, int kind, int detected, size_t run)
{
	struct row *w;

	if (ARRAY_GROW(s->rows, s->cap_rows, s->n_rows + 1))
		return NULL;
	w = &s->rows[s->n_rows];
	memset(w, 0, sizeof(*w));
	w->pub.kind = kind;
	w->pub.detected = detected;
	w->pub.run = run;
	w->added = s->n_rows;
	return w;
}

/* Fills the owned strings of a new row: NULLs become "". 0 or -ENOMEM (row dropped). */
static int row_commit(struct gapscan *s, struct row *w, const char *workload,
		      const char *event_type, const char *reason, const char *prev, const char *about,
		      char *detail)
{
	struct gap_row *g = &w->pub;

	g->workload = dup_str(workload);
	g->event_type = dup_str(event_type);
	g->reason = dup_str(reason);
	g->previous_run_id = dup_str(prev);
	g->about = dup_str(about);
	g->detail = detail;
	if (!g->workload || !g->event_type || !g->reason || !g->previous_run_id || !g->about || !g->detail) {
		free_row(w);
		return -ENOMEM;
	}
	s->n_rows++;
	return 0;
}

static int add_recorded(struct gapscan *s, size_t run, const Firstlight__V1__Event *ev)
{
	const Firstlight__V1__Gap *gap = ev->gap;
	struct run *r = &s->runs[run];
	struct row *w;
	int kind = gap->kind;

	/* A value outside the enum's space cannot be confused with a detected kind. */
	if (kind < 0 || kind >= GAPSCAN_DETECTED)
		kind = -1;
	if (gap->kind == FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS && gap->first_seq &&
	    gap->last_seq >= gap->first_seq) {
		if (ARRAY_GROW(r->lost, r->cap_lost, r->n_lost + 1))
			return -ENOMEM;
		r->lost[r->n_lost++] = (struct range){ gap->first_seq, gap->last_seq };
	}
	w = row_new(s, kind, 0, run);
	if (!w)
		return -ENOMEM;
	w->pub.cgroup_id = gap->cgroup_id;
	w->pub.start_ns = gap->start_time_unix_nano;
	w->pub.end_ns = gap->end_time_unix_nano;
	w->pub.count = gap->count;
	w->pub.has_count = 1;
	w->pub.first_seq = gap->first_seq;
	w->pub.last_seq = gap->last_seq;
	w->pub.seq = ev->seq;
	w->pub.file = file_name(s, s->cur_file);
	w->pub.record_ns = ev->time_unix_nano;
	return row_commit(s, w, gap->workload_key, gap->event_type, gap->reason,
			  gap->previous_run_id, gap->node, dup_str(gap->detail));
}

int gapscan__add(struct gapscan *s, const Firstlight__V1__Event *ev)
{
	uint64_t t = ev->time_unix_nano;
	size_t run;
	struct run *r;
	int dup = 0;

	if (s->finished)
		return -EINVAL;
	r = run_get(s, ev->agent_run_id ? ev->agent_run_id : "");
	if (!r)
		return -ENOMEM;
	run = (size_t)(r - s->runs);
	s->st.records++;
	if (!r->node[0] && ev->node && ev->node[0]) {
		char *node = strdup(ev->node);

		if (!node)
			return -ENOMEM;
		free(r->node);
		r->node = node;
	}
	if (t && (!r->first_ns || t < r->first_ns))
		r->first_ns = t;
	if (t > r->last_ns)
		r->last_ns = t;
	if (!ev->seq) {
		s->st.no_seq++;
	} else {
		dup = spans_add(r, ev->seq, t, s->cur_file);
		if (dup < 0)
			return dup;
		if (dup) {
			/* The same record twice (an input given twice): its content counts once. */
			s->st.duplicates++;
			return 0;
		}
		r->records++;
		if (ev->seq > r->last_seq) {
			r->last_seq = ev->seq;
			r->last_file = s->cur_file;
		}
	}
	switch (ev->body_case) {
	case FIRSTLIGHT__V1__EVENT__BODY_SEGMENT_REMOVED: {
		/* Removed by retention policy: those seqs are explained, not missing. */
		const Firstlight__V1__SegmentRemoved *sr = ev->segment_removed;
		struct run *target;

		if (!sr || !sr->agent_run_id || !sr->first_seq || sr->last_seq < sr->first_seq)
			return 0;
		target = run_get(s, sr->agent_run_id);
		if (!target)
			return -ENOMEM;
		if (ARRAY_GROW(target->lost, target->cap_lost, target->n_lost + 1))
			return -ENOMEM;
		target->lost[target->n_lost++] = (struct range){ sr->first_seq, sr->last_seq };
		target->n_removed++;
		if (!target->removed_lo || sr->first_seq < target->removed_lo)
			target->removed_lo = sr->first_seq;
		/* run_get may have moved the runs: ours is found again by the next record. */
		return 0;
	}
	case FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT:
		if (ev->heartbeat && ev->heartbeat->interval_nano > r->interval_ns)
			r->interval_ns = ev->heartbeat->interval_nano;
		return beat_add(r, ev->seq, t, s->cur_file);
	case FIRSTLIGHT__V1__EVENT__BODY_AGENT:
		if (!ev->agent)
			return 0;
		if (ev->agent->state == FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED) {
			r->stopped = 1;
			return beat_add(r, ev->seq, t, s->cur_file);
		}
		if (ev->agent->state == FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STARTED) {
			char *boot = dup_str(ev->agent->boot_id);

			if (!boot)
				return -ENOMEM;
			free(r->boot_id);
			r->boot_id = boot;
			r->started = 1;
			r->pid = ev->agent->pid;
			r->started_boot_ns = ev->boot_nano;
		}
		/*
		 * STARTED is no beat: the agent records pre-existing processes after it and
		 * only then starts its heartbeat clock, so on a large node the first heartbeat
		 * comes late by design.
		 */
		return 0;
	case FIRSTLIGHT__V1__EVENT__BODY_GAP:
		return ev->gap ? add_recorded(s, run, ev) : 0;
	case FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD:
		return note_owner(s, ev);
	default:
		return 0;
	}
}

/* Adds a detected row with a formatted detail. 0 or -ENOMEM. */
static int add_detected(struct gapscan *s, int kind, size_t run, uint64_t start, uint64_t end,
			size_t file, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int add_detected(struct gapscan *s, int kind, size_t run, uint64_t start, uint64_t end,
			size_t file, const char *fmt, ...)
{
	struct row *w = row_new(s, kind, 1, run);
	char *detail = NULL;
	va_list ap;
	int n;

	if (!w)
		return -ENOMEM;
	va_start(ap, fmt);
	n = vasprintf(&detail, fmt, ap);
	va_end(ap);
	if (n < 0)
		detail = NULL;
	w->pub.start_ns = start;
	w->pub.end_ns = end;
	w->pub.file = file_name(s, file);
	return row_commit(s, w, NULL, NULL, NULL, NULL, NULL, detail);
}

/* Missing seq a..b of a run: one row, its seq range and count set. */
static int add_missing(struct gapscan *s, size_t run, uint64_t a, uint64_t b, uint64_t start,
		       uint64_t end, size_t file, uint64_t first_read)
{
	int err;

	if (a == 1)
		err = add_detected(s, GAPSCAN_MISSING_BEGINNING, run, start, end, file,
				   "seq 1-%" PRIu64 " missing: the first record read is seq %" PRIu64
				   " (the run's start was pruned or deleted)", b, first_read);
	else if (a == b)
		err = add_detected(s, GAPSCAN_SEQUENCE_HOLE, run, start, end, file,
				   "seq %" PRIu64 " missing", a);
	else
		err = add_detected(s, GAPSCAN_SEQUENCE_HOLE, run, start, end, file,
				   "seq %" PRIu64 "-%" PRIu64 " missing", a, b);
	if (!err) {
		struct gap_row *g = &s->rows[s->n_rows - 1].pub;

		g->first_seq = a;
		g->last_seq = b;
		g->count = b - a + 1;
		g->has_count = 1;
	}
	return err;
}

/*
 * Seq a..b are missing between records at times start and end: reports the parts that
 * no SINK_LOSS gap record already accounts for (the agent said it lost those).
 */
static int report_missing(struct gapscan *s, size_t run, uint64_t a, uint64_t b,
			  uint64_t start, uint64_t end, size_t file, uint64_t first_read)
{
	const struct run *r = &s->runs[run];
	uint64_t cur = a;
	int err;

	for (size_t i = 0; i < r->n_lost && cur <= b; i++) {
		const struct range *l = &r->lost[i];

		if (l->hi < cur || l->lo > b)
			continue;
		if (l->lo > cur && (err = add_missing(s, run, cur, l->lo - 1, start, end, file, first_read)))
			return err;
		if (l->hi >= b)
			return 0;
		cur = l->hi + 1;
	}
	return cur <= b ? add_missing(s, run, cur, b, start, end, file, first_read) : 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_beat(const void *a, const void *b)
{
	const struct beat *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

/* ns as seconds with up to 3 decimals, "35.2s", into buf (at least 32 bytes). */
static const char *fmt_secs(char *buf, uint64_t ns)
{
	int n = snprintf(buf, 32, "%" PRIu64 ".%03" PRIu64, ns / 1000000000u,
			 ns % 1000000000u / 1000000u);

	while (n > 0 && buf[n - 1] == '0')
		n--;
	if (n > 0 && buf[n - 1] == '.')
		n--;
	buf[n++] = 's';
	buf[n] = '\0';
	return buf;
}

/* Heartbeats further apart than twice the interval, and after the last one when live. */
static int report_heartbeats(struct gapscan *s, size_t run, int live, uint64_t now)
{
	const struct run *r = &s->runs[run];
	uint64_t iv = r->interval_ns;
	char d[32], i[32];
	int err;

	if (!iv)
		return 0; /* no heartbeat read: nothing says how often to expect one */
	for (size_t k = 1; k < r->n_beats; k++) {
		const struct beat *a = &r->beats[k - 1], *b = &r->beats[k];
		uint64_t gap = b->t > a->t ? b->t - a->t : 0;

		/* gap > 2 * iv, written so that it cannot overflow */
		if (gap <= iv || gap - iv <= iv)
			continue;
		err = add_detected(s, GAPSCAN_HEARTBEAT_MISSING, run, a->t, b->t, b->file,
				   "no heartbeat for %s (interval %s) between seq %" PRIu64
				   " and seq %" PRIu64, fmt_secs(d, gap), fmt_secs(i, iv), a->seq, b->seq);
		if (err)
			return err;
		/* The beats expected strictly inside the window: ceil(gap / iv) - 1. */
		s->rows[s->n_rows - 1].pub.count = gap / iv + (gap % iv != 0) - 1;
		s->rows[s->n_rows - 1].pub.has_count = 1;
	}
	if (live && r->n_beats) {
		const struct beat *a = &r->beats[r->n_beats - 1];
		uint64_t gap = now > a->t ? now - a->t : 0;

		if (gap <= iv || gap - iv <= iv)
			return 0;
		err = add_detected(s, GAPSCAN_HEARTBEAT_MISSING, run, a->t, now, r->last_file,
				   "no heartbeat for %s (interval %s) since seq %" PRIu64
				   ", yet agent pid %" PRIu32 " still runs", fmt_secs(d, gap),
				   fmt_secs(i, iv), a->seq, r->pid);
		if (err)
			return err;
		s->rows[s->n_rows - 1].pub.count = gap / iv + (gap % iv != 0) - 1;
		s->rows[s->n_rows - 1].pub.has_count = 1;
	}
	return 0;
}

/* The newest run of r's node (by first record): later runs say how an older one ended. */
static int newest_of_node(const struct gapscan *s, const struct run *r)
{
	for (size_t i = 0; i < s->n_runs; i++) {
		const struct run *o = &s->runs[i];

		if (o != r && !strcmp(o->node, r->node) && o->first_ns > r->first_ns)
			return 0;
	}
	return 1;
}

static int finish_run(struct gapscan *s, size_t run, const struct gapscan_env *env)
{
	struct run *r = &s->runs[run];
	int live = 0, remote, silent = 0, err;

	/* qsort's pointer must not be NULL, even for no elements. */
	if (r->n_beats > 1)
		qsort(r->beats, r->n_beats, sizeof(*r->beats), cmp_beat);
	/*
	 * Retention removes the oldest segment first: what a run wrote before a removed
	 * segment went before it, by the same policy, and the records saying so may have
	 * gone since with the segments that held them (a busy store prunes its own removal
	 * records). verify reasons the same way from the hash chain.
	 */
	if (r->removed_lo > 1) {
		if (ARRAY_GROW(r->lost, r->cap_lost, r->n_lost + 1))
			return -ENOMEM;
		r->lost[r->n_lost++] = (struct range){ 1, r->removed_lo - 1 };
	}
	if (r->n_lost > 1)
		qsort(r->lost, r->n_lost, sizeof(*r->lost), cmp_range);
	/* A run of another machine (a collected store) cannot be asked about through /proc:
	 * it is live while it is heard from. */
	remote = env && env->local_node && r->node[0] && strcmp(r->node, env->local_node);
	if (!r->stopped && remote && newest_of_node(s, r)) {
		uint64_t iv = r->interval_ns ? r->interval_ns : 10000000000ull;

		live = env->now_ns && r->last_ns && env->now_ns - r->last_ns <= 3 * iv;
		silent = !live;
	} else if (!r->stopped && r->started && env && env->run_is_live && !remote) {
		live = env->run_is_live(env->ctx, r->pid, r->boot_id, r->started_boot_ns) > 0;
	}
	s->st.live_runs += (size_t)live;
	r->live = live;
	/* Known only from retention's records: every record of it was removed by policy. */
	if (!r->n_spans && r->n_removed)
		return 0;

	if (r->n_spans && r->spans[0].lo > 1 &&
	    (err = report_missing(s, run, 1, r->spans[0].lo - 1, 0, r->spans[0].t_lo,
				  r->spans[0].file_lo, r->spans[0].lo)))
		return err;
	for (size_t i = 1; i < r->n_spans; i++) {
		const struct span *a = &r->spans[i - 1], *b = &r->spans[i];

		err = report_missing(s, run, a->hi + 1, b->lo - 1, a->t_hi, b->t_lo, b->file_lo,
				     r->spans[0].lo);
		if (err)
			return err;
	}
	err = report_heartbeats(s, run, live, env ? env->now_ns : 0);
	if (err)
		return err;
	if (silent)
		return add_detected(s, FIRSTLIGHT__V1__GAP__KIND__NODE_SILENT, run, r->last_ns, 0, r->last_file,
				    "node %.200s: nothing heard since its record seq %" PRIu64 " and no STOPPED record: "
				    "its sensor or the node itself went silent", r->node, r->last_seq);
	if (!r->stopped && !live) {
		if (r->n_spans)
			err = add_detected(s, GAPSCAN_UNCLEAN_END, run, r->last_ns, 0, r->last_file,
					   "no STOPPED record after seq %" PRIu64
					   ": the agent crashed or was killed", r->last_seq);
		else
			err = add_detected(s, GAPSCAN_UNCLEAN_END, run, r->last_ns, 0, r->last_file,
					   "no STOPPED record: the agent crashed or was killed");
	}
	return err;
}

static uint64_t sort_time(const struct row *w)
{
	if (w->pub.start_ns)
		return w->pub.start_ns;
	if (w->pub.end_ns)
		return w->pub.end_ns;
	return w->pub.record_ns ? w->pub.record_ns : UINT64_MAX;
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	uint64_t tx = sort_time(x), ty = sort_time(y);

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return x->added < y->added ? -1 : x->added > y->added;
}

/* Where a run goes in the listing: by its first record's time, then as first read. */
struct run_key {
	uint64_t t;
	size_t order, idx;
};

static int cmp_run(const void *a, const void *b)
{
	const struct run_key *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int gapscan__finish(struct gapscan *s, const struct gapscan_env *env)
{
	struct run_key *keys = NULL;
	size_t *rank = NULL;
	int err = 0;

	if (s->finished)
		return -EINVAL;
	s->finished = 1;
	for (size_t i = 0; i < s->n_runs && !err; i++)
		err = finish_run(s, i, env);
	if (err)
		goto cleanup;
	keys = calloc(s->n_runs + 1, sizeof(*keys));
	rank = calloc(s->n_runs + 1, sizeof(*rank));
	if (!keys || !rank) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < s->n_runs; i++) {
		const struct run *r = &s->runs[i];

		/* Runs without any time go last. */
		keys[i] = (struct run_key){ r->first_ns ? r->first_ns : UINT64_MAX, r->order, i };
	}
	qsort(keys, s->n_runs, sizeof(*keys), cmp_run);
	for (size_t i = 0; i < s->n_runs; i++)
		rank[keys[i].idx] = i;
	/* rank's inverse, kept for gapscan__run. */
	s->run_order = calloc(s->n_runs + 1, sizeof(*s->run_order));
	if (!s->run_order) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < s->n_runs; i++)
		s->run_order[i] = keys[i].idx;
	for (size_t i = 0; i < s->n_rows; i++) {
		struct row *w = &s->rows[i];

		w->rank = rank[w->pub.run];
		/* Set now: a run's node may have been learnt after its first gap. */
		w->pub.run_id = s->runs[w->pub.run].id;
		w->pub.node = s->runs[w->pub.run].node;
		/* Owners last: a workload's ENDED record comes after the gaps its end reveals. */
		{
			char buf[WLKEY_MAX];
			const char *key = wlkey__of_record(buf, w->pub.workload, w->pub.cgroup_id);
			char *k = key && strmap__count(s->owners) ? owner_key(s, w->pub.node, key) : NULL;

			w->pub.owner = k ? strmap__get(s->owners, k) : NULL;
		}
	}
	if (s->n_rows > 1)
		qsort(s->rows, s->n_rows, sizeof(*s->rows), cmp_row);
cleanup:
	free(keys);
	free(rank);
	return err;
}

size_t gapscan__count(const struct gapscan *s)
{
	return s->finished ? s->n_rows : 0;
}

const struct gap_row *gapscan__row(const struct gapscan *s, size_t i)
{
	return s->finished && i < s->n_rows ? &s->rows[i].pub : NULL;
}

void gapscan__stats(const struct gapscan *s, struct gapscan_stats *out)
{
	*out = s->st;
	out->runs = s->n_runs;
	out->files = s->n_files;
}

int gapscan__row_meets(const struct gap_row *g, uint64_t since, uint64_t until)
{
	uint64_t lo = g->start_ns ? g->start_ns : g->end_ns ? g->end_ns : g->record_ns;
	uint64_t hi = g->end_ns ? g->end_ns : lo;

	if (!lo)
		return 1;
	if (since && hi < since)
		return 0;
	return !(until && lo > until);
}

size_t gapscan__runs(const struct gapscan *s)
{
	return s->finished && s->run_order ? s->n_runs : 0;
}

void gapscan__run(const struct gapscan *s, size_t i, struct gapscan_run *out)
{
	const struct run *r;

	memset(out, 0, sizeof(*out));
	if (i >= gapscan__runs(s))
		return;
	r = &s->runs[s->run_order[i]];
	out->id = r->id;
	out->node = r->node;
	out->first_ns = r->first_ns;
	out->last_ns = r->last_ns;
	/* Beats are sorted by seq at finish: the last one is the latest the agent wrote. */
	out->last_beat_ns = r->n_beats ? r->beats[r->n_beats - 1].t : 0;
	out->interval_ns = r->interval_ns;
	out->records = r->records;
	out->started = r->started;
	out->stopped = r->stopped;
	out->live = r->live;
	out->removed_only = !r->n_spans && r->n_removed;
}

const char *gapscan__kind_name(int kind, char *buf)
{
	const ProtobufCEnumValue *v;

	if (kind >= GAPSCAN_DETECTED && kind < GAPSCAN_KIND_END)
		return detected_names[kind - GAPSCAN_DETECTED];
	if (kind < 0 || kind >= GAPSCAN_DETECTED)
		return "GAP_KIND_INVALID";
	v = protobuf_c_enum_descriptor_get_value(&firstlight__v1__gap__kind__descriptor, kind);
	if (v)
		return v->name;
	snprintf(buf, GAPSCAN_KIND_NAME_MAX, "GAP_KIND_%d", kind);
	return buf;
}

int gapscan__kind_parse(const char *name, int *kind)
{
	const ProtobufCEnumDescriptor *d = &firstlight__v1__gap__kind__descriptor;

	for (unsigned i = 0; i < d->n_values; i++)
		if (!strcasecmp(name, d->values[i].name)) {
			*kind = d->values[i].value;
			return 0;
		}
	for (int k = GAPSCAN_DETECTED; k < GAPSCAN_KIND_END; k++)
		if (!strcasecmp(name, detected_names[k - GAPSCAN_DETECTED])) {
			*kind = k;
			return 0;
		}
	return -EINVAL;
}

int gapscan__kind_at(size_t i)
{
	const ProtobufCEnumDescriptor *d = &firstlight__v1__gap__kind__descriptor;
	size_t n = 0;

	/* Enum order, KIND_UNSPECIFIED left out: no agent writes it. */
	for (unsigned k = 0; k < d->n_values; k++) {
		if (d->values[k].value == FIRSTLIGHT__V1__GAP__KIND__KIND_UNSPECIFIED)
			continue;
		if (n++ == i)
			return d->values[k].value;
	}
	i -= n;
	return i < GAPSCAN_KIND_END - GAPSCAN_DETECTED ? (int)(GAPSCAN_DETECTED + i) : -1;
}

/*
 * The kinds that mean "the evidence is incomplete": records or events that existed and
 * are not in the store (lost to a full ring, a failed disk or transport, deleted or cut
 * off), or a stretch where the sensor's liveness is unproven. Not in it, because every
 * healthy store has them and they lose nothing that was recorded: PRE_EXISTING (history
 * before the first start), SENSOR_DOWN (a planned stop or restart; a crash shows as an
 * UNCLEAN_END), MISSING_START (a consequence of those two), and the identity kinds
 * (UNATTRIBUTED_WORKLOAD, BLIND_WORKLOAD: what the kernel cannot see, not what was lost),
 * UNOWNED_WORKLOAD (a finding about the owners file, not about the evidence), and
 * UNRECORDED_SOCKETS (sockets of kinds the sensor never records: a known blind spot,
 * counted, nothing that was recorded lost).
 * By name, so the kinds of shipping and the collector, which the schema does not have
 * yet (SHIP_LOSS: records removed before they were shipped; NODE_SILENT: a node that
 * stopped without a STOPPED record; BATCH_REJECTED, CHAIN_BREAK: what a node sent that
 * the collector could not keep), join when it does. STATE_MISSING: the data dir's state
 * files were gone, or said more was written than the segments hold. SHARE_EXCEEDED
 * (events a workload queued beyond its ring share) is a loss like a full ring's.
 */
static const char *const incomplete_names[] = {
	"RING_BUFFER_DROP", "SINK_LOSS", "SEQUENCE_HOLE", "MISSING_BEGINNING", "UNCLEAN_END",
	"HEARTBEAT_MISSING", "SHIP_LOSS", "NODE_SILENT", "BATCH_REJECTED", "CHAIN_BREAK",
	"STATE_MISSING", "SHARE_EXCEEDED",
};

int gapscan__kind_incomplete(int kind)
{
	char buf[GAPSCAN_KIND_NAME_MAX];
	const char *name = gapscan__kind_name(kind, buf);

	for (size_t i = 0; i < sizeof(incomplete_names) / sizeof(incomplete_names[0]); i++)
		if (!strcmp(name, incomplete_names[i]))
			return 1;
	return 0;
}
