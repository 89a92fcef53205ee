"""Fleet audit at scale: `az aks http-proxy audit --all-subscriptions --config REF` over N clusters in S
subscriptions of the local ARM emulator (tests/fleet.py's mix: 70% good, the rest expiring or expired CAs, Windows
pools, disabled proxies, drift, a refused URL).

For each N: the ARM requests the audit made (from the emulator's journal), wall and CPU time and peak memory (max
RSS) of the az process, and whether every problem cluster and no good one was reported. For scale, the time of one
`az aks show` times N: the shell loop the audit replaces. Goal: 1,000 clusters in under 30 s. Exits 1 when the goal
is missed or a run reports the wrong clusters.

    python -m bench audit [--sizes 100 1000 5000] [--subscriptions 20] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
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

GOAL_SIZE, GOAL_SECONDS = 1000, 30.0


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


def measure(bed, size: int, subscriptions: int, workdir: Path) -> dict:
    emu = bed.emu
    emu.reset()
    fleet = mixed_fleet(size, subscriptions)
    emu.seed_fleet(fleet.subscriptions)
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
    return {"clusters": size, "subscriptions": subscriptions, "requests": len(requests),
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
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000], help="cluster counts")
    ap.add_argument("--subscriptions", type=int, default=20, help="subscriptions the clusters are spread over")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    results = []
    with rig(control=False) as bed:
        show = one_show(bed)
        print(f"fleet audit: {args.subscriptions} subscriptions; one `az aks show` takes {show:.2f} s", flush=True)
        print(f"  {'clusters':>8} {'requests':>8} {'wall':>8} {'CPU':>8} {'max RSS':>9} {'loop est.':>10}  correct")
        for size in args.sizes:
            r = measure(bed, size, args.subscriptions, bed.root)
            r["show_loop_estimate_s"] = round(show * size, 1)
            results.append(r)
            print(f"  {size:>8} {r['requests']:>8} {r['wall_s']:>7.2f}s {r['cpu_s']:>7.2f}s "
                  f"{r['max_rss_mb']:>7.1f}MB {r['show_loop_estimate_s']:>9.0f}s  {r['correct']}", flush=True)
    if len(results) > 1:
        first, last = results[0], results[-1]
        per = (last["wall_s"] - first["wall_s"]) / (last["clusters"] - first["clusters"])
        mem = (last["max_rss_mb"] - first["max_rss_mb"]) / (last["clusters"] - first["clusters"])
        print(f"  marginal cost per cluster: {per * 1000:.2f} ms wall, {mem * 1024:.1f} KB memory")
    goal = [r for r in results if r["clusters"] == GOAL_SIZE]
    met = all(r["wall_s"] < GOAL_SECONDS for r in goal) and all(r["correct"] for r in results)
    if goal:
        print(f"  goal {GOAL_SIZE} clusters < {GOAL_SECONDS:g} s: {'met' if met else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps({"one_show_s": show, "results": results}, indent=2) + "\n", encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
