/* Descriptor-driven proto3 canonical JSON printer for protobuf-c messages. protobuf-c
 * 1.4 has no JSON support of its own; walking ProtobufCMessageDescriptor keeps every
 * message type (present and future) printable without generated per-type code. */
#include "base/json.h"
#include "base/utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_BUF_MIN 256

int json_buf__reserve(struct json_buf *jb, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - jb->len - 1)
		return -ENOMEM;
	need = jb->len + extra + 1; /* +1: data stays a C string for the caller */
	if (need <= jb->cap)
		return 0;
	cap = jb->cap ? jb->cap : JSON_BUF_MIN;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(jb->data, cap);
	if (!p)
		return -ENOMEM;
	jb->data = p;
	jb->cap = cap;
	return 0;
}

void json_buf__reset(struct json_buf *jb)
{
	jb->len = 0;
	if (jb->data)
		jb->data[0] = '\0';
}

void json_buf__free(struct json_buf *jb)
{
	if (!jb)
		return;
	free(jb->data);
	jb->data = NULL;
	jb->len = jb->cap = 0;
}

static int put(struct json_buf *jb, const char *s, size_t n)
{
	if (json_buf__reserve(jb, n))
		return -ENOMEM;
	memcpy(jb->data + jb->len, s, n);
	jb->len += n;
	jb->data[jb->len] = '\0';
	return 0;
}

static int puts_(struct json_buf *jb, const char *s)
{
	return put(jb, s, strlen(s));
}

/* RFC 8259 string. Valid UTF-8 >= 0x20 other than '"' and '\\' goes through untouched
 * (copying runs keeps long paths cheap). A string field of a hostile file can hold bytes
 * that are not UTF-8 (protobuf-c does not check): each becomes U+FFFD, so the output is
 * always valid JSON; `firstlight read` of our own records never meets one (see utf8.h). */
static int put_string(struct json_buf *jb, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strlen(s), run = 0, i = 0;
	unsigned char c;
	char esc[7];

	if (put(jb, "\"", 1))
		return -ENOMEM;
	while (i < len) {
		size_t n;

		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		if (c >= 0x80 && (n = utf8__char_len(s + i, len - i)) > 0) {
			i += n;
			run += n;
			continue;
		}
		if (put(jb, s + i - run, run))
			return -ENOMEM;
		run = 0;
		i++;
		if (c >= 0x80) {
			if (puts_(jb, "\\ufffd"))
				return -ENOMEM;
			continue;
		}
		esc[0] = '\\';
		esc[2] = '\0';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\t': esc[1] = 't'; break;
		case '\r': esc[1] = 'r'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			esc[6] = '\0';
		}
		if (puts_(jb, esc))
			return -ENOMEM;
	}
	if (put(jb, s + i - run, run))
		return -ENOMEM;
	return put(jb, "\"", 1);
}

static int put_base64(struct json_buf *jb, const uint8_t *d, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	uint32_t v;
	char *o;

	if (n > (SIZE_MAX - 2) / 4 * 3 || json_buf__reserve(jb, (n + 2) / 3 * 4 + 2))
		return -ENOMEM;
	o = jb->data + jb->len;
	*o++ = '"';
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)d[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o++ = '"';
	*o = '\0';
	jb->len = (size_t)(o - jb->data);
	return 0;
}

/* Shortest %g precision that reads back to the same value, so 0.1 prints as 0.1 and not
 * 0.10000000000000001. Non-finite values are strings in the proto3 mapping. */
static int put_real(struct json_buf *jb, double v, int is_float)
{
	/* Decimals of up to 6 (float) / 15 (double) digits survive a trip through binary, so
	 * a shorter round-tripping form prints identically there once %g drops trailing
	 * zeros: starting at 6/15 still finds the shortest. 9/17 digits always round-trip. */
	unsigned char prec = is_float ? 6 : 15, max = is_float ? 9 : 17;
	char tmp[40];

	if (isnan(v))
		return puts_(jb, "\"NaN\"");
	if (isinf(v))
		return puts_(jb, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	for (;; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec & 31, v);
		if (prec >= max ||
		    (is_float ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v))
			break;
	}
	return puts_(jb, tmp);
}

static int put_message(struct json_buf *jb, const ProtobufCMessage *msg,
		       const struct json_opts *o);

/* One value of field f stored at member (a scalar slot or one repeated element). */
static int put_value(struct json_buf *jb, const ProtobufCFieldDescriptor *f,
		     const void *member, const struct json_opts *o)
{
	const ProtobufCEnumValue *ev;
	const ProtobufCBinaryData *bd;
	const ProtobufCMessage *sub;
	const char *s;
	char tmp[32];

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		snprintf(tmp, sizeof(tmp), "%" PRId32, *(const int32_t *)member);
		return puts_(jb, tmp);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		snprintf(tmp, sizeof(tmp), "%" PRIu32, *(const uint32_t *)member);
		return puts_(jb, tmp);
	/* 64-bit integers are strings: JSON readers commonly parse numbers as doubles,
	 * which silently lose precision past 2^53. */
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(tmp, sizeof(tmp), "\"%" PRId64 "\"", *(const int64_t *)member);
		return puts_(jb, tmp);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(tmp, sizeof(tmp), "\"%" PRIu64 "\"", *(const uint64_t *)member);
		return puts_(jb, tmp);
	case PROTOBUF_C_TYPE_FLOAT:
		return put_real(jb, *(const float *)member, 1);
	case PROTOBUF_C_TYPE_DOUBLE:
		return put_real(jb, *(const double *)member, 0);
	case PROTOBUF_C_TYPE_BOOL:
		return puts_(jb, *(const protobuf_c_boolean *)member ? "true" : "false");
	case PROTOBUF_C_TYPE_ENUM:
		ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)member);
		if (ev)
			return put_string(jb, ev->name);
		snprintf(tmp, sizeof(tmp), "%d", *(const int *)member);
		return puts_(jb, tmp);
	case PROTOBUF_C_TYPE_STRING:
		s = *(const char *const *)member;
		return put_string(jb, s ? s : "");
	case PROTOBUF_C_TYPE_BYTES:
		bd = member;
		return put_base64(jb, bd->data, bd->len);
	case PROTOBUF_C_TYPE_MESSAGE:
		/* NULL only reaches here for a set oneof or a repeated slot: still "set". */
		sub = *(const ProtobufCMessage *const *)member;
		return sub ? put_message(jb, sub, o) : puts_(jb, "{}");
	}
	return puts_(jb, "null");
}

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return sizeof(uint32_t); /* the remaining 32-bit scalars and float */
	}
}

/* proto3 implicit presence: a field equal to its type's zero value is not printed (unless
 * the caller declared that zero a value). Mirrors protobuf-c's own packer. */
static int is_zero(const ProtobufCFieldDescriptor *f, const void *member)
{
	const char *s;

	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)member == 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)member == 0;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)member)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(const void *const *)member == NULL;
	case PROTOBUF_C_TYPE_STRING:
		s = *(const char *const *)member;
		return s == NULL || s[0] == '\0';
	default:
		if (elem_size(f->type) == sizeof(uint64_t))
			return *(const uint64_t *)member == 0;
		return *(const uint32_t *)member == 0; /* 32-bit ints, bool, enum */
	}
}

/* Is f of msg one whose zero the caller declared a value (json_opts.zeros)? */
static int zero_is_value(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
			 const struct json_opts *o)
{
	for (size_t i = 0; o && i < o->n_zeros; i++) {
		const struct json_zero_field *z = &o->zeros[i];

		if (z->msg == msg->descriptor && !strcmp(z->field, f->name))
			return !z->when || z->when(msg);
	}
	return 0;
}

static int is_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
		      const struct json_opts *o)
{
	const char *base = (const char *)msg;
	const void *member = base + f->offset;
	const void *ptr;

	/* A set oneof member is printed even when zero: which member is set is data. */
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return 1;
	case PROTOBUF_C_LABEL_REPEATED:
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	case PROTOBUF_C_LABEL_OPTIONAL: /* proto2, or proto3 `optional` */
		if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
			ptr = *(const void *const *)member;
			return ptr != NULL && ptr != f->default_value;
		}
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	default:
		return !is_zero(f, member) || zero_is_value(msg, f, o);
	}
}

/* lowerCamelCase as protoc's ToJsonName computes it: drop '_' and upcase what follows. */
static int put_name(struct json_buf *jb, const char *name)
{
	int up = 0;
	char *o;

	if (json_buf__reserve(jb, strlen(name) + 3))
		return -ENOMEM;
	o = jb->data + jb->len;
	*o++ = '"';
	for (; *name; name++) {
		if (*name == '_')
			up = 1;
		else if (up && *name >= 'a' && *name <= 'z')
			*o++ = (char)(*name - 'a' + 'A'), up = 0;
		else
			*o++ = *name, up = 0;
	}
	*o++ = '"';
	*o++ = ':';
	*o = '\0';
	jb->len = (size_t)(o - jb->data);
	return 0;
}

static int put_field(struct json_buf *jb, const ProtobufCMessage *msg,
		     const ProtobufCFieldDescriptor *f, const struct json_opts *o)
{
	const char *base = (const char *)msg;
	const char *arr;
	size_t i, n, sz;

	if (put_name(jb, f->name))
		return -ENOMEM;
	if (f->label != PROTOBUF_C_LABEL_REPEATED)
		return put_value(jb, f, base + f->offset, o);
	/* Map fields are repeated entry messages in protobuf-c, so they print as arrays of
	 * {"key":..,"value":..} objects rather than JSON objects; the schema has none. */
	n = *(const size_t *)(base + f->quantifier_offset);
	arr = *(const char *const *)(base + f->offset);
	sz = elem_size(f->type);
	if (put(jb, "[", 1))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if ((i && put(jb, ",", 1)) || put_value(jb, f, arr + i * sz, o))
			return -ENOMEM;
	}
	return put(jb, "]", 1);
}

static int put_message(struct json_buf *jb, const ProtobufCMessage *msg,
		       const struct json_opts *o)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	unsigned i;
	int first = 1;

	if (put(jb, "{", 1))
		return -ENOMEM;
	/* fields[] is sorted by field number, which protoc's printers also use. */
	for (i = 0; i < d->n_fields; i++) {
		if (!is_present(msg, &d->fields[i], o))
			continue;
		if ((!first && put(jb, ",", 1)) || put_field(jb, msg, &d->fields[i], o))
			return -ENOMEM;
		first = 0;
	}
	return put(jb, "}", 1);
}

int json__append_message(struct json_buf *jb, const ProtobufCMessage *msg)
{
	return json__append_message_opts(jb, msg, NULL);
}

int json__append_message_opts(struct json_buf *jb, const ProtobufCMessage *msg,
			      const struct json_opts *o)
{
	size_t start = jb->len;

	if (!msg || !msg->descriptor)
		return -EINVAL;
	if (put_message(jb, msg, o)) {
		/* Drop the partial object so the buffer never holds half a record. */
		jb->len = start;
		if (jb->data)
			jb->data[start] = '\0';
		return -ENOMEM;
	}
	return 0;
}

int json__append_string(struct json_buf *jb, const char *s)
{
	size_t len = jb->len;
	int err = put_string(jb, s ? s : "");

	if (err)
		jb->len = len;
	return err;
}

int json_buf__append(struct json_buf *jb, const char *s, size_t n)
{
	return put(jb, s, n);
}

int json_buf__append_str(struct json_buf *jb, const char *s)
{
	return put(jb, s, strlen(s));
}

int json_buf__appendf(struct json_buf *jb, const char *fmt, ...)
{
	va_list ap, again;
	int n;

	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || json_buf__reserve(jb, (size_t)n)) {
		va_end(again);
		return n < 0 ? -EINVAL : -ENOMEM;
	}
	vsnprintf(jb->data + jb->len, (size_t)n + 1, fmt, again);
	va_end(again);
	jb->len += (size_t)n;
	return 0;
}

/* A JSON string that is valid UTF-8 whatever the input: bytes that are not UTF-8 are
 * first escaped as \xHH (and backslashes doubled), the convention of proto strings. */
int json__append_string_lossless(struct json_buf *b, const char *s)
{
	size_t len = strlen(s);
	char *esc;
	int err;

	if (utf8__valid(s, len))
		return json__append_string(b, s);
	if (len > (SIZE_MAX - 1) / 4 || !(esc = malloc(len * 4 + 1)))
		return -ENOMEM;
	err = utf8__escape(s, len, esc, len * 4 + 1) < 0 ? -ENOMEM : json__append_string(b, esc);
	free(esc);
	return err;
}
