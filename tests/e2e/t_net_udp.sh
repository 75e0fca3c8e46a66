#!/usr/bin/env bash
# quick
# UDP to a local receiver, three senders: sendto() on an IPv4 socket, send() on a
# connected socket, and an AF_INET6 socket sending to the v4-mapped address; and
# sendto() to an IPv6 receiver. With a window longer than the test, each (process,
# peer) is exactly one record whose counts are what the sender sent; the v4-mapped
# sender's peer is spelled as IPv4.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/net.sh"

agent_start --net-window-ms 60000
serve rx "$HELPERS/fl-net" udp-server 127.0.0.1 "$T/rx.ready" 2035
serve rx6 "$HELPERS/fl-net" udp-server ::1 "$T/rx6.ready" 7
"$HELPERS/fl-net" udp-client 127.0.0.1 "$rx_port" 2000 100 sendto >/dev/null &
s1=$!
"$HELPERS/fl-net" udp-client 127.0.0.1 "$rx_port" 30 33 connect >/dev/null &
s2=$!
"$HELPERS/fl-net" udp-client 127.0.0.1 "$rx_port" 5 7 mapped >/dev/null &
s3=$!
"$HELPERS/fl-net" udp-client ::1 "$rx6_port" 7 11 sendto >/dev/null &
s4=$!
wait $s1 $s2 $s3 $s4
check "senders exit status" 0 $?
wait "$rx_pid" "$rx6_pid"
check "receivers got every datagram" 0 $?
agent_stop

check "receiver counted" "2035 201025" "$(kv "$T/rx.out" datagrams) $(kv "$T/rx.out" bytes)"
peer="127.0.0.1:$rx_port"
udp() { flows "$1" "[.[] | select(.kind == \"UDP\" and \"\(.dstAddr):\(.dstPort)\" == \"$peer\")] | $2"; }
check "sendto: one record for 2000 datagrams" 1 "$(udp $s1 length)"
check "sendto: datagrams/bytes" "2000/200000" "$(udp $s1 '.[0] | "\(.datagrams)/\(.bytesSent)"')"
check "sendto: no connect" 0 "$(udp $s1 '.[0].connects // 0')"
check "sendto: attributed, start seen" "$(exec_of $s1 execId) true" "$(udp $s1 '.[0] | "\(.execId) \(.startSeen)"')"
check "sendto: cgroup" "$(exec_of $s1 cgroupId)" "$(udp $s1 '.[0].cgroupId')"
check "sendto: protocol, netns" "17 $(netns_of_pid $$)" "$(udp $s1 '.[0] | "\(.protocol) \(.netns)"')"
check "connected: one record" 1 "$(udp $s2 length)"
check "connected: datagrams/bytes/connects" "30/990/1" "$(udp $s2 '.[0] | "\(.datagrams)/\(.bytesSent)/\(.connects)"')"
check "v4-mapped: one record, peer as IPv4" 1 "$(udp $s3 length)"
check "v4-mapped: datagrams/bytes" "5/35" "$(udp $s3 '.[0] | "\(.datagrams)/\(.bytesSent)"')"
check "IPv6 sendto: one record" "::1 $rx6_port 7/77" \
	"$(flows $s4 '.[] | select(.kind == "UDP") | "\(.dstAddr) \(.dstPort) \(.datagrams)/\(.bytesSent)"')"
check "senders have no other UDP records" 0 "$(q --argjson a $s1 --argjson b $s2 --argjson c $s3 --arg peer "$peer" \
	'[.[] | select(.flow.kind == "UDP" and ([.flow.pid] | inside([$a, $b, $c])) and "\(.flow.dstAddr):\(.flow.dstPort)" != $peer)] | length')"
check "no drops reported" 0 "$(q '[.[] | select(.gap.kind == "RING_BUFFER_DROP")] | length')"
finish
