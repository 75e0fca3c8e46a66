/*
 * A container's identity from its OCI bundle's config.json: Kubernetes CRI annotations
 * (containerd and CRI-O spellings) give pod name, namespace, uid, container name, image.
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
};

/*
 * Reads bundle_dir/config.json. owner_uid: besides root, the uid allowed to own the
 * directory and file ((uid_t)-1: root only). 0 or -errno (-ENOENT missing, -EPERM wrong
 * owner, a symlink or not a regular file, -ENOTDIR, -EINVAL a relative bundle, -EFBIG too
 * large, -EBADMSG not JSON / not an OCI config).
 */
int oci__read_bundle(const char *bundle_dir, uid_t owner_uid, struct oci_identity *out);

/* Same, from a buffer (for tests and fuzzing). */
int oci__parse_config(const char *json, size_t len, struct oci_identity *out);

/*
 * The bundle dir recorded in a runtime's state: runc's <root>/<id>/state.json
 * (config.labels "bundle=...") or crun's <root>/<id>/status ("bundle"). root NULL means
 * the runtime's default (/run/runc, /run/crun). 0 or -errno (also -EOPNOTSUPP for
 * another runtime, -EINVAL for an id that does not validate, -ENAMETOOLONG).
 */
int oci__bundle_from_state(const char *runtime, const char *root, const char *id,
			   char *bundle, size_t bundle_len);

#endif
