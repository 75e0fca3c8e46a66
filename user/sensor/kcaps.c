/* What the kernel lets the sensor observe; see kcaps.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "firstlight.h"
#include "base/log.h"
#include "records/record.h"
#include "sensor/kcaps.h"

#define BTF_PATH "/sys/kernel/btf/vmlinux"

typedef Firstlight__V1__NodeCapabilities NodeCaps;
typedef Firstlight__V1__NodeCapabilities__Missing NodeCapsMissing;

static const struct {
	const char *name;
	const char *unobserved;
} caps[KCAP_COUNT] = {
	[KCAP_PROCESS_LIFECYCLE] = { "process-lifecycle", "processes (fork, exec, exit)" },
	[KCAP_CGROUP_WORKLOADS] = { "cgroup-workloads", "workload births, deaths and moves" },
	[KCAP_AUDIT_LOGINUID] = { "audit-loginuid", "processes' loginuid (auid) and audit session" },
	[KCAP_TCP_FLOWS] = { "tcp-flows", "TCP connections" },
	[KCAP_TCP_ACCEPT_OWNER] = { "tcp-accept-owner",
				    "the process behind an accepted TCP connection" },
	[KCAP_TCP_SOCKET_COOKIE] = { "tcp-socket-cookie",
				     "the kernel's socket cookie of TCP flows (their socketCookie is "
				     "the sensor's own id, which still joins a connection's records)" },
	[KCAP_UDP_CONNECTS] = { "udp-connects", "UDP peers named by connect()" },
	[KCAP_UDP_DATAGRAMS] = { "udp-datagrams", "UDP datagrams and bytes per peer" },
	[KCAP_UNIX_CONNECTS] = { "unix-connects", "unix socket connects" },
	[KCAP_UNIX_PEERS] = { "unix-peers", "the process a unix connect reached" },
	[KCAP_PRIVILEGE_CHANGES] = { "privilege-changes",
				     "credential changes (setuid, setgid, setgroups, capset, prctl)" },
	[KCAP_FILE_ACCESS] = { "file-access", "opens of watched paths (secrets, credentials, keys)" },
	[KCAP_SOCKET_FAMILIES] = { "socket-families",
				   "sockets of kinds not recorded (raw, ICMP, SCTP, packet, netlink, "
				   "vsock, others): not counted" },
};

const char *kcaps__name(enum kcap k)
{
	return (unsigned)k < KCAP_COUNT ? caps[k].name : "?";
}

const char *kcaps__unobserved(enum kcap k)
{
	return (unsigned)k < KCAP_COUNT ? caps[k].unobserved : "?";
}

void kcaps__lack(struct kcaps *c, enum kcap k, const char *why)
{
	if ((unsigned)k >= KCAP_COUNT || (c->missing & (1u << k)))
		return; /* the first reason found is the one reported */
	c->missing |= 1u << k;
	c->why[k] = why;
}

int kcaps__has(const struct kcaps *c, enum kcap k)
{
	return (unsigned)k < KCAP_COUNT && !(c->missing & (1u << k));
}

size_t kcaps__missing_names(const struct kcaps *c, const char **out)
{
	size_t n = 0;

	for (int k = 0; k < KCAP_COUNT; k++)
		if (!kcaps__has(c, k))
			out[n++] = caps[k].name;
	return n;
}

/* The value of an enumerator in kernel BTF, or -1 if the kernel does not have it. */
static long long btf_enum_value(const struct btf *btf, const char *enum_name, const char *name)
{
	int id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_enum *e;

	if (!t)
		return -1;
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(btf, e->name_off), name))
			return e->val;
	return -1;
}

/* The number of arguments of a BTF tracepoint (its btf_trace_<name> typedef), -1 if absent. */
static int tracepoint_args(const struct btf *btf, const char *typedef_name)
{
	int id = btf__find_by_name_kind(btf, typedef_name, BTF_KIND_TYPEDEF);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;

	t = t ? btf__type_by_id(btf, t->type) : NULL; /* pointer */
	t = t ? btf__type_by_id(btf, t->type) : NULL; /* func proto */
	/* (void *__data, args...): the first is the tracepoint's own data. */
	return t && btf_is_func_proto(t) ? (int)btf_vlen(t) - 1 : -1;
}

static int struct_has_member(const struct btf *btf, const char *struct_name, const char *member)
{
	int id = btf__find_by_name_kind(btf, struct_name, BTF_KIND_STRUCT);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_member *m;

	if (!t)
		return 0;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), member))
			return 1;
	return 0;
}

/*
 * Whether a BTF tracepoint program (tp_btf, attached at attach_btf_id) may call helper:
 * the verifier refuses a helper its program type lacks with "unknown func" (or "invalid
 * func") before it checks any argument; with the helper allowed, this program fails
 * later, on its arguments, which says yes. The way libbpf probes helpers, for the
 * program type that libbpf's own probe cannot load (it needs an attach point).
 * Returns 1, 0, or -errno when the verifier could not be asked.
 */
static int tracing_helper(int attach_btf_id, int helper)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_4 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_5 },
		{ .code = BPF_JMP | BPF_CALL, .imm = helper },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
		    .attach_btf_id = (__u32)attach_btf_id, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 1);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), &opts);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (strstr(log, "unknown func") || strstr(log, "invalid func"))
		return 0;
	if (!log[0])
		return -errno; /* refused before the verifier ran: no answer */
	return 1;
}

int kcaps__probe(struct kcaps *c, const char *btf_path)
{
	struct btf *btf = btf_path ? btf__parse(btf_path, NULL) : btf__load_vmlinux_btf();
	struct btf *kbtf = btf_path ? btf__load_vmlinux_btf() : btf;
	struct utsname u;
	int tp, err = 0, r;

	memset(c, 0, sizeof(*c));
	if (!uname(&u)) {
		snprintf(c->release, sizeof(c->release), "%s", u.release);
		snprintf(c->machine, sizeof(c->machine), "%s", u.machine);
	}
	if (!btf) {
		err = -errno;
		log_error("reading kernel BTF %s: %s", btf_path ? btf_path : BTF_PATH, strerror(errno));
		goto out;
	}
	/* Newer kernels pass group_dead (6.18 here, not 6.1): exact even when all threads of
	 * an exit_group() die at once. */
	c->exit_group_dead = tracepoint_args(btf, "btf_trace_sched_process_exit") >= 2;
	c->sock_send_length = tracepoint_args(btf, "btf_trace_sock_send_length") >= 0;
	c->unix_connect_type = btf_enum_value(btf, "bpf_attach_type", "BPF_CGROUP_UNIX_CONNECT");
	if (btf__find_by_name_kind(btf, "bpf_cast_to_kern_ctx", BTF_KIND_FUNC) <= 0)
		c->unix_connect_type = -1; /* the unix connect program reads the kernel's context */

	/* Helpers in tracing programs: asked of the verifier, on the running kernel's BTF ids. */
	if (!kbtf) {
		err = -ENOENT;
		log_error("the running kernel exposes no BTF (%s): BTF tracepoints cannot attach", BTF_PATH);
		goto out;
	}
	tp = btf__find_by_name_kind(kbtf, "btf_trace_sched_process_fork", BTF_KIND_TYPEDEF);
	if (tp <= 0) {
		err = -ENOENT;
		log_error("kernel BTF without the sched_process_fork tracepoint: cannot attach");
		goto out;
	}
	r = tracing_helper(tp, BPF_FUNC_loop);
	if (r >= 0)
		c->loop = r;
	if (r >= 0)
		r = tracing_helper(tp, BPF_FUNC_sk_storage_get);
	if (r > 0)
		c->kfeat |= FL_KFEAT_SK_STORAGE;
	if (r >= 0)
		r = tracing_helper(tp, BPF_FUNC_get_socket_cookie);
	if (r > 0)
		c->kfeat |= FL_KFEAT_SOCK_COOKIE;
	if (r < 0) {
		err = r;
		log_error("asking the verifier which helpers tracing programs may call: %s%s",
			  strerror(-r), r == -EPERM ? " (needs root or CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_SYS_PTRACE)" : "");
		goto out;
	}

	if (!struct_has_member(btf, "task_struct", "loginuid"))
		kcaps__lack(c, KCAP_AUDIT_LOGINUID, "a kernel without CONFIG_AUDITSYSCALL (task_struct.loginuid)");
	if (tracepoint_args(btf, "btf_trace_inet_sock_set_state") < 0)
		kcaps__lack(c, KCAP_TCP_FLOWS, "the inet_sock_set_state tracepoint");
	if (!(c->kfeat & FL_KFEAT_SK_STORAGE))
		kcaps__lack(c, KCAP_TCP_ACCEPT_OWNER,
			    "socket storage in tracing programs (5.11+), which accepted sockets inherit");
	if (!(c->kfeat & FL_KFEAT_SOCK_COOKIE))
		kcaps__lack(c, KCAP_TCP_SOCKET_COOKIE, "bpf_get_socket_cookie in tracing programs (5.12+)");
	if (!c->sock_send_length) {
		kcaps__lack(c, KCAP_UDP_DATAGRAMS, "the sock_send_length tracepoint (6.4+)");
		kcaps__lack(c, KCAP_UNIX_PEERS, "the sock_send_length tracepoint (6.4+)");
	}
	if (c->unix_connect_type < 0)
		kcaps__lack(c, KCAP_UNIX_CONNECTS, "cgroup/connect_unix (6.7+)");
out:
	if (kbtf != btf)
		btf__free(kbtf);
	btf__free(btf);
	return err;
}

void kcaps__log(const struct kcaps *c)
{
	for (int k = 0; k < KCAP_COUNT; k++)
		if (!kcaps__has(c, k))
			log_warn("node without %s: %s not recorded (needs %s)", caps[k].name,
				 caps[k].unobserved, c->why[k] ? c->why[k] : "?");
}

int kcaps__emit(const struct kcaps *c, const char *const *programs, size_t n, int snapshot,
		struct recorder *rec)
{
	NodeCaps body = FIRSTLIGHT__V1__NODE_CAPABILITIES__INIT;
	NodeCapsMissing missing[KCAP_COUNT];
	NodeCapsMissing *missing_p[KCAP_COUNT];
	const char *have[KCAP_COUNT], *lack[KCAP_COUNT];
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	for (int k = 0; k < KCAP_COUNT; k++) {
		if (kcaps__has(c, k)) {
			have[body.n_available++] = caps[k].name;
			continue;
		}
		NodeCapsMissing *m = &missing[body.n_missing];

		firstlight__v1__node_capabilities__missing__init(m);
		m->name = (char *)caps[k].name;
		m->reason = (char *)(c->why[k] ? c->why[k] : "");
		m->unobserved = (char *)caps[k].unobserved;
		missing_p[body.n_missing] = m;
		lack[body.n_missing++] = caps[k].name;
	}
	body.n_missing_detail = body.n_missing;
	body.kernel_release = (char *)c->release;
	body.machine = (char *)c->machine;
	body.available = (char **)have;
	body.missing = (char **)lack;
	body.missing_detail = missing_p;
	body.n_programs = n;
	body.programs = (char **)programs;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_NODE_CAPABILITIES;
	ev.node_capabilities = &body;
	ev.snapshot = !!snapshot;
	return recorder__emit(rec, &ev, 0);
}
