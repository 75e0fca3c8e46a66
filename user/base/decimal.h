/*
 * A number's decimal digits written without printf, for formatters on the agent's
 * per-record path (snprintf's format parsing showed in its profile: exec ids and
 * workload keys are written for every process record).
 */
#ifndef FL_DECIMAL_H
#define FL_DECIMAL_H

#include <stdint.h>
#include <string.h>

#define DECIMAL_MAX 20 /* digits of UINT64_MAX */

/* Writes v's digits at p (no NUL); returns the end. Two digits a division: an exec id's
 * start time has 13 to 20. */
static inline char *decimal__put(char *p, uint64_t v)
{
	static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
				       "25262728293031323334353637383940414243444546474849"
				       "50515253545556575859606162636465666768697071727374"
				       "75767778798081828384858687888990919293949596979899";
	char tmp[DECIMAL_MAX], *q = tmp + DECIMAL_MAX;
	size_t n;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100);

		v /= 100;
		q -= 2;
		memcpy(q, &pairs[2 * d], 2);
	}
	if (v >= 10) {
		q -= 2;
		memcpy(q, &pairs[2 * v], 2);
	} else {
		*--q = (char)('0' + v);
	}
	n = (size_t)(tmp + DECIMAL_MAX - q);
	memcpy(p, q, n);
	return p + n;
}

#endif
