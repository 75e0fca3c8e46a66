#!/usr/bin/env bash
# quick
# firstlight tree rebuilds a short-lived container job exactly from the records. A runc
# container (busybox rootfs, host network) runs a script that starts three children:
# one connects to a TCP server of the test, one is killed with SIGKILL by the script,
# one exits 7; the script exits 4. The tree (--json) must hold every process with its
# parent, argv and end, and the connection under the process that made it; the text
# tree must match a golden copy once times, pids and ids are normalised.
# The job's processes are found by their own markers (the script's "fl-job" argv, the
# children's argv, the server's port), never by their place in the tree: how runc's
# start-up meets the cgroup attach depends on the machine's speed (see runc_shape).
# Then the same job with forced drops: a 256 KiB ring, the agent SIGSTOPped and the ring
# overfilled (execs with 8 KiB of argv, twice the ring's size) before the children run.
# The tree shows the holes inline: one gap line per RING_BUFFER_DROP record of the
# container, with its count, under the script.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/container.sh"

containers_setup || { echo "container set-up failed" >&2; exit 1; }

# The job. It waits at a gate (a FIFO the test writes) so that the test decides what the
# sensor sees while the children run. Each child is its own exec of /bin/busybox (busybox
# sh would run applets in-process); the script kills the sleep only once it has exec'd
# (its comm turns from sh to busybox), so the killed process is the sleep, every time.
# Builtins only between the children (read, [, kill, arithmetic): no other process.
script='echo ready > /gate/ready
read go < /gate/go
busybox nc 127.0.0.1 "$1" > /dev/null &
busybox sleep 30 &
s=$!
n=0
until read c < /proc/$s/comm && [ "$c" = busybox ]; do n=$((n + 1)); [ $n -lt 1000000 ] || break; done
kill -9 $s
busybox sh -c "exit 7" &
wait
exit 4'

# job RUN PORT: runs the job as container fl-tree-RUN-$$ in the background, up to its
# gate (job_pid, job_id set); the records go to the agent already started.
job() {
	local run=$1 port=$2 b=$T/b-$1 g=$T/gate-$1
	mkdir -p "$g" && mkfifo "$g/go" || exit 1
	bundle_make "$b" "$(jq -n --arg s "$script" --arg p "$port" '["sh","-c",$s,"fl-job",$p]')" || exit 1
	jq --arg g "$g" '.mounts += [{"destination":"/gate","type":"bind","source":$g,"options":["rbind","rw"]}]' \
		"$b/config.json" >"$b/c.new" && mv "$b/c.new" "$b/config.json"
	job_id=fl-tree-$run-$$
	on_cleanup "runc delete -f $job_id"
	(cd "$b" && exec runc run "$job_id" </dev/null >"$T/job-$run.out" 2>"$T/job-$run.err") &
	job_pid=$!
	wait_for 20 test -s "$g/ready" || { cat "$T/job-$run.err" >&2; fail "job $run did not reach its gate"; finish; }
}

# open_gate RUN: lets the job's children run; returns the container's exit status.
open_gate() {
	if ! timeout 40 sh -c 'echo go > "$1"' sh "$T/gate-$1/go"; then
		fail "gate $1: the job did not read it"
		runc kill "$job_id" KILL
	fi
	wait "$job_pid"
}

# t JQ: a jq filter over the tree document of the current run.
t() { jq -r "$@" "$T/tree.json"; }

# find_script: sets S to the jq path of the job's script in the current tree (the one
# process with an image whose argv carries the "fl-job" marker), and ANC to what stands
# above it, one "kinds args exit children outside-parent" entry per process, "/" between.
find_script() {
	local paths
	paths=$(t -c '[paths(objects and (.images | type) == "array" and any(.images[]; .kind == "exec" and .args[3]? == "fl-job"))]')
	check "the script: one process of the tree" 1 "$(jq length <<<"$paths")" || finish
	S=$(jq -r '.[0] | map(if type == "number" then "[\(.)]" else ".\(.)" end) | join("")' <<<"$paths")
	ANC=$(t --argjson p "$(jq -c '.[0]' <<<"$paths")" '[range(1; $p | length) as $i | $p[0:$i] |
		select(.[-1] | type == "number")] | map(. as $a | $dot | getpath($a) |
		"\([.images[].kind] | join("+")) \([.images[].args | tojson] | unique | join(",")) \(.exitCode) \(.children | length) \(.outsideParentPid != null)") |
		join(" / ")' --argjson dot "$(cat "$T/tree.json")")
}

# runc's start-up, above the script. runc's parent starts `runc init` and only then
# writes its pid into the container's cgroup; the init then forks the process that
# becomes the container's first process. Where that cgroup move lands before the init's
# exec reaches its tracepoint (a slow or busy machine), the workload begins with the
# exec (then its fork, then the script); otherwise with the init's fork into the
# workload (then the script). Both are what the kernel did; nothing else is right.
RUNC_FORK='fork ["runc","init"] 0 1 true'
RUNC_EXEC='exec ["runc","init"] 0 1 false / fork ["runc","init"] 0 1 false'
check_runc_start() {
	CHECKS=$((CHECKS + 1))
	case "$ANC" in
	"$RUNC_FORK") RUNC_PROCS=1; echo "  $1: the init's fork" ;;
	"$RUNC_EXEC") RUNC_PROCS=2; echo "  $1: the init's exec, then its fork" ;;
	*) fail "$1: expected '$RUNC_FORK' or '$RUNC_EXEC', got '$ANC'"; RUNC_PROCS=0 ;;
	esac
}

# ---- 1. the job, every event recorded ------------------------------------------------
agent_start
serve srv "$HELPERS/fl-net" tcp-greeter 127.0.0.1 "$T/srv.ready" 1
job 1 "$srv_port"
open_gate 1
check "job exit status" 4 $?
runc delete -f "$job_id" >/dev/null 2>&1
wait "$srv_pid"
check "server exit status" 0 $?
agent_stop
mv "$T/data" "$T/data1"
id1=$job_id

"$FIRSTLIGHT" tree --container "$id1" --json "$T/data1" >"$T/tree.json" 2>"$T/tree.err"
check "tree --json exit status" 0 $? || cat "$T/tree.err" >&2
cg=$(q -r --arg id "$id1" '[.[] | select(.workload.containerId == $id)][-1].workload.cgroupId')
check "workload: the container" "$id1 cgroup:$cg runc true true" \
	"$(t '.workloads[] | "\(.containerId) \(.key) \(.runtime) \(.identityVerified) \(.ended)"')"
check "every process of the container, once" \
	"$(q --arg cg "$cg" '[.[] | (.exec // .fork) | select(.process.cgroupId == $cg) | .process.execId] | unique | length')" \
	"$(t '.summary.images')"
find_script
check_runc_start "runc's start-up above the script"
check "processes: runc's init, the script, three children" $((RUNC_PROCS + 4)) "$(t '.summary.processes')"
check "ends: all exited but the killed one, none missing" "$((RUNC_PROCS + 3)) 1 0 0" \
	"$(t '.summary | "\(.exited) \(.killed) \(.exitMissing) \(.running)"')"
check "no gaps" 0 "$(t '.summary.gaps')"
check "one root" 1 "$(t '.processes | length')"
check "script: fork, then exec of busybox sh with the script" \
	"fork exec /bin/busybox $(jq -nc --arg s "$script" --arg p "$srv_port" '["sh","-c",$s,"fl-job",$p]')" \
	"$(t "$S | \"\([.images[].kind] | join(\" \")) \(.images[1].binary) \(.images[1].args | tojson)\"")"
check "script: forked by the process above it, exit 4" "true 4" \
	"$(t "$S.parentExecId == ${S%.children\[*\]}.execId, $S.exitCode" | paste -sd' ')"
check "script: three children, each forked by its exec'd image" "3 3" \
	"$(t "($S.children | length), ($S.lastExecId as \$e | [$S.children[] | select(.forkedByExecId == \$e and .parentExecId == \$e)] | length)" | paste -sd' ')"
K="$S.children"
check "child 1: busybox nc to the server, exit 0" \
	"fork exec [\"busybox\",\"nc\",\"127.0.0.1\",\"$srv_port\"] exited 0" \
	"$(t "$K[0] | \"\([.images[].kind] | join(\" \")) \(.images[1].args | tojson) \(.state) \(.exitCode)\"")"
check "child 1: its connection, established, closed, 3 bytes received" "CONNECT 127.0.0.1 $srv_port 0 true true 3 2" \
	"$(t "$K[0].flows[] | \"\(.kind) \(.dst) \(.dstPort) \(.result) \(.established) \(.closed) \(.bytesReceived) \(.records)\"")"
check "child 2: busybox sleep 30, killed by SIGKILL" \
	'["busybox","sleep","30"] killed 9 SIGKILL null' \
	"$(t "$K[1] | \"\(.images[1].args | tojson) \(.state) \(.signal) \(.signalName) \(.exitCode)\"")"
check "child 3: busybox sh -c 'exit 7', exit 7" '["busybox","sh","-c","exit 7"] exited 7' \
	"$(t "$K[2] | \"\(.images[1].args | tojson) \(.state) \(.exitCode)\"")"
# Pids and exec ids as the records have them.
for k in 0 1 2; do
	arg=$(t "$K[$k].images[1].args | tojson")
	check "child $((k + 1)): pid and exec id as recorded" \
		"$(q -r --argjson a "$arg" --arg cg "$cg" '.[] | select(.exec.process.args == $a and .exec.process.cgroupId == $cg) | "\(.exec.process.pid) \(.exec.process.execId)"')" \
		"$(t "$K[$k] | \"\(.pid) \(.lastExecId)\"")"
done
check "script: pid as recorded" \
	"$(q -r --arg cg "$cg" '.[] | select(.exec.process.cgroupId == $cg and .exec.process.args[0] == "sh") | .exec.process.pid')" \
	"$(t "$S.pid")"

# The text tree: times, pids, ports and ids normalised, the rest exact.
"$FIRSTLIGHT" tree --container "$id1" "$T/data1" >"$T/tree.txt" 2>"$T/tree.err"
check "tree (text) exit status" 0 $? || cat "$T/tree.err" >&2
quoted=$(jq -n --arg s "$script" '$s | tojson' | jq -r .)
txt=$(cat "$T/tree.txt")
txt=${txt//"$quoted"/'"SCRIPT"'}
sport=$(t "$K[0].flows[0].srcPort")
normalised=$(printf '%s\n' "$txt" | sed -E \
	-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' -e 's/[+][0-9]+[.][0-9]{3}m?s/+T/g' \
	-e 's/(after|in) [0-9]+[.][0-9]{3}m?s/\1 D/g' -e 's/pid [0-9]+/pid P/g' \
	-e "s/$id1/CID/g" -e "s/\b$cg\b/CG/g" -e "s/\b$srv_port\b/PORT/g" -e "s/:$sport\b/:SPORT/g")
# runc's lines as each start-up shape draws them, then the script's subtree under them.
if [ "$RUNC_PROCS" = 2 ]; then
	runc_lines='+T pid P uid 0 exit 0 after D: exec at +T runc ["runc","init"]
└─ +T pid P uid 0 exit 0 after D: fork [real parent pid P]'
	indent='   '
else
	runc_lines='+T pid P uid 0 exit 0 after D: fork of runc ["runc","init"] [forked by pid P, outside the workload]'
	indent=''
fi
job_lines='└─ +T pid P uid 0 exit 4 after D: fork -> exec at +T /bin/busybox ["sh","-c","SCRIPT","fl-job","PORT"] [real parent pid P]
   ├─ +T pid P uid 0 exit 0 after D: fork -> exec at +T /bin/busybox ["busybox","nc","127.0.0.1","PORT"]
   │  └─ +T tcp connect 127.0.0.1:SPORT -> 127.0.0.1:PORT: established in D, closed at +T after D, sent 0 B, received 3 B
   ├─ +T pid P uid 0 killed by SIGKILL after D: fork -> exec at +T /bin/busybox ["busybox","sleep","30"]
   └─ +T pid P uid 0 exit 7 after D: fork -> exec at +T /bin/busybox ["busybox","sh","-c","exit 7"]'
golden="workload   cgroup:CG (container)
container  CID, runtime runc
identity   verified (oci-bundle)
pod        -
image      -
cgroup     CG /CID
seen       TIME to TIME, ended

job        start TIME (+0), end +T
           $((RUNC_PROCS + 4)) processes ($((RUNC_PROCS + 3)) exited, 1 killed, 0 without exit, 0 running), 1 flow, 0 gaps

$runc_lines
$(printf '%s\n' "$job_lines" | sed "s/^/$indent/")"
check "text tree (normalised)" "$golden" "$normalised" || diff <(echo "$golden") <(echo "$normalised") >&2

# The same job by pid at a time, and by exec id: the script and its three children.
start=$(t "$S.startUnixNano")
at=$((start + 1000000))
"$FIRSTLIGHT" tree --pid "$(t "$S.pid")" --at "${at:0:10}.${at:10}" --json "$T/data1" >"$T/pid.json"
check "--pid --at: exit status" 0 $?
check "--pid --at: the script and its children" "$(t "$S.execId") 4" \
	"$(jq -r '"\(.processes[0].execId) \(.summary.processes)"' "$T/pid.json")"
"$FIRSTLIGHT" tree --exec-id "$(t "$S.lastExecId")" --json "$T/data1" >"$T/exec.json"
check "--exec-id: from the script's exec on" "1 4 $(t "$S.lastExecId")" \
	"$(jq -r '"\(.processes[0].images | length) \(.summary.processes) \(.processes[0].execId)"' "$T/exec.json")"

# stdin (read twice: copied first) gives the same tree; a damaged input (bytes after the
# records that are no segment) still gives what was read, with exit status 1 and an
# error naming the file.
cat "$T"/data1/*.seg.gz | "$FIRSTLIGHT" tree --container "$id1" - >"$T/stdin.txt"
check "stdin: exit status" 0 $?
check "stdin: the same tree" "$(cat "$T/tree.txt")" "$(cat "$T/stdin.txt")"
seg=$(ls "$T"/data1/*.seg.gz | tail -1)
{ cat "$seg"; printf 'not a segment'; } >"$T/bad.seg.gz"
"$FIRSTLIGHT" tree --container "$id1" "$T/bad.seg.gz" >"$T/bad.txt" 2>"$T/bad.err"
check "damaged input: exit status" 1 $?
check "damaged input: one error naming it" 1 "$(grep -c "bad.seg.gz" "$T/bad.err")"
check "damaged input: the job is still rebuilt" "$(cat "$T/tree.txt")" "$(cat "$T/bad.txt")"

# ---- 2. the same job with forced drops -----------------------------------------------
rm -f "$T/records.jsonl"
# Shares off (--ring-share, --ring-headroom): the storm cgroup below must fill the whole
# ring so that the job's own events are lost as RING_BUFFER_DROP; with shares it could
# not (t_fair tests that).
agent_start --ring-size 262144 --ring-share off --ring-headroom 0
serve srv2 "$HELPERS/fl-net" tcp-greeter 127.0.0.1 "$T/srv2.ready" 1
job 2 "$srv2_port"
# The container's identity is recorded before the consumer stops: its runtime state is
# gone once the test deletes it, and a busy machine may still be behind on its birth.
wait_for 30 container_recorded "$job_id" || fail "container $job_id was not recorded before the drops"
# The script's exec is in the ring (the job reached its gate, and the ring had room).
# Stop the consumer and overfill the ring from a cgroup of the test: execs carrying
# 8 KiB of argv each, twice the ring's size in exec events alone, so the ring is full
# whatever the machine's speed or load; the children's events are then lost.
kill -STOP "$AGENT_PID"
root=/sys/fs/cgroup/unified
[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
storm_cg="$root/fl-tree-storm-$$"
mkdir "$storm_cg" || exit 1
on_cleanup "rmdir '$storm_cg'"
filler=$(printf '%8000s' '' | tr ' ' x)
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" -n 64 -p 2 -- /bin/true fl-tree-storm "$3"' \
	sh "$storm_cg" "$HELPERS/fl-storm" "$filler"
check "storm exit status" 0 $?
open_gate 2
check "job exit status (drops)" 4 $?
kill -CONT "$AGENT_PID"
runc delete -f "$job_id" >/dev/null 2>&1
wait "$srv2_pid"
agent_stop
id2=$job_id

"$FIRSTLIGHT" tree --container "$id2" --json "$T/data" >"$T/tree.json" 2>"$T/tree.err"
check "tree --json exit status (drops)" 0 $? || cat "$T/tree.err" >&2
"$FIRSTLIGHT" tree --container "$id2" "$T/data" >"$T/tree.txt" 2>>"$T/tree.err"
check "tree (text) exit status (drops)" 0 $?
cg2=$(q -r --arg id "$id2" '[.[] | select(.workload.containerId == $id)][-1].workload.cgroupId')
drops=$(q -r --arg cg "$cg2" '[.[] | select(.gap.kind == "RING_BUFFER_DROP" and .gap.cgroupId == $cg) | "\(.gap.eventType) \(.gap.count)"] | sort | .[]')
check_cmd "events of the container were dropped" test -n "$drops"
check "the tree shows each drop record of the workload, with its count" "$drops" \
	"$(t --arg k "cgroup:$cg2" '[.gaps[] | select(.kind == "RING_BUFFER_DROP" and .workload == $k) | "\(.eventType) \(.count)"] | sort | .[]')"
check "dropped events counted" \
	"$(q --arg cg "$cg2" '[.[] | select(.gap.kind == "RING_BUFFER_DROP" and .gap.cgroupId == $cg) | .gap.count | tonumber] | add')" \
	"$(t --arg k "cgroup:$cg2" '[.gaps[] | select(.kind == "RING_BUFFER_DROP" and .workload == $k) | .count | tonumber] | add')"
check "the summary counts them" \
	"$(t --arg k "cgroup:$cg2" '[.gaps[] | select(.kind == "RING_BUFFER_DROP") | .count | tonumber] | add')" \
	"$(t '.summary.droppedEvents')"
find_script
check_runc_start "runc's start-up above the script (drops)"
script2=$(t "$S.execId")
# (Counted for the workload only: on a busy machine a drop of an event that had no
# cgroup is the machine's, shown in every tree, and may land there as well.)
check "the gaps are inline, under the script that was running" \
	"$(echo "$drops" | wc -l) $script2" \
	"$(t --arg s "$script2" --arg k "cgroup:$cg2" '[.gaps[] | select(.kind == "RING_BUFFER_DROP" and .workload == $k and .placedUnder == $s)] | length' ) $script2"
# runc removed the container's cgroup as the job ended, the ring still full: that removal
# is a drop too, and says that the job is over.
check "the cgroup's removal was dropped: the workload ended" "true false" \
	"$(t '.workloads[0] | "\(.ended) \(.endRecorded)"')"
check "the script's exit was lost, and the tree says so" exitMissing "$(t "$S.state")"
# In the text: one "!" line per drop record, drawn in the tree one level under the
# script (the script is its parent's last child: its "└─ " becomes three spaces).
script_prefix=$(grep -m1 '"fl-job"' "$T/tree.txt" | sed -E 's/[+][0-9].*//')
under="${script_prefix%└─ }   "
while read -r type count; do
	[ -n "$type" ] || continue
	check "text: gap line for $count $type events" 1 \
		"$(grep -cE "^$under[├└]─ ! [+][0-9.]+m?s $count $type events? dropped in this workload (between|at) [0-9:.]+" "$T/tree.txt")"
done <<<"$drops"
check_cmd "text: the script ended without a recorded exit" \
	grep -q "no exit recorded (the workload ended): fork -> exec at" "$T/tree.txt"

# Both stores at once: the prefix fl-tree- names two containers.
"$FIRSTLIGHT" tree --container fl-tree- "$T/data1" "$T/data" >/dev/null 2>"$T/amb.err"
check "ambiguous prefix: exit status" 2 $?
check "ambiguous prefix: both candidates listed" 2 "$(grep -cE "^  cgroup:[0-9]+  fl-tree-[12]-$$ " "$T/amb.err")"
"$FIRSTLIGHT" tree --container nothing-like-it "$T/data1" 2>"$T/none.err"
check "nothing matched: exit status" 2 $?
check "nothing matched: one line naming it" 1 "$(grep -c "no container id is or starts with 'nothing-like-it'" "$T/none.err")"
finish
