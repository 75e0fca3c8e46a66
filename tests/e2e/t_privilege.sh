#!/usr/bin/env bash
# quick
# Privilege records (bpf/privilege.bpf.c) with exact old and new values: setgroups,
# capset, setresuid and a refused setuid (EPERM) by one process; a set-user-ID root copy
# of the helper run by an unprivileged user: its exec is flagged as gaining privilege and
# its setuid(0) gains root; a plain exec by root is not flagged; read --text shows them.
. "$(dirname "$0")/../lib/e2e.sh"

# The calls run in a cgroup of their own, so that its workload's count is theirs alone.
root=/sys/fs/cgroup/unified
[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
cg="$root/fl-priv-$$"
mkdir "$cg" || { echo "cannot make $cg" >&2; exit 1; }
on_cleanup "rmdir $cg"
cg_key="cgroup:$(stat -c %i "$cg")"

agent_start --metrics-addr 127.0.0.1:0 --heartbeat-interval 1
port=$(sed -n 's/.*metrics on http:\/\/127.0.0.1:[0-9]*\/metrics (port \([0-9]*\)).*/\1/p' "$T/agent.err")
check "the node has privilege-changes" true \
	"$("$FIRSTLIGHT" read "$T/data" | jq -s '[.[] | .nodeCapabilities.available // empty | index("privilege-changes") != null] | first')"
mark="fl-priv-$$"
sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" calls "$3"' sh "$cg" "$HELPERS/fl-priv" "$mark" >"$T/calls.out"
check "calls: exit status" 0 $?
# Metrics: the workload's four changes (the agent publishes every flush).
metric() {
	curl -s "http://127.0.0.1:$port/metrics" |
		sed -n "s/^firstlight_workload_privilege_changes_total{workload=\"$cg_key\",owner=\"\"} //p"
}
four() { [ "$(metric)" = 4 ]; } # polled: the metric is read again at each try
wait_for 60 four || fail "metrics: $cg_key has $(metric) privilege changes, not 4"
hb_counted() {
	"$FIRSTLIGHT" read "$T/data" 2>/dev/null | jq -se '[.[] | .heartbeat.privilegeRecords // empty | tonumber] | max >= 4' >/dev/null
}
wait_for 60 hb_counted || fail "no heartbeat counted the privilege records"
pid=$(sed -n 's/^pid //p' "$T/calls.out")
# The set-user-ID copy: owned by root, mode 4755, in a directory the other user reaches.
mkdir -p "$T/suid" && cp "$HELPERS/fl-priv" "$T/suid/fl-priv-suid" &&
	chown root:root "$T/suid/fl-priv-suid" && chmod 4755 "$T/suid/fl-priv-suid" && chmod 755 "$T" "$T/suid"
check "set-user-ID copy run by uid 65534" "euid 0 uid 0" \
	"$("$HELPERS/fl-priv" as 65534 "$T/suid/fl-priv-suid" id "$mark" | paste -sd' ')"
agent_stop

# What the process started with: this shell's groups and effective capabilities.
groups_n=$(awk '/^Groups:/ { print NF - 1 }' /proc/self/status)
cap=$((16#$(awk '/^CapEff:/ { print $2 }' /proc/self/status)))
nocap=$((cap & ~(1 << 13)))
exec_id=$(q -r --arg m "$mark" '.[] | select(.exec.process.args == ["'"$HELPERS"'/fl-priv", "calls", $m]) | .exec.process.execId')
check_cmd "the helper's exec was recorded" test -n "$exec_id"
# priv SYSCALL JQ: the value of JQ (over the record's .privilege) for the helper's call.
priv() {
	q -c --arg id "$exec_id" --arg s "$1" "[.[] | .privilege // empty | select(.execId == \$id and .syscall == \$s) | $2] | if length == 1 then .[0] else \"\\(length) records\" end"
}
check "the helper's calls, in order" '["setgroups","capset","setresuid","setuid"]' \
	"$(q -c --arg id "$exec_id" '[.[] | .privilege // empty | select(.execId == $id) | .syscall]')"
check "setgroups: size, result, groups before and after" "[\"2\",\"0\",$groups_n,2,[4242,4243],true]" \
	"$(priv setgroups '[.args[0], .result, .oldCreds.groupsCount, .newCreds.groupsCount, .newCreds.groups, .changed]')"
check "capset: CAP_NET_RAW out of effective and permitted" "[\"$cap\",\"$nocap\",\"$cap\",\"$nocap\",\"0\"]" \
	"$(priv capset '[.oldCreds.capEffective, .newCreds.capEffective, .oldCreds.capPermitted, .newCreds.capPermitted, .result]')"
check "setresuid: args, ids before and after, effective capabilities cleared" \
	"[[\"4242\",\"4243\",\"0\"],\"0\",[0,0,0,0],[4242,4243,0,4243],\"0\",true,null]" \
	"$(priv setresuid '[.args, .result, [.oldCreds.uid, .oldCreds.euid, .oldCreds.suid, .oldCreds.fsuid],
		[.newCreds.uid, .newCreds.euid, .newCreds.suid, .newCreds.fsuid], .newCreds.capEffective, .changed, .gained]')"
check "setuid(777) refused: EPERM, nothing changed" '[["777"],"-1","EPERM",null,4242,4243,4242,4243]' \
	"$(priv setuid '[.args, .result, .error, .changed, .oldCreds.uid, .oldCreds.euid, .newCreds.uid, .newCreds.euid]')"
check "the records name the process and its workload" "[$pid,$pid,\"$cg_key\"]" \
	"$(priv setuid '[.pid, .tid, .workloadKey]')"
check "heartbeats print the count, 0 included" true \
	"$(q '[.[] | select(.heartbeat) | .heartbeat | has("privilegeRecords")] | all')"
check "a plain exec by root is not flagged" "null" \
	"$(q -c --arg id "$exec_id" '.[] | select(.exec.process.execId == $id) | .exec.process.flags.privilegeGained')"

# The set-user-ID exec: uid 65534, euid 0, flagged; then its setuid(0), a gain.
suid_exec=$(q -c --arg m "$mark" '[.[] | select(.exec.process.args == ["'"$T"'/suid/fl-priv-suid", "id", $m]) | .exec.process][0]')
check "set-user-ID exec: uid, euid and flags" '[65534,0,true,true,true]' \
	"$(jq -c '[.uid, .euid, .flags.privilegeGained, .flags.setidExec, .flags.capabilitiesGained]' <<<"$suid_exec")"
check "its setuid(0): uid 65534 -> 0, gained" '[["0"],"0",65534,0,0,true,true]' \
	"$(q -c --arg id "$(jq -r .execId <<<"$suid_exec")" '[.[] | .privilege // empty | select(.execId == $id and .syscall == "setuid")
		| [.args, .result, .oldCreds.uid, .newCreds.uid, .newCreds.euid, .changed, .gained]] | first')"

"$FIRSTLIGHT" read --text "$T/data" >"$T/text" 2>&1
check_cmd "read --text: the refused setuid" grep -qE " privilege setuid pid=$pid exec_id=$exec_id workload=cgroup:[0-9]+ result=-1 error=EPERM uid=4242/4243/0->4242/4243/0 .* unchanged$" "$T/text"
finish
