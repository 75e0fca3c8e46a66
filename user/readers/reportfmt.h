/*
 * `firstlight report`'s output for people and scripts (report.h): a text report (every
 * string of the records escaped for a terminal, textesc.h) and one JSON document. The
 * JSON's names and shapes are a contract, listed in `firstlight report --help`: proto3
 * conventions (lowerCamelCase, 64-bit numbers as strings), every field present, null
 * when unknown. Errors: 0 or -ENOMEM (out then holds a partial rendering).
 */
#ifndef FL_REPORTFMT_H
#define FL_REPORTFMT_H

#include "base/json.h"
#include "readers/report.h"

int reportfmt__text(struct json_buf *out, const struct report *r);
int reportfmt__json(struct json_buf *out, const struct report *r);

#endif
