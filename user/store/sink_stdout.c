/*
 * The live view: one JSON object per line (proto3 canonical mapping), or one line of text
 * per record (recordtext.h) for a person at a terminal. Lines are
 * collected and written on flush (every drain tick) or when 64 KiB are pending, so a
 * storm costs one write() per tick, not one per record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "records/recordjson.h"
#include "records/recordtext.h"
#include "store/sink_stdout.h"

#define STDOUT_FLUSH_BYTES (64 * 1024)

struct sink_stdout {
	struct sink base;
	int fd;
	int text;
	struct json_buf out;
	int broken; /* the reader went away: count, do not retry every record */
};

static int stdout_flush(struct sink *s)
{
	struct sink_stdout *so = (struct sink_stdout *)s;
	size_t off = 0;

	while (off < so->out.len && !so->broken) {
		ssize_t n = write(so->fd, so->out.data + off, so->out.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("stdout: %s; further records are counted as lost",
				  n < 0 ? strerror(errno) : "short write");
			so->broken = 1;
			break;
		}
		off += (size_t)n;
	}
	json_buf__reset(&so->out);
	return so->broken ? -EPIPE : 0;
}

static int stdout_write(struct sink *s, const Event *ev, const uint8_t *packed, size_t len)
{
	struct sink_stdout *so = (struct sink_stdout *)s;
	int err;

	(void)packed;
	(void)len;
	if (so->broken) {
		s->lost++;
		return -EPIPE;
	}
	err = so->text ? recordtext__append(&so->out, ev) : recordjson__append(&so->out, ev);
	if (!err)
		err = json_buf__reserve(&so->out, 1);
	if (err) {
		s->lost++;
		return err;
	}
	so->out.data[so->out.len++] = '\n';
	so->out.data[so->out.len] = 0;
	s->written++;
	return so->out.len >= STDOUT_FLUSH_BYTES ? stdout_flush(s) : 0;
}

static void stdout_free(struct sink *s)
{
	struct sink_stdout *so = (struct sink_stdout *)s;

	stdout_flush(s);
	json_buf__free(&so->out);
	free(so);
}

struct sink *sink_stdout__new(int fd, int text)
{
	struct sink_stdout *so = calloc(1, sizeof(*so));

	if (!so)
		return NULL;
	so->base.name = "stdout";
	so->base.write = stdout_write;
	so->base.flush = stdout_flush;
	so->base.free = stdout_free;
	so->fd = fd;
	so->text = text;
	return &so->base;
}
