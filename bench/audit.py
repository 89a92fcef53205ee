"""Fleet audit at scale: `az aks http-proxy audit --all-subscriptions --config REF` over N clusters in S
subscriptions of the local ARM emulator (tests/fleet.py's mix: 70% good, the rest expiring or expired CAs, Windows
pools, disabled proxies, drift, a refused URL).

For each N: the ARM requests the audit made (from the emulator's journal) against the list pages there are (the
emulator pages lists by --page-size, as ARM does), wall and CPU time and peak memory (max RSS) of the az process,
and whether every problem cluster and no good one was reported. For scale, the time of one `az aks show` times N:
the shell loop the audit replaces. Goal: 10,000 clusters in 100 subscriptions read in under 10 s, one request per
list page (never per cluster). Exits 1 when the goal is missed or a run reports the wrong clusters.

    python -m bench audit [--sizes 1000 10000] [--subscriptions 100] [--page-size 50] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._rig import rig
from tests.azcli import AZ, AzSession
from tests.fleet import mixed_fleet

GOAL_SIZE, GOAL_SECONDS = 10000, 10.0
DEFAULT_PAGE_SIZE = 50  # clusters per list page in the emulator: several pages per subscription at the goal size


def run_az(session: AzSession, *args: str, workdir: Path) -> dict:
    """Run az once and read its own rusage (wait4): wall, CPU and max RSS of that process alone."""
    out_path, err_path = workdir / "az.out", workdir / "az.err"
    t0 = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([AZ, *args], env=session.env, cwd=str(session.home), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # reaped here, not by Popen, so its rusage is this process's
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"rc": proc.returncode, "stdout": out_path.read_bytes(), "stderr": err_path.read_bytes(),
            "wall": time.monotonic() - t0, "cpu": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024}


def list_pages(subscriptions: list, page_size: int) -> int:
    """The list requests a reader needs at least: the pages of GET /subscriptions (the fleet's and the emulator's
    seed subscription), then each subscription's pages of clusters (one for an empty one)."""
    def pages(n: int) -> int:
        return max(1, math.ceil(n / page_size)) if page_size > 0 else 1

    return pages(len(subscriptions) + 1) + 1 + sum(pages(len(s["clusters"])) for s in subscriptions)


def seed_in_batches(emu, subscriptions: list, batch: int = 10) -> None:
    """Seed a few subscriptions per control request: 10,000 clusters in one would outlast its timeout on a busy
    machine (a subscription seeded again is replaced, so batches add up)."""
    for start in range(0, len(subscriptions), batch):
        emu.seed_fleet(subscriptions[start:start + batch])


def measure(bed, size: int, subscriptions: int, workdir: Path, page_size: int = DEFAULT_PAGE_SIZE) -> dict:
    emu = bed.emu
    emu.reset()
    emu.configure(page_size=page_size)
    fleet = mixed_fleet(size, subscriptions)
    seed_in_batches(emu, fleet.subscriptions)
    reference = workdir / "reference.json"
    reference.write_text(json.dumps(fleet.reference), encoding="utf-8")
    since = emu.journal_last()
    run = run_az(bed.ext, "aks", "http-proxy", "audit", "--all-subscriptions", "--config", str(reference),
                 "-o", "json", "--fail-on", "never", workdir=workdir)
    if run["rc"] != 0:
        raise RuntimeError(f"audit of {size} clusters failed:\n{run['stderr'].decode()}")
    rows = json.loads(run["stdout"])
    reported = {(r["subscriptionId"], r["resourceGroup"], r["cluster"]) for r in rows if r["cluster"]}
    requests = [e for e in emu.journal(since) if e["kind"] == "arm"]
    lists = sum(1 for e in requests if "/virtualnetworks/" not in e["path"].lower())
    return {"clusters": size, "subscriptions": subscriptions, "requests": len(requests), "list_requests": lists,
            "list_pages": list_pages(fleet.subscriptions, page_size), "page_size": page_size,
            "wall_s": round(run["wall"], 2), "cpu_s": round(run["cpu"], 2), "max_rss_mb": round(run["max_rss_mb"], 1),
            "rows": len(rows), "correct": reported == fleet.problems}


def one_show(bed) -> float:
    """Seconds of one `az aks show`: what a shell loop pays per cluster."""
    bed.emu.reset()
    bed.emu.seed_cluster("rg1", "c1")
    times = []
    for _ in range(3):
        r = bed.stock.az("aks", "show", "-g", "rg1", "-n", "c1", "-o", "none")
        if not r.ok:
            raise RuntimeError(str(r))
        times.append(r.seconds)
    return sorted(times)[1]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench audit", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, GOAL_SIZE], help="cluster counts")
    ap.add_argument("--subscriptions", type=int, default=100, help="subscriptions the clusters are spread over")
    ap.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE, help="clusters per list page (0: one page)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    results = []
    with rig(control=False) as bed:
        show = one_show(bed)
        print(f"fleet audit: {args.subscriptions} subscriptions; one `az aks show` takes {show:.2f} s", flush=True)
        print(f"  {'clusters':>8} {'requests':>8} {'pages':>6} {'wall':>8} {'CPU':>8} {'max RSS':>9} "
              f"{'loop est.':>10}  correct")
        for size in args.sizes:
            r = measure(bed, size, args.subscriptions, bed.root, args.page_size)
            r["show_loop_estimate_s"] = round(show * size, 1)
            results.append(r)
            print(f"  {size:>8} {r['requests']:>8} {r['list_pages']:>6} {r['wall_s']:>7.2f}s {r['cpu_s']:>7.2f}s "
                  f"{r['max_rss_mb']:>7.1f}MB {r['show_loop_estimate_s']:>9.0f}s  {r['correct']}", flush=True)
    if len(results) > 1:
        first, last = results[0], results[-1]
        per = (last["wall_s"] - first["wall_s"]) / (last["clusters"] - first["clusters"])
        mem = (last["max_rss_mb"] - first["max_rss_mb"]) / (last["clusters"] - first["clusters"])
        print(f"  marginal cost per cluster: {per * 1000:.2f} ms wall, {mem * 1024:.1f} KB memory")
    goal = [r for r in results if r["clusters"] == GOAL_SIZE]
    met = (all(r["wall_s"] < GOAL_SECONDS for r in goal) and all(r["correct"] for r in results)
           and all(r["list_requests"] == r["list_pages"] for r in results))  # per page, never per cluster
    if goal:
        print(f"  goal {GOAL_SIZE} clusters < {GOAL_SECONDS:g} s, one request per list page: "
              f"{'met' if met else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps({"one_show_s": show, "results": results}, indent=2) + "\n", encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
