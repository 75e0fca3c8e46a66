#!/usr/bin/env bash
# Runs every unit-test binary given; each prints cmocka's summary. Fails if any fails.
set -u
failed=0
for t in "$@"; do
	echo "== $(basename "$t")"
	if ! "$t"; then
		echo "FAILED: $t" >&2
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ] || { echo "$failed unit test program(s) failed" >&2; exit 1; }
