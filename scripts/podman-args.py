#!/usr/bin/python3
"""The `podman run` arguments of a workload's pod template (the DaemonSet's or the
collector's StatefulSet: the one in MANIFEST), so that the manifest and the podman tests
(tests/e2e/t_daemonset.sh, t_collector_pod.sh) cannot drift: podman 4.3's `kube play`
ignores hostPID, so the tests run the template's one container with flags derived here.

Usage: podman-args.py MANIFEST [--node NAME] [--map HOSTPATH=DIR]... [--map pvc:NAME=DIR]...
                      [--set-env NAME=VALUE]... [--network MODE] [--image REF]
       podman-args.py MANIFEST --caps   (the container's added capabilities: BPF,PERFMON,...)
Prints one argument a line: the flags, the image, then the container's args, with $(VAR)
expanded from the container's env as the kubelet does. --node is what the downward API's
spec.nodeName gives; --map puts a hostPath elsewhere (a test's own data dir, key dir and
bpffs), or gives a volumeClaimTemplate's volume a directory (owned as the pod's user and
fsGroup would find it: the kubelet's fsGroup ownership); --set-env replaces an env value
(what an operator edits before applying); --network is the pod's network (default none:
its own namespace, no route). Anything in the template this cannot carry over into podman
is an error naming it: a setting silently dropped would be a drift.
"""
import argparse
import os
import re
import sys

import yaml

CAP_PREFIX = "CAP_"
# What podman does for these propagations on a bind mount.
PROPAGATION = {None: "rprivate", "None": "rprivate", "HostToContainer": "rslave", "Bidirectional": "rshared"}
# Pod and container fields that change nothing podman can run, or that podman's default is.
POD_IGNORED = {"serviceAccountName", "automountServiceAccountToken", "priorityClassName", "tolerations",
               "terminationGracePeriodSeconds", "containers", "volumes", "hostPID", "securityContext"}
POD_SECURITY = {"runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "seccompProfile"}
WORKLOADS = ("DaemonSet", "StatefulSet")
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
    ap.add_argument("--set-env", action="append", default=[])
    ap.add_argument("--network", default="none")
    ap.add_argument("--image")
    o = ap.parse_args()
    maps = dict(m.split("=", 1) for m in o.map)
    set_env = dict(e.split("=", 1) for e in o.set_env)
    ws = [d for d in yaml.safe_load_all(open(o.manifest)) if d and d.get("kind") in WORKLOADS]
    if len(ws) != 1:
        fail(f"{o.manifest}: {len(ws)} workloads ({' or '.join(WORKLOADS)}), expected one")
    pod = ws[0]["spec"]["template"]["spec"]
    if o.caps:
        print(",".join(pod["containers"][0]["securityContext"]["capabilities"].get("add", [])))
        return
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
    # through the pod's address); or one the test made, with a route to its servers.
    args.append(f"--network={o.network}")
    if pod.get("hostPID"):
        args.append("--pid=host")
    psc = pod.get("securityContext", {})
    for k in psc:
        if k not in POD_SECURITY:
            fail(f"pod securityContext.{k}: not carried over to podman")
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
    uid = sc.get("runAsUser", psc.get("runAsUser"))
    gid = sc.get("runAsGroup", psc.get("runAsGroup", 0))
    if uid is not None:
        args.append(f"--user={uid}:{gid}")
    if sc.get("runAsNonRoot", psc.get("runAsNonRoot")) and not uid:
        fail("runAsNonRoot without a runAsUser other than 0: the image's user is root")
    if "fsGroup" in psc:
        args.append(f"--group-add={psc['fsGroup']}")
    sp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type", "RuntimeDefault")
    if sp == "Unconfined":
        args.append("--security-opt=seccomp=unconfined")
    elif sp != "RuntimeDefault":
        fail(f"seccompProfile {sp}: not carried over to podman")
    caps = sc.get("capabilities", {})
    for cap in caps.get("drop", []):
        args.append(f"--cap-drop={cap if cap == 'ALL' else CAP_PREFIX + cap}")
    for cap in caps.get("add", []):
        args.append(f"--cap-add={CAP_PREFIX}{cap}")
    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = set_env.pop(e["name"], e["value"])
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName":
            if not o.node:
                fail(f"env {e['name']}: --node NAME, what spec.nodeName is")
            env[e["name"]] = o.node
        else:
            fail(f"env {e['name']}: only values and spec.nodeName are carried over")
        args.append(f"--env={e['name']}={env[e['name']]}")
    if set_env:
        fail(f"--set-env {','.join(set_env)}: not in the container's env")
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    claims = {t["metadata"]["name"] for t in ws[0]["spec"].get("volumeClaimTemplates", [])}
    for m in c.get("volumeMounts", []):
        if m["name"] in claims:
            src = maps.get(f"pvc:{m['name']}")
            if not src:
                fail(f"volumeClaimTemplate {m['name']}: give it a directory, --map pvc:{m['name']}=DIR")
            # What a fresh volume looks like to the pod: the kubelet gives it the fsGroup
            # (group-owned, setgid, group-writable); podman's --user alone would not.
            os.makedirs(src, exist_ok=True)
            if "fsGroup" in psc:
                os.chown(src, -1, psc["fsGroup"])
                os.chmod(src, 0o2770)
            args.append(f"--volume={src}:{m['mountPath']}:rw,rprivate")
            continue
        v = vols.get(m["name"])
        if not v or "hostPath" not in v or set(v) != {"name", "hostPath"}:
            fail(f"volume {m['name']}: only hostPath volumes are carried over")
        host = v["hostPath"]["path"]
        src = maps.get(host, host)
        kind = v["hostPath"].get("type", "")
        if kind == "DirectoryOrCreate":
            # What the kubelet does: make it (0755) when absent.
            os.makedirs(src, mode=0o755, exist_ok=True)
        elif kind not in ("", "Directory"):
            fail(f"volume {m['name']}: hostPath type {kind} not carried over")
        opts = ["ro" if m.get("readOnly") else "rw", PROPAGATION[m.get("mountPropagation")]]
        args.append(f"--volume={src}:{m['mountPath']}:{','.join(opts)}")
    args.append(o.image or c["image"])
    if c.get("command"):
        fail("command: the image's entrypoint is the agent; give args")
    # $(VAR) from the container's env, $$ for a literal $, as the kubelet expands args.
    def expand(a):
        return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                      lambda mt: "$" if mt.group(0) == "$$" else env.get(mt.group(1), mt.group(0)), a)
    args += [expand(a) for a in c.get("args", [])]
    print("\n".join(args))


if __name__ == "__main__":
    main()
