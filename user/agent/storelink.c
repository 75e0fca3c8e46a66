/* The store's events as records; see storelink.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/storelink.h"
#include "base/log.h"
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

static int on_removing(void *ctx, const Firstlight__V1__SegmentRemoved *r)
{
	struct storelink *link = ctx;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_SEGMENT_REMOVED;
	ev.segment_removed = (Firstlight__V1__SegmentRemoved *)r;
	return recorder__emit(link->rec, &ev, 0);
}

void storelink__bind(struct storelink *l, struct store *st)
{
	struct store_events ev = { .ctx = l, .lost = on_lost, .opened = on_opened, .removing = on_removing };

	store__set_events(st, &ev);
}
