# The project's image for the pod tests (t_daemonset, t_collector_pod): image_setup sets
# `image` to the tag `make image` built (build/image/image.ref) and points podman at a
# configuration of the test's. The tag lives in the machine's podman storage, not in the
# tree: another tree's `make image` (a CI clone's) re-tags it, so the image must hold
# this tree's build/firstlight (its io.firstlight.binary-sha256 label), or the tests
# would run another build. Source after e2e.sh.

image_setup() {
	local root ref_file want got
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	ref_file=$root/build/image/image.ref
	[ -s "$ref_file" ] || { echo "no image: run make image first ($ref_file missing)" >&2; return 1; }
	image=$(cat "$ref_file")
	want=$(sha256sum "$root/build/firstlight" | cut -d' ' -f1)
	got=$(podman image inspect -f '{{index .Labels "io.firstlight.binary-sha256"}}' "$image" 2>/dev/null)
	if [ "$got" != "$want" ]; then
		echo "$image holds another build of firstlight than $root/build/firstlight (another tree's make image?): run make image" >&2
		return 1
	fi
	# podman's default nofile limit is above this machine's hard limit (docs/deployment.md).
	printf '[containers]\ndefault_ulimits = []\n' >"$T/containers.conf"
	export CONTAINERS_CONF=$T/containers.conf
}
