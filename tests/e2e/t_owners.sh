#!/usr/bin/env bash
# quick
# Owners (run --owners, docs/owners.md) on real runc containers with CRI annotations: a
# rule by namespace and image glob, a rule by cgroup path glob, a container no rule owns
# (flagged unowned, an UNOWNED_WORKLOAD gap with --fail-unowned), one that matches the
# namespace but not the image (every given key must match); the file's SHA-256 in the
# chain at the start and at a SIGHUP reload, whose new rule owns the next container; a
# bad reload that changes nothing; tree, gaps and workloads showing owners; bad files
# refused by `owners check` and by `run` with one line naming the line.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

containers_setup || { echo "cannot prepare cgroups" >&2; exit 1; }
ci="fl-own-$$-ci"
on_cleanup "rmdir /sys/fs/cgroup/unified/$ci /sys/fs/cgroup/$ci /sys/fs/cgroup/*/$ci"

cat >"$T/owners.json" <<EOF
{"rules": [
  {"match": {"namespace": "payments", "image": "registry.local/pay-*"},
   "owner": "team-payments", "approvalRef": "CHG-1234", "boundary": "reads the ledger only"},
  {"match": {"cgroupPath": "/$ci/*"}, "owner": "ci-platform"}
]}
EOF
sha1=$(sha256sum "$T/owners.json" | cut -d' ' -f1)

# ---- owners check -------------------------------------------------------------------------
out=$("$FIRSTLIGHT" owners check "$T/owners.json" 2>&1)
check "owners check: exit status" 0 $?
check "owners check: rules and hash" "$T/owners.json: 2 rules, sha256 $sha1" "$out"

# bad FILE EXPECTED_ERROR TEXT: owners check and run each refuse it with that one line.
bad() {
	printf '%s' "$3" >"$T/bad.json"
	"$FIRSTLIGHT" owners check "$T/bad.json" >"$T/bad.out" 2>"$T/bad.err"
	check "owners check $1: exit status" 1 $?
	check "owners check $1: one line naming the line" "firstlight: error: owners: $T/bad.json:$2" \
		"$(cat "$T/bad.err")"
	"$FIRSTLIGHT" run --data-dir "$T/baddata" --key "$T/bad.key" --metrics-addr off \
		--owners "$T/bad.json" >/dev/null 2>"$T/bad.err"
	check "run --owners $1: exit status" 1 $?
	check "run --owners $1: one line" 1 "$(grep -c . "$T/bad.err")"
	check_cmd "run --owners $1: names the line" grep -qF -- "--owners $T/bad.json:$2" "$T/bad.err"
	check_cmd "run --owners $1: nothing written" test ! -e "$T/baddata"
}
bad "wrong type" '3: rules[0].match.uid: is a string, expected a number (a uid, such as 1000)' \
	'{"rules": [
  {"match": {"runtime": "runc",
             "uid": "0"}, "owner": "a"}]}'
bad "bad glob" "4: rules[1].match.image: bad glob 'registry.local/pay-[': '[' without a closing ']' (write \\[ for a literal '[')" \
	'{"rules": [
  {"match": {"runtime": "runc"}, "owner": "a"},
  {"match": {"namespace": "payments",
             "image": "registry.local/pay-["}, "owner": "b"}]}'
bad "unknown key" '2: rules[0].approval: unknown key: a rule has match, owner, approvalRef, boundary' \
	'{"rules": [
  {"match": {"runtime": "runc"}, "approval": "CHG-1", "owner": "a"}]}'
bad "not JSON" "2: not valid JSON: '}' expected near '\"owner\"'" \
	'{"rules": [
  {"match": {"runtime": "runc"} "owner": "a"}]}'
"$FIRSTLIGHT" run --fail-unowned --data-dir "$T/baddata" >/dev/null 2>"$T/bad.err"
check "--fail-unowned without --owners: usage error" 2 $?

# ---- containers ------------------------------------------------------------------------------
# ann NAMESPACE IMAGE NAME: CRI annotations of a Kubernetes container.
ann() {
	jq -n --arg ns "$1" --arg img "$2" --arg name "$3" '{
		"io.kubernetes.cri.container-type": "container",
		"io.kubernetes.cri.sandbox-name": "\($name)-0",
		"io.kubernetes.cri.sandbox-namespace": $ns,
		"io.kubernetes.cri.sandbox-uid": "5b0c1e2d-3f4a-4b6c-8d9e-0f1a2b3c4d5e",
		"io.kubernetes.cri.container-name": $name,
		"io.kubernetes.cri.image-name": $img}'
}
# run_one ID NAMESPACE IMAGE [CGROUPS_PATH]: a container that exits 0, recorded.
run_one() {
	bundle_make "$T/b-$1" '["sh","-c","exit 0"]' "$(ann "$2" "$3" "$1")" || return 1
	if [ -n "${4:-}" ]; then
		jq --arg p "$4" '.linux.cgroupsPath = $p' "$T/b-$1/config.json" >"$T/b-$1/c.new" &&
			mv "$T/b-$1/c.new" "$T/b-$1/config.json"
	fi
	container_run runc "$1" "$T/b-$1"
	check "container $1: exit status" 0 $?
	wait_for 20 container_recorded "$1" || fail "container $1 was not recorded"
}
pay="fl-own-$$-pay"; job="fl-own-$$-job"; shop="fl-own-$$-shop"; shop2="fl-own-$$-shop2"; shop3="fl-own-$$-shop3"

agent_start --owners "$T/owners.json" --fail-unowned --heartbeat-interval 3600
run_one "$pay" payments registry.local/pay-api:3
# Namespace payments, but another image: the first rule does not hold; its cgroup path
# is the second rule's.
run_one "$job" payments docker.io/library/busybox "/$ci/$job"
run_one "$shop" shop registry.local/shop:1

# Reload: a rule for shop. The next shop container is owned; the chain says from when.
cat >"$T/owners.json" <<EOF
{"rules": [
  {"match": {"namespace": "payments", "image": "registry.local/pay-*"},
   "owner": "team-payments", "approvalRef": "CHG-1234", "boundary": "reads the ledger only"},
  {"match": {"cgroupPath": "/$ci/*"}, "owner": "ci-platform"},
  {"match": {"namespace": "shop", "containerName": "$shop2"}, "owner": "team-shop", "approvalRef": "CHG-77"}
]}
EOF
sha2=$(sha256sum "$T/owners.json" | cut -d' ' -f1)
kill -HUP "$AGENT_PID"
wait_for 20 grep -qF "owners: reloaded $T/owners.json: 3 rules, sha256 $sha2" "$T/agent.err" ||
	fail "the reload was not announced"
run_one "$shop2" shop registry.local/shop:1
# A broken file: refused with its line, the rules in force stay.
printf '{"rules": [\n {"match": {"namespace": 1}, "owner": "x"}]}' >"$T/owners.json"
kill -HUP "$AGENT_PID"
wait_for 20 grep -qF "owners: $T/owners.json:2: rules[0].match.namespace: is a number, expected a string; still applying the rules loaded before (sha256 $sha2)" "$T/agent.err" ||
	fail "the bad reload was not refused with its line"
run_one "$shop3" shop registry.local/shop:1
agent_stop

# The latest Workload record of a container: "owner approvalRef boundary unowned sha".
wl() {
	q -r --arg id "$1" '[.[] | select(.workload.containerId == $id)][-1].workload
		| "\(.owner) \(.approvalRef) \(.boundary) \(.unowned) \(.ownersSha256)"'
}
check "namespace and image glob: owned" "team-payments CHG-1234 reads the ledger only null $sha1" "$(wl "$pay")"
check "cgroup path glob (the image did not match rule 1): owned" "ci-platform null null null $sha1" "$(wl "$job")"
check "no rule: unowned" "null null null true $sha1" "$(wl "$shop")"
check "after the reload, the new rule owns" "team-shop CHG-77 null null $sha2" "$(wl "$shop2")"
check "after the bad reload, the rules of the good one still apply" "null null null true $sha2" "$(wl "$shop3")"
# Every record of a workload is judged with what is known then: STARTED, while the
# identity is read, is not yet unowned; ENDED says the same as RESOLVED.
pay_key=$(q -r --arg id "$pay" '[.[] | select(.workload.containerId == $id)][-1].workload.key')
check "the pay container's records: states and owners" "STARTED:null:null RESOLVED:team-payments:null ENDED:team-payments:null" \
	"$(q -r --arg k "$pay_key" '[.[] | select(.workload.key == $k and .snapshot != true) | .workload
		| "\(.state):\(.owner):\(.unowned)"] | join(" ")')"

# The chain: STARTED with the file, a heartbeat with the new hash at the reload, STOPPED.
check "STARTED names the file, its hash and rules" "$T/owners.json $sha1 2" \
	"$(q -r '[.[] | select(.agent.state == "STARTED")][0].agent | "\(.ownersFile) \(.ownersSha256) \(.ownersRules)"')"
check "STOPPED names the rules in force" "$sha2 3" \
	"$(q -r '[.[] | select(.agent.state == "STOPPED")][0].agent | "\(.ownersSha256) \(.ownersRules)"')"
check "heartbeats: the first hash, then the reload's" "$sha1 $sha2" \
	"$(q -r '[.[] | select(.heartbeat) | .heartbeat.ownersSha256]
		| reduce .[] as $h ([]; if (.[-1] // "") == $h then . else . + [$h] end) | join(" ")')"
reload_seq=$(q -r --arg h "$sha2" '[.[] | select(.heartbeat.ownersSha256 == $h)][0].seq')
shop2_seq=$(q -r --arg id "$shop2" '[.[] | select(.workload.containerId == $id)][0].seq')
check_cmd "the reload is in the chain before the container it owns" test "$reload_seq" -lt "$shop2_seq"

# Gaps: exactly the unowned containers, with --fail-unowned.
shop_key=$(q -r --arg id "$shop" '[.[] | select(.workload.containerId == $id)][-1].workload.key')
shop3_key=$(q -r --arg id "$shop3" '[.[] | select(.workload.containerId == $id)][-1].workload.key')
check "UNOWNED_WORKLOAD gaps of our containers" "$shop_key $shop3_key" \
	"$(q -r --arg a "$shop_key" --arg b "$shop3_key" '[.[] | select(.gap.kind == "UNOWNED_WORKLOAD") | .gap.workloadKey
		| select(. == $a or . == $b)] | join(" ")')"
check "no UNOWNED_WORKLOAD gap for the owned ones" 0 \
	"$(q --argjson ids "$(printf '%s\n' "$pay" "$job" "$shop2" | jq -R . | jq -s .)" '[.[] | select(.workload.containerId as $c | $ids | index($c)) | .workload.key] as $ks
		| [.[] | select(.gap.kind == "UNOWNED_WORKLOAD" and (.gap.workloadKey as $k | $ks | index($k)))] | length')"
"$FIRSTLIGHT" gaps "$T/data" >"$T/gaps.txt" 2>&1
check_cmd "gaps shows the unowned workload" grep -qE "^recorded +UNOWNED_WORKLOAD +[^ ]+ +$shop_key \(unowned\) " "$T/gaps.txt"
"$FIRSTLIGHT" gaps --json "$T/data" >"$T/gaps.jsonl" 2>&1
check "gaps --json: an owner field on every line" 21 "$(jq -r 'keys | length' "$T/gaps.jsonl" | sort -u)"

# tree and workloads show the owner.
"$FIRSTLIGHT" tree --container "$pay" "$T/data" >"$T/tree.txt" 2>&1
check "tree: the owner line" "owner      team-payments, approval CHG-1234, boundary: reads the ledger only (owners file sha256 ${sha1:0:12})" \
	"$(grep '^owner ' "$T/tree.txt")"
"$FIRSTLIGHT" tree --container "$shop" "$T/data" >"$T/tree2.txt" 2>&1
check "tree: no owner" "owner      NONE: no rule of the owners file matched (owners file sha256 ${sha1:0:12})" \
	"$(grep '^owner ' "$T/tree2.txt")"
check "tree --json: the owner" "team-payments CHG-1234 false $sha1" \
	"$("$FIRSTLIGHT" tree --json --container "$pay" "$T/data" | jq -r '.workloads[] | select(.containerId != null) | "\(.owner) \(.approvalRef) \(.unowned) \(.ownersSha256)"')"
"$FIRSTLIGHT" workloads --json "$T/data" >"$T/wl.jsonl" 2>&1
# By key: runc also names the parent cgroup it makes for a nested cgroupsPath after the
# container (identity's doing, not the owners'), and that parent matches no rule.
job_key=$(q -r --arg id "$job" '[.[] | select(.workload.containerId == $id)][-1].workload.key')
shop2_key=$(q -r --arg id "$shop2" '[.[] | select(.workload.containerId == $id)][-1].workload.key')
check "workloads --json: owners" "team-payments ci-platform null team-shop" \
	"$(for k in "$pay_key" "$job_key" "$shop_key" "$shop2_key"; do
		jq -r --arg k "$k" 'select(.key == $k) | .owner' "$T/wl.jsonl"; done | paste -sd' ')"
"$FIRSTLIGHT" workloads --kind container "$T/data" >"$T/wl.txt" 2>&1
check "workloads: the OWNER column" "team-payments" \
	"$(awk -v k="$pay_key" '$1 == k { print $7 }' "$T/wl.txt")"
finish
