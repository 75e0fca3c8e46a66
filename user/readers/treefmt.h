/*
 * `firstlight tree`'s output for a rebuilt job (jobtree.h): the text tree for people and
 * one JSON document for tools. Both formats are documented in `firstlight tree --help`
 * and the README; their names and shapes are a contract.
 *
 * Text: a header per workload, a job summary, then the tree drawn with box-drawing
 * characters (├─ └─ │), one line per process (its images joined by " -> "), connection,
 * UDP peer, listener or gap ("!"), each with its offset from the job's start. Untrusted
 * strings are escaped for the terminal (textesc.h); argv is JSON-quoted.
 * JSON: proto3 conventions (lowerCamelCase, 64-bit numbers as strings), every documented
 * field present, null when unknown.
 * Errors: 0 or -ENOMEM; on error out holds a partial rendering.
 */
#ifndef FL_TREEFMT_H
#define FL_TREEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.pb-c.h"
#include "readers/jobtypes.h"
#include "base/json.h"

int treefmt__text(struct json_buf *out, const struct jt_job *job);
/* The text with options: TREEFMT_EXEC_IDS adds each image's exec id ("[exec id ID]",
 * what `tree --exec-id` selects) after it (tree -v). */
#define TREEFMT_EXEC_IDS (1u << 0)
int treefmt__text_with(struct json_buf *out, const struct jt_job *job, unsigned int flags);
int treefmt__json(struct json_buf *out, const struct jt_job *job);

/* One item's line of the text (a process, a flow, or a gap starting with "!"), without
 * the tree drawing before it or a newline: for other renderers that label the same
 * things the same way. */
int treefmt__item_text(struct json_buf *out, const struct jt_job *job, const struct jt_item *it);

/* "+12.345ms", "-1.500s", "+1h02m03.456s": an offset (ns) as the text shows it. */
void treefmt__offset(char *buf, size_t size, int64_t ns);
/* "0.051ms", "12.000s", "3m05.120s": a duration as the text shows it. */
void treefmt__duration(char *buf, size_t size, uint64_t ns);

#endif
