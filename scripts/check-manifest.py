#!/usr/bin/python3
"""Offline validation of Kubernetes manifests against the API's own models.

No validator of the real API schema that works offline is packaged in Debian 12
(kubeconform and kubeval are not; kubectl's validation asks a server for the OpenAPI
document). python3-kubernetes (22.6, the Kubernetes 1.22 API) carries a model class per
API type, generated from the API's OpenAPI spec: every field's JSON name (attribute_map),
its type (openapi_types) and which are required (its constructor refuses None for them).
This walks each document through those models strictly: an unknown field, a wrong type or
a missing required field is an error naming its path. Then the policy this project holds
the workloads (DaemonSet, StatefulSet) to: no privileged container, no privilege
escalation, every capability dropped and only named ones added, a read-only root
filesystem, no service account token, probes and resources; and, for a workload whose
namespace (in the same files) enforces the "restricted" Pod Security Standard, that
standard's rules, so that its own namespace would admit it.

Usage: check-manifest.py FILE...   Exit 0 when all pass; else one line per problem, exit 1.
"""
import re
import sys

import kubernetes.client as k8s
import yaml

# The top-level kinds, by apiVersion/kind.
KINDS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("apps/v1", "DaemonSet"): "V1DaemonSet",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Service"): "V1Service",
}
# Fields whose model type is `object` but which the API defines as int-or-string.
INT_OR_STRING = {"maxSurge", "maxUnavailable", "port", "targetPort"}
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[+-]?\d+)?$")

problems = []


def problem(path, msg):
    problems.append(f"{path}: {msg}")


def check(value, typ, path, field=""):
    """Checks value against the model type name typ; returns the model value (or None)."""
    if typ.startswith("list["):
        if not isinstance(value, list):
            return problem(path, f"expected a list, got {type(value).__name__}")
        return [check(v, typ[5:-1], f"{path}[{i}]", field) for i, v in enumerate(value)]
    if typ.startswith("dict("):
        inner = typ[5:-1].split(", ", 1)[1]
        if not isinstance(value, dict):
            return problem(path, f"expected a map, got {type(value).__name__}")
        return {k: check(v, inner, f"{path}.{k}", field) for k, v in value.items()}
    if typ == "str":
        if not isinstance(value, str):
            return problem(path, f"expected a string, got {value!r}")
        return value
    if typ == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return problem(path, f"expected an integer, got {value!r}")
        return value
    if typ == "bool":
        if not isinstance(value, bool):
            return problem(path, f"expected true or false, got {value!r}")
        return value
    if typ == "object":
        if field in INT_OR_STRING and not (isinstance(value, (int, str)) and not isinstance(value, bool)):
            return problem(path, f"expected an integer or a string, got {value!r}")
        return value
    if typ == "datetime":
        return value
    cls = getattr(k8s, typ, None)
    if cls is None:
        return problem(path, f"no model {typ} in python3-kubernetes")
    if not isinstance(value, dict):
        return problem(path, f"expected an object ({typ}), got {value!r}")
    by_json = {j: a for a, j in cls.attribute_map.items()}
    kwargs = {}
    for key, v in value.items():
        attr = by_json.get(key)
        if attr is None:
            problem(f"{path}.{key}", f"unknown field of {typ}")
            continue
        kwargs[attr] = check(v, cls.openapi_types[attr], f"{path}.{key}", key)
    try:
        return cls(**kwargs)
    except ValueError as e:  # a required field missing, or a value out of its enum
        return problem(path, f"{typ}: {e}")


def check_quantities(obj, path):
    for name, q in (obj or {}).items():
        if not isinstance(q, (str, int)) or not QUANTITY.match(str(q)):
            problem(f"{path}.{name}", f"not a quantity: {q!r}")


def check_policy(doc, path):
    spec = doc["spec"]["template"]["spec"]
    if spec.get("automountServiceAccountToken") is not False:
        problem(f"{path}.spec.template.spec.automountServiceAccountToken", "must be false (no API token)")
    for i, c in enumerate(spec.get("initContainers", []) + spec.get("containers", [])):
        p = f"{path}.spec.template.spec.containers[{i}]"
        sc = c.get("securityContext") or {}
        if sc.get("privileged") is not False:
            problem(f"{p}.securityContext.privileged", "must be false")
        if sc.get("allowPrivilegeEscalation") is not False:
            problem(f"{p}.securityContext.allowPrivilegeEscalation", "must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problem(f"{p}.securityContext.readOnlyRootFilesystem", "must be true")
        caps = sc.get("capabilities") or {}
        if caps.get("drop") != ["ALL"]:
            problem(f"{p}.securityContext.capabilities.drop", "must be [ALL]")
        if "SYS_ADMIN" in (caps.get("add") or []) or "ALL" in (caps.get("add") or []):
            problem(f"{p}.securityContext.capabilities.add", "SYS_ADMIN or ALL is privileged in all but name")
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            if not res.get(part):
                problem(f"{p}.resources.{part}", "missing")
            check_quantities(res.get(part), f"{p}.resources.{part}")
        for probe in ("readinessProbe", "livenessProbe"):
            if not c.get(probe):
                problem(f"{p}.{probe}", "missing")
        for m in c.get("volumeMounts", []):
            if m.get("mountPropagation") == "Bidirectional":
                problem(f"{p}.volumeMounts.{m.get('name')}", "Bidirectional propagation needs a privileged container")


# What the restricted Pod Security Standard lets a container add.
RESTRICTED_ADD = {"NET_BIND_SERVICE"}


def check_restricted(doc, path):
    """The restricted standard's rules (Kubernetes 1.25+), as its admission checks them."""
    spec = doc["spec"]["template"]["spec"]
    psc = spec.get("securityContext") or {}
    p = f"{path}.spec.template.spec"
    for host in ("hostPID", "hostIPC", "hostNetwork"):
        if spec.get(host):
            problem(f"{p}.{host}", "the restricted standard admits no host namespace")
    for v in spec.get("volumes", []):
        if "hostPath" in v:
            problem(f"{p}.volumes.{v.get('name')}", "the restricted standard admits no hostPath volume")
    for i, c in enumerate(spec.get("initContainers", []) + spec.get("containers", [])):
        cp = f"{p}.containers[{i}]"
        sc = c.get("securityContext") or {}
        if sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
            problem(f"{cp}.securityContext.runAsNonRoot", "must be true (restricted)")
        if sc.get("runAsUser", psc.get("runAsUser")) == 0:
            problem(f"{cp}.securityContext.runAsUser", "must not be 0 (restricted)")
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problem(f"{cp}.securityContext.seccompProfile", "must be RuntimeDefault or Localhost (restricted)")
        added = set((sc.get("capabilities") or {}).get("add") or []) - RESTRICTED_ADD
        if added:
            problem(f"{cp}.securityContext.capabilities.add", f"{sorted(added)}: the restricted standard adds none")


def main(files):
    if not files:
        print("usage: check-manifest.py FILE...", file=sys.stderr)
        return 2
    k8s.Configuration.set_default(k8s.Configuration())  # client_side_validation on
    n = 0
    restricted = set()  # namespaces that enforce the restricted standard
    workloads = []
    for f in files:
        try:
            docs = [d for d in yaml.safe_load_all(open(f)) if d is not None]
        except (OSError, yaml.YAMLError) as e:
            problem(f, f"cannot read it as YAML: {e}")
            continue
        for i, doc in enumerate(docs):
            path = f"{f}#{i + 1}"
            if not isinstance(doc, dict):
                problem(path, "not an object")
                continue
            model = KINDS.get((doc.get("apiVersion"), doc.get("kind")))
            if model is None:
                problem(path, f"apiVersion {doc.get('apiVersion')!r} kind {doc.get('kind')!r}: not a kind this check knows")
                continue
            path += f" ({doc['kind']} {doc.get('metadata', {}).get('name', '?')})"
            check(doc, model, path)
            labels = (doc.get("metadata") or {}).get("labels") or {}
            if doc["kind"] == "Namespace" and labels.get("pod-security.kubernetes.io/enforce") == "restricted":
                restricted.add(doc["metadata"].get("name"))
            if doc["kind"] in ("DaemonSet", "StatefulSet") and isinstance(doc.get("spec"), dict):
                try:
                    check_policy(doc, path)
                except (KeyError, TypeError, AttributeError) as e:
                    problem(path, f"policy check: missing {e}")
                workloads.append((doc, path))
            n += 1
    for doc, path in workloads:
        if (doc.get("metadata") or {}).get("namespace") in restricted:
            try:
                check_restricted(doc, path)
            except (KeyError, TypeError, AttributeError) as e:
                problem(path, f"restricted check: missing {e}")
    for p in problems:
        print(f"check-manifest: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check-manifest: {n} documents valid against the Kubernetes {k8s.__version__} API models and the policy")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
