/* The handover state file; see handover.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/handover.h"

/* The longest is a drops.cgroup line: its id, its last drop and a count per cause and
 * event type, each up to 20 digits and a space (~1,300 characters). */
#define LINE_MAX_LEN (32 + (2 + FL_DROP_WHY * FL_EV_MAX) * 21)

static int open_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int handover__save(const char *data_dir, const char *run_id, const struct drops *d,
		   uint64_t net_skipped_reported)
{
	int dfd = open_dir(data_dir), fd, err = 0;
	FILE *f;

	if (dfd < 0)
		return dfd;
	/* A fresh temp file (never follows a link an attacker left), then an atomic rename. */
	unlinkat(dfd, HANDOVER_FILE ".tmp", 0);
	fd = openat(dfd, HANDOVER_FILE ".tmp", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fprintf(f, "version=1\nrun_id=%s\nnet.skipped %" PRIu64 "\n", run_id, net_skipped_reported);
	err = drops__save(d, f);
	if (!err && fflush(f))
		err = -errno;
	if (!err && fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && renameat(dfd, HANDOVER_FILE ".tmp", dfd, HANDOVER_FILE))
		err = -errno;
	if (err)
		unlinkat(dfd, HANDOVER_FILE ".tmp", 0);
	else
		fsync(dfd);
out:
	close(dfd);
	return err;
}

int handover__load(const char *data_dir, const char *run_id, struct drops *d,
		   uint64_t *net_skipped_reported)
{
	char line[LINE_MAX_LEN];
	int dfd = open_dir(data_dir), fd, err = 0, n = 0;
	FILE *f;

	if (dfd < 0)
		return dfd;
	fd = openat(dfd, HANDOVER_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	*net_skipped_reported = 0;
	while (!err && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		if (!len || line[len - 1] != '\n') {
			err = -EBADMSG; /* too long, or cut short */
			break;
		}
		line[len - 1] = 0;
		if (n == 0)
			err = strcmp(line, "version=1") ? -EBADMSG : 0;
		else if (n == 1)
			err = strncmp(line, "run_id=", 7) ? -EBADMSG : strcmp(line + 7, run_id) ? -ESTALE : 0;
		else if (!strncmp(line, "net.skipped ", 12)) {
			char *end;

			errno = 0;
			*net_skipped_reported = strtoull(line + 12, &end, 10);
			err = errno || *end || line[12] < '0' || line[12] > '9' ? -EBADMSG : 0;
		} else {
			err = drops__restore(d, line);
		}
		n++;
	}
	if (!err && (ferror(f) || n < 2))
		err = -EBADMSG;
	fclose(f);
	return err;
}
