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
#include <stdint.h>
#include <stdio.h>
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

/* Each field with its annotation keys: containerd's CRI plugin's, and CRI-O's in order
 * of preference. Within a spelling the first key present decides, even when its value is
 * refused: a fallback is for a key that is absent, not for a value we did not like. */
static const struct {
	size_t off, cap;
	const char *containerd;
	const char *crio[2];
} fields[] = {
	{ FIELD(pod_name), "io.kubernetes.cri.sandbox-name", { "io.kubernetes.pod.name" } },
	{ FIELD(pod_namespace), "io.kubernetes.cri.sandbox-namespace",
	  { "io.kubernetes.pod.namespace" } },
	{ FIELD(pod_uid), "io.kubernetes.cri.sandbox-uid", { "io.kubernetes.pod.uid" } },
	{ FIELD(container_name), "io.kubernetes.cri.container-name",
	  { "io.kubernetes.container.name" } },
	{ FIELD(image), "io.kubernetes.cri.image-name",
	  { "io.kubernetes.cri-o.ImageName", "io.kubernetes.cri-o.Image" } },
	{ FIELD(container_type), "io.kubernetes.cri.container-type",
	  { "io.kubernetes.cri-o.ContainerType" } },
	{ FIELD(sandbox_id), "io.kubernetes.cri.sandbox-id", { "io.kubernetes.cri-o.SandboxID" } },
};

/* Whether any key of the spelling is present. */
static int spelling_present(json_t *ann, enum oci_keys keys)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (keys == OCI_KEYS_CONTAINERD && json_object_get(ann, fields[i].containerd))
			return 1;
		for (size_t k = 0; keys == OCI_KEYS_CRIO && k < 2 && fields[i].crio[k]; k++)
			if (json_object_get(ann, fields[i].crio[k]))
				return 1;
	}
	return 0;
}

static void read_annotations(json_t *ann, enum oci_keys keys, struct oci_identity *out)
{
	if (keys == OCI_KEYS_ANY) {
		int cd = spelling_present(ann, OCI_KEYS_CONTAINERD);
		int crio = spelling_present(ann, OCI_KEYS_CRIO);

		if (cd && crio) {
			/* Nothing says which runtime wrote which: neither is taken. */
			out->has_kubernetes = 1;
			out->keys_mixed = 1;
			return;
		}
		keys = cd ? OCI_KEYS_CONTAINERD : OCI_KEYS_CRIO;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *const *k = keys == OCI_KEYS_CONTAINERD ? &fields[i].containerd
								   : fields[i].crio;
		size_t n = keys == OCI_KEYS_CONTAINERD ? 1 : 2;

		for (size_t j = 0; j < n && k[j]; j++) {
			json_t *v = json_object_get(ann, k[j]);

			if (!v)
				continue;
			out->has_kubernetes = 1;
			store((char *)out + fields[i].off, fields[i].cap, v);
			break;
		}
	}
}

int oci__parse_config_keys(const char *json, size_t len, enum oci_keys keys,
			   struct oci_identity *out)
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
		read_annotations(ann, keys, out);
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

int oci__parse_config(const char *json, size_t len, struct oci_identity *out)
{
	return oci__parse_config_keys(json, len, OCI_KEYS_ANY, out);
}

enum oci_keys oci__bundle_keys(const char *bundle_dir)
{
	const char *p, *end;
	size_t n;

	if (!bundle_dir)
		return OCI_KEYS_ANY;
	if (strstr(bundle_dir, "/io.containerd.runtime.v2.task/") ||
	    strstr(bundle_dir, "/io.containerd.runtime.v1.linux/"))
		return OCI_KEYS_CONTAINERD;
	/* .../overlay-containers/<id>/userdata[/] */
	p = strstr(bundle_dir, "/overlay-containers/");
	if (!p)
		return OCI_KEYS_ANY;
	p += strlen("/overlay-containers/");
	end = strchr(p, '/');
	if (!end || end == p)
		return OCI_KEYS_ANY;
	n = strlen(end);
	while (n > 1 && end[n - 1] == '/')
		n--;
	return n == strlen("/userdata") && !memcmp(end, "/userdata", n) ? OCI_KEYS_CRIO
									 : OCI_KEYS_ANY;
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
	err = oci__parse_config_keys(buf, len, oci__bundle_keys(bundle_dir), out);
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

/* A number of the state: a JSON integer >= 0, or its digits as a string (older runc
 * wrote init_process_start so). 0 when absent or anything else. */
static uint64_t state_number(json_t *v)
{
	const char *s = json_string_value(v);
	uint64_t n = 0;

	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	if (!s || !*s || strlen(s) > 19)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	return n;
}

/* Copies a path of the state (absolute, no "..", no NUL) into dst; -EBADMSG if not one,
 * -ENAMETOOLONG if it does not fit. */
static int state_path(json_t *v, size_t skip, char *dst, size_t cap)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (!s || len < skip || !bundle_ok(s + skip, len - skip))
		return -EBADMSG;
	if (len - skip >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, s + skip, len - skip);
	dst[len - skip] = '\0';
	return 0;
}

int oci__read_state(const char *runtime, const char *root, const char *id,
		    struct oci_state *out)
{
	const char *file;
	json_t *doc = NULL, *cg;
	char *buf = NULL;
	size_t len;
	int rfd = -1, dfd = -1, err, is_runc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
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
	err = state_path(is_runc ? runc_bundle(doc) : json_object_get(doc, "bundle"),
			 is_runc ? 7 : 0, out->bundle, sizeof(out->bundle));
	if (err)
		goto out;
	/* The cgroup is optional (a runtime may not record it); a recorded one that is not
	 * a clean absolute path is a broken state, not a missing cgroup. */
	cg = is_runc ? json_object_get(json_object_get(doc, "cgroup_paths"), "")
		     : json_object_get(doc, "cgroup-path");
	if (cg && (err = state_path(cg, 0, out->cgroup, sizeof(out->cgroup))))
		goto out;
	out->init_pid = (int64_t)state_number(json_object_get(doc, is_runc ? "init_process_pid" : "pid"));
	out->init_start = state_number(
		json_object_get(doc, is_runc ? "init_process_start" : "process-start-time"));
	if (out->init_pid > INT32_MAX)
		out->init_pid = 0;
	err = 0;
out:
	json_decref(doc);
	free(buf);
	if (dfd >= 0)
		close(dfd);
	if (rfd >= 0)
		close(rfd);
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

int oci__bundle_from_state(const char *runtime, const char *root, const char *id,
			   char *bundle, size_t bundle_len)
{
	struct oci_state *st;
	size_t len;
	int err;

	if (!bundle || bundle_len == 0)
		return -EINVAL;
	bundle[0] = '\0';
	st = malloc(sizeof(*st)); /* 8 KiB: not on a worker thread's stack */
	if (!st)
		return -ENOMEM;
	err = oci__read_state(runtime, root, id, st);
	if (!err) {
		len = strlen(st->bundle);
		if (len >= bundle_len)
			err = -ENAMETOOLONG;
		else
			memcpy(bundle, st->bundle, len + 1);
	}
	free(st);
	return err;
}

/* The start time (field 22, clock ticks since boot) of /proc/<pid>/stat; 0 if unknown. */
static uint64_t proc_start(int64_t pid)
{
	char path[64], buf[1024], *p;
	uint64_t start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: the fields start after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

/* The cgroup2 path ("0::" line) of /proc/<pid>/cgroup into out; -errno. */
static int proc_cgroup2(int64_t pid, char *out, size_t cap)
{
	char path[64], buf[8192], *line, *save = NULL;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%lld/cgroup", (long long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : errno_or(-EIO);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return errno_or(-EIO);
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "0::", 3))
			continue;
		if (strlen(line + 3) >= cap)
			return -ENAMETOOLONG;
		strcpy(out, line + 3);
		return 0;
	}
	return -ENOENT;
}

/* Paths from the cgroup2 root, equal but for trailing slashes. */
static int same_cgroup_path(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	while (na > 1 && a[na - 1] == '/')
		na--;
	while (nb > 1 && b[nb - 1] == '/')
		nb--;
	return na == nb && !memcmp(a, b, na);
}

int oci__state_ties(const struct oci_state *st, uint64_t cgroup_id, const char *cgroup_path,
		    char *why, size_t why_len)
{
	char init_cg[4096];
	struct stat sb;
	int err;

	if (why && why_len)
		why[0] = '\0';
	if (!st || !cgroup_path)
		return -EINVAL;
	if (st->cgroup[0]) {
		/* runc records the directory as mounted (absolute): the cgroup id is its inode.
		 * crun records it from the cgroup2 root: compared as a path. */
		if (stat(st->cgroup, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    !strncmp(st->cgroup, "/sys/fs/cgroup/", 15)) {
			if ((uint64_t)sb.st_ino == cgroup_id)
				return 1;
		} else if (same_cgroup_path(st->cgroup, cgroup_path)) {
			return 1;
		}
		if (why)
			snprintf(why, why_len, "the runtime's state puts the container in %.200s",
				 st->cgroup);
		return 0;
	}
	if (st->init_pid <= 0)
		return -ESRCH;
	/* The init named by the state, if it is still that process (pids are reused). */
	if (!st->init_start || proc_start(st->init_pid) != st->init_start)
		return -ESRCH;
	err = proc_cgroup2(st->init_pid, init_cg, sizeof(init_cg));
	if (err)
		return err;
	if (same_cgroup_path(init_cg, cgroup_path))
		return 1;
	if (why)
		snprintf(why, why_len, "the container's init (pid %lld) runs in %.200s",
			 (long long)st->init_pid, init_cg);
	return 0;
}
