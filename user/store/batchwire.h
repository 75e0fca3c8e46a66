/*
 * A stored batch's shape, read off the protobuf wire format without unpacking it, and
 * its unpacking within bounds. Input is untrusted: a batch is the one thing a reader
 * must hold whole, so what a batch may cost is fixed here, at limits a real agent never
 * reaches (a batch is closed at 256 KiB plus its last record, and a record is at most
 * a few hundred KiB of escaped argv and paths), and enforced before anything grows:
 *   BATCH_MAX_BYTES   decompressed bytes of one batch (checked at its length prefix);
 *   BATCH_MAX_EVENTS  records in one batch (counted on the wire, before unpacking);
 *   BATCH_UNPACK_MAX  bytes protobuf-c may allocate to unpack one batch (an allocator
 *                     that refuses more: many empty strings cost more unpacked than on
 *                     the wire).
 * So a reader's memory is bounded by the largest batch it may take, whatever the input:
 * a decompression bomb is refused at its length prefix, or at its count, or at its cost.
 * Errors: 0 or -errno (-EBADMSG malformed, -E2BIG over a limit).
 */
#ifndef FL_BATCHWIRE_H
#define FL_BATCHWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.pb-c.h"

#define BATCH_MAX_BYTES (4u << 20)
#define BATCH_MAX_EVENTS 65536u
#define BATCH_UNPACK_MAX (32u << 20)
#define BATCH_HEADER_MAX (64u << 10) /* a SegmentHeader is a few hundred bytes */

/* What the top-level fields of a batch (its core, or a whole batch) hold. */
struct batchwire {
	uint32_t events;              /* Batch.events fields */
	int has_first_seq;            /* the first and last event state a seq (field 1) */
	uint64_t first_seq, last_seq;
	const uint8_t *prev_hash;     /* Batch.prev_hash, or NULL; points into the input */
	size_t prev_hash_len;
	const uint8_t *header;        /* Batch.header's bytes, or NULL; points into the input */
	size_t header_len;
	int has_hash, has_signature;  /* Batch.hash / Batch.signature fields present */
};

/*
 * Walks buf[0..len) as a Batch's fields. -EBADMSG when it is not well-formed protobuf,
 * -E2BIG with more than BATCH_MAX_EVENTS events or a header over BATCH_HEADER_MAX.
 */
int batchwire__scan(const uint8_t *buf, size_t len, struct batchwire *out);

/*
 * Unpacks a batch (or its core) whose scan succeeded, allocating at most
 * BATCH_UNPACK_MAX. NULL with errno EBADMSG (does not decode) or E2BIG (over the budget).
 * Free with firstlight__v1__batch__free_unpacked(b, NULL).
 */
Firstlight__V1__Batch *batchwire__unpack(const uint8_t *buf, size_t len);

/* Unpacks the header of a scan (w->header); NULL with errno set as above. Free with
 * firstlight__v1__segment_header__free_unpacked(h, NULL). */
Firstlight__V1__SegmentHeader *batchwire__unpack_header(const struct batchwire *w);

#endif
