/* Unit tests for user/identity/oci.c: CRI annotations in containerd's and CRI-O's spelling, values
 * refused without truncation, hostile JSON; reading a bundle with its ownership, symlink,
 * type and size checks; and the bundle recorded by runc's and crun's state, both in
 * made-up state dirs and in the state of a container really created by runc and crun. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "identity/oci.h"

#define CID "d0a3c9cbb3b7d1ab4b7e5e1f3fbc4d2f6c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
#define SID "7f2e8c1a9b3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7"
#define UID "4c8e6d2a-1f3b-4a5c-9d7e-0b1c2d3e4f5a"

/* A container's config.json as containerd's CRI plugin writes it (trimmed). */
static const char containerd_config[] =
	"{\"ociVersion\":\"1.1.0\","
	"\"process\":{\"user\":{\"uid\":101,\"gid\":101},\"args\":[\"nginx\",\"-g\",\"daemon off;\"],"
	"\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
	"\"HOSTNAME=web-7d4b9c8f6-x2x9k\"],\"cwd\":\"/\",\"capabilities\":{\"bounding\":"
	"[\"CAP_CHOWN\",\"CAP_NET_BIND_SERVICE\"]},\"oomScoreAdj\":1000},"
	"\"root\":{\"path\":\"rootfs\"},"
	"\"hostname\":\"web-7d4b9c8f6-x2x9k\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\"]}],"
	"\"annotations\":{"
	"\"io.kubernetes.cri.container-name\":\"nginx\","
	"\"io.kubernetes.cri.container-type\":\"container\","
	"\"io.kubernetes.cri.image-name\":\"docker.io/library/nginx:1.25\","
	"\"io.kubernetes.cri.sandbox-id\":\"" SID "\","
	"\"io.kubernetes.cri.sandbox-name\":\"web-7d4b9c8f6-x2x9k\","
	"\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
	"\"io.kubernetes.cri.sandbox-uid\":\"" UID "\"},"
	"\"linux\":{\"cgroupsPath\":\"kubepods-besteffort-pod4c8e6d2a_1f3b_4a5c_9d7e_0b1c2d3e4f5a"
	".slice:cri-containerd:" CID "\",\"namespaces\":[{\"type\":\"pid\"},"
	"{\"type\":\"network\",\"path\":\"/proc/4242/ns/net\"}]}}";

/* The same container under CRI-O (trimmed; CRI-O adds many more annotations). */
static const char crio_config[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"args\":[\"nginx\"]},"
	"\"root\":{\"path\":\"/var/lib/containers/storage/overlay/abc/merged\"},"
	"\"hostname\":\"web-7d4b9c8f6-x2x9k\","
	"\"annotations\":{"
	"\"io.container.manager\":\"cri-o\","
	"\"io.kubernetes.container.hash\":\"5b4f1a2c\","
	"\"io.kubernetes.container.name\":\"nginx\","
	"\"io.kubernetes.cri-o.ContainerID\":\"" CID "\","
	"\"io.kubernetes.cri-o.ContainerType\":\"container\","
	"\"io.kubernetes.cri-o.Image\":\"sha256:a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6\","
	"\"io.kubernetes.cri-o.ImageName\":\"docker.io/library/nginx:1.25\","
	"\"io.kubernetes.cri-o.Labels\":\"{\\\"io.kubernetes.container.name\\\":\\\"nginx\\\"}\","
	"\"io.kubernetes.cri-o.SandboxID\":\"" SID "\","
	"\"io.kubernetes.pod.name\":\"web-7d4b9c8f6-x2x9k\","
	"\"io.kubernetes.pod.namespace\":\"shop\","
	"\"io.kubernetes.pod.terminationGracePeriod\":\"30\","
	"\"io.kubernetes.pod.uid\":\"" UID "\"}}";

static void expect_identity(const struct oci_identity *id, const char *pod, const char *ns,
			    const char *uid, const char *name, const char *image, const char *type,
			    const char *sandbox, const char *hostname, int kube)
{
	assert_string_equal(id->pod_name, pod);
	assert_string_equal(id->pod_namespace, ns);
	assert_string_equal(id->pod_uid, uid);
	assert_string_equal(id->container_name, name);
	assert_string_equal(id->image, image);
	assert_string_equal(id->container_type, type);
	assert_string_equal(id->sandbox_id, sandbox);
	assert_string_equal(id->hostname, hostname);
	assert_int_equal(id->has_kubernetes, kube);
}

static int parse(const char *json, struct oci_identity *id)
{
	memset(id, 0xa5, sizeof(*id));
	return oci__parse_config(json, strlen(json), id);
}

/* Parses "{ociVersion, <body>}" and returns the result. */
static int parse_body(const char *body, struct oci_identity *id)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "{\"ociVersion\":\"1.0.2\"%s%s}", *body ? "," : "", body);
	return parse(buf, id);
}

static void test_parse_containerd(void **state)
{
	struct oci_identity id;

	(void)state;
	assert_int_equal(parse(containerd_config, &id), 0);
	expect_identity(&id, "web-7d4b9c8f6-x2x9k", "shop", UID, "nginx",
			"docker.io/library/nginx:1.25", "container", SID, "web-7d4b9c8f6-x2x9k", 1);
	/* the pod's sandbox (pause) container: no container name */
	assert_int_equal(
		parse_body("\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","
			   "\"io.kubernetes.cri.sandbox-id\":\"" SID "\","
			   "\"io.kubernetes.cri.sandbox-name\":\"web\","
			   "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
			   "\"io.kubernetes.cri.sandbox-uid\":\"" UID "\","
			   "\"io.kubernetes.cri.sandbox-log-directory\":\"/var/log/pods/x\"}",
			   &id),
		0);
	expect_identity(&id, "web", "shop", UID, "", "", "sandbox", SID, "", 1);
}

static void test_parse_crio(void **state)
{
	struct oci_identity id;

	(void)state;
	assert_int_equal(parse(crio_config, &id), 0);
	expect_identity(&id, "web-7d4b9c8f6-x2x9k", "shop", UID, "nginx",
			"docker.io/library/nginx:1.25", "container", SID, "web-7d4b9c8f6-x2x9k", 1);
	/* without ImageName, Image is the image */
	assert_int_equal(parse_body("\"annotations\":{\"io.kubernetes.cri-o.Image\":"
				    "\"quay.io/crio/pause:3.9\",\"io.kubernetes.cri-o.ContainerType\":"
				    "\"sandbox\",\"io.kubernetes.container.name\":\"POD\"}",
				    &id),
			 0);
	expect_identity(&id, "", "", "", "POD", "quay.io/crio/pause:3.9", "sandbox", "", "", 1);
	/* both spellings in a bundle of an unknown maker: neither is taken */
	static const char both[] = "{\"ociVersion\":\"1.0.2\",\"annotations\":{"
				   "\"io.kubernetes.pod.name\":\"b\","
				   "\"io.kubernetes.cri.sandbox-name\":\"a\","
				   "\"io.kubernetes.pod.namespace\":\"ns\"}}";
	assert_int_equal(parse(both, &id), 0);
	expect_identity(&id, "", "", "", "", "", "", "", "", 1);
	assert_int_equal(id.keys_mixed, 1);
	/* a containerd bundle reads containerd's keys only, a CRI-O bundle CRI-O's only */
	assert_int_equal(oci__parse_config_keys(both, strlen(both), OCI_KEYS_CONTAINERD, &id), 0);
	expect_identity(&id, "a", "", "", "", "", "", "", "", 1);
	assert_int_equal(id.keys_mixed, 0);
	assert_int_equal(oci__parse_config_keys(both, strlen(both), OCI_KEYS_CRIO, &id), 0);
	expect_identity(&id, "b", "ns", "", "", "", "", "", "", 1);
	/* the full CRI-O config read as containerd's: nothing Kubernetes in it */
	assert_int_equal(oci__parse_config_keys(crio_config, strlen(crio_config),
						OCI_KEYS_CONTAINERD, &id), 0);
	expect_identity(&id, "", "", "", "", "", "", "", "web-7d4b9c8f6-x2x9k", 0);
	assert_int_equal(oci__parse_config_keys(containerd_config, strlen(containerd_config),
						OCI_KEYS_CRIO, &id), 0);
	expect_identity(&id, "", "", "", "", "", "", "", "web-7d4b9c8f6-x2x9k", 0);
}

/* The maker of a bundle, by where the runtime keeps it. */
static void test_bundle_keys(void **state)
{
	(void)state;
	assert_int_equal(oci__bundle_keys("/run/containerd/io.containerd.runtime.v2.task/k8s.io/" CID),
			 OCI_KEYS_CONTAINERD);
	assert_int_equal(oci__bundle_keys("/tmp/st/io.containerd.runtime.v2.task/ns1/c1"),
			 OCI_KEYS_CONTAINERD);
	assert_int_equal(oci__bundle_keys("/run/containerd/io.containerd.runtime.v1.linux/moby/c1"),
			 OCI_KEYS_CONTAINERD);
	assert_int_equal(oci__bundle_keys("/run/containers/storage/overlay-containers/" CID "/userdata"),
			 OCI_KEYS_CRIO);
	assert_int_equal(oci__bundle_keys("/var/run/containers/storage/overlay-containers/" CID
					  "/userdata/"),
			 OCI_KEYS_CRIO);
	assert_int_equal(oci__bundle_keys("/run/containers/storage/overlay-containers/" CID
					  "/userdata/x"),
			 OCI_KEYS_ANY);
	assert_int_equal(oci__bundle_keys("/run/containers/storage/overlay-containers//userdata"),
			 OCI_KEYS_ANY);
	assert_int_equal(oci__bundle_keys("/srv/bundles/web"), OCI_KEYS_ANY);
	assert_int_equal(oci__bundle_keys("/srv/io.containerd.runtime.v2.task"), OCI_KEYS_ANY);
	assert_int_equal(oci__bundle_keys(NULL), OCI_KEYS_ANY);
}

static void test_parse_missing(void **state)
{
	struct oci_identity id;

	(void)state;
	assert_int_equal(parse_body("", &id), 0);
	expect_identity(&id, "", "", "", "", "", "", "", "", 0);
	assert_int_equal(parse_body("\"annotations\":{}", &id), 0);
	expect_identity(&id, "", "", "", "", "", "", "", "", 0);
	assert_int_equal(parse_body("\"annotations\":null,\"hostname\":\"box\"", &id), 0);
	expect_identity(&id, "", "", "", "", "", "", "", "box", 0);
	/* a plain runc bundle: `runc spec`'s hostname, podman's own annotations */
	assert_int_equal(parse_body("\"hostname\":\"runc\",\"annotations\":{"
				    "\"io.podman.annotations.autoremove\":\"FALSE\","
				    "\"org.opencontainers.image.stopSignal\":\"15\"}",
				    &id),
			 0);
	expect_identity(&id, "", "", "", "", "", "", "", "runc", 0);
	/* a key present with an empty value still says Kubernetes */
	assert_int_equal(parse_body("\"annotations\":{\"io.kubernetes.pod.uid\":\"\"}", &id), 0);
	expect_identity(&id, "", "", "", "", "", "", "", "", 1);
}

/* Values we refuse are left empty, never truncated; the rest of the identity stays. */
static void test_parse_values_refused(void **state)
{
	struct oci_identity id;
	char body[2048], v[300];

	(void)state;
	memset(v, 'a', sizeof(v));
	v[255] = '\0'; /* 255 bytes: fits OCI_VALUE_MAX with its NUL */
	snprintf(body, sizeof(body),
		 "\"annotations\":{\"io.kubernetes.pod.name\":\"%s\","
		 "\"io.kubernetes.pod.namespace\":\"shop\"}", v);
	assert_int_equal(parse_body(body, &id), 0);
	assert_string_equal(id.pod_name, v);
	v[255] = 'a';
	v[256] = '\0';
	snprintf(body, sizeof(body),
		 "\"annotations\":{\"io.kubernetes.pod.name\":\"%s\","
		 "\"io.kubernetes.pod.namespace\":\"shop\"}", v);
	assert_int_equal(parse_body(body, &id), 0);
	expect_identity(&id, "", "shop", "", "", "", "", "", "", 1);
	/* multibyte: 254 bytes + a 2-byte character is 256: refused, not cut mid-character */
	memset(v, 'a', 254);
	memcpy(v + 254, "\xc3\xa9", 3);
	snprintf(body, sizeof(body), "\"hostname\":\"%s\"", v);
	assert_int_equal(parse_body(body, &id), 0);
	assert_string_equal(id.hostname, "");
	assert_int_equal(parse_body("\"hostname\":\"caf\xc3\xa9 \xe2\x82\xac\"", &id), 0);
	assert_string_equal(id.hostname, "caf\xc3\xa9 \xe2\x82\xac");
	/* container_type has 32 bytes */
	assert_int_equal(parse_body("\"annotations\":{\"io.kubernetes.cri.container-type\":"
				    "\"0123456789012345678901234567890\"}",
				    &id),
			 0);
	assert_string_equal(id.container_type, "0123456789012345678901234567890");
	assert_int_equal(parse_body("\"annotations\":{\"io.kubernetes.cri.container-type\":"
				    "\"01234567890123456789012345678901\"}",
				    &id),
			 0);
	assert_string_equal(id.container_type, "");
	/* control characters: C0, DEL, C1 (U+0085, U+009B CSI), escaped NUL */
	static const char *const ctl[] = { "a\\nb", "a\\tb", "a\\u001bb", "a\\u007fb",
					   "a\\u0085b", "a\\u009b2Jb", "a\\u0000b", "\\r" };
	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		snprintf(body, sizeof(body),
			 "\"hostname\":\"%s\",\"annotations\":{\"io.kubernetes.pod.name\":\"%s\","
			 "\"io.kubernetes.pod.namespace\":\"shop\"}", ctl[i], ctl[i]);
		assert_int_equal(parse_body(body, &id), 0);
		expect_identity(&id, "", "shop", "", "", "", "", "", "", 1);
	}
	/* U+00A0 and U+2028 are not control characters */
	assert_int_equal(parse_body("\"hostname\":\"a\\u00a0b\\u2028\"", &id), 0);
	assert_string_equal(id.hostname, "a\xc2\xa0" "b\xe2\x80\xa8");
	/* an escaped NUL elsewhere costs nothing */
	assert_int_equal(parse_body("\"process\":{\"env\":[\"X=\\u0000\"]},\"hostname\":\"h\"",
				    &id),
			 0);
	assert_string_equal(id.hostname, "h");
	/* a present-but-refused key does not fall back to the next spelling */
	assert_int_equal(parse_body("\"annotations\":{\"io.kubernetes.cri-o.ImageName\":\"a\\nb\","
				    "\"io.kubernetes.cri-o.Image\":\"img\"}",
				    &id),
			 0);
	assert_string_equal(id.image, "");
	/* a duplicated key keeps its last value, as Go's encoding/json (runc) does */
	assert_int_equal(parse_body("\"hostname\":\"first\",\"hostname\":\"last\"", &id), 0);
	assert_string_equal(id.hostname, "last");
}

static void expect_bad(const char *json, size_t len, int want)
{
	struct oci_identity id;

	memset(&id, 0xa5, sizeof(id));
	assert_int_equal(oci__parse_config(json, len, &id), want);
	expect_identity(&id, "", "", "", "", "", "", "", "", 0);
}

#define BAD(lit) expect_bad(lit, sizeof(lit) - 1, -EBADMSG)

static void test_parse_bad(void **state)
{
	char *big;
	size_t n = 200000;

	(void)state;
	BAD("");
	BAD("not json");
	BAD("[]");
	BAD("\"ociVersion\"");
	BAD("{}");
	BAD("{\"ociVersion\":1}");
	BAD("{\"ociVersion\":null}");
	BAD("{\"ociVersion\":\"1.0\"");                               /* cut */
	BAD("{\"ociVersion\":\"1.0\"} {}");                           /* trailing */
	BAD("{\"ociVersion\":\"1.0\",\"annotations\":[]}");
	BAD("{\"ociVersion\":\"1.0\",\"annotations\":\"x\"}");
	BAD("{\"ociVersion\":\"1.0\",\"annotations\":{\"io.kubernetes.pod.name\":5}}");
	BAD("{\"ociVersion\":\"1.0\",\"annotations\":{\"other\":{\"a\":\"b\"}}}");
	BAD("{\"ociVersion\":\"1.0\",\"hostname\":{}}");
	BAD("{\"ociVersion\":\"1.0\",\"hostname\":null}");
	BAD("{\"ociVersion\":\"1.0\",\"hostname\":\"\xff\"}");        /* not UTF-8 */
	BAD("{\"ociVersion\":\"1.0\",\"hostname\":\"\\ud800\"}");     /* lone surrogate */
	BAD("{\"ociVersion\":\"1.0\",\"hostname\":\"a\0b\"}");        /* raw NUL */
	BAD("{\"ociVersion\":\"1.0\",\"hostname\":\"a\nb\"}");        /* raw newline */
	BAD("{\"ociVersion\":\"1.0\"}\0");
	expect_bad(NULL, 0, -EINVAL);
	assert_int_equal(oci__parse_config("{}", 2, NULL), -EINVAL);

	big = malloc((1 << 20) + 2);
	assert_non_null(big);
	/* deep nesting, far past jansson's limit */
	memcpy(big, "{\"ociVersion\":\"1\",\"x\":", 22);
	memset(big + 22, '[', n);
	memset(big + 22 + n, ']', n);
	big[22 + 2 * n] = '}';
	expect_bad(big, 22 + 2 * n + 1, -EBADMSG);
	/* nesting within the limit is fine */
	memset(big + 22, '[', 1000);
	memset(big + 22 + 1000, ']', 1000);
	memcpy(big + 2022, ",\"hostname\":\"h\"}", 17);
	{
		struct oci_identity id;

		assert_int_equal(oci__parse_config(big, strlen(big), &id), 0);
		assert_string_equal(id.hostname, "h");
	}
	/* a huge annotation value: refused, the others kept */
	{
		struct oci_identity id;
		size_t o = 0;

		o += (size_t)sprintf(big, "{\"ociVersion\":\"1\",\"annotations\":{"
					  "\"io.kubernetes.pod.namespace\":\"shop\","
					  "\"io.kubernetes.pod.name\":\"");
		memset(big + o, 'x', 900000);
		o += 900000;
		memcpy(big + o, "\"}}", 4);
		assert_int_equal(oci__parse_config(big, strlen(big), &id), 0);
		expect_identity(&id, "", "shop", "", "", "", "", "", "", 1);
	}
	/* exactly 1 MiB parses; one byte more is too big */
	memset(big, ' ', (1 << 20) + 1);
	memcpy(big, "{\"ociVersion\":\"1\"}", 18);
	{
		struct oci_identity id;

		assert_int_equal(oci__parse_config(big, 1 << 20, &id), 0);
	}
	expect_bad(big, (1 << 20) + 1, -EFBIG);
	free(big);
}

/* ---- bundles on disk -------------------------------------------------------------- */

struct fx {
	char dir[256];    /* mkdtemp; removed with everything in it */
	char bundle[300]; /* dir/bundle */
	char file[320];   /* dir/bundle/config.json */
	char ids[2][64];  /* containers created for real, deleted at teardown */
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/fl-test-oci-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->bundle, sizeof(f->bundle), "%s/bundle", f->dir);
	snprintf(f->file, sizeof(f->file), "%s/config.json", f->bundle);
	if (mkdir(f->bundle, 0755))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[512];

	for (int i = 0; i < 2; i++) {
		if (!f->ids[i][0])
			continue;
		snprintf(cmd, sizeof(cmd), "%s delete -f %s >/dev/null 2>&1", i ? "crun" : "runc",
			 f->ids[i]);
		if (system(cmd) != 0)
			fprintf(stderr, "teardown: '%s' failed\n", cmd);
	}
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void need_root(void)
{
	/* chown and real containers need root: make test runs as root, a skip would hide it */
	if (geteuid() != 0)
		fail_msg("this test needs root");
}

static void test_read_bundle(void **state)
{
	struct fx *f = *state;
	struct oci_identity id;
	char path[400];

	write_file(f->file, containerd_config, strlen(containerd_config));
	memset(&id, 0xa5, sizeof(id));
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), 0);
	expect_identity(&id, "web-7d4b9c8f6-x2x9k", "shop", UID, "nginx",
			"docker.io/library/nginx:1.25", "container", SID, "web-7d4b9c8f6-x2x9k", 1);
	/* the bundle path may be unclean or end in '/': the directory is what counts */
	snprintf(path, sizeof(path), "%s//bundle/", f->dir);
	assert_int_equal(oci__read_bundle(path, (uid_t)-1, &id), 0);

	/* not JSON */
	write_file(f->file, "{", 1);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EBADMSG);
	/* missing */
	assert_int_equal(unlink(f->file), 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -ENOENT);
	snprintf(path, sizeof(path), "%s/nope", f->dir);
	assert_int_equal(oci__read_bundle(path, (uid_t)-1, &id), -ENOENT);
	/* not absolute, or no bundle at all */
	assert_int_equal(oci__read_bundle("bundle", (uid_t)-1, &id), -EINVAL);
	assert_int_equal(oci__read_bundle("", (uid_t)-1, &id), -EINVAL);
	assert_int_equal(oci__read_bundle(NULL, (uid_t)-1, &id), -EINVAL);
	expect_identity(&id, "", "", "", "", "", "", "", "", 0);
}

static void test_read_bundle_not_a_file(void **state)
{
	struct fx *f = *state;
	struct oci_identity id;
	char path[400];

	/* a symlink to a perfectly good config elsewhere */
	snprintf(path, sizeof(path), "%s/real.json", f->dir);
	write_file(path, containerd_config, strlen(containerd_config));
	assert_int_equal(symlink(path, f->file), 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EPERM);
	assert_int_equal(unlink(f->file), 0);
	/* a dangling one */
	assert_int_equal(symlink("/nonexistent", f->file), 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EPERM);
	assert_int_equal(unlink(f->file), 0);
	/* a FIFO: refused at once, no blocking open */
	assert_int_equal(mkfifo(f->file, 0644), 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EPERM);
	assert_int_equal(unlink(f->file), 0);
	/* a directory */
	assert_int_equal(mkdir(f->file, 0755), 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EPERM);
	assert_int_equal(rmdir(f->file), 0);
	/* the bundle is a file */
	assert_int_equal(oci__read_bundle(path, (uid_t)-1, &id), -ENOTDIR);
	/* /dev/null as config.json */
	assert_int_equal(symlink("/dev/null", f->file), 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EPERM);
	assert_int_equal(unlink(f->file), 0);
	/* a symlinked bundle dir is followed: the directory it leads to is checked */
	snprintf(path, sizeof(path), "%s/link", f->dir);
	assert_int_equal(symlink(f->bundle, path), 0);
	write_file(f->file, crio_config, strlen(crio_config));
	assert_int_equal(oci__read_bundle(path, (uid_t)-1, &id), 0);
	assert_string_equal(id.pod_name, "web-7d4b9c8f6-x2x9k");
}

static void test_read_bundle_owner(void **state)
{
	struct fx *f = *state;
	struct oci_identity id;

	need_root();
	write_file(f->file, crio_config, strlen(crio_config));
	/* the file is nobody's */
	assert_int_equal(chown(f->file, 65534, 65534), 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EPERM);
	assert_int_equal(oci__read_bundle(f->bundle, 1000, &id), -EPERM);
	assert_int_equal(oci__read_bundle(f->bundle, 65534, &id), 0);
	assert_string_equal(id.pod_namespace, "shop");
	/* the directory is nobody's too */
	assert_int_equal(chown(f->bundle, 65534, 65534), 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EPERM);
	assert_int_equal(oci__read_bundle(f->bundle, 65534, &id), 0);
	/* a root-owned file in nobody's directory */
	assert_int_equal(chown(f->file, 0, 0), 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EPERM);
	assert_int_equal(oci__read_bundle(f->bundle, 65534, &id), 0);
	assert_int_equal(chown(f->bundle, 0, 0), 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), 0);
	assert_int_equal(oci__read_bundle(f->bundle, 65534, &id), 0);
}

static void test_read_bundle_size(void **state)
{
	struct fx *f = *state;
	struct oci_identity id;
	char *big = malloc((1 << 20) + 1);

	assert_non_null(big);
	memset(big, ' ', (1 << 20) + 1);
	memcpy(big, "{\"ociVersion\":\"1\",\"hostname\":\"h\"}", 33);
	write_file(f->file, big, 1 << 20);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), 0);
	assert_string_equal(id.hostname, "h");
	write_file(f->file, big, (1 << 20) + 1);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EFBIG);
	/* sparse and huge: refused on its size, not read */
	assert_int_equal(truncate(f->file, 1ll << 30), 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EFBIG);
	write_file(f->file, "", 0);
	assert_int_equal(oci__read_bundle(f->bundle, (uid_t)-1, &id), -EBADMSG);
	free(big);
}

/* ---- runtime state ---------------------------------------------------------------- */

/* Makes dir/root/id/file with data; returns root's path in out. */
static void make_state(struct fx *f, const char *root, const char *id, const char *file,
		       const char *data, char *out, size_t out_len)
{
	char path[512];

	snprintf(out, out_len, "%s/%s", f->dir, root);
	mkdir(out, 0711);
	snprintf(path, sizeof(path), "%s/%s", out, id);
	mkdir(path, 0711);
	snprintf(path, sizeof(path), "%s/%s/%s", out, id, file);
	write_file(path, data, strlen(data));
}

static void test_state_made_up(void **state)
{
	struct fx *f = *state;
	char root[400], crun_root[400], bundle[64], path[512];

	/* runc: the bundle is a label; other labels and fields around it */
	make_state(f, "runc", "c1", "state.json",
		   "{\"id\":\"c1\",\"init_process_pid\":4242,\"config\":{\"rootfs\":\"/srv/b/rootfs\","
		   "\"labels\":[\"io.containerd=1\",\"bundle=/srv/b\",\"bundle=/other\"]}}",
		   root, sizeof(root));
	assert_int_equal(oci__bundle_from_state("runc", root, "c1", bundle, sizeof(bundle)), 0);
	assert_string_equal(bundle, "/srv/b");
	/* crun: "bundle" at the top */
	make_state(f, "crun", "c1", "status",
		   "{\"pid\":4242,\"cgroup-path\":\"/c1\",\"rootfs\":\"rootfs\","
		   "\"bundle\":\"/srv/b2\",\"owner\":\"root\"}",
		   crun_root, sizeof(crun_root));
	assert_int_equal(oci__bundle_from_state("crun", crun_root, "c1", bundle, sizeof(bundle)),
			 0);
	assert_string_equal(bundle, "/srv/b2");
	/* the bundle must fit */
	assert_int_equal(oci__bundle_from_state("crun", crun_root, "c1", bundle, 7),
			 -ENAMETOOLONG);
	assert_string_equal(bundle, "");
	assert_int_equal(oci__bundle_from_state("crun", crun_root, "c1", bundle, 8), 0);

	/* the state's cgroup and init: runc's cgroup_paths[""], crun's cgroup-path */
	make_state(f, "runc", "c5", "state.json",
		   "{\"init_process_pid\":4242,\"init_process_start\":\"777\","
		   "\"cgroup_paths\":{\"memory\":\"/sys/fs/cgroup/memory/x\","
		   "\"\":\"/sys/fs/cgroup/unified/fl-no-such/c5\"},"
		   "\"config\":{\"labels\":[\"bundle=/srv/b\"]}}",
		   root, sizeof(root));
	struct oci_state st;
	char why[160];

	assert_int_equal(oci__read_state("runc", root, "c5", &st), 0);
	assert_string_equal(st.bundle, "/srv/b");
	assert_string_equal(st.cgroup, "/sys/fs/cgroup/unified/fl-no-such/c5");
	assert_int_equal(st.init_pid, 4242);
	assert_int_equal(st.init_start, 777);
	/* a recorded directory that is not there is not this cgroup */
	assert_int_equal(oci__state_ties(&st, 1, "/fl-no-such/c5", why, sizeof(why)), 0);
	assert_string_equal(why, "the runtime's state puts the container in "
				 "/sys/fs/cgroup/unified/fl-no-such/c5");
	assert_int_equal(oci__read_state("crun", crun_root, "c1", &st), 0);
	assert_string_equal(st.cgroup, "/c1");
	assert_int_equal(st.init_pid, 4242);
	assert_int_equal(oci__state_ties(&st, 1, "/c1", why, sizeof(why)), 1);
	assert_int_equal(oci__state_ties(&st, 1, "/c1/", why, sizeof(why)), 1);
	assert_int_equal(oci__state_ties(&st, 1, "/evil/c1", why, sizeof(why)), 0);
	assert_string_equal(why, "the runtime's state puts the container in /c1");
	/* no cgroup recorded: the init must still be that process (start time) */
	make_state(f, "runc", "c6", "state.json",
		   "{\"init_process_pid\":1,\"init_process_start\":1,"
		   "\"config\":{\"labels\":[\"bundle=/srv/b\"]}}",
		   root, sizeof(root));
	assert_int_equal(oci__read_state("runc", root, "c6", &st), 0);
	assert_string_equal(st.cgroup, "");
	assert_int_equal(oci__state_ties(&st, 1, "/", why, sizeof(why)), -ESRCH);
	/* a recorded cgroup that is not a clean path: a broken state */
	make_state(f, "runc", "c7", "state.json",
		   "{\"cgroup_paths\":{\"\":\"/sys/fs/cgroup/../etc\"},"
		   "\"config\":{\"labels\":[\"bundle=/srv/b\"]}}",
		   root, sizeof(root));
	assert_int_equal(oci__read_state("runc", root, "c7", &st), -EBADMSG);

	/* ids are checked before any path is built */
	static const char *const bad_ids[] = { "../runc/c1", "..", ".", "a/b", "", ".c1" };
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
		assert_int_equal(oci__bundle_from_state("runc", root, bad_ids[i], bundle,
							sizeof(bundle)),
				 -EINVAL);
	assert_int_equal(oci__bundle_from_state("runc", root, NULL, bundle, sizeof(bundle)),
			 -EINVAL);
	/* so are root and the runtime */
	snprintf(path, sizeof(path), "%s/runc/../runc", f->dir);
	assert_int_equal(oci__bundle_from_state("runc", path, "c1", bundle, sizeof(bundle)),
			 -EINVAL);
	assert_int_equal(oci__bundle_from_state("runc", "runc", "c1", bundle, sizeof(bundle)),
			 -EINVAL);
	assert_int_equal(oci__bundle_from_state("youki", root, "c1", bundle, sizeof(bundle)),
			 -EOPNOTSUPP);
	assert_int_equal(oci__bundle_from_state(NULL, root, "c1", bundle, sizeof(bundle)),
			 -EINVAL);
	assert_int_equal(oci__bundle_from_state("runc", root, "c1", NULL, 10), -EINVAL);
	assert_int_equal(oci__bundle_from_state("runc", root, "c1", bundle, 0), -EINVAL);
	/* a container that does not exist */
	assert_int_equal(oci__bundle_from_state("runc", root, "c2", bundle, sizeof(bundle)),
			 -ENOENT);
	/* crun's file is not runc's */
	assert_int_equal(oci__bundle_from_state("runc", crun_root, "c1", bundle, sizeof(bundle)),
			 -ENOENT);
}

static void test_state_bad_bundle(void **state)
{
	struct fx *f = *state;
	static const char *const docs[] = {
		"{\"config\":{\"labels\":[\"bundle=srv/b\"]}}",      /* relative */
		"{\"config\":{\"labels\":[\"bundle=/srv/../etc\"]}}", /* .. */
		"{\"config\":{\"labels\":[\"bundle=/srv/..\"]}}",
		"{\"config\":{\"labels\":[\"bundle=\"]}}",
		"{\"config\":{\"labels\":[\"bundle=/a\\u0000b\"]}}",
		"{\"config\":{\"labels\":[\"bundl=/srv/b\"]}}",
		"{\"config\":{\"labels\":[5,{\"bundle\":\"/srv/b\"}]}}",
		"{\"config\":{\"labels\":\"bundle=/srv/b\"}}",
		"{\"config\":[]}",
		"{\"bundle\":\"/srv/b\"}", /* crun's shape is not runc's */
		"[]",
		"",
		"{",
	};
	char root[400], bundle[64];

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char id[16];

		snprintf(id, sizeof(id), "c%zu", i);
		make_state(f, "runc", id, "state.json", docs[i], root, sizeof(root));
		if (oci__bundle_from_state("runc", root, id, bundle, sizeof(bundle)) != -EBADMSG)
			fail_msg("%s: not -EBADMSG", docs[i]);
		assert_string_equal(bundle, "");
	}
	make_state(f, "crun", "c1", "status", "{\"bundle\":\"rootfs/..\"}", root, sizeof(root));
	assert_int_equal(oci__bundle_from_state("crun", root, "c1", bundle, sizeof(bundle)),
			 -EBADMSG);
	make_state(f, "crun", "c2", "status", "{\"bundle\":[\"/srv/b\"]}", root, sizeof(root));
	assert_int_equal(oci__bundle_from_state("crun", root, "c2", bundle, sizeof(bundle)),
			 -EBADMSG);
}

static void test_state_not_root_or_symlink(void **state)
{
	struct fx *f = *state;
	char root[400], path[512], bundle[64];
	static const char doc[] = "{\"config\":{\"labels\":[\"bundle=/srv/b\"]}}";

	need_root();
	make_state(f, "runc", "c1", "state.json", doc, root, sizeof(root));
	assert_int_equal(oci__bundle_from_state("runc", root, "c1", bundle, sizeof(bundle)), 0);
	/* the file is a user's */
	snprintf(path, sizeof(path), "%s/c1/state.json", root);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(oci__bundle_from_state("runc", root, "c1", bundle, sizeof(bundle)),
			 -EPERM);
	assert_int_equal(chown(path, 0, 0), 0);
	/* the container's dir is */
	snprintf(path, sizeof(path), "%s/c1", root);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(oci__bundle_from_state("runc", root, "c1", bundle, sizeof(bundle)),
			 -EPERM);
	assert_int_equal(chown(path, 0, 0), 0);
	/* the root is */
	assert_int_equal(chown(root, 65534, 65534), 0);
	assert_int_equal(oci__bundle_from_state("runc", root, "c1", bundle, sizeof(bundle)),
			 -EPERM);
	assert_int_equal(chown(root, 0, 0), 0);
	/* the state file is a symlink to a root-owned one */
	make_state(f, "runc", "c2", "x.json", doc, root, sizeof(root));
	snprintf(path, sizeof(path), "%s/c2/state.json", root);
	assert_int_equal(symlink("x.json", path), 0);
	assert_int_equal(oci__bundle_from_state("runc", root, "c2", bundle, sizeof(bundle)),
			 -EPERM);
	/* the container's dir is a symlink to another container's */
	snprintf(path, sizeof(path), "%s/c3", root);
	assert_int_equal(symlink("c1", path), 0);
	assert_int_equal(oci__bundle_from_state("runc", root, "c3", bundle, sizeof(bundle)),
			 -EPERM);
	/* the state file is a FIFO */
	make_state(f, "runc", "c4", "x.json", doc, root, sizeof(root));
	snprintf(path, sizeof(path), "%s/c4/state.json", root);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(oci__bundle_from_state("runc", root, "c4", bundle, sizeof(bundle)),
			 -EPERM);
}

/* `runc spec` into f->bundle, made runnable up to "create": no terminal, an executable
 * that exists (create only checks it; nothing is ever started) and CRI annotations. */
static void make_real_bundle(struct fx *f)
{
	char cmd[512], path[400];
	json_t *spec, *process;

	snprintf(cmd, sizeof(cmd), "runc spec --bundle %s >/dev/null 2>&1", f->bundle);
	assert_int_equal(system(cmd), 0); /* runc is installed by scripts/deps.sh */
	spec = json_load_file(f->file, 0, NULL);
	assert_non_null(spec);
	process = json_object_get(spec, "process");
	json_object_set_new(process, "terminal", json_false());
	json_object_set_new(process, "args", json_pack("[s]", "/x"));
	json_object_set_new(spec, "annotations",
			    json_pack("{s:s, s:s, s:s}", "io.kubernetes.cri.sandbox-name", "web",
				      "io.kubernetes.cri.sandbox-namespace", "shop",
				      "io.kubernetes.cri.container-type", "container"));
	assert_int_equal(json_dump_file(spec, f->file, 0), 0);
	json_decref(spec);
	snprintf(path, sizeof(path), "%s/rootfs", f->bundle);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/rootfs/x", f->bundle);
	write_file(path, "", 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/* A container created by the real runc and crun, with their default state roots. */
static void test_state_real(void **state)
{
	struct fx *f = *state;
	static const char *const rt[2] = { "runc", "crun" };
	char cmd[1024], bundle[4096], real[PATH_MAX];
	struct oci_identity id;
	int created = 0;

	need_root();
	make_real_bundle(f);
	assert_non_null(realpath(f->bundle, real)); /* the runtimes record it resolved */
	for (int i = 0; i < 2; i++) {
		snprintf(f->ids[i], sizeof(f->ids[i]), "fl-test-oci-%d-%s", (int)getpid(), rt[i]);
		snprintf(cmd, sizeof(cmd), "cd %s && %s create %s </dev/null >/dev/null 2>&1",
			 f->bundle, rt[i], f->ids[i]);
		if (system(cmd) != 0) {
			fprintf(stderr, "note: '%s' failed; not tested\n", cmd);
			f->ids[i][0] = '\0';
			continue;
		}
		created++;
		memset(bundle, 'x', sizeof(bundle));
		assert_int_equal(oci__bundle_from_state(rt[i], NULL, f->ids[i], bundle,
							sizeof(bundle)),
				 0);
		assert_string_equal(bundle, real);
		assert_int_equal(oci__read_bundle(bundle, (uid_t)-1, &id), 0);
		expect_identity(&id, "web", "shop", "", "", "", "container", "", "runc", 1);
		/* the state ties the container to its own cgroup, by inode, and no other */
		struct oci_state st;
		struct stat sb;
		char why[160];

		assert_int_equal(oci__read_state(rt[i], NULL, f->ids[i], &st), 0);
		assert_true(st.cgroup[0] == '/' && st.init_pid > 0);
		if (i == 0) { /* runc: the directory as mounted */
			assert_int_equal(stat(st.cgroup, &sb), 0);
			assert_int_equal(oci__state_ties(&st, sb.st_ino, "/x", why, sizeof(why)), 1);
			assert_int_equal(oci__state_ties(&st, sb.st_ino + 1, "/x", why, sizeof(why)), 0);
		}
	}
	/* runc must work here; crun may need the test set-up's cgroup changes (see
	 * tests/lib/container.sh), which the e2e container tests exercise. */
	assert_true(created >= 1 && f->ids[0][0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_containerd),
		cmocka_unit_test(test_parse_crio),
		cmocka_unit_test(test_parse_missing),
		cmocka_unit_test(test_parse_values_refused),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_bundle_keys),
		cmocka_unit_test_setup_teardown(test_read_bundle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_bundle_not_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_bundle_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_bundle_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_made_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_bad_bundle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_not_root_or_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_real, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
