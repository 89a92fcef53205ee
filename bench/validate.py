"""Validating a proxy config in-process: a maximal config, and how the time grows with noProxy.

The maximal config: 20 CA certificates whose base64 trustedCa is just under AKS's 35 KB limit, and 2,000 noProxy
entries mixing host names, suffixes, IPv4/IPv6 addresses and CIDRs (built at bench time, validates without error).
Timed: `check_bytes` on the file's bytes (JSON parse, every rule, the certificates decoded), after warm-up.
Goal: median < 20 ms. Then 0 / 500 / 2,000 / 8,000 entries with the same certificates: the cost per entry above
the 0-entry time must stay flat (linear growth). Plus the first check in a fresh process, imports included.

    python -m bench validate [--runs 200] [--scale-runs 40] [--cold-runs 5] [--json FILE]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from azext_aksproxy.config import check_bytes
from bench import _configs
from bench._rig import log
from bench._stats import Row, Sample, exit_code, table, write_json

GOAL_SECONDS = 0.020
MAXIMAL_ENTRIES = 2000
SCALE = (0, 500, 2000, 8000)
REPO_ROOT = Path(__file__).resolve().parents[1]
_COLD = """
import sys, time
t0 = time.perf_counter()
from azext_aksproxy.config import check_bytes
result = check_bytes(open(sys.argv[1], "rb").read())
print(time.perf_counter() - t0, result.ok)
"""


def _timed(data: bytes, runs: int, warmup: int) -> Sample:
    """Wall and CPU time of check_bytes(data), ``runs`` times after ``warmup`` untimed runs."""
    result = check_bytes(data)
    errors = [f for f in result.findings if f.is_error]
    if errors:  # a bench config must be valid, or the figures would measure an early exit
        raise RuntimeError("bench config has errors:\n" + "\n".join(map(str, errors)))
    for _ in range(warmup):
        check_bytes(data)
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        check_bytes(data)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return Sample(wall, cpu)


def _cold(data: bytes, runs: int) -> Sample:
    times = []
    with tempfile.TemporaryDirectory(prefix="aksproxy-bench-") as workdir:
        path = Path(workdir) / "maximal.json"
        path.write_bytes(data)
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", _COLD, str(path)], cwd=REPO_ROOT, capture_output=True,
                                 text=True, check=True).stdout.split()
            if out[1] != "True":
                raise RuntimeError("the maximal config did not validate in a fresh process")
            times.append(float(out[0]))
    return Sample(times)


def measure(runs: int = 200, scale_runs: int = 40, cold_runs: int = 5) -> list[Row]:
    log("validate: generating 20 CA certificates (RSA 2048) sized to the 35 KB trustedCa limit")
    ca = _configs.trusted_ca(20)
    maximal = _configs.to_bytes(_configs.config(MAXIMAL_ENTRIES, ca))
    extra = {"trustedCa_bytes": len(ca), "certificates": 20, "noProxy_entries": MAXIMAL_ENTRIES + 4,
             "file_bytes": len(maximal)}
    log(f"validate: maximal config, {runs} runs")
    timed = _timed(maximal, runs, warmup=max(5, runs // 10))
    rows = [Row("validate", f"maximal: 20 certs / {len(ca) / 1000:.1f} kB CA, {MAXIMAL_ENTRIES:,} noProxy", b=timed,
                goal=GOAL_SECONDS, unit="ms", extra=extra)]
    base: tuple[float, float] | None = None
    for entries in SCALE:
        log(f"validate: {entries:,} noProxy entries, {scale_runs} runs")
        timed = _timed(_configs.to_bytes(_configs.config(entries, ca)), scale_runs, warmup=3)
        cpu = timed.cpu_median or 0.0
        base = base or (timed.median, cpu)
        per_entry = {"us_per_entry": (timed.median - base[0]) / entries * 1e6,
                     "cpu_us_per_entry": (cpu - base[1]) / entries * 1e6} if entries else {}
        note = f"{per_entry['cpu_us_per_entry']:.2f} us CPU/entry above 0 entries" if entries else "certs only"
        rows.append(Row("validate", f"noProxy +{entries:,}", b=timed, unit="ms", note=note,
                        extra={"entries": entries, **per_entry}))
    if cold_runs:
        log(f"validate: first check in a fresh process (imports included), {cold_runs} processes")
        rows.append(Row("validate", "maximal, fresh process (imports incl.)", b=_cold(maximal, cold_runs),
                        unit="ms"))
    return rows


def linearity(rows: list[Row]) -> str:
    """Cost per noProxy entry at each size, wall and CPU; flat = linear growth."""
    scaled = [r.extra for r in rows if "us_per_entry" in r.extra]
    lines = []
    for key, what in (("us_per_entry", "wall"), ("cpu_us_per_entry", "CPU")):
        costs = [(x["entries"], x[key]) for x in scaled]
        if len(costs) >= 2:
            listed = ", ".join(f"{n:,}: {c:.2f} us" for n, c in costs)
            spread = max(c for _, c in costs) / min(c for _, c in costs)
            lines.append(f"{what} per noProxy entry ({listed}): max/min {spread:.2f} (1.00 = linear)")
    return "\n".join(lines)


def run(argv: list[str], bed: object = None) -> list[Row]:
    ap = argparse.ArgumentParser(prog="python -m bench validate", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="timed runs of the maximal config (default 200)")
    ap.add_argument("--scale-runs", type=int, default=40, help="timed runs per noProxy size (default 40)")
    ap.add_argument("--cold-runs", type=int, default=5, help="fresh processes for the first check (default 5)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    rows = measure(args.runs, args.scale_runs, args.cold_runs)
    write_json(rows, args.json)
    return rows


def main(argv: list[str]) -> int:
    rows = run(argv)
    print(table(rows))
    print(linearity(rows))
    return exit_code(rows)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
