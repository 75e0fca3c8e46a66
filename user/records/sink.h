/*
 * Where records go. A sink receives every record twice-described: the Event struct (for
 * sinks that render it, such as JSON on stdout) and its packed protobuf bytes (for sinks
 * that store it). Both are valid only during the call.
 * Errors: 0 or -errno; a sink that cannot take a record counts it in `lost`.
 */
#ifndef FL_SINK_H
#define FL_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.pb-c.h"

typedef Firstlight__V1__Event Event;

struct sink {
	const char *name;
	int (*write)(struct sink *s, const Event *ev, const uint8_t *packed, size_t len);
	/* Makes everything written so far durable/visible. */
	int (*flush)(struct sink *s);
	/* Flushes and releases; NULL-safe through sink__free. */
	void (*free)(struct sink *s);
	uint64_t written; /* records accepted */
	uint64_t lost;    /* records the sink had to discard */
};

static inline void sink__free(struct sink *s)
{
	if (s)
		s->free(s);
}

/* The live view on a stream: JSON lines (proto3 canonical mapping), or with text set one
 * line per record for people (recordtext.h). */
struct sink *sink_stdout__new(int fd, int text);

struct node_key;
struct chain_pos;

struct segment_opts {
	const char *dir;      /* data directory, created 0700 if absent */
	const char *run_id;   /* names the segment files, stated in their headers */
	const char *node;     /* stated in the headers */
	const char *boot_id;
	uint64_t flush_bytes; /* a batch is closed at this size... */
	uint64_t fsync_interval_ns; /* 0: fdatasync after every batch; else at most this often */
	struct node_key *key; /* signs every batch; not owned, outlives the sink */
	const struct chain_pos *resume; /* where the chain continues from; NULL: it starts */
};
/*
 * Segment files of length-delimited Batch messages, gzip-compressed, hash-chained and
 * signed, under opts->dir: see sink_segment.h for the store's controls. *err is 0, or
 * -errno; -ENOSPC/-EDQUOT leave a working sink that counts what it loses (as later).
 */
struct sink *sink_segment__new(const struct segment_opts *opts, int *err);

/* Both: a is the record of truth (its counts are the tee's), b a copy. Takes both. */
struct sink *sink_tee__new(struct sink *a, struct sink *b);

#endif
