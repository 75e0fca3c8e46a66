#!/usr/bin/env bash
# argv limits: 200 small args plus one 10 KiB arg exceed the defaults (64 args, 8 KiB);
# the record keeps what fits and says it was cut, with the original count and size:
# the head (the first 6 KiB: every small arg and the big one's start) and the tail (the
# last 2 KiB: the big one's end), the count limit leaving the tail a quarter of its
# entries. With raised limits the same process is recorded whole.
. "$(dirname "$0")/../lib/e2e.sh"

big=$(head -c 10240 /dev/zero | tr '\0' a)
argsize=$((10 + 9 * 2 + 90 * 3 + 101 * 4 + 10241)) # "/bin/true", 1..200, big, each + NUL

run_workload() {
	/bin/true $(seq 1 200) "$big" &
	pid=$!
	wait $pid
}

agent_start
run_workload
agent_stop
sel='.[] | select(.exec.process.pid == $p) | .exec.process'
check "default: head args kept" 63 "$(q --argjson p "$pid" "$sel | .args | length")"
check "default: first args" '["/bin/true","1","2"]' "$(q -c --argjson p "$pid" "$sel | .args[0:3]")"
check "default: last kept arg of the head" 62 "$(q --argjson p "$pid" "$sel | .args[62]")"
check "default: the tail, the big arg's last 2047 bytes" "1 2047 true" \
	"$(q -r --argjson p "$pid" "$sel | .argsTail | \"\(length) \(.[0] | length) \(.[0] | test(\"^a+$\"))\"")"
check "default: bytes cut between" $((argsize - 8192)) "$(q --argjson p "$pid" "$sel | .argsCutBytes | tonumber")"
check "default: truncation flagged" true "$(q --argjson p "$pid" "$sel | .argsTruncated")"
check "default: original argc" 202 "$(q --argjson p "$pid" "$sel | .argsCount")"
check "default: original argv bytes" "$argsize" "$(q --argjson p "$pid" "$sel | .argsSize")"

agent_start --args-max-count 300 --args-max-bytes 16384
run_workload
agent_stop
check "raised: all args kept" 202 "$(q --argjson p "$pid" "$sel | .args | length")"
check "raised: the 10 KiB arg is whole" 10240 "$(q --argjson p "$pid" "$sel | .args[201] | length")"
check "raised: not truncated" false "$(q --argjson p "$pid" "$sel | .argsTruncated // false")"

# Bytes limit alone: the 10 KiB argument is cut inside, the cut is flagged.
agent_start --args-max-count 300
run_workload
agent_stop
check "bytes: truncation flagged" true "$(q --argjson p "$pid" "$sel | .argsTruncated")"
check "bytes: the head is 6144 bytes, the tail 2048" "6144 2048" \
	"$(q -r --argjson p "$pid" "$sel | \"\([.args[] | length + 1] | add - 1) \([.argsTail[] | length + 1] | add)\"")"
check "bytes: every small arg in the head" 202 "$(q --argjson p "$pid" "$sel | .args | length")"
check "bytes: original argc still known" 202 "$(q --argjson p "$pid" "$sel | .argsCount")"

# Bytes that are not UTF-8, in argv and in the cwd, survive escaped and flagged; when
# one argument needs escaping all are escaped, so a literal backslash is doubled.
dir="$T/"$'\xff'"-dir"
mkdir "$dir"
agent_start
(cd "$dir" && exec /bin/true $'\xfe' 'back\slash' "ok") &
pid=$!
wait $pid
agent_stop
check "escaped: args" '/bin/true|\xfe|back\\slash|ok' "$(q -r --argjson p "$pid" "$sel | .args | join(\"|\")")"
check "escaped: args flagged" true "$(q --argjson p "$pid" "$sel | .flags.argsEscaped")"
check "escaped: cwd" "$T/\xff-dir" "$(q -r --argjson p "$pid" "$sel | .cwd")"
check "escaped: cwd flagged" true "$(q --argjson p "$pid" "$sel | .flags.cwdEscaped")"
check "escaped: binary not flagged" false "$(q --argjson p "$pid" "$sel | .flags.binaryEscaped // false")"

# A cwd below a mount point: the kernel's path walk crosses from the mount's root to
# the mount point in the parent mount.
mkdir -p "$T/mnt"
mount -t tmpfs fl-e2e "$T/mnt" || exit 1
on_cleanup "umount '$T/mnt'"
mkdir -p "$T/mnt/a/b"
agent_start
(cd "$T/mnt/a/b" && exec /bin/true fl-mounted) &
pid=$!
wait $pid
agent_stop
check "mounted: cwd across the mount" "$T/mnt/a/b" "$(q -r --argjson p "$pid" "$sel | .cwd")"
check "mounted: resolved" false "$(q --argjson p "$pid" "$sel | .flags.cwdUnresolved // false")"
finish
