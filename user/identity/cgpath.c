/*
 * cgroup2 path classification. A path is walked once, component by component, without
 * copying it: the only state kept is the last two components, a few flags about the
 * ancestors, and where the walk stands in a Kubernetes hierarchy. Names come from
 * whatever made the directory, so every match is exact (fixed prefix, exact id length,
 * fixed suffix) and nothing is copied out unless it validated.
 *
 * Decisions where the conventions leave room:
 * - Inside a kubepods hierarchy only the shapes the kubelet and the CRI runtimes make are
 *   recognised (QoS dir, pod dir, container dir one level below the pod, and the
 *   "container" sub-cgroup of a runtime scope); anything else there is UNKNOWN with
 *   kubernetes=1, never a systemd SERVICE.
 * - Pod uids are UUIDs (8-4-4-4-12) or 32 hex digits: static pods' uids are an md5 in hex
 *   (kubelet config/common.go), and their cgroups are named after that.
 * - Ids are accepted in lowercase only: the runtimes and the kubelet write them so, and a
 *   mixed-case "id" would make two spellings of one container.
 * - Units under a user-<uid>.slice (the user's session scopes, user@<uid>.service and
 *   everything its manager starts) are SESSION: they run for a logged-in user. Other
 *   services and scopes, /init.scope (the system manager itself) included, are SERVICE.
 * - A bare /<ns>/<64 hex> is taken as containerd's cgroupfs layout only for the
 *   namespaces containerd is commonly run with ("default", "k8s.io", "moby"); any other
 *   parent is a plain directory.
 */
#include <string.h>

#include "identity/cgpath.h"

struct span {
	const char *p;
	size_t n;
};

static int span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* If s starts with lit, drops it from s and returns 1. */
static int eat_prefix(struct span *s, const char *lit)
{
	size_t n = strlen(lit);

	if (s->n < n || memcmp(s->p, lit, n) != 0)
		return 0;
	s->p += n;
	s->n -= n;
	return 1;
}

/* Same with a span as the prefix (a name built from an earlier component). */
static int eat_span(struct span *s, struct span pre)
{
	if (s->n < pre.n || memcmp(s->p, pre.p, pre.n) != 0)
		return 0;
	s->p += pre.n;
	s->n -= pre.n;
	return 1;
}

/* If s ends with lit, drops it from s and returns 1. */
static int eat_suffix(struct span *s, const char *lit)
{
	size_t n = strlen(lit);

	if (s->n < n || memcmp(s->p + s->n - n, lit, n) != 0)
		return 0;
	s->n -= n;
	return 1;
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int all_lower_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_lower_hex(p[i]))
			return 0;
	return 1;
}

/* A container id as the runtimes write it: exactly 64 lowercase hex digits. */
static int is_id(struct span s)
{
	return s.n == CGPATH_ID_MAX - 1 && all_lower_hex(s.p, s.n);
}

/*
 * Pod uid with sep between the UUID groups ('-' in cgroupfs names, '_' in systemd names,
 * where '-' means nesting), or 32 hex digits (static pods). Written dashed into out.
 */
static int parse_uid(struct span s, char sep, char out[CGPATH_UID_MAX])
{
	static const size_t dash_at[] = { 8, 13, 18, 23 };
	size_t d = 0;

	if (s.n == 32) {
		if (!all_lower_hex(s.p, s.n))
			return 0;
		memcpy(out, s.p, s.n);
		out[s.n] = '\0';
		return 1;
	}
	if (s.n != CGPATH_UID_MAX - 1)
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		if (d < 4 && i == dash_at[d]) {
			if (s.p[i] != sep)
				return 0;
			d++;
		} else if (!is_lower_hex(s.p[i])) {
			return 0;
		}
	}
	for (size_t i = 0; i < s.n; i++)
		out[i] = s.p[i] == sep ? '-' : s.p[i];
	out[s.n] = '\0';
	return 1;
}

/* systemd's unit name alphabet (unit-name.c) and length limit, with a suffix we know. */
static int is_unit_name(struct span s, const char **suffix)
{
	static const char *const suffixes[] = { ".service", ".scope", ".slice", ".socket",
						".mount", ".swap" };
	struct span stem = s;

	if (s.n == 0 || s.n > CGPATH_NAME_MAX - 1)
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == ':' || c == '-' || c == '_' || c == '.' || c == '\\' || c == '@'))
			return 0;
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		stem = s;
		if (eat_suffix(&stem, suffixes[i]) && stem.n > 0) {
			*suffix = suffixes[i];
			return 1;
		}
	}
	return 0;
}

/* unit gets s only when it is a unit name: short enough and printable ASCII by the
 * alphabet check, so a consumer can print it without escaping. */
static void copy_unit(struct cgpath_info *out, struct span s)
{
	const char *suffix;

	if (!is_unit_name(s, &suffix))
		return;
	memcpy(out->unit, s.p, s.n);
	out->unit[s.n] = '\0';
}

struct match {
	enum cgpath_kind kind;
	const char *runtime;
	struct span id;
};

/* Scopes the runtimes ask systemd for: <prefix><64 hex>.scope. The conmon prefixes come
 * before their container prefixes only for clarity: an id is all hex, so "crio-" can
 * never match "crio-conmon-...". */
static const struct {
	const char *prefix;
	const char *runtime;
	enum cgpath_kind kind;
} scopes[] = {
	{ "cri-containerd-", "containerd", CGPATH_CONTAINER },
	{ "crio-conmon-", "cri-o", CGPATH_CONMON },
	{ "crio-", "cri-o", CGPATH_CONTAINER },
	{ "docker-", "docker", CGPATH_CONTAINER },
	{ "libpod-conmon-", "podman", CGPATH_CONMON },
	{ "libpod-", "podman", CGPATH_CONTAINER },
	{ "nerdctl-", "containerd", CGPATH_CONTAINER }, /* "system.slice:nerdctl:<id>" */
};

static int match_scope(struct span s, struct match *m)
{
	if (!eat_suffix(&s, ".scope"))
		return 0;
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		struct span id = s;

		if (eat_prefix(&id, scopes[i].prefix) && is_id(id)) {
			m->kind = scopes[i].kind;
			m->runtime = scopes[i].runtime;
			m->id = id;
			return 1;
		}
	}
	return 0;
}

/* The directory one level below a Kubernetes pod: a runtime scope (systemd driver), or
 * with the cgroupfs driver the bare id (containerd, dockershim: the runtime is not
 * named) or CRI-O's crio-<id> and crio-conmon-<id>. */
static int match_pod_child(struct span s, struct match *m)
{
	struct span id = s;

	if (match_scope(s, m))
		return 1;
	if (is_id(s)) {
		m->kind = CGPATH_CONTAINER;
		m->runtime = "kubernetes";
		m->id = s;
		return 1;
	}
	if (eat_prefix(&id, "crio-conmon-") && is_id(id)) {
		m->kind = CGPATH_CONMON;
		m->runtime = "cri-o";
		m->id = id;
		return 1;
	}
	id = s;
	if (eat_prefix(&id, "crio-") && is_id(id)) {
		m->kind = CGPATH_CONTAINER;
		m->runtime = "cri-o";
		m->id = id;
		return 1;
	}
	return 0;
}

/* Where the walk stands in a kubepods hierarchy. */
enum kstate {
	K_NONE,  /* not under kubepods */
	K_TOP,   /* at the kubepods directory itself */
	K_QOS,   /* at burstable / besteffort */
	K_POD,   /* at a pod directory */
	K_CTR,   /* one level below a pod: a container, if its name says so */
	K_OTHER, /* anywhere else under kubepods */
};

struct walk {
	struct span leaf, parent;
	size_t depth;
	int user_slice;    /* a user-<uid>.slice on the path */
	int libpod_parent; /* podman's cgroupfs parent on the path */
	enum kstate k, k_parent;
	int k_systemd;     /* systemd driver: names are <base>-...slice */
	struct span k_base; /* "kubepods", or e.g. "kubelet-kubepods" under kind */
	const char *qos;
	char pod_uid[CGPATH_UID_MAX];
	int leaf_is_container; /* the leaf has a container's (or conmon's) shape */
	int in_container;      /* an ancestor has: names below it are the payload's */
};

static int is_user_slice(struct span s)
{
	if (!eat_prefix(&s, "user-") || !eat_suffix(&s, ".slice") || s.n == 0 || s.n > 10)
		return 0;
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return 0;
	return 1;
}

/*
 * The root of a kubepods hierarchy: "kubepods" (cgroupfs driver) or a slice whose own
 * name, the part after its parents' names, is "kubepods": "kubepods.slice", and
 * "kubelet-kubepods.slice" when the kubelet runs with a cgroup root of its own (kind).
 */
static int kube_anchor(struct walk *w, struct span c)
{
	struct span name = c;

	if (span_eq(c, "kubepods")) {
		w->k_systemd = 0;
		return 1;
	}
	if (!eat_suffix(&name, ".slice"))
		return 0;
	if (span_eq(name, "kubepods") ||
	    (name.n > 9 && memcmp(name.p + name.n - 9, "-kubepods", 9) == 0)) {
		w->k_systemd = 1;
		w->k_base = name;
		return 1;
	}
	return 0;
}

/* A QoS directory below the kubepods root: "burstable" or "<base>-burstable.slice". */
static const char *kube_qos(const struct walk *w, struct span c)
{
	static const char *const qos[] = { "burstable", "besteffort" };

	for (size_t i = 0; i < 2; i++) {
		struct span s = c;

		if (!w->k_systemd) {
			if (span_eq(s, qos[i]))
				return qos[i];
		} else if (eat_span(&s, w->k_base) && eat_prefix(&s, "-") &&
			   eat_prefix(&s, qos[i]) && span_eq(s, ".slice")) {
			return qos[i];
		}
	}
	return NULL;
}

/* A pod directory: "pod<uid>", or "<base>[-<qos>]-pod<uid_with_underscores>.slice". */
static int kube_pod(struct walk *w, struct span c)
{
	struct span s = c;

	if (!w->k_systemd)
		return eat_prefix(&s, "pod") && parse_uid(s, '-', w->pod_uid);
	if (!eat_span(&s, w->k_base) || !eat_prefix(&s, "-"))
		return 0;
	if (w->qos && (!eat_prefix(&s, w->qos) || !eat_prefix(&s, "-")))
		return 0;
	return eat_prefix(&s, "pod") && eat_suffix(&s, ".slice") && parse_uid(s, '_', w->pod_uid);
}

static void kube_step(struct walk *w, struct span c)
{
	const char *qos;

	w->k_parent = w->k;
	/* A kubepods root restarts the hierarchy: with nested clusters (kind in a pod) the
	 * innermost one is the one the leaf belongs to. */
	if (kube_anchor(w, c)) {
		w->k = K_TOP;
		w->qos = NULL;
		w->pod_uid[0] = '\0';
		return;
	}
	switch (w->k) {
	case K_NONE:
		break;
	case K_TOP:
		if ((qos = kube_qos(w, c))) {
			w->qos = qos;
			w->k = K_QOS;
		} else if (kube_pod(w, c)) {
			w->qos = "guaranteed";
			w->k = K_POD;
		} else {
			w->k = K_OTHER;
		}
		break;
	case K_QOS:
		w->k = kube_pod(w, c) ? K_POD : K_OTHER;
		break;
	case K_POD:
		w->k = K_CTR;
		break;
	case K_CTR:
	case K_OTHER:
		w->k = K_OTHER;
		break;
	}
}

static int is_containerd_ns(struct span s)
{
	return span_eq(s, "default") || span_eq(s, "k8s.io") || span_eq(s, "moby");
}

/* Whether the leaf, where it stands, is a container or a conmon; m says which. */
static int match_leaf(const struct walk *w, struct match *m)
{
	struct span id = w->leaf;

	switch (w->k) {
	case K_CTR:
		return match_pod_child(w->leaf, m);
	case K_OTHER:
		/* The runtime's own sub-cgroup for the payload ("run.oci.systemd.subgroup") */
		return w->k_parent == K_CTR && span_eq(w->leaf, "container") &&
		       match_pod_child(w->parent, m) && m->kind == CGPATH_CONTAINER;
	case K_TOP:
	case K_QOS:
	case K_POD:
		return 0;
	case K_NONE:
		break;
	}
	if (match_scope(w->leaf, m))
		return 1;
	/* podman's nested "container" cgroup inside the container's scope */
	if (w->depth >= 2 && span_eq(w->leaf, "container") && match_scope(w->parent, m) &&
	    m->kind == CGPATH_CONTAINER)
		return 1;
	if (w->depth >= 2 && is_id(w->leaf) &&
	    (span_eq(w->parent, "docker") || is_containerd_ns(w->parent))) {
		m->kind = CGPATH_CONTAINER;
		m->runtime = span_eq(w->parent, "docker") ? "docker" : "containerd";
		m->id = w->leaf;
		return 1;
	}
	if (w->libpod_parent && eat_prefix(&id, "libpod-") && is_id(id)) {
		m->kind = CGPATH_CONTAINER;
		m->runtime = "podman";
		m->id = id;
		return 1;
	}
	return 0;
}

static void step(struct walk *w, struct span c)
{
	struct match m;

	w->in_container |= w->leaf_is_container;
	w->parent = w->leaf;
	w->leaf = c;
	w->depth++;
	if (is_user_slice(c))
		w->user_slice = 1;
	if (span_eq(c, "libpod_parent"))
		w->libpod_parent = 1;
	kube_step(w, c);
	w->leaf_is_container = match_leaf(w, &m);
}

/* systemd's own units, for a leaf that is not below a container: there the names are
 * whatever the payload (a systemd in the container, say) chose. */
static void classify_unit(const struct walk *w, struct cgpath_info *out)
{
	const char *suffix;
	struct span s = w->leaf;

	if (w->in_container || !is_unit_name(w->leaf, &suffix))
		return;
	out->runtime = "systemd";
	copy_unit(out, w->leaf);
	if (strcmp(suffix, ".slice") == 0)
		out->kind = CGPATH_SLICE;
	else if (w->user_slice)
		out->kind = CGPATH_SESSION;
	else if (strcmp(suffix, ".scope") == 0 && eat_prefix(&s, "session-"))
		out->kind = CGPATH_SESSION;
	else
		out->kind = CGPATH_SERVICE;
}

static void classify(const struct walk *w, struct cgpath_info *out)
{
	struct match m;

	if (w->k != K_NONE) {
		out->kubernetes = 1;
		out->qos = w->qos;
		memcpy(out->pod_uid, w->pod_uid, sizeof(out->pod_uid));
	}
	if (match_leaf(w, &m)) {
		out->kind = m.kind;
		out->runtime = m.runtime;
		memcpy(out->container_id, m.id.p, m.id.n);
		out->container_id[m.id.n] = '\0';
		/* the unit of the "container" sub-cgroup is its parent scope */
		copy_unit(out, span_eq(w->leaf, "container") ? w->parent : w->leaf);
		return;
	}
	switch (w->k) {
	case K_TOP:
	case K_QOS:
	case K_POD:
		out->kind = CGPATH_SLICE;
		out->runtime = "kubernetes";
		copy_unit(out, w->leaf);
		return;
	case K_CTR:
	case K_OTHER:
		return; /* under kubepods only the kubelet's and runtimes' shapes count */
	case K_NONE:
		classify_unit(w, out);
		return;
	}
}

void cgpath__classify(const char *path, struct cgpath_info *out)
{
	struct walk w;
	const char *p = path;

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	out->kind = CGPATH_UNKNOWN;
	if (!path)
		return;
	memset(&w, 0, sizeof(w));
	while (*p) {
		const char *end;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		step(&w, (struct span){ p, (size_t)(end - p) });
		p = end;
	}
	if (w.depth == 0) {
		if (path[0] == '/')
			out->kind = CGPATH_ROOT;
		return;
	}
	classify(&w, out);
}

const char *cgpath__kind_name(enum cgpath_kind kind)
{
	switch (kind) {
	case CGPATH_UNKNOWN:
		return "unknown";
	case CGPATH_ROOT:
		return "root";
	case CGPATH_SERVICE:
		return "service";
	case CGPATH_SESSION:
		return "session";
	case CGPATH_SLICE:
		return "slice";
	case CGPATH_CONTAINER:
		return "container";
	case CGPATH_CONMON:
		return "conmon";
	}
	return "unknown";
}

/* Whether the component s (n bytes) names id: "<id>" or "<prefix>-<id>.scope". */
static int component_names(const char *s, size_t n, const char *id)
{
	size_t k = strlen(id);

	if (n == k)
		return !memcmp(s, id, k);
	return n > k + 7 && !memcmp(s + n - 6, ".scope", 6) && !memcmp(s + n - 6 - k, id, k) &&
	       s[n - 7 - k] == '-';
}

int cgpath__names_container(const char *path, const char *id)
{
	const char *leaf, *parent;
	size_t n;

	if (!path || !id || !*id)
		return 0;
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	leaf = path + n;
	while (leaf > path && leaf[-1] != '/')
		leaf--;
	if (component_names(leaf, (size_t)(path + n - leaf), id))
		return 1;
	if ((size_t)(path + n - leaf) != 9 || memcmp(leaf, "container", 9) || leaf == path)
		return 0;
	parent = leaf - 1; /* the '/' before the leaf */
	n = (size_t)(parent - path);
	while (parent > path && parent[-1] != '/')
		parent--;
	return component_names(parent, (size_t)(path + n - parent), id);
}

int cgpath__valid_runtime_id(const char *s)
{
	size_t n;

	if (!s || s[0] == '\0' || s[0] == '.')
		return 0;
	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (n >= 128)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '+' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}
