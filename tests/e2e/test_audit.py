"""az aks http-proxy audit through the real az against the emulator's fleet subscriptions (tests/armemu/fleet.py):
every problem cluster listed and no good one, a few requests for a thousand clusters, injected 429s waited out, a
403 subscription reported as a row, exit codes per --fail-on, output formats, nothing written."""
from __future__ import annotations

import json

import pytest

from tests.armemu.state import SUBSCRIPTION_ID
from tests.fleet import mixed_fleet, subscription_id

LIST = "/providers/Microsoft.ContainerService/managedClusters"


def list_path(sub: str) -> str:
    return f"/subscriptions/{sub}{LIST}$"


def arm_entries(emu, since: int) -> list:
    return [e for e in emu.journal(since) if e["kind"] == "arm"]


def flagged(rows: list) -> set:
    return {(r["subscriptionId"], r["resourceGroup"], r["cluster"]) for r in rows if r["cluster"] is not None}


def reference_file(tmp_path, fleet) -> str:
    path = tmp_path / "reference.json"
    path.write_text(json.dumps(fleet.reference), encoding="utf-8")
    return str(path)


def test_thousand_clusters_twenty_subscriptions_with_429s_and_a_403(az_ext, emu, tmp_path):
    fleet = mixed_fleet(1000, 20)
    emu.seed_fleet(fleet.subscriptions)
    denied, throttled = fleet.subscriptions[7]["subscriptionId"], fleet.subscriptions[3]["subscriptionId"]
    emu.add_fault("status", method="GET", path_regex=list_path(denied), code=403, times=-1,
                  error_code="AuthorizationFailed",
                  message=f"The client does not have authorization to perform action "
                          f"'Microsoft.ContainerService/managedClusters/read' over scope '/subscriptions/{denied}'.")
    emu.add_fault("status", method="GET", path_regex=list_path(throttled), code=429, retry_after=1, times=2,
                  error_code="TooManyRequests", message="Too many requests.")
    emu.add_fault("status", method="GET", path_regex=r"^/subscriptions$", code=429, retry_after=1, times=1)
    since = emu.journal_last()

    r = az_ext.az("aks", "http-proxy", "audit", "--all-subscriptions", "--config", reference_file(tmp_path, fleet),
                  "-o", "json")

    assert r.rc == 1, r  # errors in the fleet: --fail-on error (the default) fails
    assert r.seconds < 30, r
    rows = r.json
    readable = {k for k in fleet.problems if k[0] != denied}
    assert flagged(rows) == readable  # every problem cluster, and no good one
    kinds = {k: {c for c in v if c[0] != denied} for k, v in fleet.kinds.items()}
    codes_by_cluster: dict = {}
    for row in rows:
        codes_by_cluster.setdefault((row["subscriptionId"], row["resourceGroup"], row["cluster"]), set()).add(
            row["code"])
    expected = {"expiring": "ca-expiring", "expired": "ca-expired", "windows": "pool-windows",
                "disabled": "proxy-disabled", "drifted": "config-drift", "unsupported-url": "url-scheme"}
    for kind, code in expected.items():
        assert kinds[kind] and all(code in codes_by_cluster[c] for c in kinds[kind]), kind
    denied_rows = [row for row in rows if row["subscriptionId"] == denied]
    assert [(row["code"], row["severity"], row["cluster"]) for row in denied_rows] == \
        [("subscription-unreadable", "error", None)]
    assert "AuthorizationFailed" in denied_rows[0]["message"] and "403" in denied_rows[0]["message"]
    assert "Audited 950 cluster(s) in 21 subscription(s)" in r.stderr
    assert "1 subscription(s) could not be read completely" in r.stderr

    entries = arm_entries(emu, since)
    assert not [e for e in entries if e["write"]]
    # One list per subscription (+ the subscription list), and the 3 throttled requests repeated: not 1,000 GETs.
    assert len(entries) == 1 + 21 + 3, [(e["status"], e["path"]) for e in entries]
    throttled_statuses = [e["status"] for e in entries if e["path"].startswith(f"/subscriptions/{throttled}/")]
    assert throttled_statuses == [429, 429, 200]
    assert [e["status"] for e in entries if e["path"] == "/subscriptions"] == [429, 200]
    # Retry-After was honoured: the retry came no sooner than a second after the 429.
    t429 = [e for e in entries if e["path"] == "/subscriptions"]
    assert t429[1]["t"] - t429[0]["t_end"] >= 0.9


def test_paged_lists_resource_group_and_subscriptions_by_name(az_ext, emu):
    fleet = mixed_fleet(60, 3)
    emu.seed_fleet(fleet.subscriptions)
    emu.configure(page_size=7)
    since = emu.journal_last()
    r = az_ext.az("aks", "http-proxy", "audit", "--subscriptions", "fleet-00", subscription_id(2),
                  "--fail-on", "never", "-o", "json")
    assert r.rc == 0, r
    wanted = {subscription_id(0), subscription_id(2)}
    assert flagged(r.json) == {k for k in fleet.problems if k[0] in wanted and k not in fleet.kinds["drifted"]}
    lists = [e for e in arm_entries(emu, since) if e["path"].endswith(LIST)]
    assert len(lists) == 2 * 3  # 20 clusters per subscription, 7 per page, followed by nextLink
    assert {e["path"].split("/")[2] for e in lists} == wanted

    group = "rg-000"
    r = az_ext.az("aks", "http-proxy", "audit", "--all-subscriptions", "-g", group, "--fail-on", "never", "-o", "json")
    assert r.rc == 0, r
    assert flagged(r.json) == {k for k in fleet.problems if k[1] == group and k not in fleet.kinds["drifted"]}
    assert "Audited 50 cluster(s) in 4 subscription(s)" in r.stderr  # the seed subscription has no such group


def test_table_query_tsv_and_expiry_horizon(az_ext, emu):
    fleet = mixed_fleet(40, 2)
    emu.seed_fleet(fleet.subscriptions)
    subs = [s["subscriptionId"] for s in fleet.subscriptions]

    r = az_ext.az("aks", "http-proxy", "audit", "--subscriptions", *subs, "-o", "table")
    assert r.rc == 1, r
    header = r.stdout.splitlines()[0].split()
    assert header == ["Subscription", "ResourceGroup", "Cluster", "Severity", "Code", "Message"]
    assert "fail the audit (--fail-on error)" in r.stderr

    r = az_ext.az("aks", "http-proxy", "audit", "--subscriptions", *subs, "--query", "[?code=='ca-expired'].cluster",
                  "-o", "tsv", "--fail-on", "never")
    assert r.rc == 0, r
    assert sorted(r.stdout.split()) == sorted(name for _, _, name in fleet.kinds["expired"])

    # The horizon: 800 days reaches the good CA too (730 days left), 5 days not even the expiring one (10).
    good = min(fleet.kinds["good"])
    expiring = min(fleet.kinds["expiring"])
    query = f"[?cluster=='{good[2]}' || cluster=='{expiring[2]}'].[cluster, code]"
    r = az_ext.az("aks", "http-proxy", "audit", "--subscriptions", *subs, "--expiring-within", "800",
                  "--query", query, "-o", "json")
    assert r.rc == 1 and sorted(map(tuple, r.json)) == sorted([(good[2], "ca-expiring"),
                                                               (expiring[2], "ca-expiring")]), r
    r = az_ext.az("aks", "http-proxy", "audit", "--subscriptions", *subs, "--expiring-within", "5",
                  "--query", query, "-o", "json")
    assert r.json == [], r
    r = az_ext.az("aks", "http-proxy", "audit", "--subscriptions", *subs, "--query", query, "-o", "json")
    assert r.json == [[expiring[2], "ca-expiring"]], r


def test_warning_only_fleet_exit_codes(az_ext, emu):
    emu.seed_cluster("rg1", "disabled", http_proxy_config={"httpProxy": "http://proxy.contoso.com:3128/",
                                                           "noProxy": [".svc", ".cluster.local"], "enabled": False})
    emu.seed_cluster("rg1", "plain")  # no proxy: nothing to say
    r = az_ext.az("aks", "http-proxy", "audit", "-o", "json")  # the current subscription
    assert r.rc == 0, r
    assert [(row["cluster"], row["code"]) for row in r.json] == [("disabled", "proxy-disabled")]
    assert r.json[0]["subscriptionId"] == SUBSCRIPTION_ID
    assert "1 with warnings only, 1 clean (1 without an HTTP proxy)" in r.stderr
    r = az_ext.az("aks", "http-proxy", "audit", "--fail-on", "warning", "-o", "json")
    assert r.rc == 1 and len(r.json) == 1, r


def test_credentials_never_printed(az_ext, emu):
    secret = "s3cr3t-Pa55"
    emu.seed_cluster("rg1", "creds", http_proxy_config={"httpProxy": f"http://user:{secret}@proxy.contoso.com:3128/"})
    r = az_ext.az("aks", "http-proxy", "audit", "-o", "json")
    assert r.rc == 1
    assert "url-credentials" in {row["code"] for row in r.json}
    assert secret not in r.stdout and secret not in r.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--subscriptions", "x", "--all-subscriptions"], "not both"),
    (["--expiring-within", "-1"], "--expiring-within must be 0 or more"),
])
def test_bad_arguments_read_nothing(az_ext, emu, args, message):
    since = emu.journal_last()
    r = az_ext.az("aks", "http-proxy", "audit", *args)
    assert r.rc != 0 and message in r.stderr, r
    assert not arm_entries(emu, since)


def test_bad_reference_config_reads_nothing(az_ext, emu, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"httpProxy": "https://proxy:3128/"}), encoding="utf-8")
    since = emu.journal_last()
    r = az_ext.az("aks", "http-proxy", "audit", "--config", str(bad))
    assert r.rc == 1 and "url-scheme" in r.stderr and "no cluster was read" in r.stderr, r
    assert not arm_entries(emu, since)


def test_unknown_subscription_name_is_a_row(az_ext, emu):
    fleet = mixed_fleet(20, 1)
    emu.seed_fleet(fleet.subscriptions)
    r = az_ext.az("aks", "http-proxy", "audit", "--subscriptions", "no-such-sub", "fleet-00", "-o", "json",
                  "--fail-on", "never")
    assert r.rc == 0, r
    unreadable = [row for row in r.json if row["code"] == "subscription-unreadable"]
    assert [row["subscriptionId"] for row in unreadable] == ["no-such-sub"]
    assert flagged(r.json) == fleet.problems - fleet.kinds["drifted"]


def test_help_has_the_options_and_examples(az_ext):
    r = az_ext.az("aks", "http-proxy", "audit", "--help")
    assert r.rc == 0, r
    for text in ("--all-subscriptions", "--subscriptions", "--expiring-within", "--fail-on", "--config",
                 "az aks http-proxy audit --all-subscriptions --expiring-within 60", "ARM's managedClusters list"):
        assert text in r.stdout, text


def test_a_garbled_answer_is_a_row_not_a_crash(az_ext, emu):
    fleet = mixed_fleet(40, 2)
    emu.seed_fleet(fleet.subscriptions)
    garbled = fleet.subscriptions[1]["subscriptionId"]
    emu.add_fault("status", method="GET", path_regex=list_path(garbled), code=200, body="<html>gateway</html>",
                  headers={"Content-Type": "text/html"})
    r = az_ext.az("aks", "http-proxy", "audit", "--all-subscriptions", "-o", "json", "--fail-on", "never")
    assert r.rc == 0, r
    rows = [row for row in r.json if row["subscriptionId"] == garbled]
    assert [(row["code"], row["cluster"]) for row in rows] == [("subscription-unreadable", None)]
    assert "not an ARM list" in rows[0]["message"]
    assert flagged(r.json) == {k for k in fleet.problems - fleet.kinds["drifted"] if k[0] != garbled}


def test_throttling_that_never_ends_is_a_row_after_azure_cores_retries(az_ext, emu):
    fleet = mixed_fleet(40, 2)
    emu.seed_fleet(fleet.subscriptions)
    throttled = fleet.subscriptions[0]["subscriptionId"]
    emu.add_fault("status", method="GET", path_regex=list_path(throttled), code=429, retry_after=1, times=-1,
                  error_code="TooManyRequests", message="Too many requests.")
    since = emu.journal_last()
    r = az_ext.az("aks", "http-proxy", "audit", "--all-subscriptions", "-o", "json", "--fail-on", "never")
    assert r.rc == 0, r
    rows = [row for row in r.json if row["subscriptionId"] == throttled]
    assert [row["code"] for row in rows] == ["subscription-unreadable"]
    assert "HTTP 429 (TooManyRequests)" in rows[0]["message"]
    attempts = [e for e in arm_entries(emu, since) if e["path"].startswith(f"/subscriptions/{throttled}/")]
    assert len(attempts) == 4 and {e["status"] for e in attempts} == {429}  # azure-core: 1 + retry_status 3
    assert flagged(r.json) == {k for k in fleet.problems - fleet.kinds["drifted"] if k[0] != throttled}
