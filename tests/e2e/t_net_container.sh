#!/usr/bin/env bash
# A short-lived runc container (busybox nc, host network) connects to a server of the
# test and exits as soon as the server has greeted it and closed. The connect and close
# are attributed to the container's process: its exec id and its own cgroup.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/container.sh"

containers_setup || { echo "container set-up failed" >&2; exit 1; }
agent_start
serve srv "$HELPERS/fl-net" tcp-greeter 127.0.0.1 "$T/srv.ready" 1
bundle_make "$T/bundle" "[\"nc\",\"127.0.0.1\",\"$srv_port\"]" || exit 1
id=fl-e2e-net-$$
container_run runc "$id" "$T/bundle" >"$T/nc.out"
check "container exit status" 0 $?
wait "$srv_pid"
check "server exit status" 0 $?
check "the container read the greeting" hi "$(cat "$T/nc.out")"
agent_stop

# The container's process: the exec whose argv is the nc command line.
pid=$(q --arg port "$srv_port" '[.[] | select(.exec.process.args == ["nc", "127.0.0.1", $port]) | .exec.process.pid] | last')
check_cmd "the container's exec was recorded" test "$pid" != null
cid=$(exec_of "$pid" execId)
cg=$(exec_of "$pid" cgroupId)
check_cmd "the container has its own cgroup" test "$cg" != "$(q --argjson p $$ '[.[] | select(.exec.process.pid == $p) | .exec.process.cgroupId] | last')"
check "connect from the container" "CONNECT 127.0.0.1:$srv_port 0" \
	"$(flows "$pid" '.[] | select(.kind == "CONNECT") | "\(.kind) \(.dstAddr):\(.dstPort) \(.result // 0)"')"
check "connect attributed to its image and cgroup" "$cid $cg true" \
	"$(flows "$pid" '.[] | select(.kind == "CONNECT") | "\(.execId) \(.cgroupId) \(.startSeen)"')"
check "close attributed too, 3 bytes received" "$cid $cg 3" \
	"$(flows "$pid" '.[] | select(.kind == "CLOSE") | "\(.execId) \(.cgroupId) \(.bytesReceived)"')"
wk=$(exec_of "$pid" workloadKey)
check "connect and close carry the container's workload key" "$wk $wk" \
	"$(flows "$pid" '[.[] | select(.kind == "CONNECT" or .kind == "CLOSE") | .workloadKey] | join(" ")')"
check "which names a container workload" CONTAINER \
	"$(q -r --arg k "$wk" '[.[] | select(.workload.key == $k) | .workload.kind] | first')"
check "the container's exit was recorded" 1 "$(q --arg id "$cid" '[.[] | select(.exit.execId == $id)] | length')"
check "server accepted from the container" "$(flows "$pid" '.[] | select(.kind == "CONNECT") | .srcPort')" \
	"$(flows "$srv_pid" '.[] | select(.kind == "ACCEPT") | .srcPort')"
finish
