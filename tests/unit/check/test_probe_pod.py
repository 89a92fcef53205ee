"""The probe pod (check.probe_pod): what `kubectl debug node` would create, the wrapper that always deletes it,
and the status line read back; and the verdicts both checks share (check.verdicts)."""
from __future__ import annotations

import base64

import pytest

from azext_aksproxy.check import node_probe as np
from azext_aksproxy.check import parse_targets, probe_pod, verdicts
from azext_aksproxy.check.probe import Proxy


def test_the_pod_sees_the_nodes_network_and_root_and_pins_the_node():
    pod = probe_pod.manifest("aksproxy-probe-1", "aks-np-1-vmss000000", ["echo hi"], 180)
    spec = pod["spec"]
    assert spec["hostNetwork"] and spec["hostPID"] and spec["nodeName"] == "aks-np-1-vmss000000"
    assert spec["volumes"] == [{"name": "host-root", "hostPath": {"path": "/"}}]
    (container,) = spec["containers"]
    assert container["command"][:4] == ["chroot", "/host", "/bin/bash", "-c"] and "echo hi" in container["command"][4]
    assert "securityContext" not in container  # not privileged: chroot needs no more than the default capabilities
    assert spec["restartPolicy"] == "Never" and spec["activeDeadlineSeconds"] == 180
    assert pod["metadata"]["annotations"] == {"kubernetes.azure.com/no-http-proxy-vars": "true"}
    unpinned = probe_pod.manifest("p", None, ["x"], 60, pool="egress")["spec"]
    assert "nodeName" not in unpinned and unpinned["nodeSelector"] == {"kubernetes.io/os": "linux",
                                                                        "agentpool": "egress"}


def test_the_wrapper_deletes_the_pod_on_every_way_out():
    text = probe_pod.wrapper("aksproxy-probe-1", 30)
    assert "trap 'kubectl delete pod \"$P\" -n \"$NS\" --ignore-not-found --wait=false" in text
    assert "kubectl create -f pod.json" in text and "kubectl logs \"$P\"" in text
    assert text.index("trap '") < text.index("kubectl create")  # armed before the pod exists
    assert "end=$((SECONDS + 30))" in text and "say timeout" in text


def test_the_status_line_is_read_back():
    error = base64.b64encode(b'Error from server (Forbidden): pods "p" is forbidden: violates PodSecurity').decode()
    out = probe_pod.outcome(f"AKSPROXY1 0 0 200 200 0.1 - -\n{np.RECORD} pod refused - {error}\n")
    assert out == probe_pod.PodOutcome("refused", "-", 'Error from server (Forbidden): pods "p" is forbidden: '
                                                      "violates PodSecurity")
    assert probe_pod.outcome(f"{np.RECORD} pod ran Succeeded -\n").state == "ran"
    assert probe_pod.outcome("nothing") is None


@pytest.mark.parametrize("error, cause", [
    ('pods "p" is forbidden: violates PodSecurity "baseline:latest": host namespaces', "Pod Security admission"),
    ('admission webhook "validation.gatekeeper.sh" denied the request: [azurepolicy-x]', "Azure Policy (Gatekeeper)"),
    ('pods is forbidden: User "u" cannot create resource "pods" in API group ""', "Kubernetes RBAC"),
    ('admission webhook "kyverno" denied the request', "an admission webhook"),
    ("kubectl could not read the run command pod's own image", "kubectl in the run command pod"),
])
def test_the_cause_of_a_refusal_is_named(error, cause):
    assert probe_pod.refusal_cause(error) == cause


def test_the_node_check_uses_the_same_verdicts_as_the_local_one():
    config = {"httpProxy": "http://proxy.contoso.com:3128/"}
    (probe,) = np.plan(config, parse_targets(["https://mcr.microsoft.com/"]))
    proxy = Proxy.from_config("httpProxy", config["httpProxy"])
    where = "node aks-np-1-vmss000000"
    cases = [  # (curl exit, http code, CONNECT code, error) -> the shared verdict
        ((56, 0, 407, ""), verdicts.proxy_auth_required(where, proxy, "CONNECT mcr.microsoft.com:443", "407")),
        ((56, 0, 503, ""), verdicts.proxy_error(where, proxy, probe.target, "CONNECT mcr.microsoft.com:443", "503")),
        ((56, 0, 403, ""), verdicts.connect_refused(where, proxy, probe.target, "CONNECT mcr.microsoft.com:443",
                                                    "403")),
        ((7, 0, 0, "refused"), verdicts.proxy_unreachable(where, proxy, "refused")),
        ((35, 0, 200, "bad tls"), verdicts.tls_handshake(where, f"mcr.microsoft.com through httpProxy {proxy.url}",
                                                          "bad tls")),
    ]
    for (rc, code, connect, error), expected in cases:
        record = np.NodeRecord(0, rc, code, connect, 0.1, error, ())
        result = np.judge(probe, record, None, where, 5)  # type: ignore[arg-type]
        (found,) = [f for f in result.findings if f.code == expected.code]
        assert (found.message, found.fix) == (expected.message, expected.fix)


def test_a_target_without_a_line_names_the_output_limit_not_a_long_chain():
    (probe,) = np.plan({"httpProxy": "http://p:3128/"}, parse_targets(["https://a.example/"]))
    (row,) = np.judge(probe, None, None, "node n1", 5, runs=3).findings  # type: ignore[arg-type]
    assert row.code == "node-no-result" and "in 3 run command(s)" in row.message
    assert "last 4,096 bytes of output" in row.message and "very long certificate chain" not in row.message
