/* Unit tests for user/identity/cgpath.c: the cgroup paths that Kubernetes (cgroupfs and systemd
 * drivers), containerd, CRI-O, Docker, Podman and systemd really make; ids that almost
 * validate; and hostile names that must neither crash nor leak into the ids. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "identity/cgpath.h"

/* 64 hex: a container id as containerd, CRI-O, docker and podman write them. */
#define CID "d0a3c9cbb3b7d1ab4b7e5e1f3fbc4d2f6c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
#define CID2 "7f2e8c1a9b3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7"
/* a pod uid: dashed for cgroupfs names, underscored in systemd slice names */
#define UID "4c8e6d2a-1f3b-4a5c-9d7e-0b1c2d3e4f5a"
#define UID_ "4c8e6d2a_1f3b_4a5c_9d7e_0b1c2d3e4f5a"
/* a static pod's uid: md5 hex, as kubeadm's kube-apiserver gets */
#define SUID "8f1c3a9e2b7d4c6a5e0f1b2c3d4e5f6a"

struct want {
	enum cgpath_kind kind;
	const char *runtime; /* NULL: none */
	const char *id;      /* "" none */
	const char *uid;
	const char *qos;
	const char *unit;
	int kube;
};

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Classifies path and compares every field, naming the path on a mismatch. */
static void check(const char *path, struct want w)
{
	struct cgpath_info info;

	memset(&info, 0xa5, sizeof(info)); /* the result must not depend on what was there */
	cgpath__classify(path, &info);
	if (info.kind != w.kind)
		fail_msg("%s: kind %s, want %s", path, cgpath__kind_name(info.kind),
			 cgpath__kind_name(w.kind));
	if (!str_eq(info.runtime, w.runtime))
		fail_msg("%s: runtime %s, want %s", path, info.runtime ? info.runtime : "NULL",
			 w.runtime ? w.runtime : "NULL");
	if (strcmp(info.container_id, w.id))
		fail_msg("%s: container_id '%s', want '%s'", path, info.container_id, w.id);
	if (strcmp(info.pod_uid, w.uid))
		fail_msg("%s: pod_uid '%s', want '%s'", path, info.pod_uid, w.uid);
	if (!str_eq(info.qos, w.qos))
		fail_msg("%s: qos %s, want %s", path, info.qos ? info.qos : "NULL",
			 w.qos ? w.qos : "NULL");
	if (strcmp(info.unit, w.unit))
		fail_msg("%s: unit '%s', want '%s'", path, info.unit, w.unit);
	if (info.kubernetes != w.kube)
		fail_msg("%s: kubernetes %d, want %d", path, info.kubernetes, w.kube);
}

#define W(kind, rt, id, uid, qos, unit, kube) \
	((struct want){ CGPATH_##kind, rt, id, uid, qos, unit, kube })
/* nothing recognised */
#define NONE W(UNKNOWN, NULL, "", "", NULL, "", 0)

static void test_ids_are_64(void **state)
{
	(void)state;
	assert_int_equal(strlen(CID), 64);
	assert_int_equal(strlen(CID2), 64);
	assert_int_equal(strlen(UID), 36);
	assert_int_equal(strlen(SUID), 32);
}

/* kubelet --cgroup-driver=cgroupfs (containerd or dockershim: runtime not in the name) */
static void test_kube_cgroupfs(void **state)
{
	(void)state;
	check("/kubepods", W(SLICE, "kubernetes", "", "", NULL, "", 1));
	check("/kubepods/burstable", W(SLICE, "kubernetes", "", "", "burstable", "", 1));
	check("/kubepods/besteffort", W(SLICE, "kubernetes", "", "", "besteffort", "", 1));
	check("/kubepods/pod" UID, W(SLICE, "kubernetes", "", UID, "guaranteed", "", 1));
	check("/kubepods/burstable/pod" UID, W(SLICE, "kubernetes", "", UID, "burstable", "", 1));
	check("/kubepods/besteffort/pod" UID,
	      W(SLICE, "kubernetes", "", UID, "besteffort", "", 1));
	check("/kubepods/pod" UID "/" CID,
	      W(CONTAINER, "kubernetes", CID, UID, "guaranteed", "", 1));
	check("/kubepods/burstable/pod" UID "/" CID,
	      W(CONTAINER, "kubernetes", CID, UID, "burstable", "", 1));
	check("/kubepods/besteffort/pod" UID "/" CID,
	      W(CONTAINER, "kubernetes", CID, UID, "besteffort", "", 1));
	/* static pods: the uid is an md5 */
	check("/kubepods/burstable/pod" SUID "/" CID,
	      W(CONTAINER, "kubernetes", CID, SUID, "burstable", "", 1));
	/* CRI-O with cgroup_manager = "cgroupfs" */
	check("/kubepods/besteffort/pod" UID "/crio-" CID,
	      W(CONTAINER, "cri-o", CID, UID, "besteffort", "", 1));
	check("/kubepods/besteffort/pod" UID "/crio-conmon-" CID,
	      W(CONMON, "cri-o", CID, UID, "besteffort", "", 1));
	check("/kubepods/pod" UID "/crio-" CID "/container",
	      W(CONTAINER, "cri-o", CID, UID, "guaranteed", "", 1));
	check("/kubepods/burstable/pod" UID "/" CID "/container",
	      W(CONTAINER, "kubernetes", CID, UID, "burstable", "", 1));
	check("/kubepods/burstable/pod" UID "/" CID "/container/container",
	      W(UNKNOWN, NULL, "", UID, "burstable", "", 1));
}

/* --cgroup-root / a kubelet nested in a service or a container: kubepods anywhere */
static void test_kube_cgroupfs_prefixed(void **state)
{
	(void)state;
	check("/kubelet/kubepods/burstable/pod" UID "/" CID,
	      W(CONTAINER, "kubernetes", CID, UID, "burstable", "", 1));
	check("/system.slice/kubelet/kubepods/pod" UID "/" CID,
	      W(CONTAINER, "kubernetes", CID, UID, "guaranteed", "", 1));
	check("/system.slice/kubelet/kubepods/besteffort",
	      W(SLICE, "kubernetes", "", "", "besteffort", "", 1));
	/* a cluster inside a pod's container: the inner hierarchy is the one that counts */
	check("/kubepods/burstable/pod" UID "/" CID "/kubepods/besteffort/pod" SUID "/" CID2,
	      W(CONTAINER, "kubernetes", CID2, SUID, "besteffort", "", 1));
}

/* kubelet --cgroup-driver=systemd */
static void test_kube_systemd(void **state)
{
	(void)state;
	check("/kubepods.slice", W(SLICE, "kubernetes", "", "", NULL, "kubepods.slice", 1));
	check("/kubepods.slice/kubepods-burstable.slice",
	      W(SLICE, "kubernetes", "", "", "burstable", "kubepods-burstable.slice", 1));
	check("/kubepods.slice/kubepods-pod" UID_ ".slice",
	      W(SLICE, "kubernetes", "", UID, "guaranteed", "kubepods-pod" UID_ ".slice", 1));
	check("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice",
	      W(SLICE, "kubernetes", "", UID, "burstable",
		"kubepods-burstable-pod" UID_ ".slice", 1));
	check("/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" CID ".scope",
	      W(CONTAINER, "containerd", CID, UID, "guaranteed",
		"cri-containerd-" CID ".scope", 1));
	check("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	      ".slice/cri-containerd-" CID ".scope",
	      W(CONTAINER, "containerd", CID, UID, "burstable", "cri-containerd-" CID ".scope",
		1));
	check("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	      ".slice/cri-containerd-" CID ".scope",
	      W(CONTAINER, "containerd", CID, UID, "besteffort", "cri-containerd-" CID ".scope",
		1));
	check("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	      ".slice/crio-" CID ".scope",
	      W(CONTAINER, "cri-o", CID, UID, "besteffort", "crio-" CID ".scope", 1));
	check("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	      ".slice/crio-conmon-" CID ".scope",
	      W(CONMON, "cri-o", CID, UID, "besteffort", "crio-conmon-" CID ".scope", 1));
	check("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	      ".slice/docker-" CID ".scope",
	      W(CONTAINER, "docker", CID, UID, "burstable", "docker-" CID ".scope", 1));
	/* crun's run.oci.systemd.subgroup under CRI-O */
	check("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" CID ".scope/container",
	      W(CONTAINER, "cri-o", CID, UID, "guaranteed", "crio-" CID ".scope", 1));
	/* kind: the kubelet's cgroup root is /kubelet, so every slice name is prefixed */
	check("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	      "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope",
	      W(CONTAINER, "containerd", CID, UID, "besteffort", "cri-containerd-" CID ".scope",
		1));
	check("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" UID_ ".slice",
	      W(SLICE, "kubernetes", "", UID, "guaranteed",
		"kubelet-kubepods-pod" UID_ ".slice", 1));
	/* conmon in system.slice (CRI-O's conmon_cgroup = "system.slice") */
	check("/system.slice/crio-conmon-" CID ".scope",
	      W(CONMON, "cri-o", CID, "", NULL, "crio-conmon-" CID ".scope", 0));
}

/* Names that look right but do not fit the hierarchy they are in. */
static void test_kube_mismatch(void **state)
{
	(void)state;
	/* systemd names take underscores, cgroupfs names dashes */
	check("/kubepods.slice/kubepods-pod" UID ".slice",
	      W(UNKNOWN, NULL, "", "", NULL, "", 1));
	check("/kubepods/pod" UID_, W(UNKNOWN, NULL, "", "", NULL, "", 1));
	/* QoS of the pod slice differs from its parent's */
	check("/kubepods.slice/kubepods-burstable.slice/kubepods-besteffort-pod" UID_ ".slice",
	      W(UNKNOWN, NULL, "", "", "burstable", "", 1));
	/* a guaranteed pod's name under a QoS slice */
	check("/kubepods.slice/kubepods-burstable.slice/kubepods-pod" UID_ ".slice",
	      W(UNKNOWN, NULL, "", "", "burstable", "", 1));
	check("/kubepods/guaranteed/pod" UID, W(UNKNOWN, NULL, "", "", NULL, "", 1));
	/* a container one level too deep */
	check("/kubepods/burstable/pod" UID "/" CID "/" CID2,
	      W(UNKNOWN, NULL, "", UID, "burstable", "", 1));
	/* under a pod, only container shapes count: no systemd service there */
	check("/kubepods.slice/kubepods-pod" UID_ ".slice/foo.service",
	      W(UNKNOWN, NULL, "", UID, "guaranteed", "", 1));
	check("/kubepods/burstable/pod" UID "/sandbox",
	      W(UNKNOWN, NULL, "", UID, "burstable", "", 1));
	/* malformed uids */
	check("/kubepods/pod4c8e6d2a-1f3b-4a5c-9d7e-0b1c2d3e4f5", /* 35 */
	      W(UNKNOWN, NULL, "", "", NULL, "", 1));
	check("/kubepods/pod4C8E6D2A-1F3B-4A5C-9D7E-0B1C2D3E4F5A", /* uppercase */
	      W(UNKNOWN, NULL, "", "", NULL, "", 1));
	check("/kubepods/pod4c8e6d2a1f3b-4a5c-9d7e-0b1c2d3e4f5a-", /* dashes misplaced */
	      W(UNKNOWN, NULL, "", "", NULL, "", 1));
	check("/kubepods/podzc8e6d2a-1f3b-4a5c-9d7e-0b1c2d3e4f5a",
	      W(UNKNOWN, NULL, "", "", NULL, "", 1));
	check("/kubepods/pod8f1c3a9e2b7d4c6a5e0f1b2c3d4e5f6", /* 31 hex */
	      W(UNKNOWN, NULL, "", "", NULL, "", 1));
	check("/kubepods/pod", W(UNKNOWN, NULL, "", "", NULL, "", 1));
	/* "kubepods" only as a whole component or slice name */
	check("/notkubepods/pod" UID "/" CID, NONE);
	check("/kubepodsx/pod" UID "/" CID, NONE);
	check("/xkubepods.slice", W(SLICE, "systemd", "", "", NULL, "xkubepods.slice", 0));
}

/* containerd without Kubernetes: /<namespace>/<id> (cgroupfs), nerdctl's systemd scope */
static void test_containerd(void **state)
{
	(void)state;
	check("/default/" CID, W(CONTAINER, "containerd", CID, "", NULL, "", 0));
	check("/k8s.io/" CID, W(CONTAINER, "containerd", CID, "", NULL, "", 0));
	check("/moby/" CID, W(CONTAINER, "containerd", CID, "", NULL, "", 0));
	check("/system.slice/nerdctl-" CID ".scope",
	      W(CONTAINER, "containerd", CID, "", NULL, "nerdctl-" CID ".scope", 0));
	check("/system.slice/containerd.service",
	      W(SERVICE, "systemd", "", "", NULL, "containerd.service", 0));
	/* any other parent is a weak signal: not taken */
	check("/buildkit/" CID, NONE);
	check("/mynamespace/" CID, NONE);
	check("/" CID, NONE);
	/* ctr run with a chosen id: a name is not an id */
	check("/default/web", NONE);
}

static void test_docker(void **state)
{
	(void)state;
	check("/docker/" CID, W(CONTAINER, "docker", CID, "", NULL, "", 0));
	check("/system.slice/docker-" CID ".scope",
	      W(CONTAINER, "docker", CID, "", NULL, "docker-" CID ".scope", 0));
	check("/system.slice/docker.service",
	      W(SERVICE, "systemd", "", "", NULL, "docker.service", 0));
	check("/docker", NONE);
	/* docker in docker, cgroupfs: the inner docker's container */
	check("/docker/" CID "/docker/" CID2, W(CONTAINER, "docker", CID2, "", NULL, "", 0));
	/* a cgroup made inside a container is not the container */
	check("/docker/" CID "/sub", NONE);
	/* nor is a systemd unit name chosen by the container's payload */
	check("/system.slice/docker-" CID ".scope/init.scope", NONE);
	check("/kubepods/burstable/pod" UID "/" CID "/foo.service",
	      W(UNKNOWN, NULL, "", UID, "burstable", "", 1));
}

static void test_podman(void **state)
{
	(void)state;
	check("/machine.slice/libpod-" CID ".scope",
	      W(CONTAINER, "podman", CID, "", NULL, "libpod-" CID ".scope", 0));
	check("/machine.slice/libpod-conmon-" CID ".scope",
	      W(CONMON, "podman", CID, "", NULL, "libpod-conmon-" CID ".scope", 0));
	check("/machine.slice/libpod-" CID ".scope/container",
	      W(CONTAINER, "podman", CID, "", NULL, "libpod-" CID ".scope", 0));
	/* rootless */
	check("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" CID ".scope",
	      W(CONTAINER, "podman", CID, "", NULL, "libpod-" CID ".scope", 0));
	check("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" CID
	      ".scope/container",
	      W(CONTAINER, "podman", CID, "", NULL, "libpod-" CID ".scope", 0));
	check("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-" CID
	      ".scope",
	      W(CONMON, "podman", CID, "", NULL, "libpod-conmon-" CID ".scope", 0));
	/* pods */
	check("/machine.slice/machine-libpod_pod_" CID2 ".slice",
	      W(SLICE, "systemd", "", "", NULL, "machine-libpod_pod_" CID2 ".slice", 0));
	check("/machine.slice/machine-libpod_pod_" CID2 ".slice/libpod-" CID ".scope",
	      W(CONTAINER, "podman", CID, "", NULL, "libpod-" CID ".scope", 0));
	/* cgroup_manager = "cgroupfs" */
	check("/libpod_parent/libpod-" CID, W(CONTAINER, "podman", CID, "", NULL, "", 0));
	check("/libpod_parent/" CID2 "/libpod-" CID,
	      W(CONTAINER, "podman", CID, "", NULL, "", 0));
	check("/other/libpod-" CID, NONE);
	/* the sub-cgroup is only the container's under a container scope */
	check("/machine.slice/libpod-conmon-" CID ".scope/container", NONE);
	check("/machine.slice/container", NONE);
	check("/container", NONE);
}

static void test_systemd(void **state)
{
	(void)state;
	check("/", W(ROOT, NULL, "", "", NULL, "", 0));
	check("//", W(ROOT, NULL, "", "", NULL, "", 0));
	check("/init.scope", W(SERVICE, "systemd", "", "", NULL, "init.scope", 0));
	check("/system.slice", W(SLICE, "systemd", "", "", NULL, "system.slice", 0));
	check("/system.slice/foo.service", W(SERVICE, "systemd", "", "", NULL, "foo.service", 0));
	check("/system.slice/system-getty.slice/getty@tty1.service",
	      W(SERVICE, "systemd", "", "", NULL, "getty@tty1.service", 0));
	check("/system.slice/run-r0f1e2d3c4b5a69788796a5b4c3d2e1f0.scope",
	      W(SERVICE, "systemd", "", "", NULL, "run-r0f1e2d3c4b5a69788796a5b4c3d2e1f0.scope",
		0));
	check("/system.slice/systemd-journald.socket",
	      W(SERVICE, "systemd", "", "", NULL, "systemd-journald.socket", 0));
	check("/system.slice/boot-efi.mount",
	      W(SERVICE, "systemd", "", "", NULL, "boot-efi.mount", 0));
	check("/system.slice/system-systemd\\x2dfsck.slice",
	      W(SLICE, "systemd", "", "", NULL, "system-systemd\\x2dfsck.slice", 0));
	check("/user.slice", W(SLICE, "systemd", "", "", NULL, "user.slice", 0));
	check("/user.slice/user-1000.slice", W(SLICE, "systemd", "", "", NULL, "user-1000.slice", 0));
	check("/user.slice/user-1000.slice/session-3.scope",
	      W(SESSION, "systemd", "", "", NULL, "session-3.scope", 0));
	check("/user.slice/user-1000.slice/user@1000.service",
	      W(SESSION, "systemd", "", "", NULL, "user@1000.service", 0));
	check("/user.slice/user-1000.slice/user@1000.service/init.scope",
	      W(SESSION, "systemd", "", "", NULL, "init.scope", 0));
	check("/user.slice/user-1000.slice/user@1000.service/app.slice",
	      W(SLICE, "systemd", "", "", NULL, "app.slice", 0));
	check("/user.slice/user-1000.slice/user@1000.service/app.slice/"
	      "app-gnome-firefox-4242.scope",
	      W(SESSION, "systemd", "", "", NULL, "app-gnome-firefox-4242.scope", 0));
	check("/user.slice/user-1000.slice/user@1000.service/session.slice/pipewire.service",
	      W(SESSION, "systemd", "", "", NULL, "pipewire.service", 0));
	/* a session scope outside a user slice is still a session */
	check("/session-5.scope", W(SESSION, "systemd", "", "", NULL, "session-5.scope", 0));
	/* "user-" must be followed by a uid to make a user's slice */
	check("/user.slice/user-x.slice/foo.service",
	      W(SERVICE, "systemd", "", "", NULL, "foo.service", 0));
}

static void test_unknown(void **state)
{
	(void)state;
	check("/c2", NONE); /* a standalone runc's cgroup: its argv tells, not its name */
	check("/mycontainer", NONE);
	check("", NONE);
	check(NULL, NONE);
	check("/system.slice/foo.service/worker", NONE);
	check("/.service", NONE);
	check("/service", NONE);
	check("/foo.target", NONE);
	check("/system.slice/docker-.scope", W(SERVICE, "systemd", "", "", NULL,
						"docker-.scope", 0));
}

/* Ids that almost validate never become a container_id. */
static void test_invalid_ids(void **state)
{
	static const char *const bad[] = {
		"d0a3c9cbb3b7d1ab4b7e5e1f3fbc4d2f6c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5",   /* 63 */
		"d0a3c9cbb3b7d1ab4b7e5e1f3fbc4d2f6c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f0", /* 65 */
		"D0A3C9CBB3B7D1AB4B7E5E1F3FBC4D2F6C1D2E3F4A5B6C7D8E9F0A1B2C3D4E5F",  /* upper */
		"d0a3c9cbb3b7d1ab4b7e5e1f3fbc4d2f6c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5g",  /* non-hex */
		"d0a3c9cbb3b7d1ab4b7e5e1f3fbc4d2f6c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5 ",
		"",
	};
	static const char *const fmt[] = {
		"/docker/%s",
		"/default/%s",
		"/system.slice/docker-%s.scope",
		"/machine.slice/libpod-%s.scope",
		"/machine.slice/libpod-conmon-%s.scope",
		"/kubepods/burstable/pod" UID "/%s",
		"/kubepods/burstable/pod" UID "/crio-%s",
		"/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-%s.scope",
		"/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-%s.scope",
		"/libpod_parent/libpod-%s",
	};
	char path[512];
	struct cgpath_info info;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (size_t j = 0; j < sizeof(fmt) / sizeof(fmt[0]); j++) {
			snprintf(path, sizeof(path), fmt[j], bad[i]);
			cgpath__classify(path, &info);
			if (info.container_id[0] || info.kind == CGPATH_CONTAINER ||
			    info.kind == CGPATH_CONMON)
				fail_msg("%s: kind %s id '%s'", path, cgpath__kind_name(info.kind),
					 info.container_id);
		}
	}
}

/* Checks the invariants every result must keep, whatever the path. */
static void check_sane(const char *path)
{
	struct cgpath_info info;
	size_t n;

	memset(&info, 0xa5, sizeof(info));
	cgpath__classify(path, &info);
	assert_true(info.kind >= CGPATH_UNKNOWN && info.kind <= CGPATH_CONMON);
	n = strnlen(info.container_id, sizeof(info.container_id));
	assert_true(n == 0 || n == 64);
	for (size_t i = 0; i < n; i++)
		assert_true(strchr("0123456789abcdef", info.container_id[i]) != NULL);
	assert_true((n == 64) == (info.kind == CGPATH_CONTAINER || info.kind == CGPATH_CONMON));
	n = strnlen(info.pod_uid, sizeof(info.pod_uid));
	assert_true(n == 0 || n == 32 || n == 36);
	for (size_t i = 0; i < n; i++)
		assert_true(strchr("0123456789abcdef-", info.pod_uid[i]) != NULL);
	n = strnlen(info.unit, sizeof(info.unit));
	assert_true(n < sizeof(info.unit));
	for (size_t i = 0; i < n; i++)
		assert_true(info.unit[i] > 0x20 && info.unit[i] < 0x7f);
	assert_true(info.kubernetes == 0 || info.kubernetes == 1);
	assert_non_null(cgpath__kind_name(info.kind));
}

/* What a workload may name its cgroups: spaces, newlines, UTF-8, "..", huge names. */
static void test_hostile(void **state)
{
	char *big;
	char name[300];
	struct cgpath_info info;

	(void)state;
	check("/system.slice/my service.service", NONE);
	check("/system.slice/foo\n.service", NONE);
	check("/system.slice/caf\xc3\xa9.service", NONE);
	check("/system.slice/\xff\xfe.scope", NONE);
	check("/docker/../docker/" CID, W(CONTAINER, "docker", CID, "", NULL, "", 0));
	check("/..", NONE);
	check("/docker/" CID "\n", NONE);
	check("/docker/" CID " ", NONE);
	check("/kubepods/burstable/pod" UID "\x01/" CID,
	      W(UNKNOWN, NULL, "", "", "burstable", "", 1));
	check("docker/" CID, W(CONTAINER, "docker", CID, "", NULL, "", 0)); /* no leading / */
	check("/docker//" CID, W(CONTAINER, "docker", CID, "", NULL, "", 0));
	check("/docker/" CID "/", W(CONTAINER, "docker", CID, "", NULL, "", 0));

	/* a unit name of 255 bytes is copied; of 256, it is not a unit name */
	memset(name, 'a', sizeof(name));
	memcpy(name + 255 - 8, ".service", 9);
	{
		char path[320];

		snprintf(path, sizeof(path), "/system.slice/%s", name);
		cgpath__classify(path, &info);
		assert_int_equal(info.kind, CGPATH_SERVICE);
		assert_int_equal(strlen(info.unit), 255);
		memset(name, 'a', sizeof(name));
		memcpy(name + 256 - 8, ".service", 9);
		snprintf(path, sizeof(path), "/system.slice/%s", name);
		check(path, NONE);
	}

	/* 1 MiB of path: one huge component, then a million tiny ones */
	big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, 'x', (1 << 20) - 1);
	big[0] = '/';
	big[(1 << 20) - 1] = '\0';
	check_sane(big);
	check(big, NONE);
	for (size_t i = 0; i < (1 << 20) - 1; i++)
		big[i] = i % 2 ? '.' : '/';
	check(big, NONE);
	for (size_t i = 0; i < (1 << 20) - 1; i++)
		big[i] = "/kubepods"[i % 9];
	big[((1 << 20) - 1) / 9 * 9] = '\0'; /* whole "/kubepods" components only */
	check(big, W(SLICE, "kubernetes", "", "", NULL, "", 1));
	free(big);
}

/* Random paths made of pieces of real names: the invariants hold for all of them. */
static void test_random(void **state)
{
	static const char *const pieces[] = {
		"/", "/", "kubepods", "kubepods.slice", "kubepods-burstable.slice", "burstable",
		"pod" UID, "kubepods-pod" UID_ ".slice", "kubepods-burstable-pod" UID_ ".slice",
		CID, "crio-", "cri-containerd-", ".scope", ".slice", ".service", "docker",
		"default", "libpod-", "libpod_parent", "container", "user-1000.slice", "-", "_",
		"\n", "\xc3\xa9", "\xff", "..", ".", "session-", "x", "4c8e6d2a-1f3b", CID2,
	};
	char path[1024];
	unsigned int seed = 4242;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t o = 0;
		int k = rand_r(&seed) % 12;

		for (int j = 0; j < k; j++) {
			const char *p = pieces[rand_r(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t n = strlen(p);

			if (o + n >= sizeof(path))
				break;
			memcpy(path + o, p, n);
			o += n;
		}
		path[o] = '\0';
		check_sane(path);
	}
}

static void test_kind_name(void **state)
{
	(void)state;
	assert_string_equal(cgpath__kind_name(CGPATH_UNKNOWN), "unknown");
	assert_string_equal(cgpath__kind_name(CGPATH_ROOT), "root");
	assert_string_equal(cgpath__kind_name(CGPATH_SERVICE), "service");
	assert_string_equal(cgpath__kind_name(CGPATH_SESSION), "session");
	assert_string_equal(cgpath__kind_name(CGPATH_SLICE), "slice");
	assert_string_equal(cgpath__kind_name(CGPATH_CONTAINER), "container");
	assert_string_equal(cgpath__kind_name(CGPATH_CONMON), "conmon");
	assert_string_equal(cgpath__kind_name((enum cgpath_kind)99), "unknown");
}

static void test_valid_runtime_id(void **state)
{
	char id[200];

	(void)state;
	assert_int_equal(cgpath__valid_runtime_id("c1"), 1);
	assert_int_equal(cgpath__valid_runtime_id(CID), 1);
	assert_int_equal(cgpath__valid_runtime_id("My_container+v1.2-3"), 1);
	assert_int_equal(cgpath__valid_runtime_id("a..b"), 1);
	assert_int_equal(cgpath__valid_runtime_id("-x"), 1); /* runc accepts it too */
	assert_int_equal(cgpath__valid_runtime_id(NULL), 0);
	assert_int_equal(cgpath__valid_runtime_id(""), 0);
	assert_int_equal(cgpath__valid_runtime_id("."), 0);
	assert_int_equal(cgpath__valid_runtime_id(".."), 0);
	assert_int_equal(cgpath__valid_runtime_id(".hidden"), 0);
	assert_int_equal(cgpath__valid_runtime_id("a/b"), 0);
	assert_int_equal(cgpath__valid_runtime_id("../etc"), 0);
	assert_int_equal(cgpath__valid_runtime_id("a b"), 0);
	assert_int_equal(cgpath__valid_runtime_id("a,b"), 0);
	assert_int_equal(cgpath__valid_runtime_id("a\nb"), 0);
	assert_int_equal(cgpath__valid_runtime_id("caf\xc3\xa9"), 0);
	memset(id, 'a', sizeof(id));
	id[128] = '\0';
	assert_int_equal(cgpath__valid_runtime_id(id), 1);
	id[128] = 'a';
	id[129] = '\0';
	assert_int_equal(cgpath__valid_runtime_id(id), 0);
}

/* A runtime's cgroup is its container's only where the last component names the id. */
static void test_names_container(void **state)
{
	(void)state;
	assert_true(cgpath__names_container("/demo", "demo"));
	assert_true(cgpath__names_container("/default/demo", "demo"));
	assert_true(cgpath__names_container("/default/demo/", "demo"));
	assert_false(cgpath__names_container("/default", "demo"));
	assert_false(cgpath__names_container("/", "demo"));
	assert_false(cgpath__names_container("/kubepods/besteffort", "demo"));
	assert_true(cgpath__names_container("/system.slice/cri-containerd-demo.scope", "demo"));
	assert_true(cgpath__names_container("/machine.slice/libpod-demo.scope/container", "demo"));
	assert_true(cgpath__names_container("/runc-demo.scope", "demo"));
	assert_false(cgpath__names_container("/cri-containerd-demo.scope/x", "demo"));
	assert_false(cgpath__names_container("/xdemo", "demo"));
	assert_false(cgpath__names_container("/demox", "demo"));
	assert_false(cgpath__names_container("/x-demox.scope", "demo"));
	assert_false(cgpath__names_container("/demo.scope", "demo"));
	assert_false(cgpath__names_container("/container", "demo"));
	assert_false(cgpath__names_container("container", "demo"));
	assert_false(cgpath__names_container("/demo", ""));
	assert_false(cgpath__names_container(NULL, "demo"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_are_64),
		cmocka_unit_test(test_kube_cgroupfs),
		cmocka_unit_test(test_kube_cgroupfs_prefixed),
		cmocka_unit_test(test_kube_systemd),
		cmocka_unit_test(test_kube_mismatch),
		cmocka_unit_test(test_containerd),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_podman),
		cmocka_unit_test(test_systemd),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_invalid_ids),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_kind_name),
		cmocka_unit_test(test_valid_runtime_id),
		cmocka_unit_test(test_names_container),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
