/*
 * libFuzzer target for `firstlight report`: the input is one node's store as a record
 * stream (raw length-delimited batches, as fuzz_gaps takes them), read by report.c (its
 * own pass and the verifier's, which fails: a fuzzer cannot sign), judged over two
 * windows (every time there is, and a narrow one chosen by the input's bytes), then
 * rendered as text, JSON and the HTML page. Records are untrusted: any seq, time, kind or
 * string must give a report without a crash, leak or overflow; the JSON must parse
 * (jansson), the text hold no control character but its line ends, and the page no
 * markup of the records (no "<script", no raw bidi control).
 *
 * Build and run: make fuzz [FUZZ_SECONDS=30]. Seeds: tests/fuzz/corpus_gaps/ (crafted
 * stores of every gap kind, two runs).
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

#include "base/log.h"
#include "readers/report.h"
#include "readers/reportfmt.h"
#include "readers/reporthtml.h"

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

static void judge(uint64_t since, uint64_t until)
{
	struct report_opts o = { .since_ns = since, .until_ns = until, .now_ns = 1800000000000000000ull,
				 .run_is_live = fake_live };
	struct json_buf out = {};
	struct report *r = report__new(&o);
	json_t *j;

	if (!r || report__file(r, input_path, NULL) < 0 || report__finish(r))
		abort();
	if (!report__verdict(r) || report__nodes(r) < 1)
		abort(); /* the file is a node, even one that says nothing */
	for (size_t i = 0; i < report__nodes(r); i++) {
		const struct report_node *n = report__node(r, i);
		uint64_t total = 0;

		if (!n->verdict || (n->complete && n->n_reasons) || (!n->complete && !n->n_reasons))
			abort();
		for (int s = 0; s < REPORT_STATES; s++)
			total += n->state_ns[s];
		if (total != until - since)
			abort(); /* the strip covers the window exactly */
	}
	if (reportfmt__json(&out, r))
		abort();
	j = json_loadb(out.data, out.len, 0, NULL);
	if (!json_is_object(j) || !json_is_array(json_object_get(j, "nodes")))
		abort();
	json_decref(j);
	json_buf__reset(&out);
	if (reportfmt__text(&out, r))
		abort();
	for (size_t i = 0; i < out.len; i++) {
		unsigned char c = (unsigned char)out.data[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f)
			abort();
	}
	json_buf__reset(&out);
	if (reporthtml__page(&out, r) || memmem(out.data, out.len, "<script", 7) ||
	    memmem(out.data, out.len, "\xe2\x80\xae", 3) || memmem(out.data, out.len, "\xe2\x81\xa6", 3))
		abort();
	json_buf__free(&out);
	report__free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = 14695981039346656037ull, since;

	if (input_fd < 0) {
		input_fd = memfd_create("fuzz-report", MFD_CLOEXEC);
		if (input_fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(input_path, sizeof(input_path), "/proc/self/fd/%d", input_fd);
		log__set_level(LOG_ERROR);
	}
	if (ftruncate(input_fd, 0) || lseek(input_fd, 0, SEEK_SET) != 0)
		abort();
	write_all(data, size);
	judge(1, UINT64_MAX - 1);
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ull;
	/* A minute somewhere in 2023 (where the seeds' records are), by the input's bytes. */
	since = 1700000000ull * 1000000000ull + h % (86400ull * 1000000000ull);
	judge(since, since + 60ull * 1000000000ull);
	return 0;
}
