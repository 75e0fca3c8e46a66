#!/usr/bin/env bash
# The manifest check (scripts/check-manifest.py) on deploy/kubernetes/, then on copies of
# it broken one way each: every break must be refused, with a line naming the field, so
# that the check is known to be able to fail.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
check=$here/scripts/check-manifest.py
manifest=$here/deploy/kubernetes/firstlight.yaml
T=$(mktemp -d /tmp/fl-manifest.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

"$check" "$manifest" || { echo "test-manifest: the manifest itself is refused" >&2; exit 1; }

# broken NAME SED_EXPRESSION EXPECTED_MESSAGE
broken() {
	sed "$2" "$manifest" >"$T/$1.yaml"
	if cmp -s "$manifest" "$T/$1.yaml"; then
		echo "test-manifest: $1: the edit changed nothing (the manifest moved?)" >&2
		fails=$((fails + 1))
		return
	fi
	if "$check" "$T/$1.yaml" 2>"$T/$1.err" >/dev/null; then
		echo "test-manifest: $1: accepted, should be refused" >&2
		fails=$((fails + 1))
	elif ! grep -qF -- "$3" "$T/$1.err"; then
		echo "test-manifest: $1: refused, but not with '$3':" >&2
		cat "$T/$1.err" >&2
		fails=$((fails + 1))
	fi
}
broken privileged 's/privileged: false/privileged: true/' "securityContext.privileged: must be false"
broken escalation 's/allowPrivilegeEscalation: false/allowPrivilegeEscalation: true/' "allowPrivilegeEscalation: must be false"
broken sys-admin 's/- SYS_PTRACE/- SYS_ADMIN/' "SYS_ADMIN or ALL is privileged"
broken rw-root 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' "readOnlyRootFilesystem: must be true"
broken token '0,/^      automountServiceAccountToken: false/s//      automountServiceAccountToken: true/' "automountServiceAccountToken: must be false"
broken unknown-field 's/hostPID: true/hostPid: true/' "spec.template.spec.hostPid: unknown field of V1PodSpec"
broken wrong-type 's/runAsUser: 0/runAsUser: "0"/' "securityContext.runAsUser: expected an integer"
broken no-name 's/- name: agent/- nombre: agent/' "unknown field of V1Container"
broken bidirectional 's/mountPropagation: HostToContainer/mountPropagation: Bidirectional/' "Bidirectional propagation needs a privileged container"
broken quantity 's/memory: 256Mi/memory: 256 MB/' "not a quantity"
broken no-probe 's/livenessProbe:/startupProbe:/' "livenessProbe: missing"
if [ "$fails" -gt 0 ]; then
	echo "test-manifest: $fails of 11 broken manifests were not refused as they should be" >&2
	exit 1
fi
echo "test-manifest: the manifest passes; 11 broken copies are each refused"
