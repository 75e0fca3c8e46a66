/*
 * fl-tamper: damages a segment file the way an attacker with write access would, for the
 * verify tests. Decompresses the segment, edits its batches, writes a new gzip file.
 *
 *   fl-tamper list SEG                   one line per batch: index, byte offset, length
 *   fl-tamper flip SEG OUT STRING        flips one bit of the first byte of STRING
 *   fl-tamper delete SEG OUT N           removes batch N
 *   fl-tamper swap SEG OUT N M           exchanges batches N and M
 *   fl-tamper forge SEG OUT [OLD NEW]    replaces OLD by NEW (same length), then re-hashes
 *                                        the chain (from the segment's own first link)
 *                                        and re-signs every batch with a fresh key of its
 *                                        own, named in the header: a consistent forgery
 *                                        made without the node key
 *
 * Edits print "batch N at byte X": where verify should report the damage (offsets in
 * the decompressed stream). Knows the chain format (proto/firstlight.proto, at Batch)
 * and just enough of the protobuf wire format to find fields; links zlib and libcrypto.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <openssl/evp.h>

#define HASH_LEN 32
#define SIG_LEN 64
#define TRAILER_LEN (2 + HASH_LEN + 2 + SIG_LEN)

struct batch {
	uint8_t *body; /* points into the decompressed buffer, or owned after an edit */
	size_t len;
	size_t offset; /* of its length prefix in the original stream */
};

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "fl-tamper: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n;

	if (!f)
		die("%s: cannot open", path);
	*len = 0;
	do {
		if (*len == cap) {
			cap = cap ? cap * 2 : 1 << 16;
			buf = realloc(buf, cap);
			if (!buf)
				die("%s: out of memory", path);
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n);
	fclose(f);
	return buf;
}

/* Decompresses a gzip stream (a trailer-less one too: a killed writer's). */
static uint8_t *gunzip(const uint8_t *in, size_t in_len, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap = in_len * 8 + 4096;
	uint8_t *out = malloc(cap);
	int rc;

	if (!out || inflateInit2(&z, 15 + 32) != Z_OK)
		die("%s", "inflate: out of memory");
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)in_len;
	*out_len = 0;
	do {
		if (*out_len == cap) {
			cap *= 2;
			out = realloc(out, cap);
			if (!out)
				die("%s", "inflate: out of memory");
		}
		z.next_out = out + *out_len;
		z.avail_out = (uInt)(cap - *out_len);
		rc = inflate(&z, Z_NO_FLUSH);
		*out_len = cap - z.avail_out;
	} while (rc == Z_OK && (z.avail_in || z.avail_out == 0));
	if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
		die("inflate: %s", z.msg ? z.msg : "error");
	inflateEnd(&z);
	return out;
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

static size_t put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

static size_t split(uint8_t *data, size_t len, struct batch **out)
{
	size_t n = 0, cap = 0, pos = 0;

	*out = NULL;
	while (pos < len) {
		uint64_t blen;
		int k = get_varint(data + pos, len - pos, &blen);

		if (k < 0 || blen > len - pos - (size_t)k)
			die("%s", "the segment's framing is damaged already");
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = realloc(*out, cap * sizeof(**out));
			if (!*out)
				die("%s", "out of memory");
		}
		(*out)[n++] = (struct batch){ data + pos + k, (size_t)blen, pos };
		pos += (size_t)k + (size_t)blen;
	}
	return n;
}

static void write_gzip(const char *path, struct batch *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	z_stream z = { 0 };
	uint8_t out[1 << 16], prefix[10];

	if (!f || deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			       Z_DEFAULT_STRATEGY) != Z_OK)
		die("%s: cannot write", path);
	for (size_t i = 0; i <= n; i++) {
		for (int part = 0; part < 2; part++) {
			int last = i == n;

			if (last) {
				z.next_in = NULL;
				z.avail_in = 0;
			} else if (part == 0) {
				z.next_in = prefix;
				z.avail_in = (uInt)put_varint(prefix, b[i].len);
			} else {
				z.next_in = b[i].body;
				z.avail_in = (uInt)b[i].len;
			}
			do {
				z.next_out = out;
				z.avail_out = sizeof(out);
				deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
				fwrite(out, 1, sizeof(out) - z.avail_out, f);
			} while (z.avail_out == 0 || z.avail_in);
			if (last)
				break;
		}
	}
	deflateEnd(&z);
	if (fclose(f))
		die("%s: cannot write", path);
}

/*
 * Finds field `field` (length-delimited) at the top level of msg[0..len): its payload's
 * offset and length. -1 when absent.
 */
static long find_field(const uint8_t *msg, size_t len, unsigned field, size_t *plen)
{
	size_t pos = 0;

	while (pos < len) {
		uint64_t tag, v;
		int k = get_varint(msg + pos, len - pos, &tag);

		if (k < 0)
			return -1;
		pos += (size_t)k;
		switch (tag & 7) {
		case 0:
			k = get_varint(msg + pos, len - pos, &v);
			if (k < 0)
				return -1;
			pos += (size_t)k;
			break;
		case 1: pos += 8; break;
		case 5: pos += 4; break;
		case 2:
			k = get_varint(msg + pos, len - pos, &v);
			if (k < 0 || v > len - pos - (size_t)k)
				return -1;
			pos += (size_t)k;
			if ((tag >> 3) == field) {
				*plen = (size_t)v;
				return (long)pos;
			}
			pos += (size_t)v;
			break;
		default:
			return -1;
		}
	}
	return -1;
}

static void sha256(const uint8_t *p, size_t n, uint8_t out[HASH_LEN])
{
	if (EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) != 1)
		die("%s", "sha256 failed");
}

/* Re-hashes and re-signs every batch with key, chaining from the first batch's prev. */
static void forge(struct batch *b, size_t n, EVP_PKEY *key, const uint8_t pub[32])
{
	uint8_t prev[HASH_LEN];
	int have_prev = 0;

	for (size_t i = 0; i < n; i++) {
		size_t core, plen, siglen = SIG_LEN;
		uint8_t *t, msg[20 + HASH_LEN];
		EVP_MD_CTX *md;
		long at;

		if (b[i].len < TRAILER_LEN)
			die("%s", "a batch without the hash chain");
		core = b[i].len - TRAILER_LEN;
		t = b[i].body + core;
		if (t[0] != 0x1a || t[2 + HASH_LEN] != 0x2a)
			die("%s", "a batch without the hash chain");
		at = find_field(b[i].body, core, 2, &plen);
		md = EVP_MD_CTX_new();
		if (have_prev && at >= 0 && plen == HASH_LEN)
			memcpy(b[i].body + at, prev, HASH_LEN);
		at = find_field(b[i].body, core, 4, &plen);
		if (at >= 0) {
			size_t klen;
			long k = find_field(b[i].body + at, plen, 7, &klen);

			if (k >= 0 && klen == 32)
				memcpy(b[i].body + at + k, pub, 32);
		}
		sha256(b[i].body, core, t + 2);
		memcpy(prev, t + 2, HASH_LEN);
		have_prev = 1;
		memcpy(msg, "firstlight.v1.batch", 20);
		memcpy(msg + 20, prev, HASH_LEN);
		if (!md || EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
		    EVP_DigestSign(md, t + 4 + HASH_LEN, &siglen, msg, sizeof(msg)) != 1)
			die("%s", "signing failed");
		EVP_MD_CTX_free(md);
	}
}

static void replace_all(struct batch *b, size_t n, const char *old, const char *new)
{
	size_t ol = strlen(old);
	int hits = 0;

	if (strlen(new) != ol)
		die("%s", "OLD and NEW must have the same length");
	for (size_t i = 0; i < n; i++)
		for (size_t p = 0; p + ol <= b[i].len; p++)
			if (!memcmp(b[i].body + p, old, ol)) {
				memcpy(b[i].body + p, new, ol);
				hits++;
			}
	if (!hits)
		die("'%s' not found", old);
}

static size_t index_arg(const char *s, size_t n)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || v >= n)
		die("batch %s: no such batch", s);
	return v;
}

int main(int argc, char **argv)
{
	size_t zlen, len, n;
	uint8_t *z, *data;
	struct batch *b;
	const char *op = argc > 2 ? argv[1] : "";

	if (argc < 3) {
		fprintf(stderr, "usage: fl-tamper list|flip|delete|swap|forge SEG [OUT ARGS...]\n");
		return 2;
	}
	z = read_file(argv[2], &zlen);
	data = gunzip(z, zlen, &len);
	n = split(data, len, &b);
	if (!strcmp(op, "list")) {
		for (size_t i = 0; i < n; i++)
			printf("%zu %zu %zu\n", i, b[i].offset, b[i].len);
	} else if (!strcmp(op, "flip") && argc == 5) {
		uint8_t *hit = memmem(data, len, argv[4], strlen(argv[4]));
		size_t i = 0;

		if (!hit)
			die("'%s' not found", argv[4]);
		*hit ^= 1;
		while (i + 1 < n && b[i + 1].body <= hit)
			i++;
		printf("batch %zu at byte %zu\n", i, b[i].offset);
		write_gzip(argv[3], b, n);
	} else if (!strcmp(op, "delete") && argc == 5) {
		size_t i = index_arg(argv[4], n);

		if (i + 1 < n)
			printf("batch %zu at byte %zu\n", i, b[i].offset);
		memmove(b + i, b + i + 1, (n - i - 1) * sizeof(*b));
		write_gzip(argv[3], b, n - 1);
	} else if (!strcmp(op, "swap") && argc == 6) {
		size_t i = index_arg(argv[4], n), j = index_arg(argv[5], n);
		size_t first = i < j ? i : j;
		struct batch t = b[i];

		printf("batch %zu at byte %zu\n", first, b[first].offset);
		b[i] = b[j];
		b[j] = t;
		write_gzip(argv[3], b, n);
	} else if (!strcmp(op, "forge") && (argc == 4 || argc == 6)) {
		EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		uint8_t pub[32];
		size_t plen = 32;

		if (!key || EVP_PKEY_get_raw_public_key(key, pub, &plen) != 1)
			die("%s", "no key");
		if (argc == 6)
			replace_all(b, n, argv[4], argv[5]);
		forge(b, n, key, pub);
		EVP_PKEY_free(key);
		printf("batch 0 at byte 0\n");
		write_gzip(argv[3], b, n);
	} else {
		fprintf(stderr, "fl-tamper: bad arguments for '%s'\n", op);
		return 2;
	}
	free(b);
	free(data);
	free(z);
	return 0;
}
