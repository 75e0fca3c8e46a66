/* The agent's state file; see runstate.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/runstate.h"

#define STATE_MAX 4096 /* the file is ~300 bytes; anything larger is not ours */

static int open_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* An id as we write them: hex digits and dashes, bounded. */
static int copy_id(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (!n || n >= cap || strspn(v, "0123456789abcdef-") != n)
		return -EBADMSG;
	memcpy(dst, v, n + 1);
	return 0;
}

static int parse_u64(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (*v < '0' || *v > '9')
		return -EBADMSG;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (*end || errno)
		return -EBADMSG;
	*out = x;
	return 0;
}

int runstate__load(const char *dir, struct runstate *out)
{
	char buf[STATE_MAX + 1], *line, *save = NULL;
	int dfd = open_dir(dir), fd, err = 0, have_run = 0;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, RUNSTATE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, STATE_MAX + 1);
	close(fd);
	if (n < 0)
		return -errno;
	if (n > STATE_MAX)
		return -EBADMSG;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line && !err; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		uint64_t v;

		if (!eq)
			return -EBADMSG;
		*eq++ = 0;
		if (!strcmp(line, "version"))
			err = parse_u64(eq, &v) ?: (v == 1 ? 0 : -EBADMSG);
		else if (!strcmp(line, "run_id"))
			err = copy_id(out->run_id, sizeof(out->run_id), eq), have_run = 1;
		else if (!strcmp(line, "boot_id"))
			err = copy_id(out->boot_id, sizeof(out->boot_id), eq);
		else if (!strcmp(line, "started_unix_ns"))
			err = parse_u64(eq, &out->started_unix_ns);
		else if (!strcmp(line, "heartbeat_unix_ns"))
			err = parse_u64(eq, &out->heartbeat_unix_ns);
		else if (!strcmp(line, "last_seq"))
			err = parse_u64(eq, &out->last_seq);
		else if (!strcmp(line, "clean"))
			err = parse_u64(eq, &v) ?: (out->clean = v == 1, 0);
		else if (!strcmp(line, "stopped_unix_ns"))
			err = parse_u64(eq, &out->stopped_unix_ns);
		else if (!strcmp(line, "handover"))
			err = parse_u64(eq, &v) ?: (out->handover = v == 1, 0);
		/* unknown keys: written by a newer agent; ignore */
	}
	return err ? err : (have_run ? 0 : -EBADMSG);
}

int runstate__save(const char *dir, const struct runstate *st)
{
	char buf[STATE_MAX];
	int dfd = open_dir(dir), fd, len, err = 0;

	if (dfd < 0)
		return dfd;
	len = snprintf(buf, sizeof(buf),
		       "version=1\nrun_id=%s\nboot_id=%s\nstarted_unix_ns=%" PRIu64
		       "\nheartbeat_unix_ns=%" PRIu64 "\nlast_seq=%" PRIu64 "\nclean=%d\n"
		       "stopped_unix_ns=%" PRIu64 "\nhandover=%d\n",
		       st->run_id, st->boot_id, st->started_unix_ns, st->heartbeat_unix_ns,
		       st->last_seq, st->clean ? 1 : 0, st->stopped_unix_ns, st->handover ? 1 : 0);
	/* A fresh temp file (never follows a link an attacker left), then an atomic rename. */
	unlinkat(dfd, RUNSTATE_FILE ".tmp", 0);
	fd = openat(dfd, RUNSTATE_FILE ".tmp", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (write(fd, buf, (size_t)len) != len)
		err = errno ? -errno : -EIO;
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (!err && renameat(dfd, RUNSTATE_FILE ".tmp", dfd, RUNSTATE_FILE))
		err = -errno;
	if (err)
		unlinkat(dfd, RUNSTATE_FILE ".tmp", 0);
	else
		fsync(dfd); /* the rename itself must survive a power loss */
out:
	close(dfd);
	return err;
}
