/*
 * `firstlight tree SELECTION [--json|--text] [FILE|DIR|-]...`: reads the inputs twice
 * (jobtree.h says why): once to find what SELECTION names, once to keep the job's
 * records; stdin is kept to be read twice (inputs__keep_stdin).
 * A damaged input is reported like `read` does (file and byte offset), what was read of
 * it still counts, and the exit status is 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cliopt.h"
#include "base/timefmt.h"
#include "base/units.h"
#include "readers/htmlfmt.h"
#include "readers/inputs.h"
#include "readers/jobhtml.h"
#include "store/store_dir.h"
#include "cmd/cmd_tree.h"
#include "readers/jobtree.h"
#include "base/log.h"
#include "base/textesc.h"
#include "readers/treefmt.h"
#include "records/wlkey.h"

#define ARG_SHOWN_MAX 128 /* characters of a user's argument repeated in a message */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firstlight tree SELECTION [--json | --text | --html FILE] [-v] [FILE | DIR | -]...\n"
		"Rebuilds one job from the records (default: every segment in %s): its\n"
		"processes as a tree by lineage, each with its start, lifetime, user, images (fork, then\n"
		"every exec) with argv, and how it ended; its network flows under the process that owned\n"
		"them; and the gaps of the record inline, where it is incomplete.\n"
		"\n"
		"SELECTION, exactly one of:\n"
		"  --container ID       the container whose id is ID or starts with it (a unique prefix)\n"
		"  --pod NAME           every container of the pod NAME (or pod uid), with\n"
		"    [--namespace NS]   in namespace NS\n"
		"  --workload KEY       the workload KEY (\"cgroup:<id>\", \"sandbox:...\", as in the records)\n"
		"  --exec-id ID         the process image ID onwards and every descendant\n"
		"  --pid PID --at TIME  the process PID alive at TIME and every descendant; TIME is RFC 3339\n"
		"                       (2024-05-01T10:00:00.5Z) or unix seconds (1714557600.5)\n"
		"A workload selection shows every process of the workload: its roots are the processes\n"
		"whose parent is outside it (the runtime's).\n"
		"  --node NAME          only the records of node NAME: a collected store (one folder per\n"
		"                       node) may hold the same container, pod or key on several nodes\n"
		"\n"
		"  --json               one JSON document instead of the text tree (--text)\n"
		"  --html FILE          one self-contained HTML page in FILE (\"-\": stdout) instead: an SVG\n"
		"                       timeline (a lane per process in tree order, its fork and execs as\n"
		"                       segments, its end as a mark, flows as marks, gaps as shaded bands\n"
		"                       across the lanes they blind), the text tree beside it, and every\n"
		"                       record in full behind a click on its mark. No script, no network.\n"
		"  -v, --verbose        the text shows each image's exec id: [exec id ID] (--exec-id ID)\n"
		"\n"
		"Text: a header per workload (container, runtime, identity, pod, image, cgroup, first and\n"
		"last seen), a job line (start, end, counts), then the tree drawn with box-drawing\n"
		"characters (├─ └─ │), children in start order. A process line is\n"
		"  +OFFSET pid PID uid UID [euid EUID] END: IMAGE [-> IMAGE]... [FLAGS]\n"
		"OFFSET is from the job's start; END is \"exit N after LIFETIME\", \"killed by SIGNAME after\n"
		"LIFETIME\" (\", core dumped\"), \"no exit recorded (...)\" when the job is over without it, or\n"
		"\"running at the end of the records\"; IMAGE is \"fork\" (as its parent), \"fork of BINARY\n"
		"ARGV\", \"exec at +OFFSET BINARY ARGV\", \"running BINARY ARGV (when the sensor started)\" or\n"
		"\"exec not recorded (ID)\"; ARGV is a JSON array. FLAGS: [pre-existing], [started while no\n"
		"sensor ran], [start not recorded], [real parent pid N], [in WORKLOAD] (where it changes\n"
		"down a tree across workloads), ... Flow lines: \"+OFFSET tcp connect SRC -> DST:\n"
		"established in T, closed at +OFFSET after T, sent N B, received N B\", \"tcp accept\",\n"
		"\"udp -> DST: N datagrams\", \"tcp listen\", \"unix connect\". Gap lines start with \"!\":\n"
		"\"! +OFFSET 3 exec events dropped in this workload between 12:00:01.002 and 12:00:01.019\n"
		"(ring buffer full)\", placed before the first process that started after the gap began,\n"
		"or when none did, last under the last process still running then. Times are UTC.\n"
		"Control, bidi and non-UTF-8 characters of the records are shown as \\n \\t \\xHH \\uXXXX.\n"
		"JSON: one document; every field of these objects present, null when unknown; 64-bit\n"
		"numbers are strings, as in `firstlight read --json`:\n"
		"  document  query, start, startUnixNano, end, endUnixNano, durationNano, workloads,\n"
		"            processes, flows, fileAccess, gaps, summary\n"
		"  query     by, value, namespace, pid, at, atUnixNano\n"
		"  workload  key, node, cgroupId, kind, runtime, containerId, claimedContainerId,\n"
		"            containerName, podName, podNamespace, podUid, image, cgroupPath,\n"
		"            identityVerified, identitySource, unattributed, detail, owner,\n"
		"            approvalRef, boundary, unowned, ownersSha256, creatorExecId,\n"
		"            firstSeen, firstSeenUnixNano, lastSeen, lastSeenUnixNano, ended,\n"
		"            endRecorded, recorded, processCount, execCount, drops\n"
		"  process   pid, ppid, execId, lastExecId, parentExecId, forkedByExecId,\n"
		"            outsideParentPid, workload, cgroupId, uid, euid, gid, egid, start,\n"
		"            startUnixNano, offsetNano, end, endUnixNano, durationNano, state, exitCode,\n"
		"            signal, signalName, coreDumped, pidReusedUnixNano, flags, images, flows,\n"
		"            fileAccess, children\n"
		"  flags     preExisting, startedWhileDown, missingStart, startElsewhere,\n"
		"            argsTruncated, lineageLoop, unrecordedExec\n"
		"  image     execId, kind, binary, args, argsTail, argsCutBytes, argsTruncated,\n"
		"            argsCount, cwd, start,\n"
		"            startUnixNano, offsetNano, uid, euid, gid, egid, ppid, parentExecId,\n"
		"            replacedExecId, workload, preExisting, startedWhileDown, fromProcfs,\n"
		"            snapshot, argsEscaped, binaryEscaped, cwdEscaped\n"
		"  flow      kind, protocol, execId, pid, workload, src, srcPort, dst, dstPort,\n"
		"            inbound, result, error, established, connectDurationNano, closed,\n"
		"            closeResult, closeError, bytesSent, bytesReceived, bytesRetransmitted,\n"
		"            datagrams, connects, start, startUnixNano, offsetNano, end, endUnixNano,\n"
		"            durationNano, socketCookie, peerPid, peerExecId, startSeen, preExisting,\n"
		"            ownerUnknown, records\n"
		"  gap       kind, workload, cgroupId, count, eventType, reason, detail,\n"
		"            previousRunId, firstSeq, lastSeq, start, startUnixNano, end, endUnixNano,\n"
		"            offsetNano, placedUnder, text\n"
		"  file      path, hostPath, mode, watch, count, pid, execId, workload, start,\n"
		"            startUnixNano, end, endUnixNano, offsetNano, pathEscaped, hostPathEscaped\n"
		"  summary   processes, images, exited, killed, exitMissing, running, missingStart,\n"
		"            flows, gaps, droppedEvents\n"
		"workloads, processes (the roots), flows (those no process can be named for), gaps,\n"
		"images, children (processes again) and fileAccess (file objects: opens of watched\n"
		"paths, under their opener, else at the top) are arrays of these objects; argsTail\n"
		"and argsCutBytes are set when argv's middle was cut. A process's state\n"
		"is exited, killed, exitMissing or running; an image's kind fork, exec, seen (alive when\n"
		"the sensor started), restated (only a segment snapshot has it) or unrecorded.\n"
		"\n"
		"Exit status: 0 the job was found and printed; 1 an input could not be read in full (an\n"
		"error names the file and byte; what was read is still used) or output failed; 2 usage\n"
		"error, nothing matched, or an ambiguous selection (the candidates are listed).\n",
		STORE_DEFAULT_DIR);
}

/* An argument or record string for a one-line message: escaped, bounded. */
static const char *shown(struct json_buf *b, const char *s)
{
	json_buf__reset(b);
	if (textesc__append(b, s ? s : "", s ? strlen(s) : 0, ARG_SHOWN_MAX, 0) < 0 || !b->data)
		return "?";
	return b->data;
}

struct tree_opts {
	struct jobtree_query q;
	int json;
	const char *html; /* --html FILE */
	int verbose;
	int selectors;
	int have_at;
	const char *at_arg;
};

/*
 * A selection's value that is a path: the value was forgotten and the input taken for
 * it ("tree --container /var/lib/firstlight"). No id, key, pod name or exec id holds a
 * '/'; a bare name is a path only if it names a directory or a segment file here.
 */
static int looks_like_input(const char *v)
{
	struct stat st;
	size_t n = strlen(v);

	if (strchr(v, '/'))
		return 1;
	if (stat(v, &st))
		return 0;
	return S_ISDIR(st.st_mode) || (n > 7 && !strcmp(v + n - 7, ".seg.gz"));
}

/* 0 parsed, 1 --help printed, -EINVAL (message logged). */
static int parse_opts(struct tree_opts *o, int argc, char **argv)
{
	enum { O_CONTAINER = 256, O_POD, O_NAMESPACE, O_WORKLOAD, O_EXEC_ID, O_PID, O_AT, O_JSON, O_TEXT, O_NODE,
	       O_HTML };
	static const struct option longopts[] = {
		{ "container", required_argument, NULL, O_CONTAINER },
		{ "pod", required_argument, NULL, O_POD },
		{ "namespace", required_argument, NULL, O_NAMESPACE },
		{ "node", required_argument, NULL, O_NODE },
		{ "workload", required_argument, NULL, O_WORKLOAD },
		{ "exec-id", required_argument, NULL, O_EXEC_ID },
		{ "pid", required_argument, NULL, O_PID },
		{ "at", required_argument, NULL, O_AT },
		{ "json", no_argument, NULL, O_JSON },
		{ "text", no_argument, NULL, O_TEXT },
		{ "html", required_argument, NULL, O_HTML },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct json_buf b = {};
	int c, err = 0;

	if (cliopt__check_full("tree", argc, argv, longopts))
		return -EINVAL;
	optind = 1;
	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'v': o->verbose = 1; break;
		case O_CONTAINER:
		case O_POD:
		case O_WORKLOAD:
		case O_EXEC_ID:
			o->selectors++;
			o->q.by = c == O_CONTAINER ? JOBTREE_BY_CONTAINER : c == O_POD ? JOBTREE_BY_POD :
				  c == O_WORKLOAD ? JOBTREE_BY_WORKLOAD : JOBTREE_BY_EXEC_ID;
			o->q.value = optarg;
			if (!*optarg) {
				log_error("tree: %s needs a value", argv[optind - 1]);
				err = -EINVAL;
			} else if (looks_like_input(optarg)) {
				static const char *const names[][2] = {
					{ "--container", "a container id" }, { "--pod", "a pod name" },
					{ "--workload", "a workload key" }, { "--exec-id", "an exec id" },
				};
				int k = c == O_CONTAINER ? 0 : c == O_POD ? 1 : c == O_WORKLOAD ? 2 : 3;

				log_error("tree: %s '%s' is a path, not %s: the value is missing (write "
					  "tree %s VALUE [DIR]; firstlight workloads DIR lists the values)",
					  names[k][0], shown(&b, optarg), names[k][1], names[k][0]);
				err = -EINVAL;
			}
			break;
		case O_PID:
			o->selectors++;
			o->q.by = JOBTREE_BY_PID;
			if (units__parse_u32("--pid", optarg, UNITS_COUNT, 1, UINT32_MAX, UNITS_QUIET, &o->q.pid)) {
				log_error("tree: --pid: invalid pid '%s'", shown(&b, optarg));
				err = -EINVAL;
			}
			break;
		case O_NODE:
			o->q.node = optarg;
			break;
		case O_NAMESPACE:
			o->q.pod_namespace = optarg;
			break;
		case O_AT:
			o->have_at = 1;
			o->at_arg = optarg;
			if (timefmt__parse(optarg, &o->q.at_ns)) {
				log_error("tree: --at: invalid time '%s' (RFC 3339 such as "
					  "2024-05-01T10:00:00Z, or unix seconds)", shown(&b, optarg));
				err = -EINVAL;
			}
			break;
		case O_JSON: o->json = 1; break;
		case O_TEXT: o->json = 0; break;
		case O_HTML:
			o->html = optarg;
			if (!*optarg) {
				log_error("tree: --html needs a file name (\"-\" for stdout)");
				err = -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			json_buf__free(&b);
			return 1;
		default:
			log_error("tree: unknown option or missing value '%s' (see firstlight tree --help)",
				  shown(&b, argv[optind - 1]));
			err = -EINVAL;
		}
	}
	if (err)
		goto out;
	err = -EINVAL;
	if (o->selectors != 1)
		log_error("tree: %s (see firstlight tree --help)", o->selectors ?
			  "one selection at a time: --container, --pod, --workload, --exec-id or --pid" :
			  "what to rebuild? --container, --pod, --workload, --exec-id or --pid --at");
	else if (o->q.pod_namespace && o->q.by != JOBTREE_BY_POD)
		log_error("tree: --namespace goes with --pod");
	else if (o->q.by == JOBTREE_BY_PID && !o->have_at)
		log_error("tree: --pid needs --at TIME (a pid names a process only at a time)");
	else if (o->have_at && o->q.by != JOBTREE_BY_PID)
		log_error("tree: --at goes with --pid");
	else if (o->html && o->json)
		log_error("tree: --html and --json: one output at a time");
	else
		err = 0;
out:
	json_buf__free(&b);
	return err;
}

static int scan(void *t, const Firstlight__V1__Event *ev)
{
	return jobtree__scan(t, ev);
}

static int add(void *t, const Firstlight__V1__Event *ev)
{
	return jobtree__add(t, ev);
}

/* Why the selection found nothing, or which candidates it could mean. */
static void report_no_match(const struct tree_opts *o, const struct jobtree *t, int err)
{
	const struct jobtree_query *q = &o->q;
	struct json_buf b = {}, b2 = {}, msg = {}, when = {};
	size_t wl = jobtree__workloads_seen(t);
	const char *id;

	if (err == -ENOTUNIQ) {
		size_t n = jobtree__candidates(t);
		const struct jt_candidate *c0 = jobtree__candidate(t, 0);
		const char *hint = c0 && !strncmp(c0->what, "node ", 5) ? "on several nodes: add --node NAME" :
				   q->by == JOBTREE_BY_CONTAINER ? "give more of the id, or --workload KEY" :
				   q->by == JOBTREE_BY_POD ? "add --namespace NS, or give the pod uid" :
							     "records of several boots or nodes? use --exec-id";

		if (q->by == JOBTREE_BY_PID)
			log_error("tree: pid %u at %s is ambiguous: %zu processes match (%s):", q->pid,
				  shown(&b, o->at_arg), n, hint);
		else
			log_error("tree: %s '%s' is ambiguous: %zu %s match (%s):",
				  q->by == JOBTREE_BY_POD ? "pod" : "container", shown(&b, q->value), n,
				  q->by == JOBTREE_BY_POD ? "pods" : "workloads", hint);
		for (size_t i = 0; i < n; i++) {
			const struct jt_candidate *c = jobtree__candidate(t, i);
			json_buf__reset(&when);
			if (c->first_ns)
				timefmt__rfc3339(&when, c->first_ns, 0);
			fprintf(stderr, "  %s  %s", shown(&b, c->key), shown(&b2, c->what));
			if (*c->detail)
				fprintf(stderr, "  (%s)", shown(&b, c->detail));
			fprintf(stderr, "  first seen %s\n", when.len ? when.data : "?");
		}
		goto out;
	}
	/* One line: what matched nothing, where to look, then what comes closest. */
	switch (q->by) {
	case JOBTREE_BY_CONTAINER:
		json_buf__appendf(&msg, "no container id is or starts with '%s' (%zu workloads in the input: "
				  "firstlight workloads lists them)", shown(&b, q->value), wl);
		break;
	case JOBTREE_BY_POD:
		if (q->pod_namespace)
			json_buf__appendf(&msg, "no pod named '%s' in namespace '%s' (%zu workloads in the input: "
					  "firstlight workloads lists them)", shown(&b, q->value),
					  shown(&b2, q->pod_namespace), wl);
		else
			json_buf__appendf(&msg, "no pod named '%s' (%zu workloads in the input: firstlight "
					  "workloads lists them)", shown(&b, q->value), wl);
		break;
	case JOBTREE_BY_WORKLOAD:
		json_buf__appendf(&msg, "no workload '%s' in the input", shown(&b, q->value));
		/* A bare cgroup id: its key is what was meant. */
		if (jobtree__suggestions(t) == 1 && (id = wlkey__cgroup_text(jobtree__suggestion(t, 0)->key)) &&
		    !strcmp(id, q->value)) {
			json_buf__appendf(&msg, ": the workload key of cgroup %s is %s: write --workload %s",
					  shown(&b, q->value), shown(&b2, jobtree__suggestion(t, 0)->key),
					  jobtree__suggestion(t, 0)->key);
			goto print;
		}
		json_buf__append_str(&msg, " (firstlight workloads lists them)");
		break;
	case JOBTREE_BY_EXEC_ID:
		json_buf__appendf(&msg, "no process image with exec id '%s' in the input", shown(&b, q->value));
		break;
	default:
		json_buf__appendf(&msg, "no process with pid %u alive at %s in the input", q->pid,
				  shown(&b, o->at_arg));
	}
	for (size_t i = 0; i < jobtree__suggestions(t); i++) {
		const struct jt_candidate *c = jobtree__suggestion(t, i);

		json_buf__append_str(&msg, i ? ", " : q->by == JOBTREE_BY_PID ? "; that pid ran " : "; closest: ");
		if (q->by == JOBTREE_BY_PID) {
			json_buf__append_str(&msg, "from ");
			if (c->first_ns)
				timefmt__rfc3339(&msg, c->first_ns, 3);
			else
				json_buf__append_str(&msg, "an unknown start");
			if (c->last_ns) {
				json_buf__append_str(&msg, " to ");
				timefmt__rfc3339(&msg, c->last_ns, 3);
			} else {
				json_buf__appendf(&msg, ", %s", c->detail);
			}
			json_buf__appendf(&msg, " (--exec-id %s)", shown(&b, c->key));
			continue;
		}
		/* A container id by the prefix `tree --container` takes. */
		json_buf__appendf(&msg, q->by == JOBTREE_BY_CONTAINER ? "%.12s" : "%s", shown(&b, c->what));
		if (*c->detail)
			json_buf__appendf(&msg, " (%s)", shown(&b, c->detail));
	}
print:
	log_error("tree: %s", msg.data ? msg.data : "nothing matched");
out:
	json_buf__free(&b);
	json_buf__free(&b2);
	json_buf__free(&msg);
	json_buf__free(&when);
}

int cmd_tree__main(int argc, char **argv)
{
	struct tree_opts o = {};
	struct inputs in = {};
	struct jobtree *t = NULL;
	struct json_buf out = {}, o_msg = {};
	int err, status = 0;

	err = parse_opts(&o, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	if (inputs__collect(&in, argc - optind, argv + optind, STORE_DEFAULT_DIR))
		return 1;
	t = jobtree__new(&o.q);
	if (!t || (o.html && jobtree__keep_records(t)))
		goto nomem;
	/* Two passes (jobtree.h): stdin is kept to be read twice. */
	status = inputs__keep_stdin(&in);
	for (int i = 0; i < in.n; i++) {
		err = inputs__read(&in, i, scan, t, INPUTS_WARN_UNCLEAN);
		if (err < 0)
			goto nomem;
		status |= err;
	}
	err = jobtree__resolve(t);
	if (err == -ENOMEM)
		goto nomem;
	if (err) {
		report_no_match(&o, t, err);
		/* An input that could not be read may hold the job: that is the answer then. */
		status = status ? 1 : 2;
		goto cleanup;
	}
	for (int i = 0; i < in.n; i++) {
		err = inputs__read(&in, i, add, t, 0);
		if (err < 0)
			goto nomem;
		status |= err;
	}
	err = jobtree__build(t) ?: o.html ? jobhtml__page(&out, jobtree__job(t)) :
	      o.json ? treefmt__json(&out, jobtree__job(t)) :
		       treefmt__text_with(&out, jobtree__job(t), o.verbose ? TREEFMT_EXEC_IDS : 0);
	if (err)
		goto nomem;
	if (o.html) {
		err = htmlfmt__save(o.html, &out);
		if (err) {
			log_error("%s: %s", shown(&o_msg, o.html), strerror(-err));
			status = 1;
		}
	} else if ((out.len && fwrite(out.data, 1, out.len, stdout) != out.len) || fflush(stdout)) {
		log_error("stdout: %s", strerror(errno));
		status = 1;
	}
	goto cleanup;
nomem:
	log_error("tree: out of memory");
	status = 1;
cleanup:
	json_buf__free(&out);
	json_buf__free(&o_msg);
	jobtree__free(t);
	inputs__free(&in);
	return status;
}
