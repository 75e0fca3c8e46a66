/*
 * Reading records back: a stream of length-delimited Batch messages, gzip-compressed
 * (segment files, also several gzip members back to back) or not (a raw stream on stdin).
 * Input is untrusted: every length is checked, a bad byte yields an error with its
 * offset, never a crash, and no batch costs more than batchwire.h allows (a batch over
 * its limits is an error like a corrupt one: a real agent never writes one). Errors: -errno, with a message from segment_reader__error().
 */
#ifndef FL_SEGMENT_READER_H
#define FL_SEGMENT_READER_H

#include <stdint.h>

#include "firstlight.pb-c.h"
#include "store/batchwire.h" /* the limits: BATCH_MAX_BYTES, BATCH_MAX_EVENTS, ... */

struct segment_reader;

/* path "-" reads stdin. NULL with errno set. */
struct segment_reader *segment_reader__open(const char *path);
/* A reader of fd, which it takes: closed by segment_reader__close, or at once on failure
 * (for a reader that reads its input twice: stdin copied to a file). NULL with errno set. */
struct segment_reader *segment_reader__fdopen(int fd);
/* name in dirfd, never through a symlink. NULL with errno set. */
struct segment_reader *segment_reader__openat(int dirfd, const char *name);
void segment_reader__close(struct segment_reader *r); /* NULL-safe */

/*
 * The next batch: 1 and *out (free with firstlight__v1__batch__free_unpacked(*out, NULL)),
 * 0 at a clean end, -errno on error (-E2BIG: over a limit of batchwire.h).
 */
int segment_reader__next(struct segment_reader *r, Firstlight__V1__Batch **out);
/*
 * The next batch as stored, undecoded (for hashing): 1, *body and *len (valid until the
 * next call) and *offset, the batch's byte offset in the decompressed stream (where its
 * length prefix starts); 0 at a clean end, -errno on error.
 */
int segment_reader__next_raw(struct segment_reader *r, const uint8_t **body, size_t *len,
			     uint64_t *offset);
/* Why the last call failed, naming the offset. Valid until the next call. */
const char *segment_reader__error(const struct segment_reader *r);
/* The stream ended at a batch boundary but without its gzip trailer: a writer that was
 * stopped without closing (crash, kill -9). Not an error: no record is cut. */
int segment_reader__unclean_end(const struct segment_reader *r);
/* The last error was the input ending inside a batch (a cut write), not corrupt bytes. */
int segment_reader__truncated(const struct segment_reader *r);
/* Decompressed bytes of complete batches so far: where the next batch would start. */
uint64_t segment_reader__offset(const struct segment_reader *r);

#endif
