/*
 * Checking a segment store: every batch decodes, matches its hash, continues the batch
 * before it (across segments and agent runs), and carries a valid signature by a
 * trusted key; sequence numbers run without holes in every run except where a SINK_LOSS
 * gap accounts for them; a chain that starts after removed segments is explained by
 * SegmentRemoved records; the ends of segments and runs (rotation, stop, kill -9, a
 * write failure) are what the following segment's header says they were. Stops at the
 * first failure and says where: file, batch, byte offset in the decompressed stream,
 * sequence numbers, and why. Input files are untrusted: bad bytes give a failure,
 * never a crash.
 */
#ifndef FL_VERIFY_H
#define FL_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "store/keys.h"

#define VERIFY_MSG_MAX 1024
#define VERIFY_NOTES_MAX 32

struct verify_result {
	int failed;
	char failure[VERIFY_MSG_MAX];            /* the first failure, when failed */
	uint64_t files, batches, records, runs, removed_segments, lost_records;
	char key_hex[KEYS_HEX_LEN];              /* the key that signed the chain */
	int key_trusted;                         /* given by the caller, not taken from a header */
	char notes[VERIFY_NOTES_MAX][VERIFY_MSG_MAX]; /* what holds but deserves saying */
	size_t n_notes, notes_dropped;
};

struct verifier;

/*
 * keys: the public keys to trust (n may be 0: then the key in the first segment header
 * is taken, and any other key is a failure). NULL with errno set.
 */
struct verifier *verifier__new(const uint8_t (*keys)[KEYS_PUB_LEN], size_t n);
void verifier__free(struct verifier *v); /* NULL-safe */

/* Checks the next file of the store, in chain order. 0, or 1 once something failed. */
int verifier__file(struct verifier *v, const char *path);
/* The checks that need the whole store. 0, or 1 when something failed. */
int verifier__finish(struct verifier *v);
const struct verify_result *verifier__result(const struct verifier *v);

#endif
