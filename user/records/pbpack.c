/* One-pass protobuf packing with bounds; see pbpack.h. The rules mirror protobuf-c's
 * protobuf_c_message_pack() (1.4): what each label leaves out, and how each type is
 * written. tests/unit/test_pbpack.c compares the two byte for byte. */
#include <errno.h>
#include <string.h>

#include "base/varint.h"
#include "records/pbpack.h"

/* A tag and a varint at most: a scalar field is written in place when there is this much
 * room, else beside it and copied if it fits (room is exact: what fits is packed). */
#define SCALAR_ROOM (2 * VARINT_MAX)

struct cursor {
	uint8_t *p, *end;
};

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *put_tag(uint8_t *p, uint32_t id, unsigned wire_type)
{
	return p + varint__put(p, (uint64_t)id << 3 | wire_type);
}

/* Whether a length-delimited field of n payload bytes fits at c. */
static int room_for(const struct cursor *c, uint32_t id, size_t n)
{
	size_t room = (size_t)(c->end - c->p), head = varint_len((uint64_t)id << 3) + varint_len(n);

	return room >= head && room - head >= n;
}

static uint8_t *put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + bytes;
}

static uint32_t zigzag32(int32_t v)
{
	return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}

static uint64_t zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* A length-delimited payload: tag, length, bytes. */
static int put_bytes(struct cursor *c, uint32_t id, const void *data, size_t n)
{
	uint8_t *p = c->p;

	if (!room_for(c, id, n))
		return -ENOSPC;
	p = put_tag(p, id, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
	p += varint__put(p, n);
	if (n)
		memcpy(p, data, n);
	c->p = p + n;
	return 0;
}

static int pack_message(struct cursor *c, const ProtobufCMessage *m, int depth);

/*
 * A submessage: its length is known only once it is packed, so it is packed one byte
 * after the tag and moved up when its length takes more than that byte (as protobuf-c
 * does).
 */
static int put_message(struct cursor *c, uint32_t id, const ProtobufCMessage *sub, int depth)
{
	uint8_t *len_at;
	size_t n, k;
	int err;

	if (!room_for(c, id, 0))
		return -ENOSPC;
	len_at = put_tag(c->p, id, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
	if (!sub) {
		*len_at = 0;
		c->p = len_at + 1;
		return 0;
	}
	c->p = len_at + 1;
	err = pack_message(c, sub, depth + 1);
	if (err)
		return err;
	n = (size_t)(c->p - (len_at + 1));
	k = varint_len(n);
	if (k > 1) {
		if ((size_t)(c->end - c->p) < k - 1)
			return -ENOSPC;
		memmove(len_at + k, len_at + 1, n);
	}
	varint__put(len_at, n);
	c->p = len_at + k + n;
	return 0;
}

/* The varint a value of a varint type is written as (a packed element's too). */
static uint64_t varint_value(ProtobufCType type, const void *e)
{
	switch (type) {
	case PROTOBUF_C_TYPE_SINT32:
		return zigzag32(*(const int32_t *)e);
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_INT32: /* negative: ten bytes, sign-extended to 64 bits */
		return (uint64_t)(int64_t)*(const int32_t *)e;
	case PROTOBUF_C_TYPE_UINT32:
		return *(const uint32_t *)e;
	case PROTOBUF_C_TYPE_SINT64:
		return zigzag64(*(const int64_t *)e);
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)e ? 1 : 0;
	default: /* INT64, UINT64 */
		return *(const uint64_t *)e;
	}
}

/* One value with its tag, whatever its label (protobuf-c's required_field_pack). */
static int pack_value(struct cursor *c, const ProtobufCFieldDescriptor *f, const void *member,
		      int depth)
{
	uint8_t tmp[SCALAR_ROOM], *start, *p;
	size_t room = (size_t)(c->end - c->p);

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)member;

		return put_bytes(c, f->id, s, s ? strlen(s) : 0);
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = member;

		return put_bytes(c, f->id, b->data, b->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return put_message(c, f->id, *(ProtobufCMessage *const *)member, depth);
	default:
		break;
	}
	start = p = room >= SCALAR_ROOM ? c->p : tmp;
	switch (f->type) {
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_BOOL:
		p = put_tag(p, f->id, PROTOBUF_C_WIRE_TYPE_VARINT);
		p += varint__put(p, varint_value(f->type, member));
		break;
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		p = put_tag(p, f->id, PROTOBUF_C_WIRE_TYPE_32BIT);
		p = put_le(p, *(const uint32_t *)member, 4);
		break;
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		p = put_tag(p, f->id, PROTOBUF_C_WIRE_TYPE_64BIT);
		p = put_le(p, *(const uint64_t *)member, 8);
		break;
	default:
		return -EINVAL;
	}
	if (start == tmp) {
		if ((size_t)(p - tmp) > room)
			return -ENOSPC;
		memcpy(c->p, tmp, (size_t)(p - tmp));
		p = c->p + (p - tmp);
	}
	c->p = p;
	return 0;
}

/* A proto3 field without presence is left out at its zero value (field_is_zeroish). */
static int zeroish(const ProtobufCFieldDescriptor *f, const void *member)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		return !*(const protobuf_c_boolean *)member;
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
		return !*(const uint32_t *)member;
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
		return !*(const uint64_t *)member;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)member == 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)member == 0;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)member;

		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return !((const ProtobufCBinaryData *)member)->len;
	case PROTOBUF_C_TYPE_MESSAGE:
		return !*(const void *const *)member;
	default:
		return 1;
	}
}

static size_t element_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/* A packed repeated scalar: one tag, the payload's length, the values. */
static int pack_packed(struct cursor *c, const ProtobufCFieldDescriptor *f, size_t count,
		       const char *array)
{
	size_t esz = element_size(f->type), payload = 0, fixed = 0;
	uint8_t *p = c->p;

	switch (f->type) {
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		fixed = esz;
		payload = count * esz;
		break;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return -EINVAL; /* never packed */
	default:
		for (size_t i = 0; i < count; i++)
			payload += varint_len(varint_value(f->type, array + i * esz));
	}
	if (!room_for(c, f->id, payload))
		return -ENOSPC;
	p = put_tag(p, f->id, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
	p += varint__put(p, payload);
	for (size_t i = 0; i < count; i++) {
		const void *e = array + i * esz;

		if (fixed == 4)
			p = put_le(p, *(const uint32_t *)e, 4);
		else if (fixed == 8)
			p = put_le(p, *(const uint64_t *)e, 8);
		else
			p += varint__put(p, varint_value(f->type, e));
	}
	c->p = p;
	return 0;
}

static int pack_field(struct cursor *c, const ProtobufCMessage *m,
		      const ProtobufCFieldDescriptor *f, int depth)
{
	const char *member = (const char *)m + f->offset;
	const char *quantifier = (const char *)m + f->quantifier_offset;
	int pointer = f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING;

	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		break;
	case PROTOBUF_C_LABEL_OPTIONAL:
	case PROTOBUF_C_LABEL_NONE:
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			/* Only the member the case names; a pointer member also when set. */
			if (*(const uint32_t *)quantifier != f->id)
				return 0;
			if (pointer && (!*(const void *const *)member ||
					*(const void *const *)member == f->default_value))
				return 0;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
			if (pointer ? (!*(const void *const *)member ||
				       *(const void *const *)member == f->default_value)
				    : !*(const protobuf_c_boolean *)quantifier)
				return 0;
		} else if (zeroish(f, member)) {
			return 0;
		}
		break;
	case PROTOBUF_C_LABEL_REPEATED: {
		size_t count = *(const size_t *)quantifier, esz = element_size(f->type);
		const char *array = *(const char *const *)member;
		int err = 0;

		if (!count)
			return 0;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_PACKED)
			return pack_packed(c, f, count, array);
		for (size_t i = 0; i < count && !err; i++)
			err = pack_value(c, f, array + i * esz, depth);
		return err;
	}
	default:
		return -EINVAL;
	}
	return pack_value(c, f, member, depth);
}

/* A varint field with its tag (in place when there is room, else as pack_value does). */
static int put_varint_field(struct cursor *c, uint32_t id, uint64_t v)
{
	uint8_t tmp[SCALAR_ROOM], *p;

	if ((size_t)(c->end - c->p) >= SCALAR_ROOM) {
		p = put_tag(c->p, id, PROTOBUF_C_WIRE_TYPE_VARINT);
		c->p = p + varint__put(p, v);
		return 0;
	}
	p = put_tag(tmp, id, PROTOBUF_C_WIRE_TYPE_VARINT);
	p += varint__put(p, v);
	if ((size_t)(p - tmp) > (size_t)(c->end - c->p))
		return -ENOSPC;
	memcpy(c->p, tmp, (size_t)(p - tmp));
	c->p += p - tmp;
	return 0;
}

/*
 * The fields most records are made of, the shortest way: a proto3 field without presence
 * (left out at its zero value, as zeroish says) of an integer, bool, string or message
 * type. 1 when f is not one of them (pack_field then), else 0 or -errno. Most of a
 * record's fields are absent (the body's other cases, zero counters): they cost a load
 * and a test here, not the generic path's switches.
 */
static int pack_plain(struct cursor *c, const ProtobufCFieldDescriptor *f, const char *member, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_INT64: {
		uint64_t v = *(const uint64_t *)member;

		return v ? put_varint_field(c, f->id, v) : 0;
	}
	case PROTOBUF_C_TYPE_UINT32: {
		uint32_t v = *(const uint32_t *)member;

		return v ? put_varint_field(c, f->id, v) : 0;
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_ENUM: {
		int32_t v = *(const int32_t *)member;

		return v ? put_varint_field(c, f->id, (uint64_t)(int64_t)v) : 0;
	}
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)member ? put_varint_field(c, f->id, 1) : 0;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)member;

		return s && *s ? put_bytes(c, f->id, s, strlen(s)) : 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)member;

		return sub ? put_message(c, f->id, sub, depth) : 0;
	}
	default:
		return 1;
	}
}

static int pack_message(struct cursor *c, const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *f = d->fields, *end = f + d->n_fields;
	int err;

	if (depth > PBPACK_DEPTH_MAX)
		return -EINVAL;
	for (; f < end; f++) {
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			/* Only the member the case names (pack_field checks the rest). */
			if (*(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
				continue;
			err = pack_field(c, m, f, depth);
		} else if (f->label != PROTOBUF_C_LABEL_NONE ||
			   (err = pack_plain(c, f, (const char *)m + f->offset, depth)) == 1) {
			err = pack_field(c, m, f, depth);
		}
		if (err)
			return err;
	}
	/* Fields an unpack did not know, as they came (after the known ones). */
	for (unsigned i = 0; i < m->n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u = &m->unknown_fields[i];

		size_t room = (size_t)(c->end - c->p), head = varint_len((uint64_t)u->tag << 3);

		if (room < head || room - head < u->len)
			return -ENOSPC;
		c->p = put_tag(c->p, u->tag, u->wire_type);
		if (u->len)
			memcpy(c->p, u->data, u->len);
		c->p += u->len;
	}
	return 0;
}

ssize_t pbpack__pack(const ProtobufCMessage *m, uint8_t *out, size_t cap)
{
	struct cursor c = { .p = out, .end = out + cap };
	int err = pack_message(&c, m, 0);

	return err ? err : (ssize_t)(c.p - out);
}
