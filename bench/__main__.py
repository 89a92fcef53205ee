"""`python -m bench [all | NAME [args...]]`: run the benchmarks, print medians, spreads and ratios.

    python -m bench                          every benchmark with its defaults (what `make bench` runs)
    python -m bench all [--quick] [--json FILE] [--markdown FILE]
    python -m bench startup --pairs 15       one benchmark; `python -m bench NAME --help` for its options

startup and update share one emulator and one pair of az profiles. --quick runs a few repetitions only (to check
that the benchmarks work, not to measure). Exits 1 when a goal is missed.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import subprocess
import sys
import time
from pathlib import Path

from bench._stats import Row, as_dicts, table

OURS = ("startup", "update", "validate")  # run(argv, bed) -> rows; any other module only has main(argv) -> exit code
QUICK = {"startup": ["--pairs", "2", "--warmup", "1"], "update": ["--pairs", "2", "--cases", "typical"],
         "validate": ["--runs", "20", "--scale-runs", "5", "--cold-runs", "1"],
         "node_image": ["--pools", "3", "--seconds", "8"], "audit": ["--sizes", "100", "1000"],
         "rollout": ["--plan-sizes", "100", "--apply-sizes", "10", "--concurrency", "5", "--reimage-seconds", "2",
                     "--loop-clusters", "1"],
         "report": ["--sizes", "100", "1000", "--runs", "2"]}


def benchmarks() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))


def machine() -> dict:
    """Where the figures come from: they mean little without the machine and its load."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    az = subprocess.run([str(Path(sys.prefix) / "bin" / "az"), "version", "--query", '"azure-cli"', "-o", "tsv"],
                        capture_output=True, text=True, check=False).stdout.strip()
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "cpus": os.cpu_count(), "cpu_model": model,
            "python": platform.python_version(), "azure_cli": az, "os": platform.platform(),
            "load_average_start": [round(x, 2) for x in os.getloadavg()]}


def describe(info: dict) -> str:
    end = f", {info['load_average_end']} at end" if "load_average_end" in info else ""
    return (f"{info['date']}: {info['cpus']} x {info['cpu_model']}, {info['os']}, Python {info['python']}, "
            f"azure-cli {info['azure_cli']}; load average (1, 5, 15 min) {info['load_average_start']} at start{end}")


def markdown(rows: list[Row], info: dict) -> str:
    def ms_or_s(seconds: float, unit: str) -> str:
        return f"{seconds * 1000:.1f} ms" if unit == "ms" else f"{seconds:.2f} s"

    header = ("benchmark", "case", "n", "A stock az: median (IQR)", "B aksproxy: median (IQR)", "B/A (paired)",
              "CPU B/A", "B/C", "goal")
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for r in rows:
        a = f"{ms_or_s(r.a.median, r.unit)} ({ms_or_s(r.a.iqr[0], r.unit)}-{ms_or_s(r.a.iqr[1], r.unit)})" \
            if r.a else "-"
        b = f"{ms_or_s(r.b.median, r.unit)} ({ms_or_s(r.b.iqr[0], r.unit)}-{ms_or_s(r.b.iqr[1], r.unit)})"
        if r.b.cpu_median is not None and not r.a:
            b += f", CPU {ms_or_s(r.b.cpu_median, r.unit)}"
        ratio = f"{r.ratio:.3f} ({r.paired_ratio:.3f})" if r.a else "-"
        control = f"{r.control_ratio:.3f}" if r.control else "-"
        cpu_ratio = f"{r.cpu_ratio:.3f}" if r.cpu_ratio is not None else "-"
        if r.goal is None:
            goal = r.note
        else:
            limit = f"<= {r.goal:.2f}" if r.a else f"< {ms_or_s(r.goal, r.unit)}"
            goal = f"{limit}: {'met' if r.met else 'missed'}"
        lines.append(f"| {r.bench} | {r.case} | {r.b.n} | {a} | {b} | {ratio} | {cpu_ratio} | {control} | {goal} |")
    return "\n".join(lines) + ("\n\nC: az with an installed extension that has no commands. "
                                f"Machine: {describe(info)}.\n")


def run_all(args: argparse.Namespace, names: list[str]) -> int:
    from bench._rig import rig

    info = machine()
    rows: list[Row] = []
    codes = []
    print(f"machine: {describe(info)}", flush=True)
    wanted = [n for n in names if n in OURS]
    az_benches = [n for n in wanted if n in ("startup", "update")]
    if az_benches:
        with rig() as bed:
            for name in az_benches:
                rows += importlib.import_module(f"bench.{name}").run(QUICK[name] if args.quick else [], bed)
    if "validate" in wanted:
        rows += importlib.import_module("bench.validate").run(QUICK["validate"] if args.quick else [])
    for name in names:
        if name not in OURS:  # e.g. node_image: prints its own figures
            print(f"\n== {name}", flush=True)
            codes.append(importlib.import_module(f"bench.{name}").main(QUICK.get(name, []) if args.quick else []))
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print()
    print(table(rows))
    if "validate" in wanted:
        from bench.validate import linearity

        print(linearity(rows))
    print(f"machine: {describe(info)}")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": as_dicts(rows)}, indent=2) + "\n",
                             encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(markdown(rows, info), encoding="utf-8")
    missed = any(r.met is False for r in rows) or any(codes)
    return 1 if missed else 0


def main(argv: list[str]) -> int:
    names = benchmarks()
    if argv and argv[0] in names:
        return importlib.import_module(f"bench.{argv[0]}").main(argv[1:])
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0],
                                 epilog="Benchmarks: " + ", ".join(names))
    ap.add_argument("which", nargs="?", default="all", choices=["all"], help="all benchmarks (the default)")
    ap.add_argument("--quick", action="store_true", help="a few repetitions: check the benchmarks run")
    ap.add_argument("--json", type=Path, help="also write machine and figures to this JSON file")
    ap.add_argument("--markdown", type=Path, help="also write the figures as a Markdown table (for docs/performance.md)")
    return run_all(ap.parse_args(argv), names)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
