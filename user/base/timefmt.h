/*
 * Times for people and for scripts: RFC 3339 in UTC, the one printer every command uses.
 * Errors: -ENOMEM; a time gmtime cannot represent prints as "?" (never fails for it).
 */
#ifndef FL_TIMEFMT_H
#define FL_TIMEFMT_H

#include <stdint.h>

#include "base/json.h"

/* "2026-12-05T06:25:03.123456789Z" (decimals 9) or "...03.123Z" (decimals 3). */
int timefmt__rfc3339(struct json_buf *out, uint64_t unix_ns, int decimals);
/* "06:25:03.123" (UTC), for windows whose date is said elsewhere. */
int timefmt__clock(struct json_buf *out, uint64_t unix_ns);

#endif
