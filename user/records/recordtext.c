/* One line per record; see recordtext.h. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "records/recordtext.h"
#include "base/textesc.h"
#include "base/timefmt.h"

typedef Firstlight__V1__Event Event;

/* A plain word prints as is; anything else (empty, spaces, quotes, controls, non-ASCII)
 * quoted and escaped. */
static int put_str(struct json_buf *b, const char *s)
{
	const char *p;

	if (!s)
		s = "";
	for (p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@+-,=", *p))
			break;
	if (*s && !*p)
		return json_buf__append_str(b, s);
	return textesc__append(b, s, strlen(s), 0, TEXTESC_QUOTE) < 0 ? -ENOMEM : 0;
}

/* " key=value" for a string; nothing for an empty one. */
static int put_kv(struct json_buf *b, const char *key, const char *s)
{
	if (!s || !*s)
		return 0;
	return json_buf__appendf(b, " %s=", key) ?: put_str(b, s);
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value(d, v);

	return e ? e->name : "?";
}

static int put_process(struct json_buf *b, const Firstlight__V1__Process *p, int with_args)
{
	int err;

	if (!p)
		return json_buf__append_str(b, " (no process)");
	err = json_buf__appendf(b, " pid=%u ppid=%u uid=%u", p->pid, p->ppid, p->uid) ?:
	      put_kv(b, "exec_id", p->exec_id) ?: put_kv(b, "parent", p->parent_exec_id) ?:
	      put_kv(b, "workload", p->workload_key) ?: json_buf__append_str(b, " binary=") ?:
	      put_str(b, p->binary);
	if (!err && with_args) {
		err = json_buf__append_str(b, " args=[");
		for (size_t i = 0; !err && i < p->n_args; i++)
			err = (i ? json_buf__append_str(b, ",") : 0) ?:
			      (textesc__append(b, p->args[i], strlen(p->args[i]), 0, TEXTESC_QUOTE) < 0 ? -ENOMEM : 0);
		if (!err && p->n_args_tail)
			err = json_buf__appendf(b, "%s<%" PRIu64 " bytes cut>", p->n_args ? "," : "", p->args_cut_bytes);
		for (size_t i = 0; !err && i < p->n_args_tail; i++)
			err = json_buf__append_str(b, ",") ?:
			      (textesc__append(b, p->args_tail[i], strlen(p->args_tail[i]), 0, TEXTESC_QUOTE) < 0 ? -ENOMEM : 0);
		err = err ?: json_buf__append_str(b, "]");
		if (!err && p->args_truncated)
			err = p->n_args_tail ? json_buf__appendf(b, " args-cut-bytes=%" PRIu64 " args-count=%u", p->args_cut_bytes, p->args_count)
					     : json_buf__appendf(b, " args-truncated=%u/%u", (unsigned)p->n_args, p->args_count);
	}
	if (!err && p->flags && p->flags->pre_existing)
		err = json_buf__append_str(b, " pre-existing");
	return err;
}

/* "[host]:port" or "host:port". */
static int put_endpoint(struct json_buf *b, const char *addr, uint32_t port)
{
	int v6 = strchr(addr, ':') != NULL;

	return json_buf__append_str(b, v6 ? "[" : "") ?: put_str(b, addr) ?:
	       json_buf__appendf(b, "%s:%u", v6 ? "]" : "", port);
}

static int put_flow(struct json_buf *b, const Firstlight__V1__Flow *f)
{
	int err = json_buf__appendf(b, " flow %s pid=%u",
				    enum_name(&firstlight__v1__flow__kind__descriptor, f->kind), f->pid) ?:
		  (f->owner_unknown ? json_buf__append_str(b, " exec_id=unknown") : put_kv(b, "exec_id", f->exec_id)) ?:
		  put_kv(b, "workload", f->workload_key);

	if (err)
		return err;
	if (f->kind == FIRSTLIGHT__V1__FLOW__KIND__UNIX_CONNECT) {
		err = json_buf__append_str(b, " path=") ?: put_str(b, f->dst_addr);
		if (!err && f->peer_pid)
			err = json_buf__appendf(b, " peer=%u", f->peer_pid);
	} else {
		if (f->src_addr && *f->src_addr) /* UDP aggregates have none */
			err = json_buf__append_str(b, " ") ?: put_endpoint(b, f->src_addr, f->src_port);
		if (!err && f->dst_addr && *f->dst_addr)
			err = json_buf__append_str(b, " -> ") ?: put_endpoint(b, f->dst_addr, f->dst_port);
	}
	if (!err && f->result)
		err = json_buf__appendf(b, " result=%d", f->result) ?: put_kv(b, "error", f->error);
	if (!err && f->kind == FIRSTLIGHT__V1__FLOW__KIND__CLOSE)
		err = json_buf__appendf(b, " sent=%" PRIu64 " received=%" PRIu64, f->bytes_sent, f->bytes_received);
	if (!err && f->kind == FIRSTLIGHT__V1__FLOW__KIND__UDP)
		err = json_buf__appendf(b, " datagrams=%" PRIu64 " bytes=%" PRIu64, f->datagrams, f->bytes_sent);
	return err ?: json_buf__appendf(b, "%s%s", f->inbound ? " inbound" : "",
					!f->start_seen && !f->pre_existing ? " start-not-seen" : "");
}

/* A list of names joined by commas, "-" when empty; each name escaped like any string. */
static int put_names(struct json_buf *b, const char *key, char **names, size_t n)
{
	int err = json_buf__appendf(b, " %s=", key);

	if (!err && !n)
		err = json_buf__append_str(b, "-");
	for (size_t i = 0; !err && i < n; i++)
		err = (i ? json_buf__append_str(b, ",") : 0) ?: put_str(b, names[i]);
	return err;
}

static int put_workload(struct json_buf *b, const Firstlight__V1__Workload *w)
{
	int err = json_buf__appendf(b, " workload %s",
				    enum_name(&firstlight__v1__workload__state__descriptor, w->state)) ?:
		  put_kv(b, "key", w->key) ?:
		  json_buf__appendf(b, " kind=%s", enum_name(&firstlight__v1__workload__kind__descriptor, w->kind)) ?:
		  put_kv(b, "runtime", w->runtime) ?: put_kv(b, "container", w->container_id) ?:
		  put_kv(b, "name", w->container_name) ?: put_kv(b, "pod_namespace", w->pod_namespace) ?:
		  put_kv(b, "pod", w->pod_name) ?: put_kv(b, "image", w->image) ?:
		  put_kv(b, "path", w->cgroup_path) ?: put_kv(b, "claimed", w->claimed_container_id);

	if (!err && (w->container_id && *w->container_id))
		err = json_buf__append_str(b, w->identity_verified ? " verified" : " unverified");
	if (!err && w->state == FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED)
		err = json_buf__appendf(b, " processes=%u execs=%u drops=%" PRIu64 " gaps=%u%s", w->process_count,
					w->exec_count, w->drops, w->gap_count, w->unattributed ? " unattributed" : "");
	if (!err && w->n_unobserved)
		err = put_names(b, "unobserved", w->unobserved, w->n_unobserved);
	return err;
}

static int put_gap(struct json_buf *b, const Firstlight__V1__Gap *g)
{
	int err = json_buf__appendf(b, " gap kind=%s count=%" PRIu64,
				    enum_name(&firstlight__v1__gap__kind__descriptor, g->kind), g->count) ?:
		  put_kv(b, "event", g->event_type) ?: put_kv(b, "workload", g->workload_key);

	if (!err && g->first_seq)
		err = json_buf__appendf(b, " seq=%" PRIu64 "-%" PRIu64, g->first_seq, g->last_seq);
	if (!err && g->start_time_unix_nano)
		err = json_buf__append_str(b, " window=") ?: timefmt__clock(b, g->start_time_unix_nano) ?:
		      json_buf__append_str(b, "-") ?: timefmt__clock(b, g->end_time_unix_nano);
	return err ?: put_kv(b, "reason", g->reason) ?: put_kv(b, "detail", g->detail);
}

static int put_heartbeat(struct json_buf *b, const Firstlight__V1__Heartbeat *h)
{
	return json_buf__appendf(b, " heartbeat records=%" PRIu64 " drops=%" PRIu64 " processes=%" PRIu64
				 " workloads=%" PRIu64 " ring=%.1f%% backlog=%" PRIu64 " lost=%" PRIu64,
				 h->records, h->drops, h->live_processes, h->live_workloads,
				 h->ring_fill_ratio * 100, h->sink_backlog, h->sink_lost);
}

static int put_node_capabilities(struct json_buf *b, const Firstlight__V1__NodeCapabilities *c)
{
	return json_buf__append_str(b, " capabilities") ?: put_kv(b, "kernel", c->kernel_release) ?:
	       put_kv(b, "machine", c->machine) ?: put_names(b, "missing", c->missing, c->n_missing) ?:
	       put_names(b, "available", c->available, c->n_available);
}

static int put_privilege(struct json_buf *b, const Firstlight__V1__Privilege *p)
{
	const Firstlight__V1__Privilege__Creds *o = p->old_creds, *n = p->new_creds;
	int err = json_buf__append_str(b, " privilege ") ?: put_str(b, p->syscall ? p->syscall : "?") ?:
		  json_buf__appendf(b, " pid=%u", p->pid) ?:
		  put_kv(b, "exec_id", p->exec_id) ?: put_kv(b, "workload", p->workload_key) ?:
		  json_buf__appendf(b, " result=%" PRId64, p->result) ?:
		  (p->error && *p->error ? put_kv(b, "error", p->error) : 0);

	if (!err && o && n)
		err = json_buf__appendf(b, " uid=%u/%u/%u->%u/%u/%u gid=%u/%u/%u->%u/%u/%u"
					 " cap_eff=%" PRIx64 "->%" PRIx64 " groups=%u->%u",
					 o->uid, o->euid, o->suid, n->uid, n->euid, n->suid, o->gid,
					 o->egid, o->sgid, n->gid, n->egid, n->sgid, o->cap_effective,
					 n->cap_effective, o->groups_count, n->groups_count);
	return err ?: json_buf__append_str(b, p->gained ? " GAINED" : p->changed ? " changed" : " unchanged");
}

static int put_file_access(struct json_buf *b, const Firstlight__V1__FileAccess *f)
{
	return json_buf__appendf(b, " file-access %s pid=%u",
				 enum_name(&firstlight__v1__file_access__mode__descriptor, f->mode), f->pid) ?:
	       put_kv(b, "exec_id", f->exec_id) ?: put_kv(b, "workload", f->workload_key) ?:
	       put_kv(b, "path", f->path) ?:
	       put_kv(b, "host_path", f->host_path) ?:
	       put_kv(b, "watch", f->watch) ?:
	       json_buf__appendf(b, " count=%" PRIu64 " over=%.3fms%s", f->count, f->duration_nano / 1e6,
				 f->path_unresolved ? " unresolved" : "");
}

static int put_body(struct json_buf *b, const Event *ev)
{
	switch (ev->body_case) {
	case FIRSTLIGHT__V1__EVENT__BODY_EXEC:
		return json_buf__append_str(b, " exec") ?: put_process(b, ev->exec->process, 1);
	case FIRSTLIGHT__V1__EVENT__BODY_FORK:
		return json_buf__append_str(b, " fork") ?: put_process(b, ev->fork->process, 0);
	case FIRSTLIGHT__V1__EVENT__BODY_EXIT: {
		const Firstlight__V1__ProcessExit *x = ev->exit;

		return json_buf__appendf(b, " exit pid=%u", x->pid) ?: put_kv(b, "exec_id", x->exec_id) ?:
		       json_buf__appendf(b, " code=%d signal=%u%s lifetime=%.3fms%s", x->exit_code, x->signal,
					 x->core_dumped ? " core-dumped" : "", x->duration_nano / 1e6,
					 x->start_seen || x->pre_existing ? "" : " start-not-seen");
	}
	case FIRSTLIGHT__V1__EVENT__BODY_FLOW:
		return put_flow(b, ev->flow);
	case FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD:
		return put_workload(b, ev->workload);
	case FIRSTLIGHT__V1__EVENT__BODY_GAP:
		return put_gap(b, ev->gap);
	case FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT:
		return put_heartbeat(b, ev->heartbeat);
	case FIRSTLIGHT__V1__EVENT__BODY_AGENT: {
		const Firstlight__V1__AgentLifecycle *a = ev->agent;
		int err = json_buf__appendf(b, " agent %s",
					    enum_name(&firstlight__v1__agent_lifecycle__state__descriptor, a->state)) ?:
			  put_kv(b, "version", a->version) ?: put_kv(b, "run", ev->agent_run_id) ?:
			  put_kv(b, "node", ev->node);

		if (!err && a->state == FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED)
			err = json_buf__appendf(b, " records=%" PRIu64 " drops=%" PRIu64, a->records, a->drops);
		return err;
	}
	case FIRSTLIGHT__V1__EVENT__BODY_SEGMENT_REMOVED: {
		const Firstlight__V1__SegmentRemoved *s = ev->segment_removed;

		return json_buf__appendf(b, " segment-removed seq=%" PRIu64 "-%" PRIu64, s->first_seq, s->last_seq) ?:
		       put_kv(b, "run", s->agent_run_id) ?: put_kv(b, "file", s->file) ?:
		       put_kv(b, "reason", s->reason);
	}
	case FIRSTLIGHT__V1__EVENT__BODY_NODE_KEY: {
		const Firstlight__V1__NodeKey *k = ev->node_key;
		int err = json_buf__append_str(b, " node-key") ?: put_kv(b, "node", k->node) ?:
			  put_kv(b, "source", k->source) ?: put_kv(b, "segment", k->segment) ?:
			  json_buf__append_str(b, " key=");

		for (size_t i = 0; !err && i < k->public_key.len; i++)
			err = json_buf__appendf(b, "%02x", k->public_key.data[i]);
		return err;
	}
	case FIRSTLIGHT__V1__EVENT__BODY_NODE_CAPABILITIES:
		return put_node_capabilities(b, ev->node_capabilities);
	case FIRSTLIGHT__V1__EVENT__BODY_PRIVILEGE:
		return put_privilege(b, ev->privilege);
	case FIRSTLIGHT__V1__EVENT__BODY_FILE_ACCESS:
		return put_file_access(b, ev->file_access);
	default:
		return json_buf__appendf(b, " record of an unknown kind (body %d): read --json shows its fields",
					 (int)ev->body_case);
	}
}

int recordtext__append(struct json_buf *out, const Event *ev)
{
	size_t len = out->len;
	int err = json_buf__appendf(out, "%" PRIu64 " ", ev->seq) ?: timefmt__rfc3339(out, ev->time_unix_nano, 9) ?:
		  (ev->snapshot ? json_buf__append_str(out, " snapshot") : 0) ?: put_body(out, ev);

	if (err) {
		out->len = len;
		if (out->data)
			out->data[len] = 0;
	}
	return err;
}
