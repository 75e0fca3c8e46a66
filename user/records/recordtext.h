/*
 * One line of text per record, for people: `firstlight read --text` and the agent's live
 * view on a terminal. "SEQ TIME [snapshot] KIND key=value...", every record kind with the
 * fields that identify it. Every string comes from a record, which may come from a
 * hostile store: strings that are not plain words are quoted and escaped (textesc.h),
 * so nothing printed can move the cursor, reorder text or fake a line.
 */
#ifndef FL_RECORDTEXT_H
#define FL_RECORDTEXT_H

#include "firstlight.pb-c.h"
#include "base/json.h"

/* Appends the line for ev (no newline). 0 or -ENOMEM (out->len then unchanged). */
int recordtext__append(struct json_buf *out, const Firstlight__V1__Event *ev);

#endif
