"""What an edit may write and where it says so: the scope of a rollout plan (fleet/scope.py), the left-out
clusters in the plan file and cluster labels with their subscription, and the one reimage decision shared with aks
update (cluster/pools.py)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from azext_aksproxy.cluster import pools
from azext_aksproxy.cluster.model import ClusterModel, VnetSpace
from azext_aksproxy.fleet import edits, scope
from azext_aksproxy.fleet import plan_file as plan
from azext_aksproxy.fleet.plan_file import LeftOut, PlanError, PlannedCluster
from azext_aksproxy.fleet.strategy import simple_stages

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SUB = "00000000-0000-0000-0000-00000000000a"
ID = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1"
PROXY = "http://proxy.example:3128/"


def cluster(config=None, *, pools_=None, **props) -> dict:
    body = {"id": ID, "name": "c1", "properties": {
        "fqdn": "c1.hcp.example", "networkProfile": {"podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16"},
        "agentPoolProfiles": pools_ or [{"name": "np1", "count": 1, "osType": "Linux"}], **props}}
    if config is not None:
        body["properties"]["httpProxyConfig"] = config
    return body


# ---- scope: which clusters, which config ----------------------------------------------------------------------


@pytest.mark.parametrize("config", [None, {}, {"noProxy": ["a.example"]}])
def test_a_cluster_without_a_proxy_is_out_of_scope_for_every_edit(config):
    model = ClusterModel(cluster(config))
    for edit in (edits.make_edit(http_proxy=PROXY, https_proxy=PROXY), edits.make_edit(add_no_proxy=["x"]),
                 edits.make_edit(reference={"httpProxy": PROXY, "httpsProxy": PROXY})):
        got = scope.edit_cluster(model, edit, NOW, "rg1/c1")
        assert got.before is None and got.after is None and got.problem == scope.NO_PROXY_REASON


def test_the_edit_starts_from_the_stored_config_so_localhost_is_kept():
    stored = {"httpProxy": PROXY, "httpsProxy": PROXY, "noProxy": ["localhost", "127.0.0.1", "own.example",
                                                                   "konnectivity", "c1.hcp.example"],
              "effectiveNoProxy": ["localhost", "127.0.0.1"]}
    model = ClusterModel(cluster(stored))
    assert model.user_config()["noProxy"] == ["own.example"]  # the model takes localhost for AKS's
    got = scope.edit_cluster(model, edits.make_edit(add_no_proxy=[".new.example"]), NOW, "rg1/c1")
    assert got.after["noProxy"] == [*stored["noProxy"], ".new.example"]
    assert "effectiveNoProxy" not in got.after and "effectiveNoProxy" not in got.before  # read-only: never sent
    assert model.changed_fields(got.after) == ["noProxy"]
    assert model.config_to_send(got.after) == got.after  # the PUT body: stored + edit


def test_an_edit_that_breaks_the_config_or_a_windows_pool_is_skipped_with_its_findings():
    model = ClusterModel(cluster({"httpProxy": PROXY, "httpsProxy": PROXY}))
    got = scope.edit_cluster(model, edits.make_edit(http_proxy="ftp://proxy.example:21/"), NOW, "rg1/c1")
    assert got.after is None and [f.code for f in got.findings] == ["url-scheme"]
    assert got.problem.startswith("1 problem(s) in the edited config: [url-scheme]")
    windows = ClusterModel(cluster({"httpProxy": PROXY, "httpsProxy": PROXY},
                                   pools_=[{"name": "np1", "osType": "Linux"}, {"name": "win", "osType": "Windows"}]))
    got = scope.edit_cluster(windows, edits.make_edit(add_no_proxy=["x.example"]), NOW, "rg1/c1")
    assert got.after is None and [f.code for f in got.findings] == ["pool-windows"]


def test_exclusions_by_id_tag_and_name_say_which_matched():
    c = {"id": ID, "name": "legacy", "tags": {"Freeze": "true", "team": "a"}}
    assert scope.Exclusion(ID.upper()).matches(c) == f"--exclude {ID.upper()}"
    assert scope.Exclusion(ID + "/").matches(c) and scope.Exclusion("/" + ID).matches(c)
    assert not scope.Exclusion(ID + "-2").matches(c)
    assert scope.Exclusion("freeze=true").matches(c) == "--exclude freeze=true (tag)"
    assert scope.Exclusion("freeze=false").matches(c) == ""
    assert scope.Exclusion("LEGACY").matches(c) == "--exclude LEGACY (name)"
    assert scope.Exclusion("team").matches(c) == "--exclude team (tag team)"
    assert scope.Exclusion("other").matches(c) == ""
    exclusions = [scope.Exclusion("other"), scope.Exclusion("legacy")]
    assert scope.exclusion_of(exclusions, c) == "--exclude legacy (name)"
    assert scope.unused_exclusions(exclusions, [c]) == ["other"]


# ---- the plan file: left-out clusters and labels --------------------------------------------------------------


def test_left_out_clusters_round_trip_and_may_not_also_be_planned():
    stages = simple_stages("rest", [ID], "1").stages
    other = ID.replace("/c1", "/c2")
    planned = PlannedCluster(ID, "e1", 0, stages[0].groups[0].name, plan.CHANGE, {}, {"httpProxy": PROXY},
                             ("httpProxy",), subscription_name="prod-eu")
    left = LeftOut(other, plan.OUT_OF_SCOPE, scope.NO_PROXY_REASON, "prod-eu")
    text = plan.build_plan(stages, [planned], ["httpProxy = x"], "now", [left]).dumps()
    back = plan.parse_plan(text)
    assert back.left_out == (left,) and back.clusters[0].subscription_name == "prod-eu"
    assert "Left out: 1 out-of-scope." in back.summary()
    doc = json.loads(text)
    assert doc["clusters"][0]["subscription"] == "prod-eu" and doc["leftOut"][0]["name"] == "c2"
    doc["leftOut"].append({**doc["leftOut"][0], "id": ID})
    with pytest.raises(PlanError, match="both planned and left out"):
        plan.parse_plan(json.dumps(doc))
    doc["leftOut"] = [{**doc["leftOut"][0], "action": "change"}]
    with pytest.raises(PlanError, match="is not one of out-of-scope"):
        plan.parse_plan(json.dumps(doc))


def test_a_label_names_the_subscription_so_the_same_rg_and_name_differ():
    other = ID.replace(SUB, "00000000-0000-0000-0000-00000000000b")
    assert plan.cluster_label(ID, "prod-eu") == "rg1/c1 (prod-eu)"
    assert plan.cluster_label(other) == "rg1/c1 (00000000-0000-0000-0000-00000000000b)"
    assert plan.cluster_label(ID, "prod-eu") != plan.cluster_label(other, "prod-us")
    assert plan.cluster_label(ID.upper().replace("RG1", "rg1").replace("/C1", "/c1") + "/") == f"rg1/c1 ({SUB.upper()})"
    assert plan.cluster_label("odd/id") == "odd/id"  # no resource group: the id as given


# ---- one reimage decision ----------------------------------------------------------------------------------------


def gate(allowed):
    calls = []

    def read():
        calls.append(1)
        return pools.DisruptionGate("Block", allowed, pools.BLOCKED_CODE if allowed is False else "", "why")

    return read, calls


def test_reimage_decision_consults_the_policy_only_for_a_certain_change():
    subnet = "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vn/subnets/a"
    stored = {"httpProxy": PROXY, "httpsProxy": PROXY, "noProxy": ["own.example", "10.60.0.0/16"]}
    unread = ClusterModel(cluster(stored, pools_=[{"name": "np1", "vnetSubnetID": subnet}]),
                          {subnet.split("/subnets/")[0].lower(): VnetSpace("vn", error="403")})
    read, calls = gate(False)
    same = pools.reimage_decision(unread, stored, read)
    assert same.verdict == pools.NO_REIMAGE and not calls
    maybe = pools.reimage_decision(unread, {**stored, "noProxy": ["own.example"]}, read)
    assert maybe.verdict == pools.MAY_REIMAGE and maybe.fields == ("noProxy",) and maybe.gate is None and not calls
    refused = pools.reimage_decision(unread, {**stored, "noProxy": ["own.example", "10.60.0.0/16", "x"]}, read)
    assert refused.verdict == pools.REFUSED and calls == [1] and refused.gate.code == pools.BLOCKED_CODE
    allowed, _ = gate(None)  # the window could not be read: the service decides, never refused here
    assert pools.reimage_decision(unread, {**stored, "httpProxy": "http://p2:1/"}, allowed).verdict == pools.REIMAGE
