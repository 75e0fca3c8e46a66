/*
 * `firstlight gaps [--json] [--fail-on KINDS] [--since T] [--until T] [FILE|DIR|-]...`:
 * lists the gaps of gapscan.h. Everything is read first (holes are only known at the
 * end), then rows are printed. A damaged input is reported like `read` does (file and
 * byte offset), what was read of it still counts, and the exit status is 1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "base/cliopt.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "cmd/cmd_gaps.h"
#include "readers/gapfmt.h"
#include "readers/inputs.h"
#include "readers/runalive.h"
#include "records/record.h"
#include "store/segment_reader.h"
#include "store/store_dir.h"

/* ---- the command ---------------------------------------------------------------------- */

struct gaps_opts {
	int json;
	int fail_any;
	int fail_incomplete;
	int *fail_kinds;
	size_t n_fail, cap_fail;
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
		"                     incomplete  evidence is missing; the set for audits and CI:\n"
		"                      ",
		STORE_DEFAULT_DIR);
	col = 22;
	for (size_t i = 0; (k = gapscan__kind_at(i)) >= 0; i++) {
		const char *name = gapscan__kind_name(k, buf);

		if (!gapscan__kind_incomplete(k))
			continue;
		if (col + 2 + strlen(name) > 88) {
			fprintf(f, ",\n                       %s", name);
			col = 23 + strlen(name);
		} else {
			fprintf(f, "%s %s", col == 22 ? "" : ",", name);
			col += 2 + strlen(name);
		}
	}
	fprintf(f, "\n"
		"                       (not what every healthy store has: PRE_EXISTING, SENSOR_DOWN of\n"
		"                       a stop or restart, MISSING_START, what the kernel cannot see)\n"
		"                     any         every gap\n"
		"                     or kinds by name:\n"
		"                      ");
	col = 22;
	for (size_t i = 0; (k = gapscan__kind_at(i)) >= 0; i++) {
		const char *name = gapscan__kind_name(k, buf);

		if (col + 2 + strlen(name) > 88) {
			fprintf(f, ",\n                       %s", name);
			col = 23 + strlen(name);
		} else {
			fprintf(f, "%s %s", col == 22 ? "" : ",", name);
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
		"kind, node, runId, seq (of the gap record), workload, cgroupId, owner (by the owners\n"
		"file the agent ran with: the text table shows it after the workload), start, end (RFC 3339,\n"
		"ns), startUnixNano, endUnixNano, count, firstSeq, lastSeq (the seq range missing),\n"
		"eventType, reason, previousRunId, detail, file (the input it was found in). 64-bit\n"
		"numbers are strings, as in `firstlight read --json`; strings that are not UTF-8 are\n"
		"\\xHH-escaped. No summary line.\n"
		"\n"
		"Exit status: 0 listed, and no gap of a --fail-on kind; 3 a gap of a --fail-on kind is\n"
		"listed; 1 an input could not be read in full (error on stderr naming file and byte;\n"
		"what was read is still listed) or output failed: 1 wins over 3; 2 usage error.\n",
		GAPFMT_CELL_MAX, GAPFMT_DETAIL_MAX);
}

/* Adds the kinds of a --fail-on list. 0 or -EINVAL (message logged) or -ENOMEM. */
static int add_fail_kinds(struct gaps_opts *o, const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	size_t len = strlen(list), n = 1;
	int err = 0;

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
	if (ARRAY_GROW(o->fail_kinds, o->cap_fail, o->n_fail + n)) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcasecmp(tok, "any")) {
			o->fail_any = 1;
		} else if (!strcasecmp(tok, "incomplete")) {
			o->fail_incomplete = 1;
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
	if (!timefmt__parse(arg, ns))
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

	if (cliopt__check_full("gaps", argc, argv, longopts))
		return -EINVAL;
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

static int fails(const struct gaps_opts *o, const struct gap_row *g)
{
	if (o->fail_any || (o->fail_incomplete && gapscan__kind_incomplete(g->kind)))
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
	struct gapscan_env env = { .run_is_live = runalive__probe };
	char node[RECORDER_NODE_MAX];
	struct gapscan_stats st;
	const struct gap_row **shown = NULL;
	struct json_buf out = {};
	struct gapscan *s = NULL;
	struct inputs in = {};
	struct timespec now;
	size_t n = 0, total;
	int err, status = 0, found = 0;

	recorder__node_name(node);
	env.local_node = node;

	err = parse_opts(&o, argc, argv);
	if (err) {
		status = err > 0 ? 0 : err == -ENOMEM ? 1 : 2;
		goto cleanup;
	}
	if (inputs__collect(&in, argc - optind, argv + optind, STORE_DEFAULT_DIR)) {
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

		if (!gapscan__row_meets(g, o.since, o.until))
			continue;
		shown[n++] = g;
		found |= fails(&o, g);
	}
	if (o.json) {
		for (size_t i = 0; i < n && !err; i++)
			err = gapfmt__json(&out, shown[i]) ?: write_out(&out);
	} else {
		gapscan__stats(s, &st);
		err = gapfmt__text(&out, shown, n) ?:
		      gapfmt__summary(&out, shown, n, &st, total - n) ?: write_out(&out);
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
