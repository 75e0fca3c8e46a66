/*
 * Reading records back: a stream of length-delimited Batch messages, gzip-compressed
 * (segment files, also several gzip members back to back) or not (a raw stream on stdin).
 * Input is untrusted: every length is checked, a bad byte yields an error with its
 * offset, never a crash. Errors: -errno, with a message from segment_reader__error().
 */
#ifndef FL_SEGMENT_READER_H
#define FL_SEGMENT_READER_H

#include <stdint.h>

#include "firstlight.pb-c.h"

#define BATCH_MAX_BYTES (64u << 20) /* a larger length prefix is corruption, not data */

struct segment_reader;

/* path "-" reads stdin. NULL with errno set. */
struct segment_reader *segment_reader__open(const char *path);
void segment_reader__close(struct segment_reader *r); /* NULL-safe */

/*
 * The next batch: 1 and *out (free with firstlight__v1__batch__free_unpacked(*out, NULL)),
 * 0 at a clean end, -errno on error.
 */
int segment_reader__next(struct segment_reader *r, Firstlight__V1__Batch **out);
/* Why the last call failed, naming the offset. Valid until the next call. */
const char *segment_reader__error(const struct segment_reader *r);
/* The stream ended at a batch boundary but without its gzip trailer: a writer that was
 * stopped without closing (crash, kill -9). Not an error: no record is cut. */
int segment_reader__unclean_end(const struct segment_reader *r);

#endif
