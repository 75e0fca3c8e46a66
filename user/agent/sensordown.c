/* The sensor-down policy; see sensordown.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/sensordown.h"

/* A STATE_MISSING gap, ending now. */
static void state_missing(struct gaps *gaps, const struct runstate *now, const char *reason,
			  const char *detail, const char *run_id, uint64_t first, uint64_t last)
{
	struct gap_info gi = {
		.kind = FIRSTLIGHT__V1__GAP__KIND__STATE_MISSING, .count = 1, .reason = reason,
		.detail = detail, .end_unix_ns = now->started_unix_ns, .run_id = run_id,
		.first_seq = first, .last_seq = last,
	};

	if (last >= first && first)
		gi.count = last - first + 1;
	gaps__emit(gaps, &gi);
}

/* Where the chain goes on from, for people: "run 1234abcd's seq 42 in seg-...". */
static void chain_end(const struct chain_pos *c, char *out, size_t len)
{
	if (c->segment[0])
		snprintf(out, len, "run %.8s's seq %" PRIu64 " in %s", c->run_id, c->last_seq, c->segment);
	else
		snprintf(out, len, "no complete batch");
}

/*
 * The run state against the chain: does the newest segment hold what agent.state says
 * was written? A run's state names it only once its first records are written (the
 * agent flushes before it saves), so another run at the chain's end means this one's
 * segments are gone. Its last seq is compared only after a clean stop, which wrote
 * every record before the state: a killed run's last heartbeat may count records that
 * were still in memory.
 */
static void check_chain(struct gaps *gaps, const struct runstate *now, const struct runstate *prev,
			const struct chain_pos *c)
{
	char detail[512], end[160];

	if (!c || !c->had_segments)
		return;
	chain_end(c, end, sizeof(end));
	if (c->state_absent) {
		snprintf(detail, sizeof(detail), "chain.state is missing while segments remain (the "
			 "chain goes on from %s): segments of later runs may have been deleted with it",
			 end);
		state_missing(gaps, now, "chain-state-missing", detail, NULL, 0, 0);
	}
	if (!c->segment[0] || !c->run_id[0] || !prev->run_id[0])
		return;
	if (strcmp(prev->run_id, c->run_id)) {
		snprintf(detail, sizeof(detail), "agent.state says run %s ran (to seq %" PRIu64 "), but "
			 "the newest segment ends with %s: its segments are gone", prev->run_id,
			 prev->last_seq, end);
		state_missing(gaps, now, "segments-behind-state", detail, prev->run_id,
			      prev->last_seq ? 1 : 0, prev->last_seq);
	} else if (prev->clean && prev->last_seq > c->last_seq) {
		snprintf(detail, sizeof(detail), "agent.state says run %s stopped at seq %" PRIu64 ", "
			 "but the newest segment ends with %s: its last records are not in the store "
			 "(deleted, or never written: a full disk at its stop)", prev->run_id,
			 prev->last_seq, end);
		state_missing(gaps, now, "segments-behind-state", detail, prev->run_id,
			      c->last_seq + 1, prev->last_seq);
	}
}

uint64_t sensordown__record(const char *data_dir, const struct runstate *now,
			    const struct chain_pos *chain, struct gaps *gaps,
			    const char *handover_refused)
{
	struct runstate prev;
	char detail[512];
	struct gap_info gi = { .kind = FIRSTLIGHT__V1__GAP__KIND__SENSOR_DOWN, .count = 1 };
	int err = runstate__load(data_dir, &prev);

	if (err == -ENOENT && chain && chain->had_segments) {
		char end[160];

		/* Segments without a run state: a run wrote them, and its state was deleted.
		 * The hole since is real; when it began is unknown. */
		chain_end(chain, end, sizeof(end));
		snprintf(detail, sizeof(detail), "agent.state is missing while segments remain (the "
			 "chain goes on from %s%s): runs after that one may have been deleted with "
			 "it; only records shipped off the node can show them", end,
			 chain->state_absent ? "; chain.state is missing too" : "");
		state_missing(gaps, now, "run-state-missing", detail, NULL, 0, 0);
		gi.reason = "unknown";
		gi.detail = "the previous run's state file is missing: when it ended is unknown";
		gi.end_unix_ns = now->started_unix_ns;
		gi.previous_run_id = chain->run_id[0] ? chain->run_id : NULL;
		gaps__emit(gaps, &gi);
		return 0;
	}
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
	check_chain(gaps, now, &prev, chain);
	return gi.start_unix_ns;
}

void sensordown__check_state(const char *data_dir, const struct runstate *now,
			     const struct chain_pos *chain, struct gaps *gaps)
{
	struct runstate prev;

	if (runstate__load(data_dir, &prev) == 0)
		check_chain(gaps, now, &prev, chain);
}
