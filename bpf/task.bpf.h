/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a task's identity in the kernel: image ids, credentials, namespaces, cgroups.
 * Everything an exec or fork record needs is copied here, at the event, because by the
 * time userspace could look at /proc a 40 ms job is gone.
 *
 * Only tp_btf and iterator programs call these, where task pointers are BTF-typed: plain
 * field loads (CO-RE relocated through vmlinux.h) become fault-safe PROBE_MEM loads,
 * several times cheaper than one bpf_probe_read_kernel() call per field, which is what
 * BPF_CORE_READ costs. BPF_CORE_READ remains where a direct load is not allowed
 * (variable index into a flexible array).
 */
#ifndef FL_TASK_BPF_H
#define FL_TASK_BPF_H

#include "maps.bpf.h"
#include "live.bpf.h"
#include "core_fixes.bpf.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define FL_PF_KTHREAD 0x00200000 /* include/linux/sched.h, stable since 2.6 */

static __always_inline __u64 fl_task_start_ns(struct task_struct *task)
{
	/* start_boottime is CLOCK_BOOTTIME, the clock of bpf_ktime_get_boot_ns(). */
	return task->group_leader->start_boottime;
}

/*
 * The current image id of a process: its exec'd image from the live tables, or, when it
 * has not exec'd since we attached, the id derived from its start (see firstlight.h).
 * With entry non-NULL, the live entry (or NULL) is returned there, and with slot
 * non-NULL the slot holding it (NULL: in the hash, or none).
 */
static __always_inline void fl_current_image(struct task_struct *task, struct fl_exec_id *id,
					     struct fl_proc_entry **entry, struct fl_live_slot **slot)
{
	__u32 tgid = task->tgid;
	struct fl_proc_entry *e = fl_live_lookup(tgid, slot);

	if (entry)
		*entry = e;
	if (e) {
		*id = e->id;
		return;
	}
	id->start_ns = fl_task_start_ns(task);
	id->tgid = tgid;
	id->pad = 0;
}

/*
 * The current process, on every kernel: its tgid, the start of its leader and its
 * cgroup2 id. bpf_get_current_task_btf() (5.11+) would give a pointer the verifier lets
 * us load from; 5.10 has only bpf_get_current_task(), an untyped pointer read with probe
 * reads. Used where events are rare (a cgroup made, a socket's owner), never per exec.
 */
struct fl_current {
	__u64 start_ns;
	__u64 cgroup_id;
	__u32 tgid;
	__u32 pad;
};

static __always_inline void fl_current(struct fl_current *c)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	c->tgid = bpf_get_current_pid_tgid() >> 32;
	c->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	c->cgroup_id = bpf_get_current_cgroup_id();
	c->pad = 0;
}

/* fl_current_image() for the current process, from what fl_current() read. */
static __always_inline void fl_current_image_of(const struct fl_current *c, struct fl_exec_id *id)
{
	struct fl_proc_entry *e = fl_live_lookup(c->tgid, NULL);

	if (e) {
		*id = e->id;
		return;
	}
	id->start_ns = c->start_ns;
	id->tgid = c->tgid;
	id->pad = 0;
}

/*
 * The leader's pid as the process's own pid namespace numbers it (its tgid there), and
 * that namespace: the task's own, not nsproxy->pid_ns_for_children. numbers[] is a
 * flexible array indexed by the pid's namespace depth: a variable index only a probe read
 * may take. Depth 0 (the initial namespace, every process outside a container) is a fixed
 * offset: plain loads, two probe-read calls fewer per event.
 */
static __always_inline void fl_own_pid(struct task_struct *task, __u32 *nr, __u32 *ns_inum)
{
	struct pid *pid = task->group_leader->thread_pid;
	unsigned int level = pid->level;

	if (level == 0) {
		*nr = pid->numbers[0].nr;
		*ns_inum = pid->numbers[0].ns->ns.inum;
		return;
	}
	*nr = BPF_CORE_READ(pid, numbers[level].nr);
	*ns_inum = BPF_CORE_READ(pid, numbers[level].ns, ns.inum);
}

/* Every namespace but the pid one, which fl_own_pid reads. */
static __always_inline void fl_read_namespaces(struct task_struct *task, struct fl_namespaces *ns)
{
	struct nsproxy *nsp = task->nsproxy;

	ns->mnt = nsp->mnt_ns->ns.inum;
	ns->net = nsp->net_ns->ns.inum;
	ns->uts = nsp->uts_ns->ns.inum;
	ns->ipc = nsp->ipc_ns->ns.inum;
	ns->cgroup = nsp->cgroup_ns->ns.inum;
	ns->user = task->real_cred->user_ns->ns.inum;
	ns->pad = 0;
}

static __always_inline void fl_read_creds(struct task_struct *task, struct fl_creds *c)
{
	const struct cred *cred = task->real_cred;

	c->uid = cred->uid.val;
	c->gid = cred->gid.val;
	c->euid = cred->euid.val;
	c->egid = cred->egid.val;
	c->cap_effective = fl_cap_effective(cred);
	if (bpf_core_field_exists(task->loginuid)) {
		c->auid = task->loginuid.val;
		c->sessionid = task->sessionid;
	} else { /* kernel without CONFIG_AUDITSYSCALL */
		c->auid = (__u32)-1;
		c->sessionid = (__u32)-1;
	}
}

/*
 * cgroup2 id (the workload key) and, on hybrid hosts, the v1 memory cgroup, whose name
 * goes to name (FL_CGROUP_NAME_MAX bytes). Returns the bytes of the name with its NUL, 0
 * when there is none (name then untouched). The task's own css_set is read rather than
 * the current task's, so a fork child placed with CLONE_INTO_CGROUP is attributed to its
 * own cgroup.
 */
static __always_inline __u32 fl_read_cgroups(struct task_struct *task, struct fl_task *t, char *name)
{
	struct css_set *cset = task->cgroups;
	struct cgroup *v1 = NULL;
	long n;

	t->cgroup_id = cset->dfl_cgrp->kn->id;
	t->cgroup_v1_id = 0;
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)) {
		int idx = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

		v1 = cset->subsys[idx]->cgroup;
	}
	/* The memory controller may live on cgroup2 (pure v2 host): then it names nothing new. */
	if (!v1 || v1->root->hierarchy_id == 0 || v1->kn->id == t->cgroup_id)
		return 0;
	t->cgroup_v1_id = v1->kn->id;
	n = bpf_probe_read_kernel_str(name, FL_CGROUP_NAME_MAX, v1->kn->name);
	/* A fault leaves name zeroed: one empty string, as a name that could not be read. */
	return n > 0 ? n : 1;
}

/* Everything but the image ids, which the caller decides; the v1 cgroup's name to name
 * (FL_CGROUP_NAME_MAX bytes), its length returned as fl_read_cgroups says. */
static __always_inline __u32 fl_fill_task(struct task_struct *task, struct fl_task *t, char *name)
{
	t->pid = task->tgid;
	t->ppid = task->real_parent->tgid;
	fl_own_pid(task, &t->ns_pid, &t->ns.pid);
	t->pad = 0;
	t->start_ns = fl_task_start_ns(task);
	fl_read_creds(task, &t->creds);
	fl_read_namespaces(task, &t->ns);
	return fl_read_cgroups(task, t, name);
}

#endif /* FL_TASK_BPF_H */
