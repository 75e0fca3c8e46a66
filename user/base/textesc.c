/* Terminal-safe escaping; see textesc.h. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/textesc.h"
#include "base/utf8.h"


/*
 * Characters that reorder or break lines on a terminal although they are printable in
 * Unicode's view: bidirectional controls ("Trojan Source", CVE-2021-42574) and the line
 * and paragraph separators.
 */
static int is_format_hazard(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static uint32_t decode(const unsigned char *p, size_t n)
{
	switch (n) {
	case 1: return p[0];
	case 2: return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	case 3: return (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	default:
		return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
		       (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
	}
}

/* The entity for a character HTML gives a meaning to, or NULL. Both quotes, so that the
 * text is safe in an attribute value whichever quote delimits it. */
static const char *html_entity(uint32_t cp)
{
	switch (cp) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

int textesc__append(struct json_buf *out, const char *s, size_t len, size_t max_chars,
		    unsigned int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	int quote = !!(flags & TEXTESC_QUOTE), html = !!(flags & TEXTESC_HTML);
	const char *q = html ? "&quot;" : "\"";
	size_t i = 0, chars = 0;
	int err = quote ? json_buf__append_str(out, q) : 0;

	while (i < len && !err) {
		/* A NUL is one byte here, whatever utf8__char_len makes of it. */
		size_t n = p[i] ? utf8__char_len(s + i, len - i) : 1;
		uint32_t cp = n ? decode(p + i, n) : 0;
		char esc[16];

		if (max_chars && chars == max_chars) {
			err = json_buf__append(out, "...", 3);
			break;
		}
		if (!n) {
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			err = json_buf__append(out, esc, 4);
			n = 1;
		} else if (cp == '\\' && !(flags & TEXTESC_KEEP_BACKSLASH)) {
			err = json_buf__append(out, "\\\\", 2);
		} else if (quote && cp == '"') {
			err = json_buf__append_str(out, html ? "\\&quot;" : "\\\"");
		} else if (html && html_entity(cp)) {
			err = json_buf__append_str(out, html_entity(cp));
		} else if (cp == '\n' || cp == '\t' || cp == '\r') {
			err = json_buf__append(out, cp == '\n' ? "\\n" : cp == '\t' ? "\\t" : "\\r", 2);
		} else if (cp < 0x20 || cp == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)cp);
			err = json_buf__append(out, esc, 4);
		} else if (is_format_hazard(cp)) {
			int k = snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);

			err = json_buf__append(out, esc, (size_t)k);
		} else {
			err = json_buf__append(out, s + i, n);
		}
		i += n;
		chars++;
	}
	if (!err && quote)
		err = json_buf__append_str(out, q);
	return err ? err : (int)(chars > INT_MAX ? INT_MAX : chars);
}

int textesc__print_flags(FILE *f, const char *prefix, const char *s, const char *suffix,
			  unsigned int flags)
{
	struct json_buf b = { 0 };
	int err = json_buf__append_str(&b, prefix);

	if (!err && textesc__append(&b, s, strlen(s), 0, flags) < 0)
		err = -ENOMEM;
	err = err ?: json_buf__append_str(&b, suffix);
	if (!err)
		fwrite(b.data, 1, b.len, f);
	json_buf__free(&b);
	return err;
}

int textesc__print(FILE *f, const char *prefix, const char *s, const char *suffix)
{
	return textesc__print_flags(f, prefix, s, suffix, 0);
}
