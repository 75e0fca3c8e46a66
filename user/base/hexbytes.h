/*
 * Bytes as lowercase hex, by table: hashes and keys are named this way on the shipping
 * and collecting paths, where 32 snprintf calls per hash showed in the profile.
 */
#ifndef FL_HEXBYTES_H
#define FL_HEXBYTES_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2 * n hex digits and a NUL at out (2 * n + 1 bytes); returns out. */
static inline char *hexbytes__put(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = 0;
	return out;
}

#endif
