/* Unit tests for batchzip.c: a member of chunks (small, empty-prefixed, over a piece,
 * incompressible) reads back with zlib as one gzip member, each chunk's bytes inflate on
 * their own as raw deflate and side by side (what shipping sends and the collector
 * inflates), and a member's trailer checks; so does a stream of which part went through
 * the zlib fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "store/batchzip.h"

#define MAX_CHUNKS 8

struct chunk {
	uint8_t *in;  /* what was given: prefix and body side by side */
	size_t len;
	uint8_t *raw; /* what came out, without the member's header */
	size_t raw_len;
};

/* Records-like text: field tags, ids and paths that repeat with small changes. */
static void fill_text(uint8_t *p, size_t n, unsigned seed)
{
	static const char *words[] = { "\x0a\x2b" "9f86d081:", "/usr/bin/python3", "-m", "worker",
				       "--job=", "cgroup:/kubepods/burstable/pod", "\x12\x08", "/bin/true" };
	size_t off = 0;

	while (off < n) {
		const char *w = words[(seed = seed * 1103515245u + 12345u) >> 16 & 7];
		size_t l = strlen(w);

		for (size_t i = 0; i < l && off < n; i++)
			p[off++] = (uint8_t)w[i];
		if (off < n)
			p[off++] = (uint8_t)('0' + (seed >> 8) % 10);
	}
}

static void fill_random(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
}

/* Inflates in[0..len) with windowBits wb into a fresh buffer; *out_len its length. */
static uint8_t *inflate_all(const uint8_t *in, size_t len, int wb, size_t cap, size_t *out_len,
			    int *ended)
{
	uint8_t *out = malloc(cap);
	z_stream z = { 0 };
	int rc;

	assert_non_null(out);
	assert_int_equal(inflateInit2(&z, wb), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	rc = inflate(&z, Z_SYNC_FLUSH);
	assert_true(rc == Z_OK || rc == Z_STREAM_END);
	assert_int_equal(z.avail_in, 0);
	*ended = rc == Z_STREAM_END;
	*out_len = cap - z.avail_out;
	inflateEnd(&z);
	return out;
}

static void test_member(void **state)
{
	/* sizes: a tiny one, typical batches, one over a piece (several pieces), random */
	static const size_t sizes[] = { 1, 3000, 17000, 200000, 70000, 5 };
	struct batchzip *z = batchzip__new(0);
	struct chunk c[MAX_CHUNKS];
	size_t n = sizeof(sizes) / sizeof(sizes[0]), total = 0, file_len = 0, got, out_len;
	uint8_t *file = NULL, *back;
	const uint8_t *out;
	int ended;

	(void)state;
	assert_non_null(z);
	for (int round = 0; round < 2; round++) { /* two members: start resets the trailer */
		batchzip__start(z);
		total = file_len = 0;
		for (size_t i = 0; i < n; i++) {
			uint8_t prefix[3] = { 0x80 | (uint8_t)i, 0x01, 0x7f };
			size_t plen = i % 2 ? sizeof(prefix) : 0;

			c[i].len = plen + sizes[i];
			c[i].in = malloc(c[i].len);
			assert_non_null(c[i].in);
			memcpy(c[i].in, prefix, plen);
			if (i == 4)
				fill_random(c[i].in + plen, sizes[i], (unsigned)(i + round));
			else
				fill_text(c[i].in + plen, sizes[i], (unsigned)(i + round));
			assert_int_equal(batchzip__chunk(z, c[i].in, plen, c[i].in + plen, sizes[i]), 0);
			out = batchzip__output(z, &out_len);
			if (i == 0) {
				assert_true(out_len > BATCHZIP_HEADER_LEN);
				assert_int_equal(out[0], 0x1f);
				assert_int_equal(out[1], 0x8b);
			}
			file = realloc(file, file_len + out_len);
			assert_non_null(file);
			memcpy(file + file_len, out, out_len);
			c[i].raw_len = out_len - (i == 0 ? BATCHZIP_HEADER_LEN : 0);
			file_len += out_len;
			total += c[i].len;
			/* Every chunk ends at a full flush's marker. */
			assert_memory_equal(file + file_len - 4, "\x00\x00\xff\xff", 4);
		}
		/* libdeflate made every piece (zlib, the fallback, would read the same). */
		assert_int_equal(batchzip__fallbacks(z), 0);
		/* file is whole now: where each chunk's bytes start. */
		for (size_t i = 0, off = 0; i < n; i++) {
			c[i].raw = file + off + (i == 0 ? BATCHZIP_HEADER_LEN : 0);
			off += c[i].raw_len + (i == 0 ? BATCHZIP_HEADER_LEN : 0);
		}
		/* Each chunk alone, as shipping sends it. */
		for (size_t i = 0; i < n; i++) {
			back = inflate_all(c[i].raw, c[i].raw_len, -MAX_WBITS, c[i].len + 16, &got, &ended);
			assert_false(ended);
			assert_int_equal(got, c[i].len);
			assert_memory_equal(back, c[i].in, got);
			free(back);
		}
		/* Two side by side, as a bundle of batches is inflated. */
		{
			size_t l = c[2].raw_len + c[3].raw_len;
			uint8_t *two = malloc(l);

			memcpy(two, c[2].raw, c[2].raw_len);
			memcpy(two + c[2].raw_len, c[3].raw, c[3].raw_len);
			back = inflate_all(two, l, -MAX_WBITS, c[2].len + c[3].len + 16, &got, &ended);
			assert_int_equal(got, c[2].len + c[3].len);
			assert_memory_equal(back, c[2].in, c[2].len);
			assert_memory_equal(back + c[2].len, c[3].in, c[3].len);
			free(back);
			free(two);
		}
		/* Not finished: zlib reads all there is, the member open (a killed writer). */
		back = inflate_all(file, file_len, 16 + MAX_WBITS, total + 16, &got, &ended);
		assert_false(ended);
		assert_int_equal(got, total);
		free(back);
		/* Finished: one gzip member whose trailer (CRC-32, length) checks. */
		assert_int_equal(batchzip__finish(z), 0);
		out = batchzip__output(z, &out_len);
		file = realloc(file, file_len + out_len);
		memcpy(file + file_len, out, out_len);
		file_len += out_len;
		back = inflate_all(file, file_len, 16 + MAX_WBITS, total + 16, &got, &ended);
		assert_true(ended);
		assert_int_equal(got, total);
		for (size_t i = 0, off = 0; i < n; off += c[i].len, i++)
			assert_memory_equal(back + off, c[i].in, c[i].len);
		free(back);
		for (size_t i = 0; i < n; i++)
			free(c[i].in);
		free(file);
		file = NULL;
	}
	batchzip__free(z);
	batchzip__free(NULL);
}

/* A member with no chunk is still a gzip member: header, final block, trailer. */
static void test_empty_member(void **state)
{
	struct batchzip *z = batchzip__new(0);
	const uint8_t *out;
	size_t out_len, got;
	uint8_t *back;
	int ended;

	(void)state;
	assert_non_null(z);
	assert_int_equal(batchzip__finish(z), 0);
	out = batchzip__output(z, &out_len);
	back = inflate_all(out, out_len, 16 + MAX_WBITS, 16, &got, &ended);
	assert_true(ended);
	assert_int_equal(got, 0);
	free(back);
	batchzip__free(z);
}

/*
 * Pieces larger than libdeflate keeps in one block: its output cannot be made non-final,
 * so zlib's full flush compresses them; the stream reads back the same, and the pieces
 * libdeflate can take still go through it.
 */
static void test_fallback(void **state)
{
	size_t big = 1u << 20, small = 2000, out_len, got, total;
	struct batchzip *z = batchzip__new(big);
	uint8_t *in = malloc(big + small), *file, *back;
	const uint8_t *out;
	int ended;

	(void)state;
	assert_non_null(z);
	assert_non_null(in);
	fill_text(in, big + small, 7);
	assert_int_equal(batchzip__chunk(z, NULL, 0, in, big), 0);
	assert_int_equal(batchzip__fallbacks(z), 1);
	out = batchzip__output(z, &out_len);
	file = malloc(out_len);
	memcpy(file, out, out_len);
	total = out_len;
	assert_int_equal(batchzip__chunk(z, NULL, 0, in + big, small), 0);
	assert_int_equal(batchzip__fallbacks(z), 1);
	out = batchzip__output(z, &out_len);
	file = realloc(file, total + out_len);
	memcpy(file + total, out, out_len);
	total += out_len;
	assert_int_equal(batchzip__finish(z), 0);
	out = batchzip__output(z, &out_len);
	file = realloc(file, total + out_len);
	memcpy(file + total, out, out_len);
	total += out_len;
	back = inflate_all(file, total, 16 + MAX_WBITS, big + small + 16, &got, &ended);
	assert_true(ended);
	assert_int_equal(got, big + small);
	assert_memory_equal(back, in, got);
	free(back);
	free(file);
	free(in);
	batchzip__free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_member),
		cmocka_unit_test(test_empty_member),
		cmocka_unit_test(test_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
