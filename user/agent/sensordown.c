/* The sensor-down policy; see sensordown.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/sensordown.h"

uint64_t sensordown__record(const char *data_dir, const struct runstate *now, struct gaps *gaps,
			    const char *handover_refused)
{
	struct runstate prev;
	char detail[512];
	struct gap_info gi = { .kind = FIRSTLIGHT__V1__GAP__KIND__SENSOR_DOWN, .count = 1 };
	int err = runstate__load(data_dir, &prev);

	if (err == -ENOENT)
		return 0;
	if (err) {
		/* Damaged or foreign: the hole's start is unknown, but the hole is not. */
		gi.reason = "unknown";
		gi.detail = "the previous run's state file could not be read: its end is unknown";
		gi.end_unix_ns = now->started_unix_ns;
		gaps__emit(gaps, &gi);
		return 0;
	}
	gi.start_unix_ns = prev.clean && prev.stopped_unix_ns ? prev.stopped_unix_ns
							      : prev.heartbeat_unix_ns;
	gi.end_unix_ns = now->started_unix_ns;
	gi.previous_run_id = prev.run_id;
	gi.first_seq = prev.last_seq; /* the previous run's last sequence number we know of */
	if (strcmp(prev.boot_id, now->boot_id)) {
		gi.reason = "reboot";
		snprintf(detail, sizeof(detail), "no sensor ran: the node rebooted after run %s %s",
			 prev.run_id, prev.clean ? "stopped" : "was last heard of");
	} else if (prev.clean && prev.handover && handover_refused) {
		gi.reason = "handover-failed";
		snprintf(detail, sizeof(detail),
			 "no sensor ran: run %s handed over, but its pinned programs were not adopted: %s",
			 prev.run_id, handover_refused);
	} else if (prev.clean) {
		gi.reason = "stopped";
		snprintf(detail, sizeof(detail), "no sensor ran: run %s stopped cleanly", prev.run_id);
	} else {
		gi.reason = "crash";
		snprintf(detail, sizeof(detail),
			 "no sensor ran: run %s ended without stopping (crash, kill -9 or power loss); "
			 "from its last heartbeat",
			 prev.run_id);
	}
	gi.detail = detail;
	gaps__emit(gaps, &gi);
	return gi.start_unix_ns;
}
