"""bench/report.py still runs (one write of a small fleet, no browser): it is not part of the test run otherwise."""
from __future__ import annotations

from bench import report


def test_the_report_benchmark_runs(tmp_path):
    r = report.measure(40, 2, runs=1, browser=False, workdir=tmp_path)
    assert r["clusters"] == 40 and r["findings"] > 0 and r["bytes"] > r["gzip_bytes"] > 0
    assert r["write_s_median"] > 0 and r["browser_open_s"] is None
    assert (tmp_path / "report-40.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
