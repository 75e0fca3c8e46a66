/*
 * The agent: open, configure, load, attach, seed, consume, stop. One epoll set holds
 * the ring buffer, a signalfd (SIGINT, SIGTERM) and a timerfd. The kernel does not wake
 * us per event (BPF_RB_NO_WAKEUP), so the timer drains the ring every drain interval;
 * the kernel forces a wake-up only when the ring fills past a watermark.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "agent/agent.h"
#include "agent/handover.h"
#include "identity/owners.h"
#include "base/clock.h"
#include "sensor/cgscan.h"
#include "sensor/decode.h"
#include "sensor/decode_file.h"
#include "sensor/decode_net.h"
#include "sensor/drops.h"
#include "sensor/hostmounts.h"
#include "records/gaps.h"
#include "sensor/loader.h"
#include "sensor/filedrain.h"
#include "sensor/loader_net.h"
#include "sensor/pins.h"
#include "base/log.h"
#include "agent/metrics.h"
#include "agent/privdrop.h"
#include "sensor/procscan.h"
#include "sensor/proctable.h"
#include "records/record.h"
#include "agent/runstate.h"
#include "agent/sensordown.h"
#include "records/sink.h"
#include "store/sink_stdout.h"
#include "store/sink_tee.h"
#include "sensor/snapshot.h"
#include "agent/storelink.h"
#include "ship/shipper.h"
#include "store/store.h"
#include "store/store_dir.h"
#include "sensor/udpdrain.h"
#include "records/version.h"

#define SHIP_STOP_GRACE_MS 5000 /* at a stop, how long the last batches may take to ship */

struct agent {
	struct agent_opts opts;
	struct loader loader;
	struct ring_buffer *ring;
	struct sink *sink;
	struct store *store; /* segment files: the sink's policy (NULL with --stdout) */
	struct storelink store_link; /* what the store reports, as records */
	struct shipper *shipper;     /* --ship: the store's batches to JetStream */
	struct recorder rec;
	struct proctable *procs;
	struct decoder dec;
	struct resolver *resolver;
	struct workloads *workloads;
	struct hostmounts *mounts; /* the host's mount table: fileAccess host paths; may be NULL */
	struct gaps *gaps;
	struct drops *drops;
	struct metrics *metrics;
	struct runstate state; /* ours, as written to the data dir */
	int epfd, sigfd, timerfd;
	uint64_t last_flush_ns;
	uint64_t last_sweep_ns;
	uint64_t last_heartbeat_ns;
	double ring_fill;      /* peak fill ratio over the last heartbeat interval */
	double last_heartbeat_unix; /* seconds, for the metrics */
	double start_unix;
	uint64_t last_net_ns;
	struct owners *owners; /* --owners: the rules in force (reloaded on SIGHUP) */
	const char *unobserved[KCAP_COUNT]; /* the node's missing capabilities (static names) */
	size_t n_unobserved;
	/* --handover */
	struct pins *pins;
	char pin_layout[80];         /* "<layout>:<object sha256>" */
	char adopted_run_id[40];     /* the run whose programs we adopted, "" if none */
	uint64_t handover_boot_ns;   /* when that run drained for the last time */
	char handover_refused[320];  /* why a handed-over pin set was not adopted, "" if none */
};

static int emit_lifecycle(struct agent *a, int state)
{
	Firstlight__V1__AgentLifecycle body = FIRSTLIGHT__V1__AGENT_LIFECYCLE__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	body.state = state;
	body.version = (char *)FIRSTLIGHT_VERSION;
	body.pid = (uint32_t)getpid();
	body.boot_id = a->rec.boot_id;
	if (a->owners) {
		body.owners_file = (char *)owners__name(a->owners);
		body.owners_sha256 = (char *)owners__sha256(a->owners);
		body.owners_rules = (uint32_t)owners__count(a->owners);
	}
	if (state == FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED) {
		body.records = a->rec.seq + 1; /* this record included */
		body.drops = drops__total(a->drops);
		body.handover = a->pins != NULL;
	}
	if (state == FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STARTED && a->adopted_run_id[0])
		body.adopted_run_id = a->adopted_run_id;
	if (a->pins)
		body.pin_layout = a->pin_layout;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_AGENT;
	ev.agent = &body;
	return recorder__emit(&a->rec, &ev, 0);
}

/* The namespace inode of /proc/PID/ns/NAME, 0 if it cannot be read. */
static uint32_t ns_inode(const char *pid, const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/%s", pid, name);
	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
}

/* The initial mount namespace as kthreadd's: pid 2, when pid 2 is kthreadd (the host's
 * pid namespace), else 0. */
static uint32_t kthreadd_mnt_ns(void)
{
	char comm[32] = "";
	FILE *f = fopen("/proc/2/comm", "re");

	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return strcmp(comm, "kthreadd\n") ? 0 : ns_inode("2", "mnt");
}

/* Where cgroup2 is mounted: /sys/fs/cgroup/unified on hybrid hosts, else /sys/fs/cgroup. */
static const char *cgroup2_root(void)
{
	struct statfs sf;

	if (!statfs("/sys/fs/cgroup/unified", &sf) && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup/unified";
	if (!statfs("/sys/fs/cgroup", &sf) && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup";
	return NULL;
}

/* A gap record named a cgroup: counted in that workload's coverage. */
static void note_gap(void *ctx, uint64_t cgroup_id, int kind, uint64_t count)
{
	workloads__note_gap(ctx, cgroup_id, kind, count);
}

static int start_workloads(struct agent *a)
{
	struct workloads_opts wo = { .rec = &a->rec, .procs = a->procs };
	struct statfs sf;
	int err;

	wo.gaps = a->gaps;
	a->resolver = resolver__new();
	if (!a->resolver) {
		log_error("starting the identity resolver: %s", strerror(errno));
		return -errno;
	}
	wo.resolver = a->resolver;
	/* The host's namespaces: pid 1's when we may read them; else kthreadd's (pid 2 in the
	 * host's pid namespace, a kernel thread in the initial mount namespace): an agent in a
	 * pod (hostPID) may be refused pid 1's links when pid 1 holds a capability the pod
	 * lacks, and its own mount namespace is the pod's, not the host's. Our own last. */
	wo.host_mnt_ns = ns_inode("1", "mnt") ?: kthreadd_mnt_ns() ?: ns_inode("self", "mnt");
	wo.host_pid_ns = ns_inode("self", "pid");
	a->n_unobserved = kcaps__missing_names(&a->loader.caps, a->unobserved);
	wo.unobserved = a->unobserved;
	wo.n_unobserved = a->n_unobserved;
	a->workloads = workloads__new(&wo);
	if (!a->workloads)
		return -ENOMEM;
	err = cgscan__existing(a->workloads, cgroup2_root(),
			      !statfs("/sys/fs/cgroup/memory", &sf) && sf.f_type == CGROUP_SUPER_MAGIC
				      ? "/sys/fs/cgroup/memory" : NULL);
	if (err)
		log_warn("scanning existing cgroups: %s", strerror(-err));
	workloads__set_owners(a->workloads, a->owners, a->opts.fail_unowned);
	decoder__set_workloads(&a->dec, a->workloads);
	gaps__set_observer(a->gaps, note_gap, a->workloads);
	return 0;
}

static void record_capabilities(struct agent *a, int snapshot);

/* A new segment's snapshot: what the node can observe, the live workloads, then the live
 * processes in them. */
static void snapshot(void *ctx)
{
	struct agent *a = ctx;

	record_capabilities(a, 1);
	workloads__snapshot(a->workloads);
	snapshot__emit(&a->rec, a->procs);
}

/* Writes our run's state to the data dir (not in --stdout mode: there is none). */
static void save_state(struct agent *a, int clean)
{
	uint64_t now = wallclock__unix_ns(&a->rec.clock, clock__boot_ns());
	int err;

	if (a->opts.to_stdout)
		return;
	a->state.heartbeat_unix_ns = now;
	a->state.last_seq = a->rec.seq;
	a->state.clean = clean;
	a->state.stopped_unix_ns = clean ? now : 0;
	err = runstate__save(a->opts.data_dir, &a->state);
	if (err)
		log_warn("saving run state in %s: %s", a->opts.data_dir, strerror(-err));
}


/*
 * Metrics are how a platform team's alerts see gaps. Failing to serve them on an address
 * the operator chose is an error; on the default one (another agent, a test) we warn and
 * run on: the records, gaps included, matter more than their summary.
 */
static int start_metrics(struct agent *a)
{
	int err = 0;

	a->metrics = metrics__start(a->opts.metrics_addr, &err);
	if (a->metrics)
		return 0; /* announced with readiness */
	if (a->opts.metrics_explicit) {
		log_error("--metrics-addr %s: %s", a->opts.metrics_addr, strerror(-err));
		return err;
	}
	log_warn("metrics not served on %s: %s (set --metrics-addr, or off)", a->opts.metrics_addr,
		 strerror(-err));
	return 0;
}

static void heartbeat(struct agent *a)
{
	Firstlight__V1__Heartbeat hb = FIRSTLIGHT__V1__HEARTBEAT__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	const uint64_t *by = a->rec.by_kind;
	uint64_t used, size;

	if (!loader__ring_fill(&a->loader, &used, &size) && size)
		a->ring_fill = (double)used / (double)size;
	hb.interval_nano = (uint64_t)a->opts.heartbeat_s * 1000000000ull;
	hb.records = a->rec.seq;
	hb.drops = drops__total(a->drops);
	hb.live_processes = proctable__count(a->procs);
	hb.live_workloads = workloads__stats(a->workloads)->live;
	hb.exec_records = by[FIRSTLIGHT__V1__EVENT__BODY_EXEC];
	hb.fork_records = by[FIRSTLIGHT__V1__EVENT__BODY_FORK];
	hb.exit_records = by[FIRSTLIGHT__V1__EVENT__BODY_EXIT];
	hb.flow_records = by[FIRSTLIGHT__V1__EVENT__BODY_FLOW];
	hb.workload_records = by[FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD];
	hb.gap_records = by[FIRSTLIGHT__V1__EVENT__BODY_GAP];
	hb.ring_fill_ratio = a->ring_fill;
	hb.sink_lost = a->sink->lost;
	hb.sink_backlog = a->rec.seq - a->sink->written - a->sink->lost;
	hb.malformed_events = a->dec.stats.malformed;
	hb.image_bytes = a->dec.image_bytes;
	hb.argv_not_kept = a->dec.stats.args_not_kept;
	hb.share_drops = drops__share(a->drops);
	hb.untracked_processes = a->dec.stats.untracked;
	hb.owners_sha256 = (char *)owners__sha256(a->owners);
	hb.privilege_records = by[FIRSTLIGHT__V1__EVENT__BODY_PRIVILEGE];
	hb.file_access_records = by[FIRSTLIGHT__V1__EVENT__BODY_FILE_ACCESS];
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT;
	ev.heartbeat = &hb;
	recorder__emit(&a->rec, &ev, 0);
	a->last_heartbeat_unix = (double)ev.time_unix_nano / 1e9;
	save_state(a, 0);
}

/* What a scrape shows: a copy of the counters, taken on the consumer thread. */
static void publish_metrics(struct agent *a)
{
	static const int kinds[MR_KINDS] = {
		[MR_EXEC] = FIRSTLIGHT__V1__EVENT__BODY_EXEC,
		[MR_FORK] = FIRSTLIGHT__V1__EVENT__BODY_FORK,
		[MR_EXIT] = FIRSTLIGHT__V1__EVENT__BODY_EXIT,
		[MR_FLOW] = FIRSTLIGHT__V1__EVENT__BODY_FLOW,
		[MR_WORKLOAD] = FIRSTLIGHT__V1__EVENT__BODY_WORKLOAD,
		[MR_GAP] = FIRSTLIGHT__V1__EVENT__BODY_GAP,
		[MR_HEARTBEAT] = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT,
		[MR_AGENT] = FIRSTLIGHT__V1__EVENT__BODY_AGENT,
		[MR_PRIVILEGE] = FIRSTLIGHT__V1__EVENT__BODY_PRIVILEGE,
		[MR_FILE_ACCESS] = FIRSTLIGHT__V1__EVENT__BODY_FILE_ACCESS,
	};
	const struct workload_stats *ws = workloads__stats(a->workloads);
	struct metrics_snapshot s = { 0 };

	if (!a->metrics)
		return;
	for (int k = 0; k < MR_KINDS; k++)
		s.records[k] = a->rec.by_kind[kinds[k]];
	memcpy(s.drops, drops__by_type(a->drops), sizeof(s.drops));
	memcpy(s.gaps, gaps__by_kind(a->gaps), sizeof(s.gaps));
	s.unattributed_workloads = ws->unattributed;
	s.blind_workloads = s.gaps[FIRSTLIGHT__V1__GAP__KIND__BLIND_WORKLOAD];
	s.sink_lost = a->sink->lost;
	s.malformed_events = a->dec.stats.malformed;
	s.live_processes = proctable__count(a->procs);
	s.live_workloads = ws->live;
	s.ring_fill_ratio = a->ring_fill;
	s.last_heartbeat_seconds = a->last_heartbeat_unix;
	s.start_seconds = a->start_unix;
	s.heartbeat_interval_seconds = a->opts.heartbeat_s;
	s.capabilities_missing = a->loader.caps.missing;
	{
		struct workload_privileged wp[METRICS_WORKLOADS_MAX];

		s.n_workloads = workloads__privileged(a->workloads, wp, METRICS_WORKLOADS_MAX,
						      &s.other_privilege_changes,
						      &s.other_file_accesses);
		for (size_t i = 0; i < s.n_workloads; i++) {
			snprintf(s.workloads[i].key, sizeof(s.workloads[i].key), "%.47s", wp[i].key);
			snprintf(s.workloads[i].owner, sizeof(s.workloads[i].owner), "%.63s", wp[i].owner);
			s.workloads[i].privilege_changes = wp[i].privilege_changes;
			s.workloads[i].file_accesses = wp[i].file_accesses;
		}
	}
	snprintf(s.version, sizeof(s.version), "%s", FIRSTLIGHT_VERSION);
	snprintf(s.node, sizeof(s.node), "%s", a->rec.node);
	snprintf(s.run_id, sizeof(s.run_id), "%s", a->rec.run_id);
	if (a->shipper) {
		struct ship_stats ss;

		shipper__stats(a->shipper, &ss);
		s.ship = 1;
		s.ship_connected = ss.connected;
		s.ship_acked = ss.acked;
		s.ship_messages = ss.messages;
		s.ship_message_bytes = ss.message_bytes;
		s.ship_duplicates = ss.duplicates;
		s.ship_publish_errors = ss.publish_errors;
		s.ship_backlog = ss.backlog;
		s.ship_backlog_bytes = ss.backlog_bytes;
		s.ship_oldest_seconds = (double)ss.oldest_unix_ns / 1e9;
		_Static_assert(METRICS_LAG_BUCKETS == SHIP_LAG_BUCKETS, "one histogram");
		memcpy(s.ship_lag_buckets, ss.lag_buckets, sizeof(s.ship_lag_buckets));
		memcpy(s.ship_lag_bounds, ship_lag_bounds, sizeof(s.ship_lag_bounds));
		s.ship_lag_sum = ss.lag_sum_s;
		s.ship_lag_count = ss.lag_count;
	}
	metrics__publish(a->metrics, &s);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;
	const struct fl_event_hdr *h = data;

	/* A workload's end is its coverage's last word: the losses the kernel counted for it
	 * (all before its removal) are taken in first, not at the next flush. */
	if (size >= sizeof(*h) && h->type == FL_EV_CGROUP_RMDIR && a->drops)
		drops__report(a->drops);
	/* A malformed or unrecordable event is counted by the decoder; keep draining. */
	decoder__handle(&a->dec, data, size);
	return 0;
}

static void drain(struct agent *a)
{
	int n;

	/* What is queued from here on counts against the workloads' shares afresh: this
	 * drain takes everything queued before it. */
	loader__new_epoch(&a->loader);
	n = ring_buffer__consume(a->ring);

	if (n < 0 && n != -EINTR)
		log_warn("ring buffer: %s", strerror(-n));
	metrics__drained(a->metrics, clock__mono_ns());
}

/*
 * Every network window (and at stop, with all set): UDP aggregates of the generation the
 * kernel left, unix connects whose peer did not come, program runs the kernel skipped.
 */
static void net_tick(struct agent *a, int all)
{
	uint64_t skipped;
	int err;

	if (all && a->pins) {
		/* A handover: the generation the kernel writes stays for the next agent, which
		 * drains it a window later, as we would have. */
		udpdrain__window(&a->loader, a->dec.net);
		netdec__flush(a->dec.net);
	} else if (all) {
		udpdrain__all(&a->loader, a->dec.net);
		netdec__flush(a->dec.net);
	} else {
		udpdrain__window(&a->loader, a->dec.net);
		netdec__tick(a->dec.net, clock__boot_ns());
	}
	/* Watched-file opens by the same windows; a handover leaves the kernel's current
	 * generation for the next agent, as UDP's. */
	err = filedrain__window(&a->loader, a->dec.file, all && !a->pins);
	if (err)
		log_warn("watched-file opens: %s", strerror(-err));
	if (!loader__skipped(&a->loader, &skipped))
		netdec__skipped(a->dec.net, skipped);
}

/*
 * Whether a periodic job last run at *last is due again at now, on a timer that ticks
 * every drain interval. Half a tick of tolerance: a tick that wakes a little early or
 * late must not push the job a whole tick later (a 100 ms flush on a 50 ms tick would
 * otherwise run every 150 ms whenever the tick that closed the interval woke early).
 */
static int due(const struct agent *a, uint64_t now, uint64_t last, uint64_t interval_ns)
{
	return now + (uint64_t)a->opts.drain_ms * 500000 >= last + interval_ns;
}

static void tick(struct agent *a)
{
	uint64_t now = clock__mono_ns();

	drain(a);
	workloads__tick(a->workloads);
	if (due(a, now, a->last_flush_ns, (uint64_t)a->opts.flush_ms * 1000000)) {
		a->last_flush_ns = now;
		wallclock__sync(&a->rec.clock);
		drops__report(a->drops);
		gaps__flush(a->gaps);
		if (now - a->last_heartbeat_ns >= (uint64_t)a->opts.heartbeat_s * 1000000000ull) {
			a->last_heartbeat_ns = now;
			heartbeat(a);
		}
		publish_metrics(a);
		a->sink->flush(a->sink);
		if (a->store)
			store__tick(a->store);
	}
	if (due(a, now, a->last_net_ns, (uint64_t)a->opts.net_window_ms * 1000000)) {
		a->last_net_ns = now;
		net_tick(a, 0);
	}
	/* A process whose exit was lost (ring full) would stay in the table: sweep. */
	if (now - a->last_sweep_ns >= 60ull * 1000000000) {
		size_t n = proctable__sweep(a->procs, a->last_sweep_ns, NULL, NULL);

		if (n)
			log_debug("swept %zu processes whose exit was not seen", n);
		a->last_sweep_ns = now;
	}
}

static int setup_loop(struct agent *a)
{
	struct itimerspec its = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	a->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	a->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->sigfd < 0 || a->timerfd < 0 || a->epfd < 0)
		return -errno;
	its.it_interval.tv_sec = a->opts.drain_ms / 1000;
	its.it_interval.tv_nsec = (long)(a->opts.drain_ms % 1000) * 1000000;
	its.it_value = its.it_interval;
	if (timerfd_settime(a->timerfd, 0, &its, NULL))
		return -errno;
	ev.data.fd = a->sigfd;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->sigfd, &ev))
		return -errno;
	ev.data.fd = a->timerfd;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->timerfd, &ev))
		return -errno;
	ev.data.fd = ring_buffer__epoll_fd(a->ring);
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	ev.data.fd = resolver__fd(a->resolver);
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	return 0;
}

/*
 * SIGHUP: the owners file again. A file with a problem changes nothing (the rules in
 * force stay, and say so); a good one applies to every Workload record from now on, and
 * a heartbeat at once puts its hash in the chain at the moment it took effect.
 */
static void reload_owners(struct agent *a)
{
	char err[OWNERS_ERR_MAX];
	struct owners *o;

	if (!a->opts.owners_path) {
		log_info("signal 1 (SIGHUP): no --owners file to reload");
		return;
	}
	o = owners__load(a->opts.owners_path, err, sizeof(err));
	if (!o) {
		log_error("owners: %s; still applying the rules loaded before (sha256 %s): fix the "
			  "file and send SIGHUP again", err, owners__sha256(a->owners));
		return;
	}
	workloads__set_owners(a->workloads, o, a->opts.fail_unowned);
	owners__free(a->owners);
	a->owners = o;
	log_info("owners: reloaded %s: %zu rules, sha256 %s", owners__name(o), owners__count(o),
		 owners__sha256(o));
	heartbeat(a);
	a->sink->flush(a->sink);
}

static int run_loop(struct agent *a)
{
	int ring_epfd = ring_buffer__epoll_fd(a->ring);

	for (;;) {
		struct epoll_event evs[4];
		int n = epoll_wait(a->epfd, evs, 4, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == a->sigfd) {
				struct signalfd_siginfo si;

				if (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						reload_owners(a);
						continue;
					}
					log_info("signal %u: stopping", si.ssi_signo);
					return 0;
				}
			} else if (fd == a->timerfd) {
				uint64_t expirations;

				if (read(a->timerfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
					return -errno;
				tick(a);
			} else if (fd == ring_epfd) {
				/* A forced wake-up: the ring is filling, or a cgroup was made. */
				drain(a);
				workloads__poll_resolver(a->workloads);
			} else if (fd == resolver__fd(a->resolver)) {
				workloads__poll_resolver(a->workloads);
			}
		}
	}
}

static int write_ready_file(const char *path)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	int len = snprintf(buf, sizeof(buf), "%d\n", getpid());

	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)len) != len) {
		close(fd);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

static void agent_free(struct agent *a)
{
	shipper__stop(a->shipper, 0);
	ring_buffer__free(a->ring);
	loader__stop(&a->loader); /* what is pinned stays attached */
	pins__close(a->pins);
	resolver__free(a->resolver); /* joins the worker before what it reads goes */
	filedec__free(a->dec.file);
	a->dec.file = NULL;
	hostmounts__free(a->mounts);
	workloads__free(a->workloads);
	drops__free(a->drops);
	gaps__free(a->gaps);
	metrics__stop(a->metrics);
	decoder__fini(&a->dec);
	owners__free(a->owners); /* after the workloads, which point into it */
	proctable__free(a->procs);
	sink__free(a->sink);
	store__free(a->store); /* after the sink: it holds the key the sink signs with */
	recorder__fini(&a->rec);
	if (a->epfd >= 0)
		close(a->epfd);
	if (a->sigfd >= 0)
		close(a->sigfd);
	if (a->timerfd >= 0)
		close(a->timerfd);
}

void agent_opts__defaults(struct agent_opts *o)
{
	*o = (struct agent_opts){
		.data_dir = STORE_DEFAULT_DIR,
		.ring_bytes = 8u << 20,
		.ring_share_pct = 25,
		.ring_headroom_pct = 10,
		.args_max_bytes = FL_ARGS_DEFAULT,
		.args_max_count = 64,
		.max_procs = 65536,
		.table_memory = 64u << 20,
		.drain_ms = 100,
		.flush_ms = 100,
		.heartbeat_s = 10,
		.metrics_addr = "127.0.0.1:9464",
		.pin_dir = PINS_DEFAULT_DIR,
		.net_window_ms = 1000,
		.ship_linger_ms = 500,
	};
	store_opts__defaults(&o->store);
	watchpaths__init(&o->watch);
}

/* SIGINT and SIGTERM arrive through a signalfd: blocked here, before any thread starts
 * (threads inherit the mask), or one of them would take the default action. A reader
 * that goes away (a closed pipe) is a sink loss to count, not our death. */
static int block_signals(void)
{
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP); /* reloads the owners file */
	return pthread_sigmask(SIG_BLOCK, &mask, NULL) ? -errno : 0;
}

/* Where records go: the segment store, stdout, or both (--live). Logs why not. */
static int open_output(struct agent *a)
{
	int err = 0;

	if (a->opts.to_stdout) {
		a->sink = sink_stdout__new(STDOUT_FILENO, a->opts.stdout_text);
		if (!a->sink) {
			log_error("stdout: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
	} else {
		struct store_ident id = { .run_id = a->rec.run_id, .node = a->rec.node, .boot_id = a->rec.boot_id };

		a->store = store__open(a->opts.data_dir, &a->opts.store, &id, &err);
		a->sink = a->store ? store__sink(a->store) : NULL;
		if (!a->sink)
			return err; /* the store said why */
		if (a->opts.ship_urls) {
			struct shipper_opts so = {
				.urls = a->opts.ship_urls,
				.creds = a->opts.ship_creds,
				.tls_ca = a->opts.ship_tls_ca,
				.prefix = a->opts.ship_prefix,
				.node = a->rec.node,
				.data_dir = a->opts.data_dir,
				.replicas = a->opts.ship_replicas,
				.linger_ms = a->opts.ship_linger_ms,
				.live_from = store__first_segment(a->store),
			};

			a->shipper = shipper__start(&so, &err);
			if (!a->shipper)
				return err; /* it said why */
		}
		if (a->opts.live) {
			struct sink *out = sink_stdout__new(STDOUT_FILENO, a->opts.stdout_text);
			struct sink *tee = out ? sink_tee__new(a->sink, out) : NULL;

			if (!tee) {
				sink__free(out);
				log_error("data dir %s: %s", a->opts.data_dir, strerror(ENOMEM));
				return -ENOMEM;
			}
			a->sink = tee;
		}
	}
	a->rec.sink = a->sink;
	return 0;
}

/*
 * Whether the pins in our pin dir were handed over to us: their meta says so, they are of
 * our layout, build and configuration, the data dir's last run is the one that left them
 * and its counts are there. Empty why: adopt; else why not.
 */
static void judge_pins(struct agent *a, const struct loader_opts *lo, int have,
		       const struct fl_pin_meta *theirs, char *why, size_t len)
{
	struct fl_pin_meta ours;
	struct runstate prev;
	uint64_t skipped = 0;
	int err;

	why[0] = 0;
	if (have == -EBADMSG) {
		snprintf(why, len, "%s holds a meta that is not firstlight's", pins__dir(a->pins));
		return;
	}
	if (have) {
		snprintf(why, len, "nothing is pinned in %s (firstlight unpin, or the bpffs was "
			 "mounted anew)", pins__dir(a->pins));
		return;
	}
	if (theirs->state != FL_PIN_HANDOVER) {
		snprintf(why, len, "run %s did not hand its pinned programs over (it was killed or "
			 "crashed)", theirs->run_id);
		return;
	}
	err = loader__pin_meta(lo, &ours);
	if (err) {
		snprintf(why, len, "hashing this agent's BPF object: %s", strerror(-err));
		return;
	}
	if (!pins__compatible(theirs, &ours, why, len))
		return;
	if (runstate__load(a->opts.data_dir, &prev) || strcmp(prev.run_id, theirs->run_id) ||
	    !prev.handover) {
		snprintf(why, len, "the pins were left by run %s, but the data dir's last run is %s",
			 theirs->run_id, prev.run_id[0] ? prev.run_id : "unknown");
		return;
	}
	err = handover__load(a->opts.data_dir, theirs->run_id, a->drops, &skipped);
	if (err) {
		snprintf(why, len, "the data dir's %s of run %s: %s", HANDOVER_FILE, theirs->run_id,
			 err == -ESTALE ? "written by another run" : strerror(-err));
		return;
	}
	netdec__set_skipped_reported(a->dec.net, skipped);
}

/*
 * --handover: adopt the programs the previous run left pinned, or load afresh and pin
 * them. Pins that cannot be adopted are removed first (their programs detach); why is
 * kept for the SENSOR_DOWN gap.
 */
static int start_pinned(struct agent *a, const struct loader_opts *lo)
{
	struct fl_pin_meta theirs, ours;
	char why[256];
	int have, err;

	a->pins = pins__open(a->opts.pin_dir, 1);
	if (!a->pins)
		return -errno;
	err = loader__pin_meta(lo, &ours);
	if (err) {
		log_error("hashing the BPF object: %s", strerror(-err));
		return err;
	}
	snprintf(a->pin_layout, sizeof(a->pin_layout), "%u:", ours.layout);
	for (size_t i = 0; i < sizeof(ours.object_sha256); i++)
		snprintf(a->pin_layout + strlen(a->pin_layout), 3, "%02x", ours.object_sha256[i]);
	have = pins__read_meta(a->pins, &theirs);
	judge_pins(a, lo, have, &theirs, why, sizeof(why));
	if (!why[0]) {
		err = loader__adopt(&a->loader, lo, a->pins, a->rec.run_id);
		if (!err) {
			snprintf(a->adopted_run_id, sizeof(a->adopted_run_id), "%s", theirs.run_id);
			a->handover_boot_ns = theirs.handover_boot_ns;
			log_info("adopted the programs run %s left pinned in %s", theirs.run_id,
				 pins__dir(a->pins));
			return 0;
		}
		snprintf(why, sizeof(why), "adopting them failed: %s", strerror(-err));
	}
	/* What the file gave the drops and the network decoder is not ours to go on from. */
	drops__free(a->drops);
	a->drops = drops__new(&a->loader, a->gaps, &a->rec.clock);
	if (!a->drops)
		return -ENOMEM;
	netdec__set_skipped_reported(a->dec.net, 0);
	if (have != -ENOENT) {
		log_warn("pin dir %s: not adopting what is pinned: %s; loading afresh", pins__dir(a->pins), why);
		err = pins__clear(a->pins);
		if (err < 0)
			return err;
	}
	snprintf(a->handover_refused, sizeof(a->handover_refused), "%s", why);
	err = loader__start(&a->loader, lo);
	if (!err)
		err = loader__pin(&a->loader, a->pins, lo, a->rec.run_id);
	return err;
}

/* The kernel side and the tables it feeds: decoder, programs, ring, workloads. */
static int start_sensor(struct agent *a)
{
	struct loader_opts lo = {
		.ring_bytes = a->opts.ring_bytes,
		.args_max_bytes = a->opts.args_max_bytes,
		.max_procs = a->opts.max_procs,
		.wakeup_bytes = a->opts.ring_bytes / 4,
		.share_bytes = (uint64_t)a->opts.ring_bytes * a->opts.ring_share_pct / 100,
		.headroom_bytes = (uint64_t)a->opts.ring_bytes * a->opts.ring_headroom_pct / 100,
		.btf_path = a->opts.btf_path,
		.watch = &a->opts.watch,
	};
	int err;

	a->procs = proctable__new(4096);
	if (!a->procs)
		return -ENOMEM;
	err = decoder__init(&a->dec, &a->rec, a->procs, a->opts.args_max_count);
	if (err)
		return err;
	a->dec.image_budget = a->opts.table_memory;
	netdec__set_hold(a->dec.net, (uint64_t)a->opts.net_window_ms * 1000000);
	a->gaps = gaps__new(&a->rec);
	a->drops = a->gaps ? drops__new(&a->loader, a->gaps, &a->rec.clock) : NULL;
	if (!a->drops)
		return -ENOMEM;
	err = a->opts.handover ? start_pinned(a, &lo) : loader__start(&a->loader, &lo);
	if (err)
		return err;
	a->ring = ring_buffer__new(loader__ring_fd(&a->loader), on_event, a, NULL);
	if (!a->ring) {
		err = -errno;
		log_error("ring buffer: %s", strerror(errno));
		return err;
	}
	err = start_workloads(a);
	if (err)
		return err;
	/* Opened now, before privileges are dropped; without it records have no host path. */
	a->mounts = hostmounts__new(HOSTMOUNTS_PATH);
	if (!a->mounts)
		log_warn("%s: %s: fileAccess records will have no host path", HOSTMOUNTS_PATH,
			 strerror(errno));
	a->dec.file = filedec__new(&a->rec, a->procs, &a->opts.watch, a->workloads, a->mounts);
	if (!a->dec.file)
		return -ENOMEM;
	if (a->store) {
		a->store_link = (struct storelink){ .rec = &a->rec, .gaps = a->gaps, .snapshot = snapshot,
						    .snapshot_ctx = a, .shipper = a->shipper };
		storelink__bind(&a->store_link, a->store);
	}
	err = setup_loop(a);
	if (err)
		log_error("event loop set-up: %s", strerror(-err));
	return err;
}

/* What this node's kernel lets us observe (sensor/kcaps), and the programs it took. */
static void record_capabilities(struct agent *a, int snapshot)
{
	const char *progs[64];
	size_t n = loader__programs(&a->loader, progs, sizeof(progs) / sizeof(progs[0]));

	kcaps__emit(&a->loader.caps, progs, n, snapshot, &a->rec);
}

/* The run's first records: STARTED, the node's capabilities, the hole before us, then
 * every process already alive (attached first, seeded second: every process is seen by
 * one or the other), then readiness and the first heartbeat. */
static int begin_run(struct agent *a)
{
	int err, seeded;

	emit_lifecycle(a, FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STARTED);
	record_capabilities(a, 0);
	/* The hole before us first: pre-existing processes are judged against it. */
	snprintf(a->state.run_id, sizeof(a->state.run_id), "%s", a->rec.run_id);
	snprintf(a->state.boot_id, sizeof(a->state.boot_id), "%s", a->rec.boot_id);
	a->state.started_unix_ns = wallclock__unix_ns(&a->rec.clock, clock__boot_ns());
	if (a->loader.adopted) {
		/* The run before recorded everything until its last drain: no hole. */
		decoder__set_gaps(&a->dec, a->gaps, 0);
		decoder__set_adopted(&a->dec, a->handover_boot_ns, loader__first_load_ns(&a->loader));
		if (!a->opts.to_stdout)
			sensordown__check_state(a->opts.data_dir, &a->state, store__resumed(a->store),
						a->gaps);
	} else {
		decoder__set_gaps(&a->dec, a->gaps,
				  a->opts.to_stdout ? 0
						    : sensordown__record(a->opts.data_dir, &a->state,
									 store__resumed(a->store), a->gaps,
									 a->opts.handover ? a->handover_refused : NULL));
	}
	/* Written before the state names this run: a state naming a run whose records are
	 * not in the newest segment then means they were removed (sensordown.h). */
	a->sink->flush(a->sink);
	save_state(a, 0);
	seeded = procscan__seed(&a->loader, &a->dec, a->opts.args_max_bytes);
	if (seeded < 0)
		return seeded;
	gaps__flush(a->gaps); /* the PRE_EXISTING gaps, one per workload */
	a->sink->flush(a->sink);
	/* Attached and seeded: from here on root's powers only serve whoever subverts a
	 * parser, the HTTP server or the shipper. Before readiness, so that a ready agent
	 * is a confined one. */
	err = privdrop__apply();
	if (err)
		return err;
	a->start_unix = (double)a->state.started_unix_ns / 1e9;
	if (a->metrics)
		log_info("metrics on http://%s/metrics (port %d)", a->opts.metrics_addr, metrics__port(a->metrics));
	if (a->loader.adopted)
		log_info("ready: %d programs attached (adopted from run %s), %d live processes known "
			 "from that run, writing to %s", a->loader.n_attached, a->adopted_run_id, seeded,
			 a->opts.data_dir);
	else
		log_info("ready: %d programs attached, %d pre-existing processes recorded, writing to %s",
			 a->loader.n_attached, seeded, a->opts.to_stdout ? "stdout" : a->opts.data_dir);
	if (a->opts.ready_file && (err = write_ready_file(a->opts.ready_file))) {
		log_error("ready file %s: %s", a->opts.ready_file, strerror(-err));
		return err;
	}
	metrics__drained(a->metrics, clock__mono_ns());
	metrics__set_ready(a->metrics, a->loader.n_attached); /* /healthz: 200 from here */
	/* The first heartbeat as soon as we watch: the timeline of liveness starts here. */
	heartbeat(a);
	a->sink->flush(a->sink);
	publish_metrics(a);
	a->last_flush_ns = a->last_sweep_ns = a->last_heartbeat_ns = a->last_net_ns = clock__mono_ns();
	return 0;
}

/*
 * A handover's last steps: what the next agent needs to count on from here. If it cannot
 * be written, there is no handover: the pins go, and with them the programs.
 */
static void leave_counts(struct agent *a)
{
	int err = handover__save(a->opts.data_dir, a->rec.run_id, a->drops,
				 netdec__skipped_reported(a->dec.net));

	if (!err)
		return;
	log_error("data dir %s: writing %s: %s: no handover, the programs detach", a->opts.data_dir,
		  HANDOVER_FILE, strerror(-err));
	pins__clear(a->pins);
	pins__close(a->pins);
	a->pins = NULL;
}

/* Stop: take everything the kernel still holds, account for it, then close the run. With
 * --handover the programs stay attached: what they capture from the last drain on is the
 * next run's. */
static void end_run(struct agent *a)
{
	uint64_t last_drain_ns;

	drain(a);
	last_drain_ns = clock__boot_ns();
	net_tick(a, 1);
	workloads__stop(a->workloads);
	drops__report(a->drops);
	gaps__flush(a->gaps);
	if (a->pins)
		leave_counts(a);
	if (a->store)
		store__stopping(a->store);
	/* The run's final counts on record, whatever the time since the last heartbeat. */
	heartbeat(a);
	emit_lifecycle(a, FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED);
	a->sink->flush(a->sink);
	/* Stored, whatever the fsync interval: only then are the last batches shipped. */
	if (a->store)
		store__sync(a->store);
	a->state.handover = a->pins != NULL;
	save_state(a, 1);
	/* The last step: whoever sees the mark finds the state and counts written. */
	if (a->pins)
		pins__mark_handover(a->pins, last_drain_ns);
	/* The last batches, STOPPED among them, if the engine takes them soon; else the next
	 * run ships them. */
	shipper__stop(a->shipper, SHIP_STOP_GRACE_MS);
	a->shipper = NULL;
	if (a->opts.ready_file)
		unlink(a->opts.ready_file);
}

int agent__run(const struct agent_opts *opts)
{
	struct agent a = { .opts = *opts, .epfd = -1, .sigfd = -1, .timerfd = -1 };
	int err;

	if (block_signals())
		return 1;
	/* Before touching the data dir: a missing capability is the first thing to say. */
	if (loader__check_host(a.opts.btf_path))
		return 1;
	/* Bound early (it answers 503 until the first publish): a taken address fails fast. */
	if (a.opts.metrics_addr && start_metrics(&a))
		return 1;
	/* The operator's own file before the store: a mistake in it writes nothing. */
	if (a.opts.owners_path) {
		char oerr[OWNERS_ERR_MAX];

		a.owners = owners__load(a.opts.owners_path, oerr, sizeof(oerr));
		if (!a.owners) {
			log_error("--owners %s (check it with: firstlight owners check FILE)", oerr);
			err = -EINVAL;
			goto out;
		}
		log_info("owners: %s: %zu rules, sha256 %s", owners__name(a.owners),
			 owners__count(a.owners), owners__sha256(a.owners));
	}
	err = recorder__init(&a.rec, NULL);
	if (err) {
		log_error("initialising records: %s", strerror(-err));
		goto out;
	}
	err = open_output(&a) ?: start_sensor(&a) ?: begin_run(&a);
	if (err)
		goto out;
	err = run_loop(&a);
	end_run(&a);
out:
	agent_free(&a);
	return err ? 1 : 0;
}
