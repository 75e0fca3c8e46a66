/* Unit tests for user/sensor/hostmounts.c: a file's host path from a mount table written
 * by the test (the kernel's mountinfo format), and the table read again after a miss. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sensor/hostmounts.h"

#define DISK (254u << 20 | 0)  /* 254:0 */
#define TMPFS (0u << 20 | 55)  /* 0:55 */
#define LATER (0u << 20 | 77)  /* 0:77, mounted after the first read */

static const char table[] =
	"26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
	"44 26 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw\n"
	"50 26 0:55 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access-x "
	"rw,relatime - tmpfs tmpfs rw\n"
	"51 26 254:0 /srv/kube\\040let /var/lib/kube\\134let rw - ext4 /dev/vda rw\n"
	"not a mount line\n";

static char fixture[] = "/tmp/fl-hostmounts-XXXXXX";

static void write_table(const char *text)
{
	/* In place: the table's fd stays open on the same file. */
	int fd = open(fixture, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int setup(void **state)
{
	int fd = mkstemp(fixture);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	write_table(table);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(fixture);
	return 0;
}

/* The lookup's result and its host path; a macro, so that a failure names its line. */
#define want(h, id, dev, fs_path, err, host)                                                      \
	do {                                                                                      \
		char out_[256] = "garbage";                                                       \
		assert_int_equal(hostmounts__lookup(h, id, dev, fs_path, out_, sizeof(out_)), err); \
		assert_string_equal(out_, host);                                                  \
	} while (0)

static void test_lookup(void **state)
{
	struct hostmounts *h = hostmounts__new(fixture);

	(void)state;
	assert_non_null(h);
	/* The disk's own mount: its path on the disk is the host path. */
	want(h, 999, DISK, "/tmp/t/sa/..2026/token", 0, "/tmp/t/sa/..2026/token");
	/* A kubelet tmpfs, bind-mounted into a container: its mount point and the rest. */
	want(h, 999, TMPFS, "/..2026/token", 0,
	     "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access-x/..2026/token");
	/* The file is the mount's root. */
	want(h, 999, TMPFS, "/", 0, "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access-x");
	/* Of several, the longest root (escapes undone: a space, a backslash). */
	want(h, 999, DISK, "/srv/kube let/pods/a", 0, "/var/lib/kube\\let/pods/a");
	want(h, 999, DISK, "/srv/kube let", 0, "/var/lib/kube\\let");
	/* A root is a prefix by whole components only. */
	want(h, 999, DISK, "/srv/kube letter/x", 0, "/srv/kube letter/x");
	/* The file's own mount, when the host has it, wins over the longest root. */
	want(h, 26, DISK, "/srv/kube let/pods/a", 0, "/srv/kube let/pods/a");
	want(h, 44, DISK, "/run/netns/x", 0, "/run/netns/x");
	/* An id of another device is not the file's mount. */
	want(h, 50, DISK, "/run/netns/x", 0, "/run/netns/x");
	/* No host mount of the device: unknown. */
	want(h, 50, LATER, "/token", -ENOENT, "");
	/* Not a path from a root; no room. */
	want(h, 26, DISK, "token", -EINVAL, "");
	{
		char small[8] = "garbage";

		assert_int_equal(hostmounts__lookup(h, 26, DISK, "/tmp/t/sa/token", small, sizeof(small)),
				 -ENAMETOOLONG);
		assert_string_equal(small, "");
	}
	hostmounts__free(h);
	hostmounts__free(NULL);
}

static void test_refresh_on_miss(void **state)
{
	struct hostmounts *h = hostmounts__new(fixture);
	char more[sizeof(table) + 128];

	(void)state;
	assert_non_null(h);
	want(h, 999, DISK, "/a", 0, "/a");
	assert_int_equal(hostmounts__reads(h), 1);
	want(h, 999, TMPFS, "/b", 0, "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access-x/b");
	assert_int_equal(hostmounts__reads(h), 1); /* hits: the table as read */
	/* A mount comes: the miss reads the table again and finds it. */
	snprintf(more, sizeof(more), "%s60 26 0:77 /sub /mnt/later rw - tmpfs tmpfs rw\n", table);
	write_table(more);
	want(h, 999, LATER, "/sub/c", 0, "/mnt/later/c");
	assert_int_equal(hostmounts__reads(h), 2);
	/* It goes: a plain file says nothing of it (proc's poll would), so the table as read
	 * answers until a miss reads it again. */
	write_table(table);
	want(h, 999, LATER, "/sub/c", 0, "/mnt/later/c");
	want(h, 999, LATER + 1, "/d", -ENOENT, "");
	assert_int_equal(hostmounts__reads(h), 3);
	want(h, 999, LATER, "/sub/c", -ENOENT, "");
	assert_int_equal(hostmounts__reads(h), 4);
	hostmounts__free(h);
}

/* The running host's table, as the agent reads it (other mounts may come and go meanwhile:
 * a miss is all it can assert). */
static void test_proc(void **state)
{
	struct hostmounts *h = hostmounts__new("/proc/self/mountinfo");
	char out[4096];

	(void)state;
	assert_non_null(h);
	assert_int_equal(hostmounts__lookup(h, 0, 0xfff00000u, "/x", out, sizeof(out)), -ENOENT);
	assert_true(hostmounts__reads(h) >= 1);
	hostmounts__free(h);
	assert_null(hostmounts__new("/nonexistent/mountinfo"));
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_refresh_on_miss),
		cmocka_unit_test(test_proc),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
