/*
 * What the segment store reports, written down as records (store.h, struct
 * store_events): a run of lost records becomes a SINK_LOSS gap with its exact range, a
 * new segment opens with the snapshot of live workloads and processes, a retention
 * removal becomes a SegmentRemoved record. With shipping, every batch written goes to the
 * shipper, and retention waits for a segment to be shipped unless the store's size
 * forces it: then the records not shipped become a SHIP_LOSS gap first. The store sits
 * below the recorder; this is where the two meet.
 */
#ifndef FL_STORELINK_H
#define FL_STORELINK_H

#include "records/gaps.h"
#include "records/record.h"
#include "store/store.h"

struct shipper;

struct storelink {
	struct recorder *rec;
	struct gaps *gaps;
	void (*snapshot)(void *ctx); /* NULL: segments open without one */
	void *snapshot_ctx;
	struct shipper *shipper;     /* NULL: not shipping */
};

/* Binds st's events to l, which must outlive st's use. */
void storelink__bind(struct storelink *l, struct store *st);

#endif
