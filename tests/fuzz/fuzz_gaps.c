/*
 * libFuzzer target for `firstlight gaps`: the input is a record stream (raw
 * length-delimited batches; gzip is fuzz_reader's business) read with the segment reader
 * and fed to gapscan, whose rows are then rendered as the table, JSON lines and the
 * summary. Records are untrusted: any seq, time, interval, kind or string must give
 * rows without a crash, leak or overflow, every JSON line must parse (jansson), and the
 * table must hold no control character. The input's first line is also given to the
 * --since/--until time parser.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=30]. Seeds in tests/fuzz/corpus_gaps/: the
 * crafted segments of tests/e2e/t_gaps_cmd.sh, decompressed (every detected kind,
 * recorded gaps, two runs), and a run of heartbeats and a sink loss.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "base/textesc.h"
#include "base/timefmt.h"
#include "readers/gapfmt.h"
#include "readers/gapscan.h"
#include "store/segment_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int input_fd = -1;
static char input_path[64];

static void write_all(const uint8_t *data, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t w = write(input_fd, data + done, size - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			abort();
		done += (size_t)w;
	}
}

/* Live or not from the pid, so both ends of a run are explored. */
static int fake_live(void *ctx, uint32_t pid, const char *boot_id, uint64_t started_boot_ns)
{
	(void)ctx;
	(void)started_boot_ns;
	if (!boot_id)
		abort();
	return (int)(pid & 1);
}

static void parse_first_line(const uint8_t *data, size_t size)
{
	char line[80];
	size_t n = 0;
	uint64_t ns;

	while (n < size && n < sizeof(line) - 1 && data[n] != '\n')
		n++;
	memcpy(line, data, n);
	line[n] = '\0';
	(void)timefmt__parse(line, &ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gapscan_env env = { .now_ns = 1800000000000000000ull, .run_is_live = fake_live,
				   .local_node = "fuzz-local-node" };
	const struct gap_row **rows;
	struct segment_reader *r;
	struct gapscan_stats st;
	struct json_buf out = {};
	Firstlight__V1__Batch *b;
	struct gapscan *s;
	size_t n;

	parse_first_line(data, size);
	if (input_fd < 0) {
		input_fd = memfd_create("fuzz-gaps", MFD_CLOEXEC);
		if (input_fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(input_path, sizeof(input_path), "/proc/self/fd/%d", input_fd);
	}
	if (ftruncate(input_fd, 0) || lseek(input_fd, 0, SEEK_SET) != 0)
		abort();
	write_all(data, size);

	s = gapscan__new();
	r = segment_reader__open(input_path);
	if (!s || !r || gapscan__begin_file(s, "fuzz"))
		abort();
	while (segment_reader__next(r, &b) == 1) {
		for (size_t i = 0; i < b->n_events; i++)
			if (gapscan__add(s, b->events[i]))
				abort(); /* only -ENOMEM is possible, and inputs are small */
		firstlight__v1__batch__free_unpacked(b, NULL);
	}
	segment_reader__close(r);
	if (gapscan__finish(s, &env))
		abort();
	n = gapscan__count(s);
	rows = calloc(n + 1, sizeof(*rows));
	if (!rows)
		abort();
	for (size_t i = 0; i < n; i++) {
		json_t *j;

		rows[i] = gapscan__row(s, i);
		if (!rows[i] || !rows[i]->run_id || !rows[i]->node || !rows[i]->detail ||
		    !rows[i]->workload || !rows[i]->file || !rows[i]->about)
			abort();
		/* Every line is one valid JSON object (jansson also insists on UTF-8). */
		json_buf__reset(&out);
		if (gapfmt__json(&out, rows[i]) || out.len < 2 || out.data[out.len - 1] != '\n')
			abort();
		j = json_loadb(out.data, out.len - 1, 0, NULL);
		if (!json_is_object(j) || json_object_size(j) != 21)
			abort();
		json_decref(j);
	}
	gapscan__stats(s, &st);
	json_buf__reset(&out);
	if (gapfmt__text(&out, rows, n) || gapfmt__summary(&out, rows, n, &st, 0))
		abort();
	/* The table holds no control character but its line ends, not even C1 ones. */
	for (size_t i = 0; i < out.len; i++) {
		unsigned char c = (unsigned char)out.data[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f ||
		    (c == 0xc2 && i + 1 < out.len && (unsigned char)out.data[i + 1] >= 0x80 &&
		     (unsigned char)out.data[i + 1] <= 0x9f))
			abort();
	}
	json_buf__free(&out);
	free(rows);
	gapscan__free(s);
	return 0;
}
