"""Fleet rollout at scale, through the real az with aksproxy against the local ARM emulator.

plan:  `rollout plan --all-subscriptions --add-no-proxy ...` over N clusters in S subscriptions (tests/fleet.py's
       whole mix: the clusters the edit would leave invalid are skipped, the plan covers the rest; a third in custom
       VNets, each seeded; lists paged by --page-size): wall, CPU, max RSS, ARM requests. Goal: 10,000 clusters in
       100 subscriptions under 30 s, one list request per page (never per cluster), and no VNet read for an edit
       whose answer does not depend on a VNet's space (an added entry: the stored config keeps AKS's entries).
apply: `rollout apply --stages rest --max-concurrency C --skip-check` of N clusters whose reimage takes T seconds
       each (emulator `pool_upgrade_seconds`), every cluster's scale sets read after its operation (done means
       the nodes run it). Goal: wall within 1.2 x ceil(N/C) x T, memory flat in N (max RSS at the largest N
       within 1.25 x that at the smallest). Compared with a sequential loop of stock `az aks update --http-proxy-config` on a
       few clusters, extrapolated to N. The node check is skipped here: it measures the scheduling, not the probes.

    python -m bench rollout [--plan-sizes 10000] [--subscriptions 100] [--page-size 50] [--apply-sizes 20 100]
                            [--concurrency 25]
                            [--reimage-seconds 8] [--loop-clusters 3] [--json FILE]
    python -m bench rollout --plan-sizes --apply-sizes 100 1000 --concurrency 100 --reimage-seconds 20 \
                            --loop-clusters 0                      # the N = 1,000, C = 100 goal
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._rig import rig
from bench.audit import DEFAULT_PAGE_SIZE, list_pages, run_az, seed_in_batches
from tests.armemu.state import SUBSCRIPTION_ID
from tests.fleet import mixed_fleet

PLAN_GOAL_SIZE, PLAN_GOAL_SECONDS = 10000, 30.0
APPLY_GOAL_FACTOR = 1.2
MEMORY_FLAT_FACTOR = 1.25  # max RSS at the largest N within this of the smallest N's: flat, not per cluster
SKIPPED = {"expired", "windows", "unsupported-url"}  # clusters the edit would leave invalid: the plan skips them
PROXY = "http://proxy.contoso.com:3128/"


def plannable_fleet(size: int, subscriptions: int) -> tuple[list, int]:
    """``size`` clusters of tests/fleet.py's mix, and how many of them the plan skips."""
    fleet = mixed_fleet(size, subscriptions)
    return fleet.subscriptions, len(set().union(*(fleet.kinds[k] for k in SKIPPED)))


def seed_vnets(emu, subscriptions: list) -> int:
    """The custom VNets the fleet's pools are in, each with its own /16; how many."""
    vnets = sorted({p["vnetSubnetID"].rsplit("/subnets/", 1)[0] for sub in subscriptions for c in sub["clusters"]
                    for p in c["properties"]["agentPoolProfiles"] if p.get("vnetSubnetID")})
    for k, vnet in enumerate(vnets):
        parts = vnet.split("/")
        emu.seed_vnet(parts[2], parts[4], parts[-1], [f"10.{64 + k // 256}.{k % 256}.0/24"],
                      {"nodes": f"10.{64 + k // 256}.{k % 256}.0/25"})
    return len(vnets)


def measure_plan(bed, size: int, subscriptions: int, workdir: Path, page_size: int = DEFAULT_PAGE_SIZE) -> dict:
    emu = bed.emu
    emu.reset()
    emu.configure(page_size=page_size)
    fleet, skipped = plannable_fleet(size, subscriptions)
    vnets = seed_vnets(emu, fleet)
    seed_in_batches(emu, fleet)
    since = emu.journal_last()
    plan_file = workdir / "plan.json"
    run = run_az(bed.ext, "aks", "http-proxy", "rollout", "plan", "--all-subscriptions", "--add-no-proxy",
                 ".new.contoso.com", "--plan-file", str(plan_file), "-o", "none", workdir=workdir)
    if run["rc"] != 0:
        raise RuntimeError(f"plan of {size} clusters failed:\n{run['stderr'].decode()}")
    doc = json.loads(plan_file.read_text())
    totals = doc["totals"]
    requests = [e for e in emu.journal(since) if e["kind"] == "arm"]
    vnet_reads = sum(1 for e in requests if "/virtualnetworks/" in e["path"].lower())
    return {"clusters": size, "subscriptions": subscriptions, "requests": len(requests), "planned": totals,
            "left_out": len(doc["leftOut"]), "expected_skipped": skipped,
            "list_pages": list_pages(fleet, page_size), "page_size": page_size,
            "vnets": vnets, "vnet_reads": vnet_reads,
            "wall_s": round(run["wall"], 2), "cpu_s": round(run["cpu"], 2), "max_rss_mb": round(run["max_rss_mb"], 1)}


def seed_apply_clusters(emu, size: int, reimage_seconds: float) -> None:
    emu.reset()
    emu.configure(cluster_update_seconds=0.0, pool_upgrade_seconds=reimage_seconds, retry_after=1)
    clusters = [{"resourceGroup": "rg1", "name": f"c{i:04d}", "properties": {
        "agentPoolProfiles": [{"name": "nodepool1", "mode": "System", "count": 3}],
        "httpProxyConfig": {"httpProxy": PROXY, "httpsProxy": PROXY, "noProxy": [".contoso.com"]}}}
        for i in range(size)]
    emu.seed_fleet([{"subscriptionId": SUBSCRIPTION_ID, "clusters": clusters}])


def measure_apply(bed, size: int, concurrency: int, reimage_seconds: float, workdir: Path) -> dict:
    seed_apply_clusters(bed.emu, size, reimage_seconds)
    plan_file = workdir / "apply-plan.json"
    run = run_az(bed.ext, "aks", "http-proxy", "rollout", "plan", "-g", "rg1", "--add-no-proxy", ".new.contoso.com",
                 "--stages", "rest", "--max-concurrency", str(concurrency), "--plan-file", str(plan_file),
                 "-o", "none", workdir=workdir)
    if run["rc"] != 0:
        raise RuntimeError(f"plan of {size} clusters failed:\n{run['stderr'].decode()}")
    since = bed.emu.journal_last()
    run = run_az(bed.ext, "aks", "http-proxy", "rollout", "apply", "--plan-file", str(plan_file), "--yes",
                 "--skip-check", "-o", "json", workdir=workdir)
    if run["rc"] != 0:
        raise RuntimeError(f"apply of {size} clusters failed:\n{run['stderr'].decode()}")
    states = {r["state"] for r in json.loads(run["stdout"])}
    puts = [e for e in bed.emu.journal(since) if e["method"] == "PUT" and e["status"] in (200, 201)]
    bound = APPLY_GOAL_FACTOR * math.ceil(size / concurrency) * reimage_seconds
    return {"clusters": size, "concurrency": concurrency, "reimage_s": reimage_seconds,
            "wall_s": round(run["wall"], 2), "cpu_s": round(run["cpu"], 2), "max_rss_mb": round(run["max_rss_mb"], 1),
            "bound_s": round(bound, 1), "within_bound": run["wall"] <= bound, "all_done": states == {"done"},
            "writes": len(puts)}


def measure_loop(bed, clusters: int, reimage_seconds: float, workdir: Path) -> float:
    """Seconds per cluster of a sequential loop of stock `az aks update --http-proxy-config`."""
    seed_apply_clusters(bed.emu, clusters, reimage_seconds)
    config = workdir / "loop.json"
    config.write_text(json.dumps({"httpProxy": PROXY, "httpsProxy": PROXY,
                                  "noProxy": [".contoso.com", ".new.contoso.com"]}), encoding="utf-8")
    total = 0.0
    for i in range(clusters):
        run = run_az(bed.stock, "aks", "update", "-g", "rg1", "-n", f"c{i:04d}", "--http-proxy-config", str(config),
                     "-o", "none", workdir=workdir)
        if run["rc"] != 0:
            raise RuntimeError(f"az aks update failed:\n{run['stderr'].decode()}")
        total += run["wall"]
    return total / clusters


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench rollout", description=__doc__.splitlines()[0])
    ap.add_argument("--plan-sizes", type=int, nargs="*", default=[PLAN_GOAL_SIZE])
    ap.add_argument("--subscriptions", type=int, default=100)
    ap.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE, help="clusters per list page (0: one page)")
    ap.add_argument("--apply-sizes", type=int, nargs="*", default=[20, 100])
    ap.add_argument("--concurrency", type=int, default=25)
    ap.add_argument("--reimage-seconds", type=float, default=8.0)
    ap.add_argument("--loop-clusters", type=int, default=3, help="clusters the az aks update loop is timed on")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    out: dict = {"plan": [], "apply": []}
    met = True
    with rig(control=False) as bed:
        for size in args.plan_sizes:
            r = measure_plan(bed, size, args.subscriptions, bed.root, args.page_size)
            out["plan"].append(r)
            lists = r["requests"] - r["vnet_reads"]
            ok = (lists == r["list_pages"] and r["vnet_reads"] == 0
                  and r["left_out"] == r["expected_skipped"]
                  and (size != PLAN_GOAL_SIZE or r["wall_s"] < PLAN_GOAL_SECONDS))
            met &= ok
            print(f"plan  {size:>5} clusters / {args.subscriptions} subscriptions: {r['wall_s']:.2f} s wall, "
                  f"{r['cpu_s']:.2f} s CPU, {r['max_rss_mb']:.1f} MB, {lists} list requests for {r['list_pages']} "
                  f"pages, {r['vnet_reads']} VNet reads ({r['vnets']} VNets seeded; {r['planned']['changed']} to "
                  f"change, {r['left_out']} skipped): {'met' if ok else 'MISSED'}",
                  flush=True)
        for size in args.apply_sizes:
            r = measure_apply(bed, size, args.concurrency, args.reimage_seconds, bed.root)
            out["apply"].append(r)
            ok = r["within_bound"] and r["all_done"] and r["writes"] == size
            met &= ok
            print(f"apply {size:>5} clusters, C={args.concurrency}, T={args.reimage_seconds:g} s: "
                  f"{r['wall_s']:.2f} s wall (bound {r['bound_s']:.1f} s), {r['cpu_s']:.2f} s CPU, "
                  f"{r['max_rss_mb']:.1f} MB, {r['writes']} writes: {'met' if ok else 'MISSED'}", flush=True)
        if args.loop_clusters and out["apply"]:
            per = measure_loop(bed, args.loop_clusters, args.reimage_seconds, bed.root)
            n = out["apply"][-1]["clusters"]
            out["loop"] = {"per_cluster_s": round(per, 2), "estimate_s": round(per * n, 1), "clusters": n}
            print(f"loop  `az aks update` one after another: {per:.2f} s per cluster, ~{per * n:.0f} s for {n}",
                  flush=True)
    if len(out["apply"]) > 1:
        first, last = min(out["apply"], key=lambda r: r["clusters"]), max(out["apply"], key=lambda r: r["clusters"])
        flat = last["max_rss_mb"] <= MEMORY_FLAT_FACTOR * first["max_rss_mb"]
        met &= flat
        out["memory_flat"] = flat
        print(f"memory: {first['max_rss_mb']:.1f} MB at {first['clusters']} clusters, {last['max_rss_mb']:.1f} MB "
              f"at {last['clusters']}: {'flat' if flat else 'MISSED (grows with N)'}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
