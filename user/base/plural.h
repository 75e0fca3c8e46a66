/* A count's noun: "1 segment file", "2 segment files". The one helper every message and
 * renderer uses, so that no output says "1 segment files". */
#ifndef FL_PLURAL_H
#define FL_PLURAL_H

#include <stdint.h>

static inline const char *plural__word(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

#endif
