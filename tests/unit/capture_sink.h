/*
 * For unit tests: a sink that keeps every record it is given, unpacked from the protobuf
 * bytes (so a test reads what would be on disk, not the struct it built), and checks
 * that the bytes and the struct describe the same record. Included by one test program
 * each (static functions); needs cmocka.h, record.h and sink.h included first.
 */
#ifndef FL_TEST_CAPTURE_SINK_H
#define FL_TEST_CAPTURE_SINK_H

#define CAPTURE_MAX 64

struct capture {
	struct sink base;
	Firstlight__V1__Event *recs[CAPTURE_MAX];
	size_t n;
	int fail_with; /* nonzero: refuse records with this error, counted as lost */
};

static int capture_write(struct sink *s, const Event *ev, const uint8_t *packed, size_t len)
{
	struct capture *c = (struct capture *)s;
	Firstlight__V1__Event *r;

	assert_non_null(ev);
	if (c->fail_with) {
		s->lost++;
		return c->fail_with;
	}
	r = firstlight__v1__event__unpack(NULL, len, packed);
	assert_non_null(r);
	assert_true(c->n < CAPTURE_MAX);
	assert_int_equal(r->seq, ev->seq);
	assert_int_equal(r->body_case, ev->body_case);
	c->recs[c->n++] = r;
	s->written++;
	return 0;
}

static int capture_flush(struct sink *s)
{
	(void)s;
	return 0;
}

/* Frees the records kept so far; the sink stays usable. */
static void capture_clear(struct capture *c)
{
	for (size_t i = 0; i < c->n; i++)
		firstlight__v1__event__free_unpacked(c->recs[i], NULL);
	c->n = 0;
}

static void capture_free(struct sink *s)
{
	capture_clear((struct capture *)s);
}

static void capture_init(struct capture *c)
{
	/* Whole: a capture on a test's stack would otherwise start with garbage in n and
	 * fail_with (test_kcaps failed now and then on exactly that). */
	memset(c, 0, sizeof(*c));
	c->base.name = "capture";
	c->base.write = capture_write;
	c->base.flush = capture_flush;
	c->base.free = capture_free;
}

/* The newest record kept. */
static inline Firstlight__V1__Event *capture_last(struct capture *c)
{
	assert_true(c->n > 0);
	return c->recs[c->n - 1];
}

#endif /* FL_TEST_CAPTURE_SINK_H */
