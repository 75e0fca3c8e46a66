/*
 * libFuzzer target for user/store/segment_reader.c: the input is a segment file (gzip or raw
 * stream of length-delimited Batch messages), read to its end or first error.
 * The reader opens a path, so the input goes to a memfd named by /proc/self/fd/N; no
 * change to user code and no file left behind.
 *
 * Mutated gzip rarely gets past the CRC, so an input starting "FZ" + a mode byte has the
 * rest gzip-compressed here first, as the sink does: with a Z_SYNC_FLUSH every
 * (mode >> 2) * 16 bytes when mode bit 0 is set, without the gzip trailer (a writer that
 * was killed) when bit 1 is set. That lets the fuzzer work on the framing inside gzip.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=30]. Seeds in tests/fuzz/corpus/: segments the
 * real sink wrote (tiny.seg.gz: 3 records in one batch; multi.seg.gz: 40 records in small
 * batches; unclean.seg.gz: 2 flushed batches, no gzip trailer), a raw stream of two
 * batches (raw.bin), a cut raw batch (raw-cut.bin), an empty batch (empty-batch.bin) and
 * raw.bin behind "FZ" modes 0x00, 0x05 and 0x0b (fz-*.bin).
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

#include "store/segment_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int input_fd = -1;
static char input_path[64];

static void write_all(const uint8_t *data, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t w = write(input_fd, data + done, size - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			abort();
		done += (size_t)w;
	}
}

/* Feeds in[0..n) to the compressor with mode, writing all it produces. */
static void deflate_write(z_stream *z, const uint8_t *in, size_t n, int flush)
{
	uint8_t out[16384];

	z->next_in = (Bytef *)in;
	z->avail_in = (uInt)n;
	do {
		z->next_out = out;
		z->avail_out = sizeof(out);
		if (deflate(z, flush) == Z_STREAM_ERROR)
			abort();
		write_all(out, sizeof(out) - z->avail_out);
	} while (z->avail_out == 0 || z->avail_in);
}

static void write_gzip(const uint8_t *data, size_t size, uint8_t mode)
{
	size_t chunk = (mode & 1) ? (size_t)(mode >> 2) * 16 + 1 : size + 1;
	z_stream z;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		abort();
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		deflate_write(&z, data + off, n, (mode & 1) ? Z_SYNC_FLUSH : Z_NO_FLUSH);
	}
	if (mode & 2)
		deflate_write(&z, NULL, 0, Z_SYNC_FLUSH);
	else
		deflate_write(&z, NULL, 0, Z_FINISH);
	deflateEnd(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct segment_reader *r;
	Firstlight__V1__Batch *b;
	int rc;

	if (input_fd < 0) {
		input_fd = memfd_create("fuzz-segment", MFD_CLOEXEC);
		if (input_fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(input_path, sizeof(input_path), "/proc/self/fd/%d", input_fd);
	}
	if (ftruncate(input_fd, 0) || lseek(input_fd, 0, SEEK_SET) != 0)
		abort();
	if (size >= 3 && data[0] == 'F' && data[1] == 'Z')
		write_gzip(data + 3, size - 3, data[2]);
	else
		write_all(data, size);

	/* Opening /proc/self/fd/N reopens the file with its own offset, at 0. */
	r = segment_reader__open(input_path);
	if (!r)
		abort();
	while ((rc = segment_reader__next(r, &b)) == 1) {
		/* Touch what a reader would: every event of the batch. */
		for (size_t i = 0; i < b->n_events; i++)
			if (!b->events[i])
				abort();
		firstlight__v1__batch__free_unpacked(b, NULL);
	}
	if (b)
		abort(); /* no batch on end or error */
	if (rc < 0 && !segment_reader__error(r)[0])
		abort(); /* an error always says why */
	(void)segment_reader__unclean_end(r);
	segment_reader__close(r);
	return 0;
}
