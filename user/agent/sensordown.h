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
#include "store/chain_state.h"

/*
 * now: this run's state (started_unix_ns, boot_id); chain: where the store's chain went
 * on from (store__resumed), NULL without a store. Writes the gap, if there was a
 * previous run; returns the start of the hole (unix ns), 0 if none or unknown.
 *
 * The state files and the segments are also held against each other, because deleting
 * the newest run's segments together with both state files would otherwise leave a
 * store that reads as if the older run were the last: a STATE_MISSING gap when
 * agent.state is gone while segments remain ("run-state-missing", with a SENSOR_DOWN
 * of unknown start), when chain.state is gone ("chain-state-missing"), or when the
 * newest segment ends before what agent.state says was written: another run, or fewer
 * records of the same run ("segments-behind-state", naming the run and seqs missing).
 *
 * handover_refused: why this run did not adopt the programs a previous run handed over
 * (NULL if it did not try): the gap's reason is then "handover-failed" with that detail.
 */
uint64_t sensordown__record(const char *data_dir, const struct runstate *now,
			    const struct chain_pos *chain, struct gaps *gaps,
			    const char *handover_refused);

/* The state files against the chain only (no SENSOR_DOWN): for a run that adopted a
 * handover, which has no hole to record but must still notice deleted segments. */
void sensordown__check_state(const char *data_dir, const struct runstate *now,
			     const struct chain_pos *chain, struct gaps *gaps);

#endif
