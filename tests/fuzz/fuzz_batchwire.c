/*
 * libFuzzer target for user/store/batchwire.c: the input is one stored batch (its bytes
 * after the length prefix). The wire scan is checked against protobuf-c itself: when
 * both accept the input they must agree on the number of records, the first and last
 * seq, the previous hash and the header; the scan may refuse what protobuf-c accepts
 * only for a limit (-E2BIG) or for a shape no agent writes (a repeated header, a
 * batch field of the wrong wire type); and the bounded unpack never returns more than
 * its budget lets it (ASan sees any overrun of the budget's bookkeeping).
 *
 * Build and run: make fuzz [FUZZ_SECONDS=30]. Seeds in tests/fuzz/corpus_batchwire/:
 * the batches of tests/fuzz/corpus/raw.bin (a header batch and a plain one), an empty
 * batch, and a batch of many empty records.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/batchwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batchwire w;
	Firstlight__V1__Batch *b, *plain;
	Firstlight__V1__SegmentHeader *h;
	int rc = batchwire__scan(data, size, &w);

	plain = firstlight__v1__batch__unpack(NULL, size, data);
	if (rc) {
		if (rc != -E2BIG && rc != -EBADMSG)
			abort();
		firstlight__v1__batch__free_unpacked(plain, NULL);
		return 0;
	}
	b = batchwire__unpack(data, size);
	if (!b && errno != E2BIG && errno != EBADMSG)
		abort();
	if (b) {
		if (!plain || b->n_events != w.events || b->n_events != plain->n_events)
			abort();
		if (b->n_events && (b->events[0]->seq != w.first_seq ||
				    b->events[b->n_events - 1]->seq != w.last_seq || !w.has_first_seq))
			abort();
		if ((w.prev_hash ? w.prev_hash_len : 0) != b->prev_hash.len ||
		    (b->prev_hash.len && memcmp(w.prev_hash, b->prev_hash.data, b->prev_hash.len)))
			abort();
		if (!!w.header != !!b->header || (b->hash.len && !w.has_hash) ||
		    (b->signature.len && !w.has_signature))
			abort();
	}
	h = batchwire__unpack_header(&w);
	if (w.header && !h && errno != E2BIG && errno != EBADMSG)
		abort();
	if (!w.header && h)
		abort();
	/* What protobuf-c accepted whole, its header alone decodes too. */
	if (b && b->header && !h)
		abort();
	firstlight__v1__segment_header__free_unpacked(h, NULL);
	firstlight__v1__batch__free_unpacked(b, NULL);
	firstlight__v1__batch__free_unpacked(plain, NULL);
	return 0;
}
