"""Figures shared by the benchmarks: alternating A/B timing, medians with their spread, one result row format."""
from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by linear interpolation (the 'inclusive' method: min at 0, max at 1)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


Timing = tuple[float, float | None]  # (wall seconds, CPU seconds or None): what a timed run returns


@dataclass
class Sample:
    """Timings of one side, in seconds: wall clock, and CPU time when measured (steadier on a loaded machine)."""

    values: list[float]
    cpu: list[float] | None = None

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def iqr(self) -> tuple[float, float]:
        return quantile(self.values, 0.25), quantile(self.values, 0.75)

    @property
    def p90(self) -> float:
        return quantile(self.values, 0.9)

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None

    def summary(self) -> dict:
        q1, q3 = self.iqr
        return {"n": self.n, "median": self.median, "q1": q1, "q3": q3, "p90": self.p90,
                "min": min(self.values), "max": max(self.values), "cpu_median": self.cpu_median}


def sample(timings: Sequence[Timing]) -> Sample:
    cpu = [c for _, c in timings if c is not None]
    return Sample([w for w, _ in timings], cpu if len(cpu) == len(timings) else None)


def alternate(cases: dict[str, Sequence[Callable[[], Timing]]], rounds: int,
              progress: Callable[[str], None] | None = None) -> dict[str, list[Sample]]:
    """Time each case's sides (A, B[, C]) in turn, ``rounds`` times for every case, rotating which side goes
    first every round (AB, BA, ... or ABC, BCA, CAB, ...).

    Alternation puts every side under the same background load (this machine is shared): a burst of load hits
    one round, not all of one side. Rotating the order cancels any benefit of running later (warm page cache).
    """
    times: dict[str, list[list[Timing]]] = {name: [[] for _ in sides] for name, sides in cases.items()}
    for i in range(rounds):
        for name, sides in cases.items():
            for k in range(len(sides)):
                side = (i + k) % len(sides)
                times[name][side].append(sides[side]())
            if progress:
                figures = ", ".join(f"{'ABC'[k]} {t[-1][0]:.3f} s" for k, t in enumerate(times[name]))
                progress(f"{i + 1}/{rounds} {name}: {figures}")
    return {name: [sample(t) for t in sides] for name, sides in times.items()}


@dataclass
class Row:
    """One measured case: B (aksproxy) against A (the baseline), or a single timing when ``a`` is None."""

    bench: str
    case: str
    b: Sample
    a: Sample | None = None
    control: Sample | None = None  # C: az with an extension that has no commands (what any extension costs)
    goal: float | None = None  # the ratio B/A (or B's median in seconds, when a is None) must not exceed this
    unit: str = "s"
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.b.median / self.a.median if self.a else None

    @property
    def paired_ratio(self) -> float | None:
        """Median of the per-pair ratios: less sensitive to load that drifts over the run than the ratio of medians."""
        if not self.a:
            return None
        return statistics.median(b / a for a, b in zip(self.a.values, self.b.values))

    @property
    def cpu_ratio(self) -> float | None:
        a, b = (self.a.cpu_median if self.a else None), self.b.cpu_median
        return b / a if a and b else None

    @property
    def control_ratio(self) -> float | None:
        """B against C: aksproxy's own cost, beyond what az pays for any installed extension."""
        return self.b.median / self.control.median if self.control else None

    @property
    def measured(self) -> float:
        ratio = self.ratio
        return ratio if ratio is not None else self.b.median

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.measured <= self.goal

    def to_json(self) -> dict:
        return {"bench": self.bench, "case": self.case, "goal": self.goal, "met": self.met, "ratio": self.ratio,
                "paired_ratio": self.paired_ratio, "cpu_ratio": self.cpu_ratio, "control_ratio": self.control_ratio,
                "a": self.a.summary() if self.a else None, "b": self.b.summary(),
                "control": self.control.summary() if self.control else None,
                "unit": self.unit, "note": self.note, **({"extra": self.extra} if self.extra else {})}


def _time(seconds: float, unit: str) -> str:
    if unit == "ms":
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def _spread(sample: Sample, unit: str) -> str:
    q1, q3 = sample.iqr
    return f"{_time(q1, unit)}-{_time(q3, unit)}"


def table(rows: Sequence[Row]) -> str:
    """A compact fixed-width table: medians, IQR, ratios, goal. A: stock az, B: aksproxy, C: an empty extension."""
    header = ("bench", "case", "n", "A median (IQR)", "B median (IQR)", "B CPU", "B/A", "paired", "CPU B/A", "B/C",
              "goal", "")
    lines = [header]
    for r in rows:
        a = f"{_time(r.a.median, r.unit)} ({_spread(r.a, r.unit)})" if r.a else "-"
        b = f"{_time(r.b.median, r.unit)} ({_spread(r.b, r.unit)})"
        cpu = _time(r.b.cpu_median, r.unit) if r.b.cpu_median is not None else "-"
        cpu_ratio = f"{r.cpu_ratio:.3f}" if r.cpu_ratio is not None else "-"
        ratio = f"{r.ratio:.3f}" if r.ratio is not None else "-"
        paired = f"{r.paired_ratio:.3f}" if r.paired_ratio is not None else "-"
        control = f"{r.control_ratio:.3f}" if r.control_ratio is not None else "-"
        if r.goal is None:
            goal = "-"
        elif r.a:
            goal = f"<= {r.goal:.2f}"
        else:
            goal = f"< {_time(r.goal, r.unit)}"
        verdict = {None: "", True: "met", False: "MISSED"}[r.met]
        lines.append((r.bench, r.case, str(r.b.n), a, b, cpu, ratio, paired, cpu_ratio, control, goal, verdict))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)


def as_dicts(rows: Sequence[Row]) -> list[dict]:
    return [r.to_json() for r in rows]


def write_json(rows: Sequence[Row], path) -> None:
    """The figures as JSON at ``path`` (a Path, or None for no file)."""
    if path:
        path.write_text(json.dumps(as_dicts(rows), indent=2) + "\n", encoding="utf-8")


def exit_code(rows: Sequence[Row]) -> int:
    """0 when no goal was missed: what `make bench` and the scripts exit with."""
    return 0 if all(r.met is not False for r in rows) else 1


__all__ = ["Row", "Sample", "Timing", "alternate", "as_dicts", "exit_code", "quantile", "sample", "table",
           "write_json"]


def report(rows: Sequence[Row]) -> int:
    """Print the figures; the exit code says whether every goal was met."""
    print(table(rows))
    return exit_code(rows)
