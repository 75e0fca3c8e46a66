/*
 * What this node's kernel lets the sensor observe. Probed once, before the programs are
 * loaded, from the kernel's BTF and by asking the verifier whether a tracing program may
 * call a helper (as libbpf probes features). The probe decides the program variants the
 * loader loads and the features the programs use (cfg_kfeat); the result is written as
 * a NodeCapabilities record, exported as a metric and named in every workload's
 * coverage, so that what a kernel cannot give is data, not silence.
 *
 * Errors: 0 or -errno, each logged as one line.
 */
#ifndef FL_KCAPS_H
#define FL_KCAPS_H

#include <stddef.h>
#include <stdint.h>

struct recorder;

/* Capabilities: what the records hold on this node. Names are part of the record. */
enum kcap {
	KCAP_PROCESS_LIFECYCLE, /* fork, exec (argv, paths, creds, namespaces), exit */
	KCAP_CGROUP_WORKLOADS,  /* cgroup mkdir, rmdir and attach: workloads from birth */
	KCAP_AUDIT_LOGINUID,    /* loginuid and audit session of processes */
	KCAP_TCP_FLOWS,         /* TCP listen, connect, accept, close with bytes */
	KCAP_TCP_ACCEPT_OWNER,  /* the process behind an accepted connection */
	KCAP_TCP_SOCKET_COOKIE, /* flows carry the kernel's socket cookie */
	KCAP_UDP_CONNECTS,      /* UDP connect() peers */
	KCAP_UDP_DATAGRAMS,     /* UDP datagrams and bytes per peer */
	KCAP_UNIX_CONNECTS,     /* unix socket connects with their path */
	KCAP_UNIX_PEERS,        /* the process a unix connect reached */
	KCAP_PRIVILEGE_CHANGES, /* setuid, setgroups, capset...: the syscalls' tracepoints */
	KCAP_FILE_ACCESS,       /* opens of watched paths: the open syscalls' tracepoints */
	KCAP_SOCKET_FAMILIES,   /* sockets of kinds not recorded, counted: socket()'s tracepoints */
	KCAP_COUNT
};

struct kcaps {
	char release[65];  /* uname -r */
	char machine[65];  /* uname -m */
	uint32_t kfeat;    /* FL_KFEAT_* (bpf/firstlight.h), for cfg_kfeat */
	int exit_group_dead;  /* sched_process_exit passes group_dead: fl_exit, else fl_exit_legacy(_slots) */
	int loop;             /* bpf_loop in tracing programs: fl_exec, else fl_exec_bounded */
	int sock_send_length; /* the sock_send_length tracepoint (6.4+) */
	long long unix_connect_type; /* BPF_CGROUP_UNIX_CONNECT, -1 where unix hooks are absent */
	uint32_t missing;  /* bit (1 << enum kcap) for each capability this node lacks */
	const char *why[KCAP_COUNT]; /* for each missing one, what the node lacks (static text) */
};

/* Probes the running kernel; btf_path: its BTF, NULL for /sys/kernel/btf/vmlinux. */
int kcaps__probe(struct kcaps *c, const char *btf_path);
/* Marks a capability missing for a reason found later (no cgroup2 mount). why: static. */
void kcaps__lack(struct kcaps *c, enum kcap k, const char *why);
int kcaps__has(const struct kcaps *c, enum kcap k);

/* The capability's name in records and metrics ("udp-datagrams"). */
const char *kcaps__name(enum kcap k);
/* What is not recorded without it, for people. */
const char *kcaps__unobserved(enum kcap k);

/* Names of the missing capabilities, in enum order, into out (room for KCAP_COUNT).
 * Returns how many. The strings are static. */
size_t kcaps__missing_names(const struct kcaps *c, const char **out);

/* One warning line per missing capability. */
void kcaps__log(const struct kcaps *c);

/* Writes the NodeCapabilities record; programs: the programs loaded, n of them.
 * snapshot: restated at the start of a new segment, not new. */
int kcaps__emit(const struct kcaps *c, const char *const *programs, size_t n, int snapshot,
		struct recorder *rec);

#endif
