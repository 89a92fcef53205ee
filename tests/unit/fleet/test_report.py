"""The fleet report (azext_aksproxy/fleet): the document an audit becomes, and the HTML it renders — escaped,
masked, self-contained, with counts that agree with the audit's summary."""
from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest

from azext_aksproxy.fleet.audit_rules import SubscriptionListing, audit
from azext_aksproxy.fleet.report_document import SCHEMA, from_audit
from azext_aksproxy.fleet.report_html import render, summary
from azext_aksproxy.fleet.states import STATES
from tests.fleet import PERIOD, listings, mixed_fleet

from ..conftest import NOW

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;"\''


@pytest.fixture(scope="module")
def fleet_report():
    fleet = mixed_fleet(3 * PERIOD, 3, now=NOW)
    read = listings(fleet)
    rows, audit_summary = audit(read, reference=fleet.reference, now=NOW)
    document = from_audit(read, rows, reference=fleet.reference, now=NOW)
    return fleet, rows, audit_summary, document, render(document)


def count(page: str, name: str) -> int:
    match = re.search(rf'data-count="{name}"><b>(\d+)</b>', page)
    assert match, name
    return int(match.group(1))


def test_counts_agree_with_the_audit_summary(fleet_report):
    fleet, _rows, audit_summary, document, page = fleet_report
    assert document["schema"] == SCHEMA and document["kind"] == "audit"
    assert len(document["clusters"]) == audit_summary.clusters == 3 * PERIOD
    s = summary(document)
    assert (s["withErrors"], s["withWarningsOnly"], s["clean"], s["errors"], s["warnings"]) == \
        (audit_summary.with_errors, audit_summary.with_warnings_only, audit_summary.clean, audit_summary.errors,
         audit_summary.warnings)
    for name, value in (("clusters", 3 * PERIOD), ("with-errors", audit_summary.with_errors),
                        ("clean", audit_summary.clean), ("errors", audit_summary.errors),
                        ("warnings", audit_summary.warnings), ("subscriptions", 3)):
        assert count(page, name) == value, name
    # Every node of the fleet (3 per system pool, 2 more per Windows pool); the drifted ones an update reimages.
    assert count(page, "nodes") == 3 * len(document["clusters"]) + 2 * len(fleet.kinds["windows"])
    assert count(page, "nodes-to-reimage") == sum(c["nodes"] for c in document["clusters"]
                                                  if any(f["code"] == "config-drift" for f in c["findings"]))
    assert page.count("<tr data-sev=") == 3 * PERIOD
    assert f'data-total="{3 * PERIOD}"' in page


def test_each_finding_with_its_fix_and_source_as_in_json(fleet_report):
    _, rows, _, document, page = fleet_report
    by_cluster = {c["cluster"]: c for c in document["clusters"]}
    for row in rows:
        finding = next(f for f in by_cluster[row["cluster"]]["findings"] if f["message"] == row["message"])
        assert finding == {k: row[k] for k in ("severity", "code", "path", "value", "message", "fix", "source")}
    expired = next(r for r in rows if r["code"] == "ca-expired")


    for text in (expired["message"], expired["fix"], expired["source"]):
        assert html.escape(text, quote=True) in page


def test_expired_and_expiring_certificates_marked(fleet_report):
    fleet, _, _, document, page = fleet_report
    states = dict(re.findall(r'data-ca-state="(\w+)" data-clusters="\d+"><td><span class="badge ca-\w+">\w+</span>'
                             r'</td><td>CN=([^<]+)</td>', page))
    states = {v: k for k, v in states.items()}
    assert states == {"Contoso Proxy CA 2023": "expired", "Contoso Proxy CA 2024": "expiring",
                      "Contoso Proxy CA": "valid"}
    users = dict(re.findall(r'data-ca-state="(\w+)" data-clusters="(\d+)"', page))
    assert int(users["expired"]) == len(fleet.kinds["expired"])
    assert int(users["expiring"]) == len(fleet.kinds["expiring"])
    assert '<g class="ca-expired">' in page and 'class="bar-expired"' in page  # the timeline marks it too
    assert all(re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", c["sha256Fingerprint"]) for c in document["certificates"])


def test_no_trusted_ca_blob_and_no_config_in_the_report(fleet_report):
    fleet, _, _, document, page = fleet_report
    blobs = {c["properties"]["httpProxyConfig"]["trustedCa"] for s in fleet.subscriptions for c in s["clusters"]}
    for blob in blobs:
        for chunk in (blob[:40], blob[100:140], blob[-40:]):
            assert chunk not in page and chunk not in json.dumps(document)


def test_self_contained_no_external_reference(fleet_report):
    page = fleet_report[4]
    assert not re.search(r"""(?i)(src|href|action|xlink:href)\s*=\s*["']?\s*(https?:|//|data:text)""", page)
    assert not re.search(r"(?i)url\(|@import|<link|<iframe|<object|<embed", page)
    assert page.count("<script") == 1 and "<script src" not in page
    assert "default-src 'none'" in page  # and the browser refuses any fetch the file might still make
    assert "https://" not in page.split("<script>")[1]


def hostile_document() -> dict:
    secret = "hunter2-Secret"
    finding = {"severity": "error", "code": "url-scheme", "path": "$.httpProxy", "value": HOSTILE,
               "message": f"{HOSTILE} via http://bob:{secret}@proxy.contoso.com:3128/", "fix": HOSTILE,
               "source": HOSTILE}
    cluster = {"subscriptionId": "sub-1", "subscription": HOSTILE, "resourceGroup": HOSTILE, "cluster": HOSTILE,
               "proxy": True, "nodes": 3, "nodesToReimage": 3, "nodesReimaged": 1, "certificates": [HOSTILE],
               "findings": [finding], "stage": HOSTILE, "group": HOSTILE, "state": "held",
               "reason": f"{HOSTILE} https://u:{secret}@p.example/", "error": None}
    failed = dict(cluster, state="failed", reason=None, error=f"{HOSTILE} http://x:{secret}@h/")
    return {"schema": SCHEMA, "kind": "rollout", "title": HOSTILE, "generatedAt": NOW.isoformat(), "horizonDays": 30,
            "subscriptions": [{"subscriptionId": "sub-1", "subscription": HOSTILE, "error": HOSTILE}],
            "clusters": [cluster, failed],
            "findings": [dict(finding, subscriptionId="sub-1", subscription=HOSTILE, resourceGroup=None, cluster=None)],
            "certificates": [{"subject": HOSTILE, "issuer": HOSTILE, "sha256Fingerprint": HOSTILE,
                              "notBefore": (NOW - timedelta(days=9)).isoformat(),
                              "notAfter": (NOW - timedelta(days=1)).isoformat()}],
            "rollout": {"name": HOSTILE, "state": HOSTILE, "concurrency": 2,
                        "stages": [{"name": HOSTILE, "groups": [HOSTILE], "afterStageWaitSeconds": 60}]}}


def test_untrusted_text_escaped_everywhere_and_passwords_masked():
    page = render(hostile_document())
    assert "<script>alert" not in page and "<img" not in page and "onerror=alert(1)>" not in page
    assert page.count("<script") == 1  # only the report's own
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "hunter2-Secret" not in page
    assert "http://***@proxy.contoso.com:3128/" in page and "https://***@p.example/" in page
    # The hostile cluster's row parses as one row: no quote or bracket broke out of an attribute.
    assert page.count("<tr data-sev=") == 2
    assert re.search(r'data-s="[^"<>]*&lt;script&gt;', page)


def synthetic_rollout() -> dict:
    """A rollout section in the documented shape: 1 canary, then 2 stages; every state present."""
    def cluster(i, stage, state, nodes=3, reimaged=0, **extra):
        return {"subscriptionId": "sub-1", "subscription": "prod", "resourceGroup": "rg", "cluster": f"aks-{i}",
                "proxy": True, "nodes": nodes, "nodesToReimage": nodes if state != "unchanged" else 0,
                "nodesReimaged": reimaged, "certificates": [], "findings": [], "stage": stage, "group": None,
                "state": state, "reason": None, "error": None, **extra}

    clusters = [cluster(0, "canary", "done", reimaged=3),
                cluster(1, "ten-percent", "done", reimaged=3), cluster(2, "ten-percent", "running", reimaged=1),
                cluster(3, "ten-percent", "failed", reimaged=2, error="(ReimageFailed) pool system: node not ready"),
                cluster(4, "rest", "pending"), cluster(5, "rest", "pending", nodes=5),
                cluster(6, "rest", "held", reason="Block: the node disruption policy refuses the reimage"),
                cluster(7, "rest", "unchanged"), cluster(8, "rest", "drifted"),
                cluster(9, "rest", "gone", nodes=0, reason="the cluster no longer exists")]
    return {"schema": SCHEMA, "kind": "rollout", "title": "Rollout new-ca", "generatedAt": NOW.isoformat(),
            "horizonDays": 30, "subscriptions": [{"subscriptionId": "sub-1", "subscription": "prod", "error": None}],
            "clusters": clusters, "findings": [], "certificates": [],
            "rollout": {"name": "new-ca", "state": "halted", "concurrency": 2,
                        "stages": [{"name": "canary", "groups": ["canary"], "afterStageWaitSeconds": 600},
                                   {"name": "ten-percent", "groups": ["g1", "g2"], "afterStageWaitSeconds": 0},
                                   {"name": "rest", "groups": ["all"], "afterStageWaitSeconds": None}]}}


def test_every_rollout_state_has_its_colour_and_filter():
    """The states come from fleet/states.py alone: one added there is drawn, not dropped."""
    page = render(synthetic_rollout())
    for state in STATES:
        assert re.search(rf"\.bar \.st-{state}[{{,]", page) and f'<option value="{state}">{state}</option>' in page, state


def test_rollout_stages_progress_held_and_failed():
    document = synthetic_rollout()
    s = summary(document)
    assert s["states"] == {"done": 2, "running": 1, "pending": 2, "failed": 1, "held": 1, "drifted": 1,
                           "gone": 1, "unchanged": 1}
    assert s["nodesReimaged"] == 3 + 3 + 1 + 2
    # running (3-1) + failed (3-2) + pending (3 + 5); held, drifted, unchanged and done: none
    assert s["nodesToReimage"] == 2 + 1 + 8
    page = render(document)
    for state in STATES:
        assert count(page, f"state-{state}") == s["states"].get(state, 0)
    stages = re.findall(r'<tr data-stage="([^"]+)"><td>[^<]+</td><td>([^<]*)</td><td class="num">(\d+/\d+)</td>',
                        page)
    assert stages == [("canary", "canary", "1/1"), ("ten-percent", "g1, g2", "1/3"), ("rest", "all", "1/6")]
    held = page.split('id="held"')[1].split("</table>")[0]
    assert "aks-6" in held and "Block: the node disruption policy refuses the reimage" in held and "aks-3" not in held
    failed = page.split('id="failed"')[1].split("</table>")[0]
    assert "aks-3" in failed and "(ReimageFailed) pool system: node not ready" in failed
    assert 'id="state-filter"' in page and "<th data-col=\"6\" tabindex=\"0\">Stage</th>" in page
    assert "halted" in page.split('id="rollout"')[1].split("</p>")[0]


def test_audit_without_certificates_or_clusters():
    document = from_audit([SubscriptionListing("sub-1", "empty", error="HTTP 403 (AuthorizationFailed) no")],
                          [{"subscriptionId": "sub-1", "subscription": "empty", "resourceGroup": None, "cluster": None,
                            "severity": "error", "code": "subscription-unreadable", "path": "/subscriptions/sub-1",
                            "value": None, "message": "could not be listed", "fix": "check access", "source": "s"}],
                          now=NOW)
    page = render(document)
    assert count(page, "clusters") == 0 and count(page, "unreadable") == 1 and count(page, "errors") == 1
    assert "No cluster trusts a custom CA" in page and "subscription-unreadable" in page
    assert 'id="state-filter"' not in page  # no rollout columns in an audit


def test_an_odd_cluster_document_does_not_stop_the_report():
    odd = {"id": "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/odd",
           "name": "odd", "properties": {"agentPoolProfiles": [{"name": "p", "count": "many"}],
                                         "httpProxyConfig": {"httpProxy": "http://p:3128/", "trustedCa": "bm90IGEgQ0E="}}}
    listing = SubscriptionListing("sub-1", "one", clusters=[odd])
    rows, _ = audit([listing], now=NOW)
    document = from_audit([listing], rows, now=NOW)
    assert [(c["cluster"], c["nodes"], c["certificates"]) for c in document["clusters"]] == [("odd", 0, [])]
    assert "odd" in render(document)
