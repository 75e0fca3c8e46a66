#!/usr/bin/env bash
# Regenerate the checked-in vmlinux.h from a kernel's BTF, so that builds never depend on
# the build host's kernel (CO-RE relocates field offsets at load time on the target).
# Usage: scripts/gen-vmlinux.sh [BTF_FILE]   (default: /sys/kernel/btf/vmlinux)
set -euo pipefail
btf=${1:-/sys/kernel/btf/vmlinux}
arch=$(uname -m)
case "$arch" in x86_64) arch=x86 ;; aarch64) arch=arm64 ;; esac
out="$(dirname "$0")/../bpf/vmlinux/$arch/vmlinux.h"
[ -r "$btf" ] || { echo "gen-vmlinux.sh: $btf: no BTF to read" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out from $btf" >&2
