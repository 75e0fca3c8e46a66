/*
 * A container's identity from its OCI bundle's config.json: Kubernetes CRI annotations
 * give pod name, namespace, uid, container name, image, read in the spelling of the
 * runtime that made the bundle (containerd's keys for containerd's bundles, CRI-O's for
 * CRI-O's): a pod's own annotations reach the bundle too (CRI-O copies them), so a key
 * of the other runtime's spelling is the pod's claim, not the runtime's word.
 * The file is read defensively: it is owned by whoever made the bundle, so it is opened
 * without following a symlink at its last component, must be a regular file owned by
 * root or by the expected owner, at most 1 MiB, and every value is length-checked.
 */
#ifndef FL_OCI_H
#define FL_OCI_H

#include <stdint.h>
#include <sys/types.h>

#define OCI_VALUE_MAX 256

struct oci_identity {
	char pod_name[OCI_VALUE_MAX];
	char pod_namespace[OCI_VALUE_MAX];
	char pod_uid[OCI_VALUE_MAX];
	char container_name[OCI_VALUE_MAX];
	char image[OCI_VALUE_MAX];
	char container_type[32];    /* "container" or "sandbox" (the pod's pause) */
	char sandbox_id[OCI_VALUE_MAX];
	char hostname[OCI_VALUE_MAX];
	int has_kubernetes;         /* any CRI annotation was present */
	int keys_mixed;             /* OCI_KEYS_ANY met both spellings: none was taken */
};

/* Whose annotation keys are read. */
enum oci_keys {
	OCI_KEYS_ANY = 0,    /* maker unknown: the one spelling present; both: neither */
	OCI_KEYS_CONTAINERD, /* io.kubernetes.cri.* */
	OCI_KEYS_CRIO,       /* io.kubernetes.pod.*, io.kubernetes.container.name, io.kubernetes.cri-o.* */
};

/*
 * The runtime that made a bundle, by where it lies: containerd's task dirs
 * (.../io.containerd.runtime.v2.task/<ns>/<id>, v1: io.containerd.runtime.v1.linux) or
 * CRI-O's and podman's storage (.../overlay-containers/<id>/userdata); anything else is
 * OCI_KEYS_ANY. The bundle dir comes from the runtime's argv or state (root's word).
 */
enum oci_keys oci__bundle_keys(const char *bundle_dir);

/*
 * Reads bundle_dir/config.json, with the keys oci__bundle_keys gives. owner_uid: besides root, the uid allowed to own the
 * directory and file ((uid_t)-1: root only). 0 or -errno (-ENOENT missing, -EPERM wrong
 * owner, a symlink or not a regular file, -ENOTDIR, -EINVAL a relative bundle, -EFBIG too
 * large, -EBADMSG not JSON / not an OCI config).
 */
int oci__read_bundle(const char *bundle_dir, uid_t owner_uid, struct oci_identity *out);

/* Same, from a buffer (for tests and fuzzing): OCI_KEYS_ANY / the keys given. */
int oci__parse_config(const char *json, size_t len, struct oci_identity *out);
int oci__parse_config_keys(const char *json, size_t len, enum oci_keys keys,
			   struct oci_identity *out);

/* What a runtime's state records of one container. */
struct oci_state {
	char bundle[4096];
	/* Its cgroup: runc's cgroup_paths[""] (the cgroup2 directory, as mounted: absolute),
	 * crun's "cgroup-path" (from the cgroup2 root); "" when not recorded. */
	char cgroup[4096];
	int64_t init_pid;     /* 0 when not recorded */
	uint64_t init_start;  /* the init's start time in clock ticks (/proc/<pid>/stat 22) */
};

/*
 * Reads a runtime's state of container id: runc's <root>/<id>/state.json or crun's
 * <root>/<id>/status (root NULL: /run/runc, /run/crun). Errors as oci__bundle_from_state.
 */
int oci__read_state(const char *runtime, const char *root, const char *id,
		    struct oci_state *out);

/*
 * Whether the state ties its container to the cgroup2 directory with inode cgroup_id and
 * path cgroup_path (from the cgroup2 root): the recorded cgroup is that directory, or,
 * when none is recorded, the container's init (the very process: its start time matches)
 * runs in it. 1 tied; 0 not (why says where the state puts it); -errno when it cannot
 * tell (no cgroup recorded and the init gone: -ESRCH).
 */
int oci__state_ties(const struct oci_state *st, uint64_t cgroup_id, const char *cgroup_path,
		    char *why, size_t why_len);

/*
 * The bundle dir recorded in a runtime's state: runc's <root>/<id>/state.json
 * (config.labels "bundle=...") or crun's <root>/<id>/status ("bundle"). root NULL means
 * the runtime's default (/run/runc, /run/crun). 0 or -errno (also -EOPNOTSUPP for
 * another runtime, -EINVAL for an id that does not validate, -ENAMETOOLONG).
 */
int oci__bundle_from_state(const char *runtime, const char *root, const char *id,
			   char *bundle, size_t bundle_len);

#endif
