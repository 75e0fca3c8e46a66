/*
 * What one JetStream publish costs its publisher, by message size and by the pause before
 * it, with the agent's own client code (transport/jetstream: headers like a batch's, a
 * message id, the expected last sequence, the wait for the ack):
 *
 *   fl-pubcost URL SUBJECT SIZE COUNT PAUSE_MS
 *
 * publishes COUNT messages of SIZE bytes on SUBJECT (stream FLBENCH_PUBCOST, made for
 * subjects flbench.pubcost.>, at most 256 MiB), sleeping PAUSE_MS before each, and prints
 * one JSON line: the CPU of the whole process (the client's threads too: its reader takes
 * the ack) per publish, median and mean, in us. The bench (scripts/bench.sh, workload
 * publish) runs it at several sizes, back to back and after the shipper's linger, to split
 * what a message costs into a part per message and a part per byte.
 * Exit status 0, or 1 with a line naming the problem.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "transport/jetstream.h"

#define COUNT_MAX 10000
#define SIZE_MAX_BYTES (1u << 20)

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static long arg(const char *name, const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s < '0' || *s > '9' || *end || v < min || v > max) {
		fprintf(stderr, "fl-pubcost: %s: '%s' is not a number from %ld to %ld\n", name, s, min, max);
		exit(1);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct js_stream stream = { .name = "FLBENCH_PUBCOST", .subjects = "flbench.pubcost.>", .replicas = 1,
				    .max_bytes = 256 << 20, .duplicate_window_ns = 120 * 1000000000LL };
	struct js_opts o = { .name = "fl-pubcost" };
	char why[JS_ERR_MAX], id[64], tag[32];
	uint64_t last = 0, seq, *cost, sum = 0;
	struct js_conn *c;
	long size, count, pause_ms;
	uint8_t *body;
	int err, dup;

	if (argc != 6) {
		fprintf(stderr, "usage: fl-pubcost URL SUBJECT SIZE COUNT PAUSE_MS\n");
		return 1;
	}
	o.urls = argv[1];
	size = arg("SIZE", argv[3], 1, SIZE_MAX_BYTES);
	count = arg("COUNT", argv[4], 1, COUNT_MAX);
	pause_ms = arg("PAUSE_MS", argv[5], 0, 60000);
	body = malloc((size_t)size);
	cost = calloc((size_t)count, sizeof(*cost));
	if (!body || !cost) {
		fprintf(stderr, "fl-pubcost: out of memory\n");
		return 1;
	}
	/* Bytes that do not compress, as a batch's deflated bytes do not. */
	srand(1);
	for (long i = 0; i < size; i++)
		body[i] = (uint8_t)rand();
	c = js_conn__open(&o, &err, why);
	if (!c) {
		fprintf(stderr, "fl-pubcost: %s: %s\n", argv[1], why);
		return 1;
	}
	if (js_conn__ensure_stream(c, &stream, why)) {
		fprintf(stderr, "fl-pubcost: stream %s: %s\n", stream.name, why);
		return 1;
	}
	snprintf(tag, sizeof(tag), "%d-%ld", getpid(), (long)time(NULL));
	/* One publish first, not counted: the connection's first use. */
	for (long i = -1; i < count; i++) {
		struct js_publish p = {
			.subject = argv[2], .msg_id = id, .expect_last_subject_seq = last,
			.hdr = { { "Fl-Node", "fl-pubcost" }, { "Fl-Segment", "seg-0000000001-20261207T000000Z-00000000.seg.gz" },
				 { "Fl-Batch", "12" }, { "Fl-Hash", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
				 { "Fl-Count", "5" }, { "Fl-Encoding", "deflate" }, { "Fl-First-Seq", "1000" },
				 { "Fl-Last-Seq", "1400" } },
			.n_hdr = 8, .data = body, .len = (size_t)size,
		};
		uint64_t t0;

		if (pause_ms)
			usleep((useconds_t)pause_ms * 1000);
		snprintf(id, sizeof(id), "%s-%ld", tag, i);
		body[0] = (uint8_t)i;
		t0 = cpu_ns();
		err = js_conn__publish(c, &p, &seq, &dup, why);
		if (err) {
			fprintf(stderr, "fl-pubcost: publish on %s: %s\n", argv[2], why);
			return 1;
		}
		if (i >= 0)
			sum += cost[i] = cpu_ns() - t0;
		last = seq;
	}
	qsort(cost, (size_t)count, sizeof(*cost), cmp_u64);
	printf("{\"size\": %ld, \"pause_ms\": %ld, \"n\": %ld, \"cpu_us_median\": %.1f, \"cpu_us_mean\": %.1f}\n",
	       size, pause_ms, count, cost[count / 2] / 1e3, sum / 1e3 / count);
	js_conn__close(c);
	free(body);
	free(cost);
	return 0;
}
