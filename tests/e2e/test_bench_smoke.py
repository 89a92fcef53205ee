"""The benchmarks still run (one repetition each, on the session's emulator and az profiles): they are not part of
the test run otherwise, and would rot. No figure is checked against its goal here: that is `make bench`'s job."""
from __future__ import annotations

import json

from bench import startup, update, validate
from bench.__main__ import machine, markdown
from bench._configs import MAX_TRUSTED_CA_BYTES
from bench._rig import Rig
from bench._stats import as_dicts, table


def test_the_az_benchmarks_run_and_report(emulator, az_stock, az_ext, tmp_path):
    bed = Rig(emulator.client, az_stock, az_ext, tmp_path)
    rows = startup.measure(bed, pairs=1, warmup=0, commands={"az version": ("version", "-o", "json")})
    rows += update.measure(bed, pairs=1, warmup=0, cases=("typical",))
    assert [(r.bench, r.b.n, r.a.n) for r in rows] == [("startup", 1, 1), ("update", 1, 1)]
    assert all(r.ratio > 0 and r.cpu_ratio > 0 and r.met is not None for r in rows)
    writes = [e for e in emulator.client.writes() if e["method"] == "PUT" and "bench-update-typical" in e["path"]]
    assert len(writes) == 2, "one update per side"
    text = table(rows)
    assert "az version" in text and "az aks update --http-proxy-config (typical)" in text
    assert json.loads(json.dumps(as_dicts(rows)))[1]["goal"] == update.GOAL


def test_the_validation_benchmark_runs_on_a_maximal_config():
    rows = validate.measure(runs=2, scale_runs=1, cold_runs=1)
    maximal, *scaled, cold = rows
    assert maximal.extra["certificates"] == 20
    assert MAX_TRUSTED_CA_BYTES - 2048 < maximal.extra["trustedCa_bytes"] <= MAX_TRUSTED_CA_BYTES
    assert [r.extra["entries"] for r in scaled] == list(validate.SCALE)
    assert "per noProxy entry" in validate.linearity(rows)
    assert cold.b.n == 1
    report = markdown(rows, {**machine(), "load_average_end": [0, 0, 0]})
    assert "| validate | maximal" in report and "Machine:" in report
