"""Node image upgrade of N pools: `az aks http-proxy upgrade-nodes` against the stock sequential loop.

Every pool's emulated upgrade takes the same T seconds. The same run times, through the real az against the local
ARM emulator, (1) the helper on all N pools and (2) `az aks nodepool upgrade --node-image-only` once per pool,
each waiting for its pool as a script would, then prints both wall times and their ratio. Goal: the helper within
1.25 x T, about N times faster than the loop. Exits 1 when the goal is missed or a run fails.

    python -m bench node_image [--pools 8] [--seconds 30]
    python bench/node_image.py [--pools 8] [--seconds 30]

T must dwarf one az start-up (a few seconds here), which both sides pay: the helper once, the loop N times.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._rig import rig
from tests.azcli import AzSession

RG, CLUSTER = "rg1", "bench"
GOAL = 1.25  # helper wall time / T


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


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench node_image", description=__doc__.splitlines()[0])
    ap.add_argument("--pools", type=int, default=8, help="N, the number of node pools (default 8)")
    ap.add_argument("--seconds", type=float, default=30.0, help="T, each pool's upgrade duration (default 30)")
    args = ap.parse_args(argv)
    with rig(control=False) as bed:
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
    return 0 if met else 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
