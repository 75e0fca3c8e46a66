// SPDX-License-Identifier: GPL-2.0
/*
 * Privilege changes: setuid, setgid, setreuid, setregid, setresuid, setresgid, setfsuid,
 * setfsgid, setgroups, capset and the capability-changing prctl options, each from its
 * own syscall tracepoints (tracefs events/syscalls/sys_{enter,exit}_*). A per-syscall
 * tracepoint runs only for its syscall, so every other syscall pays nothing (raw_tp
 * sys_enter would run on all of them), and it works where kprobes and BPF LSM do not.
 *
 * Entry copies the credentials before the call into a pending entry (per thread); the
 * return adds the credentials after it and the result, and emits one event. A call that
 * failed is emitted too: an attempt refused is evidence as well.
 *
 * Classic tracepoints give no BTF-typed task: the task is read with probe reads
 * (BPF_CORE_READ), which is fine for syscalls that run a few times per process.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "firstlight.h"
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"

#define PR_SET_KEEPCAPS 8      /* include/uapi/linux/prctl.h, stable ABI */
#define PR_CAPBSET_DROP 24
#define PR_SET_SECUREBITS 28
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1 /* a query: changes nothing */

/*
 * Calls in flight, by thread (pid_tgid): the event being built, old credentials filled
 * at entry. The return removes the entry; LRU for a thread killed inside the call.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct fl_priv_event);
} priv_pending SEC(".maps");

/* Where an entry is built before it is inserted (too large for the stack with the rest). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fl_priv_event);
} priv_scratch SEC(".maps");

static __always_inline void priv_read_creds(struct fl_priv_creds *c)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct cred *cred = BPF_CORE_READ(task, real_cred);
	struct group_info *gi;
	__u32 n;

	c->uid = BPF_CORE_READ(cred, uid.val);
	c->gid = BPF_CORE_READ(cred, gid.val);
	c->suid = BPF_CORE_READ(cred, suid.val);
	c->sgid = BPF_CORE_READ(cred, sgid.val);
	c->euid = BPF_CORE_READ(cred, euid.val);
	c->egid = BPF_CORE_READ(cred, egid.val);
	c->fsuid = BPF_CORE_READ(cred, fsuid.val);
	c->fsgid = BPF_CORE_READ(cred, fsgid.val);
	/* kernel_cap_t is { u64 val } since 6.3 and { u32 cap[2] } before: same 8 bytes. */
	bpf_core_read(&c->cap_inheritable, sizeof(c->cap_inheritable), &cred->cap_inheritable);
	bpf_core_read(&c->cap_permitted, sizeof(c->cap_permitted), &cred->cap_permitted);
	bpf_core_read(&c->cap_effective, sizeof(c->cap_effective), &cred->cap_effective);
	bpf_core_read(&c->cap_bset, sizeof(c->cap_bset), &cred->cap_bset);
	bpf_core_read(&c->cap_ambient, sizeof(c->cap_ambient), &cred->cap_ambient);
	c->securebits = BPF_CORE_READ(cred, securebits);
	gi = BPF_CORE_READ(cred, group_info);
	n = BPF_CORE_READ(gi, ngroups);
	c->ngroups = n;
#pragma unroll
	for (int i = 0; i < FL_PRIV_GROUPS; i++)
		c->groups[i] = i < n ? BPF_CORE_READ(gi, gid[i].val) : 0;
}

/*
 * nargs: the syscall's argument count. A syscall tracepoint's record holds only its own
 * arguments, and the kernel refuses to attach a program that reads past it (EACCES).
 */
static __always_inline int priv_enter(struct trace_event_raw_sys_enter *ctx, __u32 syscall,
				      int nargs)
{
	__u64 key = bpf_get_current_pid_tgid();
	struct fl_current cur;
	__u32 zero = 0;
	struct fl_priv_event *e = bpf_map_lookup_elem(&priv_scratch, &zero);

	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e)); /* padding included: the event leaves as is */
	fl_current(&cur);
	fl_current_image_of(&cur, &e->id);
	e->pid = key >> 32;
	e->tid = (__u32)key;
	e->syscall = syscall;
	e->args[0] = (__s64)ctx->args[0];
	if (nargs > 1)
		e->args[1] = (__s64)ctx->args[1];
	if (nargs > 2)
		e->args[2] = (__s64)ctx->args[2];
	if (nargs > 3)
		e->args[3] = (__s64)ctx->args[3];
	e->enter_ns = bpf_ktime_get_boot_ns();
	e->hdr.cgroup_id = cur.cgroup_id;
	priv_read_creds(&e->old_creds);
	bpf_map_update_elem(&priv_pending, &key, e, BPF_ANY);
	return 0;
}

static __always_inline int priv_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 key = bpf_get_current_pid_tgid();
	struct fl_priv_event *e = bpf_map_lookup_elem(&priv_pending, &key);

	if (!e)
		return 0; /* entered before we attached, or a prctl option we do not follow */
	e->ret = ctx->ret;
	priv_read_creds(&e->new_creds);
	fl_hdr(&e->hdr, FL_EV_PRIV, sizeof(*e), bpf_ktime_get_boot_ns(), e->hdr.cgroup_id);
	fl_emit(e, sizeof(*e));
	bpf_map_delete_elem(&priv_pending, &key);
	return 0;
}

#define PRIV_SYSCALL(name, nr, nargs)                                                               \
	SEC("tp/syscalls/sys_enter_" #name)                                                    \
	int fl_priv_enter_##name(struct trace_event_raw_sys_enter *ctx)                        \
	{                                                                                      \
		return priv_enter(ctx, nr, nargs);                                             \
	}                                                                                      \
	SEC("tp/syscalls/sys_exit_" #name)                                                     \
	int fl_priv_exit_##name(struct trace_event_raw_sys_exit *ctx)                          \
	{                                                                                      \
		return priv_exit(ctx);                                                         \
	}

PRIV_SYSCALL(setuid, FL_PRIV_SETUID, 1)
PRIV_SYSCALL(setgid, FL_PRIV_SETGID, 1)
PRIV_SYSCALL(setreuid, FL_PRIV_SETREUID, 2)
PRIV_SYSCALL(setregid, FL_PRIV_SETREGID, 2)
PRIV_SYSCALL(setresuid, FL_PRIV_SETRESUID, 3)
PRIV_SYSCALL(setresgid, FL_PRIV_SETRESGID, 3)
PRIV_SYSCALL(setfsuid, FL_PRIV_SETFSUID, 1)
PRIV_SYSCALL(setfsgid, FL_PRIV_SETFSGID, 1)
PRIV_SYSCALL(setgroups, FL_PRIV_SETGROUPS, 2)
PRIV_SYSCALL(capset, FL_PRIV_CAPSET, 2)

/* prctl is called for many things (names, seccomp, dumpable): only the options that
 * change capabilities or how they survive a uid change are followed. */
SEC("tp/syscalls/sys_enter_prctl")
int fl_priv_enter_prctl(struct trace_event_raw_sys_enter *ctx)
{
	unsigned long option = ctx->args[0];

	if (option != PR_SET_KEEPCAPS && option != PR_CAPBSET_DROP && option != PR_SET_SECUREBITS &&
	    !(option == PR_CAP_AMBIENT && ctx->args[1] != PR_CAP_AMBIENT_IS_SET))
		return 0;
	return priv_enter(ctx, FL_PRIV_PRCTL, 4);
}

SEC("tp/syscalls/sys_exit_prctl")
int fl_priv_exit_prctl(struct trace_event_raw_sys_exit *ctx)
{
	return priv_exit(ctx);
}
