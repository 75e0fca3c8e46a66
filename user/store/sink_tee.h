/* Two sinks as one: the segment store and the live view (`run --live`). */
#ifndef FL_SINK_TEE_H
#define FL_SINK_TEE_H

#include "records/sink.h"

/* Both: a is the record of truth (its counts are the tee's), b a copy. Takes both.
 * NULL with errno set (neither is freed then). */
struct sink *sink_tee__new(struct sink *a, struct sink *b);

#endif
