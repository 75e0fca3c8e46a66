/*
 * `firstlight gaps`: every gap in the records, recorded by the agent or found by the
 * reader (gapscan.h), as a table or JSON lines; --fail-on for audits and pipelines.
 * The renderers are exported for the unit tests. Errors: 0 or -errno.
 */
#ifndef FL_CMD_GAPS_H
#define FL_CMD_GAPS_H

#include <stddef.h>
#include <stdint.h>

#include "readers/gapscan.h"
#include "base/json.h"

/* Exit statuses besides 0, 1 (an input not read in full) and 2 (usage). */
#define GAPS_EXIT_FOUND 3 /* a gap of a --fail-on kind is listed */

int cmd_gaps__main(int argc, char **argv);

/*
 * Parses TIME: RFC 3339 ("2024-05-01T10:00:00.5Z", "...+02:00"), a date alone
 * ("2024-05-01", midnight UTC) or unix seconds ("1714557600", "1714557600.25").
 * 0 and *ns (unix ns), or -EINVAL (also for times before 1970 or past 2554).
 */
int cmd_gaps__parse_time(const char *s, uint64_t *ns);

/*
 * Appends s for a terminal: control characters (C0, DEL, C1), bidirectional and line
 * separator characters and bytes that are not UTF-8 become \n, \t, \r, \xHH or \uXXXX,
 * a backslash \\; at most max_chars characters, then "..." (max_chars 0: no limit).
 * Returns the characters of s shown, or -ENOMEM. (textesc.h does the work.)
 */
int cmd_gaps__escape_text(struct json_buf *out, const char *s, size_t max_chars);

/* The table for rows[0..n), header included (nothing when n is 0). */
int cmd_gaps__render_text(struct json_buf *out, const struct gap_row *const *rows, size_t n);
/* One JSON object and a newline. */
int cmd_gaps__render_json(struct json_buf *out, const struct gap_row *row);
/* The text summary line (with its newline): counts by kind, what was read. */
int cmd_gaps__render_summary(struct json_buf *out, const struct gap_row *const *rows, size_t n,
			     const struct gapscan_stats *st, size_t hidden);

#endif
