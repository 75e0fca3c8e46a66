/* The host's mount table and a file's host path; see hostmounts.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/array.h"
#include "base/log.h"
#include "sensor/hostmounts.h"

#define HOSTMOUNTS_READ_MAX (64u << 20) /* a table larger than this is not read whole */

struct hostmount {
	uint32_t id;
	uint32_t dev;      /* major << 20 | minor, as the kernel's dev_t */
	const char *root;  /* in text: the mount's root from its superblock's root */
	size_t root_len;
	const char *point; /* in text: where the host sees it */
};

struct hostmounts {
	int fd;
	int proc;             /* a proc mountinfo: poll tells when it changed */
	int loaded;
	char *text;           /* the table as read, unescaped in place; owned */
	size_t text_cap;
	struct hostmount *m;  /* points into text */
	size_t n, cap;
	uint64_t reads;
};

struct hostmounts *hostmounts__new(const char *path)
{
	struct hostmounts *h = calloc(1, sizeof(*h));
	struct statfs sfs;

	if (!h)
		return NULL;
	h->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (h->fd < 0) {
		int err = errno;

		free(h);
		errno = err;
		return NULL;
	}
	h->proc = !fstatfs(h->fd, &sfs) && sfs.f_type == PROC_SUPER_MAGIC;
	return h;
}

void hostmounts__free(struct hostmounts *h)
{
	if (!h)
		return;
	close(h->fd);
	free(h->text);
	free(h->m);
	free(h);
}

uint64_t hostmounts__reads(const struct hostmounts *h)
{
	return h->reads;
}

/* mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash), in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,... - ext3 /dev/root rw": id, device, root, point. 0 or -EINVAL. */
static int parse_line(char *line, struct hostmount *m)
{
	char *f[5], *save = NULL, *end;
	unsigned long id, major, minor;

	for (int i = 0; i < 5; i++) {
		f[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!f[i])
			return -EINVAL;
	}
	errno = 0;
	id = strtoul(f[0], &end, 10);
	if (errno || *end || id > UINT32_MAX)
		return -EINVAL;
	major = strtoul(f[2], &end, 10);
	if (errno || *end != ':' || major >= (1ul << 12))
		return -EINVAL;
	minor = strtoul(end + 1, &end, 10);
	if (errno || *end || minor >= (1ul << 20))
		return -EINVAL;
	unescape(f[3]);
	unescape(f[4]);
	if (f[3][0] != '/' || f[4][0] != '/')
		return -EINVAL;
	m->id = (uint32_t)id;
	m->dev = (uint32_t)(major << 20 | minor);
	m->root = f[3];
	m->root_len = strlen(f[3]);
	m->point = f[4];
	return 0;
}

static int load(struct hostmounts *h)
{
	size_t len = 0, lines = 0;
	char *line, *next;

	h->n = 0;
	h->loaded = 0;
	if (lseek(h->fd, 0, SEEK_SET) < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (len + 4096 + 1 > h->text_cap) {
			if (h->text_cap >= HOSTMOUNTS_READ_MAX)
				return -EFBIG;
			if (ARRAY_GROW(h->text, h->text_cap, len + 4096 + 1))
				return -ENOMEM;
		}
		r = read(h->fd, h->text + len, h->text_cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	h->text[len] = 0;
	h->reads++;
	for (line = h->text; line && *line; line = next) {
		struct hostmount m;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lines++;
		if (parse_line(line, &m))
			continue; /* not a mount line: nothing to find there */
		if (ARRAY_GROW(h->m, h->cap, h->n + 1))
			return -ENOMEM;
		h->m[h->n++] = m;
	}
	if (lines && !h->n)
		log_warn("host mounts: no line of the mount table could be read: no host paths");
	h->loaded = 1;
	return 0;
}

/* Whether the kernel says the table changed since it was read (proc only). */
static int changed(struct hostmounts *h)
{
	struct pollfd p = { .fd = h->fd, .events = POLLPRI };

	if (!h->proc)
		return 0;
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLPRI | POLLERR));
}

/* Whether m's root is fs_path or a directory above it. */
static int root_holds(const struct hostmount *m, const char *fs_path)
{
	if (m->root_len == 1)
		return 1; /* "/": the whole filesystem */
	return !strncmp(fs_path, m->root, m->root_len) &&
	       (fs_path[m->root_len] == '/' || !fs_path[m->root_len]);
}

static const struct hostmount *find(const struct hostmounts *h, uint32_t mnt_id, uint32_t dev,
				    const char *fs_path)
{
	const struct hostmount *best = NULL;

	for (size_t i = 0; i < h->n; i++) {
		const struct hostmount *m = &h->m[i];

		if (m->dev != dev || !root_holds(m, fs_path))
			continue;
		if (m->id == mnt_id)
			return m; /* the mount it was opened through */
		if (!best || m->root_len > best->root_len)
			best = m;
	}
	return best;
}

/* point + the part of fs_path below root, without a doubled or trailing '/'. */
static int join(const struct hostmount *m, const char *fs_path, char *out, size_t out_cap)
{
	const char *rest = m->root_len == 1 ? fs_path : fs_path + m->root_len;
	size_t plen = strlen(m->point), rlen;

	if (plen == 1)
		plen = 0; /* "/": rest brings its own '/' */
	if (!strcmp(rest, "/"))
		rest = "";
	rlen = strlen(rest);
	if (!plen && !rlen) {
		if (out_cap < 2)
			return -ENAMETOOLONG;
		strcpy(out, "/");
		return 0;
	}
	if (plen + rlen + 1 > out_cap)
		return -ENAMETOOLONG;
	memcpy(out, m->point, plen);
	memcpy(out + plen, rest, rlen + 1);
	return 0;
}

int hostmounts__lookup(struct hostmounts *h, uint32_t mnt_id, uint32_t dev, const char *fs_path,
		       char *out, size_t out_cap)
{
	const struct hostmount *m;
	int err = 0, fresh = 0;

	if (out_cap)
		*out = 0;
	if (!fs_path || fs_path[0] != '/')
		return -EINVAL;
	if (!h->loaded || changed(h)) {
		err = load(h);
		fresh = 1;
	}
	m = err ? NULL : find(h, mnt_id, dev, fs_path);
	if (!m && !err && !fresh && !h->proc) {
		/* No word from the kernel on a plain file: a miss reads it again. */
		err = load(h);
		m = err ? NULL : find(h, mnt_id, dev, fs_path);
	}
	if (err)
		return err;
	if (!m)
		return -ENOENT;
	err = join(m, fs_path, out, out_cap);
	if (err && out_cap)
		*out = 0;
	return err;
}
