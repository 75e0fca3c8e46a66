/*
 * How `firstlight workloads` shows its rows (wllist.h): a table for people (every string
 * escaped for a terminal, long cells cut) and one JSON object per line for scripts.
 * Errors: 0 or -ENOMEM (out then unchanged for a JSON line).
 */
#ifndef FL_WLFMT_H
#define FL_WLFMT_H

#include <stddef.h>

#include "base/json.h"
#include "readers/wllist.h"

#define WLFMT_CELL_MAX 64   /* key, pod, image and owner cells, in characters */
#define WLFMT_ID_CHARS 12   /* a container id is shown by its first 12 characters, a
			     * prefix `tree --container` takes */

/* The table for rows[0..n), header included (nothing when n is 0); a NODE column first
 * when the rows are of several nodes. */
int wlfmt__text(struct json_buf *out, const struct wl_row *const *rows, size_t n);
/* One JSON object and a newline. */
int wlfmt__json(struct json_buf *out, const struct wl_row *row);
/* A Workload.Kind's name ("CONTAINER"), "-" for 0 or a number this build does not know. */
const char *wlfmt__kind_name(int kind);

#endif
