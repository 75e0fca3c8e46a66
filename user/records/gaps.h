/*
 * Telemetry gaps as records. Every hole the agent knows of becomes a Gap record naming
 * the workload it blinded and its time window: ring-buffer drops, the sensor being down,
 * processes older than the sensor, exits of processes whose start was never seen,
 * workloads that could not be named or were never seen inside, records a sink lost.
 * Kinds that can come in floods (missing starts, pre-existing processes) are counted
 * per workload and written as one record per flush interval.
 * Errors: 0 or -errno; constructors NULL with errno set; free is NULL-safe.
 */
#ifndef FL_GAPS_H
#define FL_GAPS_H

#include <stdint.h>

#include "records/record.h"

struct gap_info {
	int kind;                   /* FIRSTLIGHT__V1__GAP__KIND__* */
	uint64_t cgroup_id;         /* 0: workload unknown */
	const char *workload_key;   /* NULL: "cgroup:<id>" when cgroup_id is set */
	uint64_t start_unix_ns, end_unix_ns;
	uint64_t count;
	const char *detail;
	const char *event_type;     /* drops: which event type */
	const char *reason;         /* machine-readable cause */
	const char *previous_run_id;
	uint64_t first_seq, last_seq;
	const char *run_id;         /* SHIP_LOSS: the run first_seq..last_seq belong to */
	const char *node;           /* collector findings: the node */
};

struct gaps;

struct gaps *gaps__new(struct recorder *rec);
void gaps__free(struct gaps *g);
/* Called for every gap record that names a cgroup, after it is written: the workload
 * table counts it in that workload's coverage (gap_count, drops). */
typedef void gaps_noted_fn(void *ctx, uint64_t cgroup_id, int kind, uint64_t count);
void gaps__set_observer(struct gaps *g, gaps_noted_fn *noted, void *ctx);

/* Writes one Gap record now. */
int gaps__emit(struct gaps *g, const struct gap_info *gi);

/* Counted now, written by gaps__flush: one record per workload and kind. */
void gaps__count(struct gaps *g, int kind, uint64_t cgroup_id, const char *workload_key,
		 uint64_t unix_ns);
void gaps__flush(struct gaps *g);

/* Gap records written, indexed by Gap.Kind: GAPS_KINDS entries (the largest kind + 1;
 * the metrics read as many). */
#define GAPS_KINDS 22
const uint64_t *gaps__by_kind(const struct gaps *g);

#endif
