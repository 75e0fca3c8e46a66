#!/usr/bin/env bash
# quick
# The binary is named by the file the kernel executed, not only by its path: inode,
# device and mount id, and flags for a memfd and for a file with no link left.
# - memfd_create + fexecve (fl-fexec memfd): binaryMemfd, the memfd's inode and device;
# - a file opened, unlinked, then fexecve'd (fl-fexec unlinked): binaryUnlinked;
# - a copy of sleep executed from this test's directory and deleted right after: inode,
#   device and mount id as stat(2) and fdinfo gave them before the deletion, no flag;
# - /bin/true: its inode and device, no flag.
# At the exit: deletedWhileRunning for the copy deleted while it ran, and for nothing else
# (not the memfd nor the file unlinked before its exec, not a second copy left in place).
. "$(dirname "$0")/../lib/e2e.sh"

agent_start --metrics-addr off
"$HELPERS/fl-fexec" memfd fl-memfd-$$ /bin/true fl-memfd-marker >"$T/memfd.out" &
m=$!
wait $m
check "memfd exec exit status" 0 $?
"$HELPERS/fl-fexec" unlinked "$T/fl-unlinked" /bin/true fl-unlinked-marker >"$T/unlinked.out" &
u=$!
wait $u
check "unlinked exec exit status" 0 $?
cp /bin/sleep "$T/fl-del-sleep"
exec 9<"$T/fl-del-sleep"
mnt=$(awk '$1 == "mnt_id:" {print $2}' "/proc/$$/fdinfo/9")
exec 9<&-
ino=$(stat -c %i "$T/fl-del-sleep") dev=$(stat -c %d "$T/fl-del-sleep")
cp /bin/sleep "$T/fl-kept-sleep"
"$T/fl-kept-sleep" 1000 &
k=$!
"$T/fl-del-sleep" 1000 &
d=$!
# Deleted once it runs the copy (its exe link names the file).
wait_for 10 bash -c "readlink /proc/$d/exe | grep -q fl-del-sleep"
rm "$T/fl-del-sleep"
kill $d
wait $d
wait_for 10 bash -c "readlink /proc/$k/exe | grep -q fl-kept-sleep"
kill $k
wait $k
/bin/true "fl-binary-$$"
agent_stop
exits=$(jq -c 'select(.exit)' "$T/records.jsonl")
jq -c 'select(.exec)' "$T/records.jsonl" >"$T/execs.jsonl" && mv "$T/execs.jsonl" "$T/records.jsonl"
xt() { jq -rs --argjson p "$1" '[.[] | select(.exit.pid == $p)] | last | .exit | "\(.signal) \(.deletedWhileRunning // false)"' <<<"$exits"; }
check "deleted while running: flagged at its exit" "15 true" "$(xt $d)"
check "a copy left in place: not flagged" "15 false" "$(xt $k)"
check "memfd: not deleted while running (never had a name)" "0 false" "$(xt $m)"
check "unlinked before its exec: not deleted while running" "0 false" "$(xt $u)"

ex() { q -r --argjson p "$1" "[.[] | select(.exec.process.pid == \$p and (.exec.snapshot | not))] | last | .exec.process | $2"; }
check "memfd: flagged" "true false" "$(ex $m '"\(.flags.binaryMemfd // false) \(.flags.binaryUnlinked // false)"')"
check "memfd: inode and device as fstat gave them" "$(cat "$T/memfd.out")" "$(ex $m '"ino=\(.binaryInode) dev=\(.binaryDevice)"')"
check "memfd: the path names the memfd" "true" "$(ex $m '.binary | test("memfd:fl-memfd-")')"
check "memfd: argv" "fl-memfd-marker" "$(ex $m '.args[0]')"
check "unlinked: flagged" "false true" "$(ex $u '"\(.flags.binaryMemfd // false) \(.flags.binaryUnlinked // false)"')"
check "unlinked: inode and device as fstat gave them" "$(cat "$T/unlinked.out")" "$(ex $u '"ino=\(.binaryInode) dev=\(.binaryDevice)"')"
check "deleted after: inode, device, mount id" "$ino $dev $mnt" "$(ex $d '"\(.binaryInode) \(.binaryDevice) \(.binaryMountId)"')"
check "deleted after: no flag at its exec" "false false" "$(ex $d '"\(.flags.binaryMemfd // false) \(.flags.binaryUnlinked // false)"')"
check "an ordinary binary: inode, device, no flag" "$(stat -L -c '%i %d' /bin/true) false false" \
	"$(q -r --arg m "fl-binary-$$" '[.[] | select(.exec.process.args[1] == $m)][0].exec.process | "\(.binaryInode) \(.binaryDevice) \(.flags.binaryMemfd // false) \(.flags.binaryUnlinked // false)"')"
finish
