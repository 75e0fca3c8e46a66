#!/usr/bin/env bash
# `make run`: the agent on its default output (segment files in /var/lib/firstlight)
# with the live view on stdout, until Ctrl-C. Read the files back with
#   build/firstlight read --text /var/lib/firstlight
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "make run: the agent loads BPF programs; run it as root (or with CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)" >&2
	exit 1
fi
echo "firstlight: segment files in /var/lib/firstlight, live records below; Ctrl-C stops" >&2
exec build/firstlight run --live "$@"
