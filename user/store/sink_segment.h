/*
 * Controls of the segment store's sink (sink_segment__new in sink.h), for the policy
 * that drives it (store.c): which segment is open, when to move to the next one,
 * making the chain durable on demand, and the records it lost.
 * The sink given must come from sink_segment__new. Errors: 0 or -errno.
 */
#ifndef FL_SINK_SEGMENT_H
#define FL_SINK_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "records/sink.h"
#include "store/store_dir.h"

struct segment_status {
	int open;                     /* 0: no segment can be written, records count as lost */
	int err;                      /* when not open: why (-errno) */
	char name[SEGMENT_NAME_MAX];  /* the open segment */
	uint64_t bytes;               /* its compressed size so far */
	uint64_t batches;             /* batches written to it */
	uint64_t opened_mono_ns;
};

void sink_segment__status(struct sink *s, struct segment_status *st);

/*
 * Closes the open segment, if any (pending batch, gzip trailer, fsync), and opens the
 * next one, whose header goes out with the next flush. With no segment open (after a
 * write error) this is the retry. On failure the sink stays without a segment.
 */
int sink_segment__next(struct sink *s);

/* Writes the pending batch and fdatasyncs now, whatever the durability policy. */
int sink_segment__sync(struct sink *s);

/* A run of records the sink could not store. */
struct sink_loss {
	uint64_t first_seq, last_seq; /* every lost record is within; see Gap.first_seq */
	uint64_t count;
	uint64_t first_unix_ns, last_unix_ns;
	int err; /* the first error of the run (-errno) */
};

/* Moves up to max loss runs not yet taken into out; returns how many. */
size_t sink_segment__take_losses(struct sink *s, struct sink_loss *out, size_t max);
/* Puts taken runs back, first, when the records that reported them were lost too. */
void sink_segment__return_losses(struct sink *s, const struct sink_loss *l, size_t n);

#endif
