/*
 * The agent: open, configure, load, attach, seed, consume until SIGINT/SIGTERM, stop.
 * `firstlight run` (cmd/cmd_run.c) parses the options into struct agent_opts.
 */
#ifndef FL_AGENT_H
#define FL_AGENT_H

#include <stdint.h>

#include "sensor/watchpaths.h"
#include "store/store.h"

struct agent_opts {
	const char *data_dir;
	const char *ready_file;   /* created once every program is attached; NULL: none */
	const char *btf_path;     /* NULL: /sys/kernel/btf/vmlinux */
	const char *metrics_addr; /* NULL: off */
	int metrics_explicit;     /* given on the command line: failing to serve is an error */
	int to_stdout;            /* records to stdout instead of segment files */
	int live;                 /* segment files, and records on stdout too */
	int stdout_text;          /* on stdout: one line of text per record, else JSON lines */
	uint32_t ring_bytes;
	uint32_t ring_share_pct;    /* one workload's share of the ring per drain; 0: off */
	uint32_t ring_headroom_pct; /* ring kept for exec, exit and cgroup events */
	uint32_t args_max_bytes;
	uint32_t args_max_count;
	uint32_t max_procs;
	uint64_t table_memory; /* bytes of argv/binary/cwd the process table may hold */
	uint32_t drain_ms;        /* at most flush_ms */
	uint32_t flush_ms;
	uint32_t heartbeat_s;
	uint32_t net_window_ms;
	struct store_opts store;
	/* Shipping (ship/shipper.h); ship_urls NULL: off. */
	const char *ship_urls;
	const char *ship_creds;
	const char *ship_tls_ca;
	const char *ship_prefix;
	int ship_replicas;
	int ship_linger_ms;
	/* --handover: programs pinned under pin_dir; a stop leaves them attached for the next
	 * run, which adopts them (sensor/pins.h, agent/handover.h). */
	int handover;
	const char *pin_dir;
	/* Accountability (identity/owners.h): NULL: no owners file. Reloaded on SIGHUP. */
	const char *owners_path;
	int fail_unowned;         /* an UNOWNED_WORKLOAD gap for a workload no rule owns */
	/* Watched paths (secret access): the defaults and each --watch-path. */
	struct watchpaths watch;
};

/* The defaults of every option. */
void agent_opts__defaults(struct agent_opts *o);
/* Runs the agent. Returns the process exit status: 0 after a clean stop, 1 on error. */
int agent__run(const struct agent_opts *o);

#endif
