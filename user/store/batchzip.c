/* A segment's gzip stream, one standalone chunk per batch; see batchzip.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <zlib.h>

#include "base/array.h"
#include "store/batchzip.h"

/*
 * A chunk is compressed in pieces of at most this much, each standalone: libdeflate
 * 1.14 at level 1 ends a block at about 64 KiB of input, and only an output of a single
 * block can be made non-final here. Pieces that size lose little to the reset (a batch
 * of 100 ms is a few KiB on a busy node, 256 KiB at most).
 */
#define PIECE_MAX (60u * 1024)
#define LEVEL 1

/* The marker of a full flush: an empty stored block (its 3 header bits, zero, in the
 * last byte's spare bits or a byte of their own), then LEN 0 and NLEN 0xffff. */
static const uint8_t sync_marker[4] = { 0x00, 0x00, 0xff, 0xff };
/* An empty final block with fixed codes: BFINAL 1, BTYPE 01, end-of-block (7 zero bits). */
static const uint8_t final_block[2] = { 0x03, 0x00 };
/* gzip, deflate, no flags, no time, "fastest" (zlib's own at level 1), Unix. */
static const uint8_t gzip_header[BATCHZIP_HEADER_LEN] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3 };

struct batchzip {
	struct libdeflate_compressor *ld;
	struct libdeflate_decompressor *dec; /* where a libdeflate block ends, and the check */
	size_t piece_max;
	z_stream def;          /* raw deflate, level 1, full flushes only: the fallback */
	int def_ready;
	uint8_t *out;          /* the last call's output */
	size_t out_len, out_cap;
	uint8_t *join;         /* a and b of a chunk side by side */
	size_t join_cap;
	uint8_t *check;        /* a piece inflated back */
	size_t check_cap;
	uint32_t crc, isize;   /* of the member so far: its trailer */
	int header_pending;
	uint64_t fallbacks;
};

static int append(struct batchzip *z, const uint8_t *p, size_t n)
{
	int err = ARRAY_GROW(z->out, z->out_cap, z->out_len + n);

	if (err)
		return err;
	memcpy(z->out + z->out_len, p, n);
	z->out_len += n;
	return 0;
}

void batchzip__free(struct batchzip *z)
{
	if (!z)
		return;
	libdeflate_free_compressor(z->ld);
	libdeflate_free_decompressor(z->dec);
	if (z->def_ready)
		deflateEnd(&z->def);
	free(z->out);
	free(z->join);
	free(z->check);
	free(z);
}

struct batchzip *batchzip__new(size_t piece_max)
{
	struct batchzip *z = calloc(1, sizeof(*z));

	if (!z)
		return NULL;
	z->piece_max = piece_max ? piece_max : PIECE_MAX;
	z->ld = libdeflate_alloc_compressor(LEVEL);
	z->dec = libdeflate_alloc_decompressor();
	if (!z->ld || !z->dec)
		goto fail;
	batchzip__start(z);
	return z;
fail:
	batchzip__free(z);
	errno = ENOMEM;
	return NULL;
}

void batchzip__start(struct batchzip *z)
{
	z->crc = 0;
	z->isize = 0;
	z->header_pending = 1;
}

/* The fallback: zlib's own full flush, standalone because the flush before it reset the
 * window. Appends to the output. */
static int zlib_piece(struct batchzip *z, const uint8_t *in, size_t n)
{
	int err;

	z->fallbacks++;
	if (!z->def_ready) {
		if (deflateInit2(&z->def, LEVEL, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return -ENOMEM;
		z->def_ready = 1;
	}
	z->def.next_in = (Bytef *)in;
	z->def.avail_in = (uInt)n;
	do {
		if ((err = ARRAY_GROW(z->out, z->out_cap, z->out_len + 64 * 1024)))
			return err;
		z->def.next_out = z->out + z->out_len;
		z->def.avail_out = 64 * 1024;
		if (deflate(&z->def, Z_FULL_FLUSH) == Z_STREAM_ERROR)
			return -EIO;
		z->out_len += 64 * 1024 - z->def.avail_out;
	} while (z->def.avail_out == 0 || z->def.avail_in);
	return 0;
}

/*
 * Ends blk (len bytes, its one block made non-final) with the marker, where the block
 * ends: after its end-of-block code the last byte has 0 to 7 spare (zero) bits; with 3 or
 * more they hold the stored block's header and the marker is 00 00 ff ff, with fewer the
 * header takes a zero byte of its own first. Exactly one of the two reads as a stream
 * (with the other, LEN and NLEN disagree), so each is tried with an empty final block
 * after it, by libdeflate's decompressor, which also checks that the block inflates to
 * exactly in[0..n). Returns the marker's length; -EBADMSG when neither reads so.
 */
static int end_block(struct batchzip *z, uint8_t *blk, size_t len, const uint8_t *in, size_t n)
{
	int err = ARRAY_GROW(z->check, z->check_cap, n + 1);

	if (err)
		return err;
	/* The likelier first: 5 of the 8 possible spare bit counts. */
	for (size_t zero = 0; zero <= 1; zero++) {
		size_t mlen = zero + sizeof(sync_marker), used = 0, got = 0;

		blk[len] = 0;
		memcpy(blk + len + zero, sync_marker, sizeof(sync_marker));
		memcpy(blk + len + mlen, final_block, sizeof(final_block));
		if (libdeflate_deflate_decompress_ex(z->dec, blk, len + mlen + sizeof(final_block),
						     z->check, n + 1, &used, &got) == LIBDEFLATE_SUCCESS &&
		    used == len + mlen + sizeof(final_block) && got == n && !memcmp(z->check, in, n))
			return (int)mlen;
	}
	return -EBADMSG;
}

/* One piece, standalone and byte-aligned, appended to the output. */
static int piece(struct batchzip *z, const uint8_t *in, size_t n)
{
	size_t bound = libdeflate_deflate_compress_bound(z->ld, n), start = z->out_len, len;
	uint8_t *blk;
	int err, mlen;

	/* Room for the block, the longer marker and the final block that checks it. */
	if ((err = ARRAY_GROW(z->out, z->out_cap, start + bound + 1 + sizeof(sync_marker) +
						 sizeof(final_block))))
		return err;
	blk = z->out + start;
	len = libdeflate_deflate_compress(z->ld, in, n, blk, bound);
	/* BFINAL is the stream's first bit: set there, the first block is the only one. */
	if (!len || !(blk[0] & 1))
		return zlib_piece(z, in, n);
	blk[0] &= (uint8_t)~1u;
	mlen = end_block(z, blk, len, in, n);
	if (mlen < 0 && mlen != -EBADMSG)
		return mlen;
	if (mlen < 0)
		return zlib_piece(z, in, n); /* the output up to start is untouched */
	z->out_len = start + len + (size_t)mlen;
	return 0;
}

int batchzip__chunk(struct batchzip *z, const uint8_t *a, size_t alen, const uint8_t *b,
		    size_t blen)
{
	const uint8_t *in = b;
	size_t n = blen;
	int err = 0;

	z->out_len = 0;
	if (z->header_pending && (err = append(z, gzip_header, sizeof(gzip_header))))
		return err;
	if (alen) {
		/* libdeflate takes one buffer; a is a length prefix, b the batch. */
		if ((err = ARRAY_GROW(z->join, z->join_cap, alen + blen)))
			return err;
		memcpy(z->join, a, alen);
		memcpy(z->join + alen, b, blen);
		in = z->join;
		n = alen + blen;
	}
	for (size_t off = 0; off < n && !err; off += z->piece_max)
		err = piece(z, in + off, n - off < z->piece_max ? n - off : z->piece_max);
	if (err)
		return err;
	z->crc = libdeflate_crc32(z->crc, in, n);
	z->isize += (uint32_t)n;
	z->header_pending = 0;
	return 0;
}

int batchzip__finish(struct batchzip *z)
{
	uint8_t trailer[8];
	int err;

	z->out_len = 0;
	if (z->header_pending && (err = append(z, gzip_header, sizeof(gzip_header))))
		return err;
	for (int i = 0; i < 4; i++) {
		trailer[i] = (uint8_t)(z->crc >> (8 * i));
		trailer[4 + i] = (uint8_t)(z->isize >> (8 * i));
	}
	if ((err = append(z, final_block, sizeof(final_block))) ||
	    (err = append(z, trailer, sizeof(trailer))))
		return err;
	z->header_pending = 0;
	return 0;
}

const uint8_t *batchzip__output(const struct batchzip *z, size_t *len)
{
	*len = z->out_len;
	return z->out;
}

uint64_t batchzip__fallbacks(const struct batchzip *z)
{
	return z->fallbacks;
}
