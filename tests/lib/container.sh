# Real OCI containers for the end-to-end tests: a busybox rootfs (scripts/rootfs.sh), a
# bundle made with `runc spec` and edited with jq, run by runc or crun.
# Source after e2e.sh. Everything created is removed by e2e.sh's cleanup.

FL_ROOTFS_SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/rootfs.sh"

# crun 1.8 refuses hybrid cgroups while cgroup2 owns a controller (here only hugetlb):
# mount hugetlb as a v1 hierarchy for the test, and unmount it afterwards if we did.
containers_setup() {
	local ctl
	ctl=$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || true)
	if [ -n "$ctl" ] && [ -d /sys/fs/cgroup/unified ]; then
		for c in $ctl; do
			mkdir -p "/sys/fs/cgroup/$c"
			if ! mountpoint -q "/sys/fs/cgroup/$c"; then
				mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" || return 1
				on_cleanup "umount /sys/fs/cgroup/$c; rmdir /sys/fs/cgroup/$c"
			fi
		done
	fi
}

# bundle_make DIR ARGS_JSON [ANNOTATIONS_JSON]: an OCI bundle in DIR running ARGS_JSON
# (e.g. '["sh","-c","exit 3"]'), with the host network, and the given annotations.
bundle_make() {
	local dir=$1 args=$2 ann=${3:-'{}'}
	mkdir -p "$dir"
	[ -d "$T/rootfs" ] || "$FL_ROOTFS_SCRIPT" "$T/rootfs" || return 1
	(cd "$dir" && runc spec) || return 1
	# One read-only rootfs shared by every bundle of the test (runc wants a real dir).
	jq --argjson a "$args" --argjson ann "$ann" --arg root "$T/rootfs" '
		.process.terminal = false | .process.args = $a | .annotations = $ann |
		.root.path = $root | .root.readonly = true |
		.linux.namespaces |= map(select(.type != "network"))' \
		"$dir/config.json" >"$dir/config.json.new" && mv "$dir/config.json.new" "$dir/config.json"
}

# container_run RUNTIME ID BUNDLE: create, start, wait, delete; prints nothing, returns
# the container's exit status.
container_run() {
	local rt=$1 id=$2 bundle=$3 rc
	on_cleanup "$rt delete -f $id"
	(cd "$bundle" && "$rt" run "$id" </dev/null)
	rc=$?
	"$rt" delete -f "$id" >/dev/null 2>&1
	return $rc
}

# container_recorded ID: the agent has written the container's identity to the store.
# A test that is about to stop the agent, or delete the container, waits for this first:
# the agent reads a container's identity from the runtime's state while the container
# exists, and a slow or busy machine may still be behind on the container's birth.
container_recorded() {
	"$FIRSTLIGHT" read "$T/data" 2>/dev/null |
		jq -se --arg id "$1" 'any(.[]; .workload.containerId == $id)' >/dev/null
}
