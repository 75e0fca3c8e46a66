/*
 * libFuzzer target for user/readers/verify.c: the input becomes one or more segment files that
 * are verified as a store, to their end or first failure; a failure must say why, and
 * nothing may crash or leak.
 *
 * A fuzzer cannot make a SHA-256 or a signature match, so inputs starting "FV" + a mode
 * byte are re-sealed here first, as a forger holding the trusted key would: the rest is a
 * decompressed segment stream (varint length, batch) whose batches get, in place, the
 * previous batch's hash as prev_hash (when they have a 32-byte one), the harness key as
 * the header's public key (when 32 bytes), and a fresh hash and signature (replacing a
 * trailer they have, appended otherwise). A zero-length batch starts the next file (at
 * most 4). Mode bit 0: gzip each file. So mutations reach the header, link, sequence,
 * loss and retention checks. Other inputs are one file, verified as they are.
 *
 * Seeds in tests/fuzz/corpus-verify/ come from tests/fuzz/make_seeds.c (make fuzz-seeds).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <openssl/evp.h>

#include "store/chain.h"
#include "base/log.h"
#include "readers/verify.h"

#define MAX_FILES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fds[MAX_FILES] = { -1, -1, -1, -1 };
static char paths[MAX_FILES][64];
static EVP_PKEY *key;
static uint8_t pub[KEYS_PUB_LEN];

static void init(void)
{
	static const uint8_t seed[32] = "firstlight fuzz harness key 0001";
	size_t len = sizeof(pub);

	for (int i = 0; i < MAX_FILES; i++) {
		fds[i] = memfd_create("fuzz-verify", MFD_CLOEXEC);
		if (fds[i] < 0)
			abort();
		snprintf(paths[i], sizeof(paths[i]), "/proc/self/fd/%d", fds[i]);
	}
	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	if (!key || EVP_PKEY_get_raw_public_key(key, pub, &len) != 1)
		abort();
	log__set_level(LOG_ERROR);
}

static void put(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w <= 0)
			abort();
		b += w;
		n -= (size_t)w;
	}
}

static int get_varint(const uint8_t *p, size_t len, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < len && i < 10; i++) {
		*v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80))
			return (int)i + 1;
	}
	return -1;
}

/* Payload offset of length-delimited field `field` at the top of msg, or -1. */
static long find_field(const uint8_t *msg, size_t len, unsigned field, size_t *plen)
{
	size_t pos = 0;

	while (pos < len) {
		uint64_t tag, v;
		int k = get_varint(msg + pos, len - pos, &tag);

		if (k < 0)
			return -1;
		pos += (size_t)k;
		if ((tag & 7) == 0) {
			k = get_varint(msg + pos, len - pos, &v);
			if (k < 0)
				return -1;
			pos += (size_t)k;
		} else if ((tag & 7) == 1 || (tag & 7) == 5) {
			pos += (tag & 7) == 1 ? 8 : 4;
		} else if ((tag & 7) == 2) {
			k = get_varint(msg + pos, len - pos, &v);
			if (k < 0 || v > len - pos - (size_t)k)
				return -1;
			pos += (size_t)k;
			if ((tag >> 3) == field) {
				*plen = (size_t)v;
				return (long)pos;
			}
			pos += (size_t)v;
		} else {
			return -1;
		}
	}
	return -1;
}

/* Writes b (patched in place) with a fresh trailer, as the chain's writer would. */
static void seal(uint8_t *b, size_t len, uint8_t prev[CHAIN_HASH_LEN], int *have_prev,
		 uint8_t *out, size_t *out_len)
{
	uint8_t msg[20 + CHAIN_HASH_LEN], hash[CHAIN_HASH_LEN];
	const uint8_t *h, *s;
	size_t core = len, plen, siglen = KEYS_SIG_LEN;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	long at;

	if (chain__split(b, len, &core, &h, &s))
		core = len; /* no trailer yet: all of it is core */
	at = find_field(b, core, 2, &plen);
	if (at >= 0 && plen == CHAIN_HASH_LEN && *have_prev)
		memcpy(b + at, prev, CHAIN_HASH_LEN);
	at = find_field(b, core, 4, &plen);
	if (at >= 0) {
		size_t klen;
		long k = find_field(b + at, plen, 7, &klen);

		if (k >= 0 && klen == KEYS_PUB_LEN)
			memcpy(b + at + k, pub, KEYS_PUB_LEN);
	}
	memcpy(out, b, core);
	if (chain__hash(b, core, hash))
		abort();
	out[core] = 0x1a;
	out[core + 1] = CHAIN_HASH_LEN;
	memcpy(out + core + 2, hash, CHAIN_HASH_LEN);
	out[core + 2 + CHAIN_HASH_LEN] = 0x2a;
	out[core + 3 + CHAIN_HASH_LEN] = KEYS_SIG_LEN;
	memcpy(msg, "firstlight.v1.batch", 20);
	memcpy(msg + 20, hash, CHAIN_HASH_LEN);
	if (!md || EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(md, out + core + 4 + CHAIN_HASH_LEN, &siglen, msg, sizeof(msg)) != 1)
		abort();
	EVP_MD_CTX_free(md);
	memcpy(prev, hash, CHAIN_HASH_LEN);
	*have_prev = 1;
	*out_len = core + CHAIN_TRAILER_LEN;
}

/* Compresses in[0..n) into fd as one gzip member with a sync flush, or copies it. */
static void emit_file(int fd, const uint8_t *in, size_t n, int gz)
{
	uint8_t out[16384];
	z_stream z;

	if (!gz) {
		put(fd, in, n);
		return;
	}
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		deflate(&z, Z_FINISH);
		put(fd, out, sizeof(out) - z.avail_out);
	} while (z.avail_out == 0);
	deflateEnd(&z);
}

/* The "FV" form: re-sealed batches into files. Returns the number of files. */
static int build_files(const uint8_t *data, size_t size, int gz)
{
	/* Every batch may grow by a trailer and a longer length prefix. */
	uint8_t *copy = malloc(size + 1), *file = malloc(size * (1 + 10 + CHAIN_TRAILER_LEN) + 256);
	uint8_t prev[CHAIN_HASH_LEN];
	size_t pos = 0, flen = 0;
	int nfiles = 1, have_prev = 0;

	if (!copy || !file)
		abort();
	memcpy(copy, data, size);
	while (pos < size) {
		uint64_t blen;
		int k = get_varint(copy + pos, size - pos, &blen);
		size_t out_len, n;

		if (k < 0 || blen > size - pos - (size_t)k) {
			/* Not a batch: the rest goes in as it is (a damaged tail). */
			memcpy(file + flen, copy + pos, size - pos);
			flen += size - pos;
			break;
		}
		pos += (size_t)k;
		if (blen == 0) {
			if (nfiles == MAX_FILES)
				break;
			emit_file(fds[nfiles - 1], file, flen, gz);
			flen = 0;
			nfiles++;
			continue;
		}
		seal(copy + pos, (size_t)blen, prev, &have_prev, file + flen + 10, &out_len);
		/* The length prefix goes before the body written just after its room. */
		{
			uint8_t pre[10];
			uint64_t v = out_len;

			n = 0;
			while (v >= 0x80) {
				pre[n++] = (uint8_t)(v | 0x80);
				v >>= 7;
			}
			pre[n++] = (uint8_t)v;
			memmove(file + flen + n, file + flen + 10, out_len);
			memcpy(file + flen, pre, n);
		}
		flen += n + out_len;
		pos += (size_t)blen;
	}
	emit_file(fds[nfiles - 1], file, flen, gz);
	free(copy);
	free(file);
	return nfiles;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verifier *v;
	int nfiles = 1, sealed = size >= 3 && data[0] == 'F' && data[1] == 'V';

	if (fds[0] < 0)
		init();
	for (int i = 0; i < MAX_FILES; i++)
		if (ftruncate(fds[i], 0) || lseek(fds[i], 0, SEEK_SET) != 0)
			abort();
	if (sealed)
		nfiles = build_files(data + 3, size - 3, data[2] & 1);
	else
		put(fds[0], data, size);

	v = sealed ? verifier__new(&pub, 1) : verifier__new(NULL, 0);
	if (!v)
		abort();
	for (int i = 0; i < nfiles && !verifier__file(v, paths[i]); i++)
		;
	if (verifier__finish(v) && !verifier__result(v)->failure[0])
		abort(); /* a failure always says why */
	if (!verifier__result(v)->failed && !verifier__result(v)->batches)
		abort(); /* "OK" means something was checked */
	verifier__free(v);
	return 0;
}
