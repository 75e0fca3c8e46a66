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

#define FL_ENOSPC 28 /* include/uapi/asm-generic/errno-base.h */

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

/* A new entry of cgroup_drops: from read-only data, it is too large for the stack. */
static const struct fl_cgroup_drops fl_zero_drops = {};

static __always_inline void fl_count_drop_maps(__u32 why, __u32 type, __u64 now, __u64 cgroup_id)
{
	__u32 idx = why * FL_EV_MAX + type;
	struct fl_drop_counter *c = bpf_map_lookup_elem(&drops, &idx);
	struct fl_cgroup_drops *cg;

	if (c) {
		/* Per-CPU value: no other writer, plain stores are enough. */
		if (!c->count)
			c->first_ns = now;
		c->count++;
		c->last_ns = now;
	}
	if (type >= FL_EV_MAX || why >= FL_DROP_WHY)
		return;
	cg = bpf_map_lookup_elem(&cgroup_drops, &cgroup_id);
	if (!cg) {
		bpf_map_update_elem(&cgroup_drops, &cgroup_id, &fl_zero_drops, BPF_NOEXIST);
		cg = bpf_map_lookup_elem(&cgroup_drops, &cgroup_id);
		if (!cg)
			return; /* still counted per CPU: the agent charges it to "unknown" */
	}
	/* Shared between CPUs: atomic adds; the window bounds are best effort. */
	if (!cg->first_ns)
		cg->first_ns = now;
	/* Bounds checked on the registers that index (barrier_var), as the verifier wants. */
	barrier_var(type);
	barrier_var(why);
	if (type < FL_EV_MAX && why < FL_DROP_WHY)
		__sync_fetch_and_add(&cg->count[why][type], 1);
	cg->last_ns = now;
}

static __always_inline void fl_count_drop_why(__u32 why, __u32 type, __u64 now, __u64 cgroup_id)
{
	fl_count_drop_maps(why, type, now, cgroup_id);
	/* After the maps: once the agent sees it move, the maps hold this drop. */
	__sync_fetch_and_add(&drop_events, 1);
}

/* An event lost for want of room (the ring, or memory for state it needed). */
static __always_inline void fl_count_drop(__u32 type, __u64 now, __u64 cgroup_id)
{
	fl_count_drop_why(FL_DROP_RING, type, now, cgroup_id);
}

/* Events the agent must see to keep processes and workloads right: they may use the
 * ring's headroom, which bulk events (forks, flows) leave free. */
static __always_inline int fl_priority_event(__u16 type)
{
	return type == FL_EV_EXEC || type == FL_EV_EXIT || type == FL_EV_CGROUP_MKDIR ||
	       type == FL_EV_CGROUP_RMDIR || type == FL_EV_CGROUP_ATTACH;
}

/*
 * Adds n bytes to cgroup_id's count of this epoch in ring_share (made, or restarted for
 * a new epoch, as needed); returns the count after it. The one shared line a busy
 * workload's CPUs write: once per FL_SHARE_BATCH bytes of each CPU, not per event.
 */
static __always_inline __u64 fl_share_add(__u64 cgroup_id, __u64 epoch, __u64 n)
{
	struct fl_ring_share *s, zero = { .epoch = epoch };

	s = bpf_map_lookup_elem(&ring_share, &cgroup_id);
	if (!s) {
		bpf_map_update_elem(&ring_share, &cgroup_id, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&ring_share, &cgroup_id);
		if (!s)
			return n; /* no entry to count in: this CPU's view alone */
	}
	if (s->epoch != epoch) {
		/* A new epoch: CPUs racing here may each reset; it only blurs one epoch. */
		s->epoch = epoch;
		s->bytes = 0;
	}
	if (!n)
		return s->bytes; /* a read: the line stays clean */
	/* The add's result unused: a plain XADD. Its fetching form (BPF_FETCH) is 5.12+, and
	 * 5.10 refuses the whole object ("BPF_STX uses reserved fields"). The read after it
	 * holds this add, and maybe other CPUs': a view, as the local one is. */
	__sync_fetch_and_add(&s->bytes, n);
	return s->bytes;
}

/*
 * Fairness: whether an event of size bytes may be queued, given the ring's fill (avail).
 * A bulk event may not eat into the headroom; no event may take its workload past its
 * share of the ring in this drain epoch. Returns -1 (admitted) or the FL_DROP_* cause.
 * Shares are counted only while the ring is more than half a share full: below that no
 * workload can be starved, and the common case (an agent that keeps up) costs two
 * compares. Counting is per CPU (ring_share_local, an array lookup the verifier inlines)
 * and reaches the shared count once per FL_SHARE_BATCH bytes: writing one line from
 * every CPU of a busy workload on each event, with an LRU lookup, cost several hundred ns
 * per event on our 2-core VMs (docs/benchmark.md). A workload may hold half a share
 * uncounted and a batch per CPU beyond its share. With both options off the verifier
 * removes all of it (read-only constants).
 */
static __always_inline int fl_fair_admit(__u16 type, __u64 cgroup_id, __u64 size, __u64 avail)
{
	struct fl_share_local *l;
	__u32 slot;
	__u64 epoch;

	if (cfg_headroom_bytes && !fl_priority_event(type) &&
	    avail + size + cfg_headroom_bytes > cfg_ring_bytes)
		return FL_DROP_RING;
	/* A cgroup's removal is charged to the cgroup removed: a flooder that used its share
	 * until its last instant would lose its own end, and with it the ENDED record that
	 * carries its coverage. Exempt, it costs nothing a hostile workload can repeat: each
	 * removal is of a cgroup made before, and a new cgroup starts with a fresh share. */
	if (type == FL_EV_CGROUP_RMDIR)
		return -1;
	/* Uncounted below half a share: a workload thus holds at most half a share more
	 * than its share, and every other workload keeps what it needs. */
	if (!cfg_share_bytes || avail < cfg_share_bytes / 2)
		return -1;
	slot = cgroup_id & (FL_SHARE_SLOTS - 1);
	l = bpf_map_lookup_elem(&ring_share_local, &slot);
	if (!l)
		return -1;
	epoch = ring_epoch;
	if (l->cgroup_id != cgroup_id || l->epoch != epoch) {
		/* The slot held another workload's bytes, or this epoch's first event here:
		 * hand the other's pending bytes on, then start from the shared count. */
		if (l->pending && l->epoch == epoch)
			fl_share_add(l->cgroup_id, epoch, l->pending);
		l->cgroup_id = cgroup_id;
		l->epoch = epoch;
		l->pending = 0;
		l->shared = fl_share_add(cgroup_id, epoch, 0);
	}
	/* The shared count only grows within an epoch: a view past the share is right. */
	if (l->shared + l->pending + size > cfg_share_bytes)
		return FL_DROP_SHARE;
	l->pending += size;
	if (l->pending >= FL_SHARE_BATCH) {
		l->shared = fl_share_add(cgroup_id, epoch, l->pending);
		l->pending = 0;
	}
	return -1;
}

/*
 * data points at an event that starts with struct fl_event_hdr, size bytes long.
 * urgent: wake the agent now (rare events it must act on at once, such as a new
 * container's cgroup, whose bundle may be gone 10 ms later).
 */
static __always_inline long fl_emit_wake(void *data, __u64 size, int urgent)
{
	struct fl_event_hdr *hdr = data;
	__u32 type = hdr->type < FL_EV_MAX ? hdr->type : 0;
	__u64 flags = BPF_RB_NO_WAKEUP;
	long err;

	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	if (avail > ring_peak_bytes)
		ring_peak_bytes = avail;
	if (cfg_share_bytes || cfg_headroom_bytes) {
		int why = fl_fair_admit(hdr->type, hdr->cgroup_id, size, avail);

		if (why >= 0) {
			fl_count_drop_why(why, type, hdr->boot_ns, hdr->cgroup_id);
			return -FL_ENOSPC;
		}
	}
	if (urgent || avail >= cfg_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	err = bpf_ringbuf_output(&events, data, size, flags);
	if (err)
		fl_count_drop(type, hdr->boot_ns, hdr->cgroup_id);
	return err;
}

static __always_inline long fl_emit(void *data, __u64 size)
{
	return fl_emit_wake(data, size, 0);
}

#endif /* FL_EMIT_BPF_H */
