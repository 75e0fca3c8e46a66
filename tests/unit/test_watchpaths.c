/* Unit tests for user/sensor/watchpaths.c (the watched paths, their kernel filter and
 * exact keys) and user/sensor/decode_file.c (FileAccess records from hand-built
 * FL_EV_FILE events, aggregated per key, checked from the protobuf bytes). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/log.h"
#include "records/record.h"
#include "records/sink.h"
#include "sensor/decode_file.h"
#include "sensor/hostmounts.h"
#include "sensor/proctable.h"
#include "sensor/watchpaths.h"

typedef Firstlight__V1__Event Rec;

#include "capture_sink.h"

static uint64_t fnv(const char *s, size_t n)
{
	uint64_t h = FL_FNV_OFFSET;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= FL_FNV_PRIME;
	}
	return h;
}

static int filter_bit(const struct watch_filter *f, const char *name, size_t m)
{
	uint64_t h = fnv(name, m);
	uint32_t i = (uint32_t)(h ^ (h >> 32)) & (FL_WATCH_BITS - 1);

	return (f->heads >> m & 1) && (f->bits[i / 64] >> (i % 64) & 1);
}

static void test_match(void **state)
{
	struct watchpaths w;

	(void)state;
	watchpaths__init(&w);
	assert_true(w.n == w.n_defaults && w.n > 10);
	assert_string_equal(w.pattern[watchpaths__match(&w, "/var/run/secrets/kubernetes.io/serviceaccount/..2026_12_05/token")],
			    "/var/run/secrets/");
	assert_string_equal(w.pattern[watchpaths__match(&w, "/run/secrets/kubernetes.io/serviceaccount/token")],
			    "/run/secrets/");
	assert_string_equal(w.pattern[watchpaths__match(&w, "/etc/shadow-")], "/etc/shadow");
	assert_string_equal(w.pattern[watchpaths__match(&w, "/root/.aws/credentials")], "~/.aws/credentials");
	assert_string_equal(w.pattern[watchpaths__match(&w, "/home/bob/.ssh/id_ed25519")], "~/.ssh/id_");
	assert_string_equal(w.pattern[watchpaths__match(&w, "/home/bob/.config/gcloud/credentials.db")],
			    "~/.config/gcloud/");
	/* Not under a watched prefix, or not in a home the way "~" means. */
	assert_int_equal(watchpaths__match(&w, "/etc/passwd"), -1);
	assert_int_equal(watchpaths__match(&w, "/run/secretsx/token"), -1);
	assert_int_equal(watchpaths__match(&w, "/home/.ssh/id_rsa"), -1);
	assert_int_equal(watchpaths__match(&w, "/home/a/b/.ssh/id_rsa"), -1);
	assert_int_equal(watchpaths__match(&w, "/srv/root/.aws/credentials"), -1);
}

static void test_add(void **state)
{
	struct watchpaths w;
	char longp[FL_WATCH_LEN + 2];

	(void)state;
	watchpaths__init(&w);
	assert_int_equal(watchpaths__add(&w, ""), -EINVAL);
	assert_int_equal(watchpaths__add(&w, "etc/shadow"), -EINVAL);
	assert_int_equal(watchpaths__add(&w, "./x"), -EINVAL);
	assert_int_equal(watchpaths__add(&w, "/"), -EINVAL);
	assert_int_equal(watchpaths__add(&w, "/a//b"), -EINVAL);
	assert_int_equal(watchpaths__add(&w, "/a/../b"), -EINVAL);
	assert_int_equal(watchpaths__add(&w, "/a/."), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	assert_int_equal(watchpaths__add(&w, longp), -EINVAL);
	longp[FL_WATCH_LEN - 1] = 0; /* 255 bytes: the most a pattern may have */
	assert_int_equal(watchpaths__add(&w, longp), 0);
	assert_int_equal(w.n, w.n_defaults + 1);
	assert_int_equal(watchpaths__add(&w, "/srv/vault/"), 0);
	assert_int_equal(watchpaths__add(&w, "/srv/vault/"), 0); /* once only */
	assert_int_equal(w.n, w.n_defaults + 2);
	assert_int_equal(watchpaths__add(&w, "/srv/..data"), 0); /* a name, not ".." */
	while (w.n < FL_WATCH_MAX) {
		char p[32];

		snprintf(p, sizeof(p), "/x%zu", w.n);
		assert_int_equal(watchpaths__add(&w, p), 0);
	}
	assert_int_equal(watchpaths__add(&w, "/one/more"), -E2BIG);
}

/* What the kernel computes must find every pattern: its fragment's head in the bitmap,
 * its exact key at its length. */
static void test_filter(void **state)
{
	struct watchpaths w;
	struct watch_filter f;
	struct fl_watch_key k;

	(void)state;
	watchpaths__init(&w);
	assert_int_equal(watchpaths__add(&w, "/srv/vault/"), 0);
	watchpaths__filter(&w, &f);
	assert_true(filter_bit(&f, "secrets", 7));   /* /run/secrets/ */
	assert_true(filter_bit(&f, "shadow", 6));    /* /etc/shadow, and so shadow- */
	assert_true(filter_bit(&f, "credentials", 8)); /* 8 bytes at most are hashed */
	assert_true(filter_bit(&f, "id_", 3));
	assert_true(filter_bit(&f, "vault", 5));
	assert_false(filter_bit(&f, "lib", 3));
	assert_false(filter_bit(&f, "x86_64-l", 8));
	for (size_t i = 0; i < w.n; i++) {
		watchpaths__key(&w, i, &k);
		assert_int_equal(k.len, strlen(w.pattern[i]));
		assert_int_equal(k.home, w.pattern[i][0] == '~');
		assert_true(k.hash == fnv(w.pattern[i], k.len));
		assert_true(f.lens[k.home][k.len / 64] >> (k.len % 64) & 1);
	}
}

/* ---- decode_file ------------------------------------------------------------------- */

static struct fl_file_event *mkev(const char *path, uint32_t mode, uint64_t ns)
{
	struct fl_file_event *e = calloc(1, sizeof(*e));

	e->hdr.type = FL_EV_FILE;
	e->hdr.boot_ns = ns;
	e->hdr.cgroup_id = 77;
	e->key.id.start_ns = 5000;
	e->key.id.tgid = 4242;
	e->key.cgroup_id = 77;
	e->key.path_hash = fnv(path, strlen(path));
	e->key.mode = mode;
	e->value.count = 1;
	e->value.first_ns = e->value.last_ns = ns;
	e->value.pid = 4242;
	e->ino = 99;
	e->dev = 8 << 20 | 1;
	e->path_len = (uint32_t)strlen(path) + 1;
	memcpy(e->path, path, e->path_len);
	e->hdr.size = (uint32_t)(offsetof(struct fl_file_event, path) + e->path_len);
	return e;
}

static void test_decode(void **state)
{
	struct capture cap;
	struct recorder rec;
	struct proctable *procs = proctable__new(0);
	struct watchpaths w;
	struct filedec *fd;
	struct fl_file_event *a = mkev("/run/secrets/kubernetes.io/serviceaccount/token", FL_FILE_READ, 1000);
	struct fl_file_event *b = mkev("/run/secrets/kubernetes.io/serviceaccount/token", FL_FILE_READ, 3000);
	struct fl_file_event *c = mkev("/etc/passwd", FL_FILE_READ, 2000);
	struct fl_file_event *d = mkev("/etc/shadow", FL_FILE_READ_WRITE, 2500);
	uint32_t gen = 0;
	const Firstlight__V1__FileAccess *r;

	(void)state;
	capture_init(&cap);
	assert_int_equal(recorder__init(&rec, &cap.base), 0);
	watchpaths__init(&w);
	fd = filedec__new(&rec, procs, &w, NULL, NULL);
	assert_non_null(fd);
	assert_int_equal(filedec__handle(fd, a, a->hdr.size), 0);
	assert_int_equal(filedec__handle(fd, b, b->hdr.size), 0); /* the same key: summed */
	assert_int_equal(filedec__handle(fd, c, c->hdr.size), 0); /* no pattern: not recorded */
	assert_int_equal(filedec__handle(fd, d, d->hdr.size), 0);
	assert_int_equal(filedec__handle(fd, d, offsetof(struct fl_file_event, path) + 3), -EINVAL);
	assert_int_equal(cap.n, 0); /* nothing before the window ends */
	/* No kernel map here (-1): the window flushes what the ring brought. */
	assert_int_equal(filedec__window(fd, -1, &gen, 1), 0);
	assert_int_equal(cap.n, 2);
	for (size_t i = 0; i < cap.n; i++) {
		assert_int_equal(cap.recs[i]->body_case, FIRSTLIGHT__V1__EVENT__BODY_FILE_ACCESS);
		r = cap.recs[i]->file_access;
		assert_int_equal(r->pid, 4242);
		assert_int_equal(r->cgroup_id, 77);
		assert_string_equal(r->workload_key, "cgroup:77");
		assert_int_equal(r->inode, 99);
		if (!strcmp(r->path, "/etc/shadow")) {
			assert_int_equal(r->mode, FIRSTLIGHT__V1__FILE_ACCESS__MODE__READ_WRITE);
			assert_int_equal(r->count, 1);
			assert_string_equal(r->watch, "/etc/shadow");
		} else {
			assert_string_equal(r->path, "/run/secrets/kubernetes.io/serviceaccount/token");
			assert_int_equal(r->mode, FIRSTLIGHT__V1__FILE_ACCESS__MODE__READ);
			assert_int_equal(r->count, 2);
			assert_int_equal(r->start_boot_nano, 1000);
			assert_int_equal(r->duration_nano, 2000);
			assert_string_equal(r->watch, "/run/secrets/");
		}
	}
	assert_int_equal(filedec__stats(fd)->unmatched, 1);
	assert_int_equal(filedec__stats(fd)->opens, 3);
	filedec__free(fd);
	free(a);
	free(b);
	free(c);
	free(d);
	proctable__free(procs);
	recorder__fini(&rec);
	sink__free(&cap.base);
}

/* With its fs path after the path, as the kernel sends it (bpf/fileaccess.bpf.c). */
static void set_fs_path(struct fl_file_event *e, uint32_t mnt_id, uint32_t dev, const char *fs_path)
{
	e->mnt_id = mnt_id;
	e->dev = dev;
	e->fs_path_len = (uint32_t)strlen(fs_path) + 1;
	memcpy(e->path + e->path_len, fs_path, e->fs_path_len);
	e->hdr.size += e->fs_path_len;
}

/* Host paths: a kubelet tmpfs bind-mounted into a container, a tmpfs of the container's
 * own (none), an fs path not in the event (refused). */
static void test_decode_host_path(void **state)
{
	static const char table[] =
		"26 1 254:0 / / rw - ext4 /dev/vda rw\n"
		"50 26 0:55 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/x rw - tmpfs tmpfs rw\n";
	char tpath[] = "/tmp/fl-test-mountinfo-XXXXXX";
	int tfd = mkstemp(tpath);
	struct capture cap;
	struct recorder rec;
	struct proctable *procs = proctable__new(0);
	struct watchpaths w;
	struct hostmounts *hm;
	struct filedec *fd;
	struct fl_file_event *a = mkev("/var/run/secrets/kubernetes.io/serviceaccount/..d/token", FL_FILE_READ, 1000);
	struct fl_file_event *b = mkev("/run/secrets/app/key", FL_FILE_READ, 2000);
	struct fl_file_event *c = mkev("/etc/shadow", FL_FILE_READ, 3000);
	uint32_t gen = 0;

	(void)state;
	assert_true(tfd >= 0);
	assert_int_equal(write(tfd, table, sizeof(table) - 1), (ssize_t)sizeof(table) - 1);
	close(tfd);
	hm = hostmounts__new(tpath);
	assert_non_null(hm);
	set_fs_path(a, 1234, 0 << 20 | 55, "/..d/token");
	set_fs_path(b, 1235, 0 << 20 | 56, "/key");
	set_fs_path(c, 26, 254 << 20 | 0, "/etc/shadow");
	capture_init(&cap);
	assert_int_equal(recorder__init(&rec, &cap.base), 0);
	watchpaths__init(&w);
	fd = filedec__new(&rec, procs, &w, NULL, hm);
	assert_non_null(fd);
	/* fs_path_len past the event's end, or without its NUL: malformed. */
	assert_int_equal(filedec__handle(fd, a, a->hdr.size - 1), -EINVAL);
	a->path[a->path_len + a->fs_path_len - 1] = 'x';
	assert_int_equal(filedec__handle(fd, a, a->hdr.size), -EINVAL);
	a->path[a->path_len + a->fs_path_len - 1] = 0;
	assert_int_equal(filedec__handle(fd, a, a->hdr.size), 0);
	assert_int_equal(filedec__handle(fd, b, b->hdr.size), 0);
	assert_int_equal(filedec__handle(fd, c, c->hdr.size), 0);
	assert_int_equal(filedec__window(fd, -1, &gen, 1), 0);
	assert_int_equal(cap.n, 3);
	for (size_t i = 0; i < cap.n; i++) {
		const Firstlight__V1__FileAccess *r = cap.recs[i]->file_access;

		if (!strcmp(r->path, "/etc/shadow"))
			assert_string_equal(r->host_path, "/etc/shadow");
		else if (!strcmp(r->path, "/run/secrets/app/key"))
			assert_string_equal(r->host_path, "");
		else
			assert_string_equal(r->host_path,
					    "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/x/..d/token");
		assert_false(r->host_path_escaped);
	}
	assert_int_equal(filedec__stats(fd)->no_host_path, 1);
	filedec__free(fd);
	hostmounts__free(hm);
	unlink(tpath);
	free(a);
	free(b);
	free(c);
	proctable__free(procs);
	recorder__fini(&rec);
	sink__free(&cap.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_host_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
