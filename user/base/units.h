/*
 * Numbers people write in options: a count, a size with an optional K/M/G suffix
 * (powers of 1024), a duration with an optional s/m/h/d suffix (a bare number is
 * seconds). The one parser every option uses; a bad value is one line naming the
 * option, the value and what is expected.
 */
#ifndef FL_UNITS_H
#define FL_UNITS_H

#include <stdint.h>

enum units {
	UNITS_COUNT,   /* digits only */
	UNITS_BYTES,   /* K, M, G */
	UNITS_NS,      /* s, m, h, d; a bare number is seconds; *out in ns */
};

#define UNITS_ZERO_OK 1u /* 0 is allowed besides min..max (it means "off") */
#define UNITS_QUIET 2u   /* a bad value is not logged: the caller says what it is for */

/*
 * Parses s (digits first: no sign, no space), checks min <= value <= max (in the unit
 * of *out: bytes, ns), sets *out. 0, or -EINVAL with the error logged as
 * "OPT: invalid value 'S' (expected ...)" unless flags has UNITS_QUIET.
 */
int units__parse(const char *opt, const char *s, enum units u, uint64_t min, uint64_t max,
		 unsigned int flags, uint64_t *out);
/* The same into a uint32_t (max is capped at UINT32_MAX). */
int units__parse_u32(const char *opt, const char *s, enum units u, uint64_t min, uint64_t max,
		     unsigned int flags, uint32_t *out);

#endif
