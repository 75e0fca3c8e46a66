/*
 * `firstlight report --html`: the report (report.h) as one self-contained HTML page
 * (htmlfmt.h: no script, no network): the window and the verdict, then per node its
 * verdict, reasons and notes, a coverage strip over the window (covered, gap, sensor
 * down, not shipped, each span with its times on hover; a tick per gap), the chain, the
 * kernel and the capabilities it lacked, sequence, heartbeats and runs, the gaps and the
 * workloads as tables.
 * Element classes are a contract the tests read: <section class="node">, <p
 * class="verdict complete|incomplete">, <ul class="reasons"> and <ul class="notes"> of
 * <li data-kind="KIND">, <svg class="strip"> with one <rect class="span STATE"> per span
 * and <rect class="gaptick"> per gap, <tr class="capabilities"> with a <li
 * data-capability="NAME"> per missing capability, <td class="unobserved"> per workload.
 * Errors: 0 or -ENOMEM (out then holds a partial page).
 */
#ifndef FL_REPORTHTML_H
#define FL_REPORTHTML_H

#include "base/json.h"
#include "readers/report.h"

int reporthtml__page(struct json_buf *out, const struct report *r);

#endif
