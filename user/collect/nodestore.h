/*
 * One node's folder in the collector's store: DIR/<token>/ (the node's subject token,
 * transport/subjects.h, safe as a file name by construction) holding the node's segment
 * files under the names it gave them, each batch appended as it arrives, byte for byte,
 * as one gzip member (readers take several members back to back), so that `verify`,
 * `read`, `tree` and `gaps` read the folder as they read the node's own data dir.
 *
 * A batch counts as stored once fdatasync returned: the collector acknowledges it to
 * JetStream only then (and not when it failed: see nodestore__sync). After a crash the
 * newest file may end in a member cut mid-write: nodestore__open cuts it off (that batch
 * was not acknowledged, it comes again). The
 * hashes of the last batches are kept to tell a redelivery from a new batch.
 * Errors: 0 or -errno; constructors NULL with *err set.
 */
#ifndef FL_NODESTORE_H
#define FL_NODESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/chain.h"

struct nodestore;

/* Opens (creating it 0700) store_dirfd/token. */
struct nodestore *nodestore__open(int store_dirfd, const char *token, int *err);
void nodestore__free(struct nodestore *n); /* NULL-safe */

/* 1 when a batch with this hash is among the last ones stored. */
int nodestore__has(const struct nodestore *n, const uint8_t hash[CHAIN_HASH_LEN]);
/*
 * 1 when the segment file named segment (a segment name, checked by the caller) holds a
 * batch with this hash, 0 when it does not or does not exist, -errno when it cannot be
 * read. For a batch older than the last ones: a node that ships its whole store again
 * (its stream was lost) sends batches held long ago, each under its file's name.
 */
int nodestore__holds(struct nodestore *n, const char *segment, const uint8_t hash[CHAIN_HASH_LEN]);
/* The hash of the last batch stored, or NULL when there is none. */
const uint8_t *nodestore__last_hash(const struct nodestore *n);
/* Appends batch (len bytes, hash its hash) to the segment file named segment (a segment
 * name, checked by the caller). Durable after nodestore__sync. */
int nodestore__append(struct nodestore *n, const char *segment, const uint8_t *batch, size_t len,
		      const uint8_t hash[CHAIN_HASH_LEN]);
/*
 * Makes every batch appended so far durable (one fdatasync per file written), and reads
 * what it synced back from the disk (store/readback.h). When either fails, the batches
 * appended since the last good sync are forgotten and cut from the file (a later sync
 * would not tell whether they reached the disk): they must be written
 * again, and nodestore__undone counts one more. Appending to another file syncs the one
 * before: a failure there forgets them the same way.
 */
int nodestore__sync(struct nodestore *n);
/* How many times batches were forgotten after a failed sync. */
uint64_t nodestore__undone(const struct nodestore *n);

#endif
