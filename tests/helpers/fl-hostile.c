/*
 * fl-hostile DIR KEY: a store in DIR (its node key KEY, made if absent) whose every string
 * is hostile to a terminal: every string field, repeated or not, of every record kind,
 * at every depth (found from the schema's descriptors, so a field added later is covered
 * without a change here), the node in the segment header, and the records' node and run
 * id. The string holds a C1 control (CSI), a bidirectional override, ESC sequences, a
 * carriage return, a newline and DEL: printed raw, it would move the cursor, reorder the
 * line or fake a line of output. Written through the real store (a signed hash chain)
 * and recorder, so the readers read it as they read an agent's.
 *
 * Unlike the other helpers it links the library: what it writes must be what the agent
 * would write, only with hostile values.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firstlight.pb-c.h"
#include "records/record.h"
#include "store/store.h"

#define HOSTILE "h\xc2\x9b" "31m\xe2\x80\xae" "x\x1b[2J\x1b]0;t\x07\r\n\x7fz"

static char hostile[] = HOSTILE;
static char *hostile_list[] = { hostile, hostile };

/* Fills every field of msg: strings hostile, numbers 1, enums their first named value
 * past 0, sub-messages recursively (to depth), repeated fields twice. */
static void fill(ProtobufCMessage *msg, int depth)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *at = (char *)msg + f->offset;

		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			continue; /* the body: set by the caller */
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t *n = (size_t *)((char *)msg + f->quantifier_offset);

			if (f->type == PROTOBUF_C_TYPE_STRING) {
				*n = 2;
				*(char ***)at = hostile_list;
			} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth > 0) {
				const ProtobufCMessageDescriptor *sd = f->descriptor;
				ProtobufCMessage **arr = calloc(2, sizeof(*arr));

				for (int k = 0; k < 2; k++) {
					arr[k] = calloc(1, sd->sizeof_message);
					sd->message_init(arr[k]);
					fill(arr[k], depth - 1);
				}
				*n = 2;
				*(ProtobufCMessage ***)at = arr;
			}
			continue;
		}
		switch (f->type) {
		case PROTOBUF_C_TYPE_STRING:
			*(char **)at = hostile;
			break;
		case PROTOBUF_C_TYPE_MESSAGE:
			if (depth > 0) {
				const ProtobufCMessageDescriptor *sd = f->descriptor;
				ProtobufCMessage *sub = calloc(1, sd->sizeof_message);

				sd->message_init(sub);
				fill(sub, depth - 1);
				*(ProtobufCMessage **)at = sub;
			}
			break;
		case PROTOBUF_C_TYPE_ENUM: {
			const ProtobufCEnumDescriptor *ed = f->descriptor;

			*(int *)at = ed->n_values > 1 ? ed->values[1].value : 0;
			break;
		}
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_INT32:
			*(uint32_t *)at = 1;
			break;
		case PROTOBUF_C_TYPE_UINT64:
			*(uint64_t *)at = 1700000000000000000ull;
			break;
		case PROTOBUF_C_TYPE_BOOL:
			*(protobuf_c_boolean *)at = 1;
			break;
		default:
			break; /* bytes, doubles: nothing a terminal would see raw */
		}
	}
}

int main(int argc, char **argv)
{
	const ProtobufCMessageDescriptor *ed = &firstlight__v1__event__descriptor;
	struct store_opts so;
	struct store_ident id;
	struct recorder rec;
	struct store *st;
	struct sink *sink;
	int err = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: fl-hostile DIR KEY\n");
		return 2;
	}
	if (recorder__init(&rec, NULL))
		return 1;
	store_opts__defaults(&so);
	so.key_path = argv[2];
	so.retain_bytes = 0;
	id = (struct store_ident){ .run_id = rec.run_id, .node = hostile, .boot_id = rec.boot_id };
	st = store__open(argv[1], &so, &id, &err);
	if (!st)
		return 1;
	sink = store__sink(st);
	rec.sink = sink;
	/* The records' run id and node: hostile too (the segment's name keeps the real id). */
	snprintf(rec.node, sizeof(rec.node), "%s", hostile);
	/* Every body of the oneof, each a record of its own. */
	for (unsigned int i = 0; i < ed->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &ed->fields[i];
		Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
		const ProtobufCMessageDescriptor *bd;
		ProtobufCMessage *body;

		if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		bd = f->descriptor;
		body = calloc(1, bd->sizeof_message);
		bd->message_init(body);
		fill(body, 3);
		*(uint32_t *)((char *)&ev + f->quantifier_offset) = f->id;
		*(ProtobufCMessage **)((char *)&ev + f->offset) = body;
		if (recorder__emit(&rec, &ev, 0))
			err = 1;
	}
	/* Records of a run whose id is hostile too: verify names it when it refuses them. */
	memcpy(rec.run_id, "h\xc2\x9b\xe2\x80\xae\x1b[2J\n\x7f", 13);
	{
		Firstlight__V1__Event ev = FIRSTLIGHT__V1__EVENT__INIT;
		Firstlight__V1__Heartbeat hb = FIRSTLIGHT__V1__HEARTBEAT__INIT;

		ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT;
		ev.heartbeat = &hb;
		if (recorder__emit(&rec, &ev, 0))
			err = 1;
	}
	sink__free(sink);
	store__free(st);
	recorder__fini(&rec);
	return err;
}
