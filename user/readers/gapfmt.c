/* The gaps table, JSON lines and summary; see gapfmt.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/plural.h"
#include "base/textesc.h"
#include "base/texttable.h"
#include "base/timefmt.h"
#include "readers/gapfmt.h"
#include "records/wlkey.h"

#define CELL_MAX GAPFMT_CELL_MAX
#define DETAIL_MAX GAPFMT_DETAIL_MAX

/* Untrusted text for a terminal (textesc.h), at most max_chars characters. */
static int escape(struct json_buf *out, const char *s, size_t max_chars)
{
	return textesc__append(out, s, strlen(s), max_chars, 0) < 0 ? -ENOMEM : 0;
}

enum { C_SOURCE, C_KIND, C_RUN, C_WORKLOAD, C_START, C_END, C_COUNT, C_DETAIL, N_COLS };

static const char *const col_names[N_COLS] = {
	"SOURCE", "KIND", "RUN", "WORKLOAD", "START", "END", "COUNT", "DETAIL",
};

/* One row's cells, escaped, into the table. */
static int add_row(struct texttable *t, const struct gap_row *g)
{
	char kind[GAPSCAN_KIND_NAME_MAX], keybuf[WLKEY_MAX];
	const char *key;
	int err = 0;

	for (int col = 0; col < N_COLS && !err; col++) {
		struct json_buf *b = texttable__cell_begin(t);

		switch (col) {
		case C_SOURCE:
			err = json_buf__append_str(b, g->detected ? "detected" : "recorded");
			break;
		case C_KIND:
			err = json_buf__append_str(b, gapscan__kind_name(g->kind, kind));
			break;
		case C_RUN:
			err = g->run_id[0] ? escape(b, g->run_id, CELL_MAX) : json_buf__append_str(b, "-");
			break;
		case C_WORKLOAD:
			key = wlkey__of_record(keybuf, g->workload, g->cgroup_id);
			err = key ? escape(b, key, CELL_MAX) : json_buf__append_str(b, "-");
			/* Under an owners file (run --owners): whose workload it blinded. */
			if (!err && key && g->owner)
				err = *g->owner ? json_buf__append_str(b, " (owner ") ?: escape(b, g->owner, CELL_MAX) ?:
						  json_buf__append_str(b, ")")
						: json_buf__append_str(b, " (unowned)");
			break;
		case C_START:
			err = g->start_ns ? timefmt__rfc3339(b, g->start_ns, 3) : json_buf__append_str(b, "-");
			break;
		case C_END:
			err = g->end_ns ? timefmt__rfc3339(b, g->end_ns, 3) : json_buf__append_str(b, "-");
			break;
		case C_COUNT:
			err = g->has_count ? json_buf__appendf(b, "%" PRIu64, g->count) : json_buf__append_str(b, "-");
			break;
		case C_DETAIL:
			err = escape(b, g->detail, DETAIL_MAX);
			break;
		}
		err = err < 0 ? err : texttable__cell_end(t);
	}
	return err;
}

int gapfmt__text(struct json_buf *out, const struct gap_row *const *rows, size_t n)
{
	struct texttable t;
	int err = 0;

	texttable__init(&t, col_names, N_COLS, 1u << C_COUNT); /* numbers right-aligned */
	for (size_t i = 0; i < n && !err; i++)
		err = add_row(&t, rows[i]);
	err = err ?: texttable__render(&t, out);
	texttable__fini(&t);
	return err;
}

static int put_key(struct json_buf *b, const char *key, int first)
{
	return json_buf__appendf(b, "%s\"%s\":", first ? "{" : ",", key);
}

/* A uint64 as proto3 JSON does (a string), or null when not set. */
static int put_u64(struct json_buf *b, const char *key, uint64_t v, int set)
{
	return put_key(b, key, 0) ?: (set ? json_buf__appendf(b, "\"%" PRIu64 "\"", v) : json_buf__append_str(b, "null"));
}

static int put_opt_str(struct json_buf *b, const char *key, const char *s)
{
	return put_key(b, key, 0) ?: (s[0] ? json__append_string_lossless(b, s) : json_buf__append_str(b, "null"));
}

static int put_opt_time(struct json_buf *b, const char *key, uint64_t ns)
{
	int err = put_key(b, key, 0);

	if (err || !ns)
		return err ?: json_buf__append_str(b, "null");
	return json_buf__append_str(b, "\"") ?: timefmt__rfc3339(b, ns, 9) ?: json_buf__append_str(b, "\"");
}

int gapfmt__json(struct json_buf *out, const struct gap_row *g)
{
	char kind[GAPSCAN_KIND_NAME_MAX];
	size_t len = out->len;
	int err;

	err = put_key(out, "source", 1) ?: json_buf__append_str(out, g->detected ? "\"detected\"" : "\"recorded\"");
	err = err ?: put_key(out, "kind", 0) ?: json__append_string_lossless(out, gapscan__kind_name(g->kind, kind));
	err = err ?: put_key(out, "node", 0) ?: json__append_string_lossless(out, g->node);
	err = err ?: put_key(out, "runId", 0) ?: json__append_string_lossless(out, g->run_id);
	err = err ?: put_u64(out, "seq", g->seq, !g->detected && g->seq);
	err = err ?: put_opt_str(out, "workload", g->workload);
	err = err ?: put_u64(out, "cgroupId", g->cgroup_id, g->cgroup_id != 0);
	err = err ?: put_opt_str(out, "owner", g->owner ? g->owner : "");
	err = err ?: put_opt_time(out, "start", g->start_ns);
	err = err ?: put_opt_time(out, "end", g->end_ns);
	err = err ?: put_u64(out, "startUnixNano", g->start_ns, g->start_ns != 0);
	err = err ?: put_u64(out, "endUnixNano", g->end_ns, g->end_ns != 0);
	err = err ?: put_u64(out, "count", g->count, g->has_count);
	err = err ?: put_u64(out, "firstSeq", g->first_seq, g->first_seq != 0);
	err = err ?: put_u64(out, "lastSeq", g->last_seq, g->last_seq != 0);
	err = err ?: put_opt_str(out, "eventType", g->event_type);
	err = err ?: put_opt_str(out, "reason", g->reason);
	err = err ?: put_opt_str(out, "previousRunId", g->previous_run_id);
	err = err ?: put_opt_str(out, "aboutNode", g->about);
	err = err ?: put_key(out, "detail", 0) ?: json__append_string_lossless(out, g->detail);
	err = err ?: put_opt_str(out, "file", g->file ? g->file : "");
	err = err ?: json_buf__append_str(out, "}\n");
	if (err)
		out->len = len;
	return err;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* ", KIND n" for each kind present: known kinds in their order, then the others. */
static int put_kind_counts(struct json_buf *out, const struct gap_row *const *rows, size_t n)
{
	char buf[GAPSCAN_KIND_NAME_MAX];
	int *other = NULL, err = 0, k, sep = 0;
	size_t n_other = 0;

	for (size_t i = 0; (k = gapscan__kind_at(i)) >= 0 && !err; i++) {
		size_t count = 0;

		for (size_t j = 0; j < n; j++)
			count += rows[j]->kind == k;
		if (count)
			err = json_buf__appendf(out, "%s%s %zu", sep++ ? ", " : "", gapscan__kind_name(k, buf), count);
	}
	/* Kinds this build has no name for (a newer agent's): sorted, then counted. */
	for (size_t j = 0; j < n && !err; j++) {
		int known = 0;

		for (size_t i = 0; (k = gapscan__kind_at(i)) >= 0; i++)
			known |= rows[j]->kind == k;
		if (known)
			continue;
		if (!other && !(other = malloc(n * sizeof(*other))))
			err = -ENOMEM;
		else
			other[n_other++] = rows[j]->kind;
	}
	if (other)
		qsort(other, n_other, sizeof(*other), cmp_int);
	for (size_t i = 0; i < n_other && !err;) {
		size_t j = i;

		while (j < n_other && other[j] == other[i])
			j++;
		err = json_buf__appendf(out, "%s%s %zu", sep++ ? ", " : "", gapscan__kind_name(other[i], buf), j - i);
		i = j;
	}
	free(other);
	return err;
}

int gapfmt__summary(struct json_buf *out, const struct gap_row *const *rows, size_t n,
			     const struct gapscan_stats *st, size_t hidden)
{
	int err = json_buf__appendf(out, "gaps: %zu", n);

	if (!err && n)
		err = json_buf__append_str(out, " (") ?: put_kind_counts(out, rows, n) ?: json_buf__append_str(out, ")");
	err = err ?: json_buf__appendf(out, " in %" PRIu64 " %s, %zu %s, %zu %s", st->records,
			     plural__word(st->records, "record", "records"), st->runs,
			     plural__word(st->runs, "run", "runs"), st->files, plural__word(st->files, "file", "files"));
	if (!err && hidden)
		err = json_buf__appendf(out, "; %zu outside --since/--until", hidden);
	if (!err && st->live_runs)
		err = json_buf__appendf(out, "; %zu %s still running", st->live_runs,
			      plural__word(st->live_runs, "run", "runs"));
	if (!err && st->duplicates)
		err = json_buf__appendf(out, "; %" PRIu64 " duplicate %s", st->duplicates,
			      plural__word(st->duplicates, "record", "records"));
	if (!err && st->no_seq)
		err = json_buf__appendf(out, "; %" PRIu64 " %s without seq", st->no_seq,
			      plural__word(st->no_seq, "record", "records"));
	return err ?: json_buf__append_str(out, "\n");
}
