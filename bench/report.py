"""The fleet report at scale: the HTML file `audit --report` writes for N clusters (tests/fleet.py's mix in 20
subscriptions, audited with a reference config, so every kind of finding is in it).

For each N: the file's size (and gzipped, as a CI artifact store keeps it), and the median time to write it — the
report document from the audit's rows, the HTML, the file — over a few runs, in-process (the audit itself is
`python -m bench audit`'s). With Chromium installed (`make browser`), also the time a browser takes to open it
(navigation to the load event, the script's first pass included) and to filter its table once. Goal: 5,000
clusters written in under 2 s, in a file under 10 MB. Exits 1 when a goal is missed.

    python -m bench report [--sizes 100 1000 5000] [--runs 5] [--no-browser] [--json FILE]
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from azext_aksproxy.fleet.audit_rules import audit
from azext_aksproxy.fleet.report_document import from_audit
from azext_aksproxy.fleet.report_html import render
from tests.fleet import listings, mixed_fleet

GOAL_SIZE, GOAL_SECONDS, GOAL_BYTES = 5000, 2.0, 10 * 1024 * 1024


def write_report(read, rows, reference, path: Path) -> float:
    t0 = time.perf_counter()
    path.write_text(render(from_audit(read, rows, reference=reference)), encoding="utf-8")
    return time.perf_counter() - t0


# One filter pass as the page runs it on each keystroke, timed inside the page (layout included).
_FILTER_MS = """(() => { const q = document.getElementById('filter'), t0 = performance.now();
  q.value = 'ca-expired'; q.dispatchEvent(new Event('input')); document.body.offsetHeight;
  const ms = performance.now() - t0; q.value = ''; q.dispatchEvent(new Event('input')); return ms; })()"""


def browser_timings(path: Path, runs: int) -> tuple[float | None, float | None]:
    """(median seconds to open the file, median milliseconds of one filter pass) in Chromium, if installed."""
    from tests.browser import Browser, chromium_path

    if chromium_path() is None:
        return None, None
    opened, filtered = [], []
    with Browser.start() as browser:
        for _ in range(runs):
            t0 = time.perf_counter()
            page = browser.open(path.as_uri())
            opened.append(time.perf_counter() - t0)
            filtered.append(page.evaluate(_FILTER_MS))
            page.send("Page.close")
    return statistics.median(opened), statistics.median(filtered)


def measure(size: int, subscriptions: int, runs: int, browser: bool, workdir: Path) -> dict:
    fleet = mixed_fleet(size, subscriptions)
    read = listings(fleet)
    rows, _ = audit(read, reference=fleet.reference)
    path = workdir / f"report-{size}.html"
    times = [write_report(read, rows, fleet.reference, path) for _ in range(runs)]
    data = path.read_bytes()
    opened, filtered = browser_timings(path, 3) if browser else (None, None)
    return {"clusters": size, "findings": len(rows), "bytes": len(data), "gzip_bytes": len(gzip.compress(data)),
            "write_s_median": round(statistics.median(times), 3), "write_s_max": round(max(times), 3), "runs": runs,
            "browser_open_s": None if opened is None else round(opened, 2),
            "browser_filter_ms": None if filtered is None else round(filtered, 1)}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench report", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000], help="cluster counts")
    ap.add_argument("--subscriptions", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5, help="writes per size (the median is reported)")
    ap.add_argument("--no-browser", action="store_true", help="do not time opening the file in Chromium")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    results = []
    print(f"fleet report: {args.subscriptions} subscriptions, median of {args.runs} writes", flush=True)
    print(f"  {'clusters':>8} {'findings':>8} {'size':>10} {'gzip':>9} {'write':>8} {'max':>8} {'open':>7} "
          f"{'filter':>8}")
    with tempfile.TemporaryDirectory(prefix="aksproxy-bench-report-") as work:
        for size in args.sizes:
            r = measure(size, args.subscriptions, args.runs, not args.no_browser, Path(work))
            results.append(r)
            opened = f"{r['browser_open_s']:.2f}s" if r["browser_open_s"] is not None else "-"
            filtered = f"{r['browser_filter_ms']:.0f}ms" if r["browser_filter_ms"] is not None else "-"
            print(f"  {size:>8} {r['findings']:>8} {r['bytes'] / 1024:>8.0f}KB {r['gzip_bytes'] / 1024:>7.0f}KB "
                  f"{r['write_s_median']:>7.3f}s {r['write_s_max']:>7.3f}s {opened:>7} {filtered:>8}", flush=True)
    goal = [r for r in results if r["clusters"] == GOAL_SIZE]
    met = all(r["write_s_median"] < GOAL_SECONDS and r["bytes"] < GOAL_BYTES for r in goal)
    if goal:
        print(f"  goal {GOAL_SIZE} clusters: written < {GOAL_SECONDS:g} s, < {GOAL_BYTES // 1024 // 1024} MB: "
              f"{'met' if met else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps({"results": results}, indent=2) + "\n", encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
