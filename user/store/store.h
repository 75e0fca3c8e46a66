/*
 * The segment store as the agent runs it: the locked data dir, the node key, the chain
 * picked up where the previous run left it, and the policy around the segment sink:
 * rotation by size and age (each new segment opening with a snapshot of live
 * processes), a retry after a write failure, an exact account of what was lost, and
 * retention; what becomes a record is reported upward (struct store_events). The mechanism (files, batches, chain, durability) is sink_segment.c.
 * Errors: 0 or -errno; store__open logs its own one-line errors.
 */
#ifndef FL_STORE_H
#define FL_STORE_H

#include <stdint.h>

#include "records/sink.h"
#include "store/chain_state.h"

#define STORE_DEFAULT_KEY "/etc/firstlight/node.key"

struct store_opts {
	const char *key_path;       /* node key, generated there on first use */
	uint64_t segment_bytes;     /* rotate once the open segment is this big (compressed) */
	uint64_t segment_age_ns;    /* rotate once it is this old */
	uint64_t retain_bytes;      /* keep the store's segments under this total; 0: no limit */
	uint64_t retain_age_ns;     /* remove segments not written for this long; 0: never */
	uint64_t fsync_interval_ns; /* 0: fdatasync after every batch */
	int readback;               /* STORE_READBACK_* */
};

/* Whether every synced batch is read back from the disk (store/readback.h): where the
 * data dir's device is one known to report writes it did not make, always, or never. */
enum { STORE_READBACK_AUTO, STORE_READBACK_ON, STORE_READBACK_OFF };

void store_opts__defaults(struct store_opts *o);

struct store;
struct sink_loss;
struct sealed_batch;

/* Who the store writes for: stated in every segment header. */
struct store_ident {
	const char *run_id;
	const char *node;
	const char *boot_id;
};

/*
 * What the store reports to its owner, which writes the records: the store sits below
 * the recorder and never calls it. Each callback writes through the recorder into the
 * store's own sink, like any record. Before they are set, losses wait (they are
 * reported once they are), and a new segment opens without a snapshot.
 */
struct store_events {
	void *ctx;
	/* A run of records the store lost: a SINK_LOSS gap with that exact range. */
	void (*lost)(void *ctx, const struct sink_loss *loss);
	/* A new segment (after the first of a run) was opened: its snapshot. */
	void (*opened)(void *ctx);
	/* A segment is about to be removed by retention (by_bytes: the store's size asks for
	 * it, else its age): the SegmentRemoved record. 0 (the store then makes the record
	 * durable before the file goes), -EBUSY to keep it for now, or -errno. */
	int (*removing)(void *ctx, const Firstlight__V1__SegmentRemoved *r, int by_bytes);
	/* A batch was written to a segment (shipping takes it from here). */
	void (*sealed)(void *ctx, const struct sealed_batch *b);
};

/* Opens the store in dir. NULL with *err set (already logged). */
struct store *store__open(const char *dir, const struct store_opts *o, const struct store_ident *id,
			  int *err);
/*
 * The segment sink, for the agent to write to (alone or in a tee). The caller owns it
 * and frees it before store__free.
 */
struct sink *store__sink(struct store *st);
/* Where the chain went on from when the store was opened: the previous run's end as
 * the segments (and chain.state) showed it. Valid until store__free. */
const struct chain_pos *store__resumed(const struct store *st);
/* The number of this run's first segment: the earlier ones are earlier runs'. */
uint64_t store__first_segment(struct store *st);
void store__set_events(struct store *st, const struct store_events *ev);
/* The policy's turn, after every flush: rotation, retry, loss records, retention. */
void store__tick(struct store *st);
/* Before a run's last records: if writes are failing, one more try now, so that the
 * stop record and the losses it totals get written when the disk allows. */
void store__stopping(struct store *st);
/* Everything written so far stored now, whatever the fsync interval (and so handed on
 * to the sealed hook): a run's end, before shipping stops. */
int store__sync(struct store *st);
void store__free(struct store *st); /* NULL-safe */

#endif
