/*
 * The segment store as the agent runs it: the locked data dir, the node key, the chain
 * picked up where the previous run left it, and the policy around the segment sink:
 * rotation by size and age (each new segment opening with a snapshot of live
 * processes), a retry after a write failure, SINK_LOSS gap records for what was lost,
 * and retention. The mechanism (files, batches, chain, durability) is sink_segment.c.
 * Errors: 0 or -errno; store__open logs its own one-line errors.
 */
#ifndef FL_STORE_H
#define FL_STORE_H

#include <stdint.h>

#include "records/record.h"
#include "records/sink.h"

#define STORE_DEFAULT_KEY "/etc/firstlight/node.key"

struct store_opts {
	const char *key_path;       /* node key, generated there on first use */
	uint64_t segment_bytes;     /* rotate once the open segment is this big (compressed) */
	uint64_t segment_age_ns;    /* rotate once it is this old */
	uint64_t retain_bytes;      /* keep the store's segments under this total; 0: no limit */
	uint64_t retain_age_ns;     /* remove segments not written for this long; 0: never */
	uint64_t fsync_interval_ns; /* 0: fdatasync after every batch */
};

void store_opts__defaults(struct store_opts *o);

struct store;

/* Opens the store in dir for rec's run. NULL with *err set (already logged). */
struct store *store__open(const char *dir, const struct store_opts *o, struct recorder *rec,
			  int *err);
/*
 * The segment sink, for the agent to write to (alone or in a tee). The caller owns it
 * and frees it before store__free.
 */
struct sink *store__sink(struct store *st);
struct gaps;

/* What a new segment (after the first) starts with after its header: the agent's
 * snapshot of live workloads and processes (snapshot.h). */
void store__set_snapshot(struct store *st, void (*snapshot)(void *ctx), void *ctx);
/* Where SINK_LOSS gap records go, to be counted with the others; not owned (NULL: the
 * store's own, which writes them all the same). */
void store__set_gaps(struct store *st, struct gaps *gaps);
/* The policy's turn, after every flush: rotation, retry, loss records, retention. */
void store__tick(struct store *st);
/* Before a run's last records: if writes are failing, one more try now, so that the
 * stop record and the losses it totals get written when the disk allows. */
void store__stopping(struct store *st);
void store__free(struct store *st); /* NULL-safe */

#endif
