/*
 * A number's decimal digits written without printf, for formatters on the agent's
 * per-record path (snprintf's format parsing showed in its profile: exec ids and
 * workload keys are written for every process record).
 */
#ifndef FL_DECIMAL_H
#define FL_DECIMAL_H

#include <stdint.h>

#define DECIMAL_MAX 20 /* digits of UINT64_MAX */

/* Writes v's digits at p (no NUL); returns the end. */
static inline char *decimal__put(char *p, uint64_t v)
{
	char tmp[DECIMAL_MAX];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

#endif
