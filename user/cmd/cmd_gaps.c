/*
 * `firstlight gaps [--json] [--fail-on KINDS] [--since T] [--until T] [FILE|DIR|-]...`:
 * lists the gaps of gapscan.h. Everything is read first (holes are only known at the
 * end), then rows are printed. A damaged input is reported like `read` does (file and
 * byte offset), what was read of it still counts, and the exit status is 1.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd_gaps.h"
#include "cmd/cmd_read.h"
#include "base/log.h"
#include "store/segment_reader.h"
#include "base/textesc.h"
#include "base/utf8.h"

#define DEFAULT_DATA_DIR "/var/lib/firstlight"
#define CELL_MAX 64     /* run and workload cells of the table, in characters */
#define DETAIL_MAX 512  /* detail cell */
#define MAX_SECONDS 18446744073ull /* the last whole second a uint64 of ns holds (2554) */

/* ---- output buffer helpers (json_buf is the project's growable string) --------------- */




static int put_spaces(struct json_buf *b, size_t n)
{
	if (json_buf__reserve(b, n))
		return -ENOMEM;
	memset(b->data + b->len, ' ', n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* ---- times ------------------------------------------------------------------------------ */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* Exactly n digits at *p, advancing it. -1 if they are not there. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* 1 to 9 digits of a fraction of a second at *p, as ns. -1 if none or too many. */
static int64_t fraction(const char **p)
{
	int64_t ns = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		if (++n > 9)
			return -1;
		ns = ns * 10 + (**p - '0');
		(*p)++;
	}
	if (!n)
		return -1;
	for (; n < 9; n++)
		ns *= 10;
	return ns;
}

static int parse_unix(const char *s, uint64_t *ns)
{
	const char *p = s;
	uint64_t sec = 0;
	int64_t frac = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (sec > MAX_SECONDS / 10)
			return -EINVAL;
		sec = sec * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if ((frac = fraction(&p)) < 0)
			return -EINVAL;
	}
	if (*p || sec >= MAX_SECONDS)
		return -EINVAL;
	*ns = sec * 1000000000ull + (uint64_t)frac;
	return 0;
}

int cmd_gaps__parse_time(const char *s, uint64_t *ns)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	int64_t frac = 0, t;

	if (strlen(s) < 10 || s[4] != '-')
		return parse_unix(s, ns);
	if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 0)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -EINVAL;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -EINVAL;
		p++;
		if ((h = digits(&p, 2)) < 0 || *p++ != ':' || (mi = digits(&p, 2)) < 0 ||
		    *p++ != ':' || (sec = digits(&p, 2)) < 0)
			return -EINVAL;
		/* 60: a leap second, which RFC 3339 allows; it reads as the next second. */
		if (h > 23 || mi > 59 || sec > 60)
			return -EINVAL;
		if (*p == '.') {
			p++;
			if ((frac = fraction(&p)) < 0)
				return -EINVAL;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;

			if ((oh = digits(&p, 2)) < 0 || *p++ != ':' || (om = digits(&p, 2)) < 0 ||
			    oh > 23 || om > 59)
				return -EINVAL;
			off = sign * (oh * 3600 + om * 60);
		} else {
			return -EINVAL; /* RFC 3339 needs the offset: local time is ambiguous */
		}
		if (*p)
			return -EINVAL;
	}
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - off;
	if (t < 0 || (uint64_t)t >= MAX_SECONDS)
		return -EINVAL;
	*ns = (uint64_t)t * 1000000000ull + (uint64_t)frac;
	return 0;
}

/* RFC 3339 UTC with digits decimals (3 or 9). */
static int put_time(struct json_buf *b, uint64_t ns, int decimals)
{
	time_t t = (time_t)(ns / 1000000000u);
	uint64_t frac = ns % 1000000000u;
	struct tm tm;
	char s[32];

	if (!gmtime_r(&t, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm))
		return -EINVAL;
	if (decimals == 3)
		return json_buf__appendf(b, "%s.%03" PRIu64 "Z", s, frac / 1000000u);
	return json_buf__appendf(b, "%s.%09" PRIu64 "Z", s, frac);
}

/* ---- escaping ------------------------------------------------------------------------- */

/* The escaping itself is shared with `firstlight tree` (textesc.c). */
int cmd_gaps__escape_text(struct json_buf *out, const char *s, size_t max_chars)
{
	return textesc__append(out, s, strlen(s), max_chars, 0);
}

/* A JSON string that is valid UTF-8 whatever the input: bytes that are not UTF-8 are
 * first escaped as \xHH (and backslashes doubled), the convention of proto strings. */
static int put_json_str(struct json_buf *b, const char *s)
{
	size_t len = strlen(s);
	char *esc;
	int err;

	if (utf8__valid(s, len))
		return json__append_string(b, s);
	if (len > (SIZE_MAX - 1) / 4 || !(esc = malloc(len * 4 + 1)))
		return -ENOMEM;
	err = utf8__escape(s, len, esc, len * 4 + 1) < 0 ? -ENOMEM : json__append_string(b, esc);
	free(esc);
	return err;
}

/* ---- rendering ------------------------------------------------------------------------ */

enum { C_SOURCE, C_KIND, C_RUN, C_WORKLOAD, C_START, C_END, C_COUNT, C_DETAIL, N_COLS };

static const char *const col_names[N_COLS] = {
	"SOURCE", "KIND", "RUN", "WORKLOAD", "START", "END", "COUNT", "DETAIL",
};

/* Characters (not bytes) of escaped text: everything in it is one column wide or close. */
static size_t text_width(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

/* The cells of one row, escaped, as offsets into one buffer. */
struct cells {
	struct json_buf text;
	size_t off[N_COLS], len[N_COLS];
};

static int make_cells(struct cells *c, const struct gap_row *g)
{
	char kind[GAPSCAN_KIND_NAME_MAX];
	struct json_buf *b = &c->text;
	int err = 0;

	json_buf__reset(b);
	for (int col = 0; col < N_COLS && !err; col++) {
		c->off[col] = b->len;
		switch (col) {
		case C_SOURCE:
			err = json_buf__append_str(b, g->detected ? "detected" : "recorded");
			break;
		case C_KIND:
			err = json_buf__append_str(b, gapscan__kind_name(g->kind, kind));
			break;
		case C_RUN:
			err = g->run_id[0] ? cmd_gaps__escape_text(b, g->run_id, CELL_MAX) : json_buf__append_str(b, "-");
			break;
		case C_WORKLOAD:
			if (g->workload[0])
				err = cmd_gaps__escape_text(b, g->workload, CELL_MAX);
			else if (g->cgroup_id)
				err = json_buf__appendf(b, "cgroup:%" PRIu64, g->cgroup_id);
			else
				err = json_buf__append_str(b, "-");
			break;
		case C_START:
			err = g->start_ns ? put_time(b, g->start_ns, 3) : json_buf__append_str(b, "-");
			break;
		case C_END:
			err = g->end_ns ? put_time(b, g->end_ns, 3) : json_buf__append_str(b, "-");
			break;
		case C_COUNT:
			err = g->has_count ? json_buf__appendf(b, "%" PRIu64, g->count) : json_buf__append_str(b, "-");
			break;
		case C_DETAIL:
			err = cmd_gaps__escape_text(b, g->detail, DETAIL_MAX);
			break;
		}
		err = err < 0 ? err : 0;
		c->len[col] = b->len - c->off[col];
	}
	return err;
}

static int put_line(struct json_buf *out, const char *const *cell, const size_t *len,
		    const size_t *width)
{
	int err = 0;

	for (int col = 0; col < N_COLS && !err; col++) {
		size_t w = text_width(cell[col], len[col]);
		size_t pad = width[col] > w ? width[col] - w : 0;

		if (col)
			err = json_buf__append_str(out, "  ");
		if (!err && col == C_COUNT) /* numbers right-aligned */
			err = put_spaces(out, pad);
		if (!err)
			err = json_buf__append(out, cell[col], len[col]);
		/* No padding after the last column, nor trailing blanks before an empty one. */
		if (!err && col != C_COUNT && col != C_DETAIL)
			err = put_spaces(out, pad);
	}
	if (!err) {
		while (out->len && out->data[out->len - 1] == ' ')
			out->len--;
		err = json_buf__append_str(out, "\n");
	}
	return err;
}

int cmd_gaps__render_text(struct json_buf *out, const struct gap_row *const *rows, size_t n)
{
	size_t width[N_COLS], len[N_COLS];
	const char *cell[N_COLS];
	struct cells c = {};
	int err = 0;

	if (!n)
		return 0;
	for (int col = 0; col < N_COLS; col++)
		width[col] = strlen(col_names[col]);
	/* Two passes, rendering each row twice, rather than keeping every row's cells. */
	for (size_t i = 0; i < n && !err; i++) {
		err = make_cells(&c, rows[i]);
		for (int col = 0; col < N_COLS && !err; col++) {
			size_t w = text_width(c.text.data + c.off[col], c.len[col]);

			if (w > width[col])
				width[col] = w;
		}
	}
	for (int col = 0; col < N_COLS; col++) {
		cell[col] = col_names[col];
		len[col] = strlen(col_names[col]);
	}
	if (!err)
		err = put_line(out, cell, len, width);
	for (size_t i = 0; i < n && !err; i++) {
		err = make_cells(&c, rows[i]);
		for (int col = 0; col < N_COLS && !err; col++)
			cell[col] = c.text.data + c.off[col];
		if (!err)
			err = put_line(out, cell, c.len, width);
	}
	json_buf__free(&c.text);
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
	return put_key(b, key, 0) ?: (s[0] ? put_json_str(b, s) : json_buf__append_str(b, "null"));
}

static int put_opt_time(struct json_buf *b, const char *key, uint64_t ns)
{
	int err = put_key(b, key, 0);

	if (err || !ns)
		return err ?: json_buf__append_str(b, "null");
	return json_buf__append_str(b, "\"") ?: put_time(b, ns, 9) ?: json_buf__append_str(b, "\"");
}

int cmd_gaps__render_json(struct json_buf *out, const struct gap_row *g)
{
	char kind[GAPSCAN_KIND_NAME_MAX];
	size_t len = out->len;
	int err;

	err = put_key(out, "source", 1) ?: json_buf__append_str(out, g->detected ? "\"detected\"" : "\"recorded\"");
	err = err ?: put_key(out, "kind", 0) ?: put_json_str(out, gapscan__kind_name(g->kind, kind));
	err = err ?: put_key(out, "node", 0) ?: put_json_str(out, g->node);
	err = err ?: put_key(out, "runId", 0) ?: put_json_str(out, g->run_id);
	err = err ?: put_u64(out, "seq", g->seq, !g->detected && g->seq);
	err = err ?: put_opt_str(out, "workload", g->workload);
	err = err ?: put_u64(out, "cgroupId", g->cgroup_id, g->cgroup_id != 0);
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
	err = err ?: put_key(out, "detail", 0) ?: put_json_str(out, g->detail);
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

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
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

int cmd_gaps__render_summary(struct json_buf *out, const struct gap_row *const *rows, size_t n,
			     const struct gapscan_stats *st, size_t hidden)
{
	int err = json_buf__appendf(out, "gaps: %zu", n);

	if (!err && n)
		err = json_buf__append_str(out, " (") ?: put_kind_counts(out, rows, n) ?: json_buf__append_str(out, ")");
	err = err ?: json_buf__appendf(out, " in %" PRIu64 " %s, %zu %s, %zu %s", st->records,
			     plural(st->records, "record", "records"), st->runs,
			     plural(st->runs, "run", "runs"), st->files, plural(st->files, "file", "files"));
	if (!err && hidden)
		err = json_buf__appendf(out, "; %zu outside --since/--until", hidden);
	if (!err && st->live_runs)
		err = json_buf__appendf(out, "; %zu %s still running", st->live_runs,
			      plural(st->live_runs, "run", "runs"));
	if (!err && st->duplicates)
		err = json_buf__appendf(out, "; %" PRIu64 " duplicate %s", st->duplicates,
			      plural(st->duplicates, "record", "records"));
	if (!err && st->no_seq)
		err = json_buf__appendf(out, "; %" PRIu64 " %s without seq", st->no_seq,
			      plural(st->no_seq, "record", "records"));
	return err ?: json_buf__append_str(out, "\n");
}

/* ---- is a run's agent still running here? --------------------------------------------- */

/* Reads a small file whole into buf, NUL-terminated, trailing newline removed. */
static int read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

/*
 * A run without its STOPPED record is not over while its agent runs: the STARTED record
 * names the agent's pid and boot id. Same boot, that pid alive (not a zombie), named
 * like us or "firstlight", and started no later than the run did (not a reused pid):
 * then it is that agent.
 */
static int agent_alive(void *ctx, uint32_t pid, const char *boot_id, uint64_t started_boot_ns)
{
	char path[64], stat[1024], boot[64], self[32];
	const char *comm, *end, *p;
	unsigned long long start_ticks;
	long tck = sysconf(_SC_CLK_TCK);
	int field;

	(void)ctx;
	if (!pid || pid > INT_MAX || (pid_t)pid == getpid() || !boot_id[0] || tck <= 0)
		return 0;
	if (read_small("/proc/sys/kernel/random/boot_id", boot, sizeof(boot)) || strcmp(boot, boot_id))
		return 0;
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/stat", pid);
	if (read_small(path, stat, sizeof(stat)) || read_small("/proc/self/comm", self, sizeof(self)))
		return 0;
	/* "pid (comm) state ... starttime(22nd field)": comm may hold spaces and ')'. */
	comm = strchr(stat, '(');
	end = strrchr(stat, ')');
	if (!comm || !end || end < comm)
		return 0;
	comm++;
	if (!((size_t)(end - comm) == strlen("firstlight") && !strncmp(comm, "firstlight", 10)) &&
	    !((size_t)(end - comm) == strlen(self) && !strncmp(comm, self, strlen(self))))
		return 0;
	p = end + 1;
	for (field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return 0;
		if (field == 3 && (*p == 'Z' || *p == 'X'))
			return 0; /* killed, not yet reaped */
		if (field == 22)
			break;
		while (*p && *p != ' ')
			p++;
	}
	if (sscanf(p, "%llu", &start_ticks) != 1)
		return 0;
	/* starttime is in clock ticks of CLOCK_BOOTTIME, like STARTED's boot_nano. */
	if (started_boot_ns && start_ticks > started_boot_ns / (1000000000ull / (unsigned long long)tck))
		return 0;
	return 1;
}

/* ---- the command ---------------------------------------------------------------------- */

struct gaps_opts {
	int json;
	int fail_any;
	int *fail_kinds;
	size_t n_fail;
	uint64_t since, until; /* 0: no bound */
};

static void usage(FILE *f)
{
	char buf[GAPSCAN_KIND_NAME_MAX];
	size_t col;
	int k;

	fprintf(f,
		"usage: firstlight gaps [--json] [--fail-on KIND[,KIND...]] [--since TIME] [--until TIME]\n"
		"                       [FILE|DIR|-]...\n"
		"Lists every gap in the records (default: every segment in %s): the gap\n"
		"records the agent wrote (source \"recorded\") and the holes found here (\"detected\"):\n"
		"  SEQUENCE_HOLE      seq numbers missing inside an agent run (records deleted or lost)\n"
		"  MISSING_BEGINNING  a run read from seq > 1: its start was pruned or deleted\n"
		"  HEARTBEAT_MISSING  more than two heartbeat intervals between heartbeats (or the\n"
		"                     last one and the STOPPED record)\n"
		"  UNCLEAN_END        a run without its STOPPED record (crash, kill -9) whose agent\n"
		"                     no longer runs here (checked by the pid and boot id it started with)\n"
		"Gap ranges a SINK_LOSS record accounts for are not reported again as holes.\n"
		"\n"
		"  --json             one JSON object per gap and line, instead of the table (--text)\n"
		"  --fail-on KINDS    exit 3 when a listed gap has one of these kinds (comma-separated,\n"
		"                     case-insensitive, repeatable):\n"
		"                     any",
		DEFAULT_DATA_DIR);
	col = 24;
	for (size_t i = 0; (k = gapscan__kind_at(i)) >= 0; i++) {
		const char *name = gapscan__kind_name(k, buf);

		if (col + 2 + strlen(name) > 88) {
			fprintf(f, ",\n                     %s", name);
			col = 21 + strlen(name);
		} else {
			fprintf(f, ", %s", name);
			col += 2 + strlen(name);
		}
	}
	fputc('\n', f);
	fprintf(f,
		"  --since TIME, --until TIME\n"
		"                     only gaps whose time window meets [since, until] (detection\n"
		"                     still reads everything); TIME: RFC 3339 (2024-05-01T10:00:00Z,\n"
		"                     2024-05-01T12:00:00.5+02:00), a date (2024-05-01, UTC), or unix\n"
		"                     seconds (1714557600)\n"
		"\n"
		"Text: a table SOURCE KIND RUN WORKLOAD START END COUNT DETAIL sorted by run, then\n"
		"time; times UTC to the millisecond; \"-\" when unknown; control, bidi and non-UTF-8\n"
		"characters shown as \\n \\t \\r \\xHH \\uXXXX (backslash as \\\\); run and workload cut at\n"
		"%d characters, detail at %d, with \"...\". Then one line: gaps by kind, what was read.\n"
		"JSON: per gap, every field present, null when unknown or not applicable: source,\n"
		"kind, node, runId, seq (of the gap record), workload, cgroupId, start, end (RFC 3339,\n"
		"ns), startUnixNano, endUnixNano, count, firstSeq, lastSeq (the seq range missing),\n"
		"eventType, reason, previousRunId, detail, file (the input it was found in). 64-bit\n"
		"numbers are strings, as in `firstlight read --json`; strings that are not UTF-8 are\n"
		"\\xHH-escaped. No summary line.\n"
		"\n"
		"Exit status: 0 listed, and no gap of a --fail-on kind; 3 a gap of a --fail-on kind is\n"
		"listed; 1 an input could not be read in full (error on stderr naming file and byte;\n"
		"what was read is still listed) or output failed: 1 wins over 3; 2 usage error.\n",
		CELL_MAX, DETAIL_MAX);
}

/* Adds the kinds of a --fail-on list. 0 or -EINVAL (message logged) or -ENOMEM. */
static int add_fail_kinds(struct gaps_opts *o, const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	size_t len = strlen(list), n = 1;
	int err = 0, *k;

	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		n += list[i] == ',';
	/* strtok_r skips empty items; an empty item is a mistake worth a message. */
	if (!len || list[0] == ',' || list[len - 1] == ',' || strstr(list, ",,")) {
		log_error("gaps: --fail-on: empty kind in '%.64s'", list);
		err = -EINVAL;
		goto cleanup;
	}
	k = realloc(o->fail_kinds, (o->n_fail + n) * sizeof(*k));
	if (!k) {
		err = -ENOMEM;
		goto cleanup;
	}
	o->fail_kinds = k;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcasecmp(tok, "any")) {
			o->fail_any = 1;
		} else if (gapscan__kind_parse(tok, &o->fail_kinds[o->n_fail])) {
			log_error("gaps: --fail-on: unknown kind '%.64s' (see firstlight gaps --help)", tok);
			err = -EINVAL;
			goto cleanup;
		} else {
			o->n_fail++;
		}
	}
cleanup:
	free(copy);
	return err;
}

static int parse_time_opt(const char *opt, const char *arg, uint64_t *ns)
{
	if (!cmd_gaps__parse_time(arg, ns))
		return 0;
	log_error("gaps: %s: invalid time '%.64s' (RFC 3339 such as 2024-05-01T10:00:00Z, or unix "
		  "seconds)", opt, arg);
	return -EINVAL;
}

/* 0 parsed, 1 --help printed, -EINVAL or -ENOMEM. */
static int parse_opts(struct gaps_opts *o, int argc, char **argv)
{
	enum { O_JSON = 256, O_TEXT, O_FAIL, O_SINCE, O_UNTIL };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "text", no_argument, NULL, O_TEXT },
		{ "fail-on", required_argument, NULL, O_FAIL },
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c, err = 0;

	optind = 1;
	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON: o->json = 1; break;
		case O_TEXT: o->json = 0; break;
		case O_FAIL: err = add_fail_kinds(o, optarg); break;
		case O_SINCE: err = parse_time_opt("--since", optarg, &o->since); break;
		case O_UNTIL: err = parse_time_opt("--until", optarg, &o->until); break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			log_error("gaps: unknown option or missing value '%s' (see firstlight gaps --help)",
				  argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (!err && o->since && o->until && o->since > o->until) {
		log_error("gaps: --since is after --until");
		err = -EINVAL;
	}
	return err;
}

/*
 * Does the gap's window [start, end] meet [since, until]? An unknown end is taken as
 * the start (an UNCLEAN_END is at its last record) and the other way round; a gap
 * record without a window is where the record is.
 */
static int in_window(const struct gaps_opts *o, const struct gap_row *g)
{
	uint64_t lo = g->start_ns ? g->start_ns : g->end_ns ? g->end_ns : g->record_ns;
	uint64_t hi = g->end_ns ? g->end_ns : lo;

	if (!lo)
		return 1; /* no time at all: nothing to filter on, so it is shown */
	if (o->since && hi < o->since)
		return 0;
	return !(o->until && lo > o->until);
}

static int fails(const struct gaps_opts *o, const struct gap_row *g)
{
	if (o->fail_any)
		return 1;
	for (size_t i = 0; i < o->n_fail; i++)
		if (o->fail_kinds[i] == g->kind)
			return 1;
	return 0;
}

/* Feeds one input to the scanner. 0, or -errno after logging why (file and offset). */
static int scan_one(struct gapscan *s, const char *path)
{
	struct segment_reader *r;
	Firstlight__V1__Batch *b;
	int rc, err;

	err = gapscan__begin_file(s, path);
	if (err)
		return err;
	r = segment_reader__open(path);
	if (!r) {
		err = -errno;
		log_error("%s: %s", path, strerror(errno));
		return err;
	}
	while ((rc = segment_reader__next(r, &b)) > 0) {
		for (size_t i = 0; i < b->n_events && rc > 0; i++)
			if (b->events[i] && (err = gapscan__add(s, b->events[i])) < 0)
				rc = err;
		firstlight__v1__batch__free_unpacked(b, NULL);
	}
	if (rc == -ENOMEM)
		log_error("%s: out of memory", path);
	else if (rc < 0)
		log_error("%s: %s", path, segment_reader__error(r));
	segment_reader__close(r);
	return rc < 0 ? rc : 0;
}

static int write_out(struct json_buf *b)
{
	if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
		return -EIO;
	json_buf__reset(b);
	return 0;
}

int cmd_gaps__main(int argc, char **argv)
{
	struct gaps_opts o = {};
	struct gapscan_env env = { .run_is_live = agent_alive };
	struct gapscan_stats st;
	const struct gap_row **shown = NULL;
	struct json_buf out = {};
	struct gapscan *s = NULL;
	struct inputs in = {};
	struct timespec now;
	size_t n = 0, total;
	int err, status = 0, found = 0;

	err = parse_opts(&o, argc, argv);
	if (err) {
		status = err > 0 ? 0 : err == -ENOMEM ? 1 : 2;
		goto cleanup;
	}
	if (inputs__collect(&in, argc - optind, argv + optind, DEFAULT_DATA_DIR)) {
		status = 1;
		goto cleanup;
	}
	s = gapscan__new();
	if (!s) {
		log_error("gaps: out of memory");
		status = 1;
		goto cleanup;
	}
	for (int i = 0; i < in.n; i++) {
		err = scan_one(s, in.paths[i]);
		if (err == -ENOMEM)
			goto nomem;
		if (err)
			status = 1; /* logged; what was read of it still counts */
	}
	err = 0;
	clock_gettime(CLOCK_REALTIME, &now);
	env.now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (gapscan__finish(s, &env))
		goto nomem;
	total = gapscan__count(s);
	shown = calloc(total + 1, sizeof(*shown));
	if (!shown)
		goto nomem;
	for (size_t i = 0; i < total; i++) {
		const struct gap_row *g = gapscan__row(s, i);

		if (!in_window(&o, g))
			continue;
		shown[n++] = g;
		found |= fails(&o, g);
	}
	if (o.json) {
		for (size_t i = 0; i < n && !err; i++)
			err = cmd_gaps__render_json(&out, shown[i]) ?: write_out(&out);
	} else {
		gapscan__stats(s, &st);
		err = cmd_gaps__render_text(&out, shown, n) ?:
		      cmd_gaps__render_summary(&out, shown, n, &st, total - n) ?: write_out(&out);
	}
	if (err == -ENOMEM)
		goto nomem;
	if (err || fflush(stdout)) {
		log_error("stdout: %s", strerror(err ? -err : errno));
		status = 1;
	}
	if (!status && found)
		status = GAPS_EXIT_FOUND;
	goto cleanup;
nomem:
	log_error("gaps: out of memory");
	status = 1;
cleanup:
	free(shown);
	json_buf__free(&out);
	gapscan__free(s);
	inputs__free(&in);
	free(o.fail_kinds);
	return status;
}
