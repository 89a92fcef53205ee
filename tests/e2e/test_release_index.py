"""A release as teams host it: `make release`'s wheel and index.json on a static web server (here loopback HTTP),
installed, updated and removed by name through the real az, which also refuses a wheel whose sha256 differs."""
from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import zipfile
from pathlib import Path

import pytest

from azext_aksproxy._version import VERSION
from tests.azcli import AzSession
from tests.wheel import build_wheel
from tools.release import write_index

WHEELHOUSE = Path(__file__).resolve().parents[2] / "build" / "wheelhouse"
# Dependencies come from the local wheelhouse (`make wheelhouse`), so pip stays on loopback too.
OFFLINE_PIP = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE)}


class StaticSite:
    """A directory served over HTTP on 127.0.0.1, as a storage container or static site would serve it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requested: list[str] = []
        requested = self.requested

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                requested.append(self.path)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, *wheels: Path) -> dict:
        """Copy the wheels in and write index.json for them, as `make release` does in dist/."""
        for wheel in wheels:
            shutil.copy2(wheel, self.root / wheel.name)
        return json.loads(write_index(self.root, self.url).read_text(encoding="utf-8"))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site(tmp_path):
    (tmp_path / "site").mkdir()
    served = StaticSite(tmp_path / "site")
    yield served
    served.close()


@pytest.fixture
def session(emulator, tmp_path, site):
    if not any(WHEELHOUSE.glob("jsonschema-*.whl")):
        pytest.fail(f"{WHEELHOUSE} has no jsonschema wheel: run `make wheelhouse` (part of `make test`)")
    return AzSession(emulator, tmp_path / "az", login=False)


def next_version(version: str) -> str:
    major, minor, patch = (int(part) for part in version.split("."))
    return f"{major}.{minor}.{patch + 1}"


def installed_version(az: AzSession) -> str | None:
    return {e["name"]: e["version"] for e in az.extensions()}.get("aksproxy")


def logged_extension_versions(az: AzSession) -> set[str]:
    """The "extension version" lines az writes into its command logs (AZURE_CONFIG_DIR/commands)."""
    lines = [line for log in (az.config_dir / "commands").glob("*.log")
             for line in log.read_text(encoding="utf-8").splitlines() if "extension version: " in line]
    return {line.rsplit("extension version: ", 1)[1].strip() for line in lines}


def test_add_update_and_remove_by_name_from_a_hosted_index(session, site, extension_wheel, tmp_path):
    assert extension_wheel.name == f"aksproxy-{VERSION}-py3-none-any.whl"
    session.az("config", "set", f"extension.index_url={site.url}/index.json", check=True)  # the README's way
    site.publish(extension_wheel)
    added = session.az("extension", "add", "--name", "aksproxy", "--yes", env=OFFLINE_PIP)
    assert added.ok, added
    assert installed_version(session) == VERSION
    assert {"/index.json", f"/{extension_wheel.name}"} <= set(site.requested)

    later = next_version(VERSION)
    later_wheel = build_wheel(tmp_path / "later", version=later)
    index = site.publish(later_wheel)
    assert [e["metadata"]["version"] for e in index["extensions"]["aksproxy"]] == [VERSION, later]
    updated = session.az("extension", "update", "--name", "aksproxy", env=OFFLINE_PIP)
    assert updated.ok, updated
    assert installed_version(session) == later

    config = tmp_path / "proxy.json"
    config.write_text('{"httpProxy": "http://proxy.corp.example:3128/"}', encoding="utf-8")
    validated = session.az("aks", "http-proxy", "validate", "--config", config)
    assert validated.ok, validated  # the updated extension runs, with its dependencies
    assert logged_extension_versions(session) == {later}

    again = session.az("extension", "update", "--name", "aksproxy", env=OFFLINE_PIP)
    assert again.ok and "already installed" in again.stderr and installed_version(session) == later

    removed = session.az("extension", "remove", "--name", "aksproxy")
    assert removed.ok, removed
    assert installed_version(session) is None


def test_az_refuses_a_wheel_whose_sha256_is_not_the_indexs(session, site, extension_wheel, tmp_path):
    site.publish(extension_wheel)
    # The file on the server replaced after the index was written: a valid wheel of the same name, one file more.
    served = site.root / extension_wheel.name
    with zipfile.ZipFile(extension_wheel) as src, zipfile.ZipFile(served, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("azext_aksproxy/planted.py", "print('not the released code')\n")
    # The index named by the environment, as the pipelines in docs/fleet-rollout.md name it.
    refused = session.az("extension", "add", "--name", "aksproxy", "--yes",
                         env={**OFFLINE_PIP, "AZURE_EXTENSION_INDEX_URL": f"{site.url}/index.json"})
    assert refused.rc != 0
    assert "checksum of the extension does not match" in refused.stderr
    assert installed_version(session) is None
    assert not (session.extension_dir / "aksproxy").exists()
    assert f"/{extension_wheel.name}" in site.requested  # fetched, then refused
