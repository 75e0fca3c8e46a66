/*
 * The hash chain of segment batches (format_version 1, described at Batch in
 * proto/firstlight.proto): a batch's body is its core (every other field) followed by
 * two fields written last, the SHA-256 of the core and the node key's Ed25519 signature
 * of that hash. The hash is over the bytes as stored, never over a re-encoding, so a
 * reader checks exactly what was written. Errors: 0 or -errno.
 */
#ifndef FL_CHAIN_H
#define FL_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "store/keys.h"

#define CHAIN_HASH_LEN 32
#define CHAIN_FORMAT_VERSION 1
/* 0x1a 0x20 hash[32] 0x2a 0x40 signature[64]: fields 3 and 5, length-delimited */
#define CHAIN_TRAILER_LEN (2 + CHAIN_HASH_LEN + 2 + KEYS_SIG_LEN)
#define CHAIN_HEX_LEN (2 * CHAIN_HASH_LEN + 1)

/* SHA-256 of core. */
int chain__hash(const uint8_t *core, size_t len, uint8_t out[CHAIN_HASH_LEN]);

/*
 * Hashes core[0..len) and signs the hash with key, writing the trailer that completes
 * the batch (append it to core) and the hash (the next batch's prev_hash).
 */
int chain__seal(struct node_key *key, const uint8_t *core, size_t len,
		uint8_t trailer[CHAIN_TRAILER_LEN], uint8_t hash[CHAIN_HASH_LEN]);

/*
 * Splits a stored batch body into its core and the hash and signature that end it.
 * -ENOMSG when the body does not end with them (a batch written without the chain).
 * Pointers point into body.
 */
int chain__split(const uint8_t *body, size_t len, size_t *core_len, const uint8_t **hash,
		 const uint8_t **sig);

/* 0 when sig is pub's signature of hash as chain__seal makes it, -EBADMSG otherwise. */
int chain__check_signature(const uint8_t pub[KEYS_PUB_LEN], const uint8_t hash[CHAIN_HASH_LEN],
			   const uint8_t sig[KEYS_SIG_LEN]);

/* Lower-case hex of a hash; "" for NULL or a length other than CHAIN_HASH_LEN. */
char *chain__hex(const uint8_t *hash, size_t len, char out[CHAIN_HEX_LEN]);

#endif
