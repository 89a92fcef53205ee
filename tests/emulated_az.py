"""End-to-end fixtures: the real az against the local ARM emulator.

Session scope (one set per pytest-xdist worker):
    e2e_root          a private temp dir, removed at the end (set ARMEMU_KEEP=1 to keep it)
    extension_wheel   the aksproxy wheel built once from a snapshot of the working tree
    emulator          the emulator subprocess (tests.armemu.EmulatorHandle)
    az_stock          AzSession logged in to the emulator, no extension
    az_ext            AzSession logged in to the emulator, with the aksproxy wheel installed
Function scope:
    emu               the emulator's EmulatorClient; state, config, faults and journal are reset before every
                      test that uses any of the fixtures above
    recorded_data     Path of the recorded --http-proxy-config data files
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.armemu import EmulatorClient, EmulatorHandle, start_emulator
from tests.armemu.fixtures import DATA_DIR
from tests.azcli import AzSession
from tests.proxies import check_env
from tests.wheel import build_wheel

_EMULATOR_FIXTURES = ("emulator", "emu", "az_stock", "az_ext")


@pytest.fixture(scope="session")
def e2e_root():
    root = Path(tempfile.mkdtemp(prefix="aksproxy-e2e-"))
    yield root
    if not os.environ.get("ARMEMU_KEEP"):
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def extension_wheel(e2e_root) -> Path:
    dest = e2e_root / "wheel"
    dest.mkdir()
    return build_wheel(dest)


@pytest.fixture(scope="session")
def emulator(e2e_root) -> EmulatorHandle:
    handle = start_emulator(e2e_root / "emulator")
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def az_stock(emulator, e2e_root) -> AzSession:
    return AzSession(emulator, e2e_root / "az-stock")


@pytest.fixture(scope="session")
def az_ext(emulator, e2e_root, extension_wheel) -> AzSession:
    session = AzSession(emulator, e2e_root / "az-ext")
    session.install_extension(extension_wheel)
    return session


@pytest.fixture(autouse=True)
def _clean_emulator(request):
    """Reset the emulator before each test that uses it (state, config, faults, journal)."""
    used = [name for name in _EMULATOR_FIXTURES if name in request.fixturenames]
    if used:
        for name in used:  # set up session fixtures first, so their own traffic (az login) is not journaled
            request.getfixturevalue(name)
        request.getfixturevalue("emulator").client.reset()


@pytest.fixture
def emu(emulator) -> EmulatorClient:
    return emulator.client


@pytest.fixture
def env(origin_ca, tmp_path, https_origin):
    """The origins' CA plays the public roots and the HTTPS origin the required endpoints the node check probes;
    a module whose check needs other targets defines its own."""
    return check_env(origin_ca, tmp_path, https_origin.url)


@pytest.fixture
def fast(emu):
    """Reimages and operations of half a second: rollouts in e2e tests end in seconds."""
    emu.configure(cluster_update_seconds=0.5, pool_upgrade_seconds=0.5, retry_after=1)
    return emu


@pytest.fixture
def recorded_data() -> Path:
    return DATA_DIR
