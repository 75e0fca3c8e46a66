/* Protobuf base-128 varints, for the length-delimited framing of batches and events. */
#ifndef FL_VARINT_H
#define FL_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX 10

/* Writes v at out (VARINT_MAX bytes of room). Returns bytes written. */
static inline size_t varint__put(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/* Reads a varint from in[0..len). Returns bytes consumed, 0 if incomplete, -1 if invalid. */
static inline int varint__get(const uint8_t *in, size_t len, uint64_t *v)
{
	uint64_t r = 0;

	for (size_t i = 0; i < len && i < VARINT_MAX; i++) {
		r |= (uint64_t)(in[i] & 0x7f) << (7 * i);
		if (!(in[i] & 0x80)) {
			if (i == VARINT_MAX - 1 && in[i] > 1)
				return -1; /* more than 64 bits */
			*v = r;
			return (int)i + 1;
		}
	}
	return len >= VARINT_MAX ? -1 : 0;
}

#endif
