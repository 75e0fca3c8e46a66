/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live tables (live_slots and live_procs, see maps.bpf.h): which image each process
 * that exec'd since we attached runs now. Lookups from every program; the exec program
 * makes and updates entries, the exit programs remove them.
 */
#ifndef FL_LIVE_BPF_H
#define FL_LIVE_BPF_H

#include "maps.bpf.h"

/*
 * The live entry of a process (see live_procs in maps.bpf.h), or NULL; *slot (if slot is
 * non-NULL) is set to the slot that holds it, or NULL when it is in the hash or absent.
 * The slot's owner is compared first: the entry is complete once owner is the bare tgid.
 */
static __always_inline struct fl_proc_entry *fl_live_lookup(__u32 tgid, struct fl_live_slot **slot)
{
	__u32 k = tgid & cfg_live_slot_mask, zero = 0;
	struct fl_live_slot *s = bpf_map_lookup_elem(&live_slots, &k);
	__u64 *overflow;

	if (slot)
		*slot = NULL;
	if (s && s->owner == tgid && s->e.id.tgid == tgid) {
		if (slot)
			*slot = s;
		return &s->e;
	}
	overflow = bpf_map_lookup_elem(&live_overflow, &zero);
	if (overflow && !*overflow)
		return NULL;
	return bpf_map_lookup_elem(&live_procs, &tgid);
}

/*
 * Records a process's new image (n): in place where it has an entry (old, in old_slot or
 * in the hash), else in its slot when that is free and claim is set (fl_exec only: the
 * claim's compare-and-exchange is 5.12+), else in the hash. Returns 0, or -1 when the
 * process is not tracked (its slot taken and the hash full).
 */
static __always_inline int fl_live_set(__u32 tgid, const struct fl_proc_entry *n,
				       struct fl_proc_entry *old, struct fl_live_slot *old_slot,
				       const int claim)
{
	__u32 k = tgid & cfg_live_slot_mask, zero = 0;
	struct fl_live_slot *s;
	__u64 *overflow;

	if (old_slot) {
		/* A second exec. Only the process itself writes its entry (its other threads
		 * are gone); a reader sees the old image's start or the new one's, each one
		 * 8-byte store. The tgid and the lineage parent stay. */
		old_slot->e.id.start_ns = n->id.start_ns;
		old_slot->e.cgroup_id = n->cgroup_id;
		return 0;
	}
	if (old)
		return bpf_map_update_elem(&live_procs, &tgid, n, BPF_EXIST) ? -1 : 0;
	if (claim) {
		s = bpf_map_lookup_elem(&live_slots, &k);
		if (s && !s->owner &&
		    !__sync_val_compare_and_swap(&s->owner, 0, tgid | FL_LIVE_CLAIMING)) {
			s->e = *n;
			/* Fully ordered: the entry is visible before the bare tgid is. */
			__sync_val_compare_and_swap(&s->owner, tgid | FL_LIVE_CLAIMING, tgid);
			return 0;
		}
	}
	overflow = bpf_map_lookup_elem(&live_overflow, &zero);
	if (!overflow)
		return -1;
	/* Counted before the insert: a reader that misses the slot must not skip the hash
	 * while it holds an entry. */
	__sync_fetch_and_add(overflow, 1);
	if (bpf_map_update_elem(&live_procs, &tgid, n, BPF_NOEXIST)) {
		__sync_fetch_and_add(overflow, -1);
		return -1;
	}
	return 0;
}

/*
 * Removes the entry fl_live_lookup found (e, in slot or in the hash) at the process's
 * end. Returns -1 when another thread removed it first. One thread per process gets here:
 * the one whose exit ends the process (group_dead), or on kernels without group_dead the
 * one that claimed the exit in exit_claims; only when that insert failed for memory may a
 * second one come. The hash's delete tells it the entry is gone; for a slot, exclusive
 * (fl_exit_legacy_slots: compare-and-exchange, 5.12+) does, so that it cannot free a slot
 * a new process has claimed since. Otherwise a plain store frees the slot: a locked
 * instruction costs an exit about a tenth here, and fl_exit has one remover by construction.
 */
static __always_inline int fl_live_remove(__u32 tgid, struct fl_proc_entry *e,
					  struct fl_live_slot *slot, const int exclusive)
{
	__u32 zero = 0;
	__u64 *overflow;

	if (slot) {
		/* The caller copied the entry. Either release is ordered after those loads:
		 * the compare-and-exchange fully, the plain store by depending on loads of the
		 * slot (the branch: no CPU makes a store visible before the branch resolves). */
		if (e->id.tgid != tgid)
			return -1;
		if (exclusive)
			return __sync_val_compare_and_swap(&slot->owner, tgid, 0) == tgid ? 0 : -1;
		if (slot->owner != tgid)
			return -1;
		slot->owner = 0;
		return 0;
	}
	if (bpf_map_delete_elem(&live_procs, &tgid))
		return -1;
	overflow = bpf_map_lookup_elem(&live_overflow, &zero);
	if (overflow)
		__sync_fetch_and_add(overflow, -1);
	return 0;
}

#endif /* FL_LIVE_BPF_H */
