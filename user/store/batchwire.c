/* A batch's wire shape and its bounded unpacking; see batchwire.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/varint.h"
#include "store/batchwire.h"

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };
enum { F_EVENTS = 1, F_PREV_HASH = 2, F_HASH = 3, F_HEADER = 4, F_SIGNATURE = 5 };
#define F_EVENT_SEQ 1

/*
 * The field at buf[*pos]: its number, wire type, and for a length-delimited one its
 * value; *pos moves past it. 0 at a field, 1 at the end, -EBADMSG when malformed.
 */
static int next_field(const uint8_t *buf, size_t len, size_t *pos, uint32_t *field,
		      unsigned int *wt, const uint8_t **val, size_t *vlen, uint64_t *num)
{
	uint64_t key, v;
	int n;

	if (*pos == len)
		return 1;
	n = varint__get(buf + *pos, len - *pos, &key);
	if (n <= 0 || key >> 3 == 0 || key >> 3 > UINT32_MAX)
		return -EBADMSG;
	*pos += (size_t)n;
	*field = (uint32_t)(key >> 3);
	*wt = key & 7;
	switch (*wt) {
	case WT_VARINT:
		n = varint__get(buf + *pos, len - *pos, &v);
		if (n <= 0)
			return -EBADMSG;
		*pos += (size_t)n;
		*num = v;
		return 0;
	case WT_FIXED64:
	case WT_FIXED32: {
		size_t w = *wt == WT_FIXED64 ? 8 : 4;

		if (len - *pos < w)
			return -EBADMSG;
		*pos += w;
		return 0;
	}
	case WT_LEN:
		n = varint__get(buf + *pos, len - *pos, &v);
		if (n <= 0 || v > len - *pos - (size_t)n)
			return -EBADMSG;
		*pos += (size_t)n;
		*val = buf + *pos;
		*vlen = (size_t)v;
		*pos += (size_t)v;
		return 0;
	default:
		return -EBADMSG; /* groups: never written by us, refused */
	}
}

/* An event's seq (its last field 1, as protobuf reads it); 0 when it has none. */
static int event_seq(const uint8_t *ev, size_t len, uint64_t *seq)
{
	size_t pos = 0;
	uint32_t field;
	unsigned int wt;
	const uint8_t *val;
	size_t vlen;
	uint64_t num;
	int rc;

	*seq = 0;
	while (!(rc = next_field(ev, len, &pos, &field, &wt, &val, &vlen, &num)))
		if (field == F_EVENT_SEQ && wt == WT_VARINT)
			*seq = num;
	return rc < 0 ? rc : 0;
}

int batchwire__scan(const uint8_t *buf, size_t len, struct batchwire *out)
{
	const uint8_t *val = NULL, *first = NULL, *last = NULL;
	size_t pos = 0, vlen = 0, first_len = 0, last_len = 0;
	uint32_t field;
	unsigned int wt;
	uint64_t num;
	int rc;

	memset(out, 0, sizeof(*out));
	while (!(rc = next_field(buf, len, &pos, &field, &wt, &val, &vlen, &num))) {
		if (field >= F_EVENTS && field <= F_SIGNATURE && wt != WT_LEN)
			return -EBADMSG; /* protobuf-c would refuse it too */
		switch (field) {
		case F_EVENTS:
			if (++out->events > BATCH_MAX_EVENTS)
				return -E2BIG;
			if (!first) {
				first = val;
				first_len = vlen;
			}
			last = val;
			last_len = vlen;
			break;
		case F_PREV_HASH:
			out->prev_hash = val;
			out->prev_hash_len = vlen;
			break;
		case F_HASH:
			out->has_hash = 1;
			break;
		case F_HEADER:
			if (vlen > BATCH_HEADER_MAX)
				return -E2BIG;
			/* Several header fields would be merged by protobuf: not ours, refused. */
			if (out->header)
				return -EBADMSG;
			out->header = val;
			out->header_len = vlen;
			break;
		case F_SIGNATURE:
			out->has_signature = 1;
			break;
		default:
			break; /* a field of a later format: skipped, as protobuf does */
		}
	}
	if (rc < 0)
		return rc;
	if (first) {
		if ((rc = event_seq(first, first_len, &out->first_seq)) ||
		    (rc = event_seq(last, last_len, &out->last_seq)))
			return rc;
		out->has_first_seq = 1;
	}
	return 0;
}

/* protobuf-c's allocations for one unpack, counted against BATCH_UNPACK_MAX. */
struct budget {
	size_t used;
	int refused;
};

static void *budget_alloc(void *data, size_t size)
{
	struct budget *b = data;

	if (size > BATCH_UNPACK_MAX - b->used) {
		b->refused = 1;
		return NULL;
	}
	b->used += size;
	return malloc(size);
}

static void budget_free(void *data, void *p)
{
	(void)data;
	free(p); /* the unpacked message is freed later with the default allocator: same free */
}

Firstlight__V1__Batch *batchwire__unpack(const uint8_t *buf, size_t len)
{
	struct budget b = { 0 };
	ProtobufCAllocator a = { .alloc = budget_alloc, .free = budget_free, .allocator_data = &b };
	Firstlight__V1__Batch *batch;

	if (len > BATCH_MAX_BYTES) {
		errno = E2BIG;
		return NULL;
	}
	batch = firstlight__v1__batch__unpack(&a, len, buf);
	if (!batch)
		errno = b.refused ? E2BIG : EBADMSG;
	return batch;
}

Firstlight__V1__SegmentHeader *batchwire__unpack_header(const struct batchwire *w)
{
	struct budget b = { 0 };
	ProtobufCAllocator a = { .alloc = budget_alloc, .free = budget_free, .allocator_data = &b };
	Firstlight__V1__SegmentHeader *h;

	if (!w->header) {
		errno = ENOENT;
		return NULL;
	}
	h = firstlight__v1__segment_header__unpack(&a, w->header_len, w->header);
	if (!h)
		errno = b.refused ? E2BIG : EBADMSG;
	return h;
}
