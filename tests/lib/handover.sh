# Helpers for the handover tests (run --handover): a bpffs of the test's own for the pins,
# so that nothing the test pins can meet another test's or the node's (an instance
# mounted anew is empty), and a cgroup2 directory for the test's workload, whose events
# (and losses) are charged to it alone. Source after e2e.sh.

# handover_setup: sets PIN (the pin dir) and CG (a cgroup2 dir, CG_ID its id).
handover_setup() {
	mkdir "$T/bpffs" && mount -t bpf bpf "$T/bpffs" || { echo "cannot mount a bpffs at $T/bpffs" >&2; exit 1; }
	# Programs left pinned by a failed check detach with their pins; then the mount goes.
	on_cleanup "'$FIRSTLIGHT' unpin --pin-dir '$T/bpffs/fl' >/dev/null; umount '$T/bpffs'"
	PIN=$T/bpffs/fl
	own_cgroup "fl-handover-$$"
}

# run_ids: the STARTED records' run ids, in order.
run_ids() {
	q -r '[.[] | select(.agent.state == "STARTED") | .agentRunId] | join(" ")'
}

# in_cg_count KIND [RUN]: records of KIND (exec, fork, exit) in the test's cgroup.
in_cg_count() {
	q --arg cg "$CG_ID" --arg r "${2:-}" "[.[] | select(.$1 and ((.$1.process // .$1).cgroupId == \$cg)
		and (\$r == \"\" or .agentRunId == \$r))] | length"
}

# A gap of events the kernel could not queue: the ring was full (RING_BUFFER_DROP), or
# the workload had queued its share of it since the last drain (SHARE_EXCEEDED; with no
# agent draining, the window is one drain epoch).
LOSSY='(.gap.kind == "RING_BUFFER_DROP" or .gap.kind == "SHARE_EXCEEDED")'

# cg_dropped TYPE: events of TYPE the kernel could not queue for the test's cgroup.
cg_dropped() {
	q --arg cg "$CG_ID" --arg t "$1" "[.[] | select($LOSSY and .gap.cgroupId == \$cg
		and .gap.eventType == \$t) | .gap.count | tonumber] | add // 0"
}
