"""One version: azext_aksproxy/_version.py. setup.py, the wheel's name and metadata, the index entry `make release`
writes and HISTORY.rst's top section all say it."""
from __future__ import annotations

import json
import re
import subprocess
import sys

from azext_aksproxy._version import VERSION
from tests.wheel import REPO_ROOT, build_wheel
from tools.release import index_entry


def test_setup_reads_the_version_without_importing_the_package():
    out = subprocess.run([sys.executable, "setup.py", "--version"], cwd=REPO_ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[-1] == VERSION
    assert not re.search(r"\d+\.\d+\.\d+", (REPO_ROOT / "setup.py").read_text(encoding="utf-8"))  # no copy


def test_historys_top_section_is_the_version_being_built():
    text = (REPO_ROOT / "HISTORY.rst").read_text(encoding="utf-8")
    headings = re.findall(r"^(\S.*)\n\++$", text, re.MULTILINE)
    assert headings[0] in (VERSION, f"{VERSION} (unreleased)")
    older = [h.split()[0] for h in headings[1:]]
    assert all(tuple(map(int, v.split("."))) < tuple(map(int, VERSION.split("."))) for v in older), older


def test_the_wheel_and_its_index_entry_carry_the_version(tmp_path):
    wheel = build_wheel(tmp_path)
    assert wheel.name == f"aksproxy-{VERSION}-py3-none-any.whl"
    entry = index_entry(wheel, "https://releases.example/aksproxy")
    assert entry["metadata"]["version"] == VERSION and entry["metadata"]["name"] == "aksproxy"
    assert entry["downloadUrl"] == f"https://releases.example/aksproxy/{wheel.name}"
    azext = json.loads((REPO_ROOT / "azext_aksproxy" / "azext_metadata.json").read_text(encoding="utf-8"))
    assert "version" not in azext and VERSION not in azext.values()  # no second copy


def test_a_version_written_into_a_copy_of_the_tree_is_the_one_built(tmp_path):
    assert build_wheel(tmp_path, version="9.8.7").name == "aksproxy-9.8.7-py3-none-any.whl"
