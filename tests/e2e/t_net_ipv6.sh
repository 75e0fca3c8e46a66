#!/usr/bin/env bash
# quick
# TCP on IPv6 loopback (::1) keeps IPv6 addresses; an AF_INET6 socket reaching an IPv4
# peer through a v4-mapped address (::ffff:127.0.0.1) is recorded as plain IPv4, on both
# the connecting and the accepting side (a dual-stack listener on ::).
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/net.sh"

agent_start
serve six "$HELPERS/fl-net" tcp-server ::1 "$T/six.ready" 1 20
"$HELPERS/fl-net" tcp-client ::1 "$six_port" 50 >"$T/c6.out" &
c6=$!
wait $c6
check "v6 client exit status" 0 $?
serve dual "$HELPERS/fl-net" tcp-server :: "$T/dual.ready" 1 7
"$HELPERS/fl-net" tcp-client ::ffff:127.0.0.1 "$dual_port" 70 >"$T/cm.out" &
cm=$!
wait $cm
check "mapped client exit status" 0 $?
wait "$six_pid" "$dual_pid"
agent_stop

s6=$(kv "$T/c6.out" sport)
check "v6 connect 4-tuple" "[::1]:$s6 -> [::1]:$six_port" \
	"$(flows "$c6" '.[] | select(.kind == "CONNECT") | "[\(.srcAddr)]:\(.srcPort) -> [\(.dstAddr)]:\(.dstPort)"')"
check "v6 connect attributed" "$(exec_of "$c6" execId)" "$(flows "$c6" '.[] | select(.kind == "CONNECT") | .execId')"
check "v6 accept on the server" "[::1]:$s6 -> [::1]:$six_port" \
	"$(flows "$six_pid" '.[] | select(.kind == "ACCEPT") | "[\(.srcAddr)]:\(.srcPort) -> [\(.dstAddr)]:\(.dstPort)"')"
check "v6 close bytes, client" "50/20" "$(flows "$c6" '.[] | select(.kind == "CLOSE") | "\(.bytesSent)/\(.bytesReceived)"')"
check "v6 close bytes, server" "20/50" "$(flows "$six_pid" '.[] | select(.kind == "CLOSE") | "\(.bytesSent)/\(.bytesReceived)"')"
check "v6 listen on ::1" "::1 $six_port" "$(flows "$six_pid" '.[] | select(.kind == "LISTEN") | "\(.srcAddr) \(.srcPort)"')"

sm=$(kv "$T/cm.out" sport)
check "v4-mapped connect shown as IPv4" "127.0.0.1:$sm -> 127.0.0.1:$dual_port" \
	"$(flows "$cm" '.[] | select(.kind == "CONNECT") | "\(.srcAddr):\(.srcPort) -> \(.dstAddr):\(.dstPort)"')"
check "v4-mapped accept shown as IPv4" "127.0.0.1:$sm -> 127.0.0.1:$dual_port" \
	"$(flows "$dual_pid" '.[] | select(.kind == "ACCEPT") | "\(.srcAddr):\(.srcPort) -> \(.dstAddr):\(.dstPort)"')"
check "dual-stack listener on ::" ":: $dual_port" "$(flows "$dual_pid" '.[] | select(.kind == "LISTEN") | "\(.srcAddr) \(.srcPort)"')"
check "v4-mapped close bytes" "70/7" "$(flows "$cm" '.[] | select(.kind == "CLOSE") | "\(.bytesSent)/\(.bytesReceived)"')"
check "no address is left v4-mapped" 0 "$(q '[.[] | select(.flow) | .flow | .srcAddr, .dstAddr | select(. != null and startswith("::ffff:"))] | length')"
finish
