// SPDX-License-Identifier: GPL-2.0
/*
 * bare-ring: the bench's reference for the cost of an event (scripts/bench.sh -c
 * bare-ring, docs/benchmark.md). Attached to the tracepoints of the sensor's fork, exec
 * and exit programs (bpf/process.bpf.c), with the same filters, each program only
 * reserves a record of the sensor's event header (struct fl_event_hdr), fills it and
 * submits it without a wake-up; tests/helpers/fl-bare-ring.c drains the ring on a timer.
 * What no event can cost less than on this kernel and machine: the sensor's per-event
 * cost is judged as a ratio to it, measured in the same run (issue 20).
 *
 * The header is filled as its meaning asks, the cheapest correct way, as the sensor
 * should: a fork's time is the child's start (CLOCK_BOOTTIME, no clock read) and its
 * workload the child's cgroup; an exec's and an exit's time need a clock read, and the
 * task is current, so its cgroup is the helper's. Not part of the sensor's object.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "firstlight.h"

#define FL_PF_KTHREAD 0x00200000 /* include/linux/sched.h */

char LICENSE[] SEC("license") = "GPL";

/* The records; the helper drains them. 8 MiB, as the sensor's default ring. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} bare_events SEC(".maps");

/* Reservations that failed (the ring full): the helper reports them. */
__u64 bare_drops = 0;

static __always_inline void bare_emit(__u16 type, __u64 now, __u64 cgroup_id)
{
	struct fl_event_hdr *hdr = bpf_ringbuf_reserve(&bare_events, sizeof(*hdr), 0);

	if (!hdr) {
		__sync_fetch_and_add(&bare_drops, 1);
		return;
	}
	hdr->type = type;
	hdr->pad = 0;
	hdr->size = sizeof(*hdr);
	hdr->boot_ns = now;
	hdr->cgroup_id = cgroup_id;
	bpf_ringbuf_submit(hdr, BPF_RB_NO_WAKEUP);
}

/* The sensor's fl_fork: processes only (no threads, no kernel threads). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(bare_fork, struct task_struct *parent, struct task_struct *child)
{
	if (child->pid != child->tgid || (child->flags & FL_PF_KTHREAD))
		return 0;
	bare_emit(FL_EV_FORK, child->start_boottime, child->cgroups->dfl_cgrp->kn->id);
	return 0;
}

/* The sensor's fl_exec: every exec. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(bare_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	bare_emit(FL_EV_EXEC, bpf_ktime_get_boot_ns(), bpf_get_current_cgroup_id());
	return 0;
}

/* The sensor's fl_exit (kernels whose tracepoint passes group_dead): a process's end. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(bare_exit, struct task_struct *task, bool group_dead)
{
	if (!group_dead || (task->flags & FL_PF_KTHREAD))
		return 0;
	bare_emit(FL_EV_EXIT, bpf_ktime_get_boot_ns(), bpf_get_current_cgroup_id());
	return 0;
}

/* The sensor's fl_exit_legacy (kernels without group_dead, 6.1): the process's live
 * count at 0. Without the sensor's exit_claims insert, which only deduplicates threads
 * of one exit_group(): a reference may report such a process twice. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(bare_exit_legacy, struct task_struct *task)
{
	if ((task->flags & FL_PF_KTHREAD) || task->signal->live.counter != 0)
		return 0;
	bare_emit(FL_EV_EXIT, bpf_ktime_get_boot_ns(), bpf_get_current_cgroup_id());
	return 0;
}
