/* The report as text and as JSON; see reportfmt.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/textesc.h"
#include "base/timefmt.h"
#include "readers/gapfmt.h"
#include "readers/reportfmt.h"
#include "readers/treefmt.h"
#include "records/wlkey.h"

#define CELL_MAX 64 /* characters of a record's string in a text cell */

/* ---- text ------------------------------------------------------------------------------- */

static int esc(struct json_buf *b, const char *s, size_t max)
{
	return textesc__append(b, s ? s : "", s ? strlen(s) : 0, max, 0) < 0 ? -ENOMEM : 0;
}

static int put_dur(struct json_buf *b, uint64_t ns)
{
	char d[48];

	treefmt__duration(d, sizeof(d), ns);
	return json_buf__append_str(b, d);
}

static int put_time(struct json_buf *b, uint64_t ns)
{
	return ns ? timefmt__rfc3339(b, ns, 3) : json_buf__append_str(b, "-");
}

static int text_chain(struct json_buf *b, const struct report_node *n)
{
	const struct verify_result *v = n->chain;
	int err;

	if (v->failed)
		return json_buf__append_str(b, "  chain      FAIL: ") ?: esc(b, v->failure, 0) ?: json_buf__append_str(b, "\n");
	err = json_buf__appendf(b, "  chain      verified: %" PRIu64 " files, %" PRIu64 " batches, %" PRIu64
				" records, %" PRIu64 " runs, key %s (%s)\n", v->files, v->batches, v->records,
				v->runs, v->key_hex, v->key_trusted ? "pinned" : "NOT pinned: give --pubkey");
	for (size_t i = 0; i < v->n_notes && !err; i++)
		err = json_buf__append_str(b, "             note: ") ?: esc(b, v->notes[i], 0) ?: json_buf__append_str(b, "\n");
	return err;
}

static int text_runs(struct json_buf *b, const struct report_node *n)
{
	int err = 0;

	for (size_t i = 0; i < n->n_runs && !err; i++) {
		const struct gapscan_run *r = &n->runs[i];

		err = json_buf__append_str(b, i ? "             " : "  runs       ") ?: esc(b, r->id, CELL_MAX) ?:
		      json_buf__append_str(b, " ") ?: put_time(b, r->first_ns) ?: json_buf__append_str(b, " to ") ?:
		      put_time(b, r->last_ns) ?:
		      json_buf__appendf(b, ", %" PRIu64 " records, %s\n", r->records,
					r->stopped ? "stopped" : r->live ? "still running" : "no STOPPED record");
	}
	if (!n->n_runs)
		err = json_buf__append_str(b, "  runs       none in the window\n");
	return err;
}

/* "-" unknown, "none", or the names, comma-separated. */
static int text_unobserved(struct json_buf *b, const struct report_workload *w)
{
	int err = 0;

	if (!w->has_unobserved)
		return json_buf__append_str(b, "-");
	if (!w->n_unobserved)
		return json_buf__append_str(b, "none");
	for (size_t i = 0; i < w->n_unobserved && !err; i++)
		err = (i ? json_buf__append_str(b, ",") : 0) ?: esc(b, w->unobserved[i], CELL_MAX);
	return err;
}

static int text_workloads(struct json_buf *b, const struct report_node *n)
{
	int err = json_buf__appendf(b, "  workloads  %zu in the window: KEY KIND PROCESSES LATENCY DROPS(WINDOW) GAPS "
				    "UNOBSERVED [FLAGS] NAME\n", n->n_workloads);

	for (size_t i = 0; i < n->n_workloads && !err; i++) {
		const struct report_workload *w = n->workloads[i];
		const char *name = *w->container_id ? w->container_id : *w->pod_name ? w->pod_name :
				   *w->cgroup_path ? w->cgroup_path : "-";

		err = json_buf__append_str(b, "             ") ?: esc(b, w->key, CELL_MAX) ?:
		      json_buf__appendf(b, " %s %u ", w->kind, w->processes);
		if (!err)
			err = w->has_latency ? put_dur(b, w->first_event_latency_ns) : json_buf__append_str(b, "-");
		err = err ?: json_buf__appendf(b, " %" PRIu64 "(%" PRIu64 ") %zu ", w->drops, w->dropped_in_window, w->gaps) ?:
		      text_unobserved(b, w);
		if (!err && (w->unattributed || w->blind || !w->ended)) {
			char flags[64];

			snprintf(flags, sizeof(flags), "%s%s%s", w->unattributed ? " unattributed" : "",
				 w->blind ? " blind" : "", w->ended ? "" : w->end_lost ? " end-dropped" : " running");
			err = json_buf__appendf(b, " [%s]", flags + 1);
		}
		err = err ?: json_buf__append_str(b, " ") ?: esc(b, name, CELL_MAX) ?: json_buf__append_str(b, "\n");
	}
	return err;
}

/* "kernel 6.1.0 (x86_64), capabilities: all", or what it lacked and why. */
static int text_caps(struct json_buf *b, const struct report_node *n)
{
	const struct report_caps *c = &n->caps;
	int err;

	if (!c->known)
		return json_buf__append_str(b, "  kernel     unknown (no NodeCapabilities record by the window's end), "
					    "capabilities: unknown\n");
	err = json_buf__append_str(b, "  kernel     ");
	for (size_t i = 0; i < c->n_kernels && !err; i++)
		err = (i ? json_buf__append_str(b, ", ") : 0) ?: esc(b, c->kernels[i], CELL_MAX);
	if (!err && !c->n_kernels)
		err = json_buf__append_str(b, "-");
	if (!err && *c->machine)
		err = json_buf__append_str(b, " (") ?: esc(b, c->machine, CELL_MAX) ?: json_buf__append_str(b, ")");
	err = err ?: json_buf__append_str(b, c->n_missing ? ", capabilities: missing " : ", capabilities: all");
	for (size_t i = 0; i < c->n_missing && !err; i++) {
		err = (i ? json_buf__append_str(b, ", ") : 0) ?: esc(b, c->missing[i].name, CELL_MAX);
		if (!err && *c->missing[i].reason)
			err = json_buf__append_str(b, " (") ?: esc(b, c->missing[i].reason, 0) ?: json_buf__append_str(b, ")");
	}
	if (!err && c->truncated)
		err = json_buf__append_str(b, " (cut: more records or capabilities than a report keeps)");
	return err ?: json_buf__append_str(b, "\n");
}

static int text_node(struct json_buf *b, const struct report_node *n)
{
	const uint64_t *s = n->state_ns;
	int err = json_buf__append_str(b, "node       ") ?: esc(b, *n->node ? n->node : "(unnamed)", CELL_MAX) ?:
		  json_buf__append_str(b, "\n  verdict    ") ?: esc(b, n->verdict, 0) ?: json_buf__append_str(b, "\n") ?:
		  text_chain(b, n);

	if (!err && n->damage)
		err = json_buf__append_str(b, "  input      ") ?: esc(b, n->damage, 0) ?: json_buf__append_str(b, "\n");
	err = err ?: text_caps(b, n) ?: json_buf__append_str(b, "  sequence   ");
	if (!err)
		err = n->seq_holes ? json_buf__appendf(b, "%zu holes, %" PRIu64 " records missing\n", n->seq_holes, n->seq_missing) :
				     json_buf__append_str(b, "continuous\n");
	err = err ?: json_buf__append_str(b, "  heartbeats ");
	if (!err)
		err = n->beat_holes ? json_buf__appendf(b, "%zu holes, %" PRIu64 " heartbeats missing\n", n->beat_holes, n->beats_missing) :
				      json_buf__append_str(b, "continuous\n");
	err = err ?: json_buf__append_str(b, "  coverage   covered ") ?: put_dur(b, s[REPORT_COVERED]) ?:
	      json_buf__append_str(b, ", gap ") ?: put_dur(b, s[REPORT_GAP]) ?:
	      json_buf__append_str(b, ", down ") ?: put_dur(b, s[REPORT_DOWN]) ?:
	      json_buf__append_str(b, ", not shipped ") ?: put_dur(b, s[REPORT_NOT_SHIPPED]) ?:
	      json_buf__append_str(b, "\n") ?: text_runs(b, n);
	err = err ?: json_buf__appendf(b, "  gaps       %zu in the window\n", n->n_gaps);
	if (!err && n->n_gaps)
		err = gapfmt__text(b, n->gaps, n->n_gaps);
	return err ?: text_workloads(b, n) ?: json_buf__append_str(b, "\n");
}

int reportfmt__text(struct json_buf *out, const struct report *r)
{
	const struct report_opts *o = report__opts(r);
	int err = json_buf__append_str(out, "window     ") ?: timefmt__rfc3339(out, o->since_ns, 9) ?:
		  json_buf__append_str(out, " to ") ?: timefmt__rfc3339(out, o->until_ns, 9) ?:
		  json_buf__append_str(out, " (") ?: put_dur(out, o->until_ns - o->since_ns) ?:
		  json_buf__append_str(out, ")\n\n");

	for (size_t i = 0; i < report__nodes(r) && !err; i++)
		err = text_node(out, report__node(r, i));
	return err ?: json_buf__append_str(out, "verdict    ") ?: esc(out, report__verdict(r), 0) ?:
	       json_buf__append_str(out, "\n");
}

/* ---- JSON ------------------------------------------------------------------------------- */

static int key(struct json_buf *b, const char *k, int *first)
{
	int err = json_buf__appendf(b, "%s\"%s\":", *first ? "" : ",", k);

	*first = 0;
	return err;
}

static int jstr(struct json_buf *b, const char *k, const char *s, int *f)
{
	return key(b, k, f) ?: (s && *s ? json__append_string_lossless(b, s) : json_buf__append_str(b, "null"));
}

static int ju64(struct json_buf *b, const char *k, uint64_t v, int set, int *f)
{
	return key(b, k, f) ?: (set ? json_buf__appendf(b, "\"%" PRIu64 "\"", v) : json_buf__append_str(b, "null"));
}

static int jnum(struct json_buf *b, const char *k, uint64_t v, int *f)
{
	return key(b, k, f) ?: json_buf__appendf(b, "%" PRIu64, v);
}

static int jbool(struct json_buf *b, const char *k, int v, int *f)
{
	return key(b, k, f) ?: json_buf__append_str(b, v ? "true" : "false");
}

/* "start": RFC 3339 or null, then "startUnixNano". */
static int jtime(struct json_buf *b, const char *k, const char *k_ns, uint64_t ns, int *f)
{
	int err = key(b, k, f);

	if (!err)
		err = ns ? json_buf__append_str(b, "\"") ?: timefmt__rfc3339(b, ns, 9) ?: json_buf__append_str(b, "\"") :
			   json_buf__append_str(b, "null");
	return err ?: ju64(b, k_ns, ns, ns != 0, f);
}

static int json_chain(struct json_buf *b, const struct report_node *n, int *f)
{
	const struct verify_result *v = n->chain;
	int g = 1;
	int err = key(b, "chain", f) ?: json_buf__append_str(b, "{") ?: jbool(b, "verified", !v->failed, &g) ?:
		  jbool(b, "keyPinned", v->key_trusted, &g) ?: jstr(b, "key", v->key_hex, &g) ?:
		  jstr(b, "failure", v->failed ? v->failure : NULL, &g) ?: jnum(b, "files", v->files, &g) ?:
		  ju64(b, "batches", v->batches, 1, &g) ?: ju64(b, "records", v->records, 1, &g) ?:
		  ju64(b, "runs", v->runs, 1, &g) ?: ju64(b, "removedSegments", v->removed_segments, 1, &g) ?:
		  ju64(b, "lostRecords", v->lost_records, 1, &g) ?: key(b, "notes", &g) ?: json_buf__append_str(b, "[");

	for (size_t i = 0; i < v->n_notes && !err; i++)
		err = (i ? json_buf__append_str(b, ",") : 0) ?: json__append_string_lossless(b, v->notes[i]);
	return err ?: json_buf__append_str(b, "]}");
}

/* A list of strings, or null when unknown. */
static int jstrs(struct json_buf *b, const char *k, const char *const *v, size_t n, int known, int *f)
{
	int err = key(b, k, f);

	if (!known)
		return err ?: json_buf__append_str(b, "null");
	err = err ?: json_buf__append_str(b, "[");
	for (size_t i = 0; i < n && !err; i++)
		err = (i ? json_buf__append_str(b, ",") : 0) ?: json__append_string_lossless(b, v[i]);
	return err ?: json_buf__append_str(b, "]");
}

/* "capabilities": null, or {kernel, machine, kernels[], missing[{name, reason,
 * unobserved}], truncated}. */
static int json_caps(struct json_buf *b, const struct report_node *n, int *f)
{
	const struct report_caps *c = &n->caps;
	int g = 1;
	int err = key(b, "capabilities", f);

	if (!c->known)
		return err ?: json_buf__append_str(b, "null");
	err = err ?: json_buf__append_str(b, "{") ?: jstr(b, "kernel", c->kernel, &g) ?:
	      jstr(b, "machine", c->machine, &g) ?: jstrs(b, "kernels", c->kernels, c->n_kernels, 1, &g) ?:
	      key(b, "missing", &g) ?: json_buf__append_str(b, "[");
	for (size_t i = 0; i < c->n_missing && !err; i++) {
		int h = 1;

		err = json_buf__append_str(b, i ? ",{" : "{") ?: jstr(b, "name", c->missing[i].name, &h) ?:
		      jstr(b, "reason", c->missing[i].reason, &h) ?: jstr(b, "unobserved", c->missing[i].unobserved, &h) ?:
		      json_buf__append_str(b, "}");
	}
	return err ?: json_buf__append_str(b, "]") ?: jbool(b, "truncated", c->truncated, &g) ?:
	       json_buf__append_str(b, "}");
}

static int json_workload(struct json_buf *b, const struct report_workload *w)
{
	int f = 1;

	return json_buf__append_str(b, "{") ?: jstr(b, "key", w->key, &f) ?: jstr(b, "kind", w->kind, &f) ?:
	       ju64(b, "cgroupId", w->cgroup_id, w->cgroup_id != 0, &f) ?: jstr(b, "runtime", w->runtime, &f) ?:
	       jstr(b, "containerId", w->container_id, &f) ?: jstr(b, "containerName", w->container_name, &f) ?:
	       jstr(b, "podName", w->pod_name, &f) ?: jstr(b, "podNamespace", w->pod_namespace, &f) ?:
	       jstr(b, "image", w->image, &f) ?: jstr(b, "cgroupPath", w->cgroup_path, &f) ?:
	       jbool(b, "identityVerified", w->identity_verified, &f) ?:
	       jstr(b, "identitySource", w->identity_source, &f) ?:
	       jtime(b, "firstSeen", "firstSeenUnixNano", w->first_seen_ns, &f) ?:
	       jtime(b, "lastSeen", "lastSeenUnixNano", w->last_seen_ns, &f) ?:
	       jbool(b, "ended", w->ended || w->end_lost, &f) ?: jbool(b, "endRecorded", w->ended, &f) ?:
	       jnum(b, "processes", w->processes, &f) ?: jstr(b, "coverageFrom", w->coverage_from, &f) ?:
	       ju64(b, "firstEventLatencyNano", w->first_event_latency_ns, w->has_latency, &f) ?:
	       ju64(b, "drops", w->drops, 1, &f) ?:
	       ju64(b, "droppedInWindow", w->dropped_in_window, 1, &f) ?: jnum(b, "gaps", w->gaps, &f) ?:
	       jstrs(b, "unobserved", w->unobserved, w->n_unobserved, w->has_unobserved, &f) ?:
	       jbool(b, "unattributed", w->unattributed, &f) ?: jbool(b, "blind", w->blind, &f) ?:
	       json_buf__append_str(b, "}");
}

static int json_node(struct json_buf *b, const struct report_node *n)
{
	const uint64_t *s = n->state_ns;
	int f = 1, g;
	int err = json_buf__append_str(b, "{") ?: key(b, "node", &f) ?: json__append_string_lossless(b, n->node) ?:
		  jbool(b, "complete", n->complete, &f) ?: key(b, "verdict", &f) ?:
		  json__append_string_lossless(b, n->verdict) ?: key(b, "reasons", &f) ?: json_buf__append_str(b, "[");

	for (size_t i = 0; i < n->n_reasons && !err; i++) {
		g = 1;
		err = json_buf__append_str(b, i ? ",{" : "{") ?: jstr(b, "kind", n->reasons[i].kind, &g) ?:
		      jstr(b, "text", n->reasons[i].text, &g) ?: json_buf__append_str(b, "}");
	}
	err = err ?: json_buf__append_str(b, "]") ?: key(b, "notes", &f) ?: json_buf__append_str(b, "[");
	for (size_t i = 0; i < n->n_notes && !err; i++) {
		g = 1;
		err = json_buf__append_str(b, i ? ",{" : "{") ?: jstr(b, "kind", n->notes[i].kind, &g) ?:
		      jstr(b, "text", n->notes[i].text, &g) ?: json_buf__append_str(b, "}");
	}
	err = err ?: json_buf__append_str(b, "]") ?: json_chain(b, n, &f) ?: json_caps(b, n, &f);
	g = 1;
	err = err ?: key(b, "input", &f) ?: json_buf__append_str(b, "{") ?: jnum(b, "files", n->files, &g) ?:
	      jstr(b, "damage", n->damage, &g) ?: json_buf__append_str(b, "}");
	g = 1;
	err = err ?: key(b, "sequence", &f) ?: json_buf__append_str(b, "{") ?:
	      jbool(b, "continuous", !n->seq_holes, &g) ?: jnum(b, "holes", n->seq_holes, &g) ?:
	      ju64(b, "missingRecords", n->seq_missing, 1, &g) ?: json_buf__append_str(b, "}");
	g = 1;
	err = err ?: key(b, "heartbeats", &f) ?: json_buf__append_str(b, "{") ?:
	      jbool(b, "continuous", !n->beat_holes, &g) ?: jnum(b, "holes", n->beat_holes, &g) ?:
	      ju64(b, "missing", n->beats_missing, 1, &g) ?: json_buf__append_str(b, "}");
	g = 1;
	err = err ?: key(b, "coverage", &f) ?: json_buf__append_str(b, "{") ?:
	      ju64(b, "coveredNano", s[REPORT_COVERED], 1, &g) ?: ju64(b, "gapNano", s[REPORT_GAP], 1, &g) ?:
	      ju64(b, "downNano", s[REPORT_DOWN], 1, &g) ?: ju64(b, "notShippedNano", s[REPORT_NOT_SHIPPED], 1, &g) ?:
	      json_buf__append_str(b, "}") ?: key(b, "strip", &f) ?: json_buf__append_str(b, "[");
	for (size_t i = 0; i < n->n_strip && !err; i++) {
		g = 1;
		err = json_buf__append_str(b, i ? ",{" : "{") ?: jstr(b, "state", report__state_name(n->strip[i].state), &g) ?:
		      jtime(b, "start", "startUnixNano", n->strip[i].start_ns, &g) ?:
		      jtime(b, "end", "endUnixNano", n->strip[i].end_ns, &g) ?: json_buf__append_str(b, "}");
	}
	err = err ?: json_buf__append_str(b, "]") ?: key(b, "runs", &f) ?: json_buf__append_str(b, "[");
	for (size_t i = 0; i < n->n_runs && !err; i++) {
		const struct gapscan_run *r = &n->runs[i];

		g = 1;
		err = json_buf__append_str(b, i ? ",{" : "{") ?: jstr(b, "runId", r->id, &g) ?:
		      jtime(b, "start", "startUnixNano", r->first_ns, &g) ?: jtime(b, "end", "endUnixNano", r->last_ns, &g) ?:
		      jtime(b, "lastHeartbeat", "lastHeartbeatUnixNano", r->last_beat_ns, &g) ?:
		      ju64(b, "records", r->records, 1, &g) ?: jbool(b, "started", r->started, &g) ?:
		      jbool(b, "stopped", r->stopped, &g) ?: jbool(b, "live", r->live, &g) ?: json_buf__append_str(b, "}");
	}
	err = err ?: json_buf__append_str(b, "]") ?: key(b, "gaps", &f) ?: json_buf__append_str(b, "[");
	for (size_t i = 0; i < n->n_gaps && !err; i++) {
		err = (i ? json_buf__append_str(b, ",") : 0) ?: gapfmt__json(b, n->gaps[i]);
		if (!err && b->len && b->data[b->len - 1] == '\n')
			b->data[--b->len] = '\0'; /* one object per line there, one document here */
	}
	err = err ?: json_buf__append_str(b, "]") ?: key(b, "workloads", &f) ?: json_buf__append_str(b, "[");
	for (size_t i = 0; i < n->n_workloads && !err; i++)
		err = (i ? json_buf__append_str(b, ",") : 0) ?: json_workload(b, n->workloads[i]);
	return err ?: json_buf__append_str(b, "]}");
}

int reportfmt__json(struct json_buf *out, const struct report *r)
{
	const struct report_opts *o = report__opts(r);
	int f = 1;
	int err = json_buf__append_str(out, "{") ?: jtime(out, "since", "sinceUnixNano", o->since_ns, &f) ?:
		  jtime(out, "until", "untilUnixNano", o->until_ns, &f) ?:
		  jbool(out, "complete", report__complete(r), &f) ?: key(out, "verdict", &f) ?:
		  json__append_string_lossless(out, report__verdict(r)) ?: key(out, "nodes", &f) ?:
		  json_buf__append_str(out, "[");

	for (size_t i = 0; i < report__nodes(r) && !err; i++)
		err = (i ? json_buf__append_str(out, ",") : 0) ?: json_node(out, report__node(r, i));
	return err ?: json_buf__append_str(out, "]}\n");
}
