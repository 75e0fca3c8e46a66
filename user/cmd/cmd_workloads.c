/*
 * `firstlight workloads [--json] [--kind KIND[,KIND]] [FILE|DIR|-]...`: lists the
 * workloads of the records (wllist.h) with what `tree` selects them by. A damaged input is
 * reported like `read` does (file and byte offset), what was read of it still counts,
 * and the exit status is 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cliopt.h"
#include "base/json.h"
#include "base/log.h"
#include "cmd/cmd_workloads.h"
#include "readers/inputs.h"
#include "readers/wlfmt.h"
#include "readers/wllist.h"
#include "store/store_dir.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firstlight workloads [--json] [--kind KIND[,KIND...]] [FILE|DIR|-]...\n"
		"Lists the workloads of the records (default: every segment in %s): containers,\n"
		"sandboxes, services, sessions, the host; what `firstlight tree` selects. One row each,\n"
		"in the order first seen:\n"
		"  KEY         the workload key: tree --workload KEY\n"
		"  KIND        CONTAINER, POD_SANDBOX, SANDBOX, SERVICE, SESSION, SLICE, HOST, UNKNOWN\n"
		"              (\"-\": known only from records that name its key)\n"
		"  CONTAINER   the container id's first %d characters: tree --container ID\n"
		"  NAME        the container's name (Kubernetes)\n"
		"  POD         NAMESPACE/NAME: tree --pod NAME --namespace NAMESPACE\n"
		"  IMAGE       the container's image\n"
		"  OWNER       who owns it, by the owners file the agent ran with (run --owners;\n"
		"              \"-\": no file, or no rule matched)\n"
		"  FIRST SEEN, LAST SEEN  the first and last record that names it (UTC)\n"
		"  PROCESSES   processes recorded in it (a fork and its exec are one process)\n"
		"  GAPS        gap records that named it (firstlight gaps lists them)\n"
		"A NODE column comes first when the records are of several nodes (a workload key is a\n"
		"node's own).\n"
		"\n"
		"  --json         one JSON object per workload and line, instead of the table (--text):\n"
		"                 node, key, kind, cgroupId, cgroupPath, runtime, containerId, containerName,\n"
		"                 podName, podNamespace, podUid, image, owner, identityVerified,\n"
		"                 firstSeen, lastSeen, firstSeenUnixNano, lastSeenUnixNano, ended,\n"
		"                 processes, gaps; every field present, null when unknown; 64-bit\n"
		"                 numbers as strings, as in `firstlight read --json`\n"
		"  --kind KINDS   only workloads of these kinds (comma-separated, case-insensitive)\n"
		"\n"
		"Text: strings of the records are escaped (control, bidi and non-UTF-8 characters as\n"
		"\\n \\t \\xHH \\uXXXX) and cut at %d characters with \"...\"; \"-\" when unknown.\n"
		"Exit status: 0 listed; 1 an input could not be read in full (an error names the file\n"
		"and byte; what was read is still listed) or output failed; 2 usage error.\n",
		STORE_DEFAULT_DIR, WLFMT_ID_CHARS, WLFMT_CELL_MAX);
}

/* --kind: a bit per Workload.Kind. 0, or -EINVAL (logged). */
static int parse_kinds(const char *list, uint64_t *mask)
{
	const ProtobufCEnumDescriptor *d = &firstlight__v1__workload__kind__descriptor;
	const char *p = list;

	while (1) {
		size_t n = strcspn(p, ",");
		int found = 0;

		for (unsigned i = 0; i < d->n_values && n; i++) {
			if (strlen(d->values[i].name) == n && !strncasecmp(d->values[i].name, p, n) &&
			    d->values[i].value > 0 && d->values[i].value < 64) {
				*mask |= UINT64_C(1) << d->values[i].value;
				found = 1;
			}
		}
		if (!found) {
			log_error("workloads: --kind: unknown kind '%.*s' (container, pod_sandbox, sandbox, "
				  "service, session, slice, host, unknown)", (int)(n > 64 ? 64 : n), p);
			return -EINVAL;
		}
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

static int add(void *l, const Firstlight__V1__Event *ev)
{
	return wllist__add(l, ev);
}

int cmd_workloads__main(int argc, char **argv)
{
	enum { O_JSON = 256, O_TEXT, O_KIND };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "text", no_argument, NULL, O_TEXT },
		{ "kind", required_argument, NULL, O_KIND },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const struct wl_row **rows = NULL;
	struct json_buf out = {};
	struct wllist *l = NULL;
	struct inputs in = {};
	uint64_t kinds = 0;
	size_t n = 0;
	int c, json = 0, status = 0, err = 0;

	if (cliopt__check_full("workloads", argc, argv, longopts))
		return 2;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON: json = 1; break;
		case O_TEXT: json = 0; break;
		case O_KIND:
			if (parse_kinds(optarg, &kinds))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			log_error("workloads: unknown option or missing value '%s' (see firstlight "
				  "workloads --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (inputs__collect(&in, argc - optind, argv + optind, STORE_DEFAULT_DIR))
		return 1;
	l = wllist__new();
	if (!l)
		goto nomem;
	for (int i = 0; i < in.n; i++) {
		err = inputs__read(&in, i, add, l, 0);
		if (err < 0)
			goto nomem;
		status |= err;
	}
	wllist__finish(l);
	rows = calloc(wllist__count(l) + 1, sizeof(*rows));
	if (!rows)
		goto nomem;
	for (size_t i = 0; i < wllist__count(l); i++) {
		const struct wl_row *w = wllist__row(l, i);

		if (!kinds || (w->kind > 0 && w->kind < 64 && (kinds >> w->kind & 1)))
			rows[n++] = w;
	}
	if (json) {
		for (size_t i = 0; i < n && !err; i++)
			err = wlfmt__json(&out, rows[i]);
	} else {
		err = wlfmt__text(&out, rows, n);
	}
	if (err)
		goto nomem;
	if ((out.len && fwrite(out.data, 1, out.len, stdout) != out.len) || fflush(stdout)) {
		log_error("stdout: %s", strerror(errno));
		status = 1;
	}
	goto cleanup;
nomem:
	log_error("workloads: out of memory");
	status = 1;
cleanup:
	free(rows);
	json_buf__free(&out);
	wllist__free(l);
	inputs__free(&in);
	return status;
}
