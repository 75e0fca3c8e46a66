/*
 * BPF lifecycle: check what the host must provide, open the skeleton, configure it,
 * load, attach. Each failure is reported as one line naming the cause (missing
 * capability, no BTF, verifier refusal) and returned as -errno.
 */
#ifndef FL_LOADER_H
#define FL_LOADER_H

#include <stdint.h>

#include "firstlight.h"
#include "sensor/kcaps.h"
#include "sensor/pins.h"

struct loader_opts {
	uint32_t ring_bytes;     /* power of two, >= page size */
	uint32_t args_max_bytes; /* < FL_ARGS_MAX */
	uint32_t max_procs;      /* live-process map entries */
	uint64_t wakeup_bytes;   /* ring fill that forces a wake-up */
	uint64_t share_bytes;    /* what one workload may queue per drain; 0: no shares */
	uint64_t headroom_bytes; /* ring bytes only exec, exit and cgroup events may use */
	const char *btf_path;    /* kernel BTF; NULL for /sys/kernel/btf/vmlinux */
	const struct watchpaths *watch; /* watched paths (sensor/watchpaths.h); NULL: defaults */
};

struct firstlight_bpf;
struct watchpaths;

#define LOADER_MAX_PROGS 64

struct loader {
	struct firstlight_bpf *skel;
	int n_attached;
	struct kcaps caps; /* what this kernel allowed: the variants loaded, what is missing */
	int adopted;       /* the programs are a previous agent's, adopted from its pins */
	const char *progs[LOADER_MAX_PROGS]; /* names of the programs loaded (static) */
	size_t n_progs;
	int net_fds[2];    /* adopted: fl_tcp_state, fl_sock_send (owned, -1 if absent) */
	int holder;        /* a second holder of the slow links runs (sensor/linkhold.h) */
	int hold_fd;       /* with holder: its close lets the holder release them */
};

/*
 * Checks what the host must provide (capabilities, kernel BTF at btf_path or the
 * default), each failure logged as one line. Called before anything is touched.
 */
int loader__check_host(const char *btf_path);
/* Probes the kernel (l->caps), opens, configures, loads and attaches. 0 or -errno. */
int loader__start(struct loader *l, const struct loader_opts *opts);
/* Detaches and unloads everything; safe on a partly started loader. Pinned programs stay
 * attached (their pins hold them): only what this process alone held goes. */
void loader__stop(struct loader *l);

/*
 * The meta this agent's pins would have (sensor/pins.h): the pin layout, the SHA-256 of
 * the BPF object built into this binary, and the load's configuration from opts.
 */
int loader__pin_meta(const struct loader_opts *opts, struct fl_pin_meta *m);
/*
 * After loader__start: pins every map, program and link, then the meta (state RUNNING,
 * run_id). The pin dir must be empty (pins__clear). 0 or -errno, logged.
 */
int loader__pin(struct loader *l, struct pins *p, const struct loader_opts *opts, const char *run_id);
/*
 * Instead of loader__start: takes the maps a previous agent pinned (the programs it left
 * attached keep writing into them) and loads only the seeding iterator, whose walk then
 * reports every process (loader__seed). The caller has checked the meta
 * (pins__compatible). The meta becomes this run's (run_id, state RUNNING).
 * 0 or -errno, logged: the caller then clears the pins and loads afresh.
 */
int loader__adopt(struct loader *l, const struct loader_opts *opts, struct pins *p, const char *run_id);
/* CLOCK_BOOTTIME of the first load of the programs now attached, before which the
 * seeding of that load found every process it recorded as pre-existing. */
uint64_t loader__first_load_ns(struct loader *l);

/* Runs of the network programs the kernel skipped since they were loaded (see
 * loader_net__skipped). 0 or -errno. */
int loader__skipped(struct loader *l, uint64_t *skipped);

/*
 * Runs the task iterator; cb is called for each pre-existing process not yet known to
 * the kernel map. 0 or -errno. (On our 6.18 VMs the walk never returns pid 1, the
 * firecracker init: its children still get its id, derived from its start time.)
 */
int loader__seed(struct loader *l, int (*cb)(void *ctx, const struct fl_seed_event *ev),
		 void *ctx);

/* Sums the per-CPU drop counters: count, first and last drop time per cause (FL_DROP_*)
 * and event type. */
int loader__read_drops(struct loader *l, struct fl_drop_counter out[FL_DROP_WHY][FL_EV_MAX]);
/* Drops the kernel has counted so far (all types): cheap, no syscall. When it has not
 * moved since the last loader__read_drops, neither have the drop maps. */
uint64_t loader__drop_events(struct loader *l);

int loader__ring_fd(struct loader *l);
/* Starts a new drain epoch (workloads' ring shares count per epoch): call before a drain. */
void loader__new_epoch(struct loader *l);

/* Names of the programs loaded (static for the skeleton's life), up to max. Returns how many. */
size_t loader__programs(struct loader *l, const char **names, size_t max);

/* Calls cb for every workload (cgroup id) the kernel charged drops to. 0 or -errno. */
int loader__for_each_cgroup_drops(struct loader *l,
				  void (*cb)(void *ctx, uint64_t cgroup_id,
					     const struct fl_cgroup_drops *d),
				  void *ctx);

/* The ring buffer's peak fill (bytes) since the last call, and its size. */
int loader__ring_fill(struct loader *l, uint64_t *used, uint64_t *size);

#endif
