/*
 * The segment store's sink: segment files of length-delimited Batch messages,
 * gzip-compressed, hash-chained and signed; and its controls, for the policy that drives
 * it (store.c): which segment is open, when to move to the next one, making the chain
 * durable on demand, and the records it lost. The sink given to the controls must come
 * from sink_segment__new. Errors: 0 or -errno.
 */
#ifndef FL_SINK_SEGMENT_H
#define FL_SINK_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "records/sink.h"
#include "store/store_dir.h"

struct node_key;
struct chain_pos;

/* A batch stored (segment_opts.sealed): valid during the call only. */
struct sealed_batch {
	const char *segment;       /* the file's name */
	uint64_t number;           /* the segment's number */
	uint64_t index;            /* the batch's place in the segment, from 0 */
	const uint8_t *data;       /* the batch as stored, without its length prefix */
	size_t len;
	const uint8_t *hash;       /* its hash (CHAIN_HASH_LEN bytes) */
	uint64_t first_seq, last_seq; /* its records; both 0 when it holds none */
	uint64_t unix_ns;          /* when it was written */
	/* Its length prefix and bytes as compressed in the file: raw deflate that stands
	 * alone (it ends at a full flush); NULL when not at hand. */
	const uint8_t *deflated;
	size_t deflated_len;
};

struct segment_opts {
	const char *dir;      /* data directory, created 0700 if absent */
	const char *run_id;   /* names the segment files, stated in their headers */
	const char *node;     /* stated in the headers */
	const char *boot_id;
	uint64_t flush_bytes; /* a batch is closed at this size... */
	uint64_t fsync_interval_ns; /* 0: fdatasync after every batch; else at most this often */
	int readback;         /* read every synced batch back from the disk (store/readback.h) */
	struct node_key *key; /* signs every batch; not owned, outlives the sink */
	const struct chain_pos *resume; /* where the chain continues from; NULL: it starts */
	/* Called for every batch once it is stored (synced and read back as written: at
	 * once by default, at the next sync with an fsync interval), in order, on the
	 * writing thread; never for a batch a failed sync cut. NULL: nobody. */
	void (*sealed)(void *ctx, const struct sealed_batch *b);
	void *sealed_ctx;
};
/* A sink writing under opts->dir. *err is 0, or -errno; -ENOSPC/-EDQUOT leave a working
 * sink that counts what it loses (as later). */
struct sink *sink_segment__new(const struct segment_opts *opts, int *err);

struct segment_status {
	int open;                     /* 0: no segment can be written, records count as lost */
	int err;                      /* when not open: why (-errno) */
	char name[SEGMENT_NAME_MAX];  /* the open segment */
	uint64_t bytes;               /* its compressed size so far */
	uint64_t batches;             /* batches written to it */
	uint64_t opened_mono_ns;
	uint64_t first_number;        /* this sink's first segment (earlier: earlier runs') */
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
