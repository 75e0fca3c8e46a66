/*
 * The node key: an Ed25519 key pair (OpenSSL libcrypto) that signs every batch of the
 * segment store, so that someone who can rewrite segment files but cannot read this key
 * cannot forge a chain that verifies. The private key lives in a PEM (PKCS#8) file, mode
 * 0600, generated on first use; the public key is what auditors get (`firstlight key
 * export`, PEM SubjectPublicKeyInfo) and what `firstlight verify --pubkey` reads.
 * Errors: int functions return 0 or -errno; constructors return NULL and set *err.
 * Functions that read files log one line naming the file and the cause.
 */
#ifndef FL_KEYS_H
#define FL_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_PUB_LEN 32
#define KEYS_SIG_LEN 64
#define KEYS_HEX_LEN (2 * KEYS_PUB_LEN + 1)

struct node_key;

/*
 * Loads the private key at path, or, when there is none, generates one and writes it
 * there (0600, never over an existing file, never through a symlink; missing parent
 * directories are created 0700). *created tells which happened.
 */
struct node_key *keys__load_or_create(const char *path, int *created, int *err);
/* A fresh key that lives in memory only (tests, and the forger in the tamper helper). */
struct node_key *keys__generate(int *err);
void keys__free(struct node_key *k); /* NULL-safe */

/* The raw 32-byte public key; valid as long as k. */
const uint8_t *keys__public(const struct node_key *k);
int keys__sign(struct node_key *k, const void *msg, size_t len, uint8_t sig[KEYS_SIG_LEN]);
/* 0 when sig is pub's signature of msg, -EBADMSG when it is not, other -errno on error. */
int keys__verify(const uint8_t pub[KEYS_PUB_LEN], const void *msg, size_t len,
		 const uint8_t sig[KEYS_SIG_LEN]);

/* The public key as PEM text in *pem (caller frees). */
int keys__public_pem(const uint8_t pub[KEYS_PUB_LEN], char **pem);
/* Reads a public key from a PEM file: a public key, or a private key (its public half). */
int keys__read_public(const char *path, uint8_t pub[KEYS_PUB_LEN]);
/* Lower-case hex of the raw public key, for messages. */
void keys__hex(const uint8_t pub[KEYS_PUB_LEN], char out[KEYS_HEX_LEN]);

#endif
