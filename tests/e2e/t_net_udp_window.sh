#!/usr/bin/env bash
# quick
# A sender that keeps sending across many aggregation windows (one datagram every 20 ms
# against a 100 ms window): its records together count exactly what it sent, whichever
# windows they fell in, and no window is recorded empty.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/net.sh"

agent_start --net-window-ms 100
serve rx "$HELPERS/fl-net" udp-server 127.0.0.1 "$T/rx.ready" 40
"$HELPERS/fl-net" udp-client 127.0.0.1 "$rx_port" 40 64 paced >/dev/null &
s=$!
wait $s
check "sender exit status" 0 $?
wait "$rx_pid"
agent_stop

mine="[.[] | select(.kind == \"UDP\" and .dstPort == $rx_port)]"
check "datagrams over all windows" 40 "$(flows $s "$mine | map(.datagrams | tonumber) | add")"
check "bytes over all windows" 2560 "$(flows $s "$mine | map(.bytesSent | tonumber) | add")"
check_cmd "several windows recorded" test "$(flows $s "$mine | length")" -gt 1
check "no empty window" 0 "$(flows $s "$mine | map(select((.datagrams // \"0\") == \"0\")) | length")"
check "every window attributed, start seen" true "$(flows $s "$mine | all(.execId == \"$(exec_of $s execId)\" and .startSeen)")"
check "windows do not overlap" true "$(flows $s "$mine | sort_by(.startBootNano | tonumber) |
	[range(1; length) as \$i | (.[\$i - 1].startBootNano | tonumber) + (.[\$i - 1].durationNano // \"0\" | tonumber) < (.[\$i].startBootNano | tonumber)] | all")"
finish
