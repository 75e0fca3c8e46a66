/* RFC 3339 times; see timefmt.h. */
#include <inttypes.h>
#include <time.h>

#include "base/timefmt.h"

int timefmt__rfc3339(struct json_buf *out, uint64_t unix_ns, int decimals)
{
	time_t t = (time_t)(unix_ns / 1000000000u);
	uint64_t frac = unix_ns % 1000000000u;
	struct tm tm;
	char s[32];

	if (!gmtime_r(&t, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm))
		return json_buf__append_str(out, "?");
	if (decimals == 3)
		return json_buf__appendf(out, "%s.%03" PRIu64 "Z", s, frac / 1000000u);
	return json_buf__appendf(out, "%s.%09" PRIu64 "Z", s, frac);
}

int timefmt__clock(struct json_buf *out, uint64_t unix_ns)
{
	time_t t = (time_t)(unix_ns / 1000000000u);
	struct tm tm;
	char s[16];

	if (!gmtime_r(&t, &tm) || !strftime(s, sizeof(s), "%H:%M:%S", &tm))
		return json_buf__append_str(out, "?");
	return json_buf__appendf(out, "%s.%03" PRIu64, s, unix_ns / 1000000u % 1000u);
}
