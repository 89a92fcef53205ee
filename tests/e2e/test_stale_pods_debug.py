"""`az aks http-proxy pods --debug`: az traces the run command's response, logs included, so the pods' credentials
must be masked inside the cluster (jq in the run command's pod) before they leave it. The real az and the wheel
against the emulator, whose AKS run command runs the command with this machine's jq and its own kubectl."""
from __future__ import annotations

from tests.pod_fixtures import NEW, pod, seeded

SECRETS = ("s3cret", "hunter2", "pa55word")


def seed(emu):
    emu.seed_cluster("rg1", "c1", http_proxy_config={"httpProxy": NEW, "httpsProxy": NEW,
                                                     "noProxy": ["localhost", ".svc"]})
    emu.seed_pods("rg1", "c1", [*seeded(), pod("tools", "client", env=[
        {"name": "DB_PASSWORD", "value": "hunter2"},  # not a proxy variable: never leaves the cluster
        {"name": "http_proxy", "value": "http://svc:pa55word@old:3128/"}])])


def test_debug_output_holds_no_credential_and_the_verdict_is_unchanged(az_ext, emu):
    seed(emu)
    r = az_ext.az("aks", "http-proxy", "pods", "-g", "rg1", "-n", "c1", "-o", "json", "--debug")
    assert r.ok, r.stderr[-3000:]
    assert "commandResults" in r.stderr and '"logs"' in r.stderr  # az did trace the run command's response
    for secret in SECRETS:
        assert secret not in r.stdout and secret not in r.stderr, secret
    stale = {(w["namespace"], w["owner"]): w for w in r.json["stale"]}
    assert set(stale) == {("data", "db"), ("kube-system", "agent"), ("tools", "debug"), ("tools", "client"),
                          ("web", "front")}
    assert [d["found"] for d in stale[("tools", "debug")]["differences"] if d["variable"] == "HTTPS_PROXY"] == [
        "http://***@old:3128/"]
    (run,) = [w for w in emu.writes() if w["path"].lower().endswith("/runcommand")]
    assert run["body"]["command"].endswith("kubectl get pods -A -o json | jq -c -f aksproxy-pods.jq")


def test_a_run_command_pod_without_jq_lists_nothing_and_says_why(az_ext, emu):
    seed(emu)
    emu.configure(aks_command_pod_missing_tools=["jq"])
    r = az_ext.az("aks", "http-proxy", "pods", "-g", "rg1", "-n", "c1", "-o", "json", "--debug")
    assert r.rc != 0 and "the run command pod has no jq" in r.stderr and "nothing was written" in r.stderr, r
    for secret in SECRETS:
        assert secret not in r.stdout and secret not in r.stderr, secret
