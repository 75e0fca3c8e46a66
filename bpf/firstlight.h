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
#define FL_EV_TCP 10          /* struct fl_tcp_event: listen, connect result, accept, close */
#define FL_EV_UDP 11          /* struct fl_udp_event: a UDP contribution, see there */
#define FL_EV_UNIX_CONNECT 12 /* struct fl_unix_connect_event */
#define FL_EV_UNIX_PEER 13    /* struct fl_unix_peer_event: who a unix connect reached */
#define FL_EV_PRIV 16         /* struct fl_priv_event: a credential-changing syscall returned */
#define FL_EV_FILE 17         /* struct fl_file_event: a watched file opened, see there */
#define FL_EV_SOCKET 18       /* struct fl_sock_event: a socket of a kind not recorded was made */
#define FL_EV_MAX 20

/* Hard limits compiled into the programs; the runtime limits are at most these. */
#define FL_ARGS_MAX 32768        /* bytes of argv copied, power of two */
#define FL_ARGS_DEFAULT 8192
#define FL_ARGS_TAIL_MAX 8192    /* bytes of argv's tail, power of two (> FL_ARGS_MAX / 4) */
#define FL_PATH_MAX 4096         /* a resolved path, with its NUL; power of two */
#define FL_NAME_MAX 256          /* one path component, power of two */
#define FL_PATH_DEPTH 48         /* components walked before giving up */
#define FL_CGROUP_NAME_MAX 128   /* v1 cgroup leaf name, with NUL */
#define FL_CGROUP_PATH_MAX 1024  /* cgroup path from the hierarchy root, with NUL */

/*
 * cfg_kfeat: what this kernel allows BPF programs, as the agent probed it before load
 * (user/sensor/kcaps.c). The programs branch on these read-only values, so the verifier
 * never visits, and removes, the side a kernel cannot run.
 */
#define FL_KFEAT_SK_STORAGE (1u << 0) /* bpf_sk_storage_get in tracing programs (5.11+) */
#define FL_KFEAT_SOCK_COOKIE (1u << 1) /* bpf_get_socket_cookie in tracing programs (5.12+) */

/* fl_exec_event.flags */
#define FL_EXEC_ARGS_TRUNCATED (1u << 0)   /* argv longer than the byte limit */
#define FL_EXEC_ARGS_FAULT (1u << 1)       /* argv could not be read at all */
#define FL_EXEC_BINARY_UNRESOLVED (1u << 2)
#define FL_EXEC_CWD_UNRESOLVED (1u << 3)
/* live_procs was full: the process's later events carry its pre-exec id (see maps.bpf.h) */
#define FL_EXEC_UNTRACKED (1u << 4)
#define FL_EXEC_BINARY_MEMFD (1u << 5)    /* the file is a memfd (memfd_create): on no disk */
#define FL_EXEC_BINARY_UNLINKED (1u << 6) /* a file (not a memfd) with no link left */
#define FL_EXEC_ARGS_TAIL_FAULT (1u << 7) /* argv's tail could not be read: the head alone */
/* fl_exit_event.flags */
#define FL_EXIT_EXECED (1u << 0) /* the process exec'd since we attached (had a map entry) */
#define FL_EXIT_EXE_CHECKED (1u << 1)  /* its executable was looked at (the mm was still there) */
#define FL_EXIT_EXE_UNLINKED (1u << 2) /* ... and had no link left */

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
};

/*
 * A fork: the child, then the name of its v1 memory cgroup (with its NUL). The ring gets
 * only the name's bytes: hdr.size is FL_FORK_EVENT_MIN plus those, nothing more on a
 * cgroup2-only host, where there is no v1 name. Every byte of a record is a store into
 * ring memory that the agent reads from another CPU: the kernel's cost per event grows
 * with the record (docs/benchmark.md, issue 20).
 */
struct fl_fork_event {
	struct fl_event_hdr hdr;
	struct fl_task task;
	char cgroup_v1_name[FL_CGROUP_NAME_MAX];
};
#define FL_FORK_EVENT_MIN (sizeof(struct fl_event_hdr) + sizeof(struct fl_task))

/* FL_EV_SEED has the layout of a fork event, always whole (the iterator writes it to a
 * seq file, not the ring): the agent reads argv, exe and cwd from /proc. */
#define fl_seed_event fl_fork_event

/*
 * An exec, followed directly by its data (no flexible member, so the kernel can embed
 * the struct in its scratch area): binary path (binary_len bytes with its NUL), cwd (cwd_len
 * bytes with its NUL), args_len bytes of argv as the kernel holds it (NUL-separated), then
 * the v1 memory cgroup's name (cgroup_v1_name_len bytes with its NUL; none on a
 * cgroup2-only host).
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
	/* The file the image was executed from, as the kernel held it: a path names nothing
	 * for certain (a memfd's name is its creator's choice; a file may be gone). */
	__u64 binary_ino;
	__u32 binary_dev;    /* the kernel's dev_t: major << 20 | minor */
	__u32 binary_mnt_id; /* the mount it was reached through (as in mountinfo) */
	/* Beyond the limit argv keeps its head and its tail: the last args_tail_len bytes of
	 * the args_len are argv's last bytes; args_size - args_len were cut between. */
	__u32 args_tail_len;
	__u32 cgroup_v1_name_len; /* at most FL_CGROUP_NAME_MAX */
};

/*
 * A process's end: its pid is id.tgid, its cgroup2 id hdr.cgroup_id (nothing sent twice:
 * with the ring's own 8-byte header the record fills one cache line).
 */
struct fl_exit_event {
	struct fl_event_hdr hdr;
	struct fl_exec_id id;
	__u64 start_ns;  /* process start, for the lifetime */
	__u32 status;    /* wait status: exit code << 8 | core 0x80 | signal */
	__u32 flags;     /* FL_EXIT_* */
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

/*
 * Why an event was not queued: the ring was full (or, for bulk events, only its headroom
 * was left), its workload had used its share of the ring since the agent's last drain, or
 * the kernel state it needed could not be kept.
 */
#define FL_DROP_RING 0
#define FL_DROP_SHARE 1
#define FL_DROP_STATE 2 /* no room for kernel state the event needed (a UDP send's destination) */
#define FL_DROP_WHY 3

/* Value of the per-cgroup drop map: what a workload lost, by cause and event type. */
struct fl_cgroup_drops {
	__u64 count[FL_DROP_WHY][FL_EV_MAX];
	__u64 first_ns; /* CLOCK_BOOTTIME of the first and last drop */
	__u64 last_ns;
};

/*
 * Value of the per-workload ring share map: the bytes a workload queued in the current
 * drain epoch (ring_epoch, advanced by the agent before each drain). Since a drain takes
 * everything queued before it, what a workload queued since the last one bounds what it
 * holds of the ring.
 */
struct fl_ring_share {
	__u64 epoch;
	__u64 bytes;
};

/* Value of the per-CPU drop counter array, indexed by cause * FL_EV_MAX + event type. */
struct fl_drop_counter {
	__u64 count;
	__u64 first_ns; /* CLOCK_BOOTTIME of the first and last drop on this CPU */
	__u64 last_ns;
};

/* ---- network (event types 10-19) ---------------------------------------------------- */

/* fl_tcp_event.kind */
#define FL_TCP_LISTEN 1
#define FL_TCP_CONNECT 2 /* the handshake's outcome: result 0 (established) or -errno */
#define FL_TCP_ACCEPT 3  /* a connection established on a listener */
#define FL_TCP_CLOSE 4   /* an established connection ended: bytes, duration */

/* fl_sock_owner.flags */
#define FL_OWNER_UNKNOWN (1u << 0) /* the socket predates the sensor: nobody to name */
#define FL_OWNER_INBOUND (1u << 1) /* an accepted connection: the owner is the listener's */

#define FL_UNIX_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */

/*
 * The process a socket belongs to: the one that connected or listened (TCP), sent
 * (UDP) or connected (unix). An accepted connection belongs to its listener's owner.
 */
struct fl_sock_owner {
	struct fl_exec_id id; /* zero with FL_OWNER_UNKNOWN */
	__u64 cgroup_id;
	__u32 pid;   /* tgid */
	__u32 flags; /* FL_OWNER_* */
};

/*
 * Addresses in network byte order: IPv4 in the first 4 bytes, IPv6 (v4-mapped too, for
 * AF_INET6 sockets talking IPv4) in all 16. Ports in host byte order. src is the
 * side that initiated the connection: the local end of a connect, the remote end of
 * an accept.
 */
struct fl_inet_tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 pad;
};

struct fl_tcp_event {
	struct fl_event_hdr hdr;
	struct fl_sock_owner owner;
	struct fl_inet_tuple tuple;
	__u64 cookie;         /* socket cookie: joins the records of one connection */
	__u64 start_ns;       /* connect attempt or accept; 0 when it predates the sensor */
	__u64 bytes_sent;     /* payload bytes, retransmissions excluded (CLOSE) */
	__u64 bytes_received; /* payload bytes (CLOSE) */
	__u64 bytes_retrans;  /* payload bytes sent again (CLOSE) */
	__s32 result;         /* 0 or -errno (CONNECT); -errno of a reset (CLOSE) */
	__u32 netns;          /* network namespace inode */
	__u16 kind;           /* FL_TCP_* */
	__u16 pad[3];
};

/*
 * UDP peers are counted in the kernel (map udp_flows), never sent per datagram: a
 * DNS-heavy job would flood the ring. The key carries a generation, flipped by the
 * agent each window: the kernel writes the current one while the agent drains the
 * other, which nothing has written for a whole window, so no count can fall between a
 * read and a delete.
 */
struct fl_udp_key {
	struct fl_exec_id id;
	__u64 cgroup_id;
	__u8 daddr[16]; /* as in fl_inet_tuple */
	__u16 dport;
	__u16 family;
	__u32 netns;
	__u32 gen;
	__u32 pad;
};

struct fl_udp_value {
	__u64 datagrams; /* sent */
	__u64 bytes;     /* payload bytes sent */
	__u64 connects;  /* connect() calls to the peer */
	__u64 first_ns;
	__u64 last_ns;
	__u32 pid;
	__u32 flags; /* FL_OWNER_* */
};

/*
 * A UDP contribution sent through the ring: the first of its key in a generation (the
 * map gets an empty aggregate for the rest), or one the map had no room for.
 */
struct fl_udp_event {
	struct fl_event_hdr hdr;
	struct fl_udp_key key;
	struct fl_udp_value value;
};

/*
 * A connect() on a unix socket, before the kernel resolved it: the peer comes later.
 * path is sun_path as the caller gave it (an abstract name starts with a NUL).
 */
struct fl_unix_connect_event {
	struct fl_event_hdr hdr;
	struct fl_sock_owner owner;
	__u64 cookie;     /* matches fl_unix_peer_event.cookie */
	__u32 path_len;   /* bytes of sun_path given, at most FL_UNIX_PATH_MAX */
	__u16 sock_type;  /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	__u16 pad;
	__u32 netns;
	char path[FL_UNIX_PATH_MAX];
};

/*
 * The peer of a connected unix socket (SO_PEERCRED's process: the one that listened),
 * sent at the socket's first send: the connect hook runs before the peer is known.
 */
struct fl_unix_peer_event {
	struct fl_event_hdr hdr;
	__u64 cookie;
	__u32 peer_pid; /* tgid, 0 when the kernel holds none (datagram sockets) */
	__u32 pad;
};

/*
 * Privilege changes (bpf/privilege.bpf.c): a credential-changing syscall, from its own
 * tracepoints, with the credentials before (at entry) and after (at return) and the
 * result. Syscalls by FL_PRIV_*; args as the process passed them.
 */
#define FL_PRIV_SETUID 1
#define FL_PRIV_SETGID 2
#define FL_PRIV_SETREUID 3
#define FL_PRIV_SETREGID 4
#define FL_PRIV_SETRESUID 5
#define FL_PRIV_SETRESGID 6
#define FL_PRIV_SETFSUID 7
#define FL_PRIV_SETFSGID 8
#define FL_PRIV_SETGROUPS 9
#define FL_PRIV_CAPSET 10
#define FL_PRIV_PRCTL 11
#define FL_PRIV_MAX 12
#define FL_PRIV_GROUPS 8 /* supplementary groups copied (ngroups says how many there are) */

struct fl_priv_creds {
	__u32 uid, gid, suid, sgid, euid, egid, fsuid, fsgid;
	__u64 cap_inheritable, cap_permitted, cap_effective, cap_bset, cap_ambient;
	__u32 securebits;
	__u32 ngroups;
	__u32 groups[FL_PRIV_GROUPS];
};

struct fl_priv_event {
	struct fl_event_hdr hdr;
	struct fl_exec_id id;  /* the caller's current image */
	__u32 pid;             /* tgid */
	__u32 tid;
	__u32 syscall;         /* FL_PRIV_* */
	__u32 pad;
	__s64 args[4];
	__s64 ret;             /* the syscall's return: 0 or -errno (setfs*id: the old id) */
	__u64 enter_ns;
	struct fl_priv_creds old_creds;
	struct fl_priv_creds new_creds;
};

/*
 * Watched files (bpf/fileaccess.bpf.c): an open whose resolved path starts with a watched
 * pattern. Patterns are absolute ("/etc/shadow") or home-relative ("~/.aws/credentials":
 * "/root/..." and "/home/<one name>/..."). Two tests, both on the path the kernel resolved
 * for the opened file (never the string the process passed):
 *  - a filter on every open: the pattern's last component, maybe cut ("shadow" of
 *    "/etc/shadow", "id_" of "~/.ssh/id_"), must begin one component of the file's path.
 *    The first FL_WATCH_HEAD bytes of that fragment are hashed (FNV-1a, m bytes for each
 *    m set in cfg_watch_heads) into a bitmap (cfg_watch_bits); the kernel hashes each
 *    component's first bytes alike, so an open that passes no bit costs no path string;
 *  - on a bit, the path is built and each prefix whose length some pattern has is hashed
 *    (FNV-1a over the whole prefix) and looked up in map watch_exact ({len, home, hash}
 *    -> pattern index). The agent checks the string again before it records.
 * Opens are counted in the kernel per (process, path, mode) in map file_flows, with a
 * generation flipped by the agent each window, like UDP peers (struct fl_udp_key).
 */
#define FL_WATCH_LEN 256   /* bytes of a pattern, at most; power of two */
#define FL_WATCH_MAX 64    /* patterns */
#define FL_WATCH_BITS 4096 /* bits of the fragment filter; power of two */
#define FL_WATCH_HEAD 8    /* bytes of a fragment the filter hashes */
#define FL_FNV_OFFSET 0xcbf29ce484222325ULL
#define FL_FNV_PRIME 0x100000001b3ULL

/* fl_file_key.mode: how the file was opened (f_flags' access mode, O_PATH apart) */
#define FL_FILE_READ 0
#define FL_FILE_WRITE 1
#define FL_FILE_READ_WRITE 2
#define FL_FILE_PATH 3 /* O_PATH: a handle that reads nothing itself */

#define FL_FILE_UNRESOLVED (1u << 0) /* the path walk did not reach the root */
/* the walk up to the filesystem's root did not reach it: no fs path (fs_path_len 0) */
#define FL_FILE_FS_UNRESOLVED (1u << 1)

struct fl_watch_key {
	__u32 len;  /* bytes hashed; a home pattern's "~" counts one */
	__u32 home; /* 1: a "~/" pattern, hashed from the path's part after the home dir */
	__u64 hash;
};

struct fl_file_key {
	struct fl_exec_id id;
	__u64 cgroup_id;
	__u64 path_hash; /* FNV-1a of the whole resolved path */
	__u32 mode;      /* FL_FILE_* */
	__u32 gen;
};

struct fl_file_value {
	__u64 count; /* opens */
	__u64 first_ns;
	__u64 last_ns;
	__u32 pid;   /* the last opener's tgid */
	__u32 watch; /* index of the pattern that matched */
};

/*
 * The first open of a key in a generation (the map gets an empty aggregate for the
 * rest), or one the map had no room for. Sent at its real size: path_len bytes of path,
 * its NUL included, then fs_path_len bytes of the file's path in its filesystem.
 * mnt_id, dev and that fs path are what the agent needs to find the file's host path
 * (user/sensor/hostmounts.h): the mount table's own terms (mountinfo's first, third and
 * fourth fields).
 */
struct fl_file_event {
	struct fl_event_hdr hdr;
	struct fl_file_key key;
	struct fl_file_value value;
	__u64 ino;
	__u32 dev;         /* the file's superblock s_dev (MKDEV of the kernel) */
	__u32 tid;
	__u32 flags;       /* FL_FILE_UNRESOLVED, FL_FILE_FS_UNRESOLVED */
	__u32 path_len;
	__s32 fd;
	__u32 mnt_id;      /* the mount it was opened through: struct mount's mnt_id */
	__u32 fs_path_len; /* bytes after path's: its path from the superblock's root
			    * (mounts ignored), NUL included; 0 when not read */
	__u32 pad;
	char path[2 * FL_PATH_MAX]; /* path_len bytes, then fs_path_len bytes */
};

/*
 * Sockets of the kinds the sensor does not record (TCP, UDP and unix are), counted per
 * workload as they are made: socket() returned one (bpf/socket.bpf.c).
 */
#define FL_SOCK_RAW 1     /* AF_INET/AF_INET6 SOCK_RAW (raw IP, raw ICMP) */
#define FL_SOCK_ICMP 2    /* AF_INET/AF_INET6 SOCK_DGRAM IPPROTO_ICMP/ICMPV6 (ping sockets) */
#define FL_SOCK_SCTP 3    /* AF_INET/AF_INET6 IPPROTO_SCTP, or SOCK_SEQPACKET */
#define FL_SOCK_PACKET 4  /* AF_PACKET: link-layer frames */
#define FL_SOCK_NETLINK 5 /* AF_NETLINK: the kernel's configuration channels */
#define FL_SOCK_VSOCK 6   /* AF_VSOCK: host <-> guest */
#define FL_SOCK_OTHER 7   /* any other family, or an inet protocol other than the above */
#define FL_SOCK_KINDS 8   /* kinds 1..7; 0: a recorded kind */

struct fl_sock_event {
	struct fl_event_hdr hdr;
	struct fl_exec_id id; /* the caller's current image */
	__u32 pid;            /* tgid */
	__u32 kind;           /* FL_SOCK_* */
	__u32 family;         /* socket()'s arguments, as given */
	__u32 type;
	__u32 protocol;
	__u32 pad;
};

#endif /* FIRSTLIGHT_H */
