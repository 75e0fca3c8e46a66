/*
 * `firstlight tree --html`: a rebuilt job (jobtree.h) as one self-contained HTML page
 * (htmlfmt.h: no script, no network) for people who would rather look than read:
 *   - an SVG timeline: one lane per process, in the tree's order (parents above their
 *     children, siblings by start), each image of the process (its fork, then every exec)
 *     a segment of the lane, how it ended a mark at its end (exit code, signal, no exit
 *     recorded, still running), its flows marks on the lane (a connection a line from
 *     its opening to its close), and each gap of the record a shaded band across the
 *     lanes of the workload it blinded (every lane when it names no workload); times on
 *     an axis whose steps are chosen for the job's length, from nanoseconds to days;
 *   - the text tree (treefmt.h) beside it, as `firstlight tree` prints it;
 *   - every mark a link to the record it came from, shown field by field when clicked
 *     (jobtree__keep_records must have been asked for before pass 2), and a tooltip with
 *     the mark's line of the text tree on hover.
 * Element classes are a contract the tests read: one <g class="lane"> per process,
 * <rect class="band ..."> per gap band, <section class="rec"> per record.
 * Errors: 0 or -ENOMEM (out then holds a partial page).
 */
#ifndef FL_JOBHTML_H
#define FL_JOBHTML_H

#include "base/json.h"
#include "readers/jobtypes.h"

int jobhtml__page(struct json_buf *out, const struct jt_job *job);

#endif
