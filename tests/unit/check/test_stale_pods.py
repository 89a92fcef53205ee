"""The stale-pods comparison (check.stale_pods): which pods run with other proxy variables than the config's."""
from __future__ import annotations

import json

from azext_aksproxy.check.stale_pods import owner, stale_pods
from tests.pod_fixtures import NEW, OLD, pod, proxy_env, seeded

CONFIG = {"httpProxy": NEW, "httpsProxy": NEW, "noProxy": ["localhost", ".svc"],
          "effectiveNoProxy": ["localhost", ".svc", "10.0.0.0/16", "konnectivity"]}


def test_stale_pods_are_grouped_by_owner_with_what_to_restart():
    report = stale_pods(seeded(), CONFIG).to_dict()
    stale = {(w["namespace"], w["ownerKind"], w["owner"]): w for w in report["stale"]}
    assert set(stale) == {("web", "Deployment", "front"), ("data", "StatefulSet", "db"),
                          ("kube-system", "DaemonSet", "agent"), ("tools", "Pod", "debug")}
    assert stale[("web", "Deployment", "front")]["pods"] == ["front-7d9f8-abcde", "front-7d9f8-fghij"]
    assert stale[("web", "Deployment", "front")]["restart"] == "kubectl rollout restart deployment/front -n web"
    assert stale[("kube-system", "DaemonSet", "agent")]["restart"] == \
        "kubectl rollout restart daemonset/agent -n kube-system"
    assert stale[("tools", "Pod", "debug")]["restart"].startswith("kubectl delete pod debug -n tools")
    variables = {d["variable"] for d in stale[("web", "Deployment", "front")]["differences"]}
    assert variables == {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"}  # NO_PROXY matches
    assert report["optedOut"] == [{"namespace": "web", "ownerKind": "Deployment", "owner": "legacy",
                                   "pods": ["legacy-9c-zz"]}]
    assert report["currentPods"] == 2 and report["podsWithoutProxyVariables"] == 1  # back, nightly; no-vars


def test_no_proxy_is_compared_as_a_set_and_a_stale_no_proxy_is_found():
    (w,) = stale_pods([pod("data", "db-0", proxy_env(NEW, no_proxy="localhost"), ("StatefulSet", "db"))],
                      CONFIG).stale
    assert {d.variable for d in w.differences} == {"NO_PROXY", "no_proxy"}  # .svc missing: the user's entry
    same = [pod("a", "p", proxy_env(NEW, no_proxy="konnectivity,10.0.0.0/16,.svc,localhost"))]
    assert stale_pods(same, CONFIG).stale == []  # another order is the same list


def test_credentials_in_values_are_never_printed():
    text = json.dumps(stale_pods(seeded(), CONFIG).to_dict())
    assert "s3cret" not in text and "user" not in text.replace("userNoProxy", "")


def test_https_proxy_falls_back_to_http_proxy_when_unset():
    config = {"httpProxy": NEW, "noProxy": ["localhost"]}
    absent = pod("a", "p", [{"name": "HTTP_PROXY", "value": NEW}, {"name": "NO_PROXY", "value": "localhost"}])
    same = pod("a", "q", proxy_env(NEW, no_proxy="localhost"))
    assert stale_pods([absent, same], config).stale == []


def test_a_disabled_proxy_makes_every_pod_with_variables_stale():
    report = stale_pods([pod("a", "p", proxy_env(OLD)), pod("a", "q")], {**CONFIG, "enabled": False})
    assert [w.name for w in report.stale] == ["p"] and report.current == 1
    assert report.to_dict()["expected"] is None


def test_init_containers_count_too():
    p = pod("a", "p", proxy_env(NEW, no_proxy="localhost,.svc"), init_env=proxy_env(OLD, no_proxy="localhost,.svc"))
    (w,) = stale_pods([p], CONFIG).stale
    assert {d.container for d in w.differences} == {"init"}


def test_owner_of_a_replica_set_without_the_template_hash_stays_the_replica_set():
    assert owner(pod("a", "rs-x", owner=("ReplicaSet", "rs"))) == ("ReplicaSet", "rs")
    assert owner(pod("a", "front-1-x", owner=("ReplicaSet", "front-1"), template_hash="1")) == ("Deployment", "front")
    assert owner(pod("a", "bare")) == ("Pod", "bare")
