/* The store's events as records; see storelink.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/storelink.h"
#include "base/log.h"
#include "ship/shipper.h"
#include "store/sink_segment.h"

static void on_lost(void *ctx, const struct sink_loss *l)
{
	struct storelink *link = ctx;
	struct gap_info gi = {
		.kind = FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS,
		.count = l->count,
		.first_seq = l->first_seq,
		.last_seq = l->last_seq,
		.start_unix_ns = l->first_unix_ns,
		.end_unix_ns = l->last_unix_ns,
		.reason = l->err == -ENOSPC || l->err == -EDQUOT ? "disk-full" : "write-error",
	};
	char detail[160];

	snprintf(detail, sizeof(detail), "%" PRIu64 " records lost by the segment store (seq %" PRIu64
		 "-%" PRIu64 "): %s", l->count, l->first_seq, l->last_seq, strerror(-l->err));
	gi.detail = detail;
	gaps__emit(link->gaps, &gi);
	log_warn("%s", detail);
}

static void on_opened(void *ctx)
{
	struct storelink *link = ctx;

	if (link->snapshot)
		link->snapshot(link->snapshot_ctx);
}

/* Retention wants a segment that is not all shipped: age waits; size cannot, and what is
 * lost to shipping is written down first. */
static int ship_check(struct storelink *link, const Firstlight__V1__SegmentRemoved *r, int by_bytes)
{
	uint64_t first = 0;
	char detail[256];
	struct gap_info gi = { .kind = FIRSTLIGHT__V1__GAP__KIND__SHIP_LOSS, .reason = "retention" };
	int err;

	if (!shipper__unshipped(link->shipper, r->segment_number, &first))
		return 0;
	if (!by_bytes)
		return -EBUSY;
	gi.first_seq = first && first <= r->last_seq ? first : r->first_seq;
	gi.last_seq = r->last_seq;
	gi.count = gi.last_seq >= gi.first_seq && gi.first_seq ? gi.last_seq - gi.first_seq + 1 : 0;
	gi.run_id = r->agent_run_id;
	gi.start_unix_ns = r->created_unix_nano;
	snprintf(detail, sizeof(detail), "%s removed by --retain-bytes before it was shipped: seq %" PRIu64
		 "-%" PRIu64 " of run %.36s never reached JetStream", r->file, gi.first_seq, gi.last_seq,
		 r->agent_run_id);
	gi.detail = detail;
	err = gaps__emit(link->gaps, &gi);
	log_warn("%s", detail);
	return err;
}

static int on_removing(void *ctx, const Firstlight__V1__SegmentRemoved *r, int by_bytes)
{
	struct storelink *link = ctx;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	int err;

	if (link->shipper && (err = ship_check(link, r, by_bytes)))
		return err;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_SEGMENT_REMOVED;
	ev.segment_removed = (Firstlight__V1__SegmentRemoved *)r;
	err = recorder__emit(link->rec, &ev, 0);
	if (!err && link->shipper)
		shipper__removed(link->shipper, r->segment_number);
	return err;
}

static void on_sealed(void *ctx, const struct sealed_batch *b)
{
	struct storelink *link = ctx;

	if (link->shipper)
		shipper__sealed(link->shipper, b);
}

void storelink__bind(struct storelink *l, struct store *st)
{
	struct store_events ev = { .ctx = l, .lost = on_lost, .opened = on_opened, .removing = on_removing,
				   .sealed = on_sealed };

	store__set_events(st, &ev);
}
