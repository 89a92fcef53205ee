"""`az aks http-proxy pods` through the real az: the emulator's AKS run command runs `kubectl get pods -A -o json`
with its own kubectl (tests/armemu/kubectl.py), which lists the pods seeded here."""
from __future__ import annotations

import pytest

from tests.pod_fixtures import NEW, seeded

RUN_COMMAND = "/runcommand"


@pytest.fixture
def cluster(emu):
    emu.seed_cluster("rg1", "c1", http_proxy_config={"httpProxy": NEW, "httpsProxy": NEW,
                                                     "noProxy": ["localhost", ".svc"]})
    emu.seed_pods("rg1", "c1", seeded())
    return emu


def pods(az_ext, *extra):
    return az_ext.az("aks", "http-proxy", "pods", "-g", "rg1", "-n", "c1", *extra)


def test_the_pods_seeded_with_old_variables_are_listed_by_owner_and_the_opted_out_apart(az_ext, cluster):
    r = pods(az_ext, "-o", "json")
    assert r.ok, r
    report = r.json
    assert [(w["namespace"], w["ownerKind"], w["owner"]) for w in report["stale"]] == [
        ("data", "StatefulSet", "db"), ("kube-system", "DaemonSet", "agent"), ("tools", "Pod", "debug"),
        ("web", "Deployment", "front")]
    front = report["stale"][-1]
    assert front["pods"] == ["front-7d9f8-abcde", "front-7d9f8-fghij"]
    assert front["restart"] == "kubectl rollout restart deployment/front -n web"
    assert {d["variable"] for d in front["differences"]} == {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY",
                                                               "https_proxy"}
    assert report["optedOut"] == [{"namespace": "web", "ownerKind": "Deployment", "owner": "legacy",
                                   "pods": ["legacy-9c-zz"]}]
    assert report["currentPods"] == 2 and report["podsWithoutProxyVariables"] == 1
    assert report["expected"]["HTTP_PROXY"] == NEW and "localhost" in report["expected"]["NO_PROXY"]
    assert "s3cret" not in r.stdout and "s3cret" not in r.stderr
    writes = cluster.writes()
    assert [w["path"].lower().endswith(RUN_COMMAND) for w in writes] == [True]
    assert "kubectl get pods -A -o json | jq -c -f aksproxy-pods.jq" in writes[0]["body"]["command"]
    assert cluster.kube_events("rg1", "c1") == []  # nothing created in the cluster


def test_restart_commands_as_tsv(az_ext, cluster):
    r = pods(az_ext, "--query", "stale[?ownerKind=='Deployment'].restart", "-o", "tsv")
    assert r.ok, r
    assert r.stdout.split("\n")[0] == "kubectl rollout restart deployment/front -n web"


def test_table_output_has_a_row_per_workload(az_ext, cluster):
    r = pods(az_ext, "-o", "table")
    assert r.ok, r
    header, _, *rows = r.stdout.splitlines()
    assert header.split()[:5] == ["State", "Namespace", "OwnerKind", "Owner", "Pods"]
    assert [row.split()[:5] for row in rows] == [
        ["stale", "data", "StatefulSet", "db", "1"], ["stale", "kube-system", "DaemonSet", "agent", "1"],
        ["stale", "tools", "Pod", "debug", "1"], ["stale", "web", "Deployment", "front", "2"],
        ["opted-out", "web", "Deployment", "legacy", "1"]]


def test_a_refused_run_command_says_so_and_lists_nothing(az_ext, emu):
    emu.seed_cluster("rg1", "c1", properties={"apiServerAccessProfile": {"disableRunCommand": True}})
    r = pods(az_ext, "-o", "json")
    assert r.rc != 0 and r.json is None, r
    assert "AKS run command was refused: (RunCommandDisabled)" in r.stderr and "nothing was written" in r.stderr


def test_help_has_examples(az_ext):
    r = az_ext.az("aks", "http-proxy", "pods", "--help")
    assert r.ok and "rollout restart" not in r.stdout or "stale[].restart" in r.stdout
    assert "no-http-proxy-vars" in " ".join(r.stdout.split())


def test_a_pod_list_past_the_run_commands_output_limit_fails_naming_it(az_ext, emu):
    from tests.pod_fixtures import OLD, pod, proxy_env

    emu.seed_cluster("rg1", "c1", http_proxy_config={"httpProxy": NEW, "noProxy": ["localhost"]})
    long_no_proxy = ",".join(f"host{i}.example" for i in range(60))  # what leaves the cluster: proxy variables
    emu.seed_pods("rg1", "c1", [pod("big", f"p{i}", proxy_env(OLD, no_proxy=long_no_proxy)) for i in range(600)])
    r = pods(az_ext, "-o", "json")
    assert r.rc != 0 and r.json is None, r
    assert "did not return a readable pod list" in r.stderr and "at most 512 KB" in r.stderr
