/*
 * OCI bundle and runtime state reading. Everything here comes from files that the
 * container's creator wrote, so each file is opened relative to a directory fd that was
 * checked (type, owner), without following a symlink at the last component and with
 * O_NONBLOCK (a FIFO named config.json must not hang the agent), then checked again on
 * the open fd: regular, owner, size. JSON goes through jansson, whose parser is bounded
 * in depth (2048) and validates UTF-8.
 *
 * What counts as malformed (-EBADMSG) follows what the runtime itself would refuse to
 * load: not JSON, not an object, no "ociVersion" string, or "annotations" / an
 * annotation value / "hostname" of the wrong JSON type (runc's Go unmarshalling fails
 * on those, so no container starts from such a file). A value of the right type that we
 * do not want (too long, control characters, NUL) only leaves its field empty. A
 * duplicated key keeps its last value, as Go's encoding/json does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "identity/cgpath.h"
#include "identity/oci.h"
#include "base/utf8.h"

#define CONFIG_MAX (1u << 20)
/* runc's state.json holds the whole libcontainer config (mounts, seccomp rules), so it
 * gets more room than a config.json; it is root's file anyway. */
#define STATE_MAX (4u << 20)

static int errno_or(int fallback)
{
	return errno ? -errno : fallback;
}

/* Whether st is owned by root or by owner (owner (uid_t)-1: root only). */
static int owner_ok(const struct stat *st, uid_t owner)
{
	return st->st_uid == 0 || (owner != (uid_t)-1 && st->st_uid == owner);
}

/* Opens dir_fd/name as a directory, not through a symlink, owned as owner_ok says. */
static int open_dir_at(int dir_fd, const char *name, int nofollow, uid_t owner)
{
	struct stat st;
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));

	if (fd < 0) {
		/* O_NOFOLLOW|O_DIRECTORY on a symlink fails ELOOP or ENOTDIR */
		if (errno == ELOOP || (nofollow && errno == ENOTDIR))
			return -EPERM;
		return errno_or(-EIO);
	}
	if (fstat(fd, &st) < 0) {
		int err = errno_or(-EIO);

		close(fd);
		return err;
	}
	if (!S_ISDIR(st.st_mode) || !owner_ok(&st, owner)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/*
 * Reads dir_fd/name (a regular file owned as owner_ok says, at most max bytes) into a
 * malloc'd buffer. 0 or -errno: -EPERM for a symlink, a non-regular file or a wrong
 * owner, -EFBIG when larger than max (checked on the size and again while reading, as
 * the file may grow). The buffer starts at the file's size, so a small config costs a
 * small allocation.
 */
static int read_file_at(int dir_fd, const char *name, uid_t owner, size_t max, char **buf,
			size_t *len)
{
	struct stat st;
	size_t got = 0, cap;
	char *b = NULL, *nb;
	int fd, err;

	*buf = NULL;
	*len = 0;
	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : errno_or(-EIO);
	if (fstat(fd, &st) < 0) {
		err = errno_or(-EIO);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || !owner_ok(&st, owner)) {
		err = -EPERM;
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		err = -EFBIG;
		goto out;
	}
	cap = (size_t)st.st_size + 1; /* +1: room to see that it grew */
	b = malloc(cap);
	if (!b) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (got == cap) {
			cap = cap > max / 2 ? max + 1 : cap * 2;
			nb = realloc(b, cap);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			b = nb;
		}
		r = read(fd, b + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno_or(-EIO);
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > max) {
			err = -EFBIG;
			goto out;
		}
	}
	*buf = b;
	*len = got;
	b = NULL;
	err = 0;
out:
	free(b);
	close(fd);
	return err;
}

/* A value we are willing to store: fits, no NUL, valid UTF-8 (jansson checks it too),
 * and no C0/DEL/C1 control characters, which could forge lines or terminal escapes in
 * whatever prints it later. */
static int value_ok(const char *s, size_t len, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;

	if (len >= cap || memchr(s, '\0', len) || !utf8__valid(s, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

static void store(char *dst, size_t cap, json_t *v)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (s && value_ok(s, len, cap)) {
		memcpy(dst, s, len);
		dst[len] = '\0';
	}
}

#define FIELD(name) offsetof(struct oci_identity, name), sizeof(((struct oci_identity *)0)->name)

/* Each field with its annotation keys in order of preference: containerd's CRI plugin,
 * then CRI-O's. The first key present decides, even when its value is refused: a
 * fallback is for a key that is absent, not for a value we did not like. */
static const struct {
	size_t off, cap;
	const char *keys[3];
} fields[] = {
	{ FIELD(pod_name), { "io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name" } },
	{ FIELD(pod_namespace),
	  { "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace" } },
	{ FIELD(pod_uid), { "io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid" } },
	{ FIELD(container_name),
	  { "io.kubernetes.cri.container-name", "io.kubernetes.container.name" } },
	{ FIELD(image),
	  { "io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName",
	    "io.kubernetes.cri-o.Image" } },
	{ FIELD(container_type),
	  { "io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType" } },
	{ FIELD(sandbox_id), { "io.kubernetes.cri.sandbox-id", "io.kubernetes.cri-o.SandboxID" } },
};

int oci__parse_config(const char *json, size_t len, struct oci_identity *out)
{
	json_t *root, *v, *ann;
	const char *key;
	int err = -EBADMSG;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!json)
		return -EINVAL;
	if (len > CONFIG_MAX)
		return -EFBIG;
	/* JSON_ALLOW_NUL: a "\u0000" in some unrelated string must not cost the whole
	 * identity; value_ok refuses it where we store. */
	root = json_loadb(json, len, JSON_ALLOW_NUL, NULL);
	if (!root)
		return -EBADMSG;
	if (!json_is_object(root) || !json_is_string(json_object_get(root, "ociVersion")))
		goto out;
	v = json_object_get(root, "hostname");
	if (v && !json_is_string(v))
		goto out;
	ann = json_object_get(root, "annotations");
	if (ann && !json_is_null(ann)) {
		if (!json_is_object(ann))
			goto out;
		json_object_foreach(ann, key, v)
			if (!json_is_string(v))
				goto out;
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			for (size_t k = 0; k < 3 && fields[i].keys[k]; k++) {
				v = json_object_get(ann, fields[i].keys[k]);
				if (!v)
					continue;
				out->has_kubernetes = 1;
				store((char *)out + fields[i].off, fields[i].cap, v);
				break;
			}
		}
	}
	v = json_object_get(root, "hostname");
	if (v)
		store(out->hostname, sizeof(out->hostname), v);
	err = 0;
out:
	json_decref(root);
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

int oci__read_bundle(const char *bundle_dir, uid_t owner_uid, struct oci_identity *out)
{
	char *buf;
	size_t len;
	int dfd, err;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!bundle_dir || bundle_dir[0] != '/')
		return -EINVAL;
	/* The bundle path itself may go through symlinks (/var/run): what matters is the
	 * directory it leads to, which must be root's or the expected owner's. */
	dfd = open_dir_at(AT_FDCWD, bundle_dir, 0, owner_uid);
	if (dfd < 0)
		return dfd;
	err = read_file_at(dfd, "config.json", owner_uid, CONFIG_MAX, &buf, &len);
	close(dfd);
	if (err)
		return err;
	err = oci__parse_config(buf, len, out);
	free(buf);
	return err;
}

/* An absolute path without ".." components and without NUL, as a bundle must be. */
static int bundle_ok(const char *s, size_t len)
{
	if (len == 0 || s[0] != '/' || memchr(s, '\0', len))
		return 0;
	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && s[j] != '/')
			j++;
		if (j - i == 2 && s[i] == '.' && s[i + 1] == '.')
			return 0;
		i = j + 1;
	}
	return 1;
}

/* runc: {"config": {"labels": ["bundle=/path", ...]}}; the first "bundle=" label, as
 * runc's own utils.SearchLabels takes. */
static json_t *runc_bundle(json_t *root)
{
	json_t *labels = json_object_get(json_object_get(root, "config"), "labels"), *v;
	size_t i;

	json_array_foreach(labels, i, v) {
		const char *s = json_string_value(v);

		if (s && strncmp(s, "bundle=", 7) == 0)
			return v;
	}
	return NULL;
}

int oci__bundle_from_state(const char *runtime, const char *root, const char *id,
			   char *bundle, size_t bundle_len)
{
	const char *file, *s;
	json_t *doc = NULL, *v;
	char *buf = NULL;
	size_t len, skip;
	int rfd = -1, dfd = -1, err, is_runc;

	if (!bundle || bundle_len == 0)
		return -EINVAL;
	bundle[0] = '\0';
	if (!runtime || !cgpath__valid_runtime_id(id))
		return -EINVAL;
	if (strcmp(runtime, "runc") == 0)
		is_runc = 1;
	else if (strcmp(runtime, "crun") == 0)
		is_runc = 0;
	else
		return -EOPNOTSUPP;
	if (!root || !*root)
		root = is_runc ? "/run/runc" : "/run/crun";
	if (root[0] != '/' || !bundle_ok(root, strlen(root)))
		return -EINVAL;
	file = is_runc ? "state.json" : "status";

	/* Root, the container's dir and its state file must all be root's: a state dir
	 * that another user can write could name any bundle. */
	rfd = open_dir_at(AT_FDCWD, root, 0, (uid_t)-1);
	if (rfd < 0)
		return rfd;
	dfd = open_dir_at(rfd, id, 1, (uid_t)-1);
	if (dfd < 0) {
		err = dfd;
		goto out;
	}
	err = read_file_at(dfd, file, (uid_t)-1, STATE_MAX, &buf, &len);
	if (err)
		goto out;
	err = -EBADMSG;
	doc = json_loadb(buf, len, 0, NULL);
	if (!json_is_object(doc))
		goto out;
	v = is_runc ? runc_bundle(doc) : json_object_get(doc, "bundle");
	s = json_string_value(v);
	if (!s)
		goto out;
	len = json_string_length(v);
	skip = is_runc ? 7 : 0;
	if (!bundle_ok(s + skip, len - skip))
		goto out;
	if (len - skip >= bundle_len) {
		err = -ENAMETOOLONG;
		goto out;
	}
	memcpy(bundle, s + skip, len - skip);
	bundle[len - skip] = '\0';
	err = 0;
out:
	json_decref(doc);
	free(buf);
	if (dfd >= 0)
		close(dfd);
	if (rfd >= 0)
		close(rfd);
	return err;
}
