#!/usr/bin/env bash
# Runs every end-to-end test (tests/e2e/t_*.sh), each in its own process, and prints a
# TAP summary. Needs root: tests load the real BPF programs and make real workloads.
# FL_E2E_QUICK=1 runs the subset marked "# quick" (used with the sanitizer build).
# FL_E2E_ONLY=name[,name...] runs those tests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "e2e tests need root (they load BPF programs and create cgroups)" >&2
	exit 1
fi
tests=()
for t in "$here"/t_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "${FL_E2E_ONLY:-}" ] && case ",$FL_E2E_ONLY," in *",$name,"*) ;; *) continue ;; esac
	[ -n "${FL_E2E_QUICK:-}" ] && ! grep -q '^# quick' "$t" && continue
	tests+=("$t")
done
echo "1..${#tests[@]}"
n=0 failed=0
for t in "${tests[@]}"; do
	n=$((n + 1))
	name=$(basename "$t" .sh)
	start=$(date +%s)
	errs=$(mktemp /tmp/fl-e2e-stderr.XXXXXX)
	{ bash "$t" 2>&1 1>&3 3>&- | tee "$errs" >&2; } 3>&1
	rc=${PIPESTATUS[0]}
	# A shell error in a test (a syntax error in $((...)), a command not found) skips the
	# command it hit, often a check: such a test has not shown what it claims. (bash's
	# job notices, "line N: PID Killed ...", share the prefix and are not errors.)
	if [ "$rc" -eq 0 ] && grep -qE '^[^ ]+\.sh: line [0-9]+: .*(syntax error|command not found|unbound variable|bad substitution|ambiguous redirect|integer expression expected|division by 0|bad array subscript|invalid number)' "$errs"; then
		echo "  the test script itself failed (a shell error above): its checks are incomplete" >&2
		rc=1
	fi
	rm -f "$errs"
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - $name ($(($(date +%s) - start))s)"
	else
		echo "not ok $n - $name"
		failed=$((failed + 1))
	fi
done
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
