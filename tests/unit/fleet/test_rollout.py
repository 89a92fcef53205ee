"""The fleet rollout's pure core: edits of one cluster's user config, Fleet-style stages, the plan file, the
per-cluster states read back and the scheduler."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from azext_aksproxy.fleet import edits, strategy
from azext_aksproxy.fleet import plan_file as plan
from azext_aksproxy.fleet import states as run
from azext_aksproxy.fleet.plan_file import PlanError, PlannedCluster
from azext_aksproxy.fleet.strategy import StrategyError

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def pem(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def fingerprint(cert) -> str:
    """As `openssl x509 -noout -fingerprint -sha256` prints it: upper-case hex pairs joined by colons."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def bundle(*certs) -> str:
    return base64.b64encode("".join(pem(c) for c in certs).encode()).decode()


def bundle_fingerprints(value: str) -> list[str]:
    return [c.fingerprint for c in edits.bundle_certificates(value)]


# ---- edits ------------------------------------------------------------------------------------------------------


def test_noproxy_edits_keep_each_clusters_own_entries_in_order():
    edit = edits.make_edit(add_no_proxy=["new.example", "A.example"], remove_no_proxy=["old.example"])
    user = {"httpProxy": "http://p:3128/", "noProxy": ["a.example", "old.example", "mine.local"]}
    out = edits.apply_edit(user, edit, NOW)
    assert out["noProxy"] == ["a.example", "mine.local", "new.example"]  # A.example already there (any case)
    assert user["noProxy"] == ["a.example", "old.example", "mine.local"]  # the input is not changed
    assert edits.apply_edit({"noProxy": ["old.example"]}, edits.make_edit(remove_no_proxy=["OLD.example"]),
                            NOW) == {}


def test_proxy_urls_and_reference_fields():
    reference = {"httpProxy": "http://ref:3128/", "httpsProxy": "http://ref:3129/", "noProxy": ["ignored"]}
    user = {"httpProxy": "http://old:3128/", "trustedCa": "abc", "noProxy": ["kept"]}
    out = edits.apply_edit(user, edits.make_edit(reference=reference), NOW)
    # The reference's three fields replace the cluster's (trustedCa absent there = removed); noProxy is the cluster's.
    assert out == {"httpProxy": "http://ref:3128/", "httpsProxy": "http://ref:3129/", "noProxy": ["kept"]}
    out = edits.apply_edit(user, edits.make_edit(https_proxy="http://new:3129/"), NOW)
    assert out["httpsProxy"] == "http://new:3129/" and out["httpProxy"] == "http://old:3128/"


def test_ca_rotation_add_then_remove_by_fingerprint_or_expired(certs):
    old, new = certs.issuing_ca("Old CA"), certs.issuing_ca("New CA")
    expired = certs.make("Expired CA", not_after=datetime(2020, 1, 1, tzinfo=UTC))
    user = {"httpProxy": "http://p:3128/", "trustedCa": bundle(old, expired)}
    added = edits.apply_edit(user, edits.make_edit(add_trusted_ca=[("new.pem", pem(new))]), NOW)
    assert bundle_fingerprints(added["trustedCa"]) == [fingerprint(old), fingerprint(expired), fingerprint(new)]
    # Adding it again changes nothing: the same bundle, byte for byte.
    again = edits.apply_edit(added, edits.make_edit(add_trusted_ca=[("new.pem", pem(new))]), NOW)
    assert again["trustedCa"] == added["trustedCa"]
    # The user's fingerprint in any case, colons optional; every line says it as openssl prints it.
    lower = fingerprint(old).lower()
    drop = edits.make_edit(remove_trusted_ca=[f" {lower} ", "EXPIRED"])
    assert drop.describe() == [f"trustedCa -= SHA-256 {fingerprint(old)}", "trustedCa -= every expired certificate"]
    removed = edits.apply_edit(added, drop, NOW)
    assert bundle_fingerprints(removed["trustedCa"]) == [fingerprint(new)]
    bare = fingerprint(new).replace(":", "").lower()
    gone = edits.apply_edit(removed, edits.make_edit(remove_trusted_ca=[bare]), NOW)
    assert "trustedCa" not in gone
    assert edits.make_edit(add_trusted_ca=[("new.pem", pem(new))]).describe() == [
        f"trustedCa += CN=New CA (SHA-256 {fingerprint(new)})"]


def test_edit_errors(certs):
    for wrong in ("abcd", "g" * 64, "AB:" * 31):
        with pytest.raises(edits.EditError, match="not a SHA-256 fingerprint .* nor 'expired'"):
            edits.make_edit(remove_trusted_ca=[wrong])
    with pytest.raises(edits.EditError, match="no complete PEM CERTIFICATE"):
        edits.make_edit(add_trusted_ca=[("x.pem", "not a certificate")])
    ca = certs.issuing_ca()
    with pytest.raises(edits.EditError, match=f"both added and removed: SHA-256 {fingerprint(ca)}"):
        edits.make_edit(add_trusted_ca=[("ca.pem", pem(ca))], remove_trusted_ca=[fingerprint(ca).lower()])
    with pytest.raises(edits.EditError, match="not base64"):
        edits.apply_edit({"trustedCa": "%%%"}, edits.make_edit(remove_trusted_ca=["expired"]), NOW)
    assert edits.make_edit().is_empty()
    assert not edits.make_edit(add_no_proxy=["x"]).is_empty()


# ---- strategy ---------------------------------------------------------------------------------------------------


IDS = [f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c{i}"
       for i in range(20)]


def test_simple_stages_canary_ten_percent_rest():
    a = strategy.simple_stages("1,10%,rest", IDS, "3", 60)
    assert [s.name for s in a.stages] == ["stage-1", "stage-2", "stage-3"]
    sizes = [sum(1 for v in a.of.values() if v[0] == i) for i in range(3)]
    assert sizes == [1, 2, 17]
    assert a.of[IDS[0].lower()] == (0, "stage-1") and a.stages[2].groups[0].limit(17) == 3
    assert a.stages[0].after_wait_seconds == 60
    small = strategy.simple_stages("1,10%,rest", IDS[:1], "1")
    assert len(small.stages) == 1  # empty stages dropped


@pytest.mark.parametrize("spec, message", [("rest,1", "only be the last"), ("1,2", "covers 3 of the 20"),
                                           ("1,x", "not a count"), ("1,,rest", "separated by commas"),
                                           ("0,rest", "not a count"), ("150%,rest", "not a count")])
def test_simple_stages_errors(spec, message):
    with pytest.raises(StrategyError, match=message):
        strategy.simple_stages(spec, IDS)


def test_strategy_file_fleet_shape_and_groups():
    doc = {"properties": {"strategy": {"stages": [
        {"name": "canary", "groups": [{"name": "canary", "maxConcurrency": "1"}], "afterStageWaitInSeconds": 3600},
        {"name": "prod", "groups": [{"name": "eu", "maxConcurrency": "25%"}, {"name": "us"}]}]}}}
    stages = strategy.parse_strategy(doc)
    assert [(s.name, [g.name for g in s.groups], s.after_wait_seconds) for s in stages] == \
        [("canary", ["canary"], 3600), ("prod", ["eu", "us"], 0)]
    assert stages[1].groups[0].limit(10) == 3 and stages[1].groups[1].limit(10) == 1
    a = strategy.assign_groups(stages, {IDS[0]: "Canary", IDS[1]: "eu", IDS[2]: "us"})
    assert a.of[IDS[0].lower()] == (0, "canary") and a.of[IDS[2].lower()] == (1, "us")
    with pytest.raises(StrategyError, match=r"2 selected cluster\(s\) are in no group.*no group label.*'asia'"):
        strategy.assign_groups(stages, {IDS[0]: None, IDS[1]: "asia"})


@pytest.mark.parametrize("doc, message", [
    ({}, "at least one stage"),
    ({"stages": [{"groups": [{"name": "g"}]}]}, r"stages\[0\] needs a name"),
    ({"stages": [{"name": "s", "groups": []}]}, "at least one group"),
    ({"stages": [{"name": "s", "groups": [{"name": "g", "maxConcurrency": "0"}]}]}, "maxConcurrency"),
    ({"stages": [{"name": "s", "groups": [{"name": "g"}, {"name": "G"}]}]}, "appears twice"),
    ({"stages": [{"name": "s", "groups": [{"name": "g"}], "afterStageWaitInSeconds": -1}]}, "0 or more"),
])
def test_strategy_file_errors(doc, message):
    with pytest.raises(StrategyError, match=message):
        strategy.parse_strategy(doc)


# ---- plan file --------------------------------------------------------------------------------------------------


def planned(i: int, stage: int = 0, action: str = plan.CHANGE, group: str = "stage-1", etag: str = "e1"):
    return PlannedCluster(IDS[i], etag, stage, group, action, {"httpProxy": "http://u:secret@old:3128/"},
                          {"httpProxy": "http://new:3128/"}, ("httpProxy",), ({"name": "np1", "nodes": 3},),
                          {"nodeDisruptionPolicy": "Allow", "allowed": True}, "")


def two_stage_plan(clusters=None) -> plan.Plan:
    stages = (strategy.Stage("stage-1", (strategy.Group("stage-1", "1"),), 0),
              strategy.Stage("stage-2", (strategy.Group("stage-2", "2"),), 0))
    clusters = clusters or [planned(0), planned(1, 1, group="stage-2"), planned(2, 1, group="stage-2"),
                            planned(3, 1, plan.UNCHANGED, "stage-2"), planned(4, 1, plan.HELD, "stage-2")]
    return plan.build_plan(stages, clusters, ["httpProxy = http://new:3128/"], "2026-06-01T00:00:00Z")


def test_plan_round_trip_totals_and_masking():
    p = two_stage_plan()
    text = p.dumps()
    assert "secret" not in text  # the before-config's credentials are masked
    again = plan.parse_plan(text)
    assert again.totals() == {"clusters": 5, "changed": 3, "unchanged": 1, "held": 1, "nodes": 9}
    assert [c.id for c in again.clusters] == [c.id for c in p.clusters]
    assert again.clusters[0].after == {"httpProxy": "http://new:3128/"}
    assert again.clusters[1].resource_group == "rg" and again.clusters[1].name == "c1"
    assert again.stage_index("STAGE-2") == 1
    assert "3 to change (9 node(s) reimaged), 1 unchanged, 1 held" in again.summary()


def test_a_plan_written_before_fingerprints_were_openssls_still_reads():
    """Plans of older versions hold the edit as text with lower-case fingerprints: read and kept as written."""
    doc = two_stage_plan().to_document()
    old_edit = ["trustedCa += CN=New CA (SHA-256 " + "ab" * 32 + ")", "trustedCa -= SHA-256 " + "cd" * 32]
    doc["edit"] = old_edit
    again = plan.parse_plan(json.dumps(doc))
    assert list(again.edit) == old_edit and json.loads(again.dumps())["edit"] == old_edit


def _broken(mutate) -> str:
    doc = two_stage_plan().to_document()
    mutate(doc)
    return json.dumps(doc)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(schemaVersion=3), "schemaVersion 3; this aksproxy reads version 1 or 2"),
    (lambda d: d.update(kind="other"), "not an aksproxy rollout plan"),
    (lambda d: d["clusters"][0].pop("eTag"), r"\$.clusters\[0\].eTag is missing"),
    (lambda d: d["clusters"][1].update(stage="nope"), "stage 'nope' is not one of"),
    (lambda d: d["clusters"][1].update(group="stage-1"), "group 'stage-1' is not in stage 'stage-2'"),
    (lambda d: d["clusters"][1].update(action="write"), "action 'write'"),
    (lambda d: d["clusters"][1].update(after="x"), "after is missing or not a dict"),
    (lambda d: d["clusters"].append(dict(d["clusters"][0])), "listed twice"),
    (lambda d: d["stages"][0]["groups"][0].update(maxConcurrency="0"), "maxConcurrency"),
    (lambda d: d.update(stages=[]), "no stage"),
])
def test_plan_parse_is_strict(mutate, message):
    with pytest.raises(PlanError, match=message):
        plan.parse_plan(_broken(mutate))


def test_plan_parse_not_json():
    with pytest.raises(PlanError, match="not JSON"):
        plan.parse_plan('{"schemaVersion": 1,')
    with pytest.raises(PlanError, match="not a rollout plan"):
        plan.parse_plan("[]")


# ---- states -----------------------------------------------------------------------------------------------------


def cluster(etag="e1", state="Succeeded"):
    return {"eTag": etag, "properties": {"provisioningState": state}}


def test_observed_states():
    entry = planned(0)
    assert run.observed_state(entry, None, [])[0] == run.GONE
    assert run.observed_state(entry, cluster(), ["httpProxy"])[0] == run.PENDING
    assert run.observed_state(entry, cluster('"e1"'), ["httpProxy"])[0] == run.PENDING  # header quoting
    assert run.observed_state(entry, cluster("e2"), ["httpProxy"])[0] == run.DRIFTED
    assert run.observed_state(entry, cluster("e2"), [])[0] == run.DONE
    assert run.observed_state(entry, cluster("e2", "Updating"), [])[0] == run.RUNNING
    assert run.observed_state(entry, cluster("e2", "Failed"), [])[0] == run.FAILED
    assert run.observed_state(planned(0, action=plan.UNCHANGED), cluster(), [])[0] == run.UNCHANGED
    assert run.observed_state(planned(0, action=plan.UNCHANGED), cluster(), ["noProxy"])[0] == run.DRIFTED
    assert run.observed_state(planned(0, action=plan.HELD), cluster(), ["noProxy"])[0] == run.HELD


# ---- scheduler --------------------------------------------------------------------------------------------------


def scheduler(p, states=None, stages=None, allowed=0):
    states = states or {}
    return run.Scheduler(p, {c.id.lower(): states.get(c.id, run.PENDING if c.action == plan.CHANGE else
                                                      run.UNCHANGED if c.action == plan.UNCHANGED else run.HELD)
                             for c in p.clusters}, tuple(stages or range(len(p.stages))), allowed)


def test_canary_first_then_the_stage_under_its_concurrency():
    p = two_stage_plan()
    s = scheduler(p)
    assert s.next(0).start == (IDS[0],)
    assert s.next(0) == run.Step()  # the canary runs: wait
    s.ended(IDS[0], run.DONE)
    assert s.next(1).start == (IDS[1], IDS[2])  # maxConcurrency 2; unchanged and held never start
    s.ended(IDS[1], run.DONE)
    s.ended(IDS[2], run.DONE)
    assert s.next(2).finished
    assert s.exit_code() == run.EXIT_HELD  # one cluster held


def test_a_failure_halts_the_stage_and_later_stages():
    stages = (strategy.Stage("s1", (strategy.Group("g1", "2"),), 0), strategy.Stage("s2", (strategy.Group("g2"),)))
    clusters = [planned(0, 0, group="g1"), planned(1, 0, group="g1"), planned(2, 0, group="g1"),
                planned(3, 1, group="g2")]
    s = scheduler(plan.build_plan(stages, clusters, [], ""))
    assert s.next(0).start == (IDS[0], IDS[1])
    s.ended(IDS[0], run.FAILED)
    assert s.next(0) == run.Step()  # c1 still followed, c2 not started
    s.ended(IDS[1], run.DONE)
    assert s.next(0).finished and s.halted
    assert s.states[IDS[2].lower()] == run.PENDING and s.states[IDS[3].lower()] == run.PENDING
    assert s.exit_code() == run.EXIT_HALTED


def test_allowed_failures_budget_and_drift_counts_as_failure():
    p = two_stage_plan([planned(0), planned(1, 1, group="stage-2"), planned(2, 1, group="stage-2")])
    s = scheduler(p, allowed=1)
    s.next(0)
    s.ended(IDS[0], run.DRIFTED)
    assert not s.halted and s.next(0).start == (IDS[1], IDS[2])
    s.ended(IDS[1], run.FAILED)
    assert s.halted
    s.ended(IDS[2], run.DONE)
    assert s.next(0).finished and s.exit_code() == run.EXIT_HALTED


def test_a_failure_within_the_budget_lets_its_stage_go_on_but_never_a_later_stage_start():
    stages = (strategy.Stage("s1", (strategy.Group("g1"),), 0), strategy.Stage("s2", (strategy.Group("g2"),)))
    p = plan.build_plan(stages, [planned(0, 0, group="g1"), planned(1, 0, group="g1"), planned(2, 1, group="g2")],
                        [], "")
    s = scheduler(p, allowed=1)
    assert s.next(0).start == (IDS[0],)
    s.ended(IDS[0], run.FAILED)
    assert not s.halted and s.next(0).start == (IDS[1],)  # the rest of the stage, within the budget
    s.ended(IDS[1], run.DONE)
    assert s.next(0).finished and s.blocked
    assert s.states[IDS[2].lower()] == run.PENDING  # as a re-run would hold it: one outcome either way
    assert s.exit_code() == run.EXIT_HALTED


def test_soak_after_a_stage_that_wrote_and_none_on_resume():
    stages = (strategy.Stage("s1", (strategy.Group("g1"),), 30), strategy.Stage("s2", (strategy.Group("g2"),), 30))
    p = plan.build_plan(stages, [planned(0, 0, group="g1"), planned(1, 1, group="g2")], [], "")
    s = scheduler(p)
    s.next(0)
    s.ended(IDS[0], run.DONE)
    assert s.next(10) == run.Step(wait_until=40)
    assert s.next(39) == run.Step(wait_until=40)
    assert s.next(40).start == (IDS[1],)
    s.ended(IDS[1], run.DONE)
    assert s.next(50).finished and s.exit_code() == run.EXIT_DONE  # no soak after the last stage
    resumed = scheduler(p, {IDS[0]: run.DONE})  # stage 1 done before: no soak again
    assert resumed.next(0).start == (IDS[1],)


def test_running_clusters_are_followed_and_a_stage_alone_checks_the_earlier_ones():
    p = two_stage_plan([planned(0), planned(1, 1, group="stage-2")])
    s = scheduler(p, {IDS[0]: run.RUNNING})
    assert s.next(0).start == (IDS[0],)
    states = {IDS[0].lower(): run.FAILED, IDS[1].lower(): run.PENDING}
    assert [c.id for c in run.earlier_stages_open(p, states, 1)] == [IDS[0]]
    assert run.earlier_stages_open(p, {**states, IDS[0].lower(): run.DONE}, 1) == []
    only_two = scheduler(p, {IDS[0]: run.DONE}, stages=[1])
    assert only_two.next(0).start == (IDS[1],)


# ---- report -----------------------------------------------------------------------------------------------------


def test_report_document_states_and_overall_state(certs):
    from azext_aksproxy.fleet import rollout_report as report
    from azext_aksproxy.fleet.report_html import render

    ca = certs.issuing_ca("New Corp CA")
    p = two_stage_plan()
    first = p.clusters[0]
    p = plan.Plan(p.stages, (PlannedCluster(first.id, first.etag, 0, first.group, first.action, first.before,
                                            {**first.after, "trustedCa": bundle(ca)}, first.changed_fields,
                                            first.pools, first.disruption), *p.clusters[1:]))
    observed = {IDS[0].lower(): (run.DONE, "runs the planned config"),
                IDS[1].lower(): (run.FAILED, "the rollout failed: (ReimageFailed) boom"),
                IDS[2].lower(): (run.PENDING, "as planned"), IDS[3].lower(): (run.UNCHANGED, "nothing"),
                IDS[4].lower(): (run.HELD, "Block")}
    doc = report.report_document(p, observed, "plan.json", NOW, 30)
    rows = {c["cluster"]: c for c in doc["clusters"]}
    assert doc["kind"] == "rollout" and doc["rollout"]["state"] == report.HALTED
    assert rows["c0"]["nodesReimaged"] == 3 and rows["c1"]["error"].endswith("boom") and rows["c4"]["reason"] == "Block"
    assert [c["subject"] for c in doc["certificates"]] == ["CN=New Corp CA"] and rows["c0"]["certificates"]
    assert "secret" not in json.dumps(doc) and "http://" not in json.dumps(doc)  # no config, no proxy URL
    assert "c1" in render(doc)
    assert report.overall_state([run.DONE, run.UNCHANGED, run.GONE]) == run.DONE
    assert report.overall_state([run.DONE, run.RUNNING, run.FAILED]) == run.RUNNING
    assert report.overall_state([run.DONE, run.PENDING]) == run.PENDING
    assert report.overall_state([run.HELD, run.DONE]) == "held"
