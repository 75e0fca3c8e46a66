#!/usr/bin/env bash
# The manifest check (scripts/check-manifest.py) on deploy/kubernetes/ (the agents'
# DaemonSet, the collector's StatefulSet), then on copies of each broken one way each:
# every break must be refused, with a line naming the field, so that the check is known to
# be able to fail.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
check=$here/scripts/check-manifest.py
manifest=$here/deploy/kubernetes/firstlight.yaml
collector=$here/deploy/kubernetes/collector.yaml
T=$(mktemp -d /tmp/fl-manifest.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

"$check" "$manifest" "$collector" || { echo "test-manifest: the manifests themselves are refused" >&2; exit 1; }
n=0

# broken NAME SED_EXPRESSION EXPECTED_MESSAGE [FILE]: FILE (the DaemonSet's by default)
# edited must be refused, saying EXPECTED_MESSAGE.
broken() {
	local file=${4:-$manifest}
	n=$((n + 1))
	sed "$2" "$file" >"$T/$1.yaml"
	if cmp -s "$file" "$T/$1.yaml"; then
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
# The collector: the workload policy, and what its restricted namespace would refuse.
broken col-rw-root 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' \
	"readOnlyRootFilesystem: must be true" "$collector"
broken col-root 's/runAsNonRoot: true/runAsNonRoot: false/' "runAsNonRoot: must be true (restricted)" "$collector"
broken col-uid0 's/runAsUser: 65532/runAsUser: 0/' "runAsUser: must not be 0 (restricted)" "$collector"
broken col-seccomp 's/type: RuntimeDefault/type: Unconfined/' \
	"seccompProfile: must be RuntimeDefault or Localhost (restricted)" "$collector"
broken col-cap 's/^\(  *\)drop:$/\1add: [NET_ADMIN]\n\1drop:/' "['NET_ADMIN']: the restricted standard adds none" "$collector"
broken col-hostpid 's/^\(  *\)automountServiceAccountToken: false$/&\n\1hostPID: true/' \
	"the restricted standard admits no host namespace" "$collector"
broken col-no-probe 's/readinessProbe:/startupProbe:/' "readinessProbe: missing" "$collector"
if [ "$fails" -gt 0 ]; then
	echo "test-manifest: $fails of $n broken manifests were not refused as they should be" >&2
	exit 1
fi
echo "test-manifest: the manifests pass; $n broken copies are each refused"
