/* The report as an HTML page; see reporthtml.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/timefmt.h"
#include "readers/htmlfmt.h"
#include "readers/reporthtml.h"
#include "readers/treefmt.h"
#include "records/wlkey.h"

/* The strip's geometry, in CSS pixels. */
#define STRIP_X 10.0
#define STRIP_W 1000.0
#define STRIP_Y 22.0
#define STRIP_H 26.0
#define MIN_W 1.5
#define TICKS_MAX 10
#define CELL_MAX 80 /* characters of a record's string in a table cell */

static const char css[] =
	".verdict{font-weight:bold;padding:.4em .6em;border-radius:4px;display:inline-block}"
	".verdict.complete{background:#e3f4e3;color:#1b5e20;border:1px solid #2e7d32}"
	".verdict.incomplete{background:#fdecea;color:#8e1c14;border:1px solid #c62828}"
	"section.node{border-top:2px solid #ddd;margin-top:1.5em;padding-top:.5em}"
	"ul.reasons,ul.notes{margin:.4em 0}ul.notes{color:#555}ul.missing{margin:0;padding-left:1.2em}"
	"svg text{font-family:monospace;font-size:11px;fill:#444}"
	"svg .axis line{stroke:#bbb}"
	"svg .span.covered{fill:#43a047}svg .span.gap{fill:#fb8c00}"
	"svg .span.down{fill:#616161}svg .span.notShipped{fill:#90caf9}"
	"svg .gaptick{fill:#c62828}"
	".legend span{display:inline-block;margin-right:1em}"
	".legend i{display:inline-block;width:1.2em;height:.8em;margin-right:.3em;vertical-align:middle}"
	"td.num{text-align:right}";

static const char legend[] =
	"<p class=\"legend\"><span><i style=\"background:#43a047\"></i>covered</span>"
	"<span><i style=\"background:#fb8c00\"></i>gap</span>"
	"<span><i style=\"background:#616161\"></i>sensor down</span>"
	"<span><i style=\"background:#90caf9\"></i>not shipped yet</span>"
	"<span><i style=\"background:#c62828;width:.25em\"></i>a gap (hover: what)</span></p>\n";

struct ctx {
	const struct report *r;
	struct json_buf *out;
	uint64_t t0, t1;
};

static double x_of(const struct ctx *c, uint64_t t)
{
	if (t <= c->t0)
		return STRIP_X;
	if (t >= c->t1)
		return STRIP_X + STRIP_W;
	return STRIP_X + (double)(t - c->t0) * STRIP_W / (double)(c->t1 - c->t0);
}

static int put_dur(struct json_buf *b, uint64_t ns)
{
	char d[48];

	treefmt__duration(d, sizeof(d), ns);
	return htmlfmt__text(b, d, 0);
}

static const char *state_words(enum report_state s)
{
	switch (s) {
	case REPORT_COVERED: return "covered";
	case REPORT_GAP: return "gap";
	case REPORT_DOWN: return "sensor down";
	default: return "not shipped yet";
	}
}

static int put_strip(struct ctx *c, const struct report_node *n)
{
	struct json_buf *o = c->out;
	uint64_t span = c->t1 - c->t0, step = htmlfmt__tick_step(span, TICKS_MAX);
	double h = STRIP_Y + STRIP_H + 6;
	char kind[GAPSCAN_KIND_NAME_MAX];
	int err = htmlfmt__f(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"strip\" width=\"%.0f\" "
			     "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n<g class=\"axis\">\n",
			     STRIP_W + 2 * STRIP_X + 40, h, STRIP_W + 2 * STRIP_X + 40, h);

	for (uint64_t t = 0; !err && t <= span; t += step) {
		double x = x_of(c, c->t0 + t);

		err = htmlfmt__f(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/><text x=\"%.1f\" "
				 "y=\"%.1f\" text-anchor=\"middle\">", x, STRIP_Y - 6, x, STRIP_Y + STRIP_H, x,
				 STRIP_Y - 9) ?: htmlfmt__tick(o, t) ?: json_buf__append_str(o, "</text>\n");
		if (t > UINT64_MAX - step)
			break;
	}
	err = err ?: json_buf__append_str(o, "</g>\n");
	for (size_t i = 0; i < n->n_strip && !err; i++) {
		const struct report_span *s = &n->strip[i];
		double x0 = x_of(c, s->start_ns), x1 = x_of(c, s->end_ns);

		if (x1 - x0 < MIN_W)
			x1 = x0 + MIN_W;
		err = htmlfmt__f(o, "<rect class=\"span %s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\">"
				 "<title>%s ", report__state_name(s->state), x0, STRIP_Y, x1 - x0, STRIP_H,
				 state_words(s->state)) ?:
		      timefmt__rfc3339(o, s->start_ns, 3) ?: json_buf__append_str(o, " to ") ?:
		      timefmt__rfc3339(o, s->end_ns, 3) ?: json_buf__append_str(o, " (") ?:
		      put_dur(o, s->end_ns - s->start_ns) ?: json_buf__append_str(o, ")</title></rect>\n");
	}
	/* A tick per gap, over the strip: a drop of one instant is a gap too. */
	for (size_t i = 0; i < n->n_gaps && !err; i++) {
		const struct gap_row *g = n->gaps[i];
		uint64_t lo = g->start_ns ? g->start_ns : g->end_ns ? g->end_ns : g->record_ns;
		char keybuf[WLKEY_MAX];
		const char *key = wlkey__of_record(keybuf, g->workload, g->cgroup_id);

		err = htmlfmt__f(o, "<rect class=\"gaptick\" x=\"%.2f\" y=\"%.1f\" width=\"2\" height=\"%.1f\"><title>",
				 x_of(c, lo) - 1, STRIP_Y - 4, STRIP_H + 8) ?:
		      json_buf__append_str(o, gapscan__kind_name(g->kind, kind));
		if (!err && g->has_count)
			err = htmlfmt__f(o, " count %" PRIu64, g->count);
		if (!err && key)
			err = json_buf__append_str(o, " in ") ?: htmlfmt__text(o, key, CELL_MAX);
		err = err ?: json_buf__append_str(o, " at ") ?: timefmt__rfc3339(o, lo, 3) ?:
		      json_buf__append_str(o, ": ") ?: htmlfmt__text(o, g->detail, 300) ?:
		      json_buf__append_str(o, "</title></rect>\n");
	}
	return err ?: json_buf__append_str(o, "</svg>\n");
}

static int td(struct json_buf *o, const char *s)
{
	return json_buf__append_str(o, "<td>") ?: (s && *s ? htmlfmt__text(o, s, CELL_MAX) : json_buf__append_str(o, "-")) ?:
	       json_buf__append_str(o, "</td>");
}

static int td_time(struct json_buf *o, uint64_t ns)
{
	return json_buf__append_str(o, "<td>") ?: (ns ? timefmt__rfc3339(o, ns, 3) : json_buf__append_str(o, "-")) ?:
	       json_buf__append_str(o, "</td>");
}

/* The node's kernel and what it could not observe: a row of the facts. */
static int put_caps(struct json_buf *o, const struct report_node *n)
{
	const struct report_caps *c = &n->caps;
	int err = json_buf__append_str(o, "<tr class=\"capabilities\"><th>kernel</th><td>");

	if (!c->known)
		return err ?: json_buf__append_str(o, "unknown (no NodeCapabilities record by the window&#39;s end); "
					  "capabilities: unknown</td></tr>\n");
	for (size_t i = 0; i < c->n_kernels && !err; i++)
		err = (i ? json_buf__append_str(o, ", ") : 0) ?: json_buf__append_str(o, "<code>") ?:
		      htmlfmt__text(o, c->kernels[i], CELL_MAX) ?: json_buf__append_str(o, "</code>");
	if (!err && *c->machine)
		err = json_buf__append_str(o, " (") ?: htmlfmt__text(o, c->machine, CELL_MAX) ?: json_buf__append_str(o, ")");
	err = err ?: json_buf__append_str(o, c->n_missing ? "; capabilities: missing" : "; capabilities: all");
	if (!err && c->n_missing)
		err = json_buf__append_str(o, "<ul class=\"missing\">");
	for (size_t i = 0; i < c->n_missing && !err; i++) {
		const struct report_missing *m = &c->missing[i];

		err = json_buf__append_str(o, "<li data-capability=\"") ?: htmlfmt__text(o, m->name, 0) ?:
		      json_buf__append_str(o, "\"><b>") ?: htmlfmt__text(o, m->name, CELL_MAX) ?: json_buf__append_str(o, "</b>");
		if (!err && *m->reason)
			err = json_buf__append_str(o, ": ") ?: htmlfmt__text(o, m->reason, 300);
		if (!err && *m->unobserved)
			err = json_buf__append_str(o, "; not recorded: ") ?: htmlfmt__text(o, m->unobserved, 300);
		err = err ?: json_buf__append_str(o, "</li>");
	}
	if (!err && c->n_missing)
		err = json_buf__append_str(o, "</ul>");
	if (!err && c->truncated)
		err = json_buf__append_str(o, " (cut: more records or capabilities than a report keeps)");
	return err ?: json_buf__append_str(o, "</td></tr>\n");
}

static int put_facts(struct ctx *c, const struct report_node *n)
{
	const struct verify_result *v = n->chain;
	struct json_buf *o = c->out;
	int err = json_buf__append_str(o, "<table class=\"facts\">\n<tr><th>chain</th><td>");

	if (v->failed)
		err = err ?: json_buf__append_str(o, "FAIL: ") ?: htmlfmt__text(o, v->failure, 0);
	else
		err = err ?: htmlfmt__f(o, "verified: %" PRIu64 " files, %" PRIu64 " batches, %" PRIu64 " records, %" PRIu64
					" runs; key <code>%s</code> (%s)", v->files, v->batches, v->records, v->runs,
					v->key_hex, v->key_trusted ? "pinned" : "NOT pinned: give --pubkey");
	for (size_t i = 0; i < v->n_notes && !err; i++)
		err = json_buf__append_str(o, "<br>note: ") ?: htmlfmt__text(o, v->notes[i], 0);
	err = err ?: json_buf__append_str(o, "</td></tr>\n");
	if (!err && n->damage)
		err = json_buf__append_str(o, "<tr><th>input</th><td>") ?: htmlfmt__text(o, n->damage, 0) ?:
		      json_buf__append_str(o, "</td></tr>\n");
	err = err ?: put_caps(o, n) ?: json_buf__append_str(o, "<tr><th>sequence</th><td>");
	if (!err)
		err = n->seq_holes ? htmlfmt__f(o, "%zu holes, %" PRIu64 " records missing", n->seq_holes, n->seq_missing) :
				     json_buf__append_str(o, "continuous");
	err = err ?: json_buf__append_str(o, "</td></tr>\n<tr><th>heartbeats</th><td>");
	if (!err)
		err = n->beat_holes ? htmlfmt__f(o, "%zu holes, %" PRIu64 " heartbeats missing", n->beat_holes, n->beats_missing) :
				      json_buf__append_str(o, "continuous");
	err = err ?: json_buf__append_str(o, "</td></tr>\n<tr><th>coverage</th><td>covered ") ?:
	      put_dur(o, n->state_ns[REPORT_COVERED]) ?: json_buf__append_str(o, ", gap ") ?:
	      put_dur(o, n->state_ns[REPORT_GAP]) ?: json_buf__append_str(o, ", sensor down ") ?:
	      put_dur(o, n->state_ns[REPORT_DOWN]) ?: json_buf__append_str(o, ", not shipped ") ?:
	      put_dur(o, n->state_ns[REPORT_NOT_SHIPPED]) ?: json_buf__append_str(o, "</td></tr>\n</table>\n");
	err = err ?: htmlfmt__f(o, "<h3>Agent runs in the window: %zu</h3>\n", n->n_runs);
	if (!err && n->n_runs)
		err = json_buf__append_str(o, "<table class=\"runs\"><tr><th>run</th><th>first record</th><th>last record"
					   "</th><th>records</th><th>end</th></tr>\n");
	for (size_t i = 0; i < n->n_runs && !err; i++) {
		const struct gapscan_run *r = &n->runs[i];

		err = json_buf__append_str(o, "<tr>") ?: td(o, r->id) ?: td_time(o, r->first_ns) ?: td_time(o, r->last_ns) ?:
		      htmlfmt__f(o, "<td class=\"num\">%" PRIu64 "</td><td>%s</td></tr>\n", r->records,
				 r->stopped ? "stopped" : r->live ? "still running" : "no STOPPED record");
	}
	if (!err && n->n_runs)
		err = json_buf__append_str(o, "</table>\n");
	return err;
}

static int put_gaps(struct ctx *c, const struct report_node *n)
{
	struct json_buf *o = c->out;
	char kind[GAPSCAN_KIND_NAME_MAX], keybuf[WLKEY_MAX];
	int err = htmlfmt__f(o, "<h3>Gaps in the window: %zu</h3>\n", n->n_gaps);

	if (!err && n->n_gaps)
		err = json_buf__append_str(o, "<table class=\"gaps\"><tr><th>source</th><th>kind</th><th>run</th>"
					   "<th>workload</th><th>start</th><th>end</th><th>count</th><th>detail</th></tr>\n");
	for (size_t i = 0; i < n->n_gaps && !err; i++) {
		const struct gap_row *g = n->gaps[i];

		err = htmlfmt__f(o, "<tr class=\"gap\"><td>%s</td><td>%s</td>", g->detected ? "detected" : "recorded",
				 gapscan__kind_name(g->kind, kind)) ?:
		      td(o, g->run_id) ?: td(o, wlkey__of_record(keybuf, g->workload, g->cgroup_id)) ?:
		      td_time(o, g->start_ns) ?: td_time(o, g->end_ns);
		if (!err)
			err = g->has_count ? htmlfmt__f(o, "<td class=\"num\">%" PRIu64 "</td>", g->count) :
					     json_buf__append_str(o, "<td>-</td>");
		err = err ?: json_buf__append_str(o, "<td>") ?: htmlfmt__text(o, g->detail, 300) ?:
		      json_buf__append_str(o, "</td></tr>\n");
	}
	if (!err && n->n_gaps)
		err = json_buf__append_str(o, "</table>\n");
	return err;
}

static int put_workloads(struct ctx *c, const struct report_node *n)
{
	struct json_buf *o = c->out;
	int err = htmlfmt__f(o, "<h3>Workloads in the window: %zu</h3>\n", n->n_workloads);

	if (!err && n->n_workloads)
		err = json_buf__append_str(o, "<table class=\"workloads\"><tr><th>workload</th><th>kind</th>"
					   "<th>container / pod</th><th>image</th><th>first seen</th><th>last seen</th>"
					   "<th>processes</th><th>first-event latency</th><th>drops (in the window)</th>"
					   "<th>gaps</th><th>not observable (node)</th><th>identity</th></tr>\n");
	for (size_t i = 0; i < n->n_workloads && !err; i++) {
		const struct report_workload *w = n->workloads[i];

		err = json_buf__append_str(o, "<tr>") ?: td(o, w->key) ?: td(o, w->kind) ?:
		      json_buf__append_str(o, "<td>");
		if (!err && *w->container_id)
			err = htmlfmt__text(o, w->container_id, CELL_MAX);
		if (!err && *w->pod_name)
			err = json_buf__append_str(o, *w->container_id ? "<br>pod " : "pod ") ?:
			      htmlfmt__text(o, w->pod_namespace, CELL_MAX) ?: json_buf__append_str(o, "/") ?:
			      htmlfmt__text(o, w->pod_name, CELL_MAX);
		if (!err && !*w->container_id && !*w->pod_name)
			err = htmlfmt__text(o, *w->cgroup_path ? w->cgroup_path : "-", CELL_MAX);
		err = err ?: json_buf__append_str(o, "</td>") ?: td(o, w->image) ?: td_time(o, w->first_seen_ns) ?:
		      (w->ended ? td_time(o, w->last_seen_ns) :
		       w->end_lost ? json_buf__append_str(o, "<td>ended, its end record dropped</td>") :
				     json_buf__append_str(o, "<td>running</td>")) ?:
		      htmlfmt__f(o, "<td class=\"num\">%u</td><td class=\"num\">", w->processes);
		if (!err)
			err = w->has_latency ? put_dur(o, w->first_event_latency_ns) : json_buf__append_str(o, "-");
		err = err ?: htmlfmt__f(o, "</td><td class=\"num\">%" PRIu64 " (%" PRIu64 ")</td><td class=\"num\">%zu</td>"
					"<td class=\"unobserved\">", w->drops, w->dropped_in_window, w->gaps);
		if (!err && !w->has_unobserved)
			err = json_buf__append_str(o, "unknown");
		else if (!err && !w->n_unobserved)
			err = json_buf__append_str(o, "none");
		for (size_t k = 0; k < w->n_unobserved && !err; k++)
			err = (k ? json_buf__append_str(o, ", ") : 0) ?: htmlfmt__text(o, w->unobserved[k], CELL_MAX);
		err = err ?: htmlfmt__f(o, "</td><td>%s%s%s</td></tr>\n", w->identity_verified ? "verified" : "not verified",
					w->unattributed ? ", unattributed" : "", w->blind ? ", blind" : "");
	}
	if (!err && n->n_workloads)
		err = json_buf__append_str(o, "</table>\n");
	return err;
}

static int put_node(struct ctx *c, const struct report_node *n)
{
	struct json_buf *o = c->out;
	int err = json_buf__append_str(o, "<section class=\"node\" data-node=\"") ?: htmlfmt__text(o, n->node, 0) ?:
		  json_buf__append_str(o, "\">\n<h2>Node ") ?: htmlfmt__text(o, *n->node ? n->node : "(unnamed)", CELL_MAX) ?:
		  htmlfmt__f(o, "</h2>\n<p class=\"verdict %s\">", n->complete ? "complete" : "incomplete") ?:
		  htmlfmt__text(o, n->verdict, 0) ?: json_buf__append_str(o, "</p>\n");

	if (!err && n->n_reasons)
		err = json_buf__append_str(o, "<ul class=\"reasons\">\n");
	for (size_t i = 0; i < n->n_reasons && !err; i++)
		err = json_buf__append_str(o, "<li data-kind=\"") ?: htmlfmt__text(o, n->reasons[i].kind, 0) ?:
		      json_buf__append_str(o, "\">") ?: htmlfmt__text(o, n->reasons[i].text, 0) ?:
		      json_buf__append_str(o, "</li>\n");
	if (!err && n->n_reasons)
		err = json_buf__append_str(o, "</ul>\n");
	/* Gaps of kinds that lose no evidence: said, not held against the window. */
	if (!err && n->n_notes)
		err = json_buf__append_str(o, "<ul class=\"notes\">\n");
	for (size_t i = 0; i < n->n_notes && !err; i++)
		err = json_buf__append_str(o, "<li data-kind=\"") ?: htmlfmt__text(o, n->notes[i].kind, 0) ?:
		      json_buf__append_str(o, "\">noted: ") ?: htmlfmt__text(o, n->notes[i].text, 0) ?:
		      json_buf__append_str(o, "</li>\n");
	if (!err && n->n_notes)
		err = json_buf__append_str(o, "</ul>\n");
	return err ?: put_strip(c, n) ?: json_buf__append_str(o, legend) ?: put_facts(c, n) ?: put_gaps(c, n) ?:
	       put_workloads(c, n) ?: json_buf__append_str(o, "</section>\n");
}

int reporthtml__page(struct json_buf *out, const struct report *r)
{
	const struct report_opts *o = report__opts(r);
	struct ctx c = { .r = r, .out = out, .t0 = o->since_ns, .t1 = o->until_ns };
	int err = htmlfmt__begin(out, "firstlight report", css) ?:
		  json_buf__append_str(out, "<h1>Coverage report: ") ?: timefmt__rfc3339(out, o->since_ns, 9) ?:
		  json_buf__append_str(out, " to ") ?: timefmt__rfc3339(out, o->until_ns, 9) ?:
		  json_buf__append_str(out, " (") ?: put_dur(out, o->until_ns - o->since_ns) ?:
		  htmlfmt__f(out, ")</h1>\n<p class=\"verdict %s\" id=\"verdict\">", report__complete(r) ? "complete" : "incomplete") ?:
		  htmlfmt__text(out, report__verdict(r), 0) ?: json_buf__append_str(out, "</p>\n");

	for (size_t i = 0; i < report__nodes(r) && !err; i++)
		err = put_node(&c, report__node(r, i));
	return err ?: htmlfmt__end(out);
}
