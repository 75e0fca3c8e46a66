/*
 * What the agent leaves in its data dir about its own run, so the next run can tell how
 * long nobody was watching: run id, boot id, last heartbeat, last sequence number, and
 * whether it stopped cleanly. Written atomically (temp file, fsync, rename) at start,
 * at every heartbeat and at a clean stop. A crash, kill -9 or power loss leaves the last
 * heartbeat's version, which bounds the hole from below.
 * Errors: 0 or -errno.
 */
#ifndef FL_RUNSTATE_H
#define FL_RUNSTATE_H

#include <stdint.h>

#define RUNSTATE_FILE "agent.state"

struct runstate {
	char run_id[40];
	char boot_id[40];
	uint64_t started_unix_ns;
	uint64_t heartbeat_unix_ns; /* the last time the run was known alive */
	uint64_t last_seq;
	int clean;                  /* it stopped cleanly */
	uint64_t stopped_unix_ns;
	int handover;               /* it stopped leaving its programs pinned for the next run */
};

/* Reads dir's state. -ENOENT when there is none (first run); -EBADMSG when malformed. */
int runstate__load(const char *dir, struct runstate *out);
/* Replaces dir's state with st. */
int runstate__save(const char *dir, const struct runstate *st);

#endif
