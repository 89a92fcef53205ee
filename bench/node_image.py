"""Node image upgrade of N pools: `az aks http-proxy upgrade-nodes` against the stock sequential loop; and what
`--upgrade-node-image` costs on today's AKS, which reimages every pool within the update itself.

Every pool's emulated upgrade takes the same T seconds. The same run times, through the real az against the local
ARM emulator, (1) the helper on all N pools and (2) `az aks nodepool upgrade --node-image-only` once per pool,
each waiting for its pool as a script would, then prints both wall times and their ratio. Goal: the helper within
1.25 x T, about N times faster than the loop. Exits 1 when the goal is missed or a run fails.

    python -m bench node_image [--pools 8] [--seconds 30]
    python bench/node_image.py [--pools 8] [--seconds 30]

T must dwarf one az start-up (a few seconds here), which both sides pay: the helper once, the loop N times.

The reimage case (emulator mode proxy_change_reimages, today's AKS): `az aks update --http-proxy-config FILE` with
and without `--upgrade-node-image` on an N-pool cluster whose pools each take R seconds to reimage, alternated for
a few rounds. Goal: the flag adds no node image operation and at most one poll round (operation status GETs).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._rig import rig
from tests.armemu.fixtures import DATA_DIR, load_data
from tests.azcli import AzSession

RG, CLUSTER = "rg1", "bench"
GOAL = 1.25  # helper wall time / T
EXTRA_POLL_ROUNDS = 1  # what --upgrade-node-image may add to a plain update in the reimage mode


def seed(emu, pools: int) -> list[str]:
    names = [f"np{i}" for i in range(1, pools + 1)]
    emu.seed_cluster(RG, CLUSTER, pools=[{"name": n, "mode": "System" if i == 0 else "User"}
                                         for i, n in enumerate(names)])
    return names


def upgraded(emu, names: list[str]) -> bool:
    state = emu.cluster_state(RG, CLUSTER)
    pools = {p["name"]: p["nodeImageVersion"] for p in state["stored"]["properties"]["agentPoolProfiles"]}
    return all(pools[n] == state["latestNodeImages"][n] for n in names)


def run_helper(az: AzSession, emu, pools: int) -> float:
    names = seed(emu, pools)
    r = az.az("aks", "http-proxy", "upgrade-nodes", "-g", RG, "-n", CLUSTER, "--yes", "-o", "none", timeout=3600)
    if not r.ok or not upgraded(emu, names):
        raise RuntimeError(f"helper run failed:\n{r}")
    return r.seconds


def run_loop(az: AzSession, emu, pools: int) -> float:
    names = seed(emu, pools)
    t0 = time.monotonic()
    for name in names:
        az.az("aks", "nodepool", "upgrade", "-g", RG, "--cluster-name", CLUSTER, "-n", name, "--node-image-only",
              "--yes", "-o", "none", check=True, timeout=3600)
    seconds = time.monotonic() - t0
    if not upgraded(emu, names):
        raise RuntimeError("sequential loop left pools behind")
    return seconds


def run_update(az: AzSession, emu, pools: int, follow: bool) -> tuple[float, int, int]:
    """One proxy update of a fresh N-pool cluster: (wall seconds, operation status polls, node image POSTs)."""
    names = [f"np{i}" for i in range(1, pools + 1)]
    emu.seed_cluster(RG, CLUSTER, http_proxy_config=load_data("httpproxyconfig.json"),
                     pools=[{"name": n, "mode": "System" if i == 0 else "User"} for i, n in enumerate(names)])
    since = emu.journal_last()
    r = az.az("aks", "update", "-g", RG, "-n", CLUSTER, "--http-proxy-config",
              str(DATA_DIR / "httpproxyconfig_update.json"), *(["--upgrade-node-image"] if follow else []),
              "-o", "none", timeout=3600)
    if not r.ok:
        raise RuntimeError(f"update failed:\n{r}")
    entries = emu.journal(since)
    polls = sum(1 for e in entries if e["method"] == "GET" and "/operations/" in e["path"])
    posts = sum(1 for e in entries if e["method"] == "POST" and e["path"].endswith("/upgradeNodeImageVersion"))
    return r.seconds, polls, posts


def reimage_case(bed, pools: int, seconds: float, rounds: int) -> bool:
    from statistics import median

    bed.emu.configure(proxy_change_reimages=True, cluster_update_seconds=1, pool_upgrade_seconds=seconds,
                      pool_upgrade_seconds_by_pool={})
    print(f"reimage mode: N={pools} pools, each reimaged in R={seconds:g} s within the update; {rounds} rounds",
          flush=True)
    plain, follow = [], []
    for i in range(rounds):  # alternated, the order turning every round
        for flag in ((False, True) if i % 2 == 0 else (True, False)):
            (follow if flag else plain).append(run_update(bed.ext, bed.emu, pools, flag))
    for label, runs in (("update", plain), ("update --upgrade-node-image", follow)):
        print(f"  {label:30s} median {median(r[0] for r in runs):6.1f} s, polls {[r[1] for r in runs]}, "
              f"node image POSTs {sum(r[2] for r in runs)}", flush=True)
    extra_polls = max(f[1] for f in follow) - min(p[1] for p in plain)
    extra = median(r[0] for r in follow) - median(r[0] for r in plain)
    met = sum(r[2] for r in follow) == 0 and extra_polls <= EXTRA_POLL_ROUNDS
    print(f"  --upgrade-node-image adds {extra:+.1f} s (median), at most {extra_polls} poll round(s), no node image "
          f"operation: goal (0 POSTs, <= {EXTRA_POLL_ROUNDS} extra poll round) {'met' if met else 'MISSED'}")
    return met


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench node_image", description=__doc__.splitlines()[0])
    ap.add_argument("--pools", type=int, default=8, help="N, the number of node pools (default 8)")
    ap.add_argument("--seconds", type=float, default=30.0, help="T, each pool's upgrade duration (default 30)")
    ap.add_argument("--case", choices=("helper", "reimage", "all"), default="all",
                    help="helper: upgrade-nodes against the loop; reimage: --upgrade-node-image on today's AKS")
    ap.add_argument("--reimage-seconds", type=float, default=5.0, help="R, each pool's reimage (default 5)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the reimage case (default 3)")
    args = ap.parse_args(argv)
    with rig(control=False) as bed:
        reimage_met = True
        if args.case in ("reimage", "all"):
            reimage_met = reimage_case(bed, args.pools, args.reimage_seconds, args.rounds)
        if args.case == "reimage":
            return 0 if reimage_met else 1
        bed.emu.configure(pool_upgrade_seconds=args.seconds, pool_upgrade_seconds_by_pool={})
        print(f"node image upgrade: N={args.pools} pools, T={args.seconds:g} s each", flush=True)
        helper = run_helper(bed.ext, bed.emu, args.pools)
        print(f"  helper (az aks http-proxy upgrade-nodes):           {helper:7.1f} s  "
              f"= {helper / args.seconds:.2f} x T", flush=True)
        loop = run_loop(bed.stock, bed.emu, args.pools)
        print(f"  loop (az aks nodepool upgrade --node-image-only):   {loop:7.1f} s  "
              f"= {loop / args.seconds:.2f} x T")
        print(f"  loop / helper: {loop / helper:.2f} (ideal: N = {args.pools})")
    met = helper <= GOAL * args.seconds
    print(f"  goal helper <= {GOAL} x T = {GOAL * args.seconds:g} s: {'met' if met else 'MISSED'}")
    return 0 if met and reimage_met else 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
