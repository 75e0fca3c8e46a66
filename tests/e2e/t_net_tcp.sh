#!/usr/bin/env bash
# quick
# TCP on IPv4 loopback: a server that listens, accepts and answers 300 bytes, a client
# that connects and sends 1000, and a connect to a port that is ours and closed. Each
# side's records name its own process, the 4-tuple and the bytes the test sent.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/net.sh"

agent_start
serve srv "$HELPERS/fl-net" tcp-server 127.0.0.1 "$T/srv.ready" 1 300
"$HELPERS/fl-net" tcp-client 127.0.0.1 "$srv_port" 1000 >"$T/cli.out" &
cli=$!
wait $cli
check "client exit status" 0 $?
wait "$srv_pid"
check "server exit status" 0 $?
"$HELPERS/fl-net" tcp-refused 127.0.0.1 >"$T/ref.out" &
ref=$!
wait $ref
check "refused client exit status" 0 $?
agent_stop

sport=$(kv "$T/cli.out" sport)
check "server received what the client sent" 1000 "$(kv "$T/srv.out" received)"

# The server: LISTEN, then ACCEPT and CLOSE of the client's connection, all its own.
srv_id=$(exec_of "$srv_pid" execId)
check "server listens once" 1 "$(flows "$srv_pid" '[.[] | select(.kind == "LISTEN")] | length')"
check "listen address" "127.0.0.1:$srv_port" "$(flows "$srv_pid" '.[] | select(.kind == "LISTEN") | "\(.srcAddr):\(.srcPort)"')"
check "server accepts once" 1 "$(flows "$srv_pid" '[.[] | select(.kind == "ACCEPT")] | length')"
check "accept: src is the client" "127.0.0.1:$sport -> 127.0.0.1:$srv_port" \
	"$(flows "$srv_pid" '.[] | select(.kind == "ACCEPT") | "\(.srcAddr):\(.srcPort) -> \(.dstAddr):\(.dstPort)"')"
check "accept is inbound, attributed to the server's image" "true $srv_id" \
	"$(flows "$srv_pid" '.[] | select(.kind == "ACCEPT") | "\(.inbound) \(.execId)"')"
check "server close: bytes sent/received" "300/1000" \
	"$(flows "$srv_pid" '.[] | select(.kind == "CLOSE") | "\(.bytesSent)/\(.bytesReceived)"')"
check "server close joins its accept by cookie" \
	"$(flows "$srv_pid" '.[] | select(.kind == "ACCEPT") | .socketCookie')" \
	"$(flows "$srv_pid" '.[] | select(.kind == "CLOSE") | .socketCookie')"

# The client: CONNECT established, then CLOSE with the bytes, same cookie.
cli_id=$(exec_of "$cli" execId)
check "client connects once" 1 "$(flows "$cli" '[.[] | select(.kind == "CONNECT")] | length')"
check "connect 4-tuple" "127.0.0.1:$sport -> 127.0.0.1:$srv_port" \
	"$(flows "$cli" '.[] | select(.kind == "CONNECT") | "\(.srcAddr):\(.srcPort) -> \(.dstAddr):\(.dstPort)"')"
check "connect established (result 0)" 0 "$(flows "$cli" '.[] | select(.kind == "CONNECT") | .result // 0')"
check "connect attributed to the client's image" "$cli_id" "$(flows "$cli" '.[] | select(.kind == "CONNECT") | .execId')"
check "connect carries the client's cgroup" "$(exec_of "$cli" cgroupId)" "$(flows "$cli" '.[] | select(.kind == "CONNECT") | .cgroupId')"
check "connect carries the client's workload key" "$(exec_of "$cli" workloadKey)" "$(flows "$cli" '.[] | select(.kind == "CONNECT") | .workloadKey')"
check "connect: start seen" true "$(flows "$cli" '.[] | select(.kind == "CONNECT") | .startSeen')"
check "connect: protocol TCP, outbound" "6 false" "$(flows "$cli" '.[] | select(.kind == "CONNECT") | "\(.protocol) \(.inbound // false)"')"
check "connect: netns is the host's" "$(netns_of_pid $$)" "$(flows "$cli" '.[] | select(.kind == "CONNECT") | .netns')"
check "client close: bytes sent/received" "1000/300" \
	"$(flows "$cli" '.[] | select(.kind == "CLOSE") | "\(.bytesSent)/\(.bytesReceived)"')"
check "client close: same cookie as its connect" 1 \
	"$(flows "$cli" '[.[].socketCookie] | unique | length')"
check "client close: duration >= handshake" true \
	"$(flows "$cli" '(.[] | select(.kind == "CLOSE") | .durationNano | tonumber) >= (.[] | select(.kind == "CONNECT") | .durationNano // "0" | tonumber)')"

# The refused connect: one CONNECT with the error, no CLOSE.
rport=$(kv "$T/ref.out" port)
check "refused: one record" 1 "$(flows "$ref" 'length')"
check "refused: connect to our closed port" "CONNECT 127.0.0.1:$rport" "$(flows "$ref" '.[] | "\(.kind) \(.dstAddr):\(.dstPort)"')"
check "refused: result and error" "-111 ECONNREFUSED" "$(flows "$ref" '.[] | "\(.result) \(.error)"')"

check "no drops reported" 0 "$(q '[.[] | select(.gap.kind == "RING_BUFFER_DROP")] | length')"
check "seq has no holes" true "$(q '[.[].seq | tonumber] as $s | $s == [range(1; ($s | length) + 1)]')"
finish
