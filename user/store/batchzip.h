/*
 * A segment's gzip stream, one batch at a time: each batch is compressed so that it stands
 * alone (no reference to the batches before it) and ends on a byte boundary with the
 * marker of a zlib full flush (an empty stored block), exactly the shape zlib's
 * deflate(Z_FULL_FLUSH) gives. So the file is one gzip member that `zcat` and every reader
 * read as before, and a batch's compressed bytes can be shipped (and concatenated) as raw
 * deflate on their own.
 *
 * The compressor is libdeflate (whole-buffer, about three times zlib level 1's speed on
 * this stream at the same size). Its output is a single final block; the block is made
 * non-final and the marker appended where it ends, which only decoding it tells:
 * libdeflate's decompressor, which also checks that the block inflates to exactly the
 * input. An input libdeflate would split into several blocks, or whose check fails, is
 * compressed by zlib level 1 with a full flush instead: same stream, slower.
 *
 * Errors: 0 or -errno; batchzip__new returns NULL with errno set; batchzip__free(NULL) is
 * a no-op.
 */
#ifndef FL_BATCHZIP_H
#define FL_BATCHZIP_H

#include <stddef.h>
#include <stdint.h>

#define BATCHZIP_HEADER_LEN 10 /* the gzip header: no name, no time */

struct batchzip;

/* piece_max: the most input compressed as one standalone piece (0: the default, what
 * libdeflate keeps in one block; tests give more to reach the fallback). */
struct batchzip *batchzip__new(size_t piece_max);
void batchzip__free(struct batchzip *z);

/* Starts a gzip member (a segment): the next output begins with its header. */
void batchzip__start(struct batchzip *z);

/*
 * Compresses a (alen bytes) followed by b (blen bytes) as one standalone chunk, replacing
 * the output with it (after the member's header when it is the member's first chunk).
 */
int batchzip__chunk(struct batchzip *z, const uint8_t *a, size_t alen, const uint8_t *b,
		    size_t blen);

/* Ends the member: the output is replaced with its final block and gzip trailer. */
int batchzip__finish(struct batchzip *z);

/* The last call's output; valid until the next call. */
const uint8_t *batchzip__output(const struct batchzip *z, size_t *len);

/* Chunks that went to zlib (libdeflate split them, or its check failed). */
uint64_t batchzip__fallbacks(const struct batchzip *z);

#endif
