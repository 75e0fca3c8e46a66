/*
 * Turning decoded events into firstlight.v1.Event records: every record gets the next
 * sequence number (per agent run, from 1, without holes), wall and boot time, node and
 * run id, is packed once into a reused buffer and handed to the sink.
 */
#ifndef FL_RECORD_H
#define FL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "records/sink.h"

#define RUN_ID_LEN 37 /* UUID text with NUL */

#define RECORDER_NODE_MAX 256

struct recorder {
	char node[RECORDER_NODE_MAX];
	char run_id[RUN_ID_LEN];
	char boot_id[40];
	uint32_t boot_tag; /* for exec ids, see exec_id.h */
	struct wallclock clock;
	uint64_t seq;      /* last sequence number given */
	struct sink *sink; /* not owned */
	uint8_t *buf;      /* packing buffer, grown as needed, owned */
	size_t cap;
	uint64_t by_kind[64]; /* records by Event body case */
	uint64_t sink_errors;
	uint64_t unrecorded; /* records that could not even be packed (out of memory) */
};

/* This node's name, as records give it: $NODE_NAME, or the hostname; printable. */
void recorder__node_name(char out[RECORDER_NODE_MAX]);
/* Fills node (NODE_NAME or hostname), a fresh run id and the boot id. 0 or -errno. */
int recorder__init(struct recorder *r, struct sink *sink);
void recorder__fini(struct recorder *r);

/*
 * Stamps ev (seq, times, node, run id) and writes it. boot_ns is the kernel time of the
 * event, 0 for records of the agent itself (then "now" is used). 0 or -errno.
 */
int recorder__emit(struct recorder *r, Event *ev, uint64_t boot_ns);

#endif
