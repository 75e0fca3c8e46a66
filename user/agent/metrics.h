/*
 * Prometheus metrics for alerting on telemetry gaps, served over HTTP (libmicrohttpd) on
 * its own thread. The agent publishes a snapshot of its counters on every tick; a scrape
 * renders the latest snapshot, so the consumer never waits on a scrape and a scrape never
 * sees a half-updated set. Text exposition format 0.0.4, path /metrics.
 * Before the first publish the endpoint answers 503: zeros would read as "no drops".
 * /healthz on the same server is the probes' (a DaemonSet's readiness and liveness): 200
 * once every program is attached and while the consumer drains the ring, 503 otherwise,
 * one line of text saying which.
 * Errors: NULL with *err = -errno (and errno) from metrics__start, err may be NULL;
 * metrics__render returns -ENOSPC when buf is too small (buf is NUL-terminated whenever
 * len > 0); every other call cannot fail, and publish/port/stop accept NULL (metrics off).
 */
#ifndef FL_METRICS_H
#define FL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.h"
#include "agent/cpuuse.h"

/* Order of the Gap.Kind enum (1..19, with holes), index 0 unused. */
#define METRICS_GAP_KINDS 22 /* Gap.Kind 1..21; a number without a kind (12, 15, 18, 20) has no series */
#define METRICS_LAG_BUCKETS 13
/* Order of the Event body cases we count: see metrics_record_kind_name(). */
enum metrics_record_kind {
	MR_EXEC, MR_FORK, MR_EXIT, MR_FLOW, MR_WORKLOAD, MR_GAP, MR_HEARTBEAT, MR_AGENT,
	MR_PRIVILEGE,
	MR_FILE_ACCESS,
	MR_KINDS
};

/* Per workload: the live workloads that made a privilege change, at most this many. */
#define METRICS_WORKLOADS_MAX 64
#define METRICS_OWNER_MAX 64

struct metrics_workload {
	char key[48];                   /* the workload key (WLKEY_MAX) */
	char owner[METRICS_OWNER_MAX];  /* by the owners file, "" when none */
	uint64_t privilege_changes;     /* privilege records of its processes */
	uint64_t file_accesses;         /* opens of watched paths by its processes */
};

struct metrics_snapshot {
	uint64_t records[MR_KINDS];             /* records written, by kind */
	uint64_t drops[FL_EV_MAX];              /* kernel events lost, by event type */
	uint64_t gaps[METRICS_GAP_KINDS];       /* gap records, by Gap.Kind */
	uint64_t unattributed_workloads;
	uint64_t blind_workloads;
	uint64_t sink_lost;                     /* records a sink discarded */
	uint64_t malformed_events;
	uint64_t live_processes;
	uint64_t live_workloads;
	double ring_fill_ratio;                 /* 0..1, peak over the last heartbeat interval */
	double last_heartbeat_seconds;          /* unix time of the last heartbeat record */
	double start_seconds;                   /* unix time the agent started */
	double heartbeat_interval_seconds;      /* how often heartbeats come (--heartbeat-interval) */
	/* Shipping (--ship); the ship_ series are present only when it is on. */
	int ship;
	int ship_connected;
	uint64_t ship_acked, ship_messages, ship_message_bytes, ship_duplicates, ship_publish_errors;
	uint64_t ship_backlog, ship_backlog_bytes;
	double ship_oldest_seconds;             /* unix time the oldest unshipped batch was written; 0 none */
	/* Lag of acked batches, written to acked: cumulative counts per bound (the last
	 * +Inf), their sum and count. */
	uint64_t ship_lag_buckets[METRICS_LAG_BUCKETS];
	double ship_lag_bounds[METRICS_LAG_BUCKETS - 1];
	double ship_lag_sum;
	uint64_t ship_lag_count;
	uint32_t capabilities_missing;          /* bit (1 << enum kcap) per capability the node lacks */
	/* The agent's CPU time by role (cpuuse.h), measured when a scrape renders; the
	 * series are present when it could be. */
	int have_cpu;
	uint64_t cpu_ns[CPU_ROLES];
	struct metrics_workload workloads[METRICS_WORKLOADS_MAX];
	size_t n_workloads;
	uint64_t other_privilege_changes;       /* of live workloads past METRICS_WORKLOADS_MAX */
	uint64_t other_file_accesses;           /* likewise */
	char version[32];
	char node[256];
	char run_id[40];
};

/* Names for labels. */
const char *metrics_record_kind_name(enum metrics_record_kind k); /* "exec", ... */
const char *metrics_gap_kind_name(unsigned int kind);              /* "ring_buffer_drop", ... */

struct metrics;

/*
 * Starts serving on addr ("127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464"; port 0 picks
 * a free port). Returns NULL with *err = -errno (bad address, port in use: -EADDRINUSE).
 */
struct metrics *metrics__start(const char *addr, int *err);
/* The port actually bound (useful with port 0). */
int metrics__port(const struct metrics *m);
/* Replaces the snapshot scrapes render (copied). */
void metrics__publish(struct metrics *m, const struct metrics_snapshot *s);
/*
 * For /healthz: every program is attached (n_attached of them; called once, when the agent
 * is ready), and the consumer has just drained the ring (called on every drain, at
 * CLOCK_MONOTONIC now_ns: one atomic store, no lock). NULL-safe.
 */
void metrics__set_ready(struct metrics *m, int n_attached);
void metrics__drained(struct metrics *m, uint64_t now_ns);

/* A consumer that has not drained the ring for this long is stuck: the ring fills and
 * events are lost (the drain timer fires every 10 ms by default). */
#define METRICS_HEALTH_STALL_NS (30ull * 1000000000)

/*
 * The /healthz answer: HTTP status 200 when n_attached > 0 and the ring was drained at
 * last_drain_ns, no more than METRICS_HEALTH_STALL_NS before now_ns (CLOCK_MONOTONIC);
 * 503 otherwise. buf gets one line saying why (truncated to len).
 */
int metrics__health(int n_attached, uint64_t last_drain_ns, uint64_t now_ns, char *buf, size_t len);

/* Stops the server; NULL-safe. */
void metrics__stop(struct metrics *m);

/* Renders s in the Prometheus text format into buf; returns the length or -ENOSPC. */
int metrics__render(const struct metrics_snapshot *s, char *buf, size_t len);

#endif
