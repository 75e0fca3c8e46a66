/*
 * What a cgroup2 path says about its workload, from the naming conventions of container
 * runtimes, Kubernetes and systemd. A path is a claim, not proof: any process allowed to
 * make a cgroup can name it like a container (see workload.c for how claims are checked).
 * Every id taken from a path is validated here (container ids: 64 hex; pod uids: UUID,
 * or 32 hex for static pods)
 * and stored normalised, so it is safe to build a path from afterwards.
 */
#ifndef FL_CGPATH_H
#define FL_CGPATH_H

#include <stddef.h>

enum cgpath_kind {
	CGPATH_UNKNOWN = 0, /* nothing recognised: a plain directory */
	CGPATH_ROOT,        /* "/" */
	CGPATH_SERVICE,     /* systemd service: /system.slice/foo.service */
	CGPATH_SESSION,     /* systemd session or user scope: /user.slice/.../session-3.scope */
	CGPATH_SLICE,       /* a systemd slice or a Kubernetes QoS/pod level directory */
	CGPATH_CONTAINER,   /* a container: runtime and container id known */
	CGPATH_CONMON,      /* a runtime monitor next to a container (crio-conmon, libpod-conmon) */
};

#define CGPATH_ID_MAX 65      /* 64 hex + NUL */
#define CGPATH_UID_MAX 37     /* UUID text + NUL */
#define CGPATH_NAME_MAX 256

struct cgpath_info {
	enum cgpath_kind kind;
	const char *runtime;  /* static string: "containerd", "cri-o", "docker", "podman",
				 "kubernetes" (runtime not named), "systemd", or NULL */
	char container_id[CGPATH_ID_MAX]; /* lowercase hex, "" if none */
	char pod_uid[CGPATH_UID_MAX];     /* canonical dashed form, "" if none */
	const char *qos;                  /* "guaranteed", "burstable", "besteffort" or NULL */
	char unit[CGPATH_NAME_MAX];       /* systemd unit (service/scope/slice leaf), "" if none */
	int kubernetes;                   /* under a kubepods hierarchy */
};

/*
 * Classifies path (as the cgroup_mkdir tracepoint gives it: from the cgroup2 root, e.g.
 * "/kubepods/burstable/pod<uid>/<id>"). Never fails: unrecognised paths are UNKNOWN.
 */
void cgpath__classify(const char *path, struct cgpath_info *out);

/* Kind as a short lowercase word for records and logs. */
const char *cgpath__kind_name(enum cgpath_kind kind);

/* Whether s is a valid container id of an OCI runtime: 1-128 of [A-Za-z0-9_+.-], not
 * starting with '.' ("." and ".." excluded), so it is safe as one path component. */
int cgpath__valid_runtime_id(const char *s);

/*
 * Whether path (from the cgroup2 root) is the cgroup of container id that a runtime made,
 * rather than a directory it made on its way there (containerd's /default, the kubepods
 * levels): its last component names the id ("<id>", or "<prefix>-<id>.scope" as the
 * systemd drivers name it), or it is the "container" sub-cgroup of one that does.
 */
int cgpath__names_container(const char *path, const char *id);

#endif
