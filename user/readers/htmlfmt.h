/*
 * What every HTML page of the readers shares (`tree --html`, `report --html`): one
 * self-contained page (no network, no script, no external font or style), text escaped
 * for it, and a record shown field by field.
 *
 * Safety: pages carry no script at all, and a Content-Security-Policy that forbids any
 * (default-src 'none'), so even a mistake in escaping could not run one. Untrusted text
 * goes through htmlfmt__text (textesc.h with TEXTESC_HTML: markup characters become
 * entities, and control, bidi and non-UTF-8 characters show as \n \uXXXX \xHH, so that
 * "</script>" or a right-to-left override reads as what it is). Interaction is CSS alone:
 * a mark links to "#id", and the element with that id shows while it is the target.
 * Errors: 0 or -ENOMEM (out then holds a partial page).
 */
#ifndef FL_HTMLFMT_H
#define FL_HTMLFMT_H

#include <stddef.h>
#include <stdint.h>

#include "base/json.h"

/* <!doctype html> up to <body>: charset, the policy, title (untrusted: escaped), the
 * shared style sheet and css (the page's own, a constant of the caller). */
int htmlfmt__begin(struct json_buf *out, const char *title, const char *css);
/* Closes what htmlfmt__begin opened. */
int htmlfmt__end(struct json_buf *out);

/* Untrusted text, for element text or a quoted attribute value; max_chars as textesc
 * (0: all). */
int htmlfmt__text(struct json_buf *out, const char *s, size_t max_chars);
/* Text this program made safe for a terminal already (treefmt's lines): only the HTML
 * characters become entities, its own escapes stay as they are. */
int htmlfmt__plain(struct json_buf *out, const char *s, size_t len);
/* printf into the page, for numbers and constant words only: never a record's string. */
int htmlfmt__f(struct json_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A record given as canonical JSON (base/json.h) as a table of its fields, one row per
 * value: "exec.process.args[1]" and the value, escaped. Text that does not parse as JSON
 * is shown as it is, escaped. */
int htmlfmt__record(struct json_buf *out, const char *json);

/* Writes a finished page to path ("-": stdout): into a new file beside it, then renamed
 * over it, so that a reader never sees half a page and a failure leaves no file. The
 * file is 0600: pages hold argv and the like. 0 or -errno. */
int htmlfmt__save(const char *path, const struct json_buf *page);

/* Time axes: the step between ticks for a span (ns) so that at most max_ticks fit: 1-2-5
 * below a second, then the clock's own steps (15 s, 30 min, 6 h...) up to days. */
uint64_t htmlfmt__tick_step(uint64_t span, uint64_t max_ticks);
/* A tick's label, an offset as short as it allows: "0", "+250us", "+12.5ms", "+1.5s",
 * "+2m30s", "+1h", "+1d12h". */
int htmlfmt__tick(struct json_buf *out, uint64_t ns);

/* A time as RFC 3339 with nanoseconds (base/timefmt.h), "-" for 0. */
int htmlfmt__time(struct json_buf *out, uint64_t unix_ns);

#endif
