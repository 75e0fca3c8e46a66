/* The workloads table and JSON lines; see wlfmt.h. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "base/json.h"
#include "base/textesc.h"
#include "base/texttable.h"
#include "base/timefmt.h"
#include "readers/wlfmt.h"

/* NODE first, shown only when the rows are of several nodes (a collected store). */
enum { C_NODE, C_KEY, C_KIND, C_CONTAINER, C_NAME, C_POD, C_IMAGE, C_OWNER, C_FIRST, C_LAST,
       C_PROCS, C_GAPS, N_COLS };

static const char *const col_names[N_COLS] = {
	"NODE", "KEY", "KIND", "CONTAINER", "NAME", "POD", "IMAGE", "OWNER", "FIRST SEEN",
	"LAST SEEN", "PROCESSES", "GAPS",
};

const char *wlfmt__kind_name(int kind)
{
	const ProtobufCEnumValue *v;

	if (kind == FIRSTLIGHT__V1__WORKLOAD__KIND__KIND_UNSPECIFIED)
		return "-";
	v = protobuf_c_enum_descriptor_get_value(&firstlight__v1__workload__kind__descriptor, kind);
	return v ? v->name : "-";
}

/* Untrusted text for a terminal, cut at max characters; "-" when empty. */
static int cell_text(struct json_buf *b, const char *s, size_t max)
{
	if (!*s)
		return json_buf__append_str(b, "-");
	return textesc__append(b, s, strlen(s), max, 0) < 0 ? -ENOMEM : 0;
}

static int add_row(struct texttable *t, const struct wl_row *w, int with_node)
{
	int err = 0;

	for (int col = with_node ? 0 : 1; col < N_COLS && !err; col++) {
		struct json_buf *b = texttable__cell_begin(t);

		switch (col) {
		case C_NODE: err = cell_text(b, w->node, WLFMT_CELL_MAX); break;
		case C_KEY: err = cell_text(b, w->key, WLFMT_CELL_MAX); break;
		case C_KIND: err = json_buf__append_str(b, wlfmt__kind_name(w->kind)); break;
		case C_CONTAINER:
			/* Cut without "...": the first characters are an id prefix tree takes. */
			if (!*w->container_id)
				err = json_buf__append_str(b, "-");
			else
				err = textesc__append(b, w->container_id, strnlen(w->container_id, WLFMT_ID_CHARS),
						      0, 0) < 0 ? -ENOMEM : 0;
			break;
		case C_NAME: err = cell_text(b, w->container_name, WLFMT_CELL_MAX); break;
		case C_POD:
			if (*w->pod_name && *w->pod_namespace) {
				err = cell_text(b, w->pod_namespace, WLFMT_CELL_MAX) ?: json_buf__append_str(b, "/") ?:
				      cell_text(b, w->pod_name, WLFMT_CELL_MAX);
			} else {
				err = cell_text(b, w->pod_name, WLFMT_CELL_MAX);
			}
			break;
		case C_IMAGE: err = cell_text(b, w->image, WLFMT_CELL_MAX); break;
		case C_OWNER: err = cell_text(b, w->owner, WLFMT_CELL_MAX); break;
		case C_FIRST:
			err = w->first_ns ? timefmt__rfc3339(b, w->first_ns, 3) : json_buf__append_str(b, "-");
			break;
		case C_LAST:
			err = w->last_ns ? timefmt__rfc3339(b, w->last_ns, 3) : json_buf__append_str(b, "-");
			break;
		case C_PROCS: err = json_buf__appendf(b, "%" PRIu64, w->processes); break;
		case C_GAPS: err = json_buf__appendf(b, "%" PRIu64, w->gaps); break;
		}
		err = err < 0 ? err : texttable__cell_end(t);
	}
	return err;
}

int wlfmt__text(struct json_buf *out, const struct wl_row *const *rows, size_t n)
{
	int err = 0, with_node = 0, skip;
	struct texttable t;

	for (size_t i = 1; i < n && !with_node; i++)
		with_node = strcmp(rows[i]->node, rows[0]->node) != 0;
	skip = !with_node;
	texttable__init(&t, col_names + skip, N_COLS - skip,
			(1u << C_PROCS | 1u << C_GAPS) >> skip);
	for (size_t i = 0; i < n && !err; i++)
		err = add_row(&t, rows[i], with_node);
	err = err ?: texttable__render(&t, out);
	texttable__fini(&t);
	return err;
}

static int put_key(struct json_buf *b, const char *key, int first)
{
	return json_buf__appendf(b, "%s\"%s\":", first ? "{" : ",", key);
}

static int put_str(struct json_buf *b, const char *key, const char *s)
{
	return put_key(b, key, 0) ?: (*s ? json__append_string_lossless(b, s) : json_buf__append_str(b, "null"));
}

static int put_u64(struct json_buf *b, const char *key, uint64_t v, int set)
{
	return put_key(b, key, 0) ?: (set ? json_buf__appendf(b, "\"%" PRIu64 "\"", v) : json_buf__append_str(b, "null"));
}

static int put_time(struct json_buf *b, const char *key, uint64_t ns)
{
	int err = put_key(b, key, 0);

	if (err || !ns)
		return err ?: json_buf__append_str(b, "null");
	return json_buf__append_str(b, "\"") ?: timefmt__rfc3339(b, ns, 9) ?: json_buf__append_str(b, "\"");
}

int wlfmt__json(struct json_buf *out, const struct wl_row *w)
{
	size_t len = out->len;
	int err;

	err = put_key(out, "node", 1) ?: json__append_string_lossless(out, w->node);
	err = err ?: put_key(out, "key", 0) ?: json__append_string_lossless(out, w->key);
	err = err ?: put_key(out, "kind", 0) ?:
	      (w->kind ? json__append_string(out, wlfmt__kind_name(w->kind)) : json_buf__append_str(out, "null"));
	err = err ?: put_u64(out, "cgroupId", w->cgroup_id, w->cgroup_id != 0);
	err = err ?: put_str(out, "cgroupPath", w->cgroup_path);
	err = err ?: put_str(out, "runtime", w->runtime);
	err = err ?: put_str(out, "containerId", w->container_id);
	err = err ?: put_str(out, "containerName", w->container_name);
	err = err ?: put_str(out, "podName", w->pod_name);
	err = err ?: put_str(out, "podNamespace", w->pod_namespace);
	err = err ?: put_str(out, "podUid", w->pod_uid);
	err = err ?: put_str(out, "image", w->image);
	err = err ?: put_str(out, "owner", w->owner);
	err = err ?: put_key(out, "identityVerified", 0) ?:
	      json_buf__append_str(out, !w->has_record ? "null" : w->identity_verified ? "true" : "false");
	err = err ?: put_time(out, "firstSeen", w->first_ns);
	err = err ?: put_time(out, "lastSeen", w->last_ns);
	err = err ?: put_u64(out, "firstSeenUnixNano", w->first_ns, w->first_ns != 0);
	err = err ?: put_u64(out, "lastSeenUnixNano", w->last_ns, w->last_ns != 0);
	err = err ?: put_key(out, "ended", 0) ?: json_buf__append_str(out, w->ended ? "true" : "false");
	err = err ?: put_u64(out, "processes", w->processes, 1);
	err = err ?: put_u64(out, "gaps", w->gaps, 1);
	err = err ?: json_buf__append_str(out, "}\n");
	if (err)
		out->len = len;
	return err;
}
