"""az start-up with aksproxy installed against stock az: `az aks create --help`, `az aks show`, `az version`.

Isolated az profiles (same az, same Python, same local ARM emulator) run each command in turn, rotating the order
every round: A stock az, B az + aksproxy, and C az + an extension with no commands, the control that shows what az
itself pays for any installed extension (it reads every extension's metadata, with pkginfo, on each run).
Goal: B/A (median with aksproxy / median of stock az) <= 1.05; B/C is aksproxy's own share. Exits 1 when a goal is
missed.

    python -m bench startup [--pairs 15] [--warmup 2] [--json FILE]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._rig import Rig, log, on_rig, timed_az
from bench._stats import Row, Timing, alternate, report, write_json

GOAL = 1.05
RG, CLUSTER = "rg1", "bench-startup"
COMMANDS = {
    "az aks create --help": ("aks", "create", "--help"),
    "az aks show": ("aks", "show", "-g", RG, "-n", CLUSTER, "-o", "json"),
    "az version": ("version", "-o", "json"),
}


def _runner(session, args):
    def run() -> Timing:
        result, timing = timed_az(session, *args)
        if not result.ok:
            raise RuntimeError(f"benchmark command failed:\n{result}")
        return timing
    return run


def measure(bed: Rig, pairs: int = 15, warmup: int = 2, commands: dict | None = None) -> list[Row]:
    commands = commands or COMMANDS
    bed.emu.seed_cluster(RG, CLUSTER)
    sessions = [bed.stock, bed.ext] + ([bed.empty] if bed.empty else [])
    cases = {name: [_runner(session, args) for session in sessions] for name, args in commands.items()}
    log(f"startup: {warmup} warm-up run(s) per side and command (command index, .pyc files)")
    for sides in cases.values():
        for _ in range(warmup):
            for side in sides:
                side()
    samples = alternate(cases, pairs, progress=log)
    return [Row("startup", name, b=b, a=a, control=rest[0] if rest else None, goal=GOAL,
                note="A: stock az, B: az + aksproxy, C: az + an extension without commands")
            for name, (a, b, *rest) in samples.items()]


def run(argv: list[str], bed: Rig | None = None) -> list[Row]:
    ap = argparse.ArgumentParser(prog="python -m bench startup", description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=15, help="rounds (A, B and C once each) per command (default 15)")
    ap.add_argument("--warmup", type=int, default=2, help="discarded runs per side and command (default 2)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    rows = on_rig(bed, lambda b: measure(b, args.pairs, args.warmup))
    write_json(rows, args.json)
    return rows


def main(argv: list[str]) -> int:
    return report(run(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
