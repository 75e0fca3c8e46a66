/* Records as JSON, with the zeros that are values; see recordjson.h. */
#include <errno.h>

#include "records/recordjson.h"

/* A process that was not killed has an exit code, 0 included; a killed one has none. */
static int exited_normally(const ProtobufCMessage *m)
{
	return ((const Firstlight__V1__ProcessExit *)m)->signal == 0;
}

/* A TCP connect's result (0: established) and a close's (0: not reset). */
static int connect_or_close(const ProtobufCMessage *m)
{
	int kind = ((const Firstlight__V1__Flow *)m)->kind;

	return kind == FIRSTLIGHT__V1__FLOW__KIND__CONNECT || kind == FIRSTLIGHT__V1__FLOW__KIND__CLOSE;
}

/* Byte counts are measured at a TCP close (a UDP window's bytes may be unknown on a
 * kernel without sock_send_length: there 0 stays absent). */
static int tcp_close(const ProtobufCMessage *m)
{
	return ((const Firstlight__V1__Flow *)m)->kind == FIRSTLIGHT__V1__FLOW__KIND__CLOSE;
}

/* The run's totals are in the STOPPED record only. */
static int agent_stopped(const ProtobufCMessage *m)
{
	return ((const Firstlight__V1__AgentLifecycle *)m)->state ==
	       FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED;
}

/* A workload's coverage is counted at its end. */
static int workload_ended(const ProtobufCMessage *m)
{
	return ((const Firstlight__V1__Workload *)m)->state == FIRSTLIGHT__V1__WORKLOAD__STATE__ENDED;
}

#define PROCESS &firstlight__v1__process__descriptor
#define EXIT &firstlight__v1__process_exit__descriptor
#define FLOW &firstlight__v1__flow__descriptor
#define HEARTBEAT &firstlight__v1__heartbeat__descriptor
#define AGENT &firstlight__v1__agent_lifecycle__descriptor
#define WORKLOAD &firstlight__v1__workload__descriptor
#define PRIV &firstlight__v1__privilege__descriptor
#define CREDS &firstlight__v1__privilege__creds__descriptor
#define FILEACC &firstlight__v1__file_access__descriptor

static const struct json_zero_field zeros[] = {
	/* Who a process is: root is uid 0, a process with no capability has 0, the kernel's
	 * children have ppid 0. auid and session_id are 4294967295 when unset, so 0 is root's
	 * login session. */
	{ PROCESS, "ppid", NULL },
	{ PROCESS, "uid", NULL },
	{ PROCESS, "gid", NULL },
	{ PROCESS, "euid", NULL },
	{ PROCESS, "egid", NULL },
	{ PROCESS, "auid", NULL },
	{ PROCESS, "session_id", NULL },
	{ PROCESS, "cap_effective", NULL },
	/* How it ended: signal 0 is "not killed", and then the exit code is there. */
	{ EXIT, "exit_code", exited_normally },
	{ EXIT, "signal", NULL },
	{ FLOW, "result", connect_or_close },
	{ FLOW, "bytes_sent", tcp_close },
	{ FLOW, "bytes_received", tcp_close },
	{ FLOW, "bytes_retransmitted", tcp_close },
	/* A heartbeat's counters: "drops": 0 is the statement that nothing was lost. */
	{ HEARTBEAT, "records", NULL },
	{ HEARTBEAT, "drops", NULL },
	{ HEARTBEAT, "live_processes", NULL },
	{ HEARTBEAT, "live_workloads", NULL },
	{ HEARTBEAT, "exec_records", NULL },
	{ HEARTBEAT, "fork_records", NULL },
	{ HEARTBEAT, "exit_records", NULL },
	{ HEARTBEAT, "flow_records", NULL },
	{ HEARTBEAT, "workload_records", NULL },
	{ HEARTBEAT, "gap_records", NULL },
	{ HEARTBEAT, "ring_fill_ratio", NULL },
	{ HEARTBEAT, "sink_backlog", NULL },
	{ HEARTBEAT, "sink_lost", NULL },
	{ HEARTBEAT, "malformed_events", NULL },
	{ HEARTBEAT, "privilege_records", NULL },
	{ HEARTBEAT, "file_access_records", NULL },
	{ AGENT, "records", agent_stopped },
	{ AGENT, "drops", agent_stopped },
	{ WORKLOAD, "process_count", workload_ended },
	{ WORKLOAD, "exec_count", workload_ended },
	{ WORKLOAD, "args_truncated_count", workload_ended },
	{ WORKLOAD, "drops", workload_ended },
	{ WORKLOAD, "gap_count", workload_ended },
	/* A privilege change: root is 0, an empty capability set is 0, success is 0. */
	{ PRIV, "result", NULL },
	{ CREDS, "uid", NULL },
	{ CREDS, "gid", NULL },
	{ CREDS, "suid", NULL },
	{ CREDS, "sgid", NULL },
	{ CREDS, "euid", NULL },
	{ CREDS, "egid", NULL },
	{ CREDS, "fsuid", NULL },
	{ CREDS, "fsgid", NULL },
	{ CREDS, "cap_inheritable", NULL },
	{ CREDS, "cap_permitted", NULL },
	{ CREDS, "cap_effective", NULL },
	{ CREDS, "cap_bounding", NULL },
	{ CREDS, "cap_ambient", NULL },
	{ CREDS, "groups_count", NULL },
	/* A watched-file open: READ is the enum's 0. */
	{ FILEACC, "mode", NULL },
};

static const struct json_opts opts = { zeros, sizeof(zeros) / sizeof(zeros[0]) };

int recordjson__append(struct json_buf *out, const Firstlight__V1__Event *ev)
{
	return ev ? json__append_message_opts(out, &ev->base, &opts) : -EINVAL;
}

const struct json_zero_field *recordjson__zero_fields(size_t *n)
{
	*n = opts.n_zeros;
	return zeros;
}
