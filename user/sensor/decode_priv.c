/* Privilege events to Privilege records; see decode_priv.h. */
#include <errno.h>
#include <string.h>

#include "records/exec_id.h"
#include "records/wlkey.h"
#include "sensor/decode_priv.h"

typedef Firstlight__V1__Privilege Privilege;
typedef Firstlight__V1__Privilege__Creds PrivCreds;

/* Arguments each takes (the kernel reads no more: see bpf/privilege.bpf.c). */
static const uint8_t nargs[FL_PRIV_MAX] = {
	[FL_PRIV_SETUID] = 1, [FL_PRIV_SETGID] = 1, [FL_PRIV_SETREUID] = 2, [FL_PRIV_SETREGID] = 2,
	[FL_PRIV_SETRESUID] = 3, [FL_PRIV_SETRESGID] = 3, [FL_PRIV_SETFSUID] = 1,
	[FL_PRIV_SETFSGID] = 1, [FL_PRIV_SETGROUPS] = 2, [FL_PRIV_CAPSET] = 2, [FL_PRIV_PRCTL] = 4,
};

static const char *const names[FL_PRIV_MAX] = {
	[FL_PRIV_SETUID] = "setuid",       [FL_PRIV_SETGID] = "setgid",
	[FL_PRIV_SETREUID] = "setreuid",   [FL_PRIV_SETREGID] = "setregid",
	[FL_PRIV_SETRESUID] = "setresuid", [FL_PRIV_SETRESGID] = "setresgid",
	[FL_PRIV_SETFSUID] = "setfsuid",   [FL_PRIV_SETFSGID] = "setfsgid",
	[FL_PRIV_SETGROUPS] = "setgroups", [FL_PRIV_CAPSET] = "capset",
	[FL_PRIV_PRCTL] = "prctl",
};

const char *privdec__syscall_name(uint32_t syscall)
{
	return syscall < FL_PRIV_MAX && names[syscall] ? names[syscall] : "";
}

static void fill_creds(PrivCreds *m, const struct fl_priv_creds *c, uint32_t *groups)
{
	m->uid = c->uid;
	m->gid = c->gid;
	m->suid = c->suid;
	m->sgid = c->sgid;
	m->euid = c->euid;
	m->egid = c->egid;
	m->fsuid = c->fsuid;
	m->fsgid = c->fsgid;
	m->cap_inheritable = c->cap_inheritable;
	m->cap_permitted = c->cap_permitted;
	m->cap_effective = c->cap_effective;
	m->cap_bounding = c->cap_bset;
	m->cap_ambient = c->cap_ambient;
	m->securebits = c->securebits;
	m->groups_count = c->ngroups;
	m->n_groups = c->ngroups < FL_PRIV_GROUPS ? c->ngroups : FL_PRIV_GROUPS;
	memcpy(groups, c->groups, sizeof(c->groups));
	m->groups = groups;
}

/* An id that became root's, or a capability set that grew. */
static int gained(const struct fl_priv_creds *o, const struct fl_priv_creds *n)
{
	const uint32_t oid[] = { o->uid, o->euid, o->suid, o->fsuid, o->gid, o->egid, o->sgid, o->fsgid };
	const uint32_t nid[] = { n->uid, n->euid, n->suid, n->fsuid, n->gid, n->egid, n->sgid, n->fsgid };

	for (size_t i = 0; i < sizeof(oid) / sizeof(oid[0]); i++)
		if (nid[i] == 0 && oid[i] != 0)
			return 1;
	return (n->cap_effective & ~o->cap_effective) || (n->cap_permitted & ~o->cap_permitted) ||
	       (n->cap_inheritable & ~o->cap_inheritable) || (n->cap_ambient & ~o->cap_ambient);
}

int privdec__handle(struct recorder *rec, struct proctable *procs, const void *data, size_t size)
{
	const struct fl_priv_event *ev = data;
	Privilege m = FIRSTLIGHT__V1__PRIVILEGE__INIT;
	PrivCreds oc = FIRSTLIGHT__V1__PRIVILEGE__CREDS__INIT, nc = FIRSTLIGHT__V1__PRIVILEGE__CREDS__INIT;
	Event rec_ev = FIRSTLIGHT__V1__EVENT__INIT;
	uint32_t ogroups[FL_PRIV_GROUPS], ngroups[FL_PRIV_GROUPS];
	char exec_id[EXEC_ID_STRLEN], key[WLKEY_MAX];
	int64_t args[4];
	struct proc *p;

	if (size < sizeof(*ev) || !*privdec__syscall_name(ev->syscall))
		return -EINVAL;
	p = proctable__get(procs, ev->pid);
	m.exec_id = exec_id__format(exec_id, rec->boot_tag, &ev->id);
	m.pid = ev->pid;
	m.tid = ev->tid;
	m.cgroup_id = ev->hdr.cgroup_id;
	/* The sandbox the process is in, when it is this very image's process. */
	wlkey__format(key, ev->hdr.cgroup_id, p && p->start_ns == ev->id.start_ns ? p->sandbox : 0);
	m.workload_key = key;
	m.syscall = (char *)privdec__syscall_name(ev->syscall);
	memcpy(args, ev->args, sizeof(args));
	m.args = args;
	m.n_args = nargs[ev->syscall];
	m.result = ev->ret;
	if (ev->ret < 0 && ev->syscall != FL_PRIV_SETFSUID && ev->syscall != FL_PRIV_SETFSGID) {
		const char *name = ev->ret >= -4095 ? strerrorname_np((int)-ev->ret) : NULL;

		m.error = (char *)(name ? name : "");
	}
	fill_creds(&oc, &ev->old_creds, ogroups);
	fill_creds(&nc, &ev->new_creds, ngroups);
	m.old_creds = &oc;
	m.new_creds = &nc;
	m.changed = memcmp(&ev->old_creds, &ev->new_creds, sizeof(ev->old_creds)) != 0;
	m.gained = gained(&ev->old_creds, &ev->new_creds);
	m.duration_nano = ev->hdr.boot_ns > ev->enter_ns ? ev->hdr.boot_ns - ev->enter_ns : 0;
	/* The process's credentials as they are now: an exec later is judged against them
	 * (privilege gained by a set-user-ID binary is relative to who ran it). */
	if (p && p->id.start_ns == ev->id.start_ns && p->id.tgid == ev->id.tgid && ev->ret >= 0) {
		p->creds.uid = ev->new_creds.uid;
		p->creds.gid = ev->new_creds.gid;
		p->creds.euid = ev->new_creds.euid;
		p->creds.egid = ev->new_creds.egid;
		p->creds.cap_effective = ev->new_creds.cap_effective;
		p->euid = ev->new_creds.euid;
	}
	rec_ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_PRIVILEGE;
	rec_ev.privilege = &m;
	return recorder__emit(rec, &rec_ev, ev->hdr.boot_ns);
}
