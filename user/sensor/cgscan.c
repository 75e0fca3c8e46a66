/* The cgroups that exist already; see cgscan.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor/cgscan.h"

#define MAX_DEPTH 32       /* cgroup trees are a handful of levels; this is a bound */
#define MAX_PATH_LEN 4096

struct walk {
	struct workloads *w;
	dev_t dev;         /* the hierarchy's mount: never cross into another */
	int v1;
	int err;
	char path[MAX_PATH_LEN]; /* relative to the root, "/" for the root itself */
};

/* Records the directory dir (at wk->path) and walks its subdirectories. Takes dir. */
static void walk_dir(struct walk *wk, int dir, size_t path_len, int depth)
{
	struct stat st;
	struct dirent *de;
	DIR *d;

	if (fstat(dir, &st) || st.st_dev != wk->dev) {
		close(dir);
		return;
	}
	workloads__add_existing(wk->w, (uint64_t)st.st_ino, path_len ? wk->path : "/", wk->v1);
	if (depth >= MAX_DEPTH || !(d = fdopendir(dir))) {
		if (depth < MAX_DEPTH && !wk->err)
			wk->err = -errno;
		close(dir);
		return;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		int fd;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (path_len + 1 + n + 1 > sizeof(wk->path))
			continue; /* deeper than any path we keep: not named */
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone meanwhile, or not ours to read */
		wk->path[path_len] = '/';
		memcpy(wk->path + path_len + 1, de->d_name, n + 1);
		walk_dir(wk, fd, path_len + 1 + n, depth + 1);
		wk->path[path_len] = '\0';
	}
	closedir(d);
}

static int scan_root(struct workloads *w, const char *root, int v1)
{
	struct walk wk = { .w = w, .v1 = v1 };
	struct stat st;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	wk.dev = st.st_dev;
	walk_dir(&wk, fd, 0, 0);
	return wk.err;
}

int cgscan__existing(struct workloads *w, const char *cgroup2_root, const char *v1_memory_root)
{
	int err = 0, e;

	if (cgroup2_root && (e = scan_root(w, cgroup2_root, 0)))
		err = e;
	if (v1_memory_root && (e = scan_root(w, v1_memory_root, 1)) && !err)
		err = e;
	return err;
}
