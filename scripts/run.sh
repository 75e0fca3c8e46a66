#!/usr/bin/env bash
# `make run`: the agent with the live view, until Ctrl-C. Without options it writes
# segment files to /var/lib/firstlight (key /etc/firstlight/node.key) and shows every
# record on stdout: one line of text each on a terminal, JSON lines when piped. Options
# pass through: make run RUN_ARGS="--data-dir /tmp/fl --key /tmp/fl.key". The agent says
# where it writes on its "ready:" line. Read the files back with
#   build/firstlight read --text DATA_DIR
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "make run: the agent loads BPF programs; run it as root (or with CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_PTRACE)" >&2
	exit 1
fi
echo "firstlight: live records below; Ctrl-C stops" >&2
exec build/firstlight run --live "$@"
