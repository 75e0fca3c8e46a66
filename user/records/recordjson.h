/*
 * A record as JSON (`firstlight read --json`, the live view when piped): the proto3
 * canonical mapping of base/json, plus the fields whose zero is a value.
 *
 * proto3 leaves a field out when it is zero. For most fields that is right (no cwd, no
 * flags), but for some a zero is the answer to a question: exit code 0, signal 0, uid 0,
 * no capabilities, a connect that succeeded (result 0), no drops. `jq
 * 'select(.exit.exitCode == 0)'` must find the processes that exited 0. proto3's
 * `optional` (explicit presence) would say so on the wire, but Debian 12's protoc-c 1.4.1
 * refuses it, and the presence of these fields is implied anyway: they are set whenever
 * their message is (a process always has a uid, a process that was not killed an exit
 * code). So the JSON prints them whenever their message is there, which proto3's JSON
 * mapping allows ("always print primitive fields"), and readers of the protobuf apply
 * the same rule. The list, and when each applies, is declared once, in recordjson.c.
 */
#ifndef FL_RECORDJSON_H
#define FL_RECORDJSON_H

#include <stddef.h>

#include "firstlight.pb-c.h"
#include "base/json.h"

/* Appends the JSON object of ev (no newline). 0, -EINVAL for NULL, -ENOMEM (out->len
 * then unchanged). */
int recordjson__append(struct json_buf *out, const Firstlight__V1__Event *ev);

/* The fields printed when zero (for docs and tests): n set to their number. */
const struct json_zero_field *recordjson__zero_fields(size_t *n);

#endif
