// SPDX-License-Identifier: GPL-2.0
/*
 * Workload birth and death: cgroup directories made and removed, and processes moved
 * into them. A container runtime makes the container's cgroup before the container's
 * first instruction runs, so the agent can name the workload before any of its
 * processes execs, even one that lives 5 ms.
 *
 * cgroup2 is the workload key (one directory per container, also on hybrid hosts); of
 * the v1 hierarchies only the one holding the memory controller is reported, which
 * gives the v1 path the exec records name.
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"

static __always_inline int fl_cgroup_wanted(struct cgroup *cgrp)
{
	struct cgroup_root *root = cgrp->root;
	int memory = -1;

	if (root->hierarchy_id == 0)
		return 1;
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		memory = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	return memory >= 0 && (root->subsys_mask & (1u << memory));
}

static __always_inline int fl_cgroup_emit(__u16 type, struct cgroup *cgrp, const char *path,
					   struct task_struct *moved)
{
	struct task_struct *actor = (struct task_struct *)bpf_get_current_task();
	struct fl_current cur;
	struct fl_cgroup_scratch *s;
	struct fl_cgroup_event *ev;
	struct kernfs_node *parent;
	__u32 zero = 0;
	long n;

	s = bpf_map_lookup_elem(&cgroup_scratch, &zero);
	if (!s)
		return 0;
	ev = &s->ev;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->hdr.type = type;
	ev->hdr.boot_ns = bpf_ktime_get_boot_ns();
	ev->cgroup_id = cgrp->kn->id;
	ev->hdr.cgroup_id = ev->cgroup_id;
	/* kernfs_node.parent became __parent in 6.15: read whichever this kernel has. */
	parent = fl_kn_parent(cgrp->kn);
	ev->parent_id = parent ? BPF_CORE_READ(parent, id) : 0;
	ev->hierarchy_id = cgrp->root->hierarchy_id;
	ev->level = cgrp->level;
	/* The actor is the current task: read the portable way (5.10 has no typed pointer). */
	fl_current(&cur);
	fl_current_image_of(&cur, &ev->actor);
	ev->actor_euid = BPF_CORE_READ(actor, cred, euid.val);
	if (moved)
		ev->pid = moved->tgid;
	n = bpf_probe_read_kernel_str(s->path, sizeof(s->path), path);
	if (n <= 0) {
		s->path[0] = 0;
		n = 1;
	}
	if (n >= FL_CGROUP_PATH_MAX) { /* the string filled the buffer: maybe cut */
		n = FL_CGROUP_PATH_MAX;
		ev->flags |= FL_CGROUP_PATH_TRUNCATED;
	}
	ev->path_len = n;
	ev->hdr.size = sizeof(*ev) + n;
	fl_emit_wake(s, ev->hdr.size, type == FL_EV_CGROUP_MKDIR);
	return 0;
}

/*
 * cgroup_mkdir fires in the mkdir(2) of a cgroup directory once it exists, in the
 * context of the process that made it: for a container, the runtime (runc, crun, a
 * systemd that makes the scope for it), before the container's init is moved in.
 */
SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(fl_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	if (!fl_cgroup_wanted(cgrp))
		return 0;
	return fl_cgroup_emit(FL_EV_CGROUP_MKDIR, cgrp, path, NULL);
}

/* cgroup_rmdir fires when the directory is removed (the container was deleted). */
SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(fl_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	if (!fl_cgroup_wanted(cgrp))
		return 0;
	return fl_cgroup_emit(FL_EV_CGROUP_RMDIR, cgrp, path, NULL);
}

/*
 * cgroup_attach_task fires for every task moved by a write to cgroup.procs (or
 * CLONE_INTO_CGROUP): a container's init joins its cgroup this way before it execs.
 * cgroup2 only, and once per process (its leader), not per thread.
 */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(fl_cgroup_attach, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	if (dst->root->hierarchy_id != 0 || task->pid != task->tgid)
		return 0;
	return fl_cgroup_emit(FL_EV_CGROUP_ATTACH, dst, path, task);
}
