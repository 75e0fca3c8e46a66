/* The readers' HTML pages: frame, escaping, records as tables; see htmlfmt.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fdio.h"
#include "base/textesc.h"
#include "base/timefmt.h"
#include "readers/htmlfmt.h"

/* Nothing may load or run: no script, no network, no frame, no form; styles only inline,
 * images only as data (there are none today). */
#define POLICY "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " \
	       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* Fonts the machine has: a page must not fetch one. */
static const char base_css[] =
	"body{font-family:sans-serif;font-size:14px;margin:1em;color:#1d1d1f;background:#fff}"
	"h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.1em;margin:1em 0 .3em}"
	"pre,code,.mono{font-family:monospace;font-size:12px}"
	"table{border-collapse:collapse;margin:.3em 0}"
	"th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
	"th{background:#f2f2f2}"
	"table.fields th{font-family:monospace;font-weight:normal;white-space:nowrap}"
	"table.fields td{font-family:monospace;word-break:break-all}"
	".rec{display:none;border:2px solid #447;background:#fafaff;padding:.5em;margin:.5em 0}"
	".rec:target{display:block}"
	".rec h3{margin:0 0 .3em;font-size:1em}"
	".muted{color:#666}";

int htmlfmt__text(struct json_buf *out, const char *s, size_t max_chars)
{
	if (!s)
		return 0;
	return textesc__append(out, s, strlen(s), max_chars, TEXTESC_HTML) < 0 ? -ENOMEM : 0;
}

int htmlfmt__plain(struct json_buf *out, const char *s, size_t len)
{
	size_t from = 0;
	int err = 0;

	for (size_t i = 0; i < len && !err; i++) {
		const char *ent = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" :
				  s[i] == '"' ? "&quot;" : s[i] == '\'' ? "&#39;" : NULL;

		if (!ent)
			continue;
		err = json_buf__append(out, s + from, i - from) ?: json_buf__append_str(out, ent);
		from = i + 1;
	}
	return err ?: json_buf__append(out, s + from, len - from);
}

int htmlfmt__f(struct json_buf *out, const char *fmt, ...)
{
	char small[256], *big = NULL;
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return json_buf__append(out, small, (size_t)n);
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	err = json_buf__append(out, big, (size_t)n);
	free(big);
	return err;
}

int htmlfmt__begin(struct json_buf *out, const char *title, const char *css)
{
	return json_buf__append_str(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
				    "<meta http-equiv=\"Content-Security-Policy\" content=\"" POLICY "\">\n"
				    "<meta name=\"referrer\" content=\"no-referrer\">\n<title>") ?:
	       htmlfmt__text(out, title, 200) ?: json_buf__append_str(out, "</title>\n<style>") ?:
	       json_buf__append_str(out, base_css) ?: json_buf__append_str(out, css ? css : "") ?:
	       json_buf__append_str(out, "</style>\n</head><body>\n");
}

int htmlfmt__end(struct json_buf *out)
{
	return json_buf__append_str(out, "</body></html>\n");
}

int htmlfmt__save(const char *path, const struct json_buf *page)
{
	const char *data = page->data ? page->data : "";
	char *tmp = NULL;
	int fd, err;

	if (!strcmp(path, "-")) {
		err = fdio__write_all(STDOUT_FILENO, data, page->len);
		return err;
	}
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = fdio__write_all(fd, data, page->len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
out:
	free(tmp);
	return err;
}

int htmlfmt__time(struct json_buf *out, uint64_t unix_ns)
{
	return unix_ns ? timefmt__rfc3339(out, unix_ns, 9) : json_buf__append_str(out, "-");
}

/* ---- time axes ------------------------------------------------------------------------- */

uint64_t htmlfmt__tick_step(uint64_t span, uint64_t max_ticks)
{
	static const uint64_t clock_steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
						3600, 7200, 10800, 21600, 43200, 86400 };
	uint64_t step;

	for (step = 1; step < 1000000000u; step *= 10) {
		if (span / step <= max_ticks)
			return step;
		if (span / (2 * step) <= max_ticks)
			return 2 * step;
		if (span / (5 * step) <= max_ticks)
			return 5 * step;
	}
	for (size_t i = 0; i < sizeof(clock_steps) / sizeof(clock_steps[0]); i++)
		if (span / (clock_steps[i] * 1000000000u) <= max_ticks)
			return clock_steps[i] * 1000000000u;
	for (step = 86400ull * 1000000000u; span / step > max_ticks; step *= 2)
		;
	return step;
}

int htmlfmt__tick(struct json_buf *out, uint64_t ns)
{
	uint64_t s = ns / 1000000000u;
	char buf[48];
	int n;

	if (!ns)
		return json_buf__append_str(out, "0");
	if (ns % 1000000000u == 0 && s >= 60) {
		n = 0;
		if (s >= 86400)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%" PRIu64 "d", s / 86400);
		if (s % 86400 >= 3600)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%" PRIu64 "h", s % 86400 / 3600);
		if (s % 3600 >= 60)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%" PRIu64 "m", s % 3600 / 60);
		if (s % 60)
			snprintf(buf + n, sizeof(buf) - (size_t)n, "%" PRIu64 "s", s % 60);
		return json_buf__appendf(out, "+%s", buf);
	}
	/* Up to three decimals of the unit, trailing zeros dropped. */
	if (ns >= 1000000000u)
		n = snprintf(buf, sizeof(buf), "%.3f", (double)ns / 1e9);
	else if (ns >= 1000000u)
		n = snprintf(buf, sizeof(buf), "%.3f", (double)ns / 1e6);
	else if (ns >= 1000u)
		n = snprintf(buf, sizeof(buf), "%.3f", (double)ns / 1e3);
	else
		n = snprintf(buf, sizeof(buf), "%" PRIu64, ns);
	if (ns >= 1000u) {
		while (n > 0 && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	return json_buf__appendf(out, "+%s%s", buf, ns >= 1000000000u ? "s" : ns >= 1000000u ? "ms" :
				 ns >= 1000u ? "us" : "ns");
}

/* ---- a record as a table --------------------------------------------------------------- */

/* Records are protobuf messages a few levels deep; JSON deeper than this is not ours. */
#define FIELD_DEPTH_MAX 16

static int row(struct json_buf *out, const struct json_buf *path, const json_t *v)
{
	int err = json_buf__append_str(out, "<tr><th>") ?:
		  htmlfmt__text(out, path->data ? path->data : "", 0) ?: json_buf__append_str(out, "</th><td>");

	if (err)
		return err;
	switch (json_typeof(v)) {
	case JSON_STRING:
		/* Strings may hold NULs (JSON_ALLOW_NUL): textesc shows them as \x00. */
		err = textesc__append(out, json_string_value(v), json_string_length(v), 0, TEXTESC_HTML) < 0 ?
		      -ENOMEM : 0;
		break;
	case JSON_INTEGER:
		err = htmlfmt__f(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		err = htmlfmt__f(out, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		err = json_buf__append_str(out, "true");
		break;
	case JSON_FALSE:
		err = json_buf__append_str(out, "false");
		break;
	case JSON_ARRAY:
		err = json_buf__append_str(out, "[]"); /* only empty ones get here */
		break;
	case JSON_OBJECT:
		err = json_buf__append_str(out, "{}");
		break;
	default:
		err = json_buf__append_str(out, "null");
	}
	return err ?: json_buf__append_str(out, "</td></tr>\n");
}

/* One row per value under v, path the name so far. */
static int fields(struct json_buf *out, struct json_buf *path, const json_t *v, int depth)
{
	size_t len = path->len;
	int err = 0;

	if (depth > FIELD_DEPTH_MAX)
		return row(out, path, json_null());
	if (json_is_object(v) && json_object_size(v)) {
		const char *key;
		json_t *child;

		json_object_foreach((json_t *)v, key, child) {
			path->len = len;
			err = (len ? json_buf__append_str(path, ".") : 0) ?: json_buf__append_str(path, key) ?:
			      fields(out, path, child, depth + 1);
			if (err)
				break;
		}
	} else if (json_is_array(v) && json_array_size(v)) {
		for (size_t i = 0; i < json_array_size(v) && !err; i++) {
			path->len = len;
			err = json_buf__appendf(path, "[%zu]", i) ?: fields(out, path, json_array_get(v, i), depth + 1);
		}
	} else {
		err = row(out, path, v);
	}
	path->len = len;
	if (path->data)
		path->data[len] = '\0';
	return err;
}

int htmlfmt__record(struct json_buf *out, const char *json)
{
	struct json_buf path = {};
	json_error_t jerr;
	json_t *root;
	int err;

	if (!json)
		return json_buf__append_str(out, "<p class=\"muted\">no record</p>\n");
	/* Key order as written: the descriptor's field order, which is the schema's. */
	root = json_loads(json, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
	if (!root)
		return json_buf__append_str(out, "<pre>") ?: htmlfmt__text(out, json, 0) ?:
		       json_buf__append_str(out, "</pre>\n");
	err = json_buf__append_str(out, "<table class=\"fields\">\n") ?: fields(out, &path, root, 0) ?:
	      json_buf__append_str(out, "</table>\n");
	json_decref(root);
	json_buf__free(&path);
	return err;
}
