/* Restating live processes at the start of a segment; see snapshot.h. */
#include "records/exec_id.h"
#include "sensor/snapshot.h"
#include "sensor/workload.h"
#include "records/wlkey.h"

struct snap_ctx {
	struct recorder *rec;
	int count;
};

static void emit_one(void *ctx, const struct proc *p)
{
	struct snap_ctx *sc = ctx;
	Firstlight__V1__ProcessExec body = FIRSTLIGHT__V1__PROCESS_EXEC__INIT;
	Firstlight__V1__Process proc = FIRSTLIGHT__V1__PROCESS__INIT;
	Firstlight__V1__ProcessFlags flags = FIRSTLIGHT__V1__PROCESS_FLAGS__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char id[EXEC_ID_STRLEN], parent[EXEC_ID_STRLEN], key[WLKEY_MAX];
	const struct proc_image *img = p->image;

	proc.exec_id = exec_id__format(id, sc->rec->boot_tag, &p->id);
	proc.parent_exec_id = exec_id__format(parent, sc->rec->boot_tag, &p->parent);
	proc.pid = p->tgid;
	proc.ppid = p->ppid;
	proc.ns_pid = p->ns_pid;
	proc.uid = p->creds.uid;
	proc.gid = p->creds.gid;
	proc.euid = p->creds.euid;
	proc.egid = p->creds.egid;
	proc.auid = p->creds.auid;
	proc.session_id = p->creds.sessionid;
	proc.cap_effective = p->creds.cap_effective;
	proc.start_boot_nano = p->start_ns;
	proc.cgroup_id = p->cgroup_id;
	wlkey__format(key, p->cgroup_id, p->sandbox);
	proc.workload_key = key;
	proc.flags = &flags;
	flags.pre_existing = !!(p->flags & PROC_PRE_EXISTING);
	if (img) {
		proc.binary = img->binary;
		proc.cwd = img->cwd;
		proc.args = img->args;
		proc.n_args = img->n_args - img->n_args_tail;
		proc.args_tail = img->args + proc.n_args;
		proc.n_args_tail = img->n_args_tail;
		proc.args_cut_bytes = img->args_cut;
		proc.args_truncated = !!(img->flags & IMG_ARGS_TRUNCATED);
		proc.args_count = img->args_count;
		proc.args_size = img->args_size;
		flags.args_escaped = !!(img->flags & IMG_ARGS_ESCAPED);
		flags.binary_escaped = !!(img->flags & IMG_BINARY_ESCAPED);
		flags.cwd_escaped = !!(img->flags & IMG_CWD_ESCAPED);
		flags.binary_unresolved = !!(img->flags & IMG_BINARY_UNRESOLVED);
		flags.cwd_unresolved = !!(img->flags & IMG_CWD_UNRESOLVED);
		flags.from_procfs = !!(img->flags & IMG_FROM_PROCFS);
	} else {
		flags.binary_unresolved = 1;
		flags.cwd_unresolved = 1;
	}
	body.process = &proc;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
	ev.exec = &body;
	ev.snapshot = 1;
	recorder__emit(sc->rec, &ev, 0);
	sc->count++;
}

int snapshot__emit(struct recorder *rec, const struct proctable *procs)
{
	struct snap_ctx sc = { .rec = rec };

	proctable__for_each(procs, emit_one, &sc);
	return sc.count;
}
