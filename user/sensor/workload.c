/*
 * Workload identity; see workload.h for the contract and proto Workload for the record.
 *
 * Trust: a cgroup's path is chosen by whoever makes the cgroup, so it proves nothing.
 * The kernel tells us who made it (the actor of the mkdir): an OCI runtime (runc,
 * crun, ...) or a container manager (systemd, containerd, ...) running as root in the
 * host's mount namespace is trusted to name its containers; anything else only
 * "claims" what its path says, and the claim is recorded as such, never as identity.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity/cgpath.h"
#include "identity/owners.h"
#include "base/clock.h"
#include "records/exec_id.h"
#include "records/gaps.h"
#include "base/log.h"
#include "identity/runtime_argv.h"
#include "base/utf8.h"
#include "sensor/workload.h"
#include "records/wlkey.h"
#include "base/kvtable.h"
#include "base/ptrvec.h"

typedef Firstlight__V1__Workload WorkloadMsg;

#define WL_END_GRACE_NS (2ull * 1000000000) /* wait this long for a resolution at the end */
#define V1_TAG (1ull << 61)                  /* v1 path entries share the table */

enum {
	WL_EMITTED = 1 << 0,    /* STARTED written */
	WL_RESOLVING = 1 << 1,  /* a resolver request is out */
	WL_END_PENDING = 1 << 2,
	WL_VERIFIED = 1 << 3,
	WL_DORMANT = 1 << 4,    /* known from the scan; no record until a process shows up */
	WL_PRE_EXISTING = 1 << 5,
};

struct workload {
	uint64_t id;           /* cgroup id, sandbox key, or V1_TAG | v1 cgroup id */
	uint32_t flags;
	int kind;              /* FIRSTLIGHT__V1__WORKLOAD__KIND__* */
	char key[WLKEY_MAX];
	const char *runtime;   /* static */
	const char *source;    /* static */
	char *path, *v1_path, *bundle, *unit, *qos;
	char *container_id, *claimed_id, *pod_uid, *pod_name, *pod_namespace;
	char *container_name, *image, *container_type, *sandbox_id;
	char *annotation_pod_uid; /* the bundle's pod uid where it disagrees with the path's */
	char detail[320];
	struct fl_exec_id creator;
	uint64_t cgroup_id, parent_id, v1_id;
	uint64_t first_seen, last_seen; /* unix ns */
	uint32_t procs, execs, live;
	struct fl_namespaces ns;
	uint64_t end_deadline; /* mono ns */
	uint64_t end_boot_ns;
	uint64_t born_boot_ns;  /* its cgroup's mkdir, when we saw it */
	uint64_t first_event_latency;
	uint64_t drops;
	uint32_t args_truncated, gap_count;
	char *first_binary;     /* the first program executed in it (owners: binary, uid) */
	uint32_t first_uid;
	uint64_t privilege_changes; /* privilege records of its processes */
	uint64_t file_accesses;     /* opens of watched paths by its processes */
	uint64_t sockets[FL_SOCK_KINDS]; /* sockets of kinds not recorded, by FL_SOCK_* */
};

struct workloads {
	struct workloads_opts o;
	struct kvtable *table;  /* id -> struct workload * (owned) */
	struct ptrvec due;      /* reused by workloads__tick */
	size_t ends_pending;    /* workloads with WL_END_PENDING: the tick scans only then */
	struct workload_stats stats;
	const struct owners *owners; /* not owned; NULL: no owners file */
	int fail_unowned;
};

/* ---- table ---------------------------------------------------------------------------- */

static struct workload *get(struct workloads *w, uint64_t id)
{
	struct workload **pp = kvtable__get(w->table, &id);

	return pp ? *pp : NULL;
}

static struct workload *add(struct workloads *w, uint64_t id)
{
	struct workload *wl = calloc(1, sizeof(*wl)), **pp;
	int created;

	if (!wl)
		return NULL;
	pp = kvtable__put(w->table, &id, &created);
	if (!pp) {
		free(wl);
		return NULL;
	}
	wl->id = id;
	*pp = wl;
	return wl;
}

static void wl_free(struct workload *wl)
{
	char **strs[] = { &wl->path, &wl->v1_path, &wl->bundle, &wl->unit, &wl->qos,
			  &wl->container_id, &wl->claimed_id, &wl->pod_uid, &wl->pod_name,
			  &wl->pod_namespace, &wl->container_name, &wl->image, &wl->container_type,
			  &wl->sandbox_id, &wl->annotation_pod_uid, &wl->first_binary };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	free(wl);
}

static void del(struct workloads *w, struct workload *victim)
{
	if (victim->flags & WL_END_PENDING)
		w->ends_pending--;
	kvtable__remove(w->table, &victim->id);
	wl_free(victim);
}

struct collect {
	struct ptrvec *out;
	uint64_t now_mono_ns;
};

static int collect_due(void *ctx, const void *key, void *value)
{
	struct collect *c = ctx;
	struct workload *wl = *(struct workload **)value;

	(void)key;
	if ((wl->flags & WL_END_PENDING) && c->now_mono_ns >= wl->end_deadline)
		ptrvec__push(c->out, wl); /* short of memory: the next tick */
	return 0;
}

/* Replaces *dst with a copy of src (NULL or "" clears). */
static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src && *src ? strdup(src) : NULL;
}

/* A kernel-given string (path) as valid UTF-8, escaped when it is not. Caller frees. */
static char *utf8_copy(const char *s, size_t len)
{
	size_t cap = 4 * len + 1;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	len = strnlen(s, len);
	if (utf8__valid(s, len)) {
		memcpy(out, s, len);
		out[len] = 0;
	} else if (utf8__escape(s, len, out, cap) < 0) {
		out[0] = 0;
	}
	return out;
}

/* ---- records -------------------------------------------------------------------------- */

/*
 * Who owns wl, by the owners file (owners.h): NULL when no rule matches or there is no
 * file. Grouping levels (slices) hold no work of their own and are nobody's.
 */
static const struct owners_rule *owner_of(const struct workloads *w, const struct workload *wl)
{
	struct owners_subject s = {
		.namespace_ = wl->pod_namespace, .pod_name = wl->pod_name,
		.container_name = wl->container_name, .image = wl->image,
		.cgroup_path = wl->path, .runtime = wl->runtime, .binary = wl->first_binary,
		.has_uid = wl->first_binary != NULL, .uid = wl->first_uid,
	};

	return owners__match(w->owners, &s);
}

/* Whether wl should have an owner and, with what is known now, has none. A workload
 * whose identity is still being read is not judged yet. */
static int unowned(const struct workloads *w, const struct workload *wl)
{
	return w->owners && wl->kind != FIRSTLIGHT__V1__WORKLOAD__KIND__SLICE &&
	       !(wl->flags & WL_RESOLVING) && !owner_of(w, wl);
}

static const char *const sock_kind_names[FL_SOCK_KINDS] = {
	[FL_SOCK_RAW] = "raw",	       [FL_SOCK_ICMP] = "icmp",   [FL_SOCK_SCTP] = "sctp",
	[FL_SOCK_PACKET] = "packet",   [FL_SOCK_NETLINK] = "netlink",
	[FL_SOCK_VSOCK] = "vsock",     [FL_SOCK_OTHER] = "other",
};

/* "raw 1, packet 2" of the unrecorded sockets into out; their total. */
static uint64_t sockets_text(const struct workload *wl, char *out, size_t cap)
{
	uint64_t total = 0;
	size_t used = 0;

	out[0] = 0;
	for (int k = 1; k < FL_SOCK_KINDS; k++) {
		int n;

		if (!wl->sockets[k])
			continue;
		total += wl->sockets[k];
		n = snprintf(out + used, cap - used, "%s%s %" PRIu64, used ? ", " : "",
			     sock_kind_names[k], wl->sockets[k]);
		if (n > 0 && (size_t)n < cap - used)
			used += (size_t)n;
	}
	return total;
}

/* A Workload record; a snapshot (workloads__snapshot) restates one and counts nowhere. */
static void emit_as(struct workloads *w, struct workload *wl, int state, uint64_t boot_ns,
		    int snapshot)
{
	WorkloadMsg m = FIRSTLIGHT__V1__WORKLOAD__INIT;
	Firstlight__V1__Namespaces ns = FIRSTLIGHT__V1__NAMESPACES__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char creator[EXEC_ID_STRLEN];
	Firstlight__V1__SocketCount socks[FL_SOCK_KINDS], *socks_p[FL_SOCK_KINDS];

	for (int k = 1; k < FL_SOCK_KINDS; k++) {
		if (!wl->sockets[k])
			continue;
		firstlight__v1__socket_count__init(&socks[m.n_unrecorded_sockets]);
		socks[m.n_unrecorded_sockets].kind = (char *)sock_kind_names[k];
		socks[m.n_unrecorded_sockets].count = wl->sockets[k];
		socks_p[m.n_unrecorded_sockets] = &socks[m.n_unrecorded_sockets];
		m.n_unrecorded_sockets++;
	}
	m.unrecorded_sockets = m.n_unrecorded_sockets ? socks_p : NULL;
	m.state = state;
	m.key = wl->key;
	m.kind = wl->kind;
	m.cgroup_id = wl->cgroup_id;
	m.parent_cgroup_id = wl->parent_id;
	m.cgroup_path = wl->path;
	m.cgroup_v1_path = wl->v1_path;
	m.runtime = (char *)wl->runtime;
	m.container_id = wl->container_id;
	m.claimed_container_id = wl->claimed_id;
	m.pod_uid = wl->pod_uid;
	m.annotation_pod_uid = wl->annotation_pod_uid;
	m.pod_name = wl->pod_name;
	m.pod_namespace = wl->pod_namespace;
	m.container_name = wl->container_name;
	m.image = wl->image;
	m.container_type = wl->container_type;
	m.sandbox_id = wl->sandbox_id;
	m.qos_class = wl->qos;
	m.unit = wl->unit;
	m.bundle = wl->bundle;
	m.identity_source = (char *)wl->source;
	m.identity_verified = !!(wl->flags & WL_VERIFIED);
	m.detail = wl->detail[0] ? wl->detail : NULL;
	m.first_seen_unix_nano = wl->first_seen;
	m.last_seen_unix_nano = wl->last_seen;
	m.process_count = wl->procs;
	m.exec_count = wl->execs;
	m.args_truncated_count = wl->args_truncated;
	m.drops = wl->drops;
	m.first_event_latency_nano = wl->first_event_latency;
	m.gap_count = wl->gap_count;
	m.creator_exec_id = exec_id__format(creator, w->o.rec->boot_tag, &wl->creator);
	if (w->owners) {
		const struct owners_rule *r = owner_of(w, wl);

		m.owners_sha256 = (char *)owners__sha256(w->owners);
		if (r) {
			m.owner = (char *)r->owner;
			m.approval_ref = (char *)r->approval_ref;
			m.boundary = (char *)r->boundary;
		}
		m.unowned = unowned(w, wl);
	}
	if (wl->kind == FIRSTLIGHT__V1__WORKLOAD__KIND__SANDBOX) {
		ns.pid = wl->ns.pid;
		ns.mnt = wl->ns.mnt;
		ns.net = wl->ns.net;
		ns.uts = wl->ns.uts;
		ns.ipc = wl->ns.ipc;
		ns.user = wl->ns.user;
		ns.cgroup = wl->ns.cgroup;
		m.namespaces = &ns;
	}
	if (state == FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED) {
		if (m.unowned && !snapshot)
			w->stats.unowned++;
		/* A container we could never name: its processes are evidence without an owner. */
		m.unattributed = (wl->kind == FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER ||
				  wl->claimed_id) && !wl->container_id;
		if (m.unattributed)
			w->stats.unattributed++;
		m.n_unobserved = w->o.n_unobserved;
		m.unobserved = (char **)w->o.unobserved;
	}
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD;
	ev.workload = &m;
	ev.snapshot = snapshot;
	recorder__emit(w->o.rec, &ev, boot_ns);
	if (snapshot)
		return;
	switch (state) {
	case FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED: w->stats.started++; break;
	case FIRSTLIGHT__V1__WORKLOAD__STATE__RESOLVED: w->stats.resolved++; break;
	case FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED: w->stats.ended++; break;
	}
}

static void emit(struct workloads *w, struct workload *wl, int state, uint64_t boot_ns)
{
	emit_as(w, wl, state, boot_ns, 0);
}

static void start(struct workloads *w, struct workload *wl, uint64_t boot_ns)
{
	if (wl->flags & WL_EMITTED)
		return;
	wl->flags = (wl->flags | WL_EMITTED) & ~WL_DORMANT;
	if (!wl->first_seen)
		wl->first_seen = wallclock__unix_ns(&w->o.rec->clock, boot_ns ? boot_ns : clock__boot_ns());
	wl->last_seen = wl->first_seen;
	w->stats.live++;
	emit(w, wl, FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, boot_ns);
}

/*
 * The holes a workload's end reveals, as gap records before its ENDED record: a
 * container we could never name, and one that lived and died with nothing seen inside.
 */
static void end_gaps(struct workloads *w, struct workload *wl, uint64_t boot_ns)
{
	uint64_t end = wallclock__unix_ns(&w->o.rec->clock, boot_ns ? boot_ns : clock__boot_ns());
	int container_like = wl->kind == FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER ||
			     wl->kind == FIRSTLIGHT__V1__WORKLOAD__KIND__POD_SANDBOX || wl->claimed_id;
	struct gap_info gi = {
		.cgroup_id = wl->cgroup_id,
		.workload_key = wl->key,
		.start_unix_ns = wl->first_seen,
		.end_unix_ns = end,
		.count = 1,
	};
	char detail[512], kinds[256];

	if (!w->o.gaps || !(wl->flags & WL_EMITTED))
		return;
	gi.detail = detail;
	if (w->fail_unowned && unowned(w, wl)) {
		gi.kind = FIRSTLIGHT__V1__GAP__KIND__UNOWNED_WORKLOAD;
		gi.reason = "no-owner-rule";
		snprintf(detail, sizeof(detail),
			 "workload %.200s ended and no rule of the owners file %.64s matched it",
			 wl->path ? wl->path : wl->key, owners__sha256(w->owners));
		gaps__emit(w->o.gaps, &gi);
	}
	if (container_like && !wl->container_id) {
		gi.kind = FIRSTLIGHT__V1__GAP__KIND__UNATTRIBUTED_WORKLOAD;
		gi.reason = "unresolved";
		snprintf(detail, sizeof(detail), "workload %.200s ended without a trusted identity%s%s",
			 wl->path ? wl->path : wl->key, wl->detail[0] ? ": " : "", wl->detail);
		gaps__emit(w->o.gaps, &gi);
	}
	/* Sockets the sensor does not record: what went through them is not in the record. */
	gi.count = sockets_text(wl, kinds, sizeof(kinds));
	if (gi.count) {
		gi.kind = FIRSTLIGHT__V1__GAP__KIND__UNRECORDED_SOCKETS;
		gi.reason = "unrecorded-sockets";
		snprintf(detail, sizeof(detail),
			 "workload %.200s made sockets of kinds the sensor does not record: %.250s",
			 wl->path ? wl->path : wl->key, kinds);
		gaps__emit(w->o.gaps, &gi);
	}
	gi.count = 1;
	/* Born while we watched, not a grouping level, and not one process seen in it. */
	if (wl->born_boot_ns && !wl->procs && wl->kind != FIRSTLIGHT__V1__WORKLOAD__KIND__SLICE &&
	    wl->kind != FIRSTLIGHT__V1__WORKLOAD__KIND__SANDBOX) {
		gi.kind = FIRSTLIGHT__V1__GAP__KIND__BLIND_WORKLOAD;
		gi.reason = "no-process-seen";
		snprintf(detail, sizeof(detail),
			 "workload %.200s lived and died with no process event seen in it",
			 wl->path ? wl->path : wl->key);
		gaps__emit(w->o.gaps, &gi);
		w->stats.blind++;
	}
}

static void finish(struct workloads *w, struct workload *wl, uint64_t boot_ns)
{
	if (wl->flags & WL_EMITTED) {
		end_gaps(w, wl, boot_ns);
		emit(w, wl, FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED, boot_ns);
		w->stats.live--;
	}
	del(w, wl);
}

/* ---- naming --------------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : (path ? path : "");
}

/*
 * The program an image runs, by name: its binary's basename, or for a binary on no path
 * (runc and crun re-exec themselves from a detached copy, recorded by its file name,
 * "crun", or from a memfd, "memfd:crun") that name. "" when unknown.
 */
static const char *image_name(const struct proc_image *img)
{
	if (!img || (img->flags & IMG_BINARY_ESCAPED))
		return "";
	if (img->binary[0] == '/')
		return base_name(img->binary);
	if (!(img->flags & IMG_BINARY_UNRESOLVED) || strchr(img->binary, '/'))
		return "";
	return strncmp(img->binary, "memfd:", 6) ? img->binary : img->binary + 6;
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

static const char *const runtimes[] = { "runc", "crun", "runsc", "youki", NULL };
static const char *const managers[] = { "systemd", "containerd", "dockerd", "crio", "conmon",
					"podman", "containerd-shim-runc-v2", "containerd-shim",
					"runc", "crun", NULL };

/* The process that made a cgroup, and whether it may name containers. */
struct actor {
	const struct proc *p;
	const char *base; /* binary basename, "" if unknown */
	int host_root;    /* euid 0 in the host mount namespace */
};

static void find_actor(struct workloads *w, const struct fl_cgroup_event *ev, struct actor *a)
{
	struct proc *p = proctable__get(w->o.procs, ev->actor.tgid);

	memset(a, 0, sizeof(*a));
	a->base = "";
	/* The table's entry must be the very image that acted, not an older pid user. */
	if (p && p->id.start_ns == ev->actor.start_ns) {
		a->p = p;
		a->base = image_name(p->image);
		a->host_root = ev->actor_euid == 0 && p->mnt_ns == w->o.host_mnt_ns;
	}
}

static void set_key(struct workload *wl)
{
	wlkey__format(wl->key, wl->id, wl->id & (WLKEY_SANDBOX_PID | WLKEY_SANDBOX_MNT) ? wl->id : 0);
}

/* Names that the path alone may give: host structure, never a container's identity. */
static void apply_path_structure(struct workload *wl, const struct cgpath_info *c)
{
	switch (c->kind) {
	case CGPATH_ROOT:
		wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__HOST;
		wl->runtime = "host";
		break;
	case CGPATH_SERVICE:
		wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__SERVICE;
		wl->runtime = "systemd";
		break;
	case CGPATH_SESSION:
		wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__SESSION;
		wl->runtime = "systemd";
		break;
	case CGPATH_SLICE:
		wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__SLICE;
		wl->runtime = c->kubernetes ? "kubernetes" : "systemd";
		break;
	default:
		wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__UNKNOWN;
		break;
	}
	set_str(&wl->unit, c->unit);
	set_str(&wl->qos, c->qos);
	if (c->kind == CGPATH_SLICE)
		set_str(&wl->pod_uid, c->pod_uid);
	if (wl->path && !strcmp(wl->path, "/"))
		wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__HOST, wl->runtime = "host";
}

/* Bundle dirs of managed runtimes, by the (validated, hex) container id. */
static int managed_bundle(const char *runtime, const char *id, int k8s, char *out, size_t len)
{
	if (!strcmp(runtime, "containerd"))
		return snprintf(out, len, "/run/containerd/io.containerd.runtime.v2.task/%s/%s",
				k8s ? "k8s.io" : "default", id) < (int)len ? 0 : -ENAMETOOLONG;
	if (!strcmp(runtime, "docker"))
		return snprintf(out, len, "/run/containerd/io.containerd.runtime.v2.task/moby/%s", id) <
			       (int)len ? 0 : -ENAMETOOLONG;
	if (!strcmp(runtime, "cri-o") || !strcmp(runtime, "podman"))
		return snprintf(out, len, "/run/containers/storage/overlay-containers/%s/userdata",
				id) < (int)len ? 0 : -ENAMETOOLONG;
	return -ENOENT;
}

/*
 * Where each managed runtime's OCI runtime keeps its state: containerd's runc shim runs
 * runc with --root /run/containerd/runc/<namespace> (k8s.io for the CRI plugin), dockerd
 * with /run/docker/runtime-runc/moby, CRI-O and podman with the runtimes' defaults.
 */
static const struct resolve_root containerd_roots[] = {
	{ "runc", "/run/containerd/runc/k8s.io" }, { "runc", "/run/containerd/runc/default" },
	{ "runc", "/run/containerd/runc/moby" }, { NULL, NULL },
};
static const struct resolve_root docker_roots[] = {
	{ "runc", "/run/docker/runtime-runc/moby" }, { "runc", "/run/containerd/runc/moby" },
	{ NULL, NULL },
};
static const struct resolve_root oci_roots[] = {
	{ "runc", "/run/runc" }, { "crun", "/run/crun" }, { NULL, NULL },
};

static const struct resolve_root *managed_roots(const char *runtime)
{
	if (!strcmp(runtime, "containerd"))
		return containerd_roots;
	if (!strcmp(runtime, "docker"))
		return docker_roots;
	if (!strcmp(runtime, "cri-o") || !strcmp(runtime, "podman"))
		return oci_roots;
	return NULL;
}

static void request(struct workloads *w, struct workload *wl, const struct resolve_req *req)
{
	if (!w->o.resolver)
		return;
	if (resolver__submit(w->o.resolver, req)) {
		w->stats.resolve_dropped++;
		snprintf(wl->detail, sizeof(wl->detail), "identity not read: resolver queue full");
		return;
	}
	wl->flags |= WL_RESOLVING;
}

/*
 * Decides what a new cgroup is, from its path and from the process that made it, and
 * asks the resolver for the rest. Runs on the consumer thread: no file access here.
 */
static void identify(struct workloads *w, struct workload *wl, const struct actor *a)
{
	struct cgpath_info c;
	struct runtime_cmd cmd;
	struct resolve_req req = { .key = wl->id, .owner_uid = (uid_t)-1 };
	const struct proc_image *img = a && a->p ? a->p->image : NULL;

	cgpath__classify(wl->path ? wl->path : "", &c);
	apply_path_structure(wl, &c);

	/* A cut argv could end in a valid but wrong id: only a whole one names a container. */
	if (a && a->host_root && img && in_list(a->base, runtimes) &&
	    !(img->flags & IMG_ARGS_TRUNCATED) &&
	    !runtime_argv__parse(img->binary[0] == '/' ? img->binary : "", img->args, img->n_args,
				 img->cwd, &cmd)) {
		if (!cgpath__names_container(wl->path ? wl->path : "", cmd.id)) {
			/* A directory the runtime made on its way to the container's cgroup
			 * (containerd's /default, the kubepods levels): not the container. */
			snprintf(wl->detail, sizeof(wl->detail),
				 "made by %s on its way to container %.64s's cgroup", a->base, cmd.id);
			return;
		}
		/* The runtime itself made the cgroup: its command line names the container. */
		wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER;
		wl->runtime = cmd.runtime;
		wl->source = "runtime-argv";
		wl->flags |= WL_VERIFIED;
		set_str(&wl->container_id, cmd.id);
		if (c.kind == CGPATH_CONTAINER) {
			set_str(&wl->pod_uid, c.pod_uid);
			set_str(&wl->qos, c.qos);
		}
		set_str(&wl->bundle, cmd.bundle);
		snprintf(req.bundle, sizeof(req.bundle), "%s", cmd.bundle);
		req.owner_uid = 0;
		request(w, wl, &req);
		return;
	}
	if (c.kind != CGPATH_CONTAINER && c.kind != CGPATH_CONMON) {
		if (a && a->p && c.kind == CGPATH_UNKNOWN)
			snprintf(wl->detail, sizeof(wl->detail), "made by %s (uid %u)",
				 a->base[0] ? a->base : "an unknown binary", a->p->euid);
		return;
	}
	if (a && !(a->host_root && in_list(a->base, managers))) {
		/* Named like a container by something that does not make containers. */
		set_str(&wl->claimed_id, c.container_id);
		w->stats.untrusted_claims++;
		snprintf(wl->detail, sizeof(wl->detail),
			 "path claims container %.16s but was made by %s (uid %u%s): not trusted",
			 c.container_id, a->base[0] ? a->base : "an unknown process",
			 a->p ? a->p->euid : 0u, a->host_root || !a->p ? "" : ", not the host's");
		return;
	}
	/* Made by a trusted manager (or pre-existing: judged by what the runtime holds). */
	if (c.kind == CGPATH_CONMON) {
		wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__SERVICE;
		wl->runtime = c.runtime;
		return;
	}
	if (!a) {
		/*
		 * Pre-existing: nobody saw who made it, so the claim stands only if the
		 * runtime's own state ties that container to this very cgroup. A bundle for
		 * the id proves nothing: a workload that may make cgroups can name one after
		 * a neighbour that really runs.
		 */
		set_str(&wl->claimed_id, c.container_id);
		wl->runtime = c.runtime;
		set_str(&wl->pod_uid, c.pod_uid);
		set_str(&wl->qos, c.qos);
		req.roots = managed_roots(c.runtime ? c.runtime : "");
		if (!req.roots)
			return;
		snprintf(req.id, sizeof(req.id), "%s", c.container_id);
		req.verify = 1;
		snprintf(req.cgroup_path, sizeof(req.cgroup_path), "%s", wl->path ? wl->path : "");
		req.owner_uid = 0;
		request(w, wl, &req);
		return;
	}
	wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER;
	wl->flags |= WL_VERIFIED;
	wl->source = "cgroup-path";
	set_str(&wl->container_id, c.container_id);
	wl->runtime = c.runtime;
	set_str(&wl->pod_uid, c.pod_uid);
	set_str(&wl->qos, c.qos);
	if (!managed_bundle(c.runtime ? c.runtime : "", c.container_id, c.kubernetes, req.bundle,
			    sizeof(req.bundle))) {
		req.owner_uid = 0;
		request(w, wl, &req);
	}
}

/* A cgroup from the scan whose leaf might be a standalone runc/crun container. */
static void identify_existing(struct workloads *w, struct workload *wl)
{
	struct resolve_req req = { .key = wl->id, .owner_uid = 0 };
	const char *leaf = base_name(wl->path);

	identify(w, wl, NULL);
	if (wl->flags & WL_RESOLVING || wl->kind != FIRSTLIGHT__V1__WORKLOAD__KIND__UNKNOWN ||
	    !cgpath__valid_runtime_id(leaf))
		return;
	req.roots = oci_roots; /* runc's state, then crun's */
	snprintf(req.id, sizeof(req.id), "%s", leaf);
	/* A directory named like a runc container is that container's only if runc's state
	 * puts the container there. */
	req.verify = 1;
	snprintf(req.cgroup_path, sizeof(req.cgroup_path), "%s", wl->path);
	request(w, wl, &req);
	wl->flags |= WL_PRE_EXISTING;
}

/* ---- events --------------------------------------------------------------------------- */

static struct workload *cgroup_workload(struct workloads *w, uint64_t id)
{
	struct workload *wl = get(w, id);

	if (wl)
		return wl;
	wl = add(w, id);
	if (!wl)
		return NULL;
	wl->cgroup_id = id;
	wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__UNKNOWN;
	set_key(wl);
	return wl;
}

static void on_v1(struct workloads *w, const struct fl_cgroup_event *ev, const char *path)
{
	struct workload *e = get(w, V1_TAG | ev->cgroup_id);

	if (ev->hdr.type == FL_EV_CGROUP_RMDIR) {
		if (e)
			del(w, e);
		return;
	}
	if (ev->hdr.type != FL_EV_CGROUP_MKDIR || e || !(e = add(w, V1_TAG | ev->cgroup_id)))
		return;
	e->path = utf8_copy(path, ev->path_len);
	e->flags = WL_DORMANT;
}

void workloads__on_cgroup(struct workloads *w, const struct fl_cgroup_event *ev, const char *path)
{
	struct workload *wl;
	struct actor a;

	if (ev->hierarchy_id != 0) {
		on_v1(w, ev, path);
		return;
	}
	switch (ev->hdr.type) {
	case FL_EV_CGROUP_MKDIR:
		wl = cgroup_workload(w, ev->cgroup_id);
		if (!wl || (wl->flags & WL_EMITTED))
			return;
		set_str(&wl->path, NULL);
		wl->path = utf8_copy(path, ev->path_len);
		wl->parent_id = ev->parent_id;
		wl->creator = ev->actor;
		wl->born_boot_ns = ev->hdr.boot_ns;
		if (ev->flags & FL_CGROUP_PATH_TRUNCATED)
			snprintf(wl->detail, sizeof(wl->detail), "cgroup path longer than %d bytes: cut",
				 FL_CGROUP_PATH_MAX - 1);
		find_actor(w, ev, &a);
		identify(w, wl, &a);
		start(w, wl, ev->hdr.boot_ns);
		break;
	case FL_EV_CGROUP_ATTACH:
		wl = cgroup_workload(w, ev->cgroup_id);
		if (!wl)
			return;
		if (!wl->path) {
			wl->path = utf8_copy(path, ev->path_len);
			identify_existing(w, wl);
		}
		start(w, wl, ev->hdr.boot_ns);
		wl->last_seen = wallclock__unix_ns(&w->o.rec->clock, ev->hdr.boot_ns);
		break;
	case FL_EV_CGROUP_RMDIR:
		wl = get(w, ev->cgroup_id);
		if (!wl)
			return;
		if (!(wl->flags & WL_EMITTED)) {
			del(w, wl); /* existed before us and nothing ever ran in it: not a workload */
			return;
		}
		if (wl->flags & WL_RESOLVING) {
			/* Its identity is still being read: end it once that is done. */
			if (!(wl->flags & WL_END_PENDING))
				w->ends_pending++;
			wl->flags |= WL_END_PENDING;
			wl->end_boot_ns = ev->hdr.boot_ns;
			wl->end_deadline = clock__mono_ns() + WL_END_GRACE_NS;
			return;
		}
		finish(w, wl, ev->hdr.boot_ns);
		break;
	}
}

static const char *sandbox_runtime(const struct proc_image *creator)
{
	const char *b = image_name(creator);

	if (!strcmp(b, "bwrap"))
		return "bubblewrap";
	if (!strcmp(b, "unshare"))
		return "unshare";
	if (!strcmp(b, "firejail"))
		return "firejail";
	if (!strcmp(b, "nsjail"))
		return "nsjail";
	if (!strcmp(b, "systemd-nspawn"))
		return "systemd-nspawn";
	return "sandbox";
}

uint64_t workloads__on_process(struct workloads *w, const struct fl_task *t, unsigned int what,
			       const struct proc_image *creator, uint64_t prev_sandbox,
			       uint64_t boot_ns, char *key)
{
	int is_exec = !!(what & WL_PROC_EXEC);
	uint64_t now = wallclock__unix_ns(&w->o.rec->clock, boot_ns);
	struct workload *wl = cgroup_workload(w, t->cgroup_id), *sb;
	uint64_t skey = 0;

	wlkey__format(key, t->cgroup_id, 0);
	if (!wl)
		return 0;
	if (!(wl->flags & WL_EMITTED)) {
		if (!wl->path && !(wl->flags & WL_DORMANT))
			snprintf(wl->detail, sizeof(wl->detail), "cgroup path unknown");
		identify_existing(w, wl);
		start(w, wl, boot_ns);
	}
	wl->last_seen = now;
	if (!wl->v1_path && t->cgroup_v1_id) {
		struct workload *v1 = get(w, V1_TAG | t->cgroup_v1_id);

		if (v1)
			set_str(&wl->v1_path, v1->path);
	}
	/*
	 * Outside a container, namespaces of its own make a process a sandbox's (bwrap and
	 * unshare make no cgroup). Its pid namespace names the sandbox, else its mount one.
	 * A container runtime's child is not one: it is a container's init, in new
	 * namespaces a moment before the runtime moves it into the container's cgroup.
	 */
	if (wl->kind != FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER &&
	    wl->kind != FIRSTLIGHT__V1__WORKLOAD__KIND__POD_SANDBOX && !(wl->flags & WL_RESOLVING) &&
	    !in_list(image_name(creator), runtimes)) {
		if (t->ns.pid && t->ns.pid != w->o.host_pid_ns)
			skey = WLKEY_SANDBOX_PID | t->ns.pid;
		else if (t->ns.mnt && t->ns.mnt != w->o.host_mnt_ns)
			skey = WLKEY_SANDBOX_MNT | t->ns.mnt;
	}
	if (prev_sandbox && prev_sandbox != skey)
		workloads__on_exit(w, 0, prev_sandbox, boot_ns); /* it left that sandbox */
	if (!wl->procs && wl->born_boot_ns && boot_ns > wl->born_boot_ns)
		wl->first_event_latency = boot_ns - wl->born_boot_ns;
	if (!skey) {
		wl->procs += !(what & WL_PROC_AGAIN);
		wl->execs += is_exec;
		wl->args_truncated += !!(what & WL_PROC_ARGS_TRUNCATED);
		return 0;
	}
	sb = get(w, skey);
	if (!sb && (sb = add(w, skey))) {
		sb->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__SANDBOX;
		sb->runtime = sandbox_runtime(creator);
		sb->source = "namespaces";
		sb->cgroup_id = t->cgroup_id;
		sb->ns = t->ns;
		sb->creator = t->parent_id;
		set_key(sb);
		start(w, sb, boot_ns);
	}
	if (!sb)
		return 0;
	snprintf(key, WLKEY_MAX, "%s", sb->key);
	sb->execs += is_exec;
	sb->args_truncated += !!(what & WL_PROC_ARGS_TRUNCATED);
	if (prev_sandbox != skey) { /* a new member, not an exec of one */
		sb->procs++;
		sb->live++;
	}
	sb->last_seen = now;
	return skey;
}

void workloads__on_exit(struct workloads *w, uint64_t cgroup_id, uint64_t sandbox, uint64_t boot_ns)
{
	uint64_t now = wallclock__unix_ns(&w->o.rec->clock, boot_ns);
	struct workload *wl = cgroup_id ? get(w, cgroup_id) : NULL;

	if (wl)
		wl->last_seen = now;
	if (!sandbox || !(wl = get(w, sandbox)))
		return;
	wl->last_seen = now;
	if (wl->live && --wl->live == 0)
		finish(w, wl, boot_ns); /* its last process is gone, and with it the namespaces */
}

void workloads__on_first_exec(struct workloads *w, uint64_t cgroup_id, uint64_t sandbox,
			      uint32_t uid, const char *binary)
{
	struct workload *wl = get(w, sandbox ? sandbox : cgroup_id);

	if (!wl || wl->first_binary || !binary || !*binary)
		return;
	wl->first_binary = strdup(binary); /* short of memory: matched without it */
	wl->first_uid = uid;
}

void workloads__note_socket(struct workloads *w, uint64_t cgroup_id, uint64_t sandbox,
			    uint32_t kind)
{
	struct workload *wl = get(w, sandbox ? sandbox : cgroup_id);

	if (wl && kind > 0 && kind < FL_SOCK_KINDS)
		wl->sockets[kind]++;
}

void workloads__note_privilege(struct workloads *w, uint64_t cgroup_id, uint64_t sandbox)
{
	struct workload *wl = get(w, sandbox ? sandbox : cgroup_id);

	if (wl)
		wl->privilege_changes++;
}

void workloads__note_file_access(struct workloads *w, uint64_t cgroup_id, uint64_t sandbox,
				 uint64_t opens)
{
	struct workload *wl = get(w, sandbox ? sandbox : cgroup_id);

	if (wl)
		wl->file_accesses += opens;
}

struct privileged {
	const struct workloads *w;
	struct workload_privileged *out;
	size_t n, max;
	uint64_t other, other_files;
};

static int collect_privileged(void *ctx, const void *key, void *value)
{
	struct privileged *c = ctx;
	const struct workload *wl = *(struct workload **)value;
	const struct owners_rule *r;

	(void)key;
	if ((!wl->privilege_changes && !wl->file_accesses) || (wl->id & V1_TAG))
		return 0;
	if (c->n == c->max) {
		c->other += wl->privilege_changes;
		c->other_files += wl->file_accesses;
		return 0;
	}
	r = owner_of(c->w, wl);
	snprintf(c->out[c->n].key, WLKEY_MAX, "%s", wl->key);
	c->out[c->n].owner = r ? r->owner : "";
	c->out[c->n].file_accesses = wl->file_accesses;
	c->out[c->n++].privilege_changes = wl->privilege_changes;
	return 0;
}

size_t workloads__privileged(struct workloads *w, struct workload_privileged *out, size_t max,
			     uint64_t *other, uint64_t *other_files)
{
	struct privileged c = { .w = w, .out = out, .max = max };

	kvtable__remove_if(w->table, collect_privileged, &c); /* removes nothing: returns 0 */
	*other = c.other;
	*other_files = c.other_files;
	return c.n;
}

void workloads__set_owners(struct workloads *w, const struct owners *owners, int fail_unowned)
{
	w->owners = owners;
	w->fail_unowned = fail_unowned;
}

void workloads__note_gap(struct workloads *w, uint64_t cgroup_id, int kind, uint64_t count)
{
	struct workload *wl = get(w, cgroup_id);

	if (!wl)
		return;
	wl->gap_count++;
	if (kind == FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP ||
	    kind == FIRSTLIGHT__V1__GAP__KIND__SHARE_EXCEEDED)
		wl->drops += count;
}

/* ---- resolution ----------------------------------------------------------------------- */

static void apply(struct workloads *w, struct workload *wl, const struct resolve_res *r)
{
	const struct oci_identity *id = &r->id;

	int claim = (wl->flags & WL_PRE_EXISTING || wl->claimed_id) && !wl->container_id;
	const char *cid;

	wl->flags &= ~WL_RESOLVING;
	if (claim && !r->err && r->tie != 1) {
		/* The runtime has that container, in another cgroup (or cannot say where): the
		 * path's claim is recorded as a claim, never as the identity. */
		if (!wl->claimed_id)
			set_str(&wl->claimed_id, base_name(wl->path)); /* a runc id as the leaf */
		cid = wl->claimed_id ? wl->claimed_id : "";
		w->stats.untrusted_claims++;
		if (r->tie == 0)
			snprintf(wl->detail, sizeof(wl->detail),
				 "path claims container %.16s but %.240s: not trusted", cid,
				 r->why);
		else
			snprintf(wl->detail, sizeof(wl->detail),
				 "path claims container %.16s; the runtime's state does not say where "
				 "it runs (%s): not trusted", cid, strerror(-r->tie));
		return;
	}
	cid = wl->claimed_id ? wl->claimed_id : "";
	if (r->err) {
		w->stats.resolve_failed++;
		if (claim && wl->claimed_id && r->err == -ENOENT)
			snprintf(wl->detail, sizeof(wl->detail),
				 "path claims container %.16s but the runtime has no such container: "
				 "not trusted", cid);
		else if (!(wl->flags & WL_PRE_EXISTING) || r->err != -ENOENT)
			snprintf(wl->detail, sizeof(wl->detail), "identity not read from %.120s: %s",
				 r->bundle[0] ? r->bundle : "the runtime's state", strerror(-r->err));
		return;
	}
	if (wl->flags & WL_PRE_EXISTING && !wl->container_id) {
		/* The runtime's own state has a container of that name: trust it. */
		wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER;
		wl->flags |= WL_VERIFIED;
		set_str(&wl->container_id, base_name(wl->path));
		wl->runtime = r->runtime;
	}
	if (wl->claimed_id && !wl->container_id) {
		/* A pre-existing claim the runtime's state ties to this cgroup. */
		wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__CONTAINER;
		wl->flags |= WL_VERIFIED;
		set_str(&wl->container_id, wl->claimed_id);
		set_str(&wl->claimed_id, NULL);
	}
	wl->source = r->source;
	wl->detail[0] = 0;
	if (id->keys_mixed)
		snprintf(wl->detail, sizeof(wl->detail),
			 "bundle %.60s of an unknown maker has both containerd's and CRI-O's "
			 "annotation keys: neither taken", r->bundle);
	set_str(&wl->bundle, r->bundle);
	set_str(&wl->pod_name, id->pod_name);
	set_str(&wl->pod_namespace, id->pod_namespace);
	/* The path's pod uid is where the kubelet put the cgroup; an annotation is what the
	 * bundle's writer claims. When they disagree the claim is flagged, never the identity. */
	if (id->pod_uid[0] && wl->pod_uid && wl->pod_uid[0] && strcmp(wl->pod_uid, id->pod_uid))
		set_str(&wl->annotation_pod_uid, id->pod_uid);
	else if (id->pod_uid[0])
		set_str(&wl->pod_uid, id->pod_uid);
	set_str(&wl->container_name, id->container_name);
	set_str(&wl->image, id->image);
	set_str(&wl->container_type, id->container_type);
	set_str(&wl->sandbox_id, id->sandbox_id);
	if (!strcmp(id->container_type, "sandbox"))
		wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__POD_SANDBOX;
}

void workloads__poll_resolver(struct workloads *w)
{
	struct resolve_res r;

	if (!w->o.resolver)
		return;
	while (resolver__take(w->o.resolver, &r) > 0) {
		struct workload *wl = get(w, r.key);

		if (!wl)
			continue;
		apply(w, wl, &r);
		if (wl->flags & WL_EMITTED)
			emit(w, wl, FIRSTLIGHT__V1__WORKLOAD__STATE__RESOLVED, 0);
		if (wl->flags & WL_END_PENDING)
			finish(w, wl, wl->end_boot_ns);
	}
}

void workloads__tick(struct workloads *w)
{
	uint64_t now = clock__mono_ns();

	struct collect c = { .out = &w->due, .now_mono_ns = now };

	workloads__poll_resolver(w);
	/* A scan of every workload on every tick is for the few whose end waits on their
	 * identity: none, no scan. */
	if (!w->ends_pending)
		return;
	/* Collected first: finishing a workload removes it from the table. */
	w->due.n = 0;
	kvtable__remove_if(w->table, collect_due, &c);
	for (size_t i = 0; i < w->due.n; i++) {
		struct workload *wl = w->due.v[i];

		snprintf(wl->detail, sizeof(wl->detail), "identity not read before the workload ended");
		finish(w, wl, wl->end_boot_ns);
	}
}

void workloads__stop(struct workloads *w)
{
	uint64_t deadline = clock__mono_ns() + 500000000ull;

	/* The last containers' identities are in flight: give them a moment. */
	while (w->o.resolver && resolver__pending(w->o.resolver) && clock__mono_ns() < deadline) {
		workloads__poll_resolver(w);
		usleep(1000);
	}
	workloads__poll_resolver(w);
}

/* ---- set-up --------------------------------------------------------------------------- */

struct workloads *workloads__new(const struct workloads_opts *opts)
{
	struct workloads *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->o = *opts;
	/* Bounded by the cgroups and namespaces the node has, not by what we are sent. */
	w->table = kvtable__new(sizeof(uint64_t), sizeof(struct workload *), SIZE_MAX / 2);
	if (!w->table) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	return w;
}

static int free_one(void *ctx, const void *key, void *value)
{
	(void)ctx;
	(void)key;
	wl_free(*(struct workload **)value);
	return 1;
}

void workloads__free(struct workloads *w)
{
	if (!w)
		return;
	kvtable__remove_if(w->table, free_one, NULL);
	kvtable__free(w->table);
	ptrvec__free(&w->due);
	free(w);
}

static int restate(void *ctx, const void *key, void *value)
{
	struct workloads *w = ctx;
	struct workload *wl = *(struct workload **)value;

	(void)key;
	if ((wl->flags & WL_EMITTED) && !(wl->id & V1_TAG))
		emit_as(w, wl, wl->container_id ? FIRSTLIGHT__V1__WORKLOAD__STATE__RESOLVED
						: FIRSTLIGHT__V1__WORKLOAD__STATE__STARTED, 0, 1);
	return 0;
}

void workloads__snapshot(struct workloads *w)
{
	kvtable__remove_if(w->table, restate, w);
}

const struct workload_stats *workloads__stats(const struct workloads *w)
{
	return &w->stats;
}

void workloads__add_existing(struct workloads *w, uint64_t inode, const char *path, int v1)
{
	uint64_t id = (v1 ? V1_TAG : 0) | inode;
	struct workload *wl;

	if (get(w, id) || !(wl = add(w, id)))
		return; /* known, or no memory: it is named when it shows up */
	wl->cgroup_id = inode;
	wl->flags = WL_DORMANT;
	wl->kind = FIRSTLIGHT__V1__WORKLOAD__KIND__UNKNOWN;
	wl->path = utf8_copy(path, strlen(path));
	set_key(wl);
}
