#!/usr/bin/python3
"""The `podman run` arguments of a DaemonSet's pod template, so that the manifest and the
podman test (tests/e2e/t_daemonset.sh) cannot drift: podman 4.3's `kube play` ignores
hostPID, so the test runs the template's one container with flags derived here.

Usage: podman-args.py MANIFEST --node NAME [--map HOSTPATH=DIR]... [--image REF]
       podman-args.py MANIFEST --caps   (the container's added capabilities: BPF,PERFMON,...)
Prints one argument a line: the flags, the image, then the container's args. --node is
what the downward API's spec.nodeName gives; --map puts a hostPath elsewhere (a test's
own data dir, key dir and bpffs). Anything in the template this cannot carry over into
podman is an error naming it: a setting silently dropped would be a drift.
"""
import argparse
import sys

import yaml

CAP_PREFIX = "CAP_"
# What podman does for these propagations on a bind mount.
PROPAGATION = {None: "rprivate", "None": "rprivate", "HostToContainer": "rslave", "Bidirectional": "rshared"}
# Pod and container fields that change nothing podman can run, or that podman's default is.
POD_IGNORED = {"serviceAccountName", "automountServiceAccountToken", "priorityClassName", "tolerations",
               "terminationGracePeriodSeconds", "containers", "volumes", "hostPID"}
CONTAINER_IGNORED = {"name", "image", "imagePullPolicy", "args", "command", "env", "ports", "securityContext",
                     "readinessProbe", "livenessProbe", "resources", "volumeMounts"}


def fail(msg):
    print(f"podman-args: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--node")
    ap.add_argument("--caps", action="store_true")
    ap.add_argument("--map", action="append", default=[])
    ap.add_argument("--image")
    o = ap.parse_args()
    maps = dict(m.split("=", 1) for m in o.map)
    ds = [d for d in yaml.safe_load_all(open(o.manifest)) if d and d.get("kind") == "DaemonSet"]
    if len(ds) != 1:
        fail(f"{o.manifest}: {len(ds)} DaemonSets, expected one")
    pod = ds[0]["spec"]["template"]["spec"]
    if o.caps:
        print(",".join(pod["containers"][0]["securityContext"]["capabilities"]["add"]))
        return
    if not o.node:
        fail("--node NAME: what spec.nodeName is")
    for k in pod:
        if k not in POD_IGNORED:
            fail(f"pod spec field {k}: not carried over to podman")
    if len(pod["containers"]) != 1:
        fail("one container expected")
    c = pod["containers"][0]
    for k in c:
        if k not in CONTAINER_IGNORED:
            fail(f"container field {k}: not carried over to podman")
    args = []
    # The pod's own network namespace (podman's would need a bridge; none keeps it
    # private, and the test reaches the probes' port from inside it, as a kubelet does
    # through the pod's address).
    args.append("--network=none")
    if pod.get("hostPID"):
        args.append("--pid=host")
    sc = c.get("securityContext", {})
    for k in sc:
        if k not in {"privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem", "runAsUser",
                     "runAsGroup", "capabilities", "seccompProfile"}:
            fail(f"securityContext.{k}: not carried over to podman")
    if sc.get("privileged"):
        args.append("--privileged")
    if sc.get("allowPrivilegeEscalation") is False:
        args.append("--security-opt=no-new-privileges")
    if sc.get("readOnlyRootFilesystem"):
        args += ["--read-only", "--read-only-tmpfs=false"]
    if "runAsUser" in sc:
        args.append(f"--user={sc['runAsUser']}:{sc.get('runAsGroup', 0)}")
    sp = (sc.get("seccompProfile") or {}).get("type", "RuntimeDefault")
    if sp == "Unconfined":
        args.append("--security-opt=seccomp=unconfined")
    elif sp != "RuntimeDefault":
        fail(f"seccompProfile {sp}: not carried over to podman")
    caps = sc.get("capabilities", {})
    for cap in caps.get("drop", []):
        args.append(f"--cap-drop={cap if cap == 'ALL' else CAP_PREFIX + cap}")
    for cap in caps.get("add", []):
        args.append(f"--cap-add={CAP_PREFIX}{cap}")
    for e in c.get("env", []):
        if "value" in e:
            args.append(f"--env={e['name']}={e['value']}")
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName":
            args.append(f"--env={e['name']}={o.node}")
        else:
            fail(f"env {e['name']}: only values and spec.nodeName are carried over")
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        v = vols.get(m["name"])
        if not v or "hostPath" not in v or set(v) != {"name", "hostPath"}:
            fail(f"volume {m['name']}: only hostPath volumes are carried over")
        host = v["hostPath"]["path"]
        src = maps.get(host, host)
        kind = v["hostPath"].get("type", "")
        if kind == "DirectoryOrCreate":
            # What the kubelet does: make it (0755) when absent.
            import os
            os.makedirs(src, mode=0o755, exist_ok=True)
        elif kind not in ("", "Directory"):
            fail(f"volume {m['name']}: hostPath type {kind} not carried over")
        opts = ["ro" if m.get("readOnly") else "rw", PROPAGATION[m.get("mountPropagation")]]
        args.append(f"--volume={src}:{m['mountPath']}:{','.join(opts)}")
    args.append(o.image or c["image"])
    if c.get("command"):
        fail("command: the image's entrypoint is the agent; give args")
    args += c.get("args", [])
    print("\n".join(args))


if __name__ == "__main__":
    main()
