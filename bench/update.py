"""`az aks update --http-proxy-config` end to end against the local ARM emulator: az + aksproxy against stock az.

Both sides update their own identical cluster with the same file, alternately (AB, BA, ...): process start, the
cluster GET, the PUT, polling to the end and the output. aksproxy adds its validation (jsonschema and cryptography
imports, the rules, the certificates decoded) and its cluster checks. The emulator finishes an update at once
(cluster_update_seconds=0), so the ratio shows the CLI's own cost undiluted: a real AKS update takes minutes.
Cases: a typical config (1 CA, 12 noProxy entries) on a managed VNet, the same on a custom VNet (aksproxy reads its
address space once, one more GET than stock az), and the maximal one (20 CAs / 35 KB, 2,000 noProxy entries).
Goal: median with aksproxy / median of stock az <= 1.10. Exits 1 when a goal is missed.

    python -m bench update [--pairs 15] [--warmup 1] [--cases typical maximal] [--json FILE]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _configs
from bench._rig import Rig, log, on_rig, timed_az
from bench._stats import Row, Timing, alternate, report, write_json

GOAL = 1.10
RG = "rg1"
CASES = ("typical", "custom-vnet", "maximal")
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def _config_file(bed: Rig, case: str) -> Path:
    doc = _configs.config(2000, _configs.trusted_ca(20)) if case == "maximal" else _configs.typical()
    path = bed.root / f"proxy-{case}.json"
    path.write_bytes(_configs.to_bytes(doc))
    return path


def _updater(session, cluster: str, config: Path):
    def run() -> Timing:
        result, timing = timed_az(session, "aks", "update", "-g", RG, "-n", cluster, "--http-proxy-config",
                                  str(config), "-o", "json")
        sent = (result.json or {}).get("httpProxyConfig") or {}
        if not result.ok or not sent.get("httpProxy"):
            raise RuntimeError(f"benchmark update failed:\n{result}")
        return timing
    return run


def measure(bed: Rig, pairs: int = 15, warmup: int = 1, cases: tuple[str, ...] = CASES) -> list[Row]:
    bed.emu.configure(cluster_update_seconds=0)
    runners = {}
    for case in cases:
        config = _config_file(bed, case)
        stock, ext = f"bench-update-{case}-stock", f"bench-update-{case}-ext"
        for cluster in (stock, ext):
            if case == "custom-vnet":
                (subnet,) = bed.emu.seed_vnet(SUBSCRIPTION, RG, f"{cluster}-vnet", ["10.42.0.0/16"],
                                              {"nodes": "10.42.1.0/24"})
                bed.emu.seed_cluster(RG, cluster, pools=[{"name": "nodepool1", "vnetSubnetID": subnet}])
            else:
                bed.emu.seed_cluster(RG, cluster)
        runners[f"az aks update --http-proxy-config ({case})"] = (
            _updater(bed.stock, stock, config), _updater(bed.ext, ext, config))
    log(f"update: {warmup} warm-up update(s) per side and case")
    for run_a, run_b in runners.values():
        for _ in range(warmup):
            run_a()
            run_b()
    samples = alternate(runners, pairs, progress=log)
    return [Row("update", name, b=b, a=a, goal=GOAL, note="A: stock az, B: az + aksproxy; emulator update 0 s")
            for name, (a, b) in samples.items()]


def run(argv: list[str], bed: Rig | None = None) -> list[Row]:
    ap = argparse.ArgumentParser(prog="python -m bench update", description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=15, help="alternating A/B pairs per case (default 15)")
    ap.add_argument("--warmup", type=int, default=1, help="discarded updates per side and case (default 1)")
    ap.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES), help="configs to send (default both)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    rows = on_rig(bed, lambda b: measure(b, args.pairs, args.warmup, tuple(args.cases)))
    write_json(rows, args.json)
    return rows


def main(argv: list[str]) -> int:
    return report(run(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
