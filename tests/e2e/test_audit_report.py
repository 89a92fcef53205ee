"""az aks http-proxy audit --report through the real az against the emulator's mixed fleet, the HTML file opened in
headless Chromium (Debian's, `make browser`): the DOM's counts, the expired CA marked, a filter typed into the page
that narrows the table, a sort; a screenshot kept in build/report/ (docs/audit-and-report.md's docs/img/fleet-report.png)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.browser import Browser, chromium_path
from tests.fleet import PERIOD, mixed_fleet

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "build" / "report" / "fleet-report.png"


@pytest.fixture(scope="module")
def browser():
    if chromium_path() is None:
        reason = "chromium is not installed: run `make browser` (Debian's chromium package)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with Browser.start() as b:
        yield b


def count(page, name: str) -> int:
    return int(page.evaluate(f"document.querySelector('[data-count=\"{name}\"] b').textContent"))


def visible_rows(page) -> list[str]:
    return page.evaluate("Array.from(document.querySelectorAll('#cluster-table tbody tr'))"
                         ".filter(r => !r.hidden && r.offsetParent !== null).map(r => r.cells[2].textContent)")


def test_audit_report_in_chromium(az_ext, emu, tmp_path, browser):
    fleet = mixed_fleet(10 * PERIOD, 4)
    emu.seed_fleet(fleet.subscriptions)
    reference = tmp_path / "reference.json"
    reference.write_text(json.dumps(fleet.reference), encoding="utf-8")
    report = tmp_path / "fleet-report.html"
    since = emu.journal_last()

    plain = az_ext.az("aks", "http-proxy", "audit", "--all-subscriptions", "--config", str(reference), "-o", "json")
    r = az_ext.az("aks", "http-proxy", "audit", "--all-subscriptions", "--config", str(reference),
                  "--report", str(report), "-o", "json")

    assert r.rc == plain.rc == 1, r  # errors in the fleet fail the audit, report or not
    assert r.json == plain.json  # the rows are unchanged by --report
    assert f"Report written to {report}" in r.stderr and str(report) not in r.stdout
    assert not [e for e in emu.journal(since) if e["kind"] == "arm" and e["write"]]
    html = report.read_text(encoding="utf-8")
    assert "BEGIN CERTIFICATE" not in html and fleet.reference["trustedCa"][:40] not in html

    page = browser.open(report.as_uri())
    clusters = 10 * PERIOD
    assert count(page, "clusters") == clusters
    assert len(visible_rows(page)) == clusters
    problems = {k[2] for k in fleet.problems}
    errors = {k[2] for kind in ("expired", "windows", "unsupported-url") for k in fleet.kinds[kind]}
    assert count(page, "with-errors") == len(errors)
    assert count(page, "with-warnings") == len(problems - errors)
    assert count(page, "clean") == clusters - len(problems)
    assert count(page, "errors") == sum(row["severity"] == "error" for row in r.json)
    assert count(page, "warnings") == sum(row["severity"] == "warning" for row in r.json)

    # The expired CA: marked in the table (state, colour) and in the timeline, with the clusters that use it.
    expired = page.evaluate("Array.from(document.querySelectorAll('#ca-table tr[data-ca-state=expired]'))"
                            ".map(r => [r.cells[1].textContent, +r.dataset.clusters,"
                            " getComputedStyle(r.cells[0]).backgroundColor])")
    assert len(expired) == 1 and expired[0][:2] == ["CN=Contoso Proxy CA 2023", len(fleet.kinds["expired"])]
    assert expired[0][2] not in ("rgba(0, 0, 0, 0)", "transparent")
    assert page.evaluate("document.querySelectorAll('svg.timeline g.ca-expired rect').length") == 1
    assert page.evaluate("document.querySelectorAll('#ca-table tr[data-ca-state=expiring]').length") == 1

    # Before the filter, the whole fleet at a glance, with one cluster's findings (fix and source) opened.
    page.evaluate("document.querySelector('#cluster-table tr[data-sev=error] details').open = true")
    page.screenshot(SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 10_000

    # A filter typed into the page narrows the table to the clusters with that code, and says so.
    page.type_into("#filter", "ca-expired")
    shown = visible_rows(page)
    assert sorted(shown) == sorted(k[2] for k in fleet.kinds["expired"])
    assert page.evaluate("document.getElementById('shown').textContent") == f"{len(shown)} of {clusters} clusters"
    assert page.evaluate("location.hash") == "#q=ca-expired"
    page.evaluate("document.getElementById('filter').value = ''; "
                  "document.getElementById('filter').dispatchEvent(new Event('input'))")
    page.evaluate("const s = document.getElementById('severity-filter'); s.value = 'error'; "
                  "s.dispatchEvent(new Event('change'))")
    assert sorted(visible_rows(page)) == sorted(errors)

    # Sorting by cluster name, descending on the second click.
    page.evaluate("document.getElementById('severity-filter').value = ''; "
                  "document.getElementById('severity-filter').dispatchEvent(new Event('change'))")
    page.evaluate("document.querySelector('#cluster-table th[data-col=\"2\"]').click()")
    names = visible_rows(page)
    assert names == sorted(names) and len(names) == clusters
    page.evaluate("document.querySelector('#cluster-table th[data-col=\"2\"]').click()")
    assert visible_rows(page) == sorted(names, reverse=True)

    # Printed: the controls hidden, every finding opened (the page's beforeprint handler).
    page.send("Emulation.setEmulatedMedia", media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.controls')).display") == "none"
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("Array.from(document.querySelectorAll('#cluster-table details')).every(d => d.open)")
    assert len(page.send("Page.printToPDF")["data"]) > 10_000
    page.send("Emulation.setEmulatedMedia", media="")

    # A filtered view can be passed on: the fragment applies the filter on opening.
    assert sorted(visible_rows(browser.open(report.as_uri() + "#q=pool-windows"))) == \
        sorted(k[2] for k in fleet.kinds["windows"])


def test_report_to_a_missing_folder_reads_nothing(az_ext, emu, tmp_path):
    since = emu.journal_last()
    r = az_ext.az("aks", "http-proxy", "audit", "--report", str(tmp_path / "no" / "such" / "r.html"))
    assert r.rc != 0 and "the folder does not exist" in r.stderr, r
    assert not [e for e in emu.journal(since) if e["kind"] == "arm" and "managedClusters" in e["path"]]


def test_hostile_text_is_shown_not_run(browser, tmp_path):
    """Untrusted text (names, ARM messages, a rollout's reasons) reaches the page as text: nothing in it runs, and
    what a reader sees is the text itself, passwords masked."""
    from azext_aksproxy.fleet.report_html import render
    from tests.unit.fleet.test_report import hostile_document

    document = hostile_document()
    attack = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    document["clusters"][0]["cluster"] = attack
    document["clusters"][1]["error"] = attack + " http://bob:hunter2@proxy.contoso.com:3128/"
    path = tmp_path / "hostile.html"
    path.write_text(render(document), encoding="utf-8")
    page = browser.open(path.as_uri())
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('img').length + document.scripts.length") == 1  # ours
    assert page.evaluate("document.querySelector('#cluster-table td.name').textContent") == attack
    failed = page.evaluate("document.querySelector('#failed tbody td:last-child').textContent")
    assert failed == attack + " http://***@proxy.contoso.com:3128/"
    assert "hunter2" not in page.evaluate("document.documentElement.outerHTML")


def test_rollout_section_in_chromium(browser, tmp_path):
    """The rollout part on the documented shape (a synthetic rollout until the fleet rollout's status maps onto it):
    stage progress drawn, the state filter narrowing the table; a screenshot kept beside the audit's."""
    from azext_aksproxy.fleet.report_html import render
    from tests.unit.fleet.test_report import synthetic_rollout

    path = tmp_path / "rollout.html"
    path.write_text(render(synthetic_rollout()), encoding="utf-8")
    page = browser.open(path.as_uri())
    widths = page.evaluate("Array.from(document.querySelectorAll('#stages tr[data-stage=\"rest\"] .bar span'))"
                           ".map(s => [s.className, Math.round(s.getBoundingClientRect().width)])")
    assert [c for c, _ in widths] == ["st-pending", "st-held", "st-drifted", "st-gone", "st-unchanged"]
    assert widths[0][1] > widths[1][1] > 0  # 2 pending of 6 against 1 held
    page.evaluate("const s = document.getElementById('state-filter'); s.value = 'held'; "
                  "s.dispatchEvent(new Event('change'))")
    assert visible_rows(page) == ["aks-6"]
    assert page.evaluate("location.hash") == "#state=held"
    page.screenshot(SCREENSHOT.with_name("rollout-report.png"), height=1100)
