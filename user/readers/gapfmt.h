/*
 * How `firstlight gaps` shows its rows (gapscan.h): a table for people (every string
 * escaped for a terminal, long cells cut), one JSON object per line for scripts, and a
 * summary line. Errors: 0 or -ENOMEM (out then unchanged for the JSON line).
 */
#ifndef FL_GAPFMT_H
#define FL_GAPFMT_H

#include <stddef.h>

#include "base/json.h"
#include "readers/gapscan.h"

#define GAPFMT_CELL_MAX 64    /* run and workload cells of the table, in characters */
#define GAPFMT_DETAIL_MAX 512 /* detail cell */

/* The table for rows[0..n), header included (nothing when n is 0). */
int gapfmt__text(struct json_buf *out, const struct gap_row *const *rows, size_t n);
/* One JSON object and a newline. */
int gapfmt__json(struct json_buf *out, const struct gap_row *row);
/* The text summary line (with its newline): counts by kind, what was read; hidden rows
 * are those a --since/--until window left out. */
int gapfmt__summary(struct json_buf *out, const struct gap_row *const *rows, size_t n,
		    const struct gapscan_stats *st, size_t hidden);

#endif
