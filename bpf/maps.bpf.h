/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maps and load-time configuration shared by every BPF source. Declared __weak so that
 * each .bpf.c can include this header and `bpftool gen object` links them into one map
 * each: one definition, one skeleton, no drift between files.
 */
#ifndef FL_MAPS_BPF_H
#define FL_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "firstlight.h"

/* Set by the agent between open and load (skeleton rodata). */
const volatile __u32 cfg_args_max __weak = FL_ARGS_DEFAULT; /* argv bytes copied, <= FL_ARGS_MAX */
const volatile __u64 cfg_wakeup_bytes __weak = 1 << 20;     /* force a wake-up above this fill */
const volatile __u32 cfg_kfeat __weak = 0;                  /* FL_KFEAT_*: what this kernel allows */
/* Fairness (emit.bpf.h): the ring's size, what one workload may queue per drain epoch
 * (0: no shares), and the bytes only exec, exit and cgroup events may use. */
const volatile __u64 cfg_ring_bytes __weak = 8 << 20;
const volatile __u64 cfg_share_bytes __weak = 0;
const volatile __u64 cfg_headroom_bytes __weak = 0;

/* Set by the agent after attach, before the seeding iterator runs (bss, writable). Once
 * only: an agent that adopts pinned programs (a handover) keeps the first load's value,
 * which tells it which processes the first run found alive. */
__u64 seed_before_ns __weak = 0;
/* Set by an agent adopting pinned programs, for its seeding walk only: report every
 * process (the agent itself tells which ones it already knows), not only those older
 * than seed_before_ns and never exec'd since. */
__u32 seed_all __weak = 0;
/* Highest ring-buffer fill seen at an emit since the agent last reset it (a gauge: racy
 * updates between CPUs only blur it). */
__u64 ring_peak_bytes __weak = 0;
/* Drops counted so far, all types and CPUs: the agent reads it through the mmapped bss
 * every flush and walks the drop maps (one syscall per type) only when it moved. */
__u64 drop_events __weak = 0;
/* Advanced by the agent (through the mmapped bss) before every drain of the ring: a
 * workload's share is counted per epoch. */
__u64 ring_epoch __weak = 0;

/* Every kernel event for the agent. Sized by the agent (--ring-size) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps") __weak;

/*
 * Processes that exec'd since we attached, tgid -> image ids and cgroup: exec makes the
 * entry, the exit of the last thread removes it. Other processes need no entry: their id
 * derives from the task (see firstlight.h). Never evicted: an eviction would silently give
 * a process's later events (its exit, forks, flows) its pre-exec id. An entry is only made
 * after we attached, and every exit after that runs the exit program, so none leaks.
 *
 * Two tables (live.bpf.h owns them): live_slots, an array indexed by the tgid's low bits,
 * where a lookup is a load the verifier inlines and an update or removal a few stores;
 * and live_procs, a hash for the tgids whose slot another live process holds. A hash
 * update or delete takes a bucket lock with interrupts off, which cost the exec and exit
 * events a tenth to a quarter of their time (docs/benchmark.md). A slot is claimed with a
 * compare-and-exchange (5.12+), so only fl_exec (5.17+) claims; fl_exec_bounded (older
 * kernels) uses the hash alone, and the loader then gives live_slots one unused entry.
 * Together they hold --max-procs entries at most (the loader splits them); an exec that
 * finds its slot taken and the hash full is flagged FL_EXEC_UNTRACKED: the agent maps the
 * pre-exec id back to the exec's and records an UNTRACKED_PROCESS gap.
 */
struct fl_live_slot {
	/* The tgid holding the slot, with FL_LIVE_CLAIMING while its first exec fills it in;
	 * 0: free. A reader takes the entry only when owner and e.id.tgid both name its tgid. */
	__u64 owner;
	struct fl_proc_entry e;
};

#define FL_LIVE_CLAIMING (1ULL << 32)

const volatile __u32 cfg_live_slot_mask __weak = 65535; /* live_slots' size - 1, a power of 2 */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct fl_live_slot);
} live_slots SEC(".maps") __weak;

/* Entries in live_procs: a lookup that misses its slot looks there only if any. A map of
 * its own, away from the lines every event writes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} live_overflow SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct fl_proc_entry);
} live_procs SEC(".maps") __weak;

/*
 * Processes whose exit was reported, on kernels whose sched_process_exit has no
 * group_dead (fl_exit_legacy; 6.1): process id (leader start, tgid) -> 1. Several threads
 * can see signal->live == 0; the one whose BPF_NOEXIST insert succeeds reports. Nobody
 * removes entries: an entry matters only while the threads of one dying process race, LRU
 * recycles it long after. Not created on kernels with group_dead (the agent decides).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct fl_exec_id);
	__type(value, __u32);
} exit_claims SEC(".maps") __weak;

/* Events that could not be queued, per CPU, cause and event type (FL_DROP_* * FL_EV_MAX +
 * type); read (never reset) by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FL_DROP_WHY * FL_EV_MAX);
	__type(key, __u32);
	__type(value, struct fl_drop_counter);
} drops SEC(".maps") __weak;

/*
 * Events that could not be queued, per workload (cgroup2 id): so a gap names the
 * workload it blinded. Written only on the drop path; read (never reset) by the agent.
 * LRU: a flood of dying cgroups cannot block new ones; the per-CPU totals above still
 * count everything, and the agent charges what no entry holds to "workload unknown".
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct fl_cgroup_drops);
} cgroup_drops SEC(".maps") __weak;

/*
 * What each workload (cgroup2 id) queued in the current drain epoch. LRU: an entry
 * evicted only restarts that workload's count for the epoch; a workload needs a cgroup of
 * its own per share, and 16,384 is more than a node runs at once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct fl_ring_share);
} ring_share SEC(".maps") __weak;

/*
 * Per CPU, a workload's share bookkeeping in a slot (its cgroup id's low bits): the bytes
 * it queued from this CPU not yet added to ring_share, and ring_share's count as last
 * seen. A CPU adds its bytes every FL_SHARE_BATCH, so the shared line is written once per
 * batch, not per event; a workload may thus pass its share by up to a batch per CPU.
 * Two workloads in one slot on one CPU each flush the other's bytes: exact, slower.
 */
#define FL_SHARE_SLOTS 256   /* power of two */
#define FL_SHARE_BATCH 4096  /* bytes */
struct fl_share_local {
	__u64 cgroup_id;
	__u64 epoch;
	__u64 pending; /* queued from this CPU, not yet in ring_share */
	__u64 shared;  /* ring_share's count when this CPU last added to it or read it */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FL_SHARE_SLOTS);
	__type(key, __u32);
	__type(value, struct fl_share_local);
} ring_share_local SEC(".maps") __weak;

/*
 * Scratch for exec events, far larger than the 512-byte BPF stack. One slot per CPU,
 * indexed by the CPU id: a PERCPU_ARRAY value is capped at 32 KiB, this is ~45 KiB.
 * BPF programs run with migration disabled, so a slot is ours for the whole handler.
 */
struct fl_exec_scratch {
	struct fl_exec_event ev;
	char data[2 * FL_PATH_MAX + FL_ARGS_MAX + FL_ARGS_TAIL_MAX]; /* + the tail: for the verifier */
	char path[FL_PATH_MAX + FL_NAME_MAX]; /* a path is assembled backwards here */
	char cgroup_v1_name[FL_CGROUP_NAME_MAX]; /* read with the task, sent after argv */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256); /* set to the number of possible CPUs before load */
	__type(key, __u32);
	__type(value, struct fl_exec_scratch);
} exec_scratch SEC(".maps") __weak;

/* Scratch for cgroup events (path up to FL_CGROUP_PATH_MAX): tracepoints run with
 * preemption disabled, so a per-CPU slot is ours for the whole handler. */
struct fl_cgroup_scratch {
	struct fl_cgroup_event ev;
	char path[FL_CGROUP_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fl_cgroup_scratch);
} cgroup_scratch SEC(".maps") __weak;

#endif /* FL_MAPS_BPF_H */
