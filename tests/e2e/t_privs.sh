#!/usr/bin/env bash
# quick
# Least privilege at run time: once attached and seeded, every thread of a running agent
# (the event loop, the HTTP server's, the shipper's and the NATS client's, the identity
# resolver's) holds only CAP_BPF and CAP_DAC_READ_SEARCH (effective, permitted and
# bounding; of them only those it was given), no-new-privs and the seccomp filter, as
# /proc/<pid>/task/*/status shows.
# And the agent still does all its work confined: it records a process and a runc
# container born after the drop (the resolver reads its bundle), serves its metrics,
# ships every batch (reconnecting to a restarted server), signs, and stops cleanly.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"
. "$(dirname "$0")/../lib/nats.sh"

containers_setup || { echo "container set-up failed" >&2; exit 1; }
nats_start js || exit 1
node=privs-node-$$
export NODE_NAME=$node
marker=fl-privs-$$
keep=0000008000000004 # CAP_BPF (39) and CAP_DAC_READ_SEARCH (2)
bnd=$keep
# Under exactly the manifest's capabilities (make test-caps, test-asan: FL_CAPS), the
# agent keeps those of the two it was given, and the bounding set stays as the wrapper
# set it: dropping from it takes CAP_SETPCAP, which the manifest does not grant.
cap_mask() { # NAME,NAME...: their mask as /proc/PID/status prints it
	local m=0 n bit
	for n in ${1//,/ }; do
		bit=$(awk -v c="CAP_$n" '$1 == "#define" && $2 == c { print $3 }' /usr/include/linux/capability.h)
		[ -n "$bit" ] || { echo "t_privs: unknown capability $n" >&2; exit 1; }
		m=$((m | (1 << bit)))
	done
	printf '%016x\n' "$m"
}
if [ -n "${FL_CAPS:-}" ]; then
	held=$(cap_mask "$FL_CAPS")
	keep=$(printf '%016x' $((0x$keep & 0x$held)))
	case ",$FL_CAPS," in *,SETPCAP,*) bnd=$keep ;; *) bnd=$held ;; esac
fi

agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
threads=0
names=""
for t in /proc/"$AGENT_PID"/task/*; do
	name=$(cat "$t/comm")
	threads=$((threads + 1))
	names="$names $name"
	for f in CapEff CapPrm CapBnd CapInh CapAmb NoNewPrivs Seccomp; do
		want=$keep
		case $f in CapBnd) want=$bnd ;; CapInh | CapAmb) want=0000000000000000 ;; NoNewPrivs) want=1 ;; Seccomp) want=2 ;; esac
		check "thread $name: $f" "$want" "$(awk -v f="$f:" '$1 == f { print $2 }' "$t/status")"
	done
done
# Each kind of thread was there to be checked.
for name in firstlight MHD-single fl-ship fl-resolve; do
	check_cmd "a thread named $name was checked" grep -qw -- "$name" <<<"$names"
done

# Confined, it still records: a process, a container (its bundle read by the resolver).
"$HELPERS/fl-storm" -n 20 -p 1 -- /bin/true "$marker"
check "storm exit status" 0 $?
bundle_make "$T/b" '["busybox","sleep","1000"]' || exit 1
on_cleanup "runc delete -f fl-privs-$$"
(cd "$T/b" && runc run "fl-privs-$$" </dev/null >/dev/null 2>&1) &
cpid=$!
check_cmd "the container's identity is recorded" wait_for 30 container_recorded "fl-privs-$$"
runc kill "fl-privs-$$" KILL
wait "$cpid"
runc delete -f "fl-privs-$$" >/dev/null 2>&1
# It serves its metrics and ships, through a restart of the server (a reconnect).
check "metrics served" 1 "$(metric firstlight_ship_connected)"
nats_stop js
nats_start js "$js_port" || exit 1
check_cmd "everything written is acked after the server's restart" wait_for 60 ship_drained
agent_stop
check "every process of the storm recorded" 20 \
	"$(q --arg m "$marker" '[.[] | select(.exec.process.args[1]? == $m)] | length')"
check "the container's records" 1 \
	"$(q --arg id "fl-privs-$$" '[.[] | select(.workload.containerId == $id and .workload.state == "ENDED")] | length')"
"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub"
"$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data" >"$T/verify.out" 2>&1
check "signed to the end: verify" 0 $? || cat "$T/verify.out" >&2
check "no error in the agent's log" 0 "$(grep -c 'error' "$T/agent.err")"
finish
