/*
 * Unit tests for user/records/pbpack.c: the one-pass packer writes exactly the bytes of
 * protobuf-c's own protobuf_c_message_pack(), for records as the agent makes them and for
 * random messages of every type the schema has (filled through the descriptors, so a
 * field added to the schema is covered without a change here), and never a byte past the
 * room it was given; the recorder grows its buffer for a record larger than it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "records/pbpack.h"
#include "records/record.h"
#include "records/sink.h"
#include "capture_sink.h"

#define CANARY 0xa5
#define SLACK 32

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible, every run the same cases */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Values at the varint and sign edges more often than at random. */
static uint64_t rnd_value(void)
{
	static const uint64_t edges[] = { 0, 1, 127, 128, 16383, 16384, 0x7fffffff, 0x80000000,
					  0xffffffff, 0x100000000ull, (uint64_t)-1, (uint64_t)-128 };

	if (rnd() % 2)
		return edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
	return rnd() >> (rnd() % 64);
}

static char *rnd_string(void)
{
	size_t n = rnd() % 4 ? rnd() % 40 : rnd() % 400;
	char *s = malloc(n + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)(1 + rnd() % 255); /* no NUL inside: a C string */
	s[n] = 0;
	return s;
}

static void fill_message(ProtobufCMessage *m, int depth);

/* One value of f's type at member (a scalar, or the pointer a string or message is);
 * repeated: an element of a repeated field. */
static void fill_value(const ProtobufCFieldDescriptor *f, void *member, int depth, int repeated)
{
	uint64_t v = rnd_value();

	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)member = (protobuf_c_boolean)(v & 1);
		break;
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		*(uint32_t *)member = (uint32_t)v;
		break;
	case PROTOBUF_C_TYPE_STRING:
		/* NULL only where protobuf-c can size it: not in a repeated field */
		*(char **)member = repeated || rnd() % 8 ? rnd_string() : NULL;
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = member;

		b->len = rnd() % 3 ? rnd() % 100 : 0;
		b->data = b->len ? malloc(b->len) : NULL;
		for (size_t i = 0; i < b->len; i++)
			b->data[i] = (uint8_t)rnd(); /* NULs included */
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *d = f->descriptor;
		ProtobufCMessage *sub = NULL;

		if (repeated || (depth < 4 && rnd() % 6)) { /* never NULL repeated, as strings */
			sub = calloc(1, d->sizeof_message);
			assert_non_null(sub);
			d->message_init(sub);
			fill_message(sub, depth + 1);
		}
		*(ProtobufCMessage **)member = sub;
		break;
	}
	default: /* the 64-bit ones */
		*(uint64_t *)member = v;
	}
}

static size_t elt_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/* Every field set with some chance, one member of each oneof at most (they share memory). */
static void fill_message(ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *member = (char *)m + f->offset;
		char *q = (char *)m + f->quantifier_offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = rnd() % 3 ? 0 : rnd() % 6, esz = elt_size(f->type);
			char *arr;

			if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= 4)
				n = 0; /* bounded nesting */
			arr = n ? calloc(n, esz) : NULL;

			for (size_t k = 0; k < n; k++)
				fill_value(f, arr + k * esz, depth, 1);
			*(size_t *)q = n;
			*(char **)member = arr;
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(uint32_t *)q || rnd() % 3)
				continue;
			*(uint32_t *)q = f->id;
		} else if (rnd() % 3 == 0) {
			continue; /* left at its default */
		}
		fill_value(f, member, depth, 0);
	}
}

/* Packs m both ways, exactly as big and one byte short of it, and compares. */
static void check_same(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *want = malloc(len + 1), *got = malloc(len + SLACK);

	assert_non_null(want);
	assert_non_null(got);
	assert_int_equal(protobuf_c_message_pack(m, want), len);
	memset(got, CANARY, len + SLACK);
	assert_int_equal(pbpack__pack(m, got, len), (ssize_t)len);
	assert_memory_equal(got, want, len);
	for (size_t i = len; i < len + SLACK; i++)
		assert_int_equal(got[i], CANARY);
	if (len) {
		/* Short of room, at the end or anywhere before: refused, nothing past the room. */
		size_t cap = rnd() % 2 ? len - 1 : rnd() % len;

		memset(got, CANARY, len + SLACK);
		assert_int_equal(pbpack__pack(m, got, cap), -ENOSPC);
		for (size_t i = cap; i < len + SLACK; i++)
			assert_int_equal(got[i], CANARY);
	}
	free(want);
	free(got);
}

static void test_random_events(void **state)
{
	(void)state;
	for (int i = 0; i < 3000; i++) {
		Event *ev = calloc(1, sizeof(*ev));

		assert_non_null(ev);
		firstlight__v1__event__init(ev);
		fill_message(&ev->base, 0);
		check_same(&ev->base);
		protobuf_c_message_free_unpacked(&ev->base, NULL);
	}
}

/* An exec record as the agent makes it: strings, repeated args, nested messages. */
static void test_exec_record(void **state)
{
	Firstlight__V1__ProcessExec body = FIRSTLIGHT__V1__PROCESS_EXEC__INIT;
	Firstlight__V1__Process p = FIRSTLIGHT__V1__PROCESS__INIT;
	Firstlight__V1__Namespaces ns = FIRSTLIGHT__V1__NAMESPACES__INIT;
	Firstlight__V1__ProcessFlags fl = FIRSTLIGHT__V1__PROCESS_FLAGS__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char *args[] = { "/bin/sh", "-c", "", "echo \xc3\xa9t\xc3\xa9", NULL };
	char long_arg[300];

	(void)state;
	memset(long_arg, 'x', sizeof(long_arg) - 1);
	long_arg[sizeof(long_arg) - 1] = 0;
	args[2] = long_arg;
	ns.pid = 4026531836u;
	ns.mnt = 4026531841u;
	fl.pre_existing = 1;
	p.exec_id = "1f2e3d4c-00000000000003e8-00001234";
	p.pid = 4660;
	p.ppid = 1;
	p.uid = 0;
	p.cap_effective = 0x1ffffffffffull;
	p.binary = "/usr/bin/true";
	p.args = args;
	p.n_args = 4;
	p.cwd = "/";
	p.namespaces = &ns;
	p.flags = &fl;
	body.process = &p;
	body.replaced_exec_id = "";
	ev.seq = 1ull << 40;
	ev.node = "node-1";
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
	ev.exec = &body;
	check_same(&ev.base);
	/* A oneof member set to a zero message is still written (presence). */
	p = (Firstlight__V1__Process)FIRSTLIGHT__V1__PROCESS__INIT;
	check_same(&ev.base);
	/* The case names no member that is set: nothing of the body. */
	ev.exec = NULL;
	check_same(&ev.base);
}

static void test_empty_and_deep(void **state)
{
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	uint8_t b[4];

	(void)state;
	assert_int_equal(pbpack__pack(&ev.base, b, 0), 0);
	check_same(&ev.base);
}

/* The recorder's buffer starts at 64 KiB: a larger record grows it and packs again. */
static void test_recorder_grows(void **state)
{
	Firstlight__V1__ProcessExec body = FIRSTLIGHT__V1__PROCESS_EXEC__INIT;
	Firstlight__V1__Process p = FIRSTLIGHT__V1__PROCESS__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	struct capture cap;
	struct recorder r;
	size_t big = 300 * 1024;
	char *cwd = malloc(big + 1);

	(void)state;
	assert_non_null(cwd);
	memset(cwd, 'd', big);
	cwd[big] = 0;
	capture_init(&cap);
	assert_int_equal(recorder__init(&r, &cap.base), 0);
	p.pid = 77;
	p.cwd = cwd;
	body.process = &p;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
	ev.exec = &body;
	assert_int_equal(recorder__emit(&r, &ev, 0), 0);
	assert_int_equal(recorder__emit(&r, &ev, 0), 0); /* the grown buffer, again */
	assert_int_equal(cap.n, 2);
	assert_string_equal(cap.recs[0]->exec->process->cwd, cwd);
	assert_int_equal(cap.recs[1]->seq, 2);
	assert_int_equal(r.unrecorded, 0);
	assert_true(r.cap >= big);
	recorder__fini(&r);
	capture_free(&cap.base);
	free(cwd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_events),
		cmocka_unit_test(test_exec_record),
		cmocka_unit_test(test_empty_and_deep),
		cmocka_unit_test(test_recorder_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
