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

#include "agent.h"
#include "clock.h"
#include "decode.h"
#include "loader.h"
#include "log.h"
#include "procscan.h"
#include "proctable.h"
#include "record.h"
#include "sink.h"
#include "version.h"

struct agent_opts {
	const char *data_dir;
	const char *ready_file;
	const char *btf_path;
	int to_stdout;
	int live;
	uint32_t ring_bytes;
	uint32_t args_max_bytes;
	uint32_t args_max_count;
	uint32_t max_procs;
	uint32_t drain_ms;
	uint32_t flush_ms;
};

struct agent {
	struct agent_opts opts;
	struct loader loader;
	struct ring_buffer *ring;
	struct sink *sink;
	struct recorder rec;
	struct proctable *procs;
	struct decoder dec;
	struct resolver *resolver;
	struct workloads *workloads;
	struct fl_drop_counter drops_reported[FL_EV_MAX];
	uint64_t drops_total;
	int epfd, sigfd, timerfd;
	uint64_t last_flush_ns;
	uint64_t last_sweep_ns;
};

static const char *const event_type_name[FL_EV_MAX] = {
	[FL_EV_EXEC] = "exec", [FL_EV_FORK] = "fork", [FL_EV_EXIT] = "exit", [FL_EV_SEED] = "seed",
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firstlight run [options]\n"
		"  --data-dir DIR        segment files go here (default /var/lib/firstlight)\n"
		"  --stdout              write JSON lines to stdout instead of segment files\n"
		"  --live                segment files, and JSON lines on stdout as well\n"
		"  --ready-file PATH     create PATH once every program is attached\n"
		"  --ring-size BYTES     kernel ring buffer (default 8M; power of two, K/M suffix)\n"
		"  --args-max-bytes N    argv bytes kept per exec (default %d, at most %d)\n"
		"  --args-max-count N    arguments kept per exec (default 64)\n"
		"  --max-procs N         live processes tracked in the kernel (default 65536)\n"
		"  --drain-ms N          ring drain interval (default 10)\n"
		"  --flush-ms N          sink flush interval (default 100)\n"
		"  --btf FILE            kernel BTF, when not at /sys/kernel/btf/vmlinux\n"
		"  -v, --verbose         debug output, including libbpf's\n",
		FL_ARGS_DEFAULT, FL_ARGS_MAX - 1);
}

/* Parses a decimal count with an optional K/M/G suffix (powers of 1024). */
static int parse_size(const char *opt, const char *s, uint64_t min, uint64_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno || s[0] == '-')
		goto bad;
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	}
	if (*end || v < min || v > max)
		goto bad;
	*out = (uint32_t)v;
	return 0;
bad:
	log_error("%s: invalid value '%s' (expected %llu..%llu)", opt, s,
		  (unsigned long long)min, (unsigned long long)max);
	return -EINVAL;
}

static int parse_opts(struct agent_opts *o, int argc, char **argv)
{
	enum { O_DATA_DIR = 256, O_STDOUT, O_LIVE, O_READY, O_RING, O_ARGS_BYTES, O_ARGS_COUNT,
	       O_MAX_PROCS, O_DRAIN, O_FLUSH, O_BTF };
	static const struct option longopts[] = {
		{ "data-dir", required_argument, NULL, O_DATA_DIR },
		{ "stdout", no_argument, NULL, O_STDOUT },
		{ "live", no_argument, NULL, O_LIVE },
		{ "ready-file", required_argument, NULL, O_READY },
		{ "ring-size", required_argument, NULL, O_RING },
		{ "args-max-bytes", required_argument, NULL, O_ARGS_BYTES },
		{ "args-max-count", required_argument, NULL, O_ARGS_COUNT },
		{ "max-procs", required_argument, NULL, O_MAX_PROCS },
		{ "drain-ms", required_argument, NULL, O_DRAIN },
		{ "flush-ms", required_argument, NULL, O_FLUSH },
		{ "btf", required_argument, NULL, O_BTF },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	long page = sysconf(_SC_PAGESIZE);
	int c, err = 0;

	*o = (struct agent_opts){
		.data_dir = "/var/lib/firstlight",
		.ring_bytes = 8u << 20,
		.args_max_bytes = FL_ARGS_DEFAULT,
		.args_max_count = 64,
		.max_procs = 65536,
		.drain_ms = 10,
		.flush_ms = 100,
	};
	optind = 1;
	opterr = 0; /* our own one-line message instead of getopt's */
	while (!err && (c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case O_DATA_DIR: o->data_dir = optarg; break;
		case O_STDOUT: o->to_stdout = 1; break;
		case O_LIVE: o->live = 1; break;
		case O_READY: o->ready_file = optarg; break;
		case O_RING:
			err = parse_size("--ring-size", optarg, (uint64_t)page, 1u << 30, &o->ring_bytes);
			if (!err && (o->ring_bytes & (o->ring_bytes - 1))) {
				log_error("--ring-size: %u is not a power of two", o->ring_bytes);
				err = -EINVAL;
			}
			break;
		case O_ARGS_BYTES:
			err = parse_size("--args-max-bytes", optarg, 1, FL_ARGS_MAX - 1, &o->args_max_bytes);
			break;
		case O_ARGS_COUNT:
			err = parse_size("--args-max-count", optarg, 1, 65536, &o->args_max_count);
			break;
		case O_MAX_PROCS:
			err = parse_size("--max-procs", optarg, 1024, 1u << 22, &o->max_procs);
			break;
		case O_DRAIN: err = parse_size("--drain-ms", optarg, 1, 1000, &o->drain_ms); break;
		case O_FLUSH: err = parse_size("--flush-ms", optarg, 1, 60000, &o->flush_ms); break;
		case O_BTF: o->btf_path = optarg; break;
		case 'v': log__set_level(LOG_DEBUG); break;
		case 'h': usage(stdout); exit(0);
		default:
			log_error("run: unknown option or missing value '%s' (see firstlight run --help)",
				  argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (!err && o->to_stdout && o->live) {
		log_error("--stdout and --live exclude each other (--live keeps segment files)");
		err = -EINVAL;
	}
	if (!err && optind < argc) {
		log_error("run: unexpected argument '%s'", argv[optind]);
		err = -EINVAL;
	}
	return err;
}

static int emit_lifecycle(struct agent *a, int state)
{
	Firstlight__V1__AgentLifecycle body = FIRSTLIGHT__V1__AGENT_LIFECYCLE__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	body.state = state;
	body.version = (char *)FIRSTLIGHT_VERSION;
	body.pid = (uint32_t)getpid();
	body.boot_id = a->rec.boot_id;
	if (state == FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED) {
		body.records = a->rec.seq + 1; /* this record included */
		body.drops = a->drops_total;
	}
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_AGENT;
	ev.agent = &body;
	return recorder__emit(&a->rec, &ev, 0);
}

/*
 * Turns new kernel drops into gap records: one per event type that lost events since
 * the last check, with the count and the window in which they were lost.
 */
static void report_drops(struct agent *a)
{
	struct fl_drop_counter now[FL_EV_MAX];

	if (loader__read_drops(&a->loader, now))
		return;
	for (int t = 0; t < FL_EV_MAX; t++) {
		Firstlight__V1__Gap gap = FIRSTLIGHT__V1__GAP__INIT;
		Event ev = FIRSTLIGHT__V1__EVENT__INIT;
		struct fl_drop_counter *was = &a->drops_reported[t];
		char detail[128];
		uint64_t n = now[t].count - was->count;

		if (!n)
			continue;
		gap.kind = FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP;
		gap.count = n;
		gap.event_type = (char *)(event_type_name[t] ? event_type_name[t] : "unknown");
		/* The window: from the first drop not yet reported to the latest one. */
		gap.start_time_unix_nano = wallclock__unix_ns(&a->rec.clock,
							      was->count ? was->last_ns : now[t].first_ns);
		gap.end_time_unix_nano = wallclock__unix_ns(&a->rec.clock, now[t].last_ns);
		snprintf(detail, sizeof(detail), "%" PRIu64 " %s events lost: ring buffer full", n,
			 gap.event_type);
		gap.detail = detail;
		ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
		ev.gap = &gap;
		recorder__emit(&a->rec, &ev, 0);
		a->drops_total += n;
		*was = now[t];
	}
}

/* The namespace inode of /proc/PID/ns/NAME, 0 if it cannot be read. */
static uint32_t ns_inode(const char *pid, const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/%s", pid, name);
	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
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

static int start_workloads(struct agent *a)
{
	struct workloads_opts wo = { .rec = &a->rec, .procs = a->procs };
	struct statfs sf;
	int err;

	a->resolver = resolver__new();
	if (!a->resolver) {
		log_error("starting the identity resolver: %s", strerror(errno));
		return -errno;
	}
	wo.resolver = a->resolver;
	/* The host's namespaces: pid 1's when we may read them, else our own (hostPID). */
	wo.host_mnt_ns = ns_inode("1", "mnt") ?: ns_inode("self", "mnt");
	wo.host_pid_ns = ns_inode("self", "pid");
	a->workloads = workloads__new(&wo);
	if (!a->workloads)
		return -ENOMEM;
	err = workloads__scan(a->workloads, cgroup2_root(),
			      !statfs("/sys/fs/cgroup/memory", &sf) && sf.f_type == CGROUP_SUPER_MAGIC
				      ? "/sys/fs/cgroup/memory" : NULL);
	if (err)
		log_warn("scanning existing cgroups: %s", strerror(-err));
	decoder__set_workloads(&a->dec, a->workloads);
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;

	/* A malformed or unrecordable event is counted by the decoder; keep draining. */
	decoder__handle(&a->dec, data, size);
	return 0;
}

static void drain(struct agent *a)
{
	int n = ring_buffer__consume(a->ring);

	if (n < 0 && n != -EINTR)
		log_warn("ring buffer: %s", strerror(-n));
}

static void tick(struct agent *a)
{
	uint64_t now = clock__mono_ns();

	drain(a);
	workloads__tick(a->workloads);
	if (now - a->last_flush_ns >= (uint64_t)a->opts.flush_ms * 1000000) {
		a->last_flush_ns = now;
		wallclock__sync(&a->rec.clock);
		report_drops(a);
		a->sink->flush(a->sink);
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
	ring_buffer__free(a->ring);
	loader__stop(&a->loader);
	resolver__free(a->resolver); /* joins the worker before what it reads goes */
	workloads__free(a->workloads);
	decoder__fini(&a->dec);
	proctable__free(a->procs);
	sink__free(a->sink);
	recorder__fini(&a->rec);
	if (a->epfd >= 0)
		close(a->epfd);
	if (a->sigfd >= 0)
		close(a->sigfd);
	if (a->timerfd >= 0)
		close(a->timerfd);
}

int agent__main(int argc, char **argv)
{
	struct agent a = { .epfd = -1, .sigfd = -1, .timerfd = -1 };
	struct loader_opts lo;
	int err, seeded;

	if (parse_opts(&a.opts, argc, argv))
		return 2;
	/* A reader that goes away (a closed pipe) is a sink loss to count, not our death. */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * SIGINT and SIGTERM arrive through a signalfd: blocked here, before any thread
	 * starts (threads inherit the mask), or one of them would take the default action.
	 */
	{
		sigset_t mask;

		sigemptyset(&mask);
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGTERM);
		if (pthread_sigmask(SIG_BLOCK, &mask, NULL))
			return 1;
	}
	/* Before touching the data dir: a missing capability is the first thing to say. */
	if (loader__check_host(a.opts.btf_path))
		return 1;
	err = recorder__init(&a.rec, NULL);
	if (err) {
		log_error("initialising records: %s", strerror(-err));
		goto out;
	}
	if (a.opts.to_stdout) {
		a.sink = sink_stdout__new(STDOUT_FILENO);
		if (!a.sink)
			err = -ENOMEM;
	} else {
		struct segment_opts so = { .dir = a.opts.data_dir, .run_id = a.rec.run_id };

		a.sink = sink_segment__new(&so, &err);
		if (a.sink && a.opts.live) {
			struct sink *out = sink_stdout__new(STDOUT_FILENO);
			struct sink *tee = out ? sink_tee__new(a.sink, out) : NULL;

			if (!tee) {
				sink__free(out);
				sink__free(a.sink);
				a.sink = NULL;
				err = -ENOMEM;
			} else {
				a.sink = tee;
			}
		}
	}
	if (!a.sink) {
		log_error("data dir %s: %s", a.opts.data_dir, strerror(-err));
		goto out;
	}
	a.rec.sink = a.sink;
	a.procs = proctable__new(4096);
	if (!a.procs) {
		err = -ENOMEM;
		goto out;
	}
	err = decoder__init(&a.dec, &a.rec, a.procs, a.opts.args_max_count);
	if (err)
		goto out;

	lo = (struct loader_opts){
		.ring_bytes = a.opts.ring_bytes,
		.args_max_bytes = a.opts.args_max_bytes,
		.max_procs = a.opts.max_procs,
		.wakeup_bytes = a.opts.ring_bytes / 4,
		.btf_path = a.opts.btf_path,
	};
	err = loader__start(&a.loader, &lo);
	if (err)
		goto out;
	a.ring = ring_buffer__new(loader__ring_fd(&a.loader), on_event, &a, NULL);
	if (!a.ring) {
		err = -errno;
		log_error("ring buffer: %s", strerror(errno));
		goto out;
	}
	err = start_workloads(&a);
	if (err)
		goto out;
	err = setup_loop(&a);
	if (err) {
		log_error("event loop set-up: %s", strerror(-err));
		goto out;
	}
	emit_lifecycle(&a, FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STARTED);
	/* Attached first, seeded second: every process is seen by one or the other. */
	seeded = procscan__seed(&a.loader, &a.dec, a.opts.args_max_bytes);
	if (seeded < 0) {
		err = seeded;
		goto out;
	}
	a.sink->flush(a.sink);
	log_info("ready: %d programs attached, %d pre-existing processes recorded, writing to %s",
		 a.loader.n_attached, seeded, a.opts.to_stdout ? "stdout" : a.opts.data_dir);
	if (a.opts.ready_file && (err = write_ready_file(a.opts.ready_file))) {
		log_error("ready file %s: %s", a.opts.ready_file, strerror(-err));
		goto out;
	}
	a.last_flush_ns = a.last_sweep_ns = clock__mono_ns();
	err = run_loop(&a);

	/* Stop: take everything the kernel still holds, account for it, then close. */
	drain(&a);
	workloads__stop(a.workloads);
	report_drops(&a);
	emit_lifecycle(&a, FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED);
	if (a.opts.ready_file)
		unlink(a.opts.ready_file);
out:
	agent_free(&a);
	return err ? 1 : 0;
}
