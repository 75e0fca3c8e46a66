/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one path by which an event leaves the kernel. A ring buffer has no lost-event
 * callback, so a failed output is counted here, per CPU and event type, or it would be
 * invisible. No wake-up per event: a wake-up costs ~13 us here against ~0.5 us for the
 * event, so the agent drains on a short timer and we wake it only when the ring fills.
 */
#ifndef FL_EMIT_BPF_H
#define FL_EMIT_BPF_H

#include "maps.bpf.h"

/* cgroup_id: the workload a loss of this event is charged to (0 if unknown). */
static __always_inline void fl_hdr(struct fl_event_hdr *hdr, __u16 type, __u32 size, __u64 now,
				   __u64 cgroup_id)
{
	hdr->type = type;
	hdr->pad = 0;
	hdr->size = size;
	hdr->boot_ns = now;
	hdr->cgroup_id = cgroup_id;
}

static __always_inline void fl_count_drop_maps(__u32 type, __u64 now, __u64 cgroup_id)
{
	struct fl_drop_counter *c = bpf_map_lookup_elem(&drops, &type);
	struct fl_cgroup_drops *cg, zero = {};

	if (c) {
		/* Per-CPU value: no other writer, plain stores are enough. */
		if (!c->count)
			c->first_ns = now;
		c->count++;
		c->last_ns = now;
	}
	if (type >= FL_EV_MAX)
		return;
	cg = bpf_map_lookup_elem(&cgroup_drops, &cgroup_id);
	if (!cg) {
		bpf_map_update_elem(&cgroup_drops, &cgroup_id, &zero, BPF_NOEXIST);
		cg = bpf_map_lookup_elem(&cgroup_drops, &cgroup_id);
		if (!cg)
			return; /* still counted per CPU: the agent charges it to "unknown" */
	}
	/* Shared between CPUs: atomic adds; the window bounds are best effort. */
	if (!cg->first_ns)
		cg->first_ns = now;
	/* Bound checked on the register that indexes (barrier_var), as the verifier wants. */
	barrier_var(type);
	if (type < FL_EV_MAX)
		__sync_fetch_and_add(&cg->count[type], 1);
	cg->last_ns = now;
}

static __always_inline void fl_count_drop(__u32 type, __u64 now, __u64 cgroup_id)
{
	fl_count_drop_maps(type, now, cgroup_id);
	/* After the maps: once the agent sees it move, the maps hold this drop. */
	__sync_fetch_and_add(&drop_events, 1);
}

/*
 * data points at an event that starts with struct fl_event_hdr, size bytes long.
 * urgent: wake the agent now (rare events it must act on at once, such as a new
 * container's cgroup, whose bundle may be gone 10 ms later).
 */
static __always_inline long fl_emit_wake(void *data, __u64 size, int urgent)
{
	struct fl_event_hdr *hdr = data;
	__u64 flags = BPF_RB_NO_WAKEUP;
	long err;

	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	if (avail > ring_peak_bytes)
		ring_peak_bytes = avail;
	if (urgent || avail >= cfg_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	err = bpf_ringbuf_output(&events, data, size, flags);
	if (err)
		fl_count_drop(hdr->type < FL_EV_MAX ? hdr->type : 0, hdr->boot_ns, hdr->cgroup_id);
	return err;
}

static __always_inline long fl_emit(void *data, __u64 size)
{
	return fl_emit_wake(data, size, 0);
}

#endif /* FL_EMIT_BPF_H */
