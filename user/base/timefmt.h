/*
 * Times for people and for scripts: RFC 3339 in UTC, the one printer and the one parser
 * every command uses. Printing: -ENOMEM; a time gmtime cannot represent prints as "?".
 */
#ifndef FL_TIMEFMT_H
#define FL_TIMEFMT_H

#include <stdint.h>

#include "base/json.h"

/* "2026-12-05T06:25:03.123456789Z" (decimals 9), "...03.123Z" (decimals 3) or "...03Z"
 * (decimals 0: whole seconds, for lists of candidates). */
int timefmt__rfc3339(struct json_buf *out, uint64_t unix_ns, int decimals);
/* "06:25:03.123" (UTC), for windows whose date is said elsewhere. */
int timefmt__clock(struct json_buf *out, uint64_t unix_ns);
/*
 * Parses TIME: RFC 3339 ("2024-05-01T10:00:00.5Z", "...+02:00"), a date alone
 * ("2024-05-01", midnight UTC) or unix seconds ("1714557600", "1714557600.25").
 * 0 and *ns (unix ns), or -EINVAL (also for times before 1970 or past 2554, and for a
 * time of day without an offset: local time is ambiguous).
 */
int timefmt__parse(const char *s, uint64_t *ns);

#endif
