/* A job's timeline as an HTML page; see jobhtml.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "readers/htmlfmt.h"
#include "readers/jobhtml.h"
#include "readers/treefmt.h"
#include "records/wlkey.h"

/* The picture's geometry, in CSS pixels. */
#define LABEL_W 220.0  /* lane labels, left of the plot */
#define PLOT_W 720.0   /* with the rest, ~1060 px: the text tree fits beside it on a wide screen */
#define END_W 120.0    /* right of the plot: the label of an end drawn at the job's end */
#define AXIS_H 44.0
#define LANE_H 20.0
#define BAR_H 10.0
#define MIN_W 2.0      /* a segment or band never thinner, whatever its duration */
#define LABEL_CHARS 24 /* of a lane's label */
#define TITLE_BYTES 700 /* of a tooltip: a line of the tree, cut */
#define INDENT_MAX 12  /* depth levels indented in the labels */
#define TICKS_MAX 10   /* on the axis, at most */

static const char css[] =
	".cols{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}"
	".timeline{flex:none;overflow-x:auto;max-width:100%}"
	"pre.tree{flex:1 1 0;min-width:240px;margin:0;padding:.5em;background:#f7f7f7;"
	"border:1px solid #ddd;overflow-x:auto}"
	"svg text{font-family:monospace;font-size:11px;fill:#222}"
	"svg .axis line{stroke:#bbb}svg .axis text{fill:#555}"
	"svg .row{fill:#fff}svg .row.odd{fill:#f4f6f8}"
	"svg .life{stroke:#7a8594;stroke-width:1}"
	"svg .img{stroke:#234;stroke-width:.5}"
	"svg .img.fork{fill:#b9c2cc}svg .img.exec{fill:#4f86c6}svg .img.exec.alt{fill:#2f5f9a}"
	"svg .img.seen{fill:#7fb27f}svg .img.restated{fill:#c8d8c8}"
	"svg .img.unrecorded{fill:#fff;stroke:#c00;stroke-dasharray:3 2}"
	"svg .end.ok{fill:#2a8a2a}svg .end.fail{fill:#d9822b}svg .end.killed{fill:#c62828}"
	"svg .end.missing{fill:#fff;stroke:#c62828;stroke-width:1.5}svg .end.running{fill:#555}"
	"svg .flow{fill:#8e44ad;stroke:#fff;stroke-width:.5}svg .flowline{stroke:#8e44ad;stroke-width:2}"
	"svg .band{fill:#fb8c00;fill-opacity:.22;stroke:#fb8c00;stroke-opacity:.6}"
	"svg .band[data-kind=\"1\"]{fill:#e53935;stroke:#e53935}"  /* RING_BUFFER_DROP */
	"svg .band[data-kind=\"2\"]{fill:#616161;fill-opacity:.15;stroke:#616161}" /* SENSOR_DOWN */
	"svg .gapmark{fill:#e53935}"
	"svg a:hover>*{stroke:#000;stroke-width:1.5}"
	".legend span{display:inline-block;margin-right:1em}"
	".legend i{display:inline-block;width:1.2em;height:.8em;margin-right:.3em;vertical-align:middle}";

struct page {
	const struct jt_job *job;
	struct json_buf *out;
	struct json_buf line;  /* an item's line of the tree */
	struct json_buf recs;  /* the record sections, after the picture */
	uint64_t t0, t1;       /* the axis: t0 at the plot's left edge, t1 at its right */
	size_t ids;            /* record sections so far: "r1", "r2"... */
	struct jt_proc **lanes; /* processes in tree order */
	size_t n_lanes, cap_lanes;
	int flow_lane;         /* an extra lane for flows of no process */
};

/* ---- time and place --------------------------------------------------------------------- */

static double x_of(const struct page *pg, uint64_t t)
{
	if (!t || t <= pg->t0)
		return LABEL_W;
	if (t >= pg->t1)
		return LABEL_W + PLOT_W;
	return LABEL_W + (double)(t - pg->t0) * PLOT_W / (double)(pg->t1 - pg->t0);
}

static double y_of(size_t lane)
{
	return AXIS_H + (double)lane * LANE_H;
}

static void widen(uint64_t *lo, uint64_t *hi, uint64_t t)
{
	if (!t)
		return;
	if (!*lo || t < *lo)
		*lo = t;
	if (t > *hi)
		*hi = t;
}

/* The axis: the job's window, or what its records span when the job has no end. */
static void axis_span(struct page *pg)
{
	const struct jt_job *job = pg->job;
	uint64_t lo = job->start_ns, hi = job->end_ns;

	for (size_t i = 0; i < pg->n_lanes; i++) {
		const struct jt_proc *p = pg->lanes[i];

		widen(&lo, &hi, p->start_ns);
		widen(&lo, &hi, p->first_ns);
		widen(&lo, &hi, p->end_ns);
		for (size_t k = 0; k < p->n_images; k++)
			widen(&lo, &hi, p->images[k]->t_ns);
		for (size_t k = 0; k < p->n_items; k++)
			if (p->items[k].kind == JT_ITEM_FLOW) {
				widen(&lo, &hi, p->items[k].flow->start_ns);
				widen(&lo, &hi, p->items[k].flow->end_ns);
			}
	}
	for (size_t i = 0; i < job->n_top; i++)
		if (job->top[i].kind == JT_ITEM_FLOW) {
			widen(&lo, &hi, job->top[i].flow->start_ns);
			widen(&lo, &hi, job->top[i].flow->end_ns);
		}
	if (!lo) /* nothing timed: gaps alone say when */
		for (size_t i = 0; i < job->n_gaps; i++)
			widen(&lo, &hi, job->gaps[i]->t_ns);
	pg->t0 = job->start_ns ? job->start_ns : lo;
	/* A job of one instant still gets a readable axis: 1 ms. */
	pg->t1 = hi > pg->t0 ? hi : pg->t0 + 1000000;
}

static int put_axis(struct page *pg, double height)
{
	struct json_buf *o = pg->out;
	uint64_t span = pg->t1 - pg->t0, step = htmlfmt__tick_step(span, TICKS_MAX);
	int err = json_buf__append_str(o, "<g class=\"axis\">\n");

	for (uint64_t t = 0; !err && t <= span; t += step) {
		double x = x_of(pg, pg->t0 + t);

		err = htmlfmt__f(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
				 "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, AXIS_H - 6, x,
				 height, x, AXIS_H - 10) ?: htmlfmt__tick(o, t) ?: json_buf__append_str(o, "</text>\n");
		if (t > UINT64_MAX - step)
			break;
	}
	return err ?: json_buf__append_str(o, "</g>\n");
}

/* ---- links to records -------------------------------------------------------------------- */

/* A tooltip: text the tree made safe already, cut on a character boundary. */
static int put_title(struct json_buf *o, const struct json_buf *line)
{
	size_t n = line->len;

	if (n > TITLE_BYTES) {
		n = TITLE_BYTES;
		while (n > 0 && ((unsigned char)line->data[n] & 0xc0) == 0x80)
			n--;
	}
	return json_buf__append_str(o, "<title>") ?: htmlfmt__plain(o, line->data ? line->data : "", n) ?:
	       json_buf__append_str(o, n < line->len ? "...</title>" : "</title>");
}

/*
 * Opens <a href="#rN"> around a mark, and writes the record section it leads to: its
 * heading (what, and the tree's line) and the record field by field (and a second one:
 * a connection's close). The caller draws the mark, then link_end.
 */
static int link_begin2(struct page *pg, const char *what, const char *record, const char *record2)
{
	size_t id = ++pg->ids;
	int err = htmlfmt__f(pg->out, "<a href=\"#r%zu\">", id) ?:
		  htmlfmt__f(&pg->recs, "<section class=\"rec\" id=\"r%zu\"><h3>", id) ?:
		  htmlfmt__text(&pg->recs, what, 0) ?: json_buf__append_str(&pg->recs, ": ") ?:
		  htmlfmt__plain(&pg->recs, pg->line.data ? pg->line.data : "", pg->line.len) ?:
		  json_buf__append_str(&pg->recs, "</h3>\n");

	if (err)
		return err;
	if (record)
		return htmlfmt__record(&pg->recs, record) ?:
		       (record2 && record2 != record ? htmlfmt__record(&pg->recs, record2) : 0) ?:
		       json_buf__append_str(&pg->recs, "</section>\n");
	return json_buf__append_str(&pg->recs, "<p class=\"muted\">No record of it in the input: "
				    "what the line says is all there is.</p></section>\n");
}

static int link_begin(struct page *pg, const char *what, const char *record)
{
	return link_begin2(pg, what, record, NULL);
}

static int link_end(struct page *pg)
{
	return json_buf__append_str(pg->out, "</a>\n");
}

/* ---- lanes ------------------------------------------------------------------------------ */

static int collect_lanes(struct page *pg)
{
	struct frame { const struct jt_item *items; size_t n, i; } *stack = NULL;
	size_t n = 0, cap = 0;
	int err = ARRAY_GROW(stack, cap, 1);

	if (!err)
		stack[n++] = (struct frame){ pg->job->top, pg->job->n_top, 0 };
	/* Depth-first without recursion: the records decide how deep the tree is. */
	while (n && !err) {
		struct frame *f = &stack[n - 1];
		const struct jt_item *it;

		if (f->i == f->n) {
			n--;
			continue;
		}
		it = &f->items[f->i++];
		if (it->kind == JT_ITEM_FLOW && n == 1)
			pg->flow_lane = 1;
		if (it->kind != JT_ITEM_PROC)
			continue;
		err = ARRAY_GROW(pg->lanes, pg->cap_lanes, pg->n_lanes + 1) ?: ARRAY_GROW(stack, cap, n + 1);
		if (err)
			break;
		pg->lanes[pg->n_lanes++] = it->proc;
		stack[n++] = (struct frame){ it->proc->items, it->proc->n_items, 0 };
	}
	free(stack);
	return err;
}

static const struct jt_image *last_recorded(const struct jt_proc *p)
{
	const struct jt_image *last = NULL;

	for (size_t i = 0; i < p->n_images; i++)
		if (p->images[i]->kind != JT_IMAGE_UNRECORDED)
			last = p->images[i];
	return last;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

static int put_label(struct page *pg, const struct jt_proc *p, double y)
{
	const struct jt_image *img = last_recorded(p);
	int depth = p->depth < INDENT_MAX ? p->depth : INDENT_MAX;
	struct json_buf *o = pg->out;
	/* In a viewport of its own: a long label is cut at the plot's edge, not drawn over it. */
	int err = htmlfmt__f(o, "<svg class=\"label\" x=\"0\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
			     "<text x=\"%.1f\" y=\"%.1f\">pid %u ", y, LABEL_W - 6, LANE_H, 4.0 + depth * 10.0,
			     LANE_H - 6, p->pid);

	if (!err && img && img->binary && *img->binary)
		err = htmlfmt__text(o, base_name(img->binary), LABEL_CHARS);
	else if (!err)
		err = json_buf__append_str(o, "?");
	return err ?: json_buf__append_str(o, "</text></svg>\n");
}

static uint64_t image_start(const struct jt_proc *p, size_t k, uint64_t prev_end)
{
	const struct jt_image *img = p->images[k];

	if (img->t_ns)
		return img->t_ns;
	if (!k && p->start_ns)
		return p->start_ns;
	return prev_end;
}

static const char *image_class(const struct jt_image *img, size_t k)
{
	switch (img->kind) {
	case JT_IMAGE_FORK: return "fork";
	case JT_IMAGE_EXEC: return k % 2 ? "exec alt" : "exec";
	case JT_IMAGE_SEEN: return "seen";
	case JT_IMAGE_RESTATED: return "restated";
	default: return "unrecorded";
	}
}

/* Where a process's lane ends: its end, else the axis's end (it ran on, or nothing says
 * when it stopped). */
static uint64_t proc_end(const struct page *pg, const struct jt_proc *p)
{
	return p->end_ns ? p->end_ns : pg->t1;
}

static int put_images(struct page *pg, const struct jt_proc *p, double y, uint64_t *end_out)
{
	uint64_t prev = pg->t0, end = proc_end(pg, p);
	int err = 0;

	for (size_t k = 0; k < p->n_images && !err; k++) {
		const struct jt_image *img = p->images[k];
		uint64_t s = image_start(p, k, prev), e = end;
		double x0, x1;
		char what[96];

		for (size_t j = k + 1; j < p->n_images; j++)
			if (p->images[j]->t_ns) {
				e = p->images[j]->t_ns;
				break;
			}
		if (e < s)
			e = s;
		x0 = x_of(pg, s);
		x1 = x_of(pg, e);
		if (x1 - x0 < MIN_W)
			x1 = x0 + MIN_W;
		snprintf(what, sizeof(what), "pid %u, image %zu of %zu (%s)", p->pid, k + 1, p->n_images,
			 image_class(img, 0));
		err = link_begin(pg, what, img->record) ?:
		      htmlfmt__f(pg->out, "<rect class=\"img %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				 "height=\"%.1f\">", image_class(img, k), x0, y + (LANE_H - BAR_H) / 2,
				 x1 - x0, BAR_H) ?:
		      put_title(pg->out, &pg->line) ?: json_buf__append_str(pg->out, "</rect>") ?: link_end(pg);
		prev = e;
	}
	*end_out = end;
	return err;
}

/* The mark at a process's end, and its label: "exit 4", "SIGKILL", "no exit", "running". */
static int put_end(struct page *pg, const struct jt_proc *p, double y, uint64_t end)
{
	struct json_buf *o = pg->out;
	double x = p->state == JT_RUNNING && !p->end_ns ? LABEL_W + PLOT_W : x_of(pg, end);
	double cy = y + LANE_H / 2;
	const char *cls, *sig = NULL;
	char label[48], what[48];
	int err;

	switch (p->state) {
	case JT_EXITED:
		cls = p->exit->code ? "fail" : "ok";
		snprintf(label, sizeof(label), "exit %d", p->exit->code);
		break;
	case JT_KILLED:
		cls = "killed";
		sig = p->exit->signal < 65 ? sigabbrev_np((int)p->exit->signal) : NULL;
		if (sig)
			snprintf(label, sizeof(label), "SIG%s%s", sig, p->exit->core_dumped ? " (core)" : "");
		else
			snprintf(label, sizeof(label), "signal %u", p->exit->signal);
		break;
	case JT_EXIT_MISSING:
		cls = "missing";
		snprintf(label, sizeof(label), "no exit recorded");
		break;
	default:
		cls = "running";
		snprintf(label, sizeof(label), "running");
	}
	snprintf(what, sizeof(what), "pid %u, end (%s)", p->pid, cls);
	err = link_begin(pg, what, p->exit ? p->exit->record : NULL);
	if (err)
		return err;
	if (p->state == JT_RUNNING)
		err = htmlfmt__f(o, "<path class=\"end running\" d=\"M%.1f %.1fl7 5l-7 5z\">", x, cy - 5);
	else if (p->state == JT_KILLED)
		err = htmlfmt__f(o, "<rect class=\"end killed\" x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" "
				 "transform=\"rotate(45 %.1f %.1f)\">", x - 4, cy - 4, x, cy);
	else
		err = htmlfmt__f(o, "<circle class=\"end %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\">", cls, x, cy);
	err = err ?: put_title(o, &pg->line) ?:
	      json_buf__append_str(o, p->state == JT_RUNNING ? "</path>" : p->state == JT_KILLED ? "</rect>" : "</circle>") ?:
	      link_end(pg);
	return err ?: htmlfmt__f(o, "<text class=\"endlabel\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 8,
				 y + LANE_H - 6, label);
}

static int put_flow(struct page *pg, const struct jt_item *it, double y, uint64_t fallback)
{
	const struct jt_flow *f = it->flow;
	struct json_buf *o = pg->out;
	uint64_t s = f->start_ns ? f->start_ns : fallback;
	double x = x_of(pg, s), cy = y + LANE_H / 2;
	char what[48];
	int err;

	json_buf__reset(&pg->line);
	snprintf(what, sizeof(what), "flow, %s record%s", f->records > 1 ? "first and last" : "its",
		 f->records > 1 ? "s" : "");
	err = treefmt__item_text(&pg->line, pg->job, it) ?:
	      link_begin2(pg, what, f->first_record, f->records > 1 ? f->last_record : NULL);
	if (err)
		return err;
	if (f->end_ns > s)
		err = htmlfmt__f(o, "<line class=\"flowline\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\">",
				 x, cy, x_of(pg, f->end_ns), cy) ?:
		      put_title(o, &pg->line) ?: json_buf__append_str(o, "</line>");
	return err ?: htmlfmt__f(o, "<path class=\"flow\" d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\">", x, cy - 5) ?:
	       put_title(o, &pg->line) ?: json_buf__append_str(o, "</path>") ?: link_end(pg);
}

static int put_lane(struct page *pg, size_t lane)
{
	const struct jt_proc *p = pg->lanes[lane];
	struct jt_item self = { .kind = JT_ITEM_PROC, .proc = (struct jt_proc *)p };
	double y = y_of(lane);
	uint64_t end;
	int err;

	json_buf__reset(&pg->line);
	err = treefmt__item_text(&pg->line, pg->job, &self) ?:
	      htmlfmt__f(pg->out, "<g class=\"lane\" data-pid=\"%u\" data-depth=\"%d\">\n", p->pid, p->depth) ?:
	      put_label(pg, p, y);
	/* The process's life as a thin line under its images: from its fork, when its first
	 * image in the input starts later (a job selected from an exec on). */
	if (!err && p->start_ns)
		err = htmlfmt__f(pg->out, "<line class=\"life\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
				 x_of(pg, p->start_ns), y + LANE_H / 2, x_of(pg, proc_end(pg, p)), y + LANE_H / 2);
	err = err ?: put_images(pg, p, y, &end) ?: put_end(pg, p, y, end);
	for (size_t i = 0; i < p->n_items && !err; i++)
		if (p->items[i].kind == JT_ITEM_FLOW)
			err = put_flow(pg, &p->items[i], y, p->start_ns);
	return err ?: json_buf__append_str(pg->out, "</g>\n");
}

/* Flows no process can be named for (sockets older than the sensor): a lane of their own. */
static int put_flow_lane(struct page *pg)
{
	double y = y_of(pg->n_lanes);
	int err = htmlfmt__f(pg->out, "<g class=\"flowlane\">\n<text x=\"4\" y=\"%.1f\">flows of no "
			     "known process</text>\n", y + LANE_H - 6);

	for (size_t i = 0; i < pg->job->n_top && !err; i++)
		if (pg->job->top[i].kind == JT_ITEM_FLOW)
			err = put_flow(pg, &pg->job->top[i], y, pg->t0);
	return err ?: json_buf__append_str(pg->out, "</g>\n");
}

/* ---- gaps ------------------------------------------------------------------------------- */

static int lane_blinded(const struct jt_proc *p, const struct jt_gap *g, const char *key)
{
	return g->global || (key && !strcmp(p->workload_key, key));
}

/* A band across the lanes of the workload the gap blinded (all lanes when it names none,
 * or none of the lanes is in it), one rectangle per run of adjacent lanes; a mark on the
 * axis, so that a gap of no lane still shows. */
static int put_gap(struct page *pg, size_t gi, double lanes_h)
{
	const struct jt_gap *g = pg->job->gaps[gi];
	struct jt_item self = { .kind = JT_ITEM_GAP, .gap = (struct jt_gap *)g };
	struct json_buf *o = pg->out;
	uint64_t lo = g->start_ns ? g->start_ns : g->t_ns, hi = g->end_ns > lo ? g->end_ns : lo;
	double x0 = x_of(pg, lo), x1 = x_of(pg, hi);
	char buf[WLKEY_MAX], what[48];
	const char *key = g->global ? NULL : wlkey__of_record(buf, g->workload_key, g->cgroup_id);
	int any = 0, err;

	if (x1 - x0 < MIN_W * 1.5)
		x1 = x0 + MIN_W * 1.5;
	for (size_t i = 0; i < pg->n_lanes; i++)
		any |= lane_blinded(pg->lanes[i], g, key);
	json_buf__reset(&pg->line);
	snprintf(what, sizeof(what), "gap %zu", gi + 1);
	err = treefmt__item_text(&pg->line, pg->job, &self) ?: link_begin(pg, what, g->record) ?:
	      htmlfmt__f(o, "<path class=\"gapmark\" d=\"M%.1f %.1fl-5 -8h10z\">", x0, AXIS_H - 2) ?:
	      put_title(o, &pg->line) ?: json_buf__append_str(o, "</path>\n");
	for (size_t i = 0; i < pg->n_lanes && !err;) {
		size_t j = i;

		if (any && !lane_blinded(pg->lanes[i], g, key)) {
			i++;
			continue;
		}
		while (j < pg->n_lanes && (!any || lane_blinded(pg->lanes[j], g, key)))
			j++;
		err = htmlfmt__f(o, "<rect class=\"band\" data-gap=\"%zu\" data-kind=\"%d\" x=\"%.1f\" y=\"%.1f\" "
				 "width=\"%.1f\" height=\"%.1f\">", gi + 1, g->kind, x0, y_of(i), x1 - x0,
				 (double)(j - i) * LANE_H) ?:
		      put_title(o, &pg->line) ?: json_buf__append_str(o, "</rect>\n");
		i = j;
	}
	if (!err && !pg->n_lanes) /* no process at all: across where the lanes would be */
		err = htmlfmt__f(o, "<rect class=\"band\" data-gap=\"%zu\" data-kind=\"%d\" x=\"%.1f\" y=\"%.1f\" "
				 "width=\"%.1f\" height=\"%.1f\">", gi + 1, g->kind, x0, AXIS_H, x1 - x0, lanes_h) ?:
		      put_title(o, &pg->line) ?: json_buf__append_str(o, "</rect>\n");
	return err ?: link_end(pg);
}

/* ---- the page --------------------------------------------------------------------------- */

static int put_svg(struct page *pg)
{
	size_t rows = pg->n_lanes + (size_t)pg->flow_lane;
	double lanes_h = (double)(rows ? rows : 1) * LANE_H;
	double h = AXIS_H + lanes_h + 8, w = LABEL_W + PLOT_W + END_W;
	int err = htmlfmt__f(pg->out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" "
			     "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", w, h, w, h);

	err = err ?: json_buf__append_str(pg->out, "<g class=\"rows\">\n");
	for (size_t i = 0; i < rows && !err; i++)
		err = htmlfmt__f(pg->out, "<rect class=\"row%s\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\"/>\n",
				 i % 2 ? " odd" : "", y_of(i), w, LANE_H);
	err = err ?: json_buf__append_str(pg->out, "</g>\n") ?: put_axis(pg, h - 8) ?:
	      json_buf__append_str(pg->out, "<g class=\"gaps\">\n");
	for (size_t i = 0; i < pg->job->n_gaps && !err; i++)
		err = put_gap(pg, i, lanes_h);
	err = err ?: json_buf__append_str(pg->out, "</g>\n");
	for (size_t i = 0; i < pg->n_lanes && !err; i++)
		err = put_lane(pg, i);
	if (!err && pg->flow_lane)
		err = put_flow_lane(pg);
	return err ?: json_buf__append_str(pg->out, "</svg>\n");
}

static const char legend[] =
	"<p class=\"legend\"><span><i style=\"background:#b9c2cc\"></i>fork</span>"
	"<span><i style=\"background:#4f86c6\"></i>exec</span>"
	"<span><i style=\"background:#7fb27f\"></i>running when the sensor started</span>"
	"<span><i style=\"border:1px dashed #c00\"></i>not recorded</span>"
	"<span><i style=\"background:#2a8a2a;border-radius:50%\"></i>exit 0</span>"
	"<span><i style=\"background:#d9822b;border-radius:50%\"></i>exit code</span>"
	"<span><i style=\"background:#c62828\"></i>killed</span>"
	"<span><i style=\"background:#8e44ad\"></i>flow</span>"
	"<span><i style=\"background:rgba(229,57,53,.3)\"></i>events dropped</span>"
	"<span><i style=\"background:rgba(97,97,97,.2)\"></i>no sensor ran</span>"
	"<span><i style=\"background:rgba(251,140,0,.3)\"></i>other gap in the record</span></p>\n"
	"<p class=\"muted\">Hover a mark for its line of the tree; click it for its record.</p>\n";

static int put_heading(struct page *pg)
{
	const struct jt_job *job = pg->job;
	const struct jt_counts *c = &job->counts;
	struct json_buf *o = pg->out;
	int err = json_buf__append_str(o, "<h1>Job ");

	if (job->n_workloads == 1 && *job->workloads[0]->container_id)
		err = err ?: json_buf__append_str(o, "of container ") ?:
		      htmlfmt__text(o, job->workloads[0]->container_id, 80);
	else if (job->query->by == JOBTREE_BY_PID)
		err = err ?: htmlfmt__f(o, "of pid %u at ", job->query->pid) ?: htmlfmt__time(o, job->query->at_ns);
	else if (job->query->by == JOBTREE_BY_EXEC_ID)
		err = err ?: json_buf__append_str(o, "from exec id ") ?: htmlfmt__text(o, job->query->value, 80);
	else if (job->n_workloads == 1)
		err = err ?: json_buf__append_str(o, "of workload ") ?: htmlfmt__text(o, job->workloads[0]->key, 80);
	else
		err = err ?: json_buf__append_str(o, "selected by ") ?: htmlfmt__text(o, job->query->value, 80);
	err = err ?: json_buf__append_str(o, "</h1>\n<p class=\"summary\">start ") ?: htmlfmt__time(o, job->start_ns);
	if (!err && job->end_ns && job->end_ns >= job->start_ns) {
		char d[48];

		treefmt__duration(d, sizeof(d), job->end_ns - job->start_ns);
		err = htmlfmt__f(o, ", lasted %s", d);
	} else if (!err) {
		err = json_buf__append_str(o, ", still running at the end of the records");
	}
	return err ?: htmlfmt__f(o, "; <span class=\"counts\">%zu processes, %zu flows, %zu gaps</span></p>\n",
				 c->processes, c->flows, c->gaps);
}

int jobhtml__page(struct json_buf *out, const struct jt_job *job)
{
	struct page pg = { .job = job, .out = out };
	struct json_buf tree = {};
	char title[160];
	int err;

	if (job->query->by == JOBTREE_BY_PID)
		snprintf(title, sizeof(title), "firstlight tree: pid %u", job->query->pid);
	else
		snprintf(title, sizeof(title), "firstlight tree: %.120s", job->query->value ? job->query->value : "");
	err = collect_lanes(&pg) ?: treefmt__text(&tree, job);
	if (err)
		goto out;
	axis_span(&pg);
	err = htmlfmt__begin(out, title, css) ?: put_heading(&pg) ?: json_buf__append_str(out, legend) ?:
	      json_buf__append_str(out, "<div class=\"cols\">\n<div class=\"timeline\">\n") ?: put_svg(&pg) ?:
	      json_buf__append_str(out, "</div>\n<pre class=\"tree\">") ?:
	      htmlfmt__plain(out, tree.data ? tree.data : "", tree.len) ?:
	      json_buf__append_str(out, "</pre>\n</div>\n<div class=\"records\">\n<h2>Records</h2>\n") ?:
	      json_buf__append(out, pg.recs.data ? pg.recs.data : "", pg.recs.len) ?:
	      json_buf__append_str(out, "</div>\n") ?: htmlfmt__end(out);
out:
	free(pg.lanes);
	json_buf__free(&pg.line);
	json_buf__free(&pg.recs);
	json_buf__free(&tree);
	return err;
}
