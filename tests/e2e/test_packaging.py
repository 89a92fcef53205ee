"""The wheel as users get it: az extension add/list/remove, dependencies, and az's version gate."""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from tests.azcli import AzSession

REPO_ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = REPO_ROOT / "build" / "wheelhouse"
METADATA = json.loads((REPO_ROOT / "azext_aksproxy" / "azext_metadata.json").read_text())


def wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


@pytest.fixture
def fresh_session(emulator, tmp_path):
    return AzSession(emulator, tmp_path / "az")


def test_add_installs_dependencies_list_shows_it_and_remove_restores_stock(fresh_session, extension_wheel, tmp_path):
    if not any(WHEELHOUSE.glob("jsonschema-*.whl")):
        pytest.fail(f"{WHEELHOUSE} has no jsonschema wheel: run `make wheelhouse` (part of `make test`)")
    # Dependencies come from the local wheelhouse (made by `make wheelhouse`), so the test stays on loopback.
    added = fresh_session.az("extension", "add", "--source", extension_wheel, "--yes",
                             env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE)})
    assert added.ok, added
    assert "aksproxy" in added.stderr and "preview" in added.stderr
    assert list((fresh_session.extension_dir / "aksproxy").glob("jsonschema-*.dist-info"))

    listed = {e["name"]: e for e in fresh_session.extensions()}
    assert listed["aksproxy"]["version"] == wheel_version(extension_wheel)
    assert listed["aksproxy"]["preview"] is True

    config = tmp_path / "proxy.json"
    config.write_text('{"httpProxy": "http://proxy.corp.example:3128/"}', encoding="utf-8")
    validated = fresh_session.az("aks", "http-proxy", "validate", "--config", config)
    assert validated.ok, validated  # jsonschema imported from the extension's own directory

    removed = fresh_session.az("extension", "remove", "-n", "aksproxy")
    assert removed.ok, removed
    help_text = fresh_session.az("aks", "create", "--help")
    assert help_text.ok and "aksproxy" not in help_text.stdout + help_text.stderr
    gone = fresh_session.az("aks", "http-proxy", "validate", "--config", config)
    assert gone.rc == 2 and "http-proxy" in gone.stderr


def test_an_az_older_than_the_minimum_gets_azs_own_message(fresh_session, extension_wheel, tmp_path):
    # The same wheel with a minimum above the installed az: what users of an old az see.
    too_new = tmp_path / extension_wheel.name
    with zipfile.ZipFile(extension_wheel) as src, zipfile.ZipFile(too_new, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("azext_metadata.json"):
                data = json.dumps({**json.loads(data), "azext.minCliCoreVersion": "99.0.0"}).encode()
            dst.writestr(item, data)
    r = fresh_session.az("extension", "add", "--source", too_new, "--yes", env={"PIP_NO_DEPS": "1",
                                                                                  "PIP_NO_INDEX": "1"})
    assert r.rc == 1
    assert "requires a min of 99.0.0 CLI core" in r.stderr and "Traceback" not in r.stderr
    assert not (fresh_session.extension_dir / "aksproxy").exists()


def test_the_claimed_minimum_is_the_version_ci_tests():
    oldest = (REPO_ROOT / "requirements-oldest.txt").read_text()
    assert f"azure-cli=={METADATA['azext.minCliCoreVersion']}" in oldest.splitlines()


def test_the_wheel_ships_the_schema_and_metadata_and_nothing_else(extension_wheel):
    names = zipfile.ZipFile(extension_wheel).namelist()
    for needed in ("azext_aksproxy/azext_metadata.json", "azext_aksproxy/config/schema.json"):
        assert needed in names
    assert not [n for n in names if re.match(r"(tests|bench)/", n)]
