/* The pin dir of a handover; see pins.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <bpf/bpf.h>

#include "base/log.h"
#include "sensor/pins.h"

#define META_NAME "meta"

struct pins {
	char dir[4096];
	int dirfd;                 /* holds the flock */
	int meta_fd;               /* -1 until committed */
	struct fl_pin_meta *meta;  /* mapped meta value, NULL until committed */
	size_t meta_len;
};

/* mkdir -p, 0700 for what we create. */
static int mkdirs(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(path, 0700) && errno != EEXIST ? -errno : 0;
}

struct pins *pins__open(const char *dir, int create)
{
	struct pins *p = calloc(1, sizeof(*p));
	struct statfs sf;
	int err;

	if (!p)
		return NULL;
	p->dirfd = p->meta_fd = -1;
	if (snprintf(p->dir, sizeof(p->dir), "%s", dir) >= (int)sizeof(p->dir)) {
		err = -ENAMETOOLONG;
		log_error("pin dir %s: %s", dir, strerror(-err));
		goto fail;
	}
	if (create && (err = mkdirs(dir))) {
		log_error("pin dir %s: cannot create it: %s (it must be on a bpffs, e.g. under /sys/fs/bpf)",
			  dir, strerror(-err));
		goto fail;
	}
	p->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0) {
		err = -errno;
		if (err != -ENOENT || create)
			log_error("pin dir %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (fstatfs(p->dirfd, &sf) || sf.f_type != BPF_FS_MAGIC) {
		err = -ENOTSUP;
		log_error("pin dir %s: not on a bpffs: mount one there (mount -t bpf bpf /sys/fs/bpf) "
			  "or choose --pin-dir under a bpffs mount", dir);
		goto fail;
	}
	if (flock(p->dirfd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_error("pin dir %s: %s", dir,
			  err == -EBUSY ? "in use by a running agent: stop it first, or use another --pin-dir"
					: strerror(-err));
		goto fail;
	}
	return p;
fail:
	pins__close(p);
	errno = -err;
	return NULL;
}

void pins__close(struct pins *p)
{
	if (!p)
		return;
	if (p->meta)
		munmap(p->meta, p->meta_len);
	if (p->meta_fd >= 0)
		close(p->meta_fd);
	if (p->dirfd >= 0)
		close(p->dirfd); /* releases the lock */
	free(p);
}

const char *pins__dir(const struct pins *p)
{
	return p->dir;
}

static int path_of(const struct pins *p, const char *name, char *buf, size_t len)
{
	return snprintf(buf, len, "%s/%s", p->dir, name) < (int)len ? 0 : -ENAMETOOLONG;
}

int pins__get(struct pins *p, const char *name)
{
	char path[4096 + 64];
	int fd;

	if (path_of(p, name, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int pins__has(struct pins *p, const char *name)
{
	return !faccessat(p->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW);
}

int pins__pin(struct pins *p, const char *name, int fd)
{
	char path[4096 + 64];
	int err;

	if ((err = path_of(p, name, path, sizeof(path))))
		return err;
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		log_error("pin dir %s: pinning %s: %s", p->dir, name, strerror(errno));
		return err;
	}
	return 0;
}

/* The meta map's fd, checked to be ours: an array of one struct fl_pin_meta. */
static int meta_fd(struct pins *p)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd = pins__get(p, META_NAME);

	if (fd < 0)
		return fd;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_MAP_TYPE_ARRAY ||
	    info.key_size != 4 || info.value_size != sizeof(struct fl_pin_meta) || info.max_entries != 1) {
		close(fd);
		return -EBADMSG;
	}
	return fd;
}

int pins__read_meta(struct pins *p, struct fl_pin_meta *m)
{
	uint32_t key = 0;
	int fd = meta_fd(p), err = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, m))
		err = -errno;
	close(fd);
	if (!err)
		m->run_id[sizeof(m->run_id) - 1] = 0;
	return err;
}

int pins__compatible(const struct fl_pin_meta *theirs, const struct fl_pin_meta *ours,
		     char *why, size_t why_len)
{
	if (theirs->layout != ours->layout) {
		snprintf(why, why_len, "the pins are of layout %u, this agent's is %u", theirs->layout,
			 ours->layout);
		return 0;
	}
	if (memcmp(theirs->object_sha256, ours->object_sha256, sizeof(ours->object_sha256))) {
		snprintf(why, why_len, "the pinned programs are of another build of the BPF object "
			 "(an upgrade that changed them loads its own)");
		return 0;
	}
	if (theirs->ring_bytes != ours->ring_bytes || theirs->args_max_bytes != ours->args_max_bytes ||
	    theirs->max_procs != ours->max_procs) {
		snprintf(why, why_len, "the pinned programs were loaded with --ring-size %u "
			 "--args-max-bytes %u --max-procs %u, this run asks for %u, %u, %u",
			 theirs->ring_bytes, theirs->args_max_bytes, theirs->max_procs, ours->ring_bytes,
			 ours->args_max_bytes, ours->max_procs);
		return 0;
	}
	if (theirs->share_bytes != ours->share_bytes || theirs->headroom_bytes != ours->headroom_bytes) {
		snprintf(why, why_len, "the pinned programs keep %u bytes of ring share and %u of "
			 "headroom, this run asks for %u and %u (--ring-share, --ring-headroom)",
			 theirs->share_bytes, theirs->headroom_bytes, ours->share_bytes,
			 ours->headroom_bytes);
		return 0;
	}
	return 1;
}

int pins__clear(struct pins *p)
{
	int fd = dup(p->dirfd), n = 0, err = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		log_error("pin dir %s: %s", p->dir, strerror(-err));
		return err;
	}
	/* The meta first: from then on nobody takes what remains for a complete pin set. */
	if (!unlinkat(p->dirfd, META_NAME, 0))
		n++;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(p->dirfd, e->d_name, 0)) {
			if (errno == ENOENT)
				continue;
			err = -errno;
			log_error("pin dir %s: removing %s: %s", p->dir, e->d_name, strerror(errno));
			break;
		}
		n++;
	}
	closedir(d);
	return err ? err : n;
}

static int map_meta(struct pins *p, int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	void *m;

	p->meta_len = (size_t)page;
	m = mmap(NULL, p->meta_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	p->meta = m;
	p->meta_fd = fd;
	return 0;
}

int pins__commit(struct pins *p, const struct fl_pin_meta *m)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	int fd = meta_fd(p), fresh = 0, err;

	if (fd == -ENOENT) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fl_pin_meta", 4, sizeof(*m), 1, &opts);
		fresh = 1;
	}
	if (fd < 0) {
		err = fd == -1 ? -errno : fd;
		log_error("pin dir %s: the meta map: %s", p->dir, strerror(-err));
		return err;
	}
	if ((err = map_meta(p, fd))) {
		log_error("pin dir %s: mapping the meta: %s", p->dir, strerror(-err));
		close(fd);
		return err;
	}
	*p->meta = *m;
	p->meta->state = FL_PIN_RUNNING;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return fresh ? pins__pin(p, META_NAME, fd) : 0;
}

void pins__mark_handover(struct pins *p, uint64_t boot_ns)
{
	if (!p->meta)
		return;
	p->meta->handover_boot_ns = boot_ns;
	/* The state last: whoever sees HANDOVER sees the instant too. */
	__atomic_store_n(&p->meta->state, FL_PIN_HANDOVER, __ATOMIC_RELEASE);
}
