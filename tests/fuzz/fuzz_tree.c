/*
 * libFuzzer target for `firstlight tree`: the input is a record stream (raw
 * length-delimited batches, as fuzz_gaps) read with the segment reader; every kind of
 * selection is made from what the records hold (the first container id and a one-byte
 * prefix of it, the first pod, workload key, exec id, and pid at its start), and each
 * goes through both passes of jobtree and both renderers. Records are untrusted: any
 * id, parent, time, count or string must give a tree without a crash, leak, overflow
 * or hang (lineage loops, chains that replace each other, deep trees); the JSON must
 * parse (jansson, which also insists on UTF-8) and the text must hold no control
 * character but its line ends, not even C1 ones. Queries that match nothing (a typo of
 * each, a bare number) go through the suggestions; the same records go through
 * `firstlight workloads`' list and both of its renderers, under the same rules.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=30]. Seeds in tests/fuzz/corpus_tree/: the
 * records of tests/e2e/t_tree.sh's two runs (a runc job, then the same job with drops),
 * decompressed.
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

#include "readers/jobtree.h"
#include "readers/wlfmt.h"
#include "readers/wllist.h"
#include "store/segment_reader.h"
#include "readers/jobhtml.h"
#include "readers/treefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BATCHES 4096

static int input_fd = -1;

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

static void check_text(const struct json_buf *out)
{
	for (size_t i = 0; i < out->len; i++) {
		unsigned char c = (unsigned char)out->data[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f ||
		    (c == 0xc2 && i + 1 < out->len && (unsigned char)out->data[i + 1] >= 0x80 &&
		     (unsigned char)out->data[i + 1] <= 0x9f))
			abort();
	}
}

static void run_query(Firstlight__V1__Batch **bs, size_t n, const struct jobtree_query *q)
{
	struct json_buf out = {};
	struct jobtree *t = jobtree__new(q);
	json_t *j;
	int err;

	if (!t)
		abort();
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < bs[i]->n_events; k++)
			if (jobtree__scan(t, bs[i]->events[k]))
				abort();
	err = jobtree__resolve(t);
	if (err == -ENOTUNIQ) {
		for (size_t i = 0; i < jobtree__candidates(t); i++)
			if (!jobtree__candidate(t, i)->what || !jobtree__candidate(t, i)->key)
				abort();
	} else if (err == -ENOENT) {
		for (size_t i = 0; i < jobtree__suggestions(t); i++)
			if (!jobtree__suggestion(t, i)->what || !jobtree__suggestion(t, i)->key)
				abort();
	} else if (err) {
		abort();
	}
	if (err || jobtree__keep_records(t))
		goto out;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < bs[i]->n_events; k++)
			if (jobtree__add(t, bs[i]->events[k]))
				abort();
	if (jobtree__build(t) || treefmt__text_with(&out, jobtree__job(t), TREEFMT_EXEC_IDS))
		abort();
	check_text(&out);
	json_buf__reset(&out);
	if (treefmt__json(&out, jobtree__job(t)) || !out.len)
		abort();
	j = json_loadb(out.data, out.len, 0, NULL);
	if (!json_is_object(j) || !json_is_array(json_object_get(j, "processes")))
		abort();
	json_decref(j);
	/* The page: whatever the records hold, no markup of theirs and no bidi control. */
	json_buf__reset(&out);
	if (jobhtml__page(&out, jobtree__job(t)) || !out.len || memmem(out.data, out.len, "<script", 7) ||
	    memmem(out.data, out.len, "\xe2\x80\xae", 3) || memmem(out.data, out.len, "\xe2\x81\xa6", 3))
		abort();
out:
	json_buf__free(&out);
	jobtree__free(t);
}

/* `firstlight workloads` over the same records: a table without control characters,
 * JSON lines that parse, each an object with every field. */
static void run_workloads(Firstlight__V1__Batch **bs, size_t n)
{
	struct wllist *l = wllist__new();
	const struct wl_row **rows;
	struct json_buf out = {};
	size_t count;

	if (!l)
		abort();
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < bs[i]->n_events; k++)
			if (wllist__add(l, bs[i]->events[k]))
				abort();
	if (wllist__finish(l))
		abort();
	count = wllist__count(l);
	rows = calloc(count + 1, sizeof(*rows));
	if (!rows)
		abort();
	for (size_t i = 0; i < count; i++)
		rows[i] = wllist__row(l, i);
	if (wlfmt__text(&out, rows, count))
		abort();
	check_text(&out);
	for (size_t i = 0; i < count; i++) {
		json_t *j;

		json_buf__reset(&out);
		if (wlfmt__json(&out, rows[i]))
			abort();
		j = json_loadb(out.data, out.len, 0, NULL);
		if (!json_is_object(j) || json_object_size(j) != 21)
			abort();
		json_decref(j);
	}
	json_buf__free(&out);
	free(rows);
	wllist__free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Firstlight__V1__Batch *bs[MAX_BATCHES];
	const char *container = NULL, *pod = NULL, *key = NULL, *exec_id = NULL;
	struct jobtree_query q = {};
	char prefix[2] = "";
	uint32_t pid = 0;
	uint64_t at = 0;
	struct segment_reader *r;
	size_t n = 0;

	if (input_fd < 0 && (input_fd = memfd_create("fuzz-tree", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(input_fd, 0) || lseek(input_fd, 0, SEEK_SET) != 0)
		abort();
	write_all(data, size);
	if (lseek(input_fd, 0, SEEK_SET) != 0)
		abort();
	r = segment_reader__fdopen(dup(input_fd));
	if (!r)
		abort();
	while (n < MAX_BATCHES && segment_reader__next(r, &bs[n]) == 1)
		n++;
	segment_reader__close(r);
	/* What to ask for: the first of each kind the records name. */
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < bs[i]->n_events; k++) {
			const Firstlight__V1__Event *ev = bs[i]->events[k];

			if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD && ev->workload) {
				if (!container && ev->workload->container_id && *ev->workload->container_id)
					container = ev->workload->container_id;
				if (!pod && ev->workload->pod_name && *ev->workload->pod_name)
					pod = ev->workload->pod_name;
				if (!key && ev->workload->key && *ev->workload->key)
					key = ev->workload->key;
			}
			if (ev->body_case == FIRSTLIGHT__V1__EVENT__BODY_EXEC && ev->exec && ev->exec->process &&
			    !exec_id && ev->exec->process->exec_id && *ev->exec->process->exec_id) {
				exec_id = ev->exec->process->exec_id;
				pid = ev->exec->process->pid;
				at = ev->time_unix_nano;
			}
		}
	}
	run_workloads(bs, n);
	/* Nothing matches these: the suggestions are made. */
	run_query(bs, n, &(struct jobtree_query){ .by = JOBTREE_BY_CONTAINER, .value = "zz-no-such-id" });
	run_query(bs, n, &(struct jobtree_query){ .by = JOBTREE_BY_POD, .value = "zz-no-such-pod" });
	run_query(bs, n, &(struct jobtree_query){ .by = JOBTREE_BY_WORKLOAD, .value = "1" });
	run_query(bs, n, &(struct jobtree_query){ .by = JOBTREE_BY_EXEC_ID, .value = "zz:1:2" });
	run_query(bs, n, &(struct jobtree_query){ .by = JOBTREE_BY_PID, .pid = pid ? pid : 1, .at_ns = 1 });
	if (container) {
		run_query(bs, n, &(struct jobtree_query){ .by = JOBTREE_BY_CONTAINER, .value = container });
		prefix[0] = container[0];
		run_query(bs, n, &(struct jobtree_query){ .by = JOBTREE_BY_CONTAINER, .value = prefix });
	}
	if (pod)
		run_query(bs, n, &(struct jobtree_query){ .by = JOBTREE_BY_POD, .value = pod });
	if (key)
		run_query(bs, n, &(struct jobtree_query){ .by = JOBTREE_BY_WORKLOAD, .value = key });
	if (exec_id) {
		run_query(bs, n, &(struct jobtree_query){ .by = JOBTREE_BY_EXEC_ID, .value = exec_id });
		q = (struct jobtree_query){ .by = JOBTREE_BY_PID, .pid = pid, .at_ns = at };
		run_query(bs, n, &q);
	}
	for (size_t i = 0; i < n; i++)
		firstlight__v1__batch__free_unpacked(bs[i], NULL);
	return 0;
}
