/* RFC 3339 times; see timefmt.h. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "base/timefmt.h"

#define MAX_SECONDS 18446744073ull /* the last whole second a uint64 of ns holds (2554) */

int timefmt__rfc3339(struct json_buf *out, uint64_t unix_ns, int decimals)
{
	time_t t = (time_t)(unix_ns / 1000000000u);
	uint64_t frac = unix_ns % 1000000000u;
	struct tm tm;
	char s[32];

	if (!gmtime_r(&t, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm))
		return json_buf__append_str(out, "?");
	if (decimals == 0)
		return json_buf__appendf(out, "%sZ", s);
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

/* ---- parsing ---------------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* Exactly n digits at *p, advancing it. -1 if they are not there. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* 1 to 9 digits of a fraction of a second at *p, as ns. -1 if none or too many. */
static int64_t fraction(const char **p)
{
	int64_t ns = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		if (++n > 9)
			return -1;
		ns = ns * 10 + (**p - '0');
		(*p)++;
	}
	if (!n)
		return -1;
	for (; n < 9; n++)
		ns *= 10;
	return ns;
}

static int parse_unix(const char *s, uint64_t *ns)
{
	const char *p = s;
	uint64_t sec = 0;
	int64_t frac = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (sec > MAX_SECONDS / 10)
			return -EINVAL;
		sec = sec * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if ((frac = fraction(&p)) < 0)
			return -EINVAL;
	}
	if (*p || sec >= MAX_SECONDS)
		return -EINVAL;
	*ns = sec * 1000000000ull + (uint64_t)frac;
	return 0;
}

int timefmt__parse(const char *s, uint64_t *ns)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	int64_t frac = 0, t;

	if (strlen(s) < 10 || s[4] != '-')
		return parse_unix(s, ns);
	if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 0)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -EINVAL;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -EINVAL;
		p++;
		if ((h = digits(&p, 2)) < 0 || *p++ != ':' || (mi = digits(&p, 2)) < 0 ||
		    *p++ != ':' || (sec = digits(&p, 2)) < 0)
			return -EINVAL;
		/* 60: a leap second, which RFC 3339 allows; it reads as the next second. */
		if (h > 23 || mi > 59 || sec > 60)
			return -EINVAL;
		if (*p == '.') {
			p++;
			if ((frac = fraction(&p)) < 0)
				return -EINVAL;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;

			if ((oh = digits(&p, 2)) < 0 || *p++ != ':' || (om = digits(&p, 2)) < 0 ||
			    oh > 23 || om > 59)
				return -EINVAL;
			off = sign * (oh * 3600 + om * 60);
		} else {
			return -EINVAL; /* RFC 3339 needs the offset: local time is ambiguous */
		}
		if (*p)
			return -EINVAL;
	}
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - off;
	if (t < 0 || (uint64_t)t >= MAX_SECONDS)
		return -EINVAL;
	*ns = (uint64_t)t * 1000000000ull + (uint64_t)frac;
	return 0;
}
