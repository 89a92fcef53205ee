"""The aksproxy wheel, built the way a user builds it (setup.py bdist_wheel), for the e2e tests and the benchmarks."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def build_wheel(dest: Path, version: str | None = None) -> Path:
    """Build the extension wheel from a copy of the working tree, so concurrent edits and parallel workers
    never see each other's build/ or *.egg-info directories. `version` writes another version into the copy's
    _version.py (a later release for the update tests); the working tree is never changed."""
    src = dest / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    shutil.copytree(REPO_ROOT / "azext_aksproxy", src / "azext_aksproxy", ignore=ignore)
    if version is not None:
        (src / "azext_aksproxy" / "_version.py").write_text(f'VERSION = "{version}"\n', encoding="utf-8")
    for name in ("setup.py", "setup.cfg", "MANIFEST.in", "README.md", "HISTORY.rst"):
        if (REPO_ROOT / name).is_file():
            shutil.copy2(REPO_ROOT / name, src / name)
    if not (src / "README.md").exists():  # setup.py reads it
        (src / "README.md").write_text("aksproxy\n", encoding="utf-8")
    out = dest / "dist"
    proc = subprocess.run([sys.executable, "setup.py", "-q", "bdist_wheel", "-d", str(out)], cwd=src,
                          capture_output=True, text=True, check=False)
    wheels = sorted(out.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise RuntimeError(f"wheel build failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return wheels[0]
