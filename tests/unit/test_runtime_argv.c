/* Unit tests for user/identity/runtime_argv.c: runc, crun, runsc and youki command lines as
 * containerd, CRI-O, podman and people write them; commands that do not create a
 * container; and malformed or hostile lines, which must be refused, never misread. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "identity/runtime_argv.h"

#define CID "d0a3c9cbb3b7d1ab4b7e5e1f3fbc4d2f6c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
#define TASK "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" CID

#define ARGV(...) ((char *const[]){ __VA_ARGS__ }), \
	(sizeof((char *const[]){ __VA_ARGS__ }) / sizeof(char *))

/* Parses and expects success with these results. */
static void ok(const char *binary, char *const *args, size_t n, const char *cwd,
	       const char *runtime, const char *command, const char *id, const char *bundle,
	       const char *root)
{
	struct runtime_cmd c;
	int err;

	memset(&c, 0xa5, sizeof(c));
	err = runtime_argv__parse(binary, args, n, cwd, &c);
	if (err)
		fail_msg("%s %s...: %d", binary, n > 1 ? args[1] : "", err);
	assert_string_equal(c.runtime, runtime);
	assert_string_equal(c.command, command);
	assert_string_equal(c.id, id);
	assert_string_equal(c.bundle, bundle);
	assert_string_equal(c.root, root);
}

/* Parses and expects err, with no id or bundle left behind. */
static void bad(int want, const char *binary, char *const *args, size_t n, const char *cwd)
{
	struct runtime_cmd c;
	int err;

	memset(&c, 0xa5, sizeof(c));
	err = runtime_argv__parse(binary, args, n, cwd, &c);
	if (err != want)
		fail_msg("%s %s...: %d, want %d", binary ? binary : "(null)",
			 n > 1 && args[1] ? args[1] : "", err, want);
	assert_string_equal(c.id, "");
	assert_string_equal(c.bundle, "");
}

static void test_runc_simple(void **state)
{
	(void)state;
	ok("/usr/sbin/runc", ARGV("runc", "run", "c1"), "/tmp/b", "runc", "run", "c1", "/tmp/b",
	   "");
	ok("/usr/sbin/runc", ARGV("runc", "create", "c1"), "/tmp/b", "runc", "create", "c1",
	   "/tmp/b", "");
	ok("/usr/sbin/runc", ARGV("runc", "run", "-d", "--bundle", "/srv/bundles/web", "web"),
	   "/", "runc", "run", "web", "/srv/bundles/web", "");
	ok("/usr/sbin/runc", ARGV("runc", "run", "-b", "b", "c1"), "/tmp", "runc", "run", "c1",
	   "/tmp/b", "");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "--bundle=../x/../b", "c1"), "/tmp");
}

/* The shim's invocation, as containerd 1.7 writes it for a Kubernetes container. */
static void test_runc_containerd_shim(void **state)
{
	(void)state;
	ok("/usr/sbin/runc",
	   ARGV("runc", "--root", "/run/containerd/runc/k8s.io", "--log", TASK "/log.json",
		"--log-format", "json", "create", "--bundle", TASK, "--pid-file", TASK "/init.pid",
		CID),
	   TASK, "runc", "create", CID, TASK, "/run/containerd/runc/k8s.io");
	/* with systemd cgroups and a console socket (a tty container) */
	ok("/usr/bin/runc",
	   ARGV("runc", "--root", "/run/containerd/runc/k8s.io", "--log", TASK "/log.json",
		"--log-format", "json", "--systemd-cgroup", "create", "--bundle", TASK,
		"--pid-file", TASK "/init.pid", "--console-socket", "/tmp/pty123/pty.sock", CID),
	   "/", "runc", "create", CID, TASK, "/run/containerd/runc/k8s.io");
	/* docker's (moby namespace), with --no-pivot / --no-new-keyring / --preserve-fds */
	ok("/usr/bin/runc",
	   ARGV("runc", "--root", "/var/run/docker/runtime-runc/moby", "--log",
		"/run/containerd/io.containerd.runtime.v2.task/moby/" CID "/log.json",
		"--log-format", "json", "create", "--bundle",
		"/run/containerd/io.containerd.runtime.v2.task/moby/" CID, "--pid-file",
		"/run/containerd/io.containerd.runtime.v2.task/moby/" CID "/init.pid",
		"--no-pivot", "--no-new-keyring", "--preserve-fds", "2", CID),
	   "/", "runc", "create", CID, "/run/containerd/io.containerd.runtime.v2.task/moby/" CID,
	   "/var/run/docker/runtime-runc/moby");
}

/* Go's flag syntax: single dashes, "=", aliases, options after the id. */
static void test_runc_go_flags(void **state)
{
	(void)state;
	ok("/usr/sbin/runc", ARGV("runc", "-root=/run/r", "-debug", "run", "-bundle", "/b", "c1"),
	   "/", "runc", "run", "c1", "/b", "/run/r");
	ok("/usr/sbin/runc", ARGV("runc", "--root=/run/r", "--systemd-cgroup=true", "create",
				  "--bundle=/b", "-pid-file=/p", "c1"),
	   "/", "runc", "create", "c1", "/b", "/run/r");
	ok("/usr/sbin/runc", ARGV("runc", "run", "c1", "--bundle", "/b", "-d"), "/", "runc",
	   "run", "c1", "/b", "");
	ok("/usr/sbin/runc", ARGV("runc", "run", "--b", "/b", "--", "c1"), "/", "runc", "run",
	   "c1", "/b", "");
	/* the last --bundle wins */
	ok("/usr/sbin/runc", ARGV("runc", "run", "-b", "/a", "-b", "/b", "c1"), "/", "runc", "run",
	   "c1", "/b", "");
	/* an empty bundle is the cwd */
	ok("/usr/sbin/runc", ARGV("runc", "run", "--bundle", "", "c1"), "/tmp/b", "runc", "run",
	   "c1", "/tmp/b", "");
	/* a relative root is taken from cwd, as runc does */
	ok("/usr/sbin/runc", ARGV("runc", "--root", "state", "run", "c1"), "/tmp/b", "runc", "run",
	   "c1", "/tmp/b", "/tmp/b/state");
	/* --detach is a "run" option only */
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "create", "-d", "c1"), "/");
	/* "-bDIR" is not Go syntax */
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "-b/x", "c1"), "/");
}

static void test_paths(void **state)
{
	(void)state;
	ok("/usr/sbin/runc", ARGV("runc", "run", "-b", "//srv//b///", "c1"), "/", "runc", "run",
	   "c1", "/srv/b", "");
	ok("/usr/sbin/runc", ARGV("runc", "run", "-b", "./b/./c/", "c1"), "/tmp//x/", "runc",
	   "run", "c1", "/tmp/x/b/c", "");
	ok("/usr/sbin/runc", ARGV("runc", "run", "-b", "/", "c1"), "/tmp", "runc", "run", "c1", "/",
	   "");
	ok("/usr/sbin/runc", ARGV("runc", "run", "c1"), "/", "runc", "run", "c1", "/", "");
	ok("/usr/sbin/runc", ARGV("runc", "run", "-b", "a..b/..c", "c1"), "/t", "runc", "run", "c1",
	   "/t/a..b/..c", "");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "-b", "/srv/../etc", "c1"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "-b", "..", "c1"), "/tmp/b");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "-b", "/srv/b/..", "c1"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "c1"), "/tmp/../b");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "--root", "/run/../tmp", "run", "c1"), "/");
	/* a relative bundle needs a known, absolute cwd */
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "c1"), NULL);
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "c1"), "");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "-b", "b", "c1"), "tmp");
	ok("/usr/sbin/runc", ARGV("runc", "run", "-b", "/b", "c1"), NULL, "runc", "run", "c1",
	   "/b", "");
}

static void test_crun(void **state)
{
	(void)state;
	ok("/usr/bin/crun", ARGV("crun", "run", "c1"), "/tmp/b", "crun", "run", "c1", "/tmp/b",
	   "");
	/* CRI-O's invocation (through conmon) */
	ok("/usr/bin/crun",
	   ARGV("/usr/bin/crun", "--root=/run/crun", "--systemd-cgroup", "create", "--bundle",
		"/run/containers/storage/overlay-containers/" CID "/userdata", "--pid-file",
		"/run/containers/storage/overlay-containers/" CID "/userdata/pidfile", CID),
	   "/", "crun", "create", CID,
	   "/run/containers/storage/overlay-containers/" CID "/userdata", "/run/crun");
	/* podman's */
	ok("/usr/bin/crun",
	   ARGV("/usr/bin/crun", "--root", "/run/user/1000/crun", "--cgroup-manager", "systemd",
		"--log-level", "error", "create", "--bundle",
		"/home/u/.local/share/containers/storage/overlay-containers/" CID "/userdata",
		"--pid-file",
		"/run/user/1000/containers/overlay-containers/" CID "/userdata/pidfile", CID),
	   "/", "crun", "create", CID,
	   "/home/u/.local/share/containers/storage/overlay-containers/" CID "/userdata",
	   "/run/user/1000/crun");
	/* argp: attached short value, --opt=value, run-only options */
	ok("/usr/bin/crun", ARGV("crun", "run", "-b/srv/b", "-d", "--keep", "c1"), "/", "crun",
	   "run", "c1", "/srv/b", "");
	ok("/usr/bin/crun", ARGV("crun", "run", "--rm", "--bundle=/srv/b", "-f", "alt.json", "c1"),
	   "/", "crun", "run", "c1", "/srv/b", "");
	/* Go's single-dash long options are not argp's */
	bad(-EINVAL, "/usr/bin/crun", ARGV("crun", "-root", "/x", "run", "c1"), "/");
	bad(-EINVAL, "/usr/bin/crun", ARGV("crun", "run", "-bundle", "/x", "c1"), "/");
	/* argp booleans take no value; bundled short flags are not parsed */
	bad(-EINVAL, "/usr/bin/crun", ARGV("crun", "--debug=1", "run", "c1"), "/");
	bad(-EINVAL, "/usr/bin/crun", ARGV("crun", "run", "-dk", "c1"), "/");
}

static void test_runsc_youki(void **state)
{
	(void)state;
	ok("/usr/local/bin/runsc",
	   ARGV("runsc", "--root=/run/containerd/runsc/k8s.io", "--log=" TASK "/log.json",
		"--log-format=json", "--platform=systrap", "create", "--bundle", TASK,
		"--pid-file", TASK "/init.pid", CID),
	   "/", "runsc", "create", CID, TASK, "/run/containerd/runsc/k8s.io");
	ok("/usr/bin/youki", ARGV("youki", "-r", "/run/youki", "create", "-b", "/b", "c1"), "/",
	   "youki", "create", "c1", "/b", "/run/youki");
	bad(-EINVAL, "/usr/local/bin/runsc", ARGV("runsc", "run", "-b", "/b", "c1"), "/");
}

/* The runtime is the binary's; args[0] only when the binary is unknown. */
static void test_runtime_name(void **state)
{
	(void)state;
	ok("", ARGV("runc", "run", "c1"), "/b", "runc", "run", "c1", "/b", "");
	ok(NULL, ARGV("/usr/bin/crun", "run", "c1"), "/b", "crun", "run", "c1", "/b", "");
	/* a binary renamed runc is runc: its name is all there is to go on */
	ok("/tmp/x/runc", ARGV("anything", "run", "c1"), "/b", "runc", "run", "c1", "/b", "");
	bad(-ENOENT, "/usr/bin/bash", ARGV("runc", "run", "c1"), "/");
	bad(-ENOENT, "/usr/bin/runc-wrapper", ARGV("runc", "run", "c1"), "/");
	bad(-ENOENT, "/usr/bin/runc/", ARGV("runc", "run", "c1"), "/");
	bad(-ENOENT, "/usr/bin/containerd-shim-runc-v2",
	    ARGV("/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", CID,
		 "-address", "/run/containerd/containerd.sock"),
	    "/");
	bad(-ENOENT, "", ARGV("bash", "run", "c1"), "/");
	bad(-ENOENT, NULL, NULL, 0, "/");
	bad(-ENOENT, "", ARGV(NULL), "/");
}

/* Commands that do not create a container. */
static void test_not_creating(void **state)
{
	static const char *const cmds[] = { "exec", "delete", "state", "start", "kill", "list",
					    "ps", "spec", "init", "restore", "update" };
	struct runtime_cmd c;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *args[] = { "runc", (char *)cmds[i], "c1" };

		assert_int_equal(runtime_argv__parse("/usr/sbin/runc", args, 3, "/", &c), -EINVAL);
		assert_string_equal(c.runtime, "runc");
		assert_string_equal(c.command, cmds[i]);
		assert_string_equal(c.id, "");
	}
	assert_int_equal(runtime_argv__parse("/usr/sbin/runc",
					     ARGV("runc", "--root", "/run/containerd/runc/k8s.io",
						  "exec", "--process", "/tmp/p.json", "-d", CID),
					     "/", &c),
			 -EINVAL);
	assert_string_equal(c.command, "exec");
	assert_string_equal(c.root, "/run/containerd/runc/k8s.io");
	assert_int_equal(runtime_argv__parse("/usr/sbin/runc", ARGV("runc", "frobnicate", "c1"),
					     "/", &c),
			 -EINVAL);
	assert_string_equal(c.command, "");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "--version"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "--root", "/r"), "/");
	bad(-EINVAL, "/usr/sbin/runc", NULL, 0, "/");
}

static void test_hostile(void **state)
{
	char **args;
	char long_id[200], long_bundle[5000];
	struct runtime_cmd c;
	size_t n = 10000;

	(void)state;
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run"), "/");                 /* no id */
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "-b", "/b"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "-b"), "/");           /* no value */
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "--root"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "c1", "c2"), "/");     /* two ids */
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "../c1"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "a/b"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", ".."), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", ".x"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", ""), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "c\n1"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "--frob", "x", "c1"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "--frob", "run", "c1"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "-", "c1"), "/"); /* "-" is an arg */
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "--=x", "c1"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "---bundle", "/b", "c1"), "/");
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", NULL, "c1"), "/");
	/* after "--" an option-looking argument is the id (and '-' is allowed in ids) */
	ok("/usr/sbin/runc", ARGV("runc", "run", "--", "-c1"), "/", "runc", "run", "-c1", "/", "");

	memset(long_id, 'a', sizeof(long_id));
	long_id[129] = '\0';
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", long_id), "/");
	long_id[128] = '\0';
	ok("/usr/sbin/runc", ARGV("runc", "run", long_id), "/", "runc", "run", long_id, "/", "");

	/* a bundle that does not fit out->bundle */
	long_bundle[0] = '/';
	memset(long_bundle + 1, 'b', sizeof(long_bundle) - 1);
	long_bundle[sizeof(long_bundle) - 1] = '\0';
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "-b", long_bundle, "c1"), "/");
	long_bundle[4095] = '\0'; /* 4095 bytes + NUL: just fits */
	assert_int_equal(runtime_argv__parse("/usr/sbin/runc",
					     ARGV("runc", "run", "-b", long_bundle, "c1"), "/", &c),
			 0);
	assert_int_equal(strlen(c.bundle), 4095);
	long_bundle[4095] = 'b';
	long_bundle[4096] = '\0';
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "-b", long_bundle, "c1"), "/");
	/* relative, joined to a cwd that makes it too long */
	long_bundle[4095] = '\0';
	bad(-EINVAL, "/usr/sbin/runc", ARGV("runc", "run", "-b", long_bundle + 1, "c1"), "/x");

	/* 10k arguments: junk positionals are refused; 10k repeated flags are still a
	 * valid line and parse in linear time */
	args = calloc(n, sizeof(*args));
	assert_non_null(args);
	args[0] = "runc";
	args[1] = "run";
	for (size_t i = 2; i < n; i++)
		args[i] = "x";
	bad(-EINVAL, "/usr/sbin/runc", args, n, "/");
	for (size_t i = 2; i < n - 1; i++)
		args[i] = "-d";
	args[n - 1] = "c1";
	ok("/usr/sbin/runc", args, n, "/", "runc", "run", "c1", "/", "");
	for (size_t i = 1; i < n; i++)
		args[i] = "--root";
	bad(-EINVAL, "/usr/sbin/runc", args, n, "/");
	free(args);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runc_simple),
		cmocka_unit_test(test_runc_containerd_shim),
		cmocka_unit_test(test_runc_go_flags),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_crun),
		cmocka_unit_test(test_runsc_youki),
		cmocka_unit_test(test_runtime_name),
		cmocka_unit_test(test_not_creating),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
