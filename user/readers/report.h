/*
 * The auditor's question, answered per node for a window of time [since, until]: were
 * the sensor's records of that window complete and unmodified, and if not, what exactly
 * is missing? For `firstlight report`.
 *
 * Every input file is read once here and once by the node's verifier (verify.h: hash
 * chain, signatures with the pinned keys, sequence numbers, the ends of segments), its
 * records fed to the node's gap scanner (gapscan.h: gap records, sequence holes,
 * heartbeats missing, unclean ends) and its Workload records kept for the coverage of
 * each workload. Records are grouped by their `node` field and segment files by their
 * header's node, never by where they were found: one node's data dir and a collector's
 * store of many nodes read the same way (give each node's files in chain order).
 *
 * For each node the window is then cut into spans, each in one state:
 *   covered      an agent run's records span it, and no gap touches it;
 *   gap          a gap the agent recorded or the reader found touches it (drops, sequence
 *                holes, heartbeats missing, sink loss, ...);
 *   down         no agent run's records span it: before the first run, between runs,
 *                after a run that stopped or was killed;
 *   not shipped  after the node's last record while its agent still runs: its records of
 *                that time are not written yet (on a collector: not shipped yet).
 * The node's window is complete when the chain verifies with a pinned key, every input
 * was read in full, no gap that loses evidence meets the window and every span is
 * covered. Which gap kinds lose evidence is one set, gapscan__kind_incomplete's (the one
 * `gaps --fail-on incomplete` fails on); a gap of another kind (PRE_EXISTING,
 * SENSOR_DOWN, MISSING_START, UNATTRIBUTED_WORKLOAD, BLIND_WORKLOAD, ARGV_NOT_KEPT,
 * UNTRACKED_PROCESS, UNOWNED_WORKLOAD) is noted, not a reason. Each reason is stated,
 * then each note, and the verdict is one line made of them.
 *
 * What the node's kernel could not observe (its NodeCapabilities records: the latest at
 * or before the window's start and every one within it) is stated per node, and per
 * workload as its `unobserved`: a known limit of the node, never by itself a reason.
 *
 * Memory: the gap scanner's (runs, holes, gaps), each workload recorded up to --until
 * (a line of fields), and each distinct NodeCapabilities record of the window (at most
 * REPORT_CAPS_MAX). Input is untrusted: any record gives a report, no crash.
 * Errors: int functions return 0 or -errno; report__new returns NULL with errno set;
 * report__free(NULL) is a no-op. Every pointer handed out is valid until report__free.
 */
#ifndef FL_REPORT_H
#define FL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "readers/gapscan.h"
#include "readers/verify.h"
#include "store/keys.h"

enum report_state {
	REPORT_COVERED,
	REPORT_GAP,
	REPORT_DOWN,
	REPORT_NOT_SHIPPED,
	REPORT_STATES,
};

/* "covered", "gap", "down", "notShipped": the names the JSON and the page use. */
const char *report__state_name(enum report_state s);

struct report_opts {
	uint64_t since_ns, until_ns;                /* unix ns, since < until */
	const uint8_t (*keys)[KEYS_PUB_LEN];        /* pinned public keys (may be 0) */
	size_t n_keys;
	/* The key pinned for one node, besides keys: 0 and *key, or -errno (none). Asked once
	 * per node, with the name its records give (untrusted: check it before it names a
	 * file). NULL: no per-node keys. */
	int (*node_key)(void *ctx, const char *node, uint8_t key[KEYS_PUB_LEN]);
	void *key_ctx;
	uint64_t now_ns;                            /* unix ns: a live run's records end at most here */
	/* As gapscan_env.run_is_live: is a run's agent still running here? NULL: never. */
	int (*run_is_live)(void *ctx, uint32_t pid, const char *boot_id, uint64_t started_boot_ns);
	void *ctx;
};

struct report_span {
	uint64_t start_ns, end_ns;
	enum report_state state;
};

/*
 * A workload recorded in the window: the fields of its latest Workload record, its
 * coverage, and what the gaps of the window say of it.
 * Coverage comes from its ENDED record when there is one (coverage_from "ended"). For a
 * workload still running (or whose end was dropped) it comes from its records
 * (coverage_from "records"): the first-event latency its own records carry (the agent
 * writes it in every Workload record once known), else the time from its cgroup's birth
 * (its first_seen, when a record of it gives its parent cgroup: only the STARTED of a
 * mkdir the sensor saw does) to the first exec or fork record in its cgroup; drops as the
 * largest its records carry or the sum of every RING_BUFFER_DROP and SHARE_EXCEEDED gap
 * record naming it, whichever is more (the agent counts the same gaps).
 * The latency is unknown (has_latency 0) when the sensor did not see the cgroup's birth
 * (it existed at the agent's start, or is a sandbox: no birth to count from), when no
 * process event of it was read, and when an ENDED record says 0 (what the agent writes
 * in those cases).
 */
struct report_workload {
	const char *key, *kind, *runtime, *container_id, *container_name, *pod_name,
		*pod_namespace, *image, *cgroup_path, *identity_source; /* never NULL */
	uint64_t cgroup_id;
	uint64_t first_seen_ns, last_seen_ns;  /* 0: unknown */
	int ended, identity_verified;
	int end_lost;            /* no ENDED record, but its cgroup's removal was among the
				  * events dropped: it ended (a cgroup holds no process when
				  * removed), unrecorded; last_seen_ns is then the drop's end */
	int unattributed;        /* its record says so, or an UNATTRIBUTED_WORKLOAD gap names it */
	int blind;               /* a BLIND_WORKLOAD gap names it */
	const char *coverage_from; /* "ended" or "records", as above */
	uint32_t processes;      /* processes seen in it (the latest record's count) */
	int has_latency;         /* first_event_latency_ns is known */
	uint64_t first_event_latency_ns;
	uint64_t drops;          /* its events lost, as above */
	uint64_t dropped_in_window; /* RING_BUFFER_DROP and SHARE_EXCEEDED counts of the window's
				     * gaps naming it */
	size_t gaps;             /* gaps of the window naming it */
	/* The capabilities its node lacked: its ENDED record's list; for a workload still
	 * running, what the node's NodeCapabilities record in force at the window's end lacks.
	 * Unknown (has_unobserved 0) when neither says (an ENDED record of an agent that wrote
	 * no NodeCapabilities record, whose empty list means nothing). */
	int has_unobserved;
	const char *const *unobserved;
	size_t n_unobserved;
};

/* A capability the node's kernel lacked (NodeCapabilities.missing_detail). Never NULL. */
struct report_missing {
	const char *name, *reason, *unobserved;
};

#define REPORT_CAPS_MAX 32 /* distinct NodeCapabilities records of a node's window kept, and
			    * missing capabilities in each: a real node has one or two, of 11 */

/* What the node's kernel let the sensor observe in the window. */
struct report_caps {
	int known;                          /* a NodeCapabilities record at or before the window's end */
	const char *kernel, *machine;       /* the latest one's: in force at the window's end */
	const char *const *kernels;         /* every kernel release of them, in time order */
	size_t n_kernels;
	const struct report_missing *missing; /* what any of them lacked, by first appearance */
	size_t n_missing;
	int truncated;                      /* more than REPORT_CAPS_MAX of either (crafted): cut */
};

/* Why a window is not complete. kind: a gap kind's name (gapscan__kind_name), or
 * "INPUT", "CHAIN", "KEY_NOT_PINNED", "DOWN", "NOT_SHIPPED". A note has the same shape:
 * the gaps of one kind that lose no evidence. */
struct report_reason {
	const char *kind;
	const char *text;   /* one line, what the verdict says */
};

struct report_node {
	const char *node;                     /* "" when neither header nor record named it */
	int complete;
	const char *verdict;                  /* "complete: ..." or "incomplete: ..." */
	const struct report_reason *reasons;
	size_t n_reasons;
	const struct report_reason *notes;    /* gaps of kinds that lose no evidence */
	size_t n_notes;
	struct report_caps caps;
	const struct verify_result *chain;
	const char *damage;                   /* the first input of it not read in full, and
					       * why; NULL when all were */
	size_t files;
	size_t seq_holes;                     /* SEQUENCE_HOLE and MISSING_BEGINNING gaps */
	uint64_t seq_missing;                 /* records they miss */
	size_t beat_holes;                    /* HEARTBEAT_MISSING gaps */
	uint64_t beats_missing;
	const struct gapscan_run *runs;       /* runs whose records meet the window */
	size_t n_runs;
	const struct gap_row *const *gaps;    /* gaps meeting the window, by run then time */
	size_t n_gaps;
	const struct report_span *strip;      /* the window, in order, without holes */
	size_t n_strip;
	uint64_t state_ns[REPORT_STATES];     /* time of the window in each state */
	const struct report_workload *const *workloads; /* by first seen, then key */
	size_t n_workloads;
};

struct report;

/* o is copied (keys too). NULL with errno = EINVAL (since >= until) or ENOMEM. */
struct report *report__new(const struct report_opts *o);
void report__free(struct report *r);

/*
 * Reads one input file, in chain order among its node's files. group: whose records they
 * are (inputs__group: a collector's own, "@collector"), NULL: the node they name. 0; 1
 * when it could not be read in full (report__error says why; what was read still counts,
 * and its node's verdict says so); -ENOMEM.
 *
 * A collector's findings about a node (the NODE_SILENT, BATCH_REJECTED and CHAIN_BREAK
 * gaps naming it) count in that node's verdict and gaps when the inputs hold the node,
 * and are a note of the collector's; about a node they do not hold, they stay the
 * collector's.
 */
int report__file(struct report *r, const char *path, const char *group);
const char *report__error(const struct report *r);
/* After every file: the verdicts. Once. 0, -EINVAL (twice), -ENOMEM. */
int report__finish(struct report *r);

/* After finish: the nodes by name, and the whole report's verdict. */
size_t report__nodes(const struct report *r);
const struct report_node *report__node(const struct report *r, size_t i);
int report__complete(const struct report *r);       /* every node complete, and one at least */
const char *report__verdict(const struct report *r); /* one line */
const struct report_opts *report__opts(const struct report *r);

#endif
