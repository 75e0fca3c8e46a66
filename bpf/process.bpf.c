// SPDX-License-Identifier: GPL-2.0
/*
 * Process lifecycle: fork, exec and exit of every process (never of threads), and the
 * seeding of processes that were alive before we attached. Every event carries the image
 * id of its process: derived from the task, or from the live map once it exec'd.
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"

#define FL_SIGNAL_GROUP_EXIT 0x00000004 /* include/linux/sched/signal.h */
#define FL_EEXIST 17                    /* include/uapi/asm-generic/errno-base.h */

char LICENSE[] SEC("license") = "GPL";


/*
 * sched_process_fork fires in the parent after copy_process() succeeded, before the
 * child first runs: the child's pid, credentials, namespaces and cgroup are final.
 * It fires for threads too (CLONE_THREAD), which we skip: a thread is not a process.
 * No map write here: a child's id is derivable from the child until it execs.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(fl_fork, struct task_struct *parent, struct task_struct *child)
{
	struct fl_fork_event ev = {};
	__u64 size;

	if (child->pid != child->tgid || (child->flags & FL_PF_KTHREAD))
		return 0;
	/* Only the name's bytes go to the ring (see struct fl_fork_event). The bound is
	 * checked on the register the emit uses (barrier_var): 5.10's verifier loses it
	 * through a 32-bit copy. */
	size = FL_FORK_EVENT_MIN + fl_fill_task(child, &ev.task, ev.cgroup_v1_name);
	barrier_var(size);
	if (size > sizeof(ev))
		return 0; /* cannot happen: the name is at most FL_CGROUP_NAME_MAX */
	/* The child's start is the fork instant: no clock read needed. */
	fl_hdr(&ev.hdr, FL_EV_FORK, size, ev.task.start_ns, ev.task.cgroup_id);
	ev.task.id.start_ns = ev.task.start_ns;
	ev.task.id.tgid = ev.task.pid;
	/* The creator is the lineage parent, also under CLONE_PARENT where ppid differs. */
	fl_current_image(parent, &ev.task.parent_id, NULL, NULL);
	fl_emit(&ev, size);
	return 0;
}

/*
 * Copies argv of the new image: one bounded read of mm->arg_start..arg_end. Beyond the
 * limit the head and the tail are kept (the last quarter of the limit is the tail):
 * what a long command line ends with (the file a tool writes, the payload after a run
 * of padding) is as telling as how it starts, and padding must not push it out of view.
 */
static __always_inline __u32 fl_copy_args(struct task_struct *task, struct fl_exec_event *ev, char *dst)
{
	struct mm_struct *mm = task->mm;
	unsigned long start = mm->arg_start;
	unsigned long end = mm->arg_end;
	__u32 len, tail = 0;

	ev->args_size = end > start ? end - start : 0;
	len = ev->args_size;
	if (len > cfg_args_max) {
		len = cfg_args_max;
		ev->flags |= FL_EXEC_ARGS_TRUNCATED;
		tail = len >> 2;
	}
	if (len > FL_ARGS_MAX - 1) { /* bound the verifier can see, whatever the config says */
		len = FL_ARGS_MAX - 1;
		ev->flags |= FL_EXEC_ARGS_TRUNCATED;
		tail = len >> 2;
	}
	/* The new image's stack was just written by execve: its pages are present.
	 * barrier_var keeps clang from dropping the mask the verifier needs to see. */
	len -= tail;
	barrier_var(len);
	len &= FL_ARGS_MAX - 1;
	if (bpf_probe_read_user(dst, len, (void *)start)) {
		ev->flags |= FL_EXEC_ARGS_FAULT;
		return 0;
	}
	barrier_var(tail);
	tail &= FL_ARGS_TAIL_MAX - 1;
	if (tail && !bpf_probe_read_user(dst + len, tail, (void *)(end - tail)))
		ev->args_tail_len = tail;
	else if (tail)
		ev->flags |= FL_EXEC_ARGS_TAIL_FAULT; /* the head alone, said so */
	return len + ev->args_tail_len;
}

#define FL_TMPFS_MAGIC 0x01021994     /* include/uapi/linux/magic.h */
#define FL_HUGETLBFS_MAGIC 0x958458f6

/*
 * The executed file itself: inode, device and mount, and whether it is a memfd (an
 * inode of the kernel's internal shmem or hugetlbfs mount named "memfd:...", whatever
 * name its creator chose) or had no link left (unlinked before the exec, O_TMPFILE).
 */
static __always_inline void fl_binary_file(struct linux_binprm *bprm, struct fl_exec_event *ev)
{
	struct file *file = bprm->file;
	struct inode *inode = file->f_inode;
	struct super_block *sb = inode->i_sb;
	unsigned long magic = sb->s_magic;
	struct vfsmount *vm = file->f_path.mnt;
	struct mount *mnt = container_of(vm, struct mount, mnt);
	char name[6] = {};

	ev->binary_ino = inode->i_ino;
	ev->binary_dev = sb->s_dev;
	ev->binary_mnt_id = BPF_CORE_READ(mnt, mnt_id);
	if (magic == FL_TMPFS_MAGIC || magic == FL_HUGETLBFS_MAGIC) {
		bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
		if (name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' &&
		    name[4] == 'd' && name[5] == ':') {
			ev->flags |= FL_EXEC_BINARY_MEMFD;
			return; /* never linked anywhere: "unlinked" would say nothing more */
		}
	}
	if (!inode->i_nlink)
		ev->flags |= FL_EXEC_BINARY_UNLINKED;
}

/* The exec event; bounded: the path walk's variant (see fl_path_copy). */
static __always_inline int fl_exec_common(struct task_struct *task, struct linux_binprm *bprm,
					  const int bounded)
{
	struct fl_exec_scratch *s;
	struct fl_exec_event *ev;
	struct fl_proc_entry *old;
	struct fl_live_slot *old_slot;
	__u64 now = bpf_ktime_get_boot_ns();
	__u32 cpu = bpf_get_smp_processor_id(), off, size;
	__u64 name_len;
	int unresolved;

	s = bpf_map_lookup_elem(&exec_scratch, &cpu);
	if (!s)
		return 0;
	ev = &s->ev;
	/* Scratch is reused: clear the fixed part so no byte of a previous exec leaks. */
	__builtin_memset(ev, 0, sizeof(*ev));
	name_len = fl_fill_task(task, &ev->task, s->cgroup_v1_name);

	fl_current_image(task, &ev->replaced, &old, &old_slot);
	if (old)
		ev->task.parent_id = old->parent; /* the lineage parent, kept across execs */
	else
		fl_current_image(task->real_parent, &ev->task.parent_id, NULL, NULL);
	ev->task.id.start_ns = now;
	ev->task.id.tgid = ev->task.pid;
	{
		struct fl_proc_entry e = { .id = ev->task.id, .parent = ev->task.parent_id,
					   .cgroup_id = ev->task.cgroup_id };

		/* Fails only when other processes hold our slot and fill the hash (an update
		 * of our own entry, at a second exec, cannot): say so, never silently. Only
		 * the variant for kernels with bpf_loop (5.17+) may claim a slot (5.12+). */
		if (fl_live_set(ev->task.pid, &e, old, old_slot, !bounded))
			ev->flags |= FL_EXEC_UNTRACKED;
	}

	ev->argc = bprm->argc;
	fl_binary_file(bprm, ev);
	ev->binary_len = fl_path_copy(&bprm->file->f_path, s->path, s->data, &unresolved, bounded);
	if (unresolved || !ev->binary_len)
		ev->flags |= FL_EXEC_BINARY_UNRESOLVED;
	off = ev->binary_len & (FL_PATH_MAX - 1);
	ev->cwd_len = fl_path_copy(&task->fs->pwd, s->path, &s->data[off], &unresolved, bounded);
	if (unresolved || !ev->cwd_len)
		ev->flags |= FL_EXEC_CWD_UNRESOLVED;
	off = (off + ev->cwd_len) & (2 * FL_PATH_MAX - 1);
	ev->args_len = fl_copy_args(task, ev, &s->data[off]);
	off += ev->args_len;
	/* The v1 name last, where a cgroup2-only host (no name) pays nothing for it. Its bound
	 * on the register the read uses (barrier_var), as 5.10's verifier needs. */
	barrier_var(name_len);
	if (name_len > FL_CGROUP_NAME_MAX || off > sizeof(s->data) - FL_CGROUP_NAME_MAX)
		return 0; /* cannot happen: the bounds above hold */
	if (name_len && !bpf_probe_read_kernel(&s->data[off], name_len, s->cgroup_v1_name))
		ev->cgroup_v1_name_len = name_len;
	off += ev->cgroup_v1_name_len;

	size = sizeof(*ev) + off;
	if (size > sizeof(*ev) + sizeof(s->data))
		return 0; /* cannot happen: the bounds above hold */
	fl_hdr(&ev->hdr, FL_EV_EXEC, size, now, ev->task.cgroup_id);
	fl_emit(ev, size);
	return 0;
}

/*
 * sched_process_exec fires in exec_binprm() once the new image is loaded and before it
 * returns to user space: the new mm and argv are in place, the first instruction has
 * not run. Everything is copied here; nothing is left for /proc. Two variants, one
 * loaded: the agent chooses fl_exec_bounded where the kernel lacks bpf_loop (before
 * 5.17), whose callback pointer an older verifier refuses even in code it never runs.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(fl_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return fl_exec_common(task, bprm, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(fl_exec_bounded, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return fl_exec_common(task, bprm, 1);
}

/*
 * Whether the file the process runs still has a link at its exit: an image whose file
 * was linked at the exec and is not at the exit was deleted while it ran (a dropper
 * removing itself). Kernels whose sched_process_exit passes group_dead (6.16+; 6.18
 * here) fire it before exit_mm(), so mm->exe_file is still there; on older ones mm is
 * gone and the check is not made (FL_EXIT_EXE_CHECKED unset).
 */
static __always_inline void fl_exe_at_exit(struct task_struct *task, struct fl_exit_event *ev)
{
	struct mm_struct *mm = task->mm;
	struct file *exe;

	if (!mm)
		return;
	/* Plain loads from the typed task (fault-safe, see task.bpf.h), no helper calls. */
	exe = mm->exe_file;
	if (!exe)
		return;
	ev->flags |= FL_EXIT_EXE_CHECKED;
	if (!exe->f_inode->i_nlink)
		ev->flags |= FL_EXIT_EXE_UNLINKED;
}

/* exclusive: free a slot with compare-and-exchange (5.12+), where two threads of a
 * process may both get here (see fl_live_remove). */
static __always_inline int fl_exit_common(struct task_struct *task, const int exclusive)
{
	struct fl_exit_event ev = {};
	struct signal_struct *sig = task->signal;
	struct fl_proc_entry *e;
	struct fl_live_slot *slot;

	fl_exe_at_exit(task, &ev);
	fl_current_image(task, &ev.id, &e, &slot);
	if (e) {
		/* Only one thread can remove the entry: the exit is reported once. */
		if (fl_live_remove(task->tgid, e, slot, exclusive))
			return 0;
		ev.flags |= FL_EXIT_EXECED;
	}
	fl_hdr(&ev.hdr, FL_EV_EXIT, sizeof(ev), bpf_ktime_get_boot_ns(),
	       task->cgroups->dfl_cgrp->kn->id);
	/* What wait() will report: the group exit code, or the leader's own. */
	if (sig->flags & FL_SIGNAL_GROUP_EXIT)
		ev.status = sig->group_exit_code;
	else
		ev.status = task->group_leader->exit_code;
	ev.start_ns = fl_task_start_ns(task);
	fl_emit(&ev, sizeof(ev));
	return 0;
}

/*
 * sched_process_exit fires in do_exit() of every thread, after exit_code is set and
 * while the task still has its cgroup. The process ends with its last thread: newer
 * kernels (6.18 here) pass group_dead, exact even when all threads of an exit_group()
 * die at once. The agent loads this variant when the tracepoint has that argument.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(fl_exit, struct task_struct *task, bool group_dead)
{
	if (!group_dead || (task->flags & FL_PF_KTHREAD))
		return 0;
	/* One thread per process has group_dead: freeing a slot needs no exclusion. */
	return fl_exit_common(task, 0);
}

/*
 * Kernels whose sched_process_exit has only the task (6.1 and others): signal->live was
 * decremented before the tracepoint, so 0 means the process is ending. But each thread
 * decrements live early in do_exit() and reaches the tracepoint only after exit_mm(), so
 * a thread still on its way (one that was just joined, or one of an exit_group()) reads 0
 * as well as the last one. Seen on 6.1 under qemu: a joined thread reported the exit
 * again after the main thread had removed the map entry, with the pre-exec image id,
 * which the agent took for another image. The first thread to claim the process in
 * exit_claims reports; the others return.
 */
static __always_inline int fl_exit_legacy_common(struct task_struct *task, const int exclusive)
{
	struct fl_exec_id proc = {};
	__u32 one = 1;

	if ((task->flags & FL_PF_KTHREAD) || task->signal->live.counter != 0)
		return 0;
	proc.start_ns = fl_task_start_ns(task);
	proc.tgid = task->tgid;
	/* Only "already claimed" stops us: a failed insert of another kind (no memory)
	 * must not lose the exit, at worst the agent sees it twice. */
	if (fl_map_err(bpf_map_update_elem(&exit_claims, &proc, &one, BPF_NOEXIST)) == -FL_EEXIST)
		return 0;
	return fl_exit_common(task, exclusive);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(fl_exit_legacy, struct task_struct *task)
{
	return fl_exit_legacy_common(task, 0);
}

/*
 * The same where fl_exec claims slots (bpf_loop, 5.17+): when two threads both report
 * (exit_claims out of memory), the slot is freed by one of them only, never after a new
 * process claimed it. fl_exit_legacy, loaded on 5.10 too, cannot hold the instruction.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(fl_exit_legacy_slots, struct task_struct *task)
{
	return fl_exit_legacy_common(task, 1);
}

/*
 * Processes alive before we attached. The agent attaches the lifecycle programs first,
 * sets seed_before_ns to that instant, then runs this iterator: a process started
 * later has its fork in the ring buffer, one that exec'd later has its exec there.
 * With seed_all (an agent adopting the programs of the one before it), every process,
 * with its current image id: the agent keeps those its ring buffer did not tell it of.
 */
SEC("iter/task")
int fl_seed(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct fl_seed_event ev = {};
	struct fl_proc_entry *e;

	if (!task)
		return 0;
	if (task->pid != task->tgid || (task->flags & FL_PF_KTHREAD))
		return 0;
	if (!seed_all && fl_task_start_ns(task) >= seed_before_ns)
		return 0;
	fl_current_image(task, &ev.task.id, &e, NULL);
	if (e && !seed_all)
		return 0;
	fl_fill_task(task, &ev.task, ev.cgroup_v1_name);
	fl_hdr(&ev.hdr, FL_EV_SEED, sizeof(ev), bpf_ktime_get_boot_ns(), ev.task.cgroup_id);
	fl_current_image(task->real_parent, &ev.task.parent_id, NULL, NULL);
	bpf_seq_write(seq, &ev, sizeof(ev));
	return 0;
}
