/* Hashing, signing and splitting chained batches; see chain.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/hexbytes.h"
#include "store/chain.h"

#define TAG_HASH 0x1a      /* Batch.hash: field 3, wire type 2 */
#define TAG_SIGNATURE 0x2a /* Batch.signature: field 5, wire type 2 */

/*
 * What the key signs: a fixed context string, then the hash. The context keeps a
 * signature made for a batch from being valid for anything else the key might sign.
 */
static const char sign_context[] = "firstlight.v1.batch"; /* with its NUL: 20 bytes */
#define SIGNED_LEN (sizeof(sign_context) + CHAIN_HASH_LEN)

static void signed_message(uint8_t out[SIGNED_LEN], const uint8_t hash[CHAIN_HASH_LEN])
{
	memcpy(out, sign_context, sizeof(sign_context));
	memcpy(out + sizeof(sign_context), hash, CHAIN_HASH_LEN);
}

/*
 * SHA-256 fetched from the provider once for the process. EVP_sha256() is a legacy
 * handle that OpenSSL 3 resolves again on every digest (a locked lookup by name,
 * EVP_MD_fetch was a third of a batch's hashing in the agent's profile). What is
 * fetched is immutable and lives as long as the process: a cache, not state.
 */
static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int chain__hash(const uint8_t *core, size_t len, uint8_t out[CHAIN_HASH_LEN])
{
	unsigned int n = 0;

	pthread_once(&sha256_once, fetch_sha256);
	if (EVP_Digest(core, len, out, &n, sha256 ? sha256 : EVP_sha256(), NULL) != 1 ||
	    n != CHAIN_HASH_LEN)
		return -EIO;
	return 0;
}

int chain__seal(struct node_key *key, const uint8_t *core, size_t len,
		uint8_t trailer[CHAIN_TRAILER_LEN], uint8_t hash[CHAIN_HASH_LEN])
{
	uint8_t msg[SIGNED_LEN];
	int err = chain__hash(core, len, hash);

	if (err)
		return err;
	signed_message(msg, hash);
	trailer[0] = TAG_HASH;
	trailer[1] = CHAIN_HASH_LEN;
	memcpy(trailer + 2, hash, CHAIN_HASH_LEN);
	trailer[2 + CHAIN_HASH_LEN] = TAG_SIGNATURE;
	trailer[3 + CHAIN_HASH_LEN] = KEYS_SIG_LEN;
	return keys__sign(key, msg, sizeof(msg), trailer + 4 + CHAIN_HASH_LEN);
}

int chain__split(const uint8_t *body, size_t len, size_t *core_len, const uint8_t **hash,
		 const uint8_t **sig)
{
	const uint8_t *t;

	if (len < CHAIN_TRAILER_LEN)
		return -ENOMSG;
	t = body + len - CHAIN_TRAILER_LEN;
	if (t[0] != TAG_HASH || t[1] != CHAIN_HASH_LEN || t[2 + CHAIN_HASH_LEN] != TAG_SIGNATURE ||
	    t[3 + CHAIN_HASH_LEN] != KEYS_SIG_LEN)
		return -ENOMSG;
	*core_len = len - CHAIN_TRAILER_LEN;
	*hash = t + 2;
	*sig = t + 4 + CHAIN_HASH_LEN;
	return 0;
}

int chain__check_signature(const uint8_t pub[KEYS_PUB_LEN], const uint8_t hash[CHAIN_HASH_LEN],
			   const uint8_t sig[KEYS_SIG_LEN])
{
	uint8_t msg[SIGNED_LEN];

	signed_message(msg, hash);
	return keys__verify(pub, msg, sizeof(msg), sig);
}

char *chain__hex(const uint8_t *hash, size_t len, char out[CHAIN_HEX_LEN])
{
	out[0] = 0;
	return hash && len == CHAIN_HASH_LEN ? hexbytes__put(out, hash, CHAIN_HASH_LEN) : out;
}
