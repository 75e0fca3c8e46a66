#!/usr/bin/env bash
# quick
# Two threads on one UDP socket, one blocked inside its send: thread A's sendto() passes
# the cgroup sendmsg hook (which stashes the destination) and then blocks copying its
# payload (a userfaultfd page the helper resolves only later), while the main thread sends
# 50 datagrams on the same socket; then A's send completes. The destination of a send in
# flight is kept per thread, so no send overwrites another's: the flow counts all 51
# datagrams and their bytes, exactly, and nothing is charged as lost.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/net.sh"

agent_start --net-window-ms 60000 --metrics-addr off
"$HELPERS/fl-net" udp-blocked 50 >"$T/b.out" 2>"$T/b.err" &
b=$!
wait $b
check "helper exit status" 0 $? || cat "$T/b.err" >&2
agent_stop

port=$(kv "$T/b.out" port)
check "the receiver got all 51 datagrams" "51 51" "$(kv "$T/b.out" datagrams) $(kv "$T/b.out" received)"
udp() { flows "$b" "[.[] | select(.kind == \"UDP\" and .dstAddr == \"127.0.0.1\" and .dstPort == $port)] | $1"; }
check "one record for the socket's peer" 1 "$(udp length)"
check "every datagram counted, the blocked one too" "51/5100" "$(udp '.[0] | "\(.datagrams)/\(.bytesSent)"')"
check "attributed to the helper" "$(exec_of $b execId)" "$(udp '.[0].execId')"
check "nothing charged as lost to its workload" 0 "$(q --arg cg "$(exec_of $b cgroupId)" '[.[] | select(.gap.cgroupId == $cg and (.gap.kind == "RING_BUFFER_DROP" or .gap.kind == "SHARE_EXCEEDED") and .gap.eventType == "udp")] | length')"
finish
