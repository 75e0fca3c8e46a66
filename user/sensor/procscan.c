/* Seeding pre-existing processes: kernel ids from the task iterator, images from /proc. */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "sensor/procscan.h"

struct scan_ctx {
	struct decoder *d;
	int adopt;
	uint32_t args_max_bytes;
	char *args;
	int count;
};

/* Reads up to cap bytes of a /proc file; returns the length or -errno. */
static ssize_t read_file(int dirfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	size_t have = 0;

	if (fd < 0)
		return -errno;
	while (have < cap) {
		ssize_t n = read(fd, buf + have, cap - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	return (ssize_t)have;
}

/*
 * /proc/<pid>/stat field 22 is the start time in clock ticks since boot, the same
 * start_boottime the kernel gave us, rounded down: if it differs, the pid was reused
 * between the iterator and now, and /proc describes another process.
 */
static int same_process(int dirfd, uint64_t start_ns)
{
	char stat[1024];
	ssize_t n = read_file(dirfd, "stat", stat, sizeof(stat) - 1);
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);
	char *p;

	if (n <= 0 || hz <= 0)
		return 0;
	stat[n] = 0;
	/* comm (field 2) may hold spaces and parentheses: skip to its last ')'. */
	p = strrchr(stat, ')');
	if (!p)
		return 0;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &ticks) != 1)
		return 0;
	return ticks == start_ns / (1000000000ull / (unsigned long long)hz);
}

static int seed_one(void *ctx, const struct fl_seed_event *ev)
{
	struct scan_ctx *sc = ctx;
	char path[64], exe[4096] = "", cwd[4096] = "";
	struct proc_image *img = NULL;
	ssize_t exe_len, cwd_len, args_len;
	uint32_t flags = 0;
	int dirfd;

	snprintf(path, sizeof(path), "/proc/%u", ev->task.pid);
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd >= 0 && same_process(dirfd, ev->task.start_ns)) {
		exe_len = readlinkat(dirfd, "exe", exe, sizeof(exe) - 1);
		cwd_len = readlinkat(dirfd, "cwd", cwd, sizeof(cwd) - 1);
		args_len = read_file(dirfd, "cmdline", sc->args, sc->args_max_bytes + 1);
		if (exe_len < 0) {
			exe_len = 0;
			flags |= IMG_BINARY_UNRESOLVED;
		}
		if (cwd_len < 0) {
			cwd_len = 0;
			flags |= IMG_CWD_UNRESOLVED;
		}
		if (args_len < 0)
			args_len = 0;
		if ((size_t)args_len > sc->args_max_bytes) {
			args_len = sc->args_max_bytes;
			flags |= IMG_ARGS_TRUNCATED;
		}
		img = decoder__image(sc->d, exe, (size_t)exe_len, cwd, (size_t)cwd_len, sc->args,
				     (size_t)args_len, 0, flags | IMG_FROM_PROCFS);
	}
	if (dirfd >= 0)
		close(dirfd);
	if (sc->adopt) {
		int taken = decoder__adopt(sc->d, ev, img);

		if (taken < 0)
			return taken;
		sc->count += taken;
		return 0;
	}
	/* Gone already, or reused: still record what the kernel told us, image unknown. */
	sc->count++;
	/* A record the sink could not take is counted there; only memory stops the scan. */
	return decoder__seed(sc->d, ev, img) == -ENOMEM ? -ENOMEM : 0;
}

int procscan__seed(struct loader *l, struct decoder *d, uint32_t args_max_bytes)
{
	struct scan_ctx sc = { .d = d, .args_max_bytes = args_max_bytes, .adopt = l->adopted };
	int err;

	sc.args = malloc(args_max_bytes + 1);
	if (!sc.args)
		return -ENOMEM;
	err = loader__seed(l, seed_one, &sc);
	free(sc.args);
	return err ? err : sc.count;
}
