/* Removing old segments, each removal recorded first; see retention.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/chain.h"
#include "base/log.h"
#include "store/retention.h"
#include "store/segment_reader.h"
#include "store/store_dir.h"

/* Successors searched for the one whose header continues from a removed segment. */
#define SUCCESSORS_SEARCHED 4

/* The first batch of a segment (its header, usually), or NULL. Caller frees. */
static Firstlight__V1__Batch *first_batch(int dirfd, const char *name)
{
	struct segment_reader *r = segment_reader__openat(dirfd, name);
	Firstlight__V1__Batch *b = NULL;

	if (r && segment_reader__next(r, &b) <= 0)
		b = NULL;
	segment_reader__close(r);
	return b;
}

struct removal {
	Firstlight__V1__SegmentRemoved msg;
	char reason[160];
	char run_id[64];
	uint8_t last_hash[CHAIN_HASH_LEN];
};

/*
 * What the chain must know of segs[i] once it is gone. Its own header gives the run and
 * the first record; where it ended is in the header of the segment after it (the
 * removed file is not read to its end: that would stall the agent's loop).
 */
static void describe(int dirfd, const struct seg_entry *segs, size_t n, size_t i,
		     struct removal *rm)
{
	Firstlight__V1__Batch *b = first_batch(dirfd, segs[i].name);

	rm->msg.file = (char *)segs[i].name;
	rm->msg.segment_number = segs[i].number;
	rm->msg.bytes = segs[i].bytes;
	if (b && b->header) {
		snprintf(rm->run_id, sizeof(rm->run_id), "%s",
			 b->header->agent_run_id ? b->header->agent_run_id : "");
		rm->msg.first_seq = b->header->first_seq;
		rm->msg.created_unix_nano = b->header->created_unix_nano;
	}
	rm->msg.agent_run_id = rm->run_id;
	firstlight__v1__batch__free_unpacked(b, NULL);
	for (size_t j = i + 1; j < n && j <= i + SUCCESSORS_SEARCHED; j++) {
		b = first_batch(dirfd, segs[j].name);
		if (b && b->header && b->header->prev_segment &&
		    !strcmp(b->header->prev_segment, segs[i].name) &&
		    b->prev_hash.len == CHAIN_HASH_LEN) {
			memcpy(rm->last_hash, b->prev_hash.data, CHAIN_HASH_LEN);
			rm->msg.last_hash.data = rm->last_hash;
			rm->msg.last_hash.len = CHAIN_HASH_LEN;
			rm->msg.last_seq = b->header->prev_last_seq;
			j = n; /* found */
		}
		firstlight__v1__batch__free_unpacked(b, NULL);
	}
	if (!rm->msg.last_hash.len)
		log_warn("retention: no segment says where %s ended: its removal will not "
			 "explain the chain's new start", segs[i].name);
}

int retention__apply(int dirfd, const struct retention_policy *p, const char *open_segment,
		     int (*record)(void *ctx, const Firstlight__V1__SegmentRemoved *r, int by_bytes), void *ctx)
{
	struct seg_entry *segs = NULL;
	uint64_t total = 0, now;
	struct timespec ts;
	size_t n = 0;
	int err, removed = 0;

	if (!p->max_bytes && !p->max_age_ns)
		return 0;
	err = store_dir__list(dirfd, &segs, &n);
	if (err)
		return err;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (size_t i = 0; i < n; i++)
		total += segs[i].bytes;
	for (size_t i = 0; i < n && strcmp(segs[i].name, open_segment); i++) {
		struct removal rm = { .msg = FIRSTLIGHT__V1__SEGMENT_REMOVED__INIT };
		uint64_t age = now > (uint64_t)segs[i].mtime_ns ? now - (uint64_t)segs[i].mtime_ns : 0;
		int by_bytes = p->max_bytes && total > p->max_bytes;

		if (by_bytes)
			snprintf(rm.reason, sizeof(rm.reason),
				 "--retain-bytes %" PRIu64 ": the store held %" PRIu64 " bytes",
				 p->max_bytes, total);
		else if (p->max_age_ns && age > p->max_age_ns)
			snprintf(rm.reason, sizeof(rm.reason),
				 "--retain-age %" PRIu64 "s: last written %" PRIu64 "s ago",
				 p->max_age_ns / 1000000000, age / 1000000000);
		else
			break;
		rm.msg.reason = rm.reason;
		describe(dirfd, segs, n, i, &rm);
		err = record(ctx, &rm.msg, by_bytes);
		if (err == -EBUSY) {
			/* Not shipped yet, and only age asks for it: it waits. */
			log_debug("retention: %s kept until it is shipped", segs[i].name);
			err = 0;
			break;
		}
		if (err) {
			log_warn("retention: %s kept: its removal could not be recorded (%s)",
				 segs[i].name, strerror(-err));
			break;
		}
		if (unlinkat(dirfd, segs[i].name, 0)) {
			err = -errno;
			log_warn("retention: %s: %s", segs[i].name, strerror(-err));
			break;
		}
		log_info("retention: removed %s (%s)", segs[i].name, rm.reason);
		total -= segs[i].bytes;
		removed++;
	}
	free(segs);
	if (removed)
		store_dir__fsync(dirfd);
	return err && !removed ? err : removed;
}
