// SPDX-License-Identifier: GPL-2.0
/*
 * Process lifecycle: fork, exec and exit of every process (never of threads), and the
 * seeding of processes that were alive before we attached. Each handler keeps the
 * live-process map current so that every event carries the image id of its process.
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"

#define FL_SIGNAL_GROUP_EXIT 0x00000004 /* include/linux/sched/signal.h */

char LICENSE[] SEC("license") = "GPL";

static __always_inline void fl_hdr(struct fl_event_hdr *hdr, __u16 type, __u32 size, __u64 now)
{
	hdr->type = type;
	hdr->pad = 0;
	hdr->size = size;
	hdr->boot_ns = now;
}

static __always_inline void fl_remember(struct fl_task *t)
{
	struct fl_proc_entry e = { .id = t->id, .parent = t->parent_id, .cgroup_id = t->cgroup_id };

	bpf_map_update_elem(&live_procs, &t->pid, &e, BPF_ANY);
}

/*
 * sched_process_fork fires in the parent after copy_process() succeeded, before the
 * child first runs: the child's pid, credentials, namespaces and cgroup are final.
 * It fires for threads too (CLONE_THREAD), which we skip: a thread is not a process.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(fl_fork, struct task_struct *parent, struct task_struct *child)
{
	struct fl_fork_event ev = {};
	__u64 now = bpf_ktime_get_boot_ns();

	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;
	if (BPF_CORE_READ(child, flags) & FL_PF_KTHREAD)
		return 0;
	fl_hdr(&ev.hdr, FL_EV_FORK, sizeof(ev), now);
	fl_fill_task(child, &ev.task);
	ev.task.id.start_ns = ev.task.start_ns;
	ev.task.id.tgid = ev.task.pid;
	/* The creator is the lineage parent, also under CLONE_PARENT where ppid differs. */
	fl_lookup_image(parent, &ev.task.parent_id, NULL, &ev.task.flags, FL_TASK_PARENT_UNKNOWN);
	fl_remember(&ev.task);
	fl_emit(&ev, sizeof(ev));
	return 0;
}

/* Copies argv of the new image: one bounded read of mm->arg_start..arg_end. */
static __always_inline __u32 fl_copy_args(struct task_struct *task, struct fl_exec_event *ev, char *dst)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long start = BPF_CORE_READ(mm, arg_start);
	unsigned long end = BPF_CORE_READ(mm, arg_end);
	__u32 len;

	ev->args_size = end > start ? end - start : 0;
	len = ev->args_size;
	if (len > cfg_args_max) {
		len = cfg_args_max;
		ev->flags |= FL_EXEC_ARGS_TRUNCATED;
	}
	if (len > FL_ARGS_MAX - 1) { /* bound the verifier can see, whatever the config says */
		len = FL_ARGS_MAX - 1;
		ev->flags |= FL_EXEC_ARGS_TRUNCATED;
	}
	/* The new image's stack was just written by execve: its pages are present.
	 * barrier_var keeps clang from dropping the mask the verifier needs to see. */
	barrier_var(len);
	len &= FL_ARGS_MAX - 1;
	if (bpf_probe_read_user(dst, len, (void *)start)) {
		ev->flags |= FL_EXEC_ARGS_FAULT;
		return 0;
	}
	return len;
}

/*
 * sched_process_exec fires in exec_binprm() once the new image is loaded and before it
 * returns to user space: the new mm and argv are in place, the first instruction has
 * not run. Everything is copied here; nothing is left for /proc.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(fl_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct fl_exec_scratch *s;
	struct fl_exec_event *ev;
	struct fl_proc_entry *old;
	__u64 now = bpf_ktime_get_boot_ns();
	__u32 cpu = bpf_get_smp_processor_id(), off, size;
	int unresolved;

	s = bpf_map_lookup_elem(&exec_scratch, &cpu);
	if (!s)
		return 0;
	ev = &s->ev;
	/* Scratch is reused: clear the fixed part so no byte of a previous exec leaks. */
	__builtin_memset(ev, 0, sizeof(*ev));
	fl_fill_task(task, &ev->task);

	old = bpf_map_lookup_elem(&live_procs, &ev->task.pid);
	if (old) {
		ev->replaced = old->id;
		ev->task.parent_id = old->parent;
	} else {
		ev->task.flags |= FL_TASK_SELF_UNKNOWN;
		fl_lookup_image(BPF_CORE_READ(task, real_parent), &ev->task.parent_id, NULL,
				&ev->task.flags, FL_TASK_PARENT_UNKNOWN);
	}
	ev->task.id.start_ns = now;
	ev->task.id.tgid = ev->task.pid;
	fl_remember(&ev->task);

	ev->argc = BPF_CORE_READ(bprm, argc);
	ev->binary_len = fl_path_copy(&bprm->file->f_path, s->path, s->data, &unresolved);
	if (unresolved || !ev->binary_len)
		ev->flags |= FL_EXEC_BINARY_UNRESOLVED;
	off = ev->binary_len & (FL_PATH_MAX - 1);
	ev->cwd_len = fl_path_copy(&task->fs->pwd, s->path, &s->data[off], &unresolved);
	if (unresolved || !ev->cwd_len)
		ev->flags |= FL_EXEC_CWD_UNRESOLVED;
	off = (off + ev->cwd_len) & (2 * FL_PATH_MAX - 1);
	ev->args_len = fl_copy_args(task, ev, &s->data[off]);

	size = sizeof(*ev) + off + ev->args_len;
	if (size > sizeof(*ev) + sizeof(s->data))
		return 0; /* cannot happen: the bounds above hold */
	fl_hdr(&ev->hdr, FL_EV_EXEC, size, now);
	fl_emit(ev, size);
	return 0;
}

/*
 * sched_process_exit fires in do_exit() of every thread, after signal->live was
 * decremented and exit_code set, while the task still has its cgroup. The process ends
 * with its last thread (live == 0). On 6.18 the tracepoint also passes group_dead; we
 * read signal->live instead so the same program loads on kernels without that argument.
 * Two threads can both read live == 0 when they exit together: only the one that
 * removes the live-map entry reports, so the exit is reported once.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(fl_exit, struct task_struct *task)
{
	struct fl_exit_event ev = {};
	struct signal_struct *sig;
	__u64 now = bpf_ktime_get_boot_ns();
	__u32 tgid;

	if (BPF_CORE_READ(task, flags) & FL_PF_KTHREAD)
		return 0;
	sig = BPF_CORE_READ(task, signal);
	if (BPF_CORE_READ(sig, live.counter) != 0)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	fl_lookup_image(task, &ev.id, NULL, &ev.flags, FL_TASK_SELF_UNKNOWN);
	if (!(ev.flags & FL_TASK_SELF_UNKNOWN) && bpf_map_delete_elem(&live_procs, &tgid))
		return 0; /* another thread of this process reported it */

	fl_hdr(&ev.hdr, FL_EV_EXIT, sizeof(ev), now);
	ev.pid = tgid;
	/* What wait() will report: the group exit code, or the leader's own. */
	if (BPF_CORE_READ(sig, flags) & FL_SIGNAL_GROUP_EXIT)
		ev.status = BPF_CORE_READ(sig, group_exit_code);
	else
		ev.status = BPF_CORE_READ(task, group_leader, exit_code);
	ev.start_ns = fl_task_start_ns(task);
	ev.cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	fl_emit(&ev, sizeof(ev));
	return 0;
}

/*
 * Processes alive before we attached. The agent attaches the lifecycle programs first
 * and then runs this iterator, so a process is either seen here or by fork/exec. The
 * entry is inserted only if absent: one created by fork/exec after attach is newer.
 */
SEC("iter/task")
int fl_seed(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct fl_seed_event ev = {};
	struct fl_proc_entry e = {};

	if (!task)
		return 0;
	if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid) ||
	    (BPF_CORE_READ(task, flags) & FL_PF_KTHREAD))
		return 0;
	fl_hdr(&ev.hdr, FL_EV_SEED, sizeof(ev), bpf_ktime_get_boot_ns());
	fl_fill_task(task, &ev.task);
	ev.task.id.start_ns = ev.task.start_ns;
	ev.task.id.tgid = ev.task.pid;
	fl_lookup_image(BPF_CORE_READ(task, real_parent), &ev.task.parent_id, NULL,
			&ev.task.flags, FL_TASK_PARENT_UNKNOWN);
	e.id = ev.task.id;
	e.parent = ev.task.parent_id;
	e.cgroup_id = ev.task.cgroup_id;
	if (bpf_map_update_elem(&live_procs, &ev.task.pid, &e, BPF_NOEXIST))
		return 0; /* already known through fork/exec after attach */
	bpf_seq_write(seq, &ev, sizeof(ev));
	return 0;
}
