/*
 * `firstlight report`: reads every input (each node's segment files in chain order),
 * judges each node's window (readers/report.h) and prints it as text, JSON or one HTML
 * page. A damaged input is reported like `read` does (file and byte offset), what was
 * read of it still counts and its node's verdict says so, and the exit status is 1.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cliopt.h"
#include "base/log.h"
#include "base/textesc.h"
#include "base/timefmt.h"
#include "cmd/cmd_report.h"
#include "readers/htmlfmt.h"
#include "readers/inputs.h"
#include "readers/report.h"
#include "readers/reportfmt.h"
#include "readers/reporthtml.h"
#include "readers/runalive.h"
#include "store/keys.h"
#include "store/store_dir.h"

#define MAX_KEYS 16
#define ARG_SHOWN_MAX 128 /* characters of a user's argument repeated in a message */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firstlight report --since TIME --until TIME [--json | --text | --html FILE]\n"
		"                         [--pubkey FILE]... [--keys DIR] [FILE | DIR]...\n"
		"For each node in the inputs (default: every segment in %s; a collected store:\n"
		"each node's folder, and @collector), whether its records of the window are complete\n"
		"and unmodified, and if not, what exactly is missing:\n"
		"  chain      every batch's hash, link and signature, with the pinned keys (--pubkey),\n"
		"             and sequence numbers per run (as `firstlight verify`)\n"
		"  kernel     the node's kernel and the capabilities it lacked, from its NodeCapabilities\n"
		"             records (a known limit of the node, not a reason)\n"
		"  sequence   records missing inside a run (SEQUENCE_HOLE, MISSING_BEGINNING)\n"
		"  heartbeats heartbeats missing (HEARTBEAT_MISSING) and runs without STOPPED (UNCLEAN_END)\n"
		"  gaps       every gap meeting the window, recorded or detected, with its workload,\n"
		"             kind, count and time (as `firstlight gaps`)\n"
		"  coverage   the window cut into spans: covered (a run's records span it, no gap), gap,\n"
		"             down (no agent ran), not shipped (after the last record while the agent\n"
		"             still runs); and per workload alive in the window: processes seen,\n"
		"             first-event latency after its cgroup's birth, drops (from its ENDED record,\n"
		"             or its records while it runs), gaps, unattributed, blind, unobserved\n"
		"A node's window is complete when the chain verifies with a pinned key, every input was\n"
		"read in full, no gap of a kind `gaps --fail-on incomplete` fails on meets the window\n"
		"and the records cover all of it; gaps of the other kinds are noted. The verdict is one\n"
		"line: \"complete: ...\" or \"incomplete: \" and every reason, then \"noted: \" and every\n"
		"note, \"; \" between them.\n"
		"Records are grouped by their node; segment files by their header's node; a collected\n"
		"store's @collector folder is a node of its own, and the collector's findings about a\n"
		"node (BATCH_REJECTED, CHAIN_BREAK, NODE_SILENT) count in that node's verdict.\n"
		"\n"
		"  --since TIME, --until TIME  the window (both needed); TIME: RFC 3339\n"
		"                       (2024-05-01T10:00:00Z), a date (UTC), or unix seconds (1714557600.5)\n"
		"  --pubkey FILE        trust this node public key (PEM, `firstlight key export`); repeatable.\n"
		"                       Without it the window is never complete: the signatures prove\n"
		"                       consistency, not who signed\n"
		"  --keys DIR           the keys of many nodes: DIR/<node>.pub pins the key of the node\n"
		"                       its records name <node> (names of letters, digits, '.', '_' and\n"
		"                       '-' only; a node without a file there is pinned by --pubkey alone;\n"
		"                       DIR/@collector.pub pins a collected store's collector)\n"
		"  --json               one JSON document instead of the text (--text)\n"
		"  --html FILE          one self-contained HTML page in FILE (\"-\": stdout): the verdicts, a\n"
		"                       coverage strip per node over the window, the tables. No script.\n"
		"\n"
		"JSON: {since, sinceUnixNano, until, untilUnixNano, complete, verdict, nodes[]}; a node:\n"
		"{node, complete, verdict, reasons[] {kind, text} (kind: INPUT, CHAIN, KEY_NOT_PINNED, a\n"
		"gap kind of the incomplete set, DOWN, NOT_SHIPPED), notes[] {kind, text} (a gap kind of\n"
		"the others), chain {verified, keyPinned, key, failure, files, batches, records, runs,\n"
		"removedSegments, lostRecords, notes[]}, capabilities {kernel, machine, kernels[],\n"
		"missing[] {name, reason, unobserved}, truncated} (null: no NodeCapabilities record by\n"
		"the window's end), input {files, damage}, sequence\n"
		"{continuous, holes, missingRecords}, heartbeats {continuous, holes, missing}, coverage\n"
		"{coveredNano, gapNano, downNano, notShippedNano}, strip[] {state (covered, gap, down,\n"
		"notShipped), start, startUnixNano, end, endUnixNano}, runs[] {runId, start, end,\n"
		"lastHeartbeat, records, started, stopped, live}, gaps[] (as `firstlight gaps --json`),\n"
		"workloads[] {key, kind, cgroupId, runtime, containerId, containerName, podName,\n"
		"podNamespace, image, cgroupPath, identityVerified, identitySource, firstSeen, lastSeen,\n"
		"ended, endRecorded, processes, coverageFrom (ended, records), firstEventLatencyNano,\n"
		"drops, droppedInWindow, gaps, unobserved[], unattributed, blind}}. 64-bit numbers are\n"
		"strings; every field is present, null when unknown.\n"
		"\n"
		"Exit status: 0 every node's window is complete; %d not complete (as `gaps --fail-on`);\n"
		"1 an input could not be read in full (named on stderr; what was read still counts) or\n"
		"output failed: 1 wins over %d; 2 usage error.\n",
		STORE_DEFAULT_DIR, REPORT_EXIT_INCOMPLETE, REPORT_EXIT_INCOMPLETE);
}

struct report_args {
	uint64_t since, until;
	int json;
	const char *html;
	const char *keys_dir;
	uint8_t keys[MAX_KEYS][KEYS_PUB_LEN];
	size_t n_keys;
};

/* An argument or a reader's message for a one-line message: escaped, bounded. */
static const char *shown_max(struct json_buf *b, const char *s, size_t max)
{
	json_buf__reset(b);
	if (textesc__append(b, s, strlen(s), max, 0) < 0 || !b->data)
		return "?";
	return b->data;
}

static const char *shown(struct json_buf *b, const char *s)
{
	return shown_max(b, s, ARG_SHOWN_MAX);
}

/* 0 parsed, 1 --help printed, -EINVAL (message logged). */
static int parse_args(struct report_args *a, int argc, char **argv)
{
	enum { O_SINCE = 256, O_UNTIL, O_JSON, O_TEXT, O_HTML, O_PUBKEY, O_KEYS };
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "json", no_argument, NULL, O_JSON },
		{ "text", no_argument, NULL, O_TEXT },
		{ "html", required_argument, NULL, O_HTML },
		{ "pubkey", required_argument, NULL, O_PUBKEY },
		{ "keys", required_argument, NULL, O_KEYS },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct json_buf b = {};
	int c, err = 0;

	if (cliopt__check_full("report", argc, argv, longopts))
		return -EINVAL;
	optind = 1;
	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_SINCE:
		case O_UNTIL:
			if (timefmt__parse(optarg, c == O_SINCE ? &a->since : &a->until)) {
				log_error("report: %s: invalid time '%s' (RFC 3339 such as 2024-05-01T10:00:00Z, "
					  "or unix seconds)", c == O_SINCE ? "--since" : "--until", shown(&b, optarg));
				err = -EINVAL;
			}
			break;
		case O_JSON: a->json = 1; break;
		case O_TEXT: a->json = 0; break;
		case O_HTML:
			a->html = optarg;
			if (!*optarg) {
				log_error("report: --html needs a file name (\"-\" for stdout)");
				err = -EINVAL;
			}
			break;
		case O_PUBKEY:
			if (a->n_keys == MAX_KEYS) {
				log_error("report: at most %d --pubkey", MAX_KEYS);
				err = -EINVAL;
			} else if (keys__read_public(optarg, a->keys[a->n_keys])) {
				err = -EINVAL; /* logged, naming the file */
			} else {
				a->n_keys++;
			}
			break;
		case O_KEYS:
			a->keys_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			json_buf__free(&b);
			return 1;
		default:
			log_error("report: unknown option or missing value '%s' (see firstlight report --help)",
				  shown(&b, argv[optind - 1]));
			err = -EINVAL;
		}
	}
	if (!err && (!a->since || !a->until)) {
		log_error("report: which window? --since TIME and --until TIME are both needed");
		err = -EINVAL;
	} else if (!err && a->since >= a->until) {
		log_error("report: --since must be before --until");
		err = -EINVAL;
	} else if (!err && a->html && a->json) {
		log_error("report: --html and --json: one output at a time");
		err = -EINVAL;
	}
	json_buf__free(&b);
	return err;
}

/*
 * A node's name comes from its records: it names a file only when it is a plain file name
 * (no '/', no leading '.', nothing a shell or a terminal would read twice). A leading '@'
 * is a collected store's own folder (@collector): DIR/@collector.pub pins the collector.
 */
static int file_safe(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 200 || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '.' || s[i] == '_' || s[i] == '-' || (s[i] == '@' && !i && n > 1)))
			return 0;
	return 1;
}

/* report_opts.node_key for --keys DIR: DIR/<node>.pub. */
static int node_key(void *ctx, const char *node, uint8_t key[KEYS_PUB_LEN])
{
	const char *dir = ctx, *slash = strrchr(node, '/');
	struct json_buf b = {};
	char path[PATH_MAX];

	if (slash && slash[1] == '@')
		node = slash + 1; /* a collector known by its store's path (inputs__group) */
	if (!file_safe(node)) {
		log_warn("report: node '%s': not a plain file name, no key looked up in %s", shown(&b, node), dir);
		json_buf__free(&b);
		return -EINVAL;
	}
	if (snprintf(path, sizeof(path), "%s/%s.pub", dir, node) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (access(path, F_OK))
		return -errno; /* no key for it: what --pubkey pins, if anything */
	return keys__read_public(path, key) ? -EINVAL : 0; /* a bad key file is logged */
}

int cmd_report__main(int argc, char **argv)
{
	struct report_args a = {};
	struct report_opts ro = {};
	struct inputs in = {};
	struct report *r = NULL;
	struct json_buf out = {}, msg = {};
	struct timespec now;
	int err, status = 0;

	err = parse_args(&a, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	for (int i = optind; i < argc; i++)
		if (!strcmp(argv[i], "-")) {
			log_error("report: '-': stdin cannot be read twice, and the chain is checked on "
				  "the stored bytes after the records: give the files or directories");
			return 2;
		}
	if (inputs__collect(&in, argc - optind, argv + optind, STORE_DEFAULT_DIR))
		return 1;
	clock_gettime(CLOCK_REALTIME, &now);
	ro = (struct report_opts){
		.since_ns = a.since, .until_ns = a.until,
		.keys = (const uint8_t(*)[KEYS_PUB_LEN])a.keys, .n_keys = a.n_keys,
		.now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec,
		.run_is_live = runalive__probe,
		.node_key = a.keys_dir ? node_key : NULL, .key_ctx = (void *)a.keys_dir,
	};
	r = report__new(&ro);
	if (!r)
		goto nomem;
	for (int i = 0; i < in.n; i++) {
		err = report__file(r, in.paths[i], inputs__group(&in, i));
		if (err < 0)
			goto nomem;
		if (err) {
			log_error("%s", shown_max(&msg, report__error(r), 0));
			status = 1;
		}
	}
	err = report__finish(r) ?: a.html ? reporthtml__page(&out, r) :
	      a.json ? reportfmt__json(&out, r) : reportfmt__text(&out, r);
	if (err)
		goto nomem;
	if (a.html) {
		err = htmlfmt__save(a.html, &out);
		if (err) {
			log_error("%s: %s", shown(&msg, a.html), strerror(-err));
			status = 1;
		}
	} else if ((out.len && fwrite(out.data, 1, out.len, stdout) != out.len) || fflush(stdout)) {
		log_error("stdout: %s", strerror(errno));
		status = 1;
	}
	if (!status && !report__complete(r))
		status = REPORT_EXIT_INCOMPLETE;
	goto cleanup;
nomem:
	log_error("report: out of memory");
	status = 1;
cleanup:
	json_buf__free(&out);
	json_buf__free(&msg);
	report__free(r);
	inputs__free(&in);
	return status;
}
