#!/usr/bin/env bash
# `make images`: one OCI archive holding the agent's image of every architecture given
# (each built by scripts/image.sh) under one image index, so that one name serves the
# x86-64 and the arm64 nodes of a cluster: a node's runtime pulls its own architecture's.
# Push it with `skopeo copy --all oci-archive:FILE docker://REGISTRY/firstlight:VERSION`.
# Made offline with a podman manifest list that exists only while the archive is written.
# Usage: scripts/image-multiarch.sh OUT_TAR IMAGE_DIR...
set -euo pipefail

out=${1:?usage: scripts/image-multiarch.sh OUT_TAR IMAGE_DIR...}
shift
[ $# -gt 0 ] || { echo "usage: scripts/image-multiarch.sh OUT_TAR IMAGE_DIR..." >&2; exit 2; }
list=localhost/firstlight-multiarch:build-$$
podman manifest create "$list" >/dev/null
trap 'podman manifest rm "$list" >/dev/null 2>&1' EXIT
refs=()
for dir; do
	ref=$(cat "$dir/image.ref") || { echo "image-multiarch: no $dir/image.ref: run make image first" >&2; exit 1; }
	podman manifest add "$list" "containers-storage:$ref" >/dev/null
	refs+=("$ref")
done
mkdir -p "$(dirname "$out")"
rm -f "$out"
podman manifest push -q --all "$list" "oci-archive:$out"
echo "image-multiarch: ${refs[*]} in one index ($out)"
