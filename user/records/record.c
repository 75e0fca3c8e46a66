/* Stamping, packing and handing records to the sink; see record.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "records/exec_id.h"
#include "base/log.h"
#include "records/pbpack.h"
#include "records/record.h"

/* A node name is an identifier from the environment: keep it printable and bounded. */
void recorder__node_name(char out[RECORDER_NODE_MAX])
{
	const char *env = getenv("NODE_NAME");
	char host[RECORDER_NODE_MAX] = "";

	if (!env || !*env) {
		gethostname(host, sizeof(host) - 1);
		env = host;
	}
	snprintf(out, RECORDER_NODE_MAX, "%s", env);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			*p = '_';
}

static void set_node(struct recorder *r)
{
	recorder__node_name(r->node);
}

static int new_run_id(char out[RUN_ID_LEN])
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return -errno;
	b[6] = (b[6] & 0x0f) | 0x40; /* UUID version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(out, RUN_ID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}

int recorder__init(struct recorder *r, struct sink *sink)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->sink = sink;
	set_node(r);
	err = new_run_id(r->run_id);
	if (err)
		return err;
	err = exec_id__boot_tag(&r->boot_tag, r->boot_id, sizeof(r->boot_id));
	if (err)
		return err;
	wallclock__sync(&r->clock);
	r->cap = 64 * 1024;
	r->buf = malloc(r->cap);
	return r->buf ? 0 : -ENOMEM;
}

void recorder__fini(struct recorder *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* The packing buffer at least want bytes. 0 or -ENOMEM (the buffer as it was). */
static int grow(struct recorder *r, size_t want)
{
	uint8_t *buf;

	if (want <= r->cap)
		return 0;
	buf = realloc(r->buf, want);
	if (!buf)
		return -ENOMEM;
	r->buf = buf;
	r->cap = want;
	return 0;
}

int recorder__emit(struct recorder *r, Event *ev, uint64_t boot_ns)
{
	size_t len;
	int err;

	if (!boot_ns)
		boot_ns = clock__boot_ns();
	/*
	 * The number is taken for real only once the record can be packed: a record lost to
	 * memory here must not leave a hole in seq that no gap explains (the sink's own
	 * losses are counted, with their seq range, by the sink).
	 */
	ev->seq = r->seq + 1;
	ev->boot_nano = boot_ns;
	ev->time_unix_nano = wallclock__unix_ns(&r->clock, boot_ns);
	ev->node = r->node;
	ev->agent_run_id = r->run_id;
	/* Packed with room checked as it goes (pbpack.h): no size pass first. The buffer
	 * keeps its size, so a record that needs more than it has is rare. */
	for (;;) {
		ssize_t n = pbpack__pack(&ev->base, r->buf, r->cap);

		if (n >= 0) {
			len = (size_t)n;
			break;
		}
		if (n != -ENOSPC) {
			/* What pbpack refuses (nesting past its limit): protobuf-c's own way. */
			len = firstlight__v1__event__get_packed_size(ev);
			if (grow(r, len))
				goto nomem;
			firstlight__v1__event__pack(ev, r->buf);
			break;
		}
		if (grow(r, r->cap ? r->cap * 2 : 4096))
			goto nomem;
	}
	r->seq++;
	if ((unsigned)ev->body_case < sizeof(r->by_kind) / sizeof(r->by_kind[0]))
		r->by_kind[ev->body_case]++;
	err = r->sink->write(r->sink, ev, r->buf, len);
	if (err)
		r->sink_errors++;
	return err;
nomem:
	r->sink_errors++;
	r->unrecorded++;
	return -ENOMEM;
}
