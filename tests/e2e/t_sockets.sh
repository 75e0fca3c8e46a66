#!/usr/bin/env bash
# quick
# Sockets of kinds the sensor does not record are counted per workload where they are
# made (socket()'s tracepoints): a runc container (with CAP_NET_RAW) whose busybox makes
# two raw ICMP sockets (ping, twice) and one packet socket (arping) has them in its
# coverage, raw 2 and packet 1, and an UNRECORDED_SOCKETS gap of 3 at its end; a raw
# socket refused (a second container without CAP_NET_RAW) makes nothing and counts
# nothing.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

containers_setup || { echo "cannot prepare cgroups" >&2; exit 1; }
id=fl-socks-$$
id2=fl-socks-denied-$$
bundle_make "$T/b" '["sh","-c","ping -c 1 -W 1 127.0.0.1 >/dev/null; arping -c 1 -w 1 -I lo 127.0.0.1 >/dev/null 2>&1; ping -c 1 -W 1 127.0.0.1 >/dev/null; exit 3"]' || exit 1
jq '.process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])' "$T/b/config.json" >"$T/b/c.json" &&
	mv "$T/b/c.json" "$T/b/config.json"
bundle_make "$T/b2" '["sh","-c","ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; exit 4"]' || exit 1

agent_start --metrics-addr off
container_run runc "$id" "$T/b"
check "container exit status" 3 $?
container_run runc "$id2" "$T/b2"
check "second container exit status" 4 $?
wait_for 20 container_recorded "$id2" || fail "containers' identities not recorded"
agent_stop

check "the node counts them" true \
	"$(q '[.[] | .nodeCapabilities.available // empty | index("socket-families") != null] | first')"
w='[.[] | select(.workload.containerId == $id and .workload.state == "ENDED")][0].workload'
check "coverage: raw 2, packet 1" '[{"kind":"raw","count":"2"},{"kind":"packet","count":"1"}]' \
	"$(q -c --arg id "$id" "$w.unrecordedSockets")"
cg=$(q -r --arg id "$id" "$w.cgroupId")
check "one UNRECORDED_SOCKETS gap of 3, naming it" "1 3" \
	"$(q -r --arg cg "$cg" '[.[] | select(.gap.kind == "UNRECORDED_SOCKETS" and .gap.cgroupId == $cg)] | "\(length) \(.[0].gap.count)"')"
path=$(q -r --arg id "$id" "$w.cgroupPath")
check "the gap's detail" "workload $path made sockets of kinds the sensor does not record: raw 2, packet 1" \
	"$(q -r --arg cg "$cg" '[.[] | select(.gap.kind == "UNRECORDED_SOCKETS" and .gap.cgroupId == $cg)][0].gap.detail')"
check "the gap's workload key" "cgroup:$cg" \
	"$(q -r --arg cg "$cg" '[.[] | select(.gap.kind == "UNRECORDED_SOCKETS" and .gap.cgroupId == $cg)][0].gap.workloadKey')"
check "exit code" 3 "$(q -r --arg cg "$cg" '[.[] | select(.exit.cgroupId == $cg)][-1].exit.exitCode')"
w2='[.[] | select(.workload.containerId == $id and .workload.state == "ENDED")][0].workload'
check "refused raw socket: nothing counted" "" "$(q -c --arg id "$id2" "$w2.unrecordedSockets // empty")"
cg2=$(q -r --arg id "$id2" "$w2.cgroupId")
check "refused raw socket: no gap" 0 \
	"$(q -r --arg cg "$cg2" '[.[] | select(.gap.kind == "UNRECORDED_SOCKETS" and .gap.cgroupId == $cg)] | length')"
finish
