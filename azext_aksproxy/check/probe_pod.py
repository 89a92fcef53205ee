"""The node probe through Kubernetes: where the scale-set run command is refused (node resource group lockdown),
AKS's run command starts a short-lived pod on a node that sees the node's root filesystem and network, and the
probe script (:mod:`node_probe`) runs there against the node's own curl and openssl.

The pod is what ``kubectl debug node/NAME`` creates (Kubernetes docs "Debugging Kubernetes nodes with kubectl"):
``hostNetwork``, ``hostPID`` and ``hostIPC``, the node's ``/`` mounted at ``/host``, ``nodeName`` pinned, every
taint tolerated; the script runs under ``chroot /host`` so the node's programs, not the image's, do the probing.
Not privileged (chroot needs only CAP_SYS_CHROOT, in the default set). Its image is the one the run command pod
itself runs: an image the cluster already pulls from MCR (an allowed egress of every AKS cluster), so the pod does
not depend on a registry the proxy may not reach; only ``chroot`` is needed from it. The pod carries the opt-out
annotation, so AKS injects no proxy variables into it, and ``activeDeadlineSeconds``, so the kubelet ends it even
if the delete never comes.

The wrapper (run in the AKS run command pod, whose image has kubectl: Azure/AKS issue 3034) creates the pod,
polls its phase, prints its logs, and deletes it on exit whatever happened (a trap), then prints one status line:
``AKSPROXY1 pod <ran|failed|timeout|refused> <phase> <base64 of kubectl's error>``.

Pure: no azure-cli import.
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .node_probe import RECORD

NAMESPACE = "default"  # where `kubectl debug node/...` puts its pod with the default context
RUN_COMMAND_NAMESPACE = "aks-command"  # where AKS runs the run command's pod; $HOSTNAME is that pod's name
OPT_OUT = "kubernetes.azure.com/no-http-proxy-vars"  # AKS docs "HTTP proxy": pods so annotated get no proxy vars
MANIFEST_FILE = "aksproxy-pod.json"
STATUS_PREFIX = f"{RECORD} pod "
# Guess: the run command pod's name is $HOSTNAME (as in every pod) and its namespace aks-command, where AKS runs it.
_NO_IMAGE = f"kubectl could not read the run command pod's own image (pod $HOSTNAME in {RUN_COMMAND_NAMESPACE})"
_STATUS = re.compile(rf"^{RECORD} pod (ran|failed|timeout|refused) (\S+) (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class PodOutcome:
    state: str  # "ran", "failed" (the pod ended Failed), "timeout" (not done in time), "refused" (not created)
    phase: str  # the pod's last phase seen ("-" when it was never created)
    error: str  # what kubectl said, for "refused"


def pod_name() -> str:
    return f"aksproxy-probe-{secrets.token_hex(4)}"


def manifest(name: str, node: str | None, script: Sequence[str], deadline_seconds: int,
             pool: str | None = None) -> dict[str, Any]:
    """The pod (core/v1 Pod). ``node`` pins it; without one the scheduler picks a Linux node (of ``pool``)."""
    spec: dict[str, Any] = {
        "hostNetwork": True, "hostPID": True, "hostIPC": True,
        "restartPolicy": "Never",
        "activeDeadlineSeconds": deadline_seconds,
        "terminationGracePeriodSeconds": 0,
        "tolerations": [{"operator": "Exists"}],
        "volumes": [{"name": "host-root", "hostPath": {"path": "/"}}],
        "containers": [{
            "name": "probe",
            "image": "IMAGE",  # replaced by the wrapper with the run command pod's own image
            "command": ["chroot", "/host", "/bin/bash", "-c", "\n".join(script) + "\n"],
            "volumeMounts": [{"name": "host-root", "mountPath": "/host"}],
            "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
        }],
    }
    if node:
        spec["nodeName"] = node
    else:
        spec["nodeSelector"] = {"kubernetes.io/os": "linux", **({"agentpool": pool} if pool else {})}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE,
                         "labels": {"app.kubernetes.io/managed-by": "aksproxy"},
                         "annotations": {OPT_OUT: "true"}},
            "spec": spec}


def wrapper(name: str, wait_seconds: int) -> str:
    """The run command's script: create the pod, wait for it, print its logs, delete it (always)."""
    n, ns = shlex.quote(name), NAMESPACE
    return "\n".join([
        "set -u",
        f"P={n}; NS={ns}; phase=-",
        "say() { local e; e=$(printf %s \"${2:-}\" | base64 -w0); echo \"" + RECORD + " pod $1 ${phase:--} ${e:--}\"; }",
        "trap 'kubectl delete pod \"$P\" -n \"$NS\" --ignore-not-found --wait=false >/dev/null 2>&1' EXIT",
        (f"image=$(kubectl get pod \"$HOSTNAME\" -n {RUN_COMMAND_NAMESPACE} -o "
        "jsonpath='{.spec.containers[0].image}' 2>/dev/null)"),
        f"[ -n \"$image\" ] || {{ trap - EXIT; say refused \"{_NO_IMAGE}\"; exit 0; }}",
        f"sed \"s|\\\"IMAGE\\\"|\\\"$image\\\"|\" {MANIFEST_FILE} > pod.json",
        "if ! err=$(kubectl create -f pod.json 2>&1 >/dev/null); then trap - EXIT; say refused \"$err\"; exit 0; fi",
        f"end=$((SECONDS + {int(wait_seconds)}))",
        "while :; do",
        "  phase=$(kubectl get pod \"$P\" -n \"$NS\" -o jsonpath='{.status.phase}' 2>/dev/null)",
        "  case \"$phase\" in Succeeded|Failed) break;; esac",
        "  [ $SECONDS -lt $end ] || { say timeout; exit 0; }",
        "  sleep 1",
        "done",
        "kubectl logs \"$P\" -n \"$NS\" 2>/dev/null",
        "if [ \"$phase\" = Succeeded ]; then say ran; else say failed; fi",
        "exit 0",
    ]) + "\n"


def files(name: str, node: str | None, script: Sequence[str], wait_seconds: int,
          pool: str | None = None) -> dict[str, str]:
    """The run command's context files and command (what :func:`outcome` then reads back)."""
    pod = manifest(name, node, script, deadline_seconds=int(wait_seconds) + 60, pool=pool)
    return {MANIFEST_FILE: json.dumps(pod), "aksproxy-node-pod.sh": wrapper(name, wait_seconds)}


COMMAND = "bash aksproxy-node-pod.sh"


def outcome(text: str) -> PodOutcome | None:
    """The wrapper's status line (None when the output has none: it was cut off or the wrapper did not run)."""
    m = None
    for m in _STATUS.finditer(text or ""):
        pass
    if m is None:
        return None
    try:
        error = "" if m[3] == "-" else base64.b64decode(m[3]).decode("utf-8", "replace")
    except ValueError:
        error = ""
    return PodOutcome(m[1], m[2], error.strip())


def refusal_cause(error: str) -> str:
    """Which control refused the pod, from kubectl's error (the API server's admission and RBAC messages)."""
    low = error.lower()
    if "could not read the run command pod" in low:
        return "kubectl in the run command pod"
    if "podsecurity" in low or "violates podsecurity" in low:
        return "Pod Security admission"  # Kubernetes docs "Pod Security Admission": 'violates PodSecurity "..."'
    if "gatekeeper" in low or "azurepolicy" in low:
        # AKS docs "Azure Policy for AKS": 'admission webhook "validation.gatekeeper.sh" denied the request'
        return "Azure Policy (Gatekeeper)"
    if "cannot create resource" in low or "forbidden" in low and "user" in low:
        return "Kubernetes RBAC"  # 'User "..." cannot create resource "pods" ... in the namespace'
    if "denied the request" in low:
        return "an admission webhook"
    return "the Kubernetes API server"
