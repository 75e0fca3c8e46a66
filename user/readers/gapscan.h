/*
 * Finding the holes in a record, for `firstlight gaps`: fed records one at a time, from
 * any number of files and agent runs in any order, it keeps the agent's own Gap records
 * and, at the end, adds the holes it can prove from the records themselves:
 *   SEQUENCE_HOLE      seq numbers missing inside a run (seq counts 1, 2, 3... per run);
 *   MISSING_BEGINNING  a run whose lowest seq read is not 1 (its start pruned or deleted);
 *   HEARTBEAT_MISSING  more than two heartbeat intervals between consecutive heartbeats
 *                      of a run (or its last one and its STOPPED record);
 *   UNCLEAN_END        a run without its STOPPED record (crash, kill -9, power loss) and
 *                      whose agent is not running any more.
 * Memory grows with runs, holes, heartbeats and gap records, never with the number of
 * ordinary records: a run read in order costs one seq span.
 * Input is untrusted: any seq, time or string is accepted without overflow or crash.
 * Pure logic (no files, no clock) so that unit tests feed it constructed events.
 * Errors: 0 or -errno; gapscan__new returns NULL with errno set; gapscan__free(NULL) is
 * a no-op.
 */
#ifndef FL_GAPSCAN_H
#define FL_GAPSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.pb-c.h"

/*
 * Kinds of rows. Recorded gaps keep their Gap.Kind number (0..GAPSCAN_DETECTED-1), so a
 * kind added to the schema later is listed without a change here; holes the reader
 * detects have numbers of their own.
 */
enum {
	GAPSCAN_DETECTED = 1000,
	GAPSCAN_SEQUENCE_HOLE = GAPSCAN_DETECTED,
	GAPSCAN_HEARTBEAT_MISSING,
	GAPSCAN_UNCLEAN_END,
	GAPSCAN_MISSING_BEGINNING,
	GAPSCAN_KIND_END,
};

/* One gap. Strings are owned by the scanner (valid until gapscan__free), never NULL. */
struct gap_row {
	int kind;
	int detected;          /* 1: found by the reader; 0: a Gap record of the agent */
	size_t run;            /* index of the run it belongs to (gapscan__run_id) */
	const char *run_id;
	const char *node;
	const char *workload;  /* Gap.workload_key, "" when not given */
	uint64_t cgroup_id;    /* 0: not given */
	uint64_t start_ns;     /* unix ns; 0: unknown */
	uint64_t end_ns;       /* unix ns; 0: unknown (still open, or never known) */
	uint64_t count;
	int has_count;         /* 0: the number of lost things is unknown */
	uint64_t first_seq;    /* records missing (sink loss, sequence hole); 0: n/a */
	uint64_t last_seq;
	uint64_t seq;          /* recorded: seq of the Gap record itself */
	uint64_t record_ns;    /* recorded: time of the Gap record itself */
	const char *event_type;
	const char *reason;
	const char *previous_run_id;
	/* The node a collector's finding is about (Gap.node: NODE_SILENT, BATCH_REJECTED,
	 * CHAIN_BREAK), "" for every other gap: the node that wrote it is `node`. */
	const char *about;
	const char *detail;    /* untrusted for recorded gaps: escape before display */
	const char *file;      /* the input holding the record the gap was found at */
	/* Its workload's owner, by the latest Workload record written under an owners file
	 * (run --owners): NULL when none was, "" when no rule owned it. */
	const char *owner;
};

struct gapscan_stats {
	uint64_t records;    /* records fed */
	uint64_t duplicates; /* records whose (run, seq) was already fed */
	uint64_t no_seq;     /* records without a seq (0): not counted in holes */
	size_t runs;
	size_t live_runs;    /* runs whose agent still runs: no end expected yet */
	size_t files;
};

/* What gapscan__finish needs from the world, given by the caller. */
struct gapscan_env {
	uint64_t now_ns; /* unix ns: closes the heartbeat window of a live run */
	/*
	 * Is the agent of this run still running? Asked for runs without a STOPPED record
	 * whose STARTED record was read. NULL: never (every such run ended uncleanly).
	 */
	int (*run_is_live)(void *ctx, uint32_t pid, const char *boot_id, uint64_t started_boot_ns);
	void *ctx;
	/* The reader's own node name. A run of another node (a collected store) without a
	 * STOPPED record cannot be asked about through /proc: it is live while its last record
	 * is recent (within three heartbeat intervals of now_ns); the newest run of a node that
	 * is not is NODE_SILENT (detected), an older one UNCLEAN_END. NULL: every run is the
	 * reader's node's. */
	const char *local_node;
};

struct gapscan;

struct gapscan *gapscan__new(void);
void gapscan__free(struct gapscan *s);

/* Records fed from now on came from this input (copied). 0 or -ENOMEM. */
int gapscan__begin_file(struct gapscan *s, const char *name);
/* Feeds one record; nothing of ev is kept. 0, -EINVAL after finish, or -ENOMEM. */
int gapscan__add(struct gapscan *s, const Firstlight__V1__Event *ev);
/*
 * Adds the detected holes and sorts every row: by run (runs in order of their first
 * record's time), then by time within the run. Once only. 0 or -ENOMEM.
 */
int gapscan__finish(struct gapscan *s, const struct gapscan_env *env);

/* After finish: the rows, and what was read. */
size_t gapscan__count(const struct gapscan *s);
const struct gap_row *gapscan__row(const struct gapscan *s, size_t i);
void gapscan__stats(const struct gapscan *s, struct gapscan_stats *out);

/*
 * Does the gap's time window [start, end] meet [since, until] (0: no bound)? An unknown
 * end is taken as the start (an UNCLEAN_END is at its last record) and the other way
 * round; a gap record without a window is where the record is; a row with no time at
 * all meets every window (nothing to filter on, so it is shown).
 */
int gapscan__row_meets(const struct gap_row *g, uint64_t since, uint64_t until);

/* A run as read, after finish: what a report needs to know of when the agent ran. */
struct gapscan_run {
	const char *id, *node;     /* owned by the scanner, never NULL */
	uint64_t first_ns, last_ns; /* earliest and latest record time; 0 when none had one */
	uint64_t last_beat_ns;     /* the last heartbeat or STOPPED record; 0: none */
	uint64_t interval_ns;      /* heartbeat interval, 0: no heartbeat read */
	uint64_t records;          /* distinct records read (duplicates not counted) */
	int started, stopped;      /* its STARTED / STOPPED record was read */
	int live;                  /* no STOPPED record, and its agent still runs here */
	int removed_only;          /* known only from retention records: all removed */
};
/* Runs in listing order (by their first record's time), i < gapscan__runs(s). */
size_t gapscan__runs(const struct gapscan *s);
void gapscan__run(const struct gapscan *s, size_t i, struct gapscan_run *out);

/* A kind's name: a Gap.Kind name, a detected kind's name, or "GAP_KIND_<n>" for a
 * number this build does not know. buf holds at least GAPSCAN_KIND_NAME_MAX bytes. */
#define GAPSCAN_KIND_NAME_MAX 32
const char *gapscan__kind_name(int kind, char *buf);
/* Case-insensitive inverse of kind_name for the kinds this build knows: 0 and *kind,
 * or -EINVAL. */
int gapscan__kind_parse(const char *name, int *kind);
/* Does this kind mean the evidence is incomplete (records or events lost, deleted, cut
 * off, or the sensor's liveness unproven)? The set `gaps --fail-on incomplete` fails on:
 * RING_BUFFER_DROP, SINK_LOSS, SEQUENCE_HOLE, MISSING_BEGINNING, UNCLEAN_END,
 * HEARTBEAT_MISSING, and shipping's and the collector's SHIP_LOSS, NODE_SILENT,
 * BATCH_REJECTED, CHAIN_BREAK once the schema has them. */
int gapscan__kind_incomplete(int kind);
/* Known kinds in listing order (recorded, then detected) for help texts and summaries:
 * the i-th one, or -1 past the end. */
int gapscan__kind_at(size_t i);

#endif
