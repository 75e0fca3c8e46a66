#!/usr/bin/env bash
# TCP between two network namespaces made by the test and joined by a veth pair: the
# client in one connects to the server in the other over 10.251.0.0/30. Each side's
# records carry its own namespace's inode and the addresses as that namespace sees them.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/net.sh"

a=fl-e2e-$$-a
b=fl-e2e-$$-b
veth=fle$$
ip netns add "$a" || { echo "cannot create netns" >&2; exit 1; }
on_cleanup "ip netns del $a"
ip netns add "$b" || exit 1
on_cleanup "ip netns del $b"
# Deleting a namespace deletes its end of the pair, and with it the other end.
ip link add "${veth}a" netns "$a" type veth peer name "${veth}b" netns "$b" || exit 1
ip -n "$a" addr add 10.251.0.1/30 dev "${veth}a"
ip -n "$b" addr add 10.251.0.2/30 dev "${veth}b"
ip -n "$a" link set "${veth}a" up
ip -n "$b" link set "${veth}b" up
ip -n "$a" link set lo up
ip -n "$b" link set lo up

agent_start
# `ip netns exec` execs the command in place: the background pid is the helper's.
serve srv ip netns exec "$b" "$HELPERS/fl-net" tcp-server 10.251.0.2 "$T/srv.ready" 1 123
ip netns exec "$a" "$HELPERS/fl-net" tcp-client 10.251.0.2 "$srv_port" 4567 >"$T/cli.out" &
cli=$!
wait $cli
check "client exit status" 0 $?
wait "$srv_pid"
check "server exit status" 0 $?
agent_stop

ns_a=$(ip netns exec "$a" stat -L -c %i /proc/self/ns/net)
ns_b=$(ip netns exec "$b" stat -L -c %i /proc/self/ns/net)
sport=$(kv "$T/cli.out" sport)
check "the namespaces differ from the host's" true "$([ "$ns_a" != "$(netns_of_pid $$)" ] && [ "$ns_a" != "$ns_b" ] && echo true)"
check "connect across the veth" "10.251.0.1:$sport -> 10.251.0.2:$srv_port" \
	"$(flows "$cli" '.[] | select(.kind == "CONNECT") | "\(.srcAddr):\(.srcPort) -> \(.dstAddr):\(.dstPort)"')"
check "connect established" 0 "$(flows "$cli" '.[] | select(.kind == "CONNECT") | .result // 0')"
check "connect in the client's namespace" "$ns_a" "$(flows "$cli" '.[] | select(.kind == "CONNECT") | .netns')"
check "connect attributed to the client" "$(exec_of "$cli" execId)" "$(flows "$cli" '.[] | select(.kind == "CONNECT") | .execId')"
check "accept on the server" "10.251.0.1:$sport -> 10.251.0.2:$srv_port" \
	"$(flows "$srv_pid" '.[] | select(.kind == "ACCEPT") | "\(.srcAddr):\(.srcPort) -> \(.dstAddr):\(.dstPort)"')"
check "accept in the server's namespace" "$ns_b" "$(flows "$srv_pid" '.[] | select(.kind == "ACCEPT") | .netns')"
check "accept attributed to the server" "$(exec_of "$srv_pid" execId)" "$(flows "$srv_pid" '.[] | select(.kind == "ACCEPT") | .execId')"
check "client close bytes" "4567/123" "$(flows "$cli" '.[] | select(.kind == "CLOSE") | "\(.bytesSent)/\(.bytesReceived)"')"
check "server close bytes" "123/4567" "$(flows "$srv_pid" '.[] | select(.kind == "CLOSE") | "\(.bytesSent)/\(.bytesReceived)"')"
check "listen in the server's namespace" "10.251.0.2 $ns_b" "$(flows "$srv_pid" '.[] | select(.kind == "LISTEN") | "\(.srcAddr) \(.netns)"')"
finish
