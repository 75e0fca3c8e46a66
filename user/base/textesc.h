/*
 * Untrusted strings (argv, paths, names a workload chose) made safe for a terminal:
 * control characters (C0, DEL, C1), bidirectional and line separator characters and
 * bytes that are not UTF-8 become \n, \t, \r, \xHH or \uXXXX and a backslash \\, so
 * that nothing printed can move the cursor, reorder text or fake a line of output.
 * With TEXTESC_HTML the same text is also safe inside an HTML page (element text or a
 * quoted attribute value): the characters HTML gives a meaning to become entities, so a
 * page shows "</script>" or a bidi override as the characters a workload wrote.
 * Errors: -ENOMEM.
 */
#ifndef FL_TEXTESC_H
#define FL_TEXTESC_H

#include <stddef.h>
#include <stdio.h>

#include "base/json.h"

#define TEXTESC_QUOTE 1u /* also escape '"' as \" and wrap the result in quotes */
#define TEXTESC_HTML 2u  /* also write & < > " ' as &amp; &lt; &gt; &quot; &#39; */
/* Leave backslashes as they are: for a line that may hold text escaped already (a log
 * message naming an input its caller escaped), safe but no longer lossless. */
#define TEXTESC_KEEP_BACKSLASH 4u

/*
 * Appends s[0..len) escaped (embedded NULs show as \x00); at most max_chars characters
 * of the input, then "..." (max_chars 0: no limit). Returns the characters of the input
 * shown (>= 0), or -ENOMEM.
 */
int textesc__append(struct json_buf *out, const char *s, size_t len, size_t max_chars,
		    unsigned int flags);

/*
 * Prints prefix and suffix as they are (the caller's own text) and s escaped between
 * them, to f: a reader's line that carries strings from its input. 0 or -ENOMEM (then
 * nothing is printed).
 */
int textesc__print(FILE *f, const char *prefix, const char *s, const char *suffix);
/* The same with flags (TEXTESC_*). */
int textesc__print_flags(FILE *f, const char *prefix, const char *s, const char *suffix,
			  unsigned int flags);

#endif
