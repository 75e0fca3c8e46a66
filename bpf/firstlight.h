/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The kernel/user ABI of firstlight: every record layout that crosses the ring buffer or
 * a map, included by the BPF programs and by the agent. Fixed-width types only, explicit
 * padding, no enums or bool in structs; user code pins every size with _Static_assert.
 * Changing a layout means changing both sides in the same commit.
 */
#ifndef FIRSTLIGHT_H
#define FIRSTLIGHT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * Event types (fl_event_hdr.type) and index of the per-type drop counters.
 * Ranges: 1-4 processes, 5-9 cgroups/workloads, 10-19 network.
 */
#define FL_EV_EXEC 1
#define FL_EV_FORK 2
#define FL_EV_EXIT 3
#define FL_EV_SEED 4 /* a pre-existing process, written by the task iterator */
#define FL_EV_CGROUP_MKDIR 5
#define FL_EV_CGROUP_RMDIR 6
#define FL_EV_CGROUP_ATTACH 7
#define FL_EV_MAX 20

/* Hard limits compiled into the programs; the runtime limits are at most these. */
#define FL_ARGS_MAX 32768        /* bytes of argv copied, power of two */
#define FL_ARGS_DEFAULT 8192
#define FL_PATH_MAX 4096         /* a resolved path, with its NUL; power of two */
#define FL_NAME_MAX 256          /* one path component, power of two */
#define FL_PATH_DEPTH 48         /* components walked before giving up */
#define FL_CGROUP_NAME_MAX 128   /* v1 cgroup leaf name, with NUL */
#define FL_CGROUP_PATH_MAX 1024  /* cgroup path from the hierarchy root, with NUL */

/* fl_exec_event.flags */
#define FL_EXEC_ARGS_TRUNCATED (1u << 0)   /* argv longer than the byte limit */
#define FL_EXEC_ARGS_FAULT (1u << 1)       /* argv could not be read at all */
#define FL_EXEC_BINARY_UNRESOLVED (1u << 2)
#define FL_EXEC_CWD_UNRESOLVED (1u << 3)
/* fl_exit_event.flags */
#define FL_EXIT_EXECED (1u << 0) /* the process exec'd since we attached (had a map entry) */

/*
 * A process image id, unique on this boot: the CLOCK_BOOTTIME instant the image started
 * and the tgid. Two images can share a tgid only after pid reuse, which cannot happen at
 * the same nanosecond. Until a process execs, its id is derivable from the task alone
 * (its start_boottime, its tgid): the kernel and the agent both compute it without a
 * map. Only an exec'd image (started at the exec) needs the live-process map.
 */
struct fl_exec_id {
	__u64 start_ns;
	__u32 tgid;
	__u32 pad;
};

/* Value of the live-process map, keyed by tgid: inserted at exec, deleted at exit. */
struct fl_proc_entry {
	struct fl_exec_id id;
	struct fl_exec_id parent;
	__u64 cgroup_id;
};

struct fl_event_hdr {
	__u16 type;   /* FL_EV_* */
	__u16 pad;
	__u32 size;   /* bytes of the whole event, header included */
	__u64 boot_ns; /* bpf_ktime_get_boot_ns() when the event was built */
	__u64 cgroup_id; /* the workload it is about: a lost event is charged to it */
};

struct fl_creds {
	__u32 uid, gid, euid, egid;
	__u32 auid;      /* loginuid, (u32)-1 when unset */
	__u32 sessionid; /* audit session id */
	__u64 cap_effective;
};

struct fl_namespaces {
	__u32 pid, mnt, net, uts, ipc, user, cgroup;
	__u32 pad;
};

/* Identity, credentials and placement of a process, shared by fork, exec and seed. */
struct fl_task {
	struct fl_exec_id id;
	struct fl_exec_id parent_id;
	__u32 pid;      /* tgid in the initial pid namespace */
	__u32 ppid;     /* real parent's tgid */
	__u32 ns_pid;   /* tgid in the process's own pid namespace */
	__u32 pad;
	__u64 start_ns; /* process start (group leader's start_boottime) */
	__u64 cgroup_id;    /* cgroup2 directory inode */
	__u64 cgroup_v1_id; /* inode of the v1 memory cgroup directory, 0 if none */
	struct fl_creds creds;
	struct fl_namespaces ns;
	char cgroup_v1_name[FL_CGROUP_NAME_MAX];
};

struct fl_fork_event {
	struct fl_event_hdr hdr;
	struct fl_task task;
};

/* FL_EV_SEED has the layout of a fork event: the agent reads argv, exe and cwd from /proc. */
#define fl_seed_event fl_fork_event

/*
 * An exec, followed directly by its data (no flexible member, so the kernel can embed
 * the struct in its scratch area): binary path (binary_len bytes with its NUL), cwd (cwd_len
 * bytes with its NUL), then args_len bytes of argv as the kernel holds it (NUL-separated).
 */
struct fl_exec_event {
	struct fl_event_hdr hdr;
	struct fl_task task;
	struct fl_exec_id replaced; /* the image this exec replaced; zero when unknown */
	__u32 argc;      /* argc before truncation */
	__u32 args_size; /* bytes of argv before truncation */
	__u32 args_len;  /* bytes of argv in data[] */
	__u32 binary_len;
	__u32 cwd_len;
	__u32 flags;     /* FL_EXEC_* */
};

struct fl_exit_event {
	struct fl_event_hdr hdr;
	struct fl_exec_id id;
	__u32 pid;
	__u32 status;    /* wait status: exit code << 8 | core 0x80 | signal */
	__u64 start_ns;  /* process start, for the lifetime */
	__u64 cgroup_id;
	__u32 flags;     /* FL_EXIT_* */
	__u32 pad;
};

/* fl_cgroup_event.flags */
#define FL_CGROUP_PATH_TRUNCATED (1u << 0)

/*
 * A cgroup made, removed, or a process moved into one; followed directly by the path
 * (path_len bytes with its NUL) from the hierarchy's root. The actor is the process that
 * did it (mkdir, rmdir or the write to cgroup.procs): for a container, the runtime.
 */
struct fl_cgroup_event {
	struct fl_event_hdr hdr;
	__u64 cgroup_id;     /* the directory's kernfs id (inode) */
	__u64 parent_id;     /* its parent's, 0 for a root */
	struct fl_exec_id actor;
	__u32 actor_euid;
	__u32 hierarchy_id;  /* 0: cgroup2; else a v1 hierarchy */
	__u32 level;         /* depth below the root */
	__u32 pid;           /* attach: the process moved (tgid), else 0 */
	__u32 path_len;
	__u32 flags;         /* FL_CGROUP_* */
};

/* Value of the per-cgroup drop map: what a workload lost, by event type. */
struct fl_cgroup_drops {
	__u64 count[FL_EV_MAX];
	__u64 first_ns; /* CLOCK_BOOTTIME of the first and last drop */
	__u64 last_ns;
};

/* Value of the per-CPU drop counter array, indexed by event type. */
struct fl_drop_counter {
	__u64 count;
	__u64 first_ns; /* CLOCK_BOOTTIME of the first and last drop on this CPU */
	__u64 last_ns;
};

#endif /* FIRSTLIGHT_H */
