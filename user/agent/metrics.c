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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef FL_METRICS_NO_HTTP
#include <microhttpd.h>
#endif

#include "firstlight.pb-c.h"
#include "base/log.h"
#include "agent/metrics.h"
#include "sensor/evtypes.h"
#include "sensor/kcaps.h"
#include "base/utf8.h"

/* metrics.h indexes gaps[] by the proto's Gap.Kind value: keep the two in step. */
_Static_assert(FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP == 1, "Gap.Kind order");
_Static_assert(FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS == METRICS_GAP_KINDS - 1, "Gap.Kind count");

/*
 * A scrape is a handful of small requests a minute from one Prometheus: a few connections
 * suffice. The limit and the idle timeout bound what a slow or stuck client can hold; the
 * polling thread never blocks on one client, so it cannot stall the others meanwhile.
 */
#define METRICS_CONN_LIMIT 16
#define METRICS_CONN_TIMEOUT_S 10
#define METRICS_BACKLOG 16
/* The rendered text is ~4 KiB; the cap only guards against a rendering bug looping. */
#define METRICS_RENDER_START 8192
#define METRICS_RENDER_MAX (1u << 20)

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#ifndef FL_METRICS_NO_HTTP
struct metrics {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;           /* guards snap and have_snap */
	struct metrics_snapshot snap;
	int have_snap;                  /* 0 until the first metrics__publish */
	int port;
};
#endif

/* ---- label names ------------------------------------------------------------------------ */

static const char *const record_kind_names[MR_KINDS] = {
	[MR_EXEC] = "exec",           [MR_FORK] = "fork",   [MR_EXIT] = "exit",
	[MR_FLOW] = "flow",           [MR_WORKLOAD] = "workload",
	[MR_GAP] = "gap",             [MR_HEARTBEAT] = "heartbeat",
	[MR_AGENT] = "agent",
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

/* Appends into a caller's buffer; after the first overflow every append is a no-op. */
struct out {
	char *buf;
	size_t cap;
	size_t len;
	int overflow;
};

static void out_bytes(struct out *o, const char *p, size_t n)
{
	if (o->overflow)
		return;
	/* Keep one byte for the NUL. */
	if (o->cap == 0 || n > o->cap - 1 - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_bytes(o, s, strlen(s));
}

static void out_fmt(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fmt(struct out *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Only numbers go through here; one that does not fit would be a bug, not data. */
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		o->overflow = 1;
		return;
	}
	out_bytes(o, tmp, (size_t)n);
}

/*
 * A label value: the exposition format escapes only backslash, double quote and newline.
 * Label values must be UTF-8, and the node name comes from the environment: bytes that are
 * not are first escaped losslessly as \xHH (utf8__escape, as in the records), whose
 * backslash the exposition escaping then doubles.
 */
static void out_label_value(struct out *o, const char *s, size_t max)
{
	char esc[4 * sizeof(((struct metrics_snapshot *)0)->node) + 1];
	size_t n = strnlen(s, max);
	size_t i;

	if (!utf8__valid(s, n)) {
		int r = utf8__escape(s, n, esc, sizeof(esc));

		if (r < 0) {
			o->overflow = 1;
			return;
		}
		s = esc;
		n = (size_t)r;
	}
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\':
			out_bytes(o, "\\\\", 2);
			break;
		case '"':
			out_bytes(o, "\\\"", 2);
			break;
		case '\n':
			out_bytes(o, "\\n", 2);
			break;
		default:
			out_bytes(o, s + i, 1);
		}
	}
}

/*
 * A sample value as Go's strconv.ParseFloat reads it: the shortest %g form that reads back
 * as the same double (0.25, not 0.25000000000000000), and NaN/+Inf/-Inf spelled the
 * Prometheus way. Assumes the C numeric locale, which the agent never changes.
 */
static void out_double(struct out *o, double v)
{
	char tmp[40];
	int prec;

	if (isnan(v)) {
		out_str(o, "NaN");
		return;
	}
	if (isinf(v)) {
		out_str(o, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	out_str(o, tmp);
}

static void out_header(struct out *o, const char *name, const char *type, const char *help)
{
	out_fmt(o, "# HELP %s ", name);
	out_str(o, help);
	out_fmt(o, "\n# TYPE %s %s\n", name, type);
}

static void out_u64(struct out *o, const char *name, const char *type, const char *help,
		    uint64_t v)
{
	out_header(o, name, type, help);
	out_fmt(o, "%s %" PRIu64 "\n", name, v);
}

static void out_gauge(struct out *o, const char *name, const char *help, double v)
{
	out_header(o, name, "gauge", help);
	out_fmt(o, "%s ", name);
	out_double(o, v);
	out_str(o, "\n");
}

static void out_labelled(struct out *o, const char *name, const char *label, const char *value,
			 uint64_t v)
{
	out_fmt(o, "%s{%s=\"", name, label);
	/* Label values from our own tables are plain [a-z_-]: no escaping needed. */
	out_str(o, value);
	out_fmt(o, "\"} %" PRIu64 "\n", v);
}

int metrics__render(const struct metrics_snapshot *s, char *buf, size_t len)
{
	struct out o = { .buf = buf, .cap = len };
	uint64_t unknown_drops = 0;
	unsigned int i;

	out_header(&o, "firstlight_records_total", "counter", "Records written, by record kind.");
	for (i = 0; i < MR_KINDS; i++)
		out_labelled(&o, "firstlight_records_total", "kind",
			     metrics_record_kind_name((enum metrics_record_kind)i), s->records[i]);

	/* Every named type is always present (0 when none), so that increase() sees the first
	 * drop instead of a series appearing out of nothing. */
	out_header(&o, "firstlight_drops_total", "counter",
		   "Kernel events lost because the ring buffer was full, by event type.");
	for (i = 0; i < FL_EV_MAX; i++) {
		if (strcmp(evtypes__name(i), "unknown"))
			out_labelled(&o, "firstlight_drops_total", "event_type", evtypes__name(i), s->drops[i]);
		else
			unknown_drops += s->drops[i];
	}
	out_labelled(&o, "firstlight_drops_total", "event_type", "unknown", unknown_drops);

	out_header(&o, "firstlight_gaps_total", "counter", "Gap records written, by gap kind.");
	for (i = 1; i < METRICS_GAP_KINDS; i++)
		out_labelled(&o, "firstlight_gaps_total", "kind", gap_kind_names[i], s->gaps[i]);

	out_u64(&o, "firstlight_unattributed_workloads_total", "counter",
		"Workloads that ended before their identity could be resolved.",
		s->unattributed_workloads);
	out_u64(&o, "firstlight_blind_workloads_total", "counter",
		"Workloads seen with no process events: empty ones and opaque sandboxes.",
		s->blind_workloads);
	out_u64(&o, "firstlight_sink_lost_records_total", "counter",
		"Records a sink had to discard (disk or spool full).", s->sink_lost);
	out_u64(&o, "firstlight_malformed_events_total", "counter",
		"Kernel events the agent could not decode.", s->malformed_events);
	out_u64(&o, "firstlight_live_processes", "gauge", "Processes currently known alive.",
		s->live_processes);
	out_u64(&o, "firstlight_live_workloads", "gauge", "Workloads currently known alive.",
		s->live_workloads);
	out_gauge(&o, "firstlight_ring_buffer_fill_ratio",
		  "Peak fraction of the ring buffer in use over the last heartbeat interval (0 to 1).",
		  s->ring_fill_ratio);
	out_gauge(&o, "firstlight_last_heartbeat_timestamp_seconds",
		  "Unix time of the last heartbeat record.", s->last_heartbeat_seconds);
	out_gauge(&o, "firstlight_start_time_seconds", "Unix time the agent started.",
		  s->start_seconds);
	out_gauge(&o, "firstlight_heartbeat_interval_seconds",
		  "Seconds between heartbeat records: a heartbeat older than a few of these is stale.",
		  s->heartbeat_interval_seconds);

	/* Every capability is always present, so that an alert can select the 0s. */
	out_header(&o, "firstlight_node_capability", "gauge",
		   "What this node's kernel lets the sensor observe: 1 available, 0 missing "
		   "(the NodeCapabilities record says why).");
	for (i = 0; i < KCAP_COUNT; i++)
		out_labelled(&o, "firstlight_node_capability", "capability", kcaps__name((enum kcap)i),
			     !(s->capabilities_missing & (1u << i)));

	out_header(&o, "firstlight_build_info", "gauge",
		   "Agent version, node name and run id; always 1.");
	out_str(&o, "firstlight_build_info{version=\"");
	out_label_value(&o, s->version, sizeof(s->version));
	out_str(&o, "\",node=\"");
	out_label_value(&o, s->node, sizeof(s->node));
	out_str(&o, "\",run_id=\"");
	out_label_value(&o, s->run_id, sizeof(s->run_id));
	out_str(&o, "\"} 1\n");

	if (len > 0)
		buf[o.len] = '\0';
	if (o.overflow || o.len > INT_MAX)
		return -ENOSPC;
	return (int)o.len;
}

/* ---- HTTP ------------------------------------------------------------------------------- */
#ifndef FL_METRICS_NO_HTTP

/* Renders the latest snapshot into a heap buffer for MHD to send and free. */
static char *render_latest(struct metrics *m, size_t *len)
{
	struct metrics_snapshot snap;
	size_t cap = METRICS_RENDER_START;
	char *buf = NULL;
	int n;

	pthread_mutex_lock(&m->lock);
	snap = m->snap;
	pthread_mutex_unlock(&m->lock);

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

static enum MHD_Result reply_static(struct MHD_Connection *conn, unsigned int status,
				    const char *body, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				    "text/plain; charset=utf-8") != MHD_YES ||
	    (allow && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * Called by MHD for each request (on its thread). Answers on the first call: none of our
 * answers depends on a request body, and MHD discards one it was not asked to read.
 */
static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **req_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len = 0;
	int have;
	char *body;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;

	if (strcmp(url, "/metrics") != 0)
		return reply_static(conn, MHD_HTTP_NOT_FOUND, "not found: the path is /metrics\n",
				    NULL);
	/* HEAD is GET without the body (RFC 9110 9.3.2); MHD drops the body itself. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
				    "GET, HEAD");

	pthread_mutex_lock(&m->lock);
	have = m->have_snap;
	pthread_mutex_unlock(&m->lock);
	/* Before the agent's first tick there is nothing true to say: zeros would read as
	 * "no drops" and a heartbeat in 1970. A failed scrape (up == 0) says it honestly. */
	if (!have)
		return reply_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "no snapshot published yet\n", NULL);

	body = render_latest(m, &len);
	if (!body)
		return MHD_NO; /* out of memory: MHD closes the connection */
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE) != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* MHD's own diagnostics (a client that went away, and the like): debug level only, since
 * start-up failures reach the caller as -errno anyway. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("metrics: %s", line);
}

/*
 * "host:port" or "[v6]:port", numeric host only: a metrics bind address is a security
 * decision, so it should not depend on what a resolver answers today. Port 0..65535.
 */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char host[INET6_ADDRSTRLEN + 32];
	const char *port, *colon;
	size_t hlen, i;
	int err;

	if (!addr)
		return -EINVAL;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - addr - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr + 1, hlen);
		port = close + 2;
		hints.ai_family = AF_INET6;
	} else {
		colon = strrchr(addr, ':');
		/* An unbracketed v6 address ("::1:9464") is ambiguous: refuse it. */
		if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
			return -EINVAL;
		hlen = (size_t)(colon - addr);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr, hlen);
		port = colon + 1;
		hints.ai_family = AF_INET;
	}
	host[hlen] = '\0';
	/* getaddrinfo would take "+1", " 1" or "0x10": insist on 1 to 5 decimal digits. */
	for (i = 0; port[i]; i++)
		if (port[i] < '0' || port[i] > '9')
			return -EINVAL;
	if (i == 0 || i > 5 || atoi(port) > 65535)
		return -EINVAL;

	err = getaddrinfo(host, port, &hints, &ai);
	if (err == EAI_MEMORY)
		return -ENOMEM;
	if (err)
		return -EINVAL;
	if (ai->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(ai);
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Binds and listens ourselves rather than letting MHD do it, so that the caller gets the
 * exact errno (EADDRINUSE, EADDRNOTAVAIL, EACCES) and we learn the port that 0 picked. */
static int open_listener(const struct sockaddr_storage *ss, socklen_t sslen, int *port)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	int fd, one = 1, err;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Lets a restarted agent rebind while the old connections sit in TIME_WAIT; on Linux
	 * it does not let two live listeners share the port. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)ss, sslen) < 0 || listen(fd, METRICS_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &blen) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (bound.ss_family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
	else
		*port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
	return fd;
}

struct metrics *metrics__start(const char *addr, int *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	sigset_t all, old;
	struct metrics *m = NULL;
	int fd = -1, ret, saved;

	ret = parse_addr(addr, &ss, &sslen);
	if (ret)
		goto cleanup;
	m = calloc(1, sizeof(*m));
	if (!m) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ret = -pthread_mutex_init(&m->lock, NULL);
	if (ret) {
		free(m);
		m = NULL;
		goto cleanup;
	}
	fd = open_listener(&ss, sslen, &m->port);
	if (fd < 0) {
		ret = fd;
		goto cleanup;
	}

	/*
	 * The HTTP thread inherits the caller's signal mask. Block everything while it is
	 * created so that SIGTERM/SIGINT stay with the agent's signalfd even if the agent
	 * starts metrics before it blocks them: a process-directed signal delivered to this
	 * thread would otherwise take its default action and kill the agent uncleanly.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	errno = 0;
	m->daemon = MHD_start_daemon(
		MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle_request, m,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONN_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_CONN_TIMEOUT_S,
		MHD_OPTION_END);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* From the call on the socket is MHD's: it closes it on stop and also when the start
	 * fails (seen in 0.9.75), so we must not close it again. */
	fd = -1;
	if (!m->daemon) {
		ret = saved ? -saved : -EIO;
		goto cleanup;
	}
	return m;

cleanup:
	if (fd >= 0)
		close(fd);
	if (m) {
		pthread_mutex_destroy(&m->lock);
		free(m);
	}
	if (err)
		*err = ret;
	errno = -ret;
	return NULL;
}

int metrics__port(const struct metrics *m)
{
	return m ? m->port : 0;
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

void metrics__stop(struct metrics *m)
{
	if (!m)
		return;
	/* Joins the HTTP thread and closes every connection and the listening socket. */
	MHD_stop_daemon(m->daemon);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

#else /* FL_METRICS_NO_HTTP */

/*
 * The static build (make static) has no libmicrohttpd: Debian 12 ships no static p11-kit
 * for the GnuTLS it links. There the endpoint cannot start, and the agent runs without it
 * (with a warning, or an error for an explicit --metrics-addr).
 */
struct metrics *metrics__start(const char *addr, int *err)
{
	(void)addr;
	if (err)
		*err = -ENOTSUP;
	return NULL;
}

int metrics__port(const struct metrics *m)
{
	(void)m;
	return 0;
}

void metrics__publish(struct metrics *m, const struct metrics_snapshot *s)
{
	(void)m;
	(void)s;
}

void metrics__stop(struct metrics *m)
{
	(void)m;
}

#endif /* FL_METRICS_NO_HTTP */
