/* Text and JSON renderings of a rebuilt job; see treefmt.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/textesc.h"
#include "base/array.h"
#include "base/plural.h"
#include "base/timefmt.h"
#include "readers/treefmt.h"
#include "base/utf8.h"
#include "records/wlkey.h"

/* Deeper processes are drawn at this depth: lines stay bounded whatever the records say. */
#define DRAW_DEPTH_MAX 100
#define DETAIL_MAX 300 /* characters of a gap's detail in the text */

/* ---- times ---------------------------------------------------------------------------- */

void treefmt__duration(char *buf, size_t size, uint64_t ns)
{
	uint64_t s = ns / 1000000000u, ms = ns / 1000000u % 1000u;

	if (ns < 1000000000u)
		snprintf(buf, size, "%" PRIu64 ".%03" PRIu64 "ms", ns / 1000000u, ns / 1000u % 1000u);
	else if (s < 60)
		snprintf(buf, size, "%" PRIu64 ".%03" PRIu64 "s", s, ms);
	else if (s < 3600)
		snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 ".%03" PRIu64 "s", s / 60, s % 60, ms);
	else
		snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 ".%03" PRIu64 "s", s / 3600,
			 s / 60 % 60, s % 60, ms);
}

void treefmt__offset(char *buf, size_t size, int64_t ns)
{
	uint64_t mag = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	if (size < 2)
		return;
	buf[0] = ns < 0 ? '-' : '+';
	treefmt__duration(buf + 1, size - 1, mag);
}

/* b - a as a signed offset, saturated. */
static int64_t diff_ns(uint64_t b, uint64_t a)
{
	if (b >= a)
		return b - a > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(b - a);
	return a - b > (uint64_t)INT64_MAX ? -INT64_MAX : -(int64_t)(a - b);
}

struct ctx {
	const struct jt_job *job;
	struct json_buf *out;
	struct json_buf tmp;
	unsigned int flags;  /* TREEFMT_* */
};

static int put_off(struct ctx *c, uint64_t ns)
{
	char buf[48];

	if (!ns || !c->job->start_ns)
		return json_buf__append_str(c->out, "+?");
	treefmt__offset(buf, sizeof(buf), diff_ns(ns, c->job->start_ns));
	return json_buf__append_str(c->out, buf);
}

static int put_dur(struct json_buf *b, uint64_t ns)
{
	char buf[48];

	treefmt__duration(buf, sizeof(buf), ns);
	return json_buf__append_str(b, buf);
}

/* ---- untrusted strings ---------------------------------------------------------------- */

/* s for the terminal; when the agent escaped it (\xHH, \\: proto strings must be UTF-8),
 * the original bytes are recovered first, so they are shown once, not escaped twice. */
static int put_text(struct json_buf *b, const char *s, int escaped, unsigned int flags, size_t max)
{
	size_t len = strlen(s);
	char *raw;
	int n, err;

	if (!escaped)
		return textesc__append(b, s, len, max, flags) < 0 ? -ENOMEM : 0;
	raw = malloc(len + 1);
	if (!raw)
		return -ENOMEM;
	n = utf8__unescape(s, len, raw, len + 1);
	err = n < 0 ? textesc__append(b, s, len, max, flags) : textesc__append(b, raw, (size_t)n, max, flags);
	free(raw);
	return err < 0 ? -ENOMEM : 0;
}

/* [head...] or, when argv's middle was cut, [head..., <N bytes cut>, tail...] */
static int put_argv(struct json_buf *b, const struct jt_image *img)
{
	int esc = !!(img->flags & JT_IMG_ARGS_ESCAPED);
	int err = json_buf__append_str(b, "[");

	for (size_t i = 0; i < img->n_args && !err; i++)
		err = (i ? json_buf__append_str(b, ",") : 0) ?: put_text(b, img->args[i], esc, TEXTESC_QUOTE, 0);
	if (!err && img->n_args_tail)
		err = json_buf__appendf(b, "%s<%" PRIu64 " bytes cut>", img->n_args ? "," : "", img->args_cut_bytes);
	for (size_t i = 0; i < img->n_args_tail && !err; i++)
		err = json_buf__append_str(b, ",") ?: put_text(b, img->args_tail[i], esc, TEXTESC_QUOTE, 0);
	return err ?: json_buf__append_str(b, "]");
}

/* ---- text ----------------------------------------------------------------------------- */

static int put_signal(struct json_buf *b, uint32_t sig)
{
	const char *name = sig < 65 ? sigabbrev_np((int)sig) : NULL;

	return name ? json_buf__appendf(b, "SIG%s", name) : json_buf__appendf(b, "signal %u", sig);
}

static int same_strings(const char *const *a, size_t na, const char *const *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return 0;
	return 1;
}

static int same_args(const struct jt_image *a, const struct jt_image *b)
{
	return a->binary && b->binary && !strcmp(a->binary, b->binary) &&
	       same_strings(a->args, a->n_args, b->args, b->n_args) &&
	       same_strings(a->args_tail, a->n_args_tail, b->args_tail, b->n_args_tail);
}

static int put_cmd(struct json_buf *b, const struct jt_image *img)
{
	int err = put_text(b, img->binary ? img->binary : "", !!(img->flags & JT_IMG_BINARY_ESCAPED), 0, 0);

	err = err ?: json_buf__append_str(b, " ") ?: put_argv(b, img);
	if (!err && (img->flags & JT_IMG_ARGS_TRUNCATED) && img->n_args_tail)
		err = json_buf__appendf(b, " (argv cut: %" PRIu64 " bytes in the middle of %u arguments)",
					img->args_cut_bytes, img->args_count);
	else if (!err && (img->flags & JT_IMG_ARGS_TRUNCATED))
		err = json_buf__appendf(b, " (argv cut: %zu of %u arguments kept)", img->n_args, img->args_count);
	return err;
}

static int text_image_body(struct ctx *c, const struct jt_proc *p, size_t i);

/* An image, and with TREEFMT_EXEC_IDS its exec id: what --exec-id selects. */
static int text_image(struct ctx *c, const struct jt_proc *p, size_t i)
{
	const struct jt_image *img = p->images[i];
	int err = text_image_body(c, p, i);

	/* An unrecorded image shows its id already. */
	if (err || !(c->flags & TREEFMT_EXEC_IDS) || img->kind == JT_IMAGE_UNRECORDED || !img->exec_id)
		return err;
	return json_buf__append_str(c->out, " [exec id ") ?: put_text(c->out, img->exec_id, 0, 0, 0) ?:
	       json_buf__append_str(c->out, "]");
}

static int text_image_body(struct ctx *c, const struct jt_proc *p, size_t i)
{
	const struct jt_image *img = p->images[i];
	struct json_buf *b = c->out;
	int err = 0;

	switch (img->kind) {
	case JT_IMAGE_FORK:
		if (p->forked_by && same_args(img, p->forked_by))
			return json_buf__append_str(b, "fork");
		return json_buf__append_str(b, "fork of ") ?: put_cmd(b, img);
	case JT_IMAGE_EXEC:
		return json_buf__append_str(b, "exec at ") ?: put_off(c, img->t_ns) ?: json_buf__append_str(b, " ") ?: put_cmd(b, img);
	case JT_IMAGE_SEEN:
		err = json_buf__append_str(b, "running ") ?: put_cmd(b, img);
		return err ?: json_buf__append_str(b, img->flags & JT_IMG_FROM_PROCFS ?
					   " (when the sensor started; argv from /proc)" :
					   " (when the sensor started)");
	case JT_IMAGE_RESTATED:
		return json_buf__append_str(b, "running ") ?: put_cmd(b, img) ?:
		       json_buf__append_str(b, " (restated by a segment snapshot: its exec record is not in the input)");
	default:
		return json_buf__append_str(b, i ? "exec not recorded (" : "start not recorded (") ?:
		       put_text(b, img->exec_id, 0, 0, 0) ?: json_buf__append_str(b, ")");
	}
}

static int text_proc(struct ctx *c, const struct jt_proc *p)
{
	struct json_buf *b = c->out;
	const struct jt_image *last = NULL;
	int err;

	for (size_t i = 0; i < p->n_images; i++)
		if (p->images[i]->kind != JT_IMAGE_UNRECORDED)
			last = p->images[i];
	err = put_off(c, p->start_ns) ?: json_buf__appendf(b, " pid %u ", p->pid);
	if (!err && last)
		err = last->euid == last->uid ? json_buf__appendf(b, "uid %u ", last->uid) :
						json_buf__appendf(b, "uid %u euid %u ", last->uid, last->euid);
	else if (!err)
		err = json_buf__append_str(b, "uid ? ");
	if (err)
		return err;
	switch (p->state) {
	case JT_EXITED:
		err = json_buf__appendf(b, "exit %d after ", p->exit->code) ?: put_dur(b, p->exit->duration_ns);
		break;
	case JT_KILLED:
		err = json_buf__append_str(b, "killed by ") ?: put_signal(b, p->exit->signal) ?:
		      json_buf__append_str(b, p->exit->core_dumped ? ", core dumped, after " : " after ") ?:
		      put_dur(b, p->exit->duration_ns);
		break;
	case JT_EXIT_MISSING:
		err = p->reused_ns ? json_buf__append_str(b, "no exit recorded (its pid was reused at ") ?:
					     put_off(c, p->reused_ns) ?: json_buf__append_str(b, ")") :
				     json_buf__append_str(b, "no exit recorded (the workload ended)");
		break;
	default:
		err = json_buf__append_str(b, "running at the end of the records");
	}
	err = err ?: json_buf__append_str(b, ": ");
	for (size_t i = 0; i < p->n_images && !err; i++)
		err = (i ? json_buf__append_str(b, " -> ") : 0) ?: text_image(c, p, i);
	if (err)
		return err;
	if (p->flags & JT_PROC_PRE_EXISTING)
		err = json_buf__append_str(b, " [pre-existing]");
	if (!err && (p->flags & JT_PROC_STARTED_WHILE_DOWN))
		err = json_buf__append_str(b, " [started while no sensor ran]");
	if (!err && (p->flags & JT_PROC_MISSING_START))
		err = json_buf__append_str(b, " [start not recorded]");
	if (!err && (p->flags & JT_PROC_START_ELSEWHERE))
		err = json_buf__append_str(b, " [start recorded, not in this selection]");
	if (!err && (p->flags & JT_PROC_LINEAGE_LOOP))
		err = json_buf__append_str(b, " [lineage loop in the records: cut here]");
	if (!err && p->parent && p->ppid && p->ppid != p->parent->pid)
		err = json_buf__appendf(b, " [real parent pid %u]", p->ppid);
	/* Several workloads (a lineage selection across the runtime and its container): say
	 * where a process is whenever that changes down the tree. */
	if (!err && c->job->n_workloads > 1 && *p->workload_key &&
	    (!p->parent || strcmp(p->workload_key, p->parent->workload_key)))
		err = json_buf__append_str(b, " [in ") ?: put_text(b, p->workload_key, 0, 0, 64) ?: json_buf__append_str(b, "]");
	if (!err && !p->parent && p->outside_parent_pid)
		err = json_buf__appendf(b, " [forked by pid %u, outside the workload]", p->outside_parent_pid);
	if (!err && p->depth > DRAW_DEPTH_MAX)
		err = json_buf__appendf(b, " [depth %d]", p->depth);
	return err;
}

static const char *proto_name(uint32_t proto, int kind)
{
	if (kind == FIRSTLIGHT__V1__FLOW__KIND__UNIX_CONNECT)
		return "unix";
	return proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 0 ? "unix" : NULL;
}

static int put_endpoint(struct json_buf *b, const char *addr, uint32_t port)
{
	int v6 = strchr(addr, ':') != NULL;

	return json_buf__append_str(b, v6 ? "[" : "") ?: put_text(b, addr, 0, 0, 0) ?:
	       json_buf__appendf(b, "%s:%u", v6 ? "]" : "", port);
}

static int put_bytes(struct json_buf *b, uint64_t sent, uint64_t received)
{
	return json_buf__appendf(b, "sent %" PRIu64 " B, received %" PRIu64 " B", sent, received);
}

static int text_flow(struct ctx *c, const struct jt_flow *f)
{
	struct json_buf *b = c->out;
	const char *proto = proto_name(f->protocol, f->kind);
	int err = put_off(c, f->start_ns) ?: json_buf__append_str(b, " ");

	if (!err)
		err = proto ? json_buf__append_str(b, proto) : json_buf__appendf(b, "proto %u", f->protocol);
	if (err)
		return err;
	switch (f->kind) {
	case FIRSTLIGHT__V1__FLOW__KIND__LISTEN:
		err = json_buf__append_str(b, " listen ") ?: put_endpoint(b, f->src, f->src_port);
		if (!err && f->records > 1)
			err = json_buf__appendf(b, " (%" PRIu64 " records)", f->records);
		return err;
	case FIRSTLIGHT__V1__FLOW__KIND__UNIX_CONNECT:
		err = json_buf__append_str(b, " connect ") ?: put_text(b, f->dst, f->dst_escaped, TEXTESC_QUOTE, 0);
		if (!err && f->peer_pid)
			err = json_buf__appendf(b, ": peer pid %u", f->peer_pid);
		return err;
	case FIRSTLIGHT__V1__FLOW__KIND__UDP:
		err = json_buf__append_str(b, " ");
		if (!err && *f->src)
			err = put_endpoint(b, f->src, f->src_port) ?: json_buf__append_str(b, " ");
		err = err ?: json_buf__append_str(b, "-> ") ?: put_endpoint(b, f->dst, f->dst_port) ?:
		      json_buf__appendf(b, ": %" PRIu64 " %s, %" PRIu64 " B sent", f->datagrams,
			      plural__word(f->datagrams, "datagram", "datagrams"), f->bytes_sent);
		if (!err && f->connects)
			err = json_buf__appendf(b, ", %" PRIu64 " connect%s", f->connects, f->connects == 1 ? "" : "s");
		if (!err && f->end_ns > f->start_ns && f->start_ns)
			err = json_buf__append_str(b, " over ") ?: put_dur(b, f->end_ns - f->start_ns);
		return err;
	default:
		break;
	}
	/* TCP: one connection from its opening to its close. */
	err = json_buf__append_str(b, f->kind == FIRSTLIGHT__V1__FLOW__KIND__ACCEPT ? " accept " :
			 f->kind == FIRSTLIGHT__V1__FLOW__KIND__CONNECT ? " connect " : " close ") ?:
	      put_endpoint(b, f->src, f->src_port) ?: json_buf__append_str(b, " -> ") ?:
	      put_endpoint(b, f->dst, f->dst_port) ?: json_buf__append_str(b, ": ");
	if (err)
		return err;
	if (!f->opened)
		err = json_buf__append_str(b, "opened before the records");
	else if (f->kind == FIRSTLIGHT__V1__FLOW__KIND__ACCEPT)
		err = json_buf__append_str(b, "accepted");
	else if (f->result)
		err = json_buf__append_str(b, "failed ") ?: put_text(b, *f->error ? f->error : "?", 0, 0, 32) ?:
		      json_buf__appendf(b, " (%d) after ", f->result) ?: put_dur(b, f->connect_ns);
	else
		err = json_buf__append_str(b, "established in ") ?: put_dur(b, f->connect_ns);
	if (err)
		return err;
	if (f->closed) {
		err = json_buf__append_str(b, ", closed at ") ?: put_off(c, f->end_ns);
		if (!err && f->start_ns && f->end_ns >= f->start_ns)
			err = json_buf__append_str(b, " after ") ?: put_dur(b, f->end_ns - f->start_ns);
		if (!err && f->close_result)
			err = json_buf__append_str(b, " by ") ?: put_text(b, *f->close_error ? f->close_error : "?", 0, 0, 32);
		err = err ?: json_buf__append_str(b, ", ") ?: put_bytes(b, f->bytes_sent, f->bytes_received);
	} else if (!f->result) {
		err = json_buf__append_str(b, ", no close recorded");
	}
	return err;
}

/* "between 12:00:01.002 and 12:00:01.019", or "at 12:00:01.002" for one instant. */
static int put_window(struct json_buf *b, const struct jt_gap *g)
{
	uint64_t lo = g->start_ns ? g->start_ns : g->end_ns, hi = g->end_ns;

	if (!lo)
		return json_buf__append_str(b, "at an unknown time");
	if (!hi || hi / 1000000u == lo / 1000000u)
		return json_buf__append_str(b, "at ") ?: timefmt__clock(b, lo);
	return json_buf__append_str(b, "between ") ?: timefmt__clock(b, lo) ?: json_buf__append_str(b, " and ") ?: timefmt__clock(b, hi);
}

/* Where a gap's workload is, said from the job's side. */
static int put_scope(struct json_buf *b, const struct jt_job *job, const struct jt_gap *g)
{
	if (g->global)
		return json_buf__append_str(b, "in a workload the sensor could not tell");
	if (job->n_workloads == 1 && !strcmp(job->workloads[0]->key, g->workload_key))
		return json_buf__append_str(b, "in this workload");
	char buf[WLKEY_MAX];
	const char *key = wlkey__of_record(buf, g->workload_key, g->cgroup_id);

	return json_buf__append_str(b, "in workload ") ?: put_text(b, key ? key : "-", 0, 0, 64);
}

/* The sentence for a gap, without its offset: also the JSON "text". */
static int gap_sentence(struct json_buf *b, const struct jt_job *job, const struct jt_gap *g)
{
	int err;

	switch (g->kind) {
	case FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP:
		err = json_buf__appendf(b, "%" PRIu64 " ", g->count);
		if (!err && *g->event_type)
			err = put_text(b, g->event_type, 0, 0, 32) ?: json_buf__append_str(b, " ");
		return err ?: json_buf__append_str(b, plural__word(g->count, "event dropped ", "events dropped ")) ?:
		       put_scope(b, job, g) ?: json_buf__append_str(b, " ") ?: put_window(b, g) ?:
		       json_buf__append_str(b, " (ring buffer full)");
	case FIRSTLIGHT__V1__GAP__KIND__SENSOR_DOWN:
		err = json_buf__append_str(b, "no sensor ran ") ?: put_window(b, g);
		if (!err && *g->reason)
			err = json_buf__append_str(b, " (") ?: put_text(b, g->reason, 0, 0, 32) ?: json_buf__append_str(b, ")");
		return err ?: json_buf__append_str(b, ": what happened then is not recorded");
	case FIRSTLIGHT__V1__GAP__KIND__PRE_EXISTING:
		return json_buf__appendf(b, "%" PRIu64 " %s ", g->count, plural__word(g->count, "process", "processes")) ?:
		       put_scope(b, job, g) ?:
		       json_buf__append_str(b, g->count == 1 ? " was" : " were") ?:
		       json_buf__append_str(b, " already running when the sensor started: their history before is unknown");
	case FIRSTLIGHT__V1__GAP__KIND__MISSING_START:
		return json_buf__appendf(b, "%" PRIu64 " %s ", g->count, plural__word(g->count, "process", "processes")) ?:
		       put_scope(b, job, g) ?: json_buf__append_str(b, " ended or connected ") ?: put_window(b, g) ?:
		       json_buf__append_str(b, " without a recorded start (exec and argv unknown)");
	case FIRSTLIGHT__V1__GAP__KIND__UNATTRIBUTED_WORKLOAD:
		return json_buf__append_str(b, "identity not resolved ") ?: put_scope(b, job, g) ?: json_buf__append_str(b, ": ") ?:
		       put_text(b, g->detail, 0, 0, DETAIL_MAX);
	case FIRSTLIGHT__V1__GAP__KIND__BLIND_WORKLOAD:
		return json_buf__append_str(b, "blind ") ?: put_scope(b, job, g) ?: json_buf__append_str(b, ": ") ?:
		       put_text(b, g->detail, 0, 0, DETAIL_MAX);
	case FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS:
		err = json_buf__appendf(b, "%" PRIu64 " %s lost by the store ", g->count, plural__word(g->count, "record", "records")) ?:
		      put_window(b, g);
		if (!err && g->first_seq)
			err = json_buf__appendf(b, " (seq %" PRIu64 "-%" PRIu64 ")", g->first_seq, g->last_seq);
		return err ?: json_buf__append_str(b, ": some may be this job's");
	default:
		return json_buf__appendf(b, "gap of kind %d, count %" PRIu64 ", ", g->kind, g->count) ?:
		       put_window(b, g) ?: json_buf__append_str(b, ": ") ?: put_text(b, g->detail, 0, 0, DETAIL_MAX);
	}
}

static int text_gap(struct ctx *c, const struct jt_gap *g)
{
	return json_buf__append_str(c->out, "! ") ?: put_off(c, g->t_ns) ?: json_buf__append_str(c->out, " ") ?:
	       gap_sentence(c->out, c->job, g);
}

/*
 * "+1.2ms file READ "/var/run/secrets/.../token" on the host "/var/lib/kubelet/.../token"
 * (watched /var/run/secrets/): 3 opens over 0.1ms"; the host path only when it is known
 * and says something the path does not.
 */
static int text_file(struct ctx *c, const struct jt_file *f)
{
	struct json_buf *b = c->out;
	int host = *f->host_path && (strcmp(f->host_path, f->path) || f->host_path_escaped != f->path_escaped);
	int err = put_off(c, f->start_ns) ?: json_buf__append_str(b, " file ") ?:
		  put_text(b, f->mode, 0, 0, 16) ?: json_buf__append_str(b, " ") ?:
		  (*f->path ? put_text(b, f->path, f->path_escaped, TEXTESC_QUOTE, 0) :
			      json_buf__append_str(b, "(path lost)")) ?:
		  (host ? json_buf__append_str(b, " on the host ") ?:
			  put_text(b, f->host_path, f->host_path_escaped, TEXTESC_QUOTE, 0) : 0) ?:
		  json_buf__append_str(b, " (watched ") ?: put_text(b, f->watch, 0, 0, 0) ?:
		  json_buf__appendf(b, "): %" PRIu64 " %s", f->count, plural__word(f->count, "open", "opens"));

	if (!err && f->end_ns > f->start_ns && f->start_ns)
		err = json_buf__append_str(b, " over ") ?: put_dur(b, f->end_ns - f->start_ns);
	if (!err && !f->proc)
		err = json_buf__appendf(b, " [pid %u, its exec not in the records]", f->pid);
	return err;
}

static int text_item(struct ctx *c, const struct jt_item *it)
{
	switch (it->kind) {
	case JT_ITEM_PROC:
		return text_proc(c, it->proc);
	case JT_ITEM_FLOW:
		return text_flow(c, it->flow);
	case JT_ITEM_FILE:
		return text_file(c, it->file);
	default:
		return text_gap(c, it->gap);
	}
}

int treefmt__item_text(struct json_buf *out, const struct jt_job *job, const struct jt_item *it)
{
	struct ctx c = { .job = job, .out = out };
	int err = text_item(&c, it);

	json_buf__free(&c.tmp);
	return err;
}

/* A header line: "label      value". */
static int put_label(struct json_buf *b, const char *label)
{
	return json_buf__appendf(b, "%-11s", label);
}

static int put_or_dash(struct json_buf *b, const char *s)
{
	return *s ? put_text(b, s, 0, 0, 0) : json_buf__append_str(b, "-");
}

static const char *kind_name(int kind)
{
	static const char *const names[] = { "unknown", "host", "service", "session", "container",
					     "pod sandbox", "sandbox", "slice", "unknown" };

	return kind >= 0 && (size_t)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

static int text_workload(struct json_buf *b, const struct jt_workload *w)
{
	int err = put_label(b, "workload") ?: put_text(b, w->key, 0, 0, 0) ?: json_buf__append_str(b, " (") ?:
		  json_buf__append_str(b, kind_name(w->kind)) ?: json_buf__append_str(b, ")\n");

	err = err ?: put_label(b, "container");
	if (!err && *w->container_id)
		err = put_text(b, w->container_id, 0, 0, 0);
	else if (!err && *w->claimed_container_id)
		err = put_text(b, w->claimed_container_id, 0, 0, 0) ?: json_buf__append_str(b, " (claimed by its cgroup path)");
	else if (!err)
		err = json_buf__append_str(b, "-");
	if (!err && *w->container_name)
		err = json_buf__append_str(b, " name ") ?: put_text(b, w->container_name, 0, 0, 0);
	if (!err && *w->runtime)
		err = json_buf__append_str(b, ", runtime ") ?: put_text(b, w->runtime, 0, 0, 0);
	err = err ?: json_buf__append_str(b, "\n") ?: put_label(b, "identity");
	if (!err && !w->has_record)
		err = json_buf__append_str(b, "unknown (no workload record in the input)");
	else if (!err)
		err = json_buf__append_str(b, w->identity_verified ? "verified" : "NOT verified") ?:
		      (*w->identity_source ? json_buf__append_str(b, " (") ?: put_text(b, w->identity_source, 0, 0, 0) ?:
					     json_buf__append_str(b, ")") : 0);
	if (!err && *w->detail)
		err = json_buf__append_str(b, ": ") ?: put_text(b, w->detail, 0, 0, DETAIL_MAX);
	if (!err && *w->owners_sha256) {
		/* Only under an owners file: a record without one says nothing of owners. */
		err = json_buf__append_str(b, "\n") ?: put_label(b, "owner");
		if (!err && *w->owner)
			err = put_text(b, w->owner, 0, 0, 0) ?:
			      (*w->approval_ref ? json_buf__append_str(b, ", approval ") ?:
						  put_text(b, w->approval_ref, 0, 0, 0) : 0) ?:
			      (*w->boundary ? json_buf__append_str(b, ", boundary: ") ?:
					      put_text(b, w->boundary, 0, 0, DETAIL_MAX) : 0);
		else if (!err)
			err = json_buf__append_str(b, w->unowned ? "NONE: no rule of the owners file matched"
								 : "not decided (identity still unresolved)");
		if (!err) {
			char h[13]; /* the hash's head: enough to tell two files apart */

			snprintf(h, sizeof(h), "%.12s", w->owners_sha256);
			err = json_buf__append_str(b, " (owners file sha256 ") ?: put_text(b, h, 0, 0, 0) ?:
			      json_buf__append_str(b, ")");
		}
	}
	err = err ?: json_buf__append_str(b, "\n") ?: put_label(b, "pod") ?: put_or_dash(b, w->pod_name);
	if (!err && *w->pod_namespace)
		err = json_buf__append_str(b, " namespace ") ?: put_text(b, w->pod_namespace, 0, 0, 0);
	if (!err && *w->pod_uid)
		err = json_buf__append_str(b, " uid ") ?: put_text(b, w->pod_uid, 0, 0, 0);
	err = err ?: json_buf__append_str(b, "\n") ?: put_label(b, "image") ?: put_or_dash(b, w->image) ?:
	      json_buf__append_str(b, "\n") ?: put_label(b, "cgroup") ?: json_buf__appendf(b, "%" PRIu64 " ", w->cgroup_id) ?:
	      put_or_dash(b, w->cgroup_path) ?: json_buf__append_str(b, "\n") ?: put_label(b, "seen");
	if (err)
		return err;
	err = w->first_seen_ns ? timefmt__rfc3339(b, w->first_seen_ns, 9) : json_buf__append_str(b, "?");
	err = err ?: json_buf__append_str(b, " to ") ?: (w->last_seen_ns ? timefmt__rfc3339(b, w->last_seen_ns, 9) : json_buf__append_str(b, "?"));
	return err ?: json_buf__append_str(b, w->ended ? ", ended\n" : w->end_lost ? ", ended (its end record was dropped)\n" :
					", not ended in the records\n");
}

static int text_header(struct ctx *c)
{
	const struct jt_job *job = c->job;
	const struct jt_counts *n = &job->counts;
	struct json_buf *b = c->out;
	int err = 0;

	for (size_t i = 0; i < job->n_workloads && !err; i++)
		err = text_workload(b, job->workloads[i]) ?: json_buf__append_str(b, "\n");
	err = err ?: put_label(b, "job");
	if (err)
		return err;
	if (job->start_ns)
		err = json_buf__append_str(b, "start ") ?: timefmt__rfc3339(b, job->start_ns, 9) ?: json_buf__append_str(b, " (+0), ");
	if (!err && job->end_ns && job->start_ns)
		err = json_buf__append_str(b, "end ") ?: put_off(c, job->end_ns);
	else if (!err)
		err = json_buf__append_str(b, "still running at the end of the records");
	err = err ?: json_buf__append_str(b, "\n") ?: put_label(b, "") ?:
	      json_buf__appendf(b, "%zu %s (%zu exited, %zu killed, %zu without exit, %zu running), ", n->processes,
		      plural__word(n->processes, "process", "processes"), n->exited, n->killed, n->exit_missing,
		      n->running) ?:
	      json_buf__appendf(b, "%zu %s, %zu %s", n->flows, plural__word(n->flows, "flow", "flows"), n->gaps,
		      plural__word(n->gaps, "gap", "gaps"));
	if (!err && n->dropped_events)
		err = json_buf__appendf(b, " (%" PRIu64 " events dropped)", n->dropped_events);
	return err ?: json_buf__append_str(b, "\n\n");
}

struct frame {
	const struct jt_item *items;
	size_t n, i;
	size_t prefix_len;
	int depth;
};

int treefmt__text(struct json_buf *out, const struct jt_job *job)
{
	return treefmt__text_with(out, job, 0);
}

int treefmt__text_with(struct json_buf *out, const struct jt_job *job, unsigned int flags)
{
	struct ctx c = { .job = job, .out = out, .flags = flags };
	struct json_buf prefix = {};
	struct frame *stack = NULL;
	size_t n = 0, cap = 0;
	int err = text_header(&c);

	if (!err && !(stack = malloc(sizeof(*stack) * (cap = 16))))
		err = -ENOMEM;
	if (!err) {
		stack[n++] = (struct frame){ job->top, job->n_top, 0, 0, 0 };
		err = json_buf__reserve(&prefix, 16);
	}
	/* Depth-first without recursion: the records decide how deep the tree is. */
	while (n && !err) {
		struct frame *f = &stack[n - 1];
		const struct jt_item *it;
		int last, depth = f->depth;

		if (f->i == f->n) {
			n--;
			continue;
		}
		it = &f->items[f->i++];
		last = f->i == f->n;
		prefix.len = f->prefix_len;
		err = json_buf__append(out, prefix.data, prefix.len);
		if (!err && f->depth)
			err = json_buf__append_str(out, last ? "└─ " : "├─ ");
		err = err ?: text_item(&c, it) ?: json_buf__append_str(out, "\n");
		if (err || it->kind != JT_ITEM_PROC || !it->proc->n_items)
			continue;
		if (depth && depth <= DRAW_DEPTH_MAX)
			err = json_buf__append_str(&prefix, last ? "   " : "│  ");
		/* f points into stack: not used past the realloc. */
		if (!err)
			err = ARRAY_GROW(stack, cap, n + 1);
		if (!err)
			stack[n++] = (struct frame){ it->proc->items, it->proc->n_items, 0, prefix.len,
						     depth + 1 };
	}
	free(stack);
	json_buf__free(&prefix);
	json_buf__free(&c.tmp);
	return err;
}

/* ---- JSON ----------------------------------------------------------------------------- */

static int j_key(struct json_buf *b, const char *key, int *first)
{
	int err = json_buf__appendf(b, "%s\"%s\":", *first ? "" : ",", key);

	*first = 0;
	return err;
}

static int j_str(struct json_buf *b, const char *key, const char *s, int *first)
{
	return j_key(b, key, first) ?: (s && *s ? json__append_string(b, s) : json_buf__append_str(b, "null"));
}

static int j_u64(struct json_buf *b, const char *key, uint64_t v, int set, int *first)
{
	return j_key(b, key, first) ?: (set ? json_buf__appendf(b, "\"%" PRIu64 "\"", v) : json_buf__append_str(b, "null"));
}

static int j_i64(struct json_buf *b, const char *key, int64_t v, int set, int *first)
{
	return j_key(b, key, first) ?: (set ? json_buf__appendf(b, "\"%" PRId64 "\"", v) : json_buf__append_str(b, "null"));
}

static int j_num(struct json_buf *b, const char *key, int64_t v, int set, int *first)
{
	return j_key(b, key, first) ?: (set ? json_buf__appendf(b, "%" PRId64, v) : json_buf__append_str(b, "null"));
}

static int j_bool(struct json_buf *b, const char *key, int v, int *first)
{
	return j_key(b, key, first) ?: json_buf__append_str(b, v ? "true" : "false");
}

static int j_time(struct json_buf *b, const char *key, const char *key_ns, uint64_t ns, int *first)
{
	int err = j_key(b, key, first);

	if (!err)
		err = ns ? json_buf__append_str(b, "\"") ?: timefmt__rfc3339(b, ns, 9) ?: json_buf__append_str(b, "\"") : json_buf__append_str(b, "null");
	return err ?: j_u64(b, key_ns, ns, ns != 0, first);
}

static int j_offset(struct json_buf *b, const struct jt_job *job, uint64_t ns, int *first)
{
	return j_i64(b, "offsetNano", diff_ns(ns, job->start_ns), ns && job->start_ns, first);
}

static int json_workload(struct json_buf *b, const struct jt_workload *w)
{
	static const char *const kinds[] = { NULL, "HOST", "SERVICE", "SESSION", "CONTAINER",
					     "POD_SANDBOX", "SANDBOX", "SLICE", "UNKNOWN" };
	int f = 1;
	int err = json_buf__append_str(b, "{") ?: j_str(b, "key", w->key, &f) ?: j_str(b, "node", w->node, &f) ?:
		  j_u64(b, "cgroupId", w->cgroup_id, w->cgroup_id != 0, &f) ?:
		  j_str(b, "kind", w->kind > 0 && (size_t)w->kind < sizeof(kinds) / sizeof(kinds[0]) ?
					   kinds[w->kind] : NULL, &f) ?:
		  j_str(b, "runtime", w->runtime, &f) ?: j_str(b, "containerId", w->container_id, &f) ?:
		  j_str(b, "claimedContainerId", w->claimed_container_id, &f) ?:
		  j_str(b, "containerName", w->container_name, &f) ?: j_str(b, "podName", w->pod_name, &f) ?:
		  j_str(b, "podNamespace", w->pod_namespace, &f) ?: j_str(b, "podUid", w->pod_uid, &f) ?:
		  j_str(b, "image", w->image, &f) ?: j_str(b, "cgroupPath", w->cgroup_path, &f) ?:
		  j_bool(b, "identityVerified", w->identity_verified, &f) ?:
		  j_str(b, "identitySource", w->identity_source, &f) ?:
		  j_bool(b, "unattributed", w->unattributed, &f) ?: j_str(b, "detail", w->detail, &f) ?:
		  j_str(b, "owner", w->owner, &f) ?: j_str(b, "approvalRef", w->approval_ref, &f) ?:
		  j_str(b, "boundary", w->boundary, &f) ?: j_bool(b, "unowned", w->unowned, &f) ?:
		  j_str(b, "ownersSha256", w->owners_sha256, &f) ?:
		  j_str(b, "creatorExecId", w->creator_exec_id, &f) ?:
		  j_time(b, "firstSeen", "firstSeenUnixNano", w->first_seen_ns, &f) ?:
		  j_time(b, "lastSeen", "lastSeenUnixNano", w->last_seen_ns, &f) ?:
		  j_bool(b, "ended", w->ended || w->end_lost, &f) ?: j_bool(b, "endRecorded", w->ended, &f) ?:
		  j_bool(b, "recorded", w->has_record, &f) ?:
		  j_num(b, "processCount", w->process_count, w->has_record, &f) ?:
		  j_num(b, "execCount", w->exec_count, w->has_record, &f) ?:
		  j_u64(b, "drops", w->drops, w->has_record, &f);

	return err ?: json_buf__append_str(b, "}");
}

static const char *image_kind_name(enum jt_image_kind k)
{
	static const char *const names[] = { "fork", "exec", "seen", "restated", "unrecorded" };

	return (size_t)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

static int json_image(struct json_buf *b, const struct jt_job *job, const struct jt_image *img)
{
	int rec = img->kind != JT_IMAGE_UNRECORDED, f = 1;
	int err = json_buf__append_str(b, "{") ?: j_str(b, "execId", img->exec_id, &f) ?:
		  j_str(b, "kind", image_kind_name(img->kind), &f) ?:
		  j_str(b, "binary", rec ? img->binary : NULL, &f) ?: j_key(b, "args", &f);

	if (!err && rec) {
		err = json_buf__append_str(b, "[");
		for (size_t i = 0; i < img->n_args && !err; i++)
			err = (i ? json_buf__append_str(b, ",") : 0) ?: json__append_string(b, img->args[i]);
		err = err ?: json_buf__append_str(b, "]");
	} else if (!err) {
		err = json_buf__append_str(b, "null");
	}
	err = err ?: j_key(b, "argsTail", &f);
	if (!err && rec && img->n_args_tail) {
		err = json_buf__append_str(b, "[");
		for (size_t i = 0; i < img->n_args_tail && !err; i++)
			err = (i ? json_buf__append_str(b, ",") : 0) ?: json__append_string(b, img->args_tail[i]);
		err = err ?: json_buf__append_str(b, "]");
	} else if (!err) {
		err = json_buf__append_str(b, "null"); /* argv was kept whole, or is unknown */
	}
	err = err ?: j_u64(b, "argsCutBytes", img->args_cut_bytes, rec && img->n_args_tail, &f);
	return err ?: j_bool(b, "argsTruncated", !!(img->flags & JT_IMG_ARGS_TRUNCATED), &f) ?:
	       j_num(b, "argsCount", img->args_count, rec, &f) ?: j_str(b, "cwd", rec ? img->cwd : NULL, &f) ?:
	       j_time(b, "start", "startUnixNano", img->t_ns, &f) ?: j_offset(b, job, img->t_ns, &f) ?:
	       j_num(b, "uid", img->uid, rec, &f) ?: j_num(b, "euid", img->euid, rec, &f) ?:
	       j_num(b, "gid", img->gid, rec, &f) ?: j_num(b, "egid", img->egid, rec, &f) ?:
	       j_num(b, "ppid", img->ppid, rec, &f) ?:
	       j_str(b, "parentExecId", img->parent_exec_id, &f) ?:
	       j_str(b, "replacedExecId", img->replaced_exec_id, &f) ?:
	       j_str(b, "workload", img->workload_key, &f) ?:
	       j_bool(b, "preExisting", !!(img->flags & JT_IMG_PRE_EXISTING), &f) ?:
	       j_bool(b, "startedWhileDown", !!(img->flags & JT_IMG_STARTED_WHILE_DOWN), &f) ?:
	       j_bool(b, "fromProcfs", !!(img->flags & JT_IMG_FROM_PROCFS), &f) ?:
	       j_bool(b, "snapshot", !!(img->flags & JT_IMG_SNAPSHOT), &f) ?:
	       j_bool(b, "argsEscaped", !!(img->flags & JT_IMG_ARGS_ESCAPED), &f) ?:
	       j_bool(b, "binaryEscaped", !!(img->flags & JT_IMG_BINARY_ESCAPED), &f) ?:
	       j_bool(b, "cwdEscaped", !!(img->flags & JT_IMG_CWD_ESCAPED), &f) ?: json_buf__append_str(b, "}");
}

static const char *flow_kind_name(int kind)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&firstlight__v1__flow__kind__descriptor, kind);

	return v ? v->name : "KIND_UNSPECIFIED";
}

static int json_flow(struct json_buf *b, const struct jt_job *job, const struct jt_flow *fl)
{
	int tcp_open = fl->opened && fl->kind == FIRSTLIGHT__V1__FLOW__KIND__CONNECT, f = 1;
	uint64_t end = fl->end_ns;

	return json_buf__append_str(b, "{") ?: j_str(b, "kind", flow_kind_name(fl->kind), &f) ?:
	       j_num(b, "protocol", fl->protocol, 1, &f) ?: j_str(b, "execId", fl->exec_id, &f) ?:
	       j_num(b, "pid", fl->pid, fl->pid != 0, &f) ?: j_str(b, "workload", fl->workload_key, &f) ?:
	       j_str(b, "src", fl->src, &f) ?: j_num(b, "srcPort", fl->src_port, *fl->src != 0, &f) ?:
	       j_str(b, "dst", fl->dst, &f) ?: j_num(b, "dstPort", fl->dst_port, *fl->dst != 0, &f) ?:
	       j_bool(b, "inbound", fl->inbound, &f) ?: j_num(b, "result", fl->result, tcp_open, &f) ?:
	       j_str(b, "error", fl->error, &f) ?: j_key(b, "established", &f) ?:
	       json_buf__append_str(b, tcp_open ? (fl->result ? "false" : "true") : "null") ?:
	       j_u64(b, "connectDurationNano", fl->connect_ns, tcp_open, &f) ?:
	       j_bool(b, "closed", fl->closed, &f) ?: j_num(b, "closeResult", fl->close_result, fl->closed, &f) ?:
	       j_str(b, "closeError", fl->close_error, &f) ?:
	       j_u64(b, "bytesSent", fl->bytes_sent, 1, &f) ?:
	       j_u64(b, "bytesReceived", fl->bytes_received, 1, &f) ?:
	       j_u64(b, "bytesRetransmitted", fl->bytes_retransmitted, 1, &f) ?:
	       j_u64(b, "datagrams", fl->datagrams, 1, &f) ?: j_u64(b, "connects", fl->connects, 1, &f) ?:
	       j_time(b, "start", "startUnixNano", fl->start_ns, &f) ?: j_offset(b, job, fl->start_ns, &f) ?:
	       j_time(b, "end", "endUnixNano", end, &f) ?:
	       j_u64(b, "durationNano", end - fl->start_ns, end && fl->start_ns && end >= fl->start_ns, &f) ?:
	       j_u64(b, "socketCookie", fl->socket_cookie, fl->socket_cookie != 0, &f) ?:
	       j_num(b, "peerPid", fl->peer_pid, fl->peer_pid != 0, &f) ?:
	       j_str(b, "peerExecId", fl->peer_exec_id, &f) ?: j_bool(b, "startSeen", fl->start_seen, &f) ?:
	       j_bool(b, "preExisting", fl->pre_existing, &f) ?:
	       j_bool(b, "ownerUnknown", fl->owner_unknown, &f) ?:
	       j_u64(b, "records", fl->records, 1, &f) ?: json_buf__append_str(b, "}");
}

static int json_file(struct json_buf *b, const struct jt_job *job, const struct jt_file *fa)
{
	int f = 1;

	return json_buf__append_str(b, "{") ?: j_str(b, "path", *fa->path ? fa->path : NULL, &f) ?:
	       j_str(b, "hostPath", *fa->host_path ? fa->host_path : NULL, &f) ?: j_str(b, "mode", fa->mode, &f) ?: j_str(b, "watch", fa->watch, &f) ?:
	       j_u64(b, "count", fa->count, 1, &f) ?: j_num(b, "pid", fa->pid, 1, &f) ?:
	       j_str(b, "execId", fa->exec_id, &f) ?: j_str(b, "workload", fa->workload_key, &f) ?:
	       j_time(b, "start", "startUnixNano", fa->start_ns, &f) ?:
	       j_time(b, "end", "endUnixNano", fa->end_ns, &f) ?: j_offset(b, job, fa->start_ns, &f) ?:
	       j_bool(b, "pathEscaped", fa->path_escaped, &f) ?:
	       j_bool(b, "hostPathEscaped", fa->host_path_escaped, &f) ?: json_buf__append_str(b, "}");
}

static const char *state_name(enum jt_state s)
{
	switch (s) {
	case JT_EXITED: return "exited";
	case JT_KILLED: return "killed";
	case JT_EXIT_MISSING: return "exitMissing";
	default: return "running";
	}
}

/* A process object up to its "children":[ (closed by the caller once they are out). */
static int json_proc_open(struct json_buf *b, const struct jt_job *job, const struct jt_proc *p)
{
	const struct jt_image *last = p->images[p->n_images - 1];
	const struct jt_exit *x = p->exit;
	const char *sig = x && x->signal && x->signal < 65 ? sigabbrev_np((int)x->signal) : NULL;
	int f = 1, n = 0;
	int err = json_buf__append_str(b, "{") ?: j_num(b, "pid", p->pid, 1, &f) ?: j_num(b, "ppid", p->ppid, p->ppid != 0, &f) ?:
		  j_str(b, "execId", p->images[0]->exec_id, &f) ?: j_str(b, "lastExecId", last->exec_id, &f) ?:
		  j_str(b, "parentExecId", p->parent_exec_id, &f) ?:
		  j_str(b, "forkedByExecId", p->forked_by ? p->forked_by->exec_id : NULL, &f) ?:
		  j_num(b, "outsideParentPid", p->outside_parent_pid, p->outside_parent_pid != 0, &f) ?:
		  j_str(b, "workload", p->workload_key, &f) ?:
		  j_u64(b, "cgroupId", p->cgroup_id, p->cgroup_id != 0, &f);

	for (size_t i = 0; i < p->n_images; i++)
		if (p->images[i]->kind != JT_IMAGE_UNRECORDED)
			last = p->images[i], n++;
	err = err ?: j_num(b, "uid", last->uid, n, &f) ?: j_num(b, "euid", last->euid, n, &f) ?:
	      j_num(b, "gid", last->gid, n, &f) ?: j_num(b, "egid", last->egid, n, &f) ?:
	      j_time(b, "start", "startUnixNano", p->start_ns, &f) ?: j_offset(b, job, p->start_ns, &f) ?:
	      j_time(b, "end", "endUnixNano", p->end_ns, &f) ?:
	      j_u64(b, "durationNano", x ? x->duration_ns : 0, x != NULL, &f) ?:
	      j_str(b, "state", state_name(p->state), &f) ?:
	      j_num(b, "exitCode", x ? x->code : 0, x && !x->signal, &f) ?:
	      j_num(b, "signal", x ? x->signal : 0, x && x->signal, &f) ?:
	      j_key(b, "signalName", &f);
	if (!err)
		err = sig ? json_buf__appendf(b, "\"SIG%s\"", sig) : json_buf__append_str(b, "null");
	err = err ?: j_bool(b, "coreDumped", x && x->core_dumped, &f) ?:
	      j_u64(b, "pidReusedUnixNano", p->reused_ns, p->reused_ns != 0, &f) ?: j_key(b, "flags", &f);
	if (err)
		return err;
	f = 1;
	err = json_buf__append_str(b, "{") ?: j_bool(b, "preExisting", !!(p->flags & JT_PROC_PRE_EXISTING), &f) ?:
	      j_bool(b, "startedWhileDown", !!(p->flags & JT_PROC_STARTED_WHILE_DOWN), &f) ?:
	      j_bool(b, "missingStart", !!(p->flags & JT_PROC_MISSING_START), &f) ?:
	      j_bool(b, "startElsewhere", !!(p->flags & JT_PROC_START_ELSEWHERE), &f) ?:
	      j_bool(b, "argsTruncated", !!(p->flags & JT_PROC_ARGS_TRUNCATED), &f) ?:
	      j_bool(b, "lineageLoop", !!(p->flags & JT_PROC_LINEAGE_LOOP), &f) ?:
	      j_bool(b, "unrecordedExec", !!(p->flags & JT_PROC_UNRECORDED_EXEC), &f) ?:
	      json_buf__append_str(b, "},\"images\":[");
	for (size_t i = 0; i < p->n_images && !err; i++)
		err = (i ? json_buf__append_str(b, ",") : 0) ?: json_image(b, job, p->images[i]);
	err = err ?: json_buf__append_str(b, "],\"flows\":[");
	n = 0;
	for (size_t i = 0; i < p->n_items && !err; i++)
		if (p->items[i].kind == JT_ITEM_FLOW)
			err = (n++ ? json_buf__append_str(b, ",") : 0) ?: json_flow(b, job, p->items[i].flow);
	err = err ?: json_buf__append_str(b, "],\"fileAccess\":[");
	n = 0;
	for (size_t i = 0; i < p->n_items && !err; i++)
		if (p->items[i].kind == JT_ITEM_FILE)
			err = (n++ ? json_buf__append_str(b, ",") : 0) ?: json_file(b, job, p->items[i].file);
	return err ?: json_buf__append_str(b, "],\"children\":[");
}

static int json_gap(struct json_buf *b, const struct jt_job *job, const struct jt_gap *g,
		    struct json_buf *tmp)
{
	int f = 1;
	int err = json_buf__append_str(b, "{") ?: j_key(b, "kind", &f);

	if (!err) {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
			&firstlight__v1__gap__kind__descriptor, g->kind);

		err = v ? json__append_string(b, v->name) : json_buf__appendf(b, "\"GAP_KIND_%d\"", g->kind);
	}
	json_buf__reset(tmp);
	err = err ?: gap_sentence(tmp, job, g);
	return err ?: j_str(b, "workload", g->workload_key, &f) ?:
	       j_u64(b, "cgroupId", g->cgroup_id, g->cgroup_id != 0, &f) ?:
	       j_u64(b, "count", g->count, 1, &f) ?: j_str(b, "eventType", g->event_type, &f) ?:
	       j_str(b, "reason", g->reason, &f) ?: j_str(b, "detail", g->detail, &f) ?:
	       j_str(b, "previousRunId", g->previous_run_id, &f) ?:
	       j_u64(b, "firstSeq", g->first_seq, g->first_seq != 0, &f) ?:
	       j_u64(b, "lastSeq", g->last_seq, g->last_seq != 0, &f) ?:
	       j_time(b, "start", "startUnixNano", g->start_ns, &f) ?:
	       j_time(b, "end", "endUnixNano", g->end_ns, &f) ?: j_offset(b, job, g->t_ns, &f) ?:
	       j_str(b, "placedUnder", g->under ? g->under->images[0]->exec_id : NULL, &f) ?:
	       j_str(b, "text", tmp->data, &f) ?: json_buf__append_str(b, "}");
}

static const char *by_name(enum jobtree_by by)
{
	switch (by) {
	case JOBTREE_BY_CONTAINER: return "container";
	case JOBTREE_BY_POD: return "pod";
	case JOBTREE_BY_WORKLOAD: return "workload";
	case JOBTREE_BY_EXEC_ID: return "execId";
	default: return "pid";
	}
}

struct jframe {
	const struct jt_proc *p;
	size_t i, n;
};

/* Processes nested by lineage, without recursion. */
static int json_procs(struct json_buf *b, const struct jt_job *job)
{
	struct jframe *stack = NULL;
	size_t n = 0, cap = 16, roots = 0;
	int err = json_buf__append_str(b, "\"processes\":[");

	if (!err && !(stack = malloc(cap * sizeof(*stack))))
		err = -ENOMEM;
	for (size_t r = 0; r < job->n_top && !err; r++) {
		if (job->top[r].kind != JT_ITEM_PROC)
			continue;
		err = (roots++ ? json_buf__append_str(b, ",") : 0) ?: json_proc_open(b, job, job->top[r].proc);
		stack[n++] = (struct jframe){ job->top[r].proc, 0, 0 };
		while (n && !err) {
			struct jframe *f = &stack[n - 1];
			const struct jt_proc *c = NULL;

			while (f->i < f->p->n_items && !c) {
				if (f->p->items[f->i].kind == JT_ITEM_PROC)
					c = f->p->items[f->i].proc;
				f->i++;
			}
			if (!c) {
				err = json_buf__append_str(b, "]}");
				n--;
				continue;
			}
			err = (f->n++ ? json_buf__append_str(b, ",") : 0) ?: json_proc_open(b, job, c);
			if (!err)
				err = ARRAY_GROW(stack, cap, n + 1);
			if (!err)
				stack[n++] = (struct jframe){ c, 0, 0 };
		}
	}
	free(stack);
	return err ?: json_buf__append_str(b, "]");
}

int treefmt__json(struct json_buf *out, const struct jt_job *job)
{
	const struct jobtree_query *q = job->query;
	const struct jt_counts *c = &job->counts;
	struct json_buf tmp = {};
	int f = 1, n = 0;
	int err = json_buf__append_str(out, "{\"query\":{") ?: j_str(out, "by", by_name(q->by), &f) ?:
		  j_str(out, "value", q->value, &f) ?: j_str(out, "namespace", q->pod_namespace, &f) ?:
		  j_num(out, "pid", q->pid, q->by == JOBTREE_BY_PID, &f) ?:
		  j_time(out, "at", "atUnixNano", q->by == JOBTREE_BY_PID ? q->at_ns : 0, &f) ?: json_buf__append_str(out, "}");

	err = err ?: j_time(out, "start", "startUnixNano", job->start_ns, &f) ?:
	      j_time(out, "end", "endUnixNano", job->end_ns, &f) ?:
	      j_u64(out, "durationNano", job->end_ns - job->start_ns,
		    job->start_ns && job->end_ns >= job->start_ns, &f) ?:
	      json_buf__append_str(out, ",\"workloads\":[");
	for (size_t i = 0; i < job->n_workloads && !err; i++)
		err = (i ? json_buf__append_str(out, ",") : 0) ?: json_workload(out, job->workloads[i]);
	err = err ?: json_buf__append_str(out, "],") ?: json_procs(out, job) ?: json_buf__append_str(out, ",\"flows\":[");
	for (size_t i = 0; i < job->n_top && !err; i++)
		if (job->top[i].kind == JT_ITEM_FLOW)
			err = (n++ ? json_buf__append_str(out, ",") : 0) ?: json_flow(out, job, job->top[i].flow);
	/* fileAccess records whose opener is not in the tree (its exec not in the records) */
	err = err ?: json_buf__append_str(out, "],\"fileAccess\":[");
	n = 0;
	for (size_t i = 0; i < job->n_top && !err; i++)
		if (job->top[i].kind == JT_ITEM_FILE)
			err = (n++ ? json_buf__append_str(out, ",") : 0) ?: json_file(out, job, job->top[i].file);
	err = err ?: json_buf__append_str(out, "],\"gaps\":[");
	for (size_t i = 0; i < job->n_gaps && !err; i++)
		err = (i ? json_buf__append_str(out, ",") : 0) ?: json_gap(out, job, job->gaps[i], &tmp);
	f = 1;
	err = err ?: json_buf__append_str(out, "],\"summary\":{") ?: j_num(out, "processes", (int64_t)c->processes, 1, &f) ?:
	      j_num(out, "images", (int64_t)c->images, 1, &f) ?: j_num(out, "exited", (int64_t)c->exited, 1, &f) ?:
	      j_num(out, "killed", (int64_t)c->killed, 1, &f) ?:
	      j_num(out, "exitMissing", (int64_t)c->exit_missing, 1, &f) ?:
	      j_num(out, "running", (int64_t)c->running, 1, &f) ?:
	      j_num(out, "missingStart", (int64_t)c->missing_start, 1, &f) ?:
	      j_num(out, "flows", (int64_t)c->flows, 1, &f) ?: j_num(out, "gaps", (int64_t)c->gaps, 1, &f) ?:
	      j_u64(out, "droppedEvents", c->dropped_events, 1, &f) ?: json_buf__append_str(out, "}}\n");
	json_buf__free(&tmp);
	return err;
}
