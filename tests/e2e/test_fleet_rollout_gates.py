"""A Fleet update strategy honoured whole, through the real az and the wheel against the emulator: an Approval gate
stops apply (exit 7) with zero writes beyond it until a run passes it on its command line; a ScheduledStart gate is
not passed before its time; a stage's maxAllowedFailures halts the run beside --allowed-failures; a strategy field
aksproxy cannot honour (unknown, or memberSelector read from Fleet) is refused with exit 1 and zero writes."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.e2e.test_fleet_rollout import (
    EXIT_HALTED,
    apply,
    cluster_path,
    cluster_puts,
    node_checks,
    plan,
    seed,
    status,
)
from tests.proxies import dead_proxy

EXIT_GATE = 7  # waiting at a gate
SIGN_OFF = {"displayName": "ops sign-off", "type": "Approval"}


def fleet_with_gate(emu, proxy_url: str, strategy: dict) -> None:
    for name in ("c1", "c2", "c3"):
        seed(emu, name, proxy_url, nodes=1)
    emu.seed_fleet_manager("fleets", "platform", members=[
        {"name": "m1", "clusterResourceId": cluster_path(emu, "c1"), "group": "canary"},
        {"name": "m2", "clusterResourceId": cluster_path(emu, "c2"), "group": "prod"},
        {"name": "m3", "clusterResourceId": cluster_path(emu, "c3"), "group": "prod"}],
        update_strategies=[{"name": "gated", "strategy": strategy}])


def fleet_plan(az_ext, tmp_path, name="plan.json"):
    return plan(az_ext, tmp_path, "--add-no-proxy", ".new.example", "--fleet-name", "platform",
                "--fleet-resource-group", "fleets", "--fleet-strategy", "gated", name=name)


def test_an_approval_gate_stops_apply_until_a_run_passes_it(az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    fleet_with_gate(emu, squid_proxy.url, {"stages": [
        {"name": "canary", "groups": [{"name": "canary"}], "afterGates": [SIGN_OFF]},
        {"name": "prod", "groups": [{"name": "prod", "maxConcurrency": "100%"}]}]})
    r, path = fleet_plan(az_ext, tmp_path)
    assert r.ok, r.stderr
    doc = json.loads(path.read_text())
    assert doc["schemaVersion"] == 2 and doc["stages"][0]["afterGates"] == [SIGN_OFF]
    assert "canary:after: 'ops sign-off' (Approval)" in r.stderr

    since = emu.journal_last()
    r = apply(az_ext, path, env)
    assert r.rc == EXIT_GATE, r
    rows = {row["name"]: row for row in r.json}
    assert rows["c1"]["state"] == "done"
    assert rows["c2"]["state"] == rows["c3"]["state"] == "pending"
    assert "waiting at gate 'ops sign-off' (Approval) after stage canary" in rows["c2"]["detail"]
    assert "--approve canary:after" in r.stderr
    assert sorted(cluster_puts(emu, since)) == ["c1"]  # nothing beyond the gate: no write, no node check
    assert {c["path"].split("/")[4] for c in node_checks(emu, since)} == {"MC_rg1_c1_westus2"}

    since = emu.journal_last()
    r = apply(az_ext, path, env)  # a re-run remembers nothing: the gate still stands
    assert r.rc == EXIT_GATE, r
    r = apply(az_ext, path, env, "--approve", "prod:before")  # no such gate: refused by name
    assert r.rc == 1 and "--approve prod:before: the plan has no Approval gate there" in r.stderr, r
    assert "canary:after" in r.stderr
    assert not emu.writes(since)

    r = apply(az_ext, path, env, "--approve", "canary:after")
    assert r.rc == 0, r
    puts = cluster_puts(emu)
    assert {n: len(v) for n, v in puts.items()} == {"c1": 1, "c2": 1, "c3": 1}
    assert status(az_ext, path) == {"c1": "done", "c2": "done", "c3": "done"}
    since = emu.journal_last()
    r = apply(az_ext, path, env)  # prod began: the gate before it is behind, not asked again
    assert r.rc == 0, r
    assert not emu.writes(since)


def test_a_scheduled_start_gate_is_not_passed_before_its_time(az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    soon = datetime.now(UTC) + timedelta(days=3)  # never within the run's wait: the run stops and says when
    fleet_with_gate(emu, squid_proxy.url, {"stages": [
        {"name": "canary", "groups": [{"name": "canary"}, {"name": "prod"}], "beforeGates": [
            {"displayName": "maintenance night", "type": "ScheduledStart", "scheduledStartConfiguration": {
                "startDay": soon.strftime("%A"), "startTime": soon.strftime("%H:%M"), "utcOffset": "+00:00"}}]}]})
    r, path = fleet_plan(az_ext, tmp_path)
    assert r.ok, r.stderr
    not_before = json.loads(path.read_text())["stages"][0]["beforeGates"][0]["notBefore"]
    assert not_before == soon.replace(second=0, microsecond=0).isoformat()
    r = apply(az_ext, path, env)
    assert r.rc == EXIT_GATE, r
    assert f"gate 'maintenance night' (ScheduledStart) before stage canary (canary:before): not before " \
           f"{not_before}" in r.stderr
    assert not emu.writes()  # no write, no node check


def test_a_stage_budget_halts_beside_the_runs_own(az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    seed(emu, "c0", squid_proxy.url, nodes=1, tags={"ring": "canary"})
    for name, proxy in (("p1", dead_proxy()), ("p2", dead_proxy()), ("p3", squid_proxy.url)):
        seed(emu, name, proxy, nodes=1, tags={"ring": "prod"})
    strategy = tmp_path / "strategy.json"
    strategy.write_text(json.dumps({"stages": [
        {"name": "canary", "groups": [{"name": "canary"}]},
        {"name": "prod", "maxAllowedFailures": 1, "groups": [{"name": "prod", "maxConcurrency": "1"}]}]}))
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example", "--strategy-file", str(strategy),
                   "--group-tag", "ring")
    assert r.ok, r.stderr
    assert [c["name"] for c in json.loads(path.read_text())["clusters"]] == ["c0", "p1", "p2", "p3"]
    r = apply(az_ext, path, env, "--allowed-failures", "5")  # the run allows 5; stage prod allows 1
    assert r.rc == EXIT_HALTED, r
    rows = {row["name"]: row for row in r.json}
    assert rows["p1"]["state"] == rows["p2"]["state"] == "failed"  # the node check found the dead proxy
    assert rows["p3"]["state"] == "pending" and "not started: the rollout halted" in rows["p3"]["detail"]
    assert "stage prod holds 2 failed cluster(s); its maxAllowedFailures is 1" in r.stderr
    assert sorted(cluster_puts(emu)) == ["c0"]


def test_a_field_it_cannot_honour_is_refused_with_zero_writes(az_ext, fast, env, tmp_path, squid_proxy):
    emu = fast
    strategy = tmp_path / "strategy.json"
    strategy.write_text(json.dumps({"stages": [
        {"name": "canary", "groups": [{"name": "canary"}], "rollbackOnFailure": True}]}))
    r, path = plan(az_ext, tmp_path, "--add-no-proxy", ".new.example", "--strategy-file", str(strategy))
    # A strategy file is checked before any cluster is read.
    assert r.rc == 1 and not path.exists(), r
    assert "stages[0] (canary).rollbackOnFailure: unknown field" in r.stderr

    # memberSelector, as Fleet serves it in the version that has it: refused by name, never skipped.
    fleet_with_gate(emu, squid_proxy.url, {"stages": [
        {"name": "canary", "groups": [{"name": "canary", "memberSelector": {"byLabel": "ring=0"}}]}]})
    r, path = fleet_plan(az_ext, tmp_path, name="fleet.json")
    assert r.rc == 1 and not path.exists(), r
    assert "Update strategy gated of fleet platform: stages[0] (canary).groups[0] (canary).memberSelector: " \
           "selecting members by label is not supported" in r.stderr
    assert not emu.writes()
