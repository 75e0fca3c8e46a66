/*
 * Where records go: the interface every sink implements (store/ has them: segment files,
 * the live view, a tee), each with its own constructor. A sink receives every record twice-described: the Event struct (for
 * sinks that render it, such as JSON on stdout) and its packed protobuf bytes (for sinks
 * that store it). Both are valid only during the call.
 * Errors: 0 or -errno; a sink that cannot take a record counts it in `lost`.
 */
#ifndef FL_SINK_H
#define FL_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.pb-c.h"

typedef Firstlight__V1__Event Event;

struct sink {
	const char *name;
	int (*write)(struct sink *s, const Event *ev, const uint8_t *packed, size_t len);
	/* Makes everything written so far durable/visible. */
	int (*flush)(struct sink *s);
	/* Flushes and releases; NULL-safe through sink__free. */
	void (*free)(struct sink *s);
	uint64_t written; /* records accepted */
	uint64_t lost;    /* records the sink had to discard */
};

static inline void sink__free(struct sink *s)
{
	if (s)
		s->free(s);
}

#endif
