/*
 * What nobody watched: at start, the previous run's state file (runstate.h) says when a
 * sensor was last known alive on this node (its clean stop, or its last heartbeat), and
 * the time from then until this run is a SENSOR_DOWN gap, with its reason: "stopped",
 * "crash" (no clean stop: kill -9, a crash, power loss), "reboot", "handover-failed" (the
 * previous run handed over its pinned programs and this one could not adopt them), or
 * "unknown" when the state file cannot be read. A handover that succeeded is no hole.
 */
#ifndef FL_SENSORDOWN_H
#define FL_SENSORDOWN_H

#include <stdint.h>

#include "agent/runstate.h"
#include "records/gaps.h"

/* now: this run's state (started_unix_ns, boot_id). Writes the gap, if there was a
 * previous run; returns the start of the hole (unix ns), 0 if none or unknown.
 * handover_refused: why this run did not adopt the programs a previous run handed over
 * (NULL if it did not try): the gap's reason is then "handover-failed" with that detail. */
uint64_t sensordown__record(const char *data_dir, const struct runstate *now, struct gaps *gaps,
			    const char *handover_refused);

#endif
