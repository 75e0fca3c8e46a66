/*
 * Prometheus endpoint: the text exposition format (0.0.4) rendered from the last snapshot
 * the agent published, served by libmicrohttpd on its own thread.
 *
 * Concurrency: the agent thread only ever copies a snapshot in under the mutex
 * (metrics__publish); the HTTP thread copies it out under the same mutex and renders from
 * its copy, so neither waits on the other for longer than a memcpy of ~2 KiB.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


#include "firstlight.pb-c.h"
#include "base/clock.h"
#include "base/httpd.h"
#include "base/log.h"
#include "base/promtext.h"
#include "agent/metrics.h"
#include "records/gaps.h"
#include "sensor/evtypes.h"
#include "sensor/kcaps.h"
#include "base/utf8.h"

/* metrics.h indexes gaps[] by the proto's Gap.Kind value: keep the two in step. */
_Static_assert(FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP == 1, "Gap.Kind order");
_Static_assert(FIRSTLIGHT__V1__GAP__KIND__UNRECORDED_SOCKETS == METRICS_GAP_KINDS - 1, "Gap.Kind count");
/* publish_metrics copies gaps__by_kind() whole into the snapshot. */
_Static_assert(METRICS_GAP_KINDS == GAPS_KINDS, "the metrics' gap kinds are the records'");

/* The rendered text is ~4 KiB; the cap only guards against a rendering bug looping. */
#define METRICS_RENDER_START 8192
#define METRICS_RENDER_MAX (1u << 20)


/* ---- label names ------------------------------------------------------------------------ */

static const char *const record_kind_names[MR_KINDS] = {
	[MR_EXEC] = "exec",           [MR_FORK] = "fork",   [MR_EXIT] = "exit",
	[MR_FLOW] = "flow",           [MR_WORKLOAD] = "workload",
	[MR_GAP] = "gap",             [MR_HEARTBEAT] = "heartbeat",
	[MR_AGENT] = "agent",         [MR_PRIVILEGE] = "privilege",
	[MR_FILE_ACCESS] = "file_access",
};

/*
 * Kernel event types (firstlight.h). Drops of a type without a name here are summed under
 * "unknown" so that no count is lost and no two series share a label set. The network
 * range is named when its defines exist, so that its drops are labelled as soon as the
 * network programs land.
 */

/* The proto's Gap.Kind names in lower case (the unit test checks them against the proto). */
static const char *const gap_kind_names[METRICS_GAP_KINDS] = {
	[FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP] = "ring_buffer_drop",
	[FIRSTLIGHT__V1__GAP__KIND__SENSOR_DOWN] = "sensor_down",
	[FIRSTLIGHT__V1__GAP__KIND__PRE_EXISTING] = "pre_existing",
	[FIRSTLIGHT__V1__GAP__KIND__MISSING_START] = "missing_start",
	[FIRSTLIGHT__V1__GAP__KIND__UNATTRIBUTED_WORKLOAD] = "unattributed_workload",
	[FIRSTLIGHT__V1__GAP__KIND__BLIND_WORKLOAD] = "blind_workload",
	[FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS] = "sink_loss",
	[FIRSTLIGHT__V1__GAP__KIND__SHIP_LOSS] = "ship_loss",
	[FIRSTLIGHT__V1__GAP__KIND__NODE_SILENT] = "node_silent",
	[FIRSTLIGHT__V1__GAP__KIND__BATCH_REJECTED] = "batch_rejected",
	[FIRSTLIGHT__V1__GAP__KIND__CHAIN_BREAK] = "chain_break",
	[FIRSTLIGHT__V1__GAP__KIND__STATE_MISSING] = "state_missing",
	[FIRSTLIGHT__V1__GAP__KIND__ARGV_NOT_KEPT] = "argv_not_kept",
	[FIRSTLIGHT__V1__GAP__KIND__SHARE_EXCEEDED] = "share_exceeded",
	[FIRSTLIGHT__V1__GAP__KIND__UNTRACKED_PROCESS] = "untracked_process",
	[FIRSTLIGHT__V1__GAP__KIND__UNOWNED_WORKLOAD] = "unowned_workload",
	[FIRSTLIGHT__V1__GAP__KIND__UNRECORDED_SOCKETS] = "unrecorded_sockets",
};

const char *metrics_record_kind_name(enum metrics_record_kind k)
{
	return (unsigned int)k < MR_KINDS ? record_kind_names[k] : "unknown";
}

const char *metrics_gap_kind_name(unsigned int kind)
{
	if (kind < METRICS_GAP_KINDS && gap_kind_names[kind])
		return gap_kind_names[kind];
	return "unknown";
}

/* ---- rendering -------------------------------------------------------------------------- */

/*
 * A per-workload counter family: its header always, then each workload whose count (the
 * uint64_t at `field` of struct metrics_workload) is not 0, with its owner, and the
 * workloads past the listed ones as workload="other".
 */
static void workload_family(struct promtext *o, const struct metrics_snapshot *s, const char *name,
			    const char *help, size_t field, uint64_t other)
{
	char num[32];

	promtext__header(o, name, "counter", help);
	for (size_t i = 0; i < s->n_workloads && i < METRICS_WORKLOADS_MAX; i++) {
		const struct metrics_workload *w = &s->workloads[i];
		uint64_t v;

		memcpy(&v, (const char *)w + field, sizeof(v));
		if (!v)
			continue; /* listed for another family's count */
		promtext__str(o, name);
		promtext__str(o, "{workload=\"");
		promtext__label_value(o, w->key, sizeof(w->key));
		promtext__str(o, "\",owner=\"");
		promtext__label_value(o, w->owner, sizeof(w->owner));
		snprintf(num, sizeof(num), "\"} %" PRIu64 "\n", v);
		promtext__str(o, num);
	}
	if (other) {
		promtext__str(o, name);
		promtext__str(o, "{workload=\"other\",owner=\"\"} ");
		snprintf(num, sizeof(num), "%" PRIu64 "\n", other);
		promtext__str(o, num);
	}
}

int metrics__render(const struct metrics_snapshot *s, char *buf, size_t len)
{
	struct promtext o;

	promtext__init(&o, buf, len);
	uint64_t unknown_drops = 0;
	unsigned int i;

	promtext__header(&o, "firstlight_records_total", "counter", "Records written, by record kind.");
	for (i = 0; i < MR_KINDS; i++)
		promtext__labelled(&o, "firstlight_records_total", "kind",
			     metrics_record_kind_name((enum metrics_record_kind)i), s->records[i]);

	/* Every named type is always present (0 when none), so that increase() sees the first
	 * drop instead of a series appearing out of nothing. */
	promtext__header(&o, "firstlight_drops_total", "counter",
		   "Kernel events lost because the ring buffer was full or their workload had used its ring share, by event type.");
	for (i = 0; i < FL_EV_MAX; i++) {
		if (strcmp(evtypes__name(i), "unknown"))
			promtext__labelled(&o, "firstlight_drops_total", "event_type", evtypes__name(i), s->drops[i]);
		else
			unknown_drops += s->drops[i];
	}
	promtext__labelled(&o, "firstlight_drops_total", "event_type", "unknown", unknown_drops);

	promtext__header(&o, "firstlight_gaps_total", "counter", "Gap records written, by gap kind.");
	for (i = 1; i < METRICS_GAP_KINDS; i++)
		if (gap_kind_names[i]) /* numbers the schema does not use (yet) have no series */
			promtext__labelled(&o, "firstlight_gaps_total", "kind", gap_kind_names[i], s->gaps[i]);

	promtext__u64(&o, "firstlight_unattributed_workloads_total", "counter",
		"Workloads that ended before their identity could be resolved.",
		s->unattributed_workloads);
	promtext__u64(&o, "firstlight_blind_workloads_total", "counter",
		"Workloads seen with no process events: empty ones and opaque sandboxes.",
		s->blind_workloads);
	promtext__u64(&o, "firstlight_sink_lost_records_total", "counter",
		"Records a sink had to discard (disk or spool full).", s->sink_lost);
	promtext__u64(&o, "firstlight_malformed_events_total", "counter",
		"Kernel events the agent could not decode.", s->malformed_events);
	promtext__u64(&o, "firstlight_live_processes", "gauge", "Processes currently known alive.",
		s->live_processes);
	promtext__u64(&o, "firstlight_live_workloads", "gauge", "Workloads currently known alive.",
		s->live_workloads);
	promtext__gauge(&o, "firstlight_ring_buffer_fill_ratio",
		  "Peak fraction of the ring buffer in use over the last heartbeat interval (0 to 1).",
		  s->ring_fill_ratio);
	promtext__gauge(&o, "firstlight_last_heartbeat_timestamp_seconds",
		  "Unix time of the last heartbeat record.", s->last_heartbeat_seconds);
	promtext__gauge(&o, "firstlight_start_time_seconds", "Unix time the agent started.",
		  s->start_seconds);
	promtext__gauge(&o, "firstlight_heartbeat_interval_seconds",
		  "Seconds between heartbeat records: a heartbeat older than a few of these is stale.",
		  s->heartbeat_interval_seconds);
	/* Every capability is always present, so that an alert can select the 0s. */
	promtext__header(&o, "firstlight_node_capability", "gauge",
			 "What this node's kernel lets the sensor observe: 1 available, 0 missing "
			 "(the NodeCapabilities record says why).");
	for (i = 0; i < KCAP_COUNT; i++)
		promtext__labelled(&o, "firstlight_node_capability", "capability", kcaps__name((enum kcap)i),
				   !(s->capabilities_missing & (1u << i)));

	if (s->have_cpu) {
		promtext__header(&o, "firstlight_cpu_seconds_total", "counter",
				 "CPU time the agent used, by role: record (the event loop: drain, decode, "
				 "write, seal, sync), ship (the shipper and its NATS client), identity, "
				 "metrics, and other (the rest, threads that ended included). They add up "
				 "to the process's CPU time.");
		for (i = 0; i < CPU_ROLES; i++)
			promtext__labelled_double(&o, "firstlight_cpu_seconds_total", "role",
						  cpuuse__role_name((enum cpu_role)i), (double)s->cpu_ns[i] / 1e9);
	}

	if (s->ship) {
		promtext__u64(&o, "firstlight_ship_connected", "gauge",
			"1 while the agent is connected to the JetStream servers of --ship.", (uint64_t)s->ship_connected);
		promtext__u64(&o, "firstlight_ship_acked_batches_total", "counter",
			"Segment batches JetStream acknowledged (duplicates included).", s->ship_acked);
		promtext__u64(&o, "firstlight_ship_messages_total", "counter",
			"Messages those batches went in: a message carries the batches waiting when it goes out.",
			s->ship_messages);
		promtext__u64(&o, "firstlight_ship_message_bytes_total", "counter",
			"Bytes of those messages' bodies: the batches as sent (compressed, as stored).",
			s->ship_message_bytes);
		promtext__u64(&o, "firstlight_ship_duplicate_batches_total", "counter",
			"Batches JetStream already held when they were published again.", s->ship_duplicates);
		promtext__u64(&o, "firstlight_ship_publish_errors_total", "counter",
			"Publishes that failed or were refused (each is retried).", s->ship_publish_errors);
		promtext__u64(&o, "firstlight_ship_backlog_batches", "gauge",
			"Batches written to the local store and not yet acknowledged by JetStream.", s->ship_backlog);
		promtext__u64(&o, "firstlight_ship_backlog_bytes", "gauge",
			"Bytes of those batches, as stored (uncompressed).", s->ship_backlog_bytes);
		promtext__gauge(&o, "firstlight_ship_oldest_unshipped_timestamp_seconds",
			  "Unix time the oldest unshipped batch was written; 0 when everything is shipped.",
			  s->ship_oldest_seconds);
		promtext__header(&o, "firstlight_ship_lag_seconds", "histogram",
				 "From a batch written to the local store to JetStream's ack of it.");
		for (i = 0; i < METRICS_LAG_BUCKETS; i++) {
			char le[32];

			if (i == METRICS_LAG_BUCKETS - 1)
				snprintf(le, sizeof(le), "+Inf");
			else
				snprintf(le, sizeof(le), "%g", s->ship_lag_bounds[i]);
			promtext__labelled(&o, "firstlight_ship_lag_seconds_bucket", "le", le, s->ship_lag_buckets[i]);
		}
		promtext__labelled_double(&o, "firstlight_ship_lag_seconds_sum", NULL, NULL, s->ship_lag_sum);
		promtext__labelled(&o, "firstlight_ship_lag_seconds_count", NULL, NULL, s->ship_lag_count);
	}

	/* Always the header: an alert on a workload's first change needs the family known. */
	workload_family(&o, s, "firstlight_workload_privilege_changes_total",
			"Privilege records (setuid, setgroups, capset, prctl...) of each live workload "
			"that made one, with its owner; past 64 workloads, workload=\"other\".",
			offsetof(struct metrics_workload, privilege_changes), s->other_privilege_changes);
	workload_family(&o, s, "firstlight_workload_file_accesses_total",
			"Opens of watched paths (secrets, credentials, keys: FileAccess records' counts) "
			"by each live workload that made one, with its owner; past 64 workloads, "
			"workload=\"other\".",
			offsetof(struct metrics_workload, file_accesses), s->other_file_accesses);

	promtext__header(&o, "firstlight_build_info", "gauge",
		   "Agent version, node name and run id; always 1.");
	promtext__str(&o, "firstlight_build_info{version=\"");
	promtext__label_value(&o, s->version, sizeof(s->version));
	promtext__str(&o, "\",node=\"");
	promtext__label_value(&o, s->node, sizeof(s->node));
	promtext__str(&o, "\",run_id=\"");
	promtext__label_value(&o, s->run_id, sizeof(s->run_id));
	promtext__str(&o, "\"} 1\n");

	return promtext__end(&o);
}

/* ---- serving --------------------------------------------------------------------------- */

struct metrics {
	struct httpd *http;
	pthread_mutex_t lock;           /* guards snap and have_snap */
	struct metrics_snapshot snap;
	int have_snap;                  /* 0 until the first metrics__publish */
	/* /healthz: written by the agent thread, read by the HTTP thread, each on its own. */
	_Atomic int n_attached;         /* 0 until the agent is ready */
	_Atomic uint64_t last_drain_ns; /* CLOCK_MONOTONIC of the last drain */
	pthread_mutex_t cpu_lock;       /* guards cpu: scans of the threads, one at a time */
	struct cpuuse cpu;
};

/* The latest snapshot, rendered into a heap buffer for the server to send and free. */
static char *render_latest(struct metrics *m, size_t *len)
{
	struct metrics_snapshot snap;
	size_t cap = METRICS_RENDER_START;
	char *buf = NULL;
	int n;

	pthread_mutex_lock(&m->lock);
	snap = m->snap;
	pthread_mutex_unlock(&m->lock);
	/* Measured now, outside the snapshot's lock: the agent thread never waits on a scan. */
	pthread_mutex_lock(&m->cpu_lock);
	snap.have_cpu = cpuuse__measure(&m->cpu, snap.cpu_ns) == 0;
	pthread_mutex_unlock(&m->cpu_lock);
	for (;;) {
		char *p = realloc(buf, cap);

		if (!p) {
			free(buf);
			return NULL;
		}
		buf = p;
		n = metrics__render(&snap, buf, cap);
		if (n >= 0)
			break;
		if (cap >= METRICS_RENDER_MAX) {
			free(buf);
			return NULL;
		}
		cap *= 2;
	}
	*len = (size_t)n;
	return buf;
}

int metrics__health(int n_attached, uint64_t last_drain_ns, uint64_t now_ns, char *buf, size_t len)
{
	uint64_t ago = now_ns > last_drain_ns ? now_ns - last_drain_ns : 0;

	if (n_attached <= 0) {
		snprintf(buf, len, "not ready: the programs are not attached yet\n");
		return 503;
	}
	if (ago > METRICS_HEALTH_STALL_NS) {
		snprintf(buf, len, "unhealthy: the ring buffer was last drained %" PRIu64
			 " s ago (the limit is %llu s): the consumer is stuck and events will be lost\n",
			 ago / 1000000000, METRICS_HEALTH_STALL_NS / 1000000000);
		return 503;
	}
	snprintf(buf, len, "ok: %d programs attached, the ring buffer drained %" PRIu64 " ms ago\n",
		 n_attached, ago / 1000000);
	return 200;
}

static int answer_health(struct metrics *m, char **body, size_t *len, const char **type)
{
	char line[256];
	int status = metrics__health(atomic_load(&m->n_attached), atomic_load(&m->last_drain_ns),
				     clock__mono_ns(), line, sizeof(line));
	*body = strdup(line);
	if (!*body)
		return -ENOMEM;
	*len = strlen(*body);
	*type = "text/plain; charset=utf-8";
	return status;
}

static int answer(void *ctx, const char *path, char **body, size_t *len, const char **type)
{
	struct metrics *m = ctx;
	static __thread int named;
	int have;

	/* The server's thread, by its name: its CPU is the metrics role's (cpuuse.h). */
	if (!named) {
		pthread_setname_np(pthread_self(), "fl-metrics");
		named = 1;
	}
	if (!strcmp(path, "/healthz"))
		return answer_health(m, body, len, type);
	pthread_mutex_lock(&m->lock);
	have = m->have_snap;
	pthread_mutex_unlock(&m->lock);
	/* Before the agent's first tick there is nothing true to say: zeros would read as
	 * "no drops" and a heartbeat in 1970. A failed scrape (up == 0) says it honestly. */
	if (!have) {
		*body = strdup("no snapshot published yet\n");
		*len = *body ? strlen(*body) : 0;
		return *body ? 503 : -ENOMEM;
	}
	*body = render_latest(m, len);
	*type = PROMTEXT_CONTENT_TYPE;
	return *body ? 200 : -ENOMEM;
}

struct metrics *metrics__start(const char *addr, int *err)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int e;

	if (!m || pthread_mutex_init(&m->lock, NULL)) {
		free(m);
		if (err)
			*err = -ENOMEM;
		return NULL;
	}
	if (pthread_mutex_init(&m->cpu_lock, NULL)) {
		pthread_mutex_destroy(&m->lock);
		free(m);
		if (err)
			*err = -ENOMEM;
		return NULL;
	}
	static const char *const paths[] = { "/metrics", "/healthz", NULL };

	m->http = httpd__start(addr, paths, answer, m, &e);
	if (!m->http) {
		pthread_mutex_destroy(&m->cpu_lock);
		pthread_mutex_destroy(&m->lock);
		free(m);
		if (err)
			*err = e;
		errno = -e;
		return NULL;
	}
	return m;
}

int metrics__port(const struct metrics *m)
{
	return m ? httpd__port(m->http) : 0;
}

/* NULL-safe too, so that an agent running without metrics can publish unconditionally. */
void metrics__publish(struct metrics *m, const struct metrics_snapshot *s)
{
	if (!m || !s)
		return;
	pthread_mutex_lock(&m->lock);
	m->snap = *s;
	m->have_snap = 1;
	pthread_mutex_unlock(&m->lock);
}

void metrics__set_ready(struct metrics *m, int n_attached)
{
	if (m)
		atomic_store(&m->n_attached, n_attached);
}

void metrics__drained(struct metrics *m, uint64_t now_ns)
{
	if (m)
		atomic_store_explicit(&m->last_drain_ns, now_ns, memory_order_relaxed);
}

void metrics__stop(struct metrics *m)
{
	if (!m)
		return;
	httpd__stop(m->http);
	pthread_mutex_destroy(&m->cpu_lock);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
