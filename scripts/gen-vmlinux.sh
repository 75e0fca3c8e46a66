#!/usr/bin/env bash
# Regenerate the checked-in vmlinux.h from a kernel's BTF, so that builds never depend on
# the build host's kernel (CO-RE relocates field offsets at load time on the target).
#
# Usage: scripts/gen-vmlinux.sh [FILE [ARCH]]
#   FILE  raw BTF (default /sys/kernel/btf/vmlinux), or an uncompressed kernel image that
#         carries its BTF, such as Debian's arm64 vmlinuz (an "ARM64 boot executable
#         Image"): its .BTF section is found by its header and cut out.
#   ARCH  x86 or arm64 (default: this machine's), the folder under bpf/vmlinux/.
# x86's vmlinux.h comes from the project machines' kernel (6.18); arm64's from Debian 12's
# arm64 cloud kernel (6.1), the one `make test-kernel` boots:
#   scripts/gen-vmlinux.sh build/kernel/debian12-6.1-arm64/vmlinuz-* arm64
# The BPF code builds against either age (bpf/core_fixes.bpf.h holds both flavours of
# whatever moved).
set -euo pipefail
src=${1:-/sys/kernel/btf/vmlinux}
arch=${2:-$(uname -m)}
case "$arch" in x86_64 | x86) arch=x86 ;; aarch64 | arm64) arch=arm64 ;;
*) echo "gen-vmlinux.sh: unknown architecture '$arch' (x86 or arm64)" >&2; exit 1 ;;
esac
out="$(dirname "$0")/../bpf/vmlinux/$arch/vmlinux.h"
[ -r "$src" ] || { echo "gen-vmlinux.sh: $src: no BTF to read" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

btf=$src
# Raw BTF starts with its magic (0xeB9F, little-endian: 9f eb); anything else is a kernel
# image to search for the BTF header: magic, version 1, flags 0, hdr_len 24, type_off 0.
if [ "$(od -An -t x1 -N 2 "$src" | tr -d ' ')" != 9feb ]; then
	off=$(LC_ALL=C grep -obUaP '\x9f\xeb\x01\x00\x18\x00\x00\x00\x00\x00\x00\x00' "$src" |
		head -1 | cut -d: -f1)
	[ -n "$off" ] || { echo "gen-vmlinux.sh: $src: neither raw BTF nor a kernel image with a .BTF section" >&2; exit 1; }
	# type_len, str_off, str_len follow: the BTF is the header plus its string section's end.
	read -r _ str_off str_len < <(od -An -t u4 -j $((off + 12)) -N 12 "$src")
	btf=$tmp/btf
	dd if="$src" of="$btf" iflag=skip_bytes,count_bytes skip="$off" count=$((24 + str_off + str_len)) \
		bs=1M status=none
fi
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c >"$out.tmp" ||
	{ rm -f "$out.tmp"; echo "gen-vmlinux.sh: $src: bpftool cannot read its BTF" >&2; exit 1; }
mv "$out.tmp" "$out"
echo "wrote $out from $src" >&2
