/*
 * Shipping: every batch the segment store writes goes to NATS JetStream as the exact
 * bytes stored (hash and signature included), on the node's own subject, in order, each
 * once. The segment files stay the source of truth and the spool: the shipper runs on its
 * own thread, takes batches from memory as they are written (shipper__sealed, a copy),
 * and reads them back from the files when memory did not keep them (an outage, a restart,
 * more than the queue holds). The recording path never waits on the network.
 *
 * Exactly once: each publish carries the batch's hash as its message id (a re-publish of
 * a batch the server holds is acknowledged as a duplicate, not stored again) and the
 * stream sequence of the node's previous message (the server refuses a publish after any
 * other: no hole, no reordering). A batch counts as shipped when JetStream acks it; where
 * the server stands is read back from the server at every (re)connection, and kept in
 * ship.state in the data dir between runs.
 */
#ifndef FL_SHIPPER_H
#define FL_SHIPPER_H

#include <stddef.h>
#include <stdint.h>

#include "store/sink_segment.h"

#define SHIP_STATE_FILE "ship.state"

struct shipper_opts {
	const char *urls;    /* nats://host:port[,nats://...] */
	const char *creds;   /* NULL: none */
	const char *tls_ca;  /* NULL: plain TCP */
	const char *prefix;  /* subject prefix (subjects.h) */
	const char *node;    /* the node's name, as in its records */
	const char *data_dir;
	int replicas;        /* the stream's, when the shipper creates it */
	size_t queue_bytes;  /* batches held in memory; beyond, the files are read again */
	int linger_ms;       /* under a steady flow, at most one message per linger (0: each
				batch at once); the batches written meanwhile go with it */
	uint64_t live_from;  /* this run's first segment number: from it on, a batch is read
				from the files only once handed over (a batch in a file may
				not be stored yet); 0: every batch the files hold */
};

/* Upper bounds (seconds) of the shipping-lag histogram's buckets; the last is +Inf. */
#define SHIP_LAG_BUCKETS 13
extern const double ship_lag_bounds[SHIP_LAG_BUCKETS - 1];

struct ship_stats {
	uint64_t acked;          /* batches JetStream acknowledged, this run */
	uint64_t messages;       /* messages they went in (a message carries one or more) */
	uint64_t message_bytes;  /* those messages' bodies: the batches as sent */
	uint64_t duplicates;     /* of which the server already held */
	uint64_t publish_errors; /* publishes refused or failed */
	uint64_t backlog;        /* batches written but not acknowledged */
	uint64_t backlog_bytes;
	uint64_t oldest_unix_ns; /* when the oldest of them was written; 0: none */
	int connected;
	/* Lag of each batch acked: from when it was written to when JetStream acked it. */
	uint64_t lag_buckets[SHIP_LAG_BUCKETS]; /* cumulative, Prometheus style */
	double lag_sum_s;
	uint64_t lag_count;
};

struct shipper;

/* Starts the thread (it connects by itself, and again after every outage). NULL with
 * *err set and the reason logged (an option that cannot work: a bad prefix, an unreadable
 * credentials file). */
struct shipper *shipper__start(const struct shipper_opts *o, int *err);
/* A batch was stored (any thread; it is copied), in order. */
void shipper__sealed(struct shipper *sh, const struct sealed_batch *b);
/*
 * Retention asks before removing segment number: 0 when every batch of it is acked, 1
 * when some are not: then *first_seq is the first record not acked (0: the segment's
 * first), and *run the run it belongs to is unknown to the caller as well (the segment's).
 */
int shipper__unshipped(struct shipper *sh, uint64_t number, uint64_t *first_seq);
/* Segment number was removed before it was all shipped (a SHIP_LOSS gap says what was
 * lost): shipping goes on after it. */
void shipper__removed(struct shipper *sh, uint64_t number);
void shipper__stats(struct shipper *sh, struct ship_stats *out);
/* Ships what it can for at most grace_ms, then stops the thread and frees. NULL-safe. */
void shipper__stop(struct shipper *sh, int64_t grace_ms);

#endif
