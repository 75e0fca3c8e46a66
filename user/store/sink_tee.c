/*
 * Two sinks as one: the default segment files plus the live JSON view (`run --live`,
 * what `make run` shows). A record counts as written when the first (durable) sink took
 * it; the second is a convenience and its losses are its own.
 */
#include <stdlib.h>

#include "store/sink_tee.h"

struct sink_tee {
	struct sink base;
	struct sink *a, *b;
};

static int tee_write(struct sink *s, const Event *ev, const uint8_t *packed, size_t len)
{
	struct sink_tee *t = (struct sink_tee *)s;
	int err = t->a->write(t->a, ev, packed, len);

	t->b->write(t->b, ev, packed, len);
	s->written = t->a->written;
	s->lost = t->a->lost;
	return err;
}

static int tee_flush(struct sink *s)
{
	struct sink_tee *t = (struct sink_tee *)s;
	int err = t->a->flush(t->a);

	t->b->flush(t->b);
	s->written = t->a->written;
	s->lost = t->a->lost;
	return err;
}

static void tee_free(struct sink *s)
{
	struct sink_tee *t = (struct sink_tee *)s;

	sink__free(t->a);
	sink__free(t->b);
	free(t);
}

struct sink *sink_tee__new(struct sink *a, struct sink *b)
{
	struct sink_tee *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->base.name = "tee";
	t->base.write = tee_write;
	t->base.flush = tee_flush;
	t->base.free = tee_free;
	t->a = a;
	t->b = b;
	return &t->base;
}
