"""Pods still on other proxy settings than the cluster's: from ``kubectl get pods -A -o json``, the pods whose proxy
variables differ from what AKS injects for the current config, grouped by namespace and owner, with what to restart.

What AKS injects (AKS docs "HTTP proxy support in Azure Kubernetes Service"): HTTP_PROXY, http_proxy, HTTPS_PROXY,
https_proxy, NO_PROXY and no_proxy, into pods as they are created; a pod annotated
``kubernetes.azure.com/no-http-proxy-vars: "true"`` gets none. A pod keeps its variables until it is recreated, so
after a proxy change that AKS did not roll (a ``Block`` disruption policy, an older service, a pool whose reimage
failed) pods run with the old ones. The values, as far as documented: httpProxy and httpsProxy as set (without
httpsProxy, httpProxy serves https too, per the same docs, so HTTPS_PROXY equal to httpProxy or absent are both
taken as current); NO_PROXY carries the effective noProxy (``effectiveNoProxy``, "a superset of noProxy and values
injected by AKS", REST spec ManagedClusterHTTPProxyConfig). How the webhook joins and orders NO_PROXY is not
documented, so it is compared as a set of comma-separated entries, and a NO_PROXY that holds every entry of the
user's noProxy but not all of AKS's additions is not called stale (AKS's own list has grown over time).

Pure: no azure-cli import. Values are shown masked (:func:`mask_secrets`): an env value may carry credentials.
They are masked inside the cluster already (:data:`JQ_FILTER`, run by jq in the AKS run command's pod, whose image
has it: Azure/AKS issue 3034): only what the comparison reads leaves the cluster, the proxy variables' values with
their credentials masked, so no secret reaches az's own trace of the run command's response (``--debug``).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from azext_aksproxy.config.findings import mask_secrets

OPT_OUT = "kubernetes.azure.com/no-http-proxy-vars"
VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")  # each also in lower case
# mask_secrets' pattern (config/findings.py) as an Oniguruma regex with the scheme captured by name.
_JQ_USERINFO = r"(?<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^\s'\"`<>]*@"
_JQ_NAMES = json.dumps([name for upper in VARIABLES for name in (upper, upper.lower())])
# What `kubectl get pods -A -o json` is cut down to before it leaves the cluster: each pod's namespace, name,
# owners, pod-template-hash label and opt-out annotation, and its containers' proxy variables, values masked.
JQ_FILTER = f"""def mask: if type == "string" then gsub({json.dumps(_JQ_USERINFO)}; "\\(.scheme)***@") else . end;
def proxyenv: [(.env // [])[] | select(.name as $n | {_JQ_NAMES} | index($n)) | if has("value") then .value |= mask
  else . end];
{{items: [.items[] | {{
  metadata: {{namespace: .metadata.namespace, name: .metadata.name,
    ownerReferences: [(.metadata.ownerReferences // [])[] | {{kind, name, controller}}],
    labels: ((.metadata.labels // {{}}) | with_entries(select(.key == "pod-template-hash"))),
    annotations: ((.metadata.annotations // {{}}) | with_entries(select(.key == {json.dumps(OPT_OUT)})))}},
  spec: {{initContainers: [(.spec.initContainers // [])[] | {{name, env: proxyenv}}],
    containers: [(.spec.containers // [])[] | {{name, env: proxyenv}}]}}}}]}}
"""


@dataclass(frozen=True)
class Expected:
    """The variables a pod created now gets (None: not injected)."""

    http_proxy: str | None
    https_proxy: str | None
    https_fallback: str | None  # httpProxy, which serves https when httpsProxy is unset
    no_proxy: frozenset[str]  # the effective noProxy
    user_no_proxy: frozenset[str]  # what the user set (a NO_PROXY holding these is not stale)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None, user_no_proxy: Sequence[str] | None = None) -> Expected:
        """``user_no_proxy``: the user's entries (``ClusterModel.user_no_proxy``; default: all of noProxy)."""
        cfg = config or {}
        if cfg.get("enabled") is False or not (cfg.get("httpProxy") or cfg.get("httpsProxy")):
            return cls(None, None, None, frozenset(), frozenset())
        user = frozenset(_entries(",".join(cfg.get("noProxy") or [] if user_no_proxy is None else user_no_proxy)))
        effective = frozenset(_entries(",".join([*(cfg.get("noProxy") or []), *(cfg.get("effectiveNoProxy") or [])])))
        effective |= user
        return cls(cfg.get("httpProxy") or None, cfg.get("httpsProxy") or None,
                   None if cfg.get("httpsProxy") else cfg.get("httpProxy") or None, effective, user)

    @property
    def enabled(self) -> bool:
        return bool(self.http_proxy or self.https_proxy)


@dataclass
class Difference:
    variable: str  # e.g. "HTTPS_PROXY" or "no_proxy"
    container: str
    found: str | None  # masked
    expected: str | None  # masked

    def to_dict(self) -> dict[str, Any]:
        return {"variable": self.variable, "container": self.container, "found": self.found,
                "expected": self.expected}


@dataclass
class Workload:
    """Pods of one owner in one namespace."""

    namespace: str
    kind: str  # Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet, Pod ...
    name: str
    pods: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def restart(self) -> str:
        if self.kind in ("Deployment", "StatefulSet", "DaemonSet"):
            return f"kubectl rollout restart {self.kind.lower()}/{self.name} -n {self.namespace}"
        if self.kind == "Job":
            return (f"recreate job/{self.name} -n {self.namespace} (a Job's pods are not restarted in place: "
                    "kubectl get job -o yaml, delete, apply)")
        pods = " ".join(self.pods)
        return f"kubectl delete pod {pods} -n {self.namespace} (then recreate them: no controller owns them)" \
            if self.kind == "Pod" else f"kubectl delete pod {pods} -n {self.namespace} (its {self.kind} recreates them)"

    def to_dict(self, with_differences: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"namespace": self.namespace, "ownerKind": self.kind, "owner": self.name,
                               "pods": sorted(self.pods)}
        if with_differences:
            seen: dict[tuple[str, str, str | None], Difference] = {}
            for d in self.differences:
                seen.setdefault((d.variable, d.container, d.found), d)
            out["differences"] = [d.to_dict() for d in seen.values()]
            out["restart"] = self.restart
        return out


@dataclass
class PodReport:
    expected: Expected
    stale: list[Workload]
    opted_out: list[Workload]
    current: int  # pods whose variables match
    without_variables: int  # pods with none (created before the proxy, or not injected there)

    def to_dict(self) -> dict[str, Any]:
        e = self.expected
        return {
            "expected": {"HTTP_PROXY": _mask(e.http_proxy), "HTTPS_PROXY": _mask(e.https_proxy or e.https_fallback),
                         "NO_PROXY": sorted(e.no_proxy) or None} if e.enabled else None,
            "stale": [w.to_dict() for w in self.stale],
            "optedOut": [w.to_dict(with_differences=False) for w in self.opted_out],
            "currentPods": self.current,
            "podsWithoutProxyVariables": self.without_variables,
        }


def _mask(value: str | None) -> str | None:
    return mask_secrets(value) if value else value


def _entries(value: str) -> list[str]:
    return [e.strip() for e in value.split(",") if e.strip()]


def owner(pod: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, name) of what to restart: a ReplicaSet's Deployment (the ReplicaSet is named ``<deployment>-<the
    pod-template-hash label>``, Kubernetes docs "Deployments"), else the controller, else the pod itself."""
    meta = pod.get("metadata") or {}
    refs = meta.get("ownerReferences") or []
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    if ref is None:
        return "Pod", meta.get("name", "?")
    kind, name = ref.get("kind", "?"), ref.get("name", "?")
    template_hash = (meta.get("labels") or {}).get("pod-template-hash")
    if kind == "ReplicaSet" and template_hash and name.endswith("-" + template_hash):
        return "Deployment", name[: -len(template_hash) - 1]
    return kind, name


def _differences(pod: Mapping[str, Any], expected: Expected) -> tuple[list[Difference], bool]:
    """The pod's differences from ``expected``, and whether it carries any proxy variable at all."""
    spec = pod.get("spec") or {}
    out: list[Difference] = []
    any_variable = False
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        env = {e.get("name"): e.get("value") for e in container.get("env") or [] if "value" in e}
        for upper in VARIABLES:
            # Each form present is compared; a variable absent in both forms is compared as absent. (A pod with
            # only one form was not given it by AKS, which sets both: that form is what its programs read.)
            present = [n for n in (upper, upper.lower()) if n in env] or [upper]
            any_variable |= any(n in env for n in (upper, upper.lower()))
            for name in present:
                found = env.get(name)
                if not _matches(upper, found, expected):
                    want = {"HTTP_PROXY": expected.http_proxy,
                            "HTTPS_PROXY": expected.https_proxy or expected.https_fallback,
                            "NO_PROXY": ",".join(sorted(expected.no_proxy)) or None}[upper]
                    out.append(Difference(name, container.get("name", "?"), _mask(found), _mask(want)))
    return out, any_variable


def _matches(variable: str, found: str | None, expected: Expected) -> bool:
    # ``found`` was masked in the cluster (JQ_FILTER): compared with the expected value masked alike.
    if variable == "HTTP_PROXY":
        return _mask(found or None) == _mask(expected.http_proxy)
    if variable == "HTTPS_PROXY":
        if expected.https_proxy:
            return _mask(found) == _mask(expected.https_proxy)
        return _mask(found or None) in (None, _mask(expected.https_fallback))
    entries = frozenset(_entries(found or ""))
    if not expected.enabled:
        return not entries
    return entries == expected.no_proxy or (expected.user_no_proxy <= entries <= expected.no_proxy
                                            and bool(entries))


def stale_pods(pods: Sequence[Mapping[str, Any]], config: Mapping[str, Any] | None,
               user_no_proxy: Sequence[str] | None = None) -> PodReport:
    """Compare every pod of ``kubectl get pods -A -o json``'s ``items`` with the cluster's ``httpProxyConfig`` (the
    user's own noProxy entries: ``user_no_proxy``, default all of noProxy)."""
    expected = Expected.from_config(config, user_no_proxy)
    stale: dict[tuple[str, str, str], Workload] = {}
    opted: dict[tuple[str, str, str], Workload] = {}
    current = without = 0
    for pod in pods:
        meta = pod.get("metadata") or {}
        namespace, name = meta.get("namespace", "default"), meta.get("name", "?")
        kind, owner_name = owner(pod)
        key = (namespace, kind, owner_name)
        if (meta.get("annotations") or {}).get(OPT_OUT) == "true":
            opted.setdefault(key, Workload(namespace, kind, owner_name)).pods.append(name)
            continue
        differences, any_variable = _differences(pod, expected)
        if not any_variable and not expected.enabled:
            current += 1
        elif not any_variable:
            without += 1  # the webhook did not inject here (or the pod predates the proxy): not a verdict of ours
        elif differences:
            workload = stale.setdefault(key, Workload(namespace, kind, owner_name))
            workload.pods.append(name)
            workload.differences.extend(differences)
        else:
            current += 1
    order = sorted
    return PodReport(expected, [stale[k] for k in order(stale)], [opted[k] for k in order(opted)], current, without)
