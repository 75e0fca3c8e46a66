/* The Prometheus text format; see promtext.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/promtext.h"
#include "base/utf8.h"

void promtext__init(struct promtext *o, char *buf, size_t cap)
{
	*o = (struct promtext){ .buf = buf, .cap = cap };
}

static void put_bytes(struct promtext *o, const char *p, size_t n)
{
	if (o->overflow)
		return;
	/* Keep one byte for the NUL. */
	if (o->cap == 0 || n > o->cap - 1 - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void promtext__str(struct promtext *o, const char *s)
{
	put_bytes(o, s, strlen(s));
}

static void put_fmt(struct promtext *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(struct promtext *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Names and numbers go through here; one that does not fit would be a bug, not data. */
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		o->overflow = 1;
		return;
	}
	put_bytes(o, tmp, (size_t)n);
}

/*
 * A label value: the exposition format escapes only backslash, double quote and newline.
 * Label values must be UTF-8, and the node name comes from the environment: bytes that are
 * not are first escaped losslessly as \xHH (utf8__escape, as in the records), whose
 * backslash the exposition escaping then doubles.
 */
void promtext__label_value(struct promtext *o, const char *s, size_t max)
{
	char esc[4 * 256 + 1];
	size_t n = strnlen(s, max < 256 ? max : 256);
	size_t i;

	if (!utf8__valid(s, n)) {
		int r = utf8__escape(s, n, esc, sizeof(esc));

		if (r < 0) {
			o->overflow = 1;
			return;
		}
		s = esc;
		n = (size_t)r;
	}
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\':
			put_bytes(o, "\\\\", 2);
			break;
		case '"':
			put_bytes(o, "\\\"", 2);
			break;
		case '\n':
			put_bytes(o, "\\n", 2);
			break;
		default:
			put_bytes(o, s + i, 1);
		}
	}
}

/*
 * A sample value as Go's strconv.ParseFloat reads it: the shortest %g form that reads back
 * as the same double (0.25, not 0.25000000000000000), and NaN/+Inf/-Inf spelled the
 * Prometheus way. Assumes the C numeric locale, which the agent never changes.
 */
static void put_double(struct promtext *o, double v)
{
	char tmp[40];
	int prec;

	if (isnan(v)) {
		promtext__str(o, "NaN");
		return;
	}
	if (isinf(v)) {
		promtext__str(o, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	promtext__str(o, tmp);
}

void promtext__header(struct promtext *o, const char *name, const char *type, const char *help)
{
	put_fmt(o, "# HELP %s ", name);
	promtext__str(o, help);
	put_fmt(o, "\n# TYPE %s %s\n", name, type);
}

void promtext__u64(struct promtext *o, const char *name, const char *type, const char *help,
		    uint64_t v)
{
	promtext__header(o, name, type, help);
	put_fmt(o, "%s %" PRIu64 "\n", name, v);
}

void promtext__gauge(struct promtext *o, const char *name, const char *help, double v)
{
	promtext__header(o, name, "gauge", help);
	put_fmt(o, "%s ", name);
	put_double(o, v);
	promtext__str(o, "\n");
}

void promtext__labelled(struct promtext *o, const char *name, const char *label, const char *value,
			 uint64_t v)
{
	if (!label) {
		put_fmt(o, "%s %" PRIu64 "\n", name, v);
		return;
	}
	put_fmt(o, "%s{%s=\"", name, label);
	promtext__label_value(o, value, 256);
	put_fmt(o, "\"} %" PRIu64 "\n", v);
}

void promtext__labelled_double(struct promtext *o, const char *name, const char *label, const char *value,
			       double v)
{
	if (label) {
		put_fmt(o, "%s{%s=\"", name, label);
		promtext__label_value(o, value, 256);
		promtext__str(o, "\"} ");
	} else {
		put_fmt(o, "%s ", name);
	}
	put_double(o, v);
	promtext__str(o, "\n");
}

int promtext__end(struct promtext *o)
{
	if (o->cap > 0)
		o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
	if (o->overflow || o->len > INT32_MAX)
		return -ENOSPC;
	return (int)o->len;
}
