"""The test bed the az benchmarks share: the local ARM emulator and isolated az profiles logged in to it: stock
(no extension), with the aksproxy wheel built from the working tree, and, as a control, with an extension that has
no commands at all (what az pays for any installed extension: it reads every extension's metadata). Same az, same
Python, same emulator."""
from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as `python bench/x.py`: make tests.* importable
    sys.path.insert(0, str(REPO_ROOT))

from tests.armemu import start_emulator
from tests.azcli import AzSession
from tests.wheel import build_wheel

_EMPTY_EXTENSION = {
    "setup.py": 'from setuptools import setup\n\nsetup(name="benchempty", version="0.0.1", packages=["azext_benchempty"])\n',
    "azext_benchempty/__init__.py": (
        "from azure.cli.core import AzCommandsLoader\n\n\n"
        "class EmptyCommandsLoader(AzCommandsLoader):\n"
        "    def load_command_table(self, args):\n"
        "        return self.command_table\n\n\n"
        "COMMAND_LOADER_CLS = EmptyCommandsLoader\n"),
}


@dataclass
class Rig:
    emu: Any  # tests.armemu.EmulatorClient
    stock: AzSession
    ext: AzSession
    root: Path
    empty: AzSession | None = None  # with the command-less control extension


def build_empty_extension(dest: Path) -> Path:
    for name, text in _EMPTY_EXTENSION.items():
        (dest / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / "src" / name).write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, "setup.py", "-q", "bdist_wheel", "-d", str(dest / "dist")], cwd=dest / "src",
                   capture_output=True, check=True)
    return next((dest / "dist").glob("*.whl"))


@contextmanager
def rig(control: bool = True) -> Iterator[Rig]:
    root = Path(tempfile.mkdtemp(prefix="aksproxy-bench-"))
    try:
        (root / "wheel").mkdir()
        wheel = build_wheel(root / "wheel")
        with start_emulator(root / "emulator") as emulator:
            stock = AzSession(emulator, root / "az-stock")
            ext = AzSession(emulator, root / "az-ext")
            ext.install_extension(wheel)
            empty = None
            if control:
                (root / "empty").mkdir()
                empty = AzSession(emulator, root / "az-empty")
                empty.install_extension(build_empty_extension(root / "empty"))
            yield Rig(emulator.client, stock, ext, root, empty)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def on_rig(bed: Rig | None, measure: Callable[[Rig], list]) -> list:
    """``measure(bed)``; without a bed (a benchmark run on its own), on a rig built and removed for the call."""
    if bed is not None:
        return measure(bed)
    with rig() as fresh:
        return measure(fresh)


def timed_az(session: AzSession, *args: str):
    """(AzResult, (wall seconds, CPU seconds of the az process)). CPU time (user + system, read from the reaped
    child's rusage) hardly depends on what else the machine runs; wall time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = session.az(*args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, (result.seconds, cpu)


def log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)
