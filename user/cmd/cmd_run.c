/*
 * `firstlight run [options]`: parses the agent's options (its own and the segment
 * store's) and runs the agent (agent/agent.h). Bad usage is one line and status 2.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/metrics.h"
#include "base/cliopt.h"
#include "base/httpd.h"
#include "base/log.h"
#include "base/units.h"
#include "cmd/cmd_run.h"
#include "firstlight.h"
#include "sensor/pins.h"
#include "store/store_dir.h"
#include "transport/subjects.h"

#define NS_PER_MS 1000000ull

enum { STDOUT_AUTO, STDOUT_TEXT, STDOUT_JSON };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firstlight run [options]\n"
		"  --data-dir DIR        segment files go here (default %s)\n"
		"  --stdout              records to stdout instead of segment files\n"
		"  --live                segment files, and every record on stdout as well\n"
		"  --text | --json       stdout as one line of text per record (the default on a\n"
		"                        terminal) or JSON lines (the default otherwise)\n"
		"  --ready-file PATH     create PATH once every program is attached\n"
		"  --ring-size BYTES     kernel ring buffer (default 8M; power of two, K/M suffix)\n"
		"  --ring-share PCT      what one workload (cgroup) may queue between two drains, in\n"
		"                        percent of the ring; beyond it its own events are dropped\n"
		"                        and recorded as SHARE_EXCEEDED gaps (default 25;\n"
		"                        off: no shares)\n"
		"  --ring-headroom PCT   ring kept for exec, exit and cgroup events: forks and flows\n"
		"                        stop short of it (default 10; 0-50)\n"
		"  --args-max-bytes N    argv bytes kept per exec (default %d, at most %d)\n"
		"  --args-max-count N    arguments kept per exec (default 64)\n"
		"  --max-procs N         live processes tracked in the kernel (default 65536)\n"
		"  --table-memory SIZE   argv, binaries and cwds held for live processes (default\n"
		"                        64M): past it a process's argv is not kept after its exec\n"
		"                        record (an ARGV_NOT_KEPT gap)\n"
		"  --drain-ms N          ring drain interval (default 100; at most --flush-ms)\n"
		"  --flush-ms N          sink flush interval (default 100)\n"
		"  --heartbeat-interval S  heartbeat record every S seconds (default 10)\n"
		"  --net-window-ms N     UDP aggregation window; a unix connect waits as long for\n"
		"                        its peer (default 1000)\n"
		"  --btf FILE            kernel BTF, when not at /sys/kernel/btf/vmlinux\n"
		"  --metrics-addr HOST:PORT  Prometheus /metrics (default 127.0.0.1:9464; off)\n"
		"  --handover            pin programs and maps under --pin-dir; a stop leaves them\n"
		"                        attached and writing, and the next run adopts them: an\n"
		"                        upgrade loses no event (firstlight unpin removes them)\n"
		"  --pin-dir DIR         where --handover pins, on a bpffs (default %s)\n"
		"  --owners FILE         owners file (JSON rules, docs/owners.md): every workload\n"
		"                        record names its owner; SIGHUP reloads it\n"
		"  --fail-unowned        an UNOWNED_WORKLOAD gap for a workload no rule owns\n"
		"  --watch-path PATH     record opens of files under PATH (a prefix of the path the\n"
		"                        kernel resolved: /abs/path, or ~/path for every home);\n"
		"                        repeatable, added to the defaults (docs/records.md#fileaccess)\n"
		"  -v, --verbose         debug output, including libbpf's\n"
		"The segment store:\n"
		"  --key FILE            node signing key, generated on first use (default %s)\n"
		"  --segment-bytes SIZE  rotate segments at this compressed size (default 16M)\n"
		"  --segment-age TIME    rotate segments at this age (default 1h; s, m, h, d)\n"
		"  --retain-bytes SIZE   remove the oldest segments past this total (default 1G, 0: keep)\n"
		"  --retain-age TIME     remove segments not written for this long (default 0: keep)\n"
		"  --fsync-ms N          fdatasync at most every N ms (default 0: after every batch)\n"
		"  --store-readback auto|on|off  read every synced batch back from the disk (default\n"
		"                        auto: where the data dir's device can report writes it did\n"
		"                        not make, a loop device or one built on it)\n"
		"Shipping to NATS JetStream (docs: the segment files stay the spool):\n"
		"  --ship URLS           nats://HOST:PORT[,nats://...]: ship every batch, exactly once\n"
		"  --ship-creds FILE     NATS credentials (.creds: JWT and NKey seed)\n"
		"  --ship-tls-ca FILE    CA certificates to trust: the connection is TLS\n"
		"  --ship-subject-prefix P  subjects P.batches.<node>, stream P upper-cased (default %s)\n"
		"  --ship-replicas N     replicas of the stream when the agent creates it (1 or 3; default 1)\n"
		"  --ship-linger-ms N    under a steady flow, at most one message per N ms, carrying the\n"
		"                        batches written meanwhile (default 500; 0: each batch at once)\n"
		"Long options are written in full.\n",
		STORE_DEFAULT_DIR, FL_ARGS_DEFAULT, FL_ARGS_MAX - 1, PINS_DEFAULT_DIR, STORE_DEFAULT_KEY,
		SUBJECTS_DEFAULT_PREFIX);
}

/* "nats://HOST:PORT[,nats://...]" (tls:// too): each URL with a scheme, a host and a port,
 * nothing else; a typo is one line here, not a silent retry loop later. */
static int check_ship_urls(const char *urls)
{
	const char *p = urls;

	do {
		const char *end = strchr(p, ','), *host, *colon;
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char one[512];
		char *rest;
		unsigned long port;

		if (!n || n >= sizeof(one))
			goto bad;
		memcpy(one, p, n);
		one[n] = '\0';
		if (!strncmp(one, "nats://", 7))
			host = one + 7;
		else if (!strncmp(one, "tls://", 6))
			host = one + 6;
		else
			goto bad;
		if ((rest = strchr(host, '@')))
			host = rest + 1; /* user:password@ */
		colon = strrchr(host, ':');
		if (!colon || colon == host)
			goto bad;
		errno = 0;
		port = strtoul(colon + 1, &rest, 10);
		if (errno || *rest || !port || port > 65535 || colon[1] == '\0')
			goto bad;
		p = end ? end + 1 : NULL;
	} while (p);
	return 0;
bad:
	log_error("--ship '%s': expected nats://HOST:PORT (or tls://), several joined by commas", urls);
	return -EINVAL;
}

/* --metrics-addr is checked with the options: a usage error, before anything starts. */
static int check_metrics_addr(const char *addr)
{
	const char *why;

	if (!addr || !httpd__check_addr(addr, &why))
		return 0;
	log_error("--metrics-addr %s: %s: write a numeric HOST:PORT such as 127.0.0.1:9464, "
		  "[::1]:9464 or 0.0.0.0:9464, or off", addr, why);
	return -EINVAL;
}

/* 0, 2 after a usage error (logged), or -1 after --help. */
static int parse_opts(struct agent_opts *o, int argc, char **argv)
{
	enum { O_DATA_DIR = 256, O_STDOUT, O_LIVE, O_TEXT, O_JSON, O_READY, O_RING, O_ARGS_BYTES,
	       O_ARGS_COUNT, O_MAX_PROCS, O_TABLE_MEMORY, O_DRAIN, O_FLUSH, O_BTF, O_HEARTBEAT, O_METRICS,
	       O_NET_WINDOW, O_RING_SHARE, O_RING_HEADROOM, O_KEY, O_SEGMENT_BYTES, O_SEGMENT_AGE,
	       O_RETAIN_BYTES, O_RETAIN_AGE, O_FSYNC_MS, O_READBACK, O_SHIP, O_SHIP_CREDS, O_SHIP_TLS_CA,
	       O_SHIP_PREFIX, O_SHIP_REPLICAS, O_SHIP_LINGER, O_HANDOVER, O_PIN_DIR, O_OWNERS,
	       O_FAIL_UNOWNED, O_WATCH_PATH };
	static const struct option longopts[] = {
		{ "data-dir", required_argument, NULL, O_DATA_DIR },
		{ "stdout", no_argument, NULL, O_STDOUT },
		{ "live", no_argument, NULL, O_LIVE },
		{ "text", no_argument, NULL, O_TEXT },
		{ "json", no_argument, NULL, O_JSON },
		{ "ready-file", required_argument, NULL, O_READY },
		{ "ring-size", required_argument, NULL, O_RING },
		{ "ring-share", required_argument, NULL, O_RING_SHARE },
		{ "ring-headroom", required_argument, NULL, O_RING_HEADROOM },
		{ "args-max-bytes", required_argument, NULL, O_ARGS_BYTES },
		{ "args-max-count", required_argument, NULL, O_ARGS_COUNT },
		{ "max-procs", required_argument, NULL, O_MAX_PROCS },
		{ "table-memory", required_argument, NULL, O_TABLE_MEMORY },
		{ "drain-ms", required_argument, NULL, O_DRAIN },
		{ "flush-ms", required_argument, NULL, O_FLUSH },
		{ "btf", required_argument, NULL, O_BTF },
		{ "heartbeat-interval", required_argument, NULL, O_HEARTBEAT },
		{ "metrics-addr", required_argument, NULL, O_METRICS },
		{ "net-window-ms", required_argument, NULL, O_NET_WINDOW },
		{ "key", required_argument, NULL, O_KEY },
		{ "segment-bytes", required_argument, NULL, O_SEGMENT_BYTES },
		{ "segment-age", required_argument, NULL, O_SEGMENT_AGE },
		{ "retain-bytes", required_argument, NULL, O_RETAIN_BYTES },
		{ "retain-age", required_argument, NULL, O_RETAIN_AGE },
		{ "fsync-ms", required_argument, NULL, O_FSYNC_MS },
		{ "store-readback", required_argument, NULL, O_READBACK },
		{ "ship", required_argument, NULL, O_SHIP },
		{ "ship-creds", required_argument, NULL, O_SHIP_CREDS },
		{ "ship-tls-ca", required_argument, NULL, O_SHIP_TLS_CA },
		{ "ship-subject-prefix", required_argument, NULL, O_SHIP_PREFIX },
		{ "ship-replicas", required_argument, NULL, O_SHIP_REPLICAS },
		{ "ship-linger-ms", required_argument, NULL, O_SHIP_LINGER },
		{ "handover", no_argument, NULL, O_HANDOVER },
		{ "pin-dir", required_argument, NULL, O_PIN_DIR },
		{ "owners", required_argument, NULL, O_OWNERS },
		{ "fail-unowned", no_argument, NULL, O_FAIL_UNOWNED },
		{ "watch-path", required_argument, NULL, O_WATCH_PATH },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	long page = sysconf(_SC_PAGESIZE);
	int c, err = 0, format = STDOUT_AUTO, pin_dir_given = 0;
	uint64_t ms;
	int linger_set = 0;

	agent_opts__defaults(o);
	if (cliopt__check_full("run", argc, argv, longopts))
		return 2;
	optind = 1;
	opterr = 0; /* our own one-line message instead of getopt's */
	while (!err && (c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case O_DATA_DIR: o->data_dir = optarg; break;
		case O_STDOUT: o->to_stdout = 1; break;
		case O_LIVE: o->live = 1; break;
		case O_TEXT: format = STDOUT_TEXT; break;
		case O_JSON: format = STDOUT_JSON; break;
		case O_READY: o->ready_file = optarg; break;
		case O_RING:
			err = units__parse_u32("--ring-size", optarg, UNITS_BYTES, (uint64_t)page, 1u << 30, 0,
					       &o->ring_bytes);
			if (!err && (o->ring_bytes & (o->ring_bytes - 1))) {
				log_error("--ring-size: %u is not a power of two", o->ring_bytes);
				err = -EINVAL;
			}
			break;
		case O_RING_SHARE:
			if (!strcmp(optarg, "off"))
				o->ring_share_pct = 0;
			else
				err = units__parse_u32("--ring-share", optarg, UNITS_COUNT, 1, 100, 0,
						       &o->ring_share_pct);
			break;
		case O_RING_HEADROOM:
			err = units__parse_u32("--ring-headroom", optarg, UNITS_COUNT, 0, 50, UNITS_ZERO_OK,
					       &o->ring_headroom_pct);
			break;
		case O_ARGS_BYTES:
			err = units__parse_u32("--args-max-bytes", optarg, UNITS_BYTES, 1, FL_ARGS_MAX - 1, 0,
					       &o->args_max_bytes);
			break;
		case O_ARGS_COUNT:
			err = units__parse_u32("--args-max-count", optarg, UNITS_COUNT, 1, 65536, 0,
					       &o->args_max_count);
			break;
		case O_TABLE_MEMORY:
			err = units__parse("--table-memory", optarg, UNITS_BYTES, 1u << 20, 1ull << 40, 0,
					   &o->table_memory);
			break;
		case O_MAX_PROCS:
			err = units__parse_u32("--max-procs", optarg, UNITS_COUNT, 1024, 1u << 22, 0, &o->max_procs);
			break;
		case O_DRAIN:
			err = units__parse_u32("--drain-ms", optarg, UNITS_COUNT, 1, 1000, 0, &o->drain_ms);
			break;
		case O_FLUSH:
			err = units__parse_u32("--flush-ms", optarg, UNITS_COUNT, 1, 60000, 0, &o->flush_ms);
			break;
		case O_BTF: o->btf_path = optarg; break;
		case O_METRICS:
			o->metrics_addr = strcmp(optarg, "off") ? optarg : NULL;
			o->metrics_explicit = 1;
			err = check_metrics_addr(o->metrics_addr);
			break;
		case O_HEARTBEAT:
			err = units__parse_u32("--heartbeat-interval", optarg, UNITS_COUNT, 1, 3600, 0,
					       &o->heartbeat_s);
			break;
		case O_NET_WINDOW:
			err = units__parse_u32("--net-window-ms", optarg, UNITS_COUNT, 10, 60000, 0,
					       &o->net_window_ms);
			break;
		case O_KEY: o->store.key_path = optarg; break;
		case O_SEGMENT_BYTES:
			/* Small sizes are for tests: every flush then starts a new segment. */
			err = units__parse("--segment-bytes", optarg, UNITS_BYTES, 1024, UINT32_MAX, 0,
					   &o->store.segment_bytes);
			break;
		case O_SEGMENT_AGE:
			err = units__parse("--segment-age", optarg, UNITS_NS, 1000000000ull, 366 * 86400000000000ull,
					   0, &o->store.segment_age_ns);
			break;
		case O_RETAIN_BYTES:
			err = units__parse("--retain-bytes", optarg, UNITS_BYTES, 1024, UINT64_MAX, UNITS_ZERO_OK,
					   &o->store.retain_bytes);
			break;
		case O_RETAIN_AGE:
			err = units__parse("--retain-age", optarg, UNITS_NS, 1000000000ull, 36600 * 86400000000000ull,
					   UNITS_ZERO_OK, &o->store.retain_age_ns);
			break;
		case O_FSYNC_MS:
			err = units__parse("--fsync-ms", optarg, UNITS_COUNT, 1, 3600000, UNITS_ZERO_OK, &ms);
			o->store.fsync_interval_ns = ms * NS_PER_MS;
			break;
		case O_READBACK:
			if (!strcmp(optarg, "auto"))
				o->store.readback = STORE_READBACK_AUTO;
			else if (!strcmp(optarg, "on"))
				o->store.readback = STORE_READBACK_ON;
			else if (!strcmp(optarg, "off"))
				o->store.readback = STORE_READBACK_OFF;
			else {
				log_error("--store-readback '%s': expected auto, on or off", optarg);
				err = -EINVAL;
			}
			break;
		case O_SHIP: o->ship_urls = optarg; break;
		case O_SHIP_CREDS: o->ship_creds = optarg; break;
		case O_SHIP_TLS_CA: o->ship_tls_ca = optarg; break;
		case O_SHIP_PREFIX: o->ship_prefix = optarg; break;
		case O_SHIP_REPLICAS:
			err = units__parse("--ship-replicas", optarg, UNITS_COUNT, 1, 5, 0, &ms);
			o->ship_replicas = (int)ms;
			break;
		case O_SHIP_LINGER:
			err = units__parse("--ship-linger-ms", optarg, UNITS_COUNT, 1, 10000, UNITS_ZERO_OK, &ms);
			o->ship_linger_ms = (int)ms;
			linger_set = 1;
			break;
		case O_HANDOVER: o->handover = 1; break;
		case O_PIN_DIR: o->pin_dir = optarg; pin_dir_given = 1; break;
		case O_OWNERS: o->owners_path = optarg; break;
		case O_FAIL_UNOWNED: o->fail_unowned = 1; break;
		case O_WATCH_PATH: err = watchpaths__add(&o->watch, optarg); break;
		case 'v': log__set_level(LOG_DEBUG); break;
		case 'h': usage(stdout); return -1;
		default:
			log_error("run: unknown option or missing value '%s' (see firstlight run --help)",
				  argv[optind - 1]);
			return 2;
		}
	}
	if (err)
		return 2;
	if (o->to_stdout && o->live) {
		log_error("--stdout and --live exclude each other (--live keeps segment files)");
		return 2;
	}
	if (format != STDOUT_AUTO && !o->to_stdout && !o->live) {
		log_error("--%s: records go to stdout only with --stdout or --live",
			  format == STDOUT_TEXT ? "text" : "json");
		return 2;
	}
	if (optind < argc) {
		log_error("run: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!o->ship_urls && (o->ship_creds || o->ship_tls_ca || o->ship_prefix || o->ship_replicas || linger_set)) {
		log_error("--ship-creds, --ship-tls-ca, --ship-subject-prefix, --ship-replicas and --ship-linger-ms go "
			  "with --ship URLS");
		return 2;
	}
	if (o->ship_urls && o->to_stdout) {
		log_error("--ship ships the segment files: it does not go with --stdout");
		return 2;
	}
	if (pin_dir_given && !o->handover) {
		log_error("--pin-dir goes with --handover (only a handover pins anything)");
		return 2;
	}
	if (o->handover && o->to_stdout) {
		log_error("--handover hands the data dir's chain over: it does not go with --stdout");
		return 2;
	}
	if (o->pin_dir[0] != '/') {
		log_error("--pin-dir '%s': give an absolute path on a bpffs (e.g. %s)", o->pin_dir,
			  PINS_DEFAULT_DIR);
		return 2;
	}
	if (o->fail_unowned && !o->owners_path) {
		log_error("--fail-unowned goes with --owners FILE (the rules that name owners)");
		return 2;
	}
	if (o->ship_urls && check_ship_urls(o->ship_urls))
		return 2;
	if (o->ship_prefix && subjects__check_prefix(o->ship_prefix)) {
		log_error("--ship-subject-prefix '%s': not a NATS subject prefix (tokens of letters, digits, "
			  "'_' and '-', joined by dots)", o->ship_prefix);
		return 2;
	}
	/* Text for a person at a terminal, JSON lines for a program, unless told. */
	o->stdout_text = format == STDOUT_AUTO ? isatty(STDOUT_FILENO) : format == STDOUT_TEXT;
	/* Flushing happens on a drain tick: a flush interval shorter than the tick is kept. */
	if (o->drain_ms > o->flush_ms)
		o->drain_ms = o->flush_ms;
	return 0;
}

int cmd_run__main(int argc, char **argv)
{
	struct agent_opts o;
	int rc = parse_opts(&o, argc, argv);

	if (rc)
		return rc < 0 ? 0 : rc;
	return agent__run(&o);
}
