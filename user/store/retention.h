/*
 * Retention of the segment store: the oldest segments go when the store's total size or
 * a segment's age passes the policy. A removal is first recorded in the chain (a
 * SegmentRemoved record, made durable by the caller) and only then is the file deleted,
 * so that a chain starting after removed segments reads as policy, not tampering: the
 * record carries the hash of the removed segment's last batch, which is what the first
 * remaining batch continues from. Errors: 0 or -errno.
 */
#ifndef FL_RETENTION_H
#define FL_RETENTION_H

#include <stdint.h>

#include "firstlight.pb-c.h"

struct retention_policy {
	uint64_t max_bytes;  /* total size of the segment files; 0: no limit */
	uint64_t max_age_ns; /* since a segment's last write; 0: no limit */
};

/*
 * Removes, oldest first, the segments of dirfd the policy no longer keeps, never
 * open_segment nor anything after it. record() must put the removal in the chain and
 * make it durable, returning 0; by_bytes says the store's size asks for it (else its
 * age). record() returning -EBUSY keeps the segment, and the ones after it, for now (not
 * shipped yet); any other failure does the same and is returned. Returns the number of
 * segments removed, or -errno.
 */
int retention__apply(int dirfd, const struct retention_policy *p, const char *open_segment,
		     int (*record)(void *ctx, const Firstlight__V1__SegmentRemoved *r, int by_bytes),
		     void *ctx);

#endif
