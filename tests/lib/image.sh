# The project's image for the pod tests (t_daemonset, t_collector_pod): image_setup sets
# `image` to the tag `make image` built (build/image/image.ref) and points podman at a
# configuration of the test's. Source after e2e.sh.

image_setup() {
	local ref_file
	ref_file=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/image/image.ref
	[ -s "$ref_file" ] || { echo "no image: run make image first ($ref_file missing)" >&2; return 1; }
	image=$(cat "$ref_file")
	# podman's default nofile limit is above this machine's hard limit (docs/deployment.md).
	printf '[containers]\ndefault_ulimits = []\n' >"$T/containers.conf"
	export CONTAINERS_CONF=$T/containers.conf
}
