/* proto3 canonical JSON for any protobuf-c message, driven by its descriptor, so
 * `firstlight read --json` needs no per-message code and new fields print automatically.
 * Output is one line, fields in descriptor (field number) order. */
#ifndef FIRSTLIGHT_JSON_H
#define FIRSTLIGHT_JSON_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

/* Growable output buffer owned by the caller. Zero-initialise it, reuse it across calls
 * (json_buf__reset) so it stops allocating once grown, and release it with
 * json_buf__free. data is NUL-terminated whenever data != NULL. */
struct json_buf {
	char *data;
	size_t len;
	size_t cap;
};

/* Appends the JSON object for msg to jb (no trailing newline). msg is only read.
 * Returns 0, -EINVAL for a NULL msg, or -ENOMEM; on error jb->len is left unchanged. */
int json__append_message(struct json_buf *jb, const ProtobufCMessage *msg);

/*
 * A field whose zero is a value, not an absence (an exit code, a uid, a count of drops):
 * printed even when zero, as protoc's "always print primitive fields" option does for
 * every field, wherever a message of its type is printed. when (may be NULL) narrows it
 * to messages where the zero means something (the exit code of a process not killed).
 * field is the proto name ("exit_code").
 */
struct json_zero_field {
	const ProtobufCMessageDescriptor *msg;
	const char *field;
	int (*when)(const ProtobufCMessage *msg);
};

struct json_opts {
	const struct json_zero_field *zeros;
	size_t n_zeros;
};

/* json__append_message with options (NULL: none). */
int json__append_message_opts(struct json_buf *jb, const ProtobufCMessage *msg,
			      const struct json_opts *o);
/* Appends s as a quoted, escaped JSON string (NULL as ""); bytes that are not UTF-8
 * become U+FFFD. 0 or -ENOMEM. */
int json__append_string(struct json_buf *jb, const char *s);
/* The same, losslessly: bytes that are not UTF-8 are first written as \xHH and
 * backslashes doubled, the convention of the records' escaped strings. 0 or -ENOMEM. */
int json__append_string_lossless(struct json_buf *jb, const char *s);
/* Appends n bytes / a C string / printf output (any length). 0 or -ENOMEM (-EINVAL for a
 * format error); on error jb->len is unchanged. The one set of appenders every text
 * renderer here uses. */
int json_buf__append(struct json_buf *jb, const char *s, size_t n);
int json_buf__append_str(struct json_buf *jb, const char *s);
int json_buf__appendf(struct json_buf *jb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ensures room for extra more bytes (plus the NUL). 0 or -ENOMEM. */
int json_buf__reserve(struct json_buf *jb, size_t extra);
/* len = 0, keeps memory. */
void json_buf__reset(struct json_buf *jb);
/* Frees data and zeroes jb; NULL-safe. */
void json_buf__free(struct json_buf *jb);

#endif
