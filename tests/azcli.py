"""Run the real, unmodified `az` (the venv's) against the local ARM emulator, fully isolated from the user's setup.

    session = AzSession(emulator_handle, tmp_dir)      # registers a cloud for the emulator, az login --identity
    session.install_extension(wheel)                   # optional: az extension add --source <wheel> --yes
    r = session.az("aks", "show", "-g", "rg1", "-n", "c1")   # AzResult(rc, stdout, stderr, json, ...)

Every az call gets its own AZURE_CONFIG_DIR / AZURE_EXTENSION_DIR / HOME inside the temp dir, the emulator's CA as
REQUESTS_CA_BUNDLE and the emulator's managed-identity endpoint; nothing reads or writes ~/.azure or ~/.ssh.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLOUD_NAME = "ArmEmulator"
AZ = str(Path(sys.prefix) / "bin" / "az")
_DROP_PREFIXES = ("AZURE_", "AZ_", "MSI_", "IDENTITY_", "IMDS_", "ARM_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                  "SSL_CERT_")
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class AzError(AssertionError):
    pass


@dataclass
class AzResult:
    rc: int
    stdout: str
    stderr: str
    args: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def json(self) -> Any:
        """stdout parsed as JSON, or None when it is not JSON."""
        text = self.stdout.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def __str__(self) -> str:
        return (f"az {' '.join(self.args)} -> rc={self.rc} in {self.seconds:.1f}s\n"
                f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}")


def write_ssh_public_key(path: Path) -> Path:
    """An RSA public key in OpenSSH format, made with cryptography (no ssh-keygen needed)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    path.write_bytes(public + b" armemu@test\n")
    return path


class AzSession:
    """An isolated az profile logged in to the emulator through its managed-identity endpoint."""

    def __init__(self, emulator: Any, tmpdir: os.PathLike, *, login: bool = True, timeout: float = 180) -> None:
        self.emulator = emulator
        self.root = Path(tmpdir)
        self.config_dir = self.root / "azure-config"
        self.extension_dir = self.root / "azure-extensions"
        self.home = self.root / "home"
        for d in (self.config_dir, self.extension_dir, self.home):
            d.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self.ssh_key_path = write_ssh_public_key(self.root / "id_rsa.pub")
        self.history: list = []
        self.env = self._base_env()
        if login:
            self.login()

    @property
    def ssh_key(self) -> str:
        return str(self.ssh_key_path)

    def _base_env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.upper().startswith(_DROP_PREFIXES) and k.upper() not in _PROXY_VARS}
        env.update({
            "AZURE_CONFIG_DIR": str(self.config_dir),
            "AZURE_EXTENSION_DIR": str(self.extension_dir),
            "HOME": str(self.home),
            "REQUESTS_CA_BUNDLE": self.emulator.ca_path,
            "IDENTITY_ENDPOINT": self.emulator.identity_url,
            "IDENTITY_HEADER": "armemu-identity-header",
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_NO_COLOR": "true",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_LOGIN_EXPERIENCE_V2": "off",
            "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONWARNINGS": "ignore",
        })
        env.pop("PYTHONPATH", None)
        return env

    def login(self) -> None:
        arm = self.emulator.arm_url.rstrip("/") + "/"
        self.az("cloud", "register", "-n", CLOUD_NAME, "--endpoint-resource-manager", arm, check=True)
        self.az("cloud", "set", "-n", CLOUD_NAME, check=True)
        self.az("login", "--identity", "-o", "none", check=True)

    @contextmanager
    def every_subscription(self, current: str):
        """Logged in again, so az's profile holds every subscription the emulator lists now (az writes only to
        those), with ``current`` the current one before and after."""
        self.az("login", "--identity", "-o", "none", check=True)
        self.az("account", "set", "-s", current, check=True)
        try:
            yield
        finally:
            self.az("account", "set", "-s", current, check=True)

    def az(self, *args: str, input: str | None = None, env: dict | None = None, check: bool | None = None,
           timeout: float | None = None) -> AzResult:
        """Run `az *args`. check=True raises AzError on a non-zero exit, check=False/None returns the result."""
        full_env = dict(self.env)
        full_env.update(env or {})
        argv = [str(a) for a in args]
        t0 = time.monotonic()
        try:
            proc = subprocess.run([AZ, *argv], check=False, input=input, capture_output=True, text=True, env=full_env,
                                  cwd=str(self.home), timeout=timeout or self.timeout,
                                  stdin=None if input is not None else subprocess.DEVNULL)
            result = AzResult(proc.returncode, proc.stdout, proc.stderr, argv, time.monotonic() - t0)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            result = AzResult(-9, out, err + f"\n[timed out after {exc.timeout}s]", argv, time.monotonic() - t0)
        self.history.append(result)
        if check and not result.ok:
            raise AzError(str(result))
        return result

    def install_extension(self, wheel_path: os.PathLike) -> AzResult:
        """az extension add --source <wheel> --yes; dependencies come from az's own environment (no index)."""
        return self.az("extension", "add", "--source", str(wheel_path), "--yes",
                       env={"PIP_NO_DEPS": "1", "PIP_NO_INDEX": "1"}, check=True)

    def extensions(self) -> list:
        return self.az("extension", "list", "-o", "json", check=True).json or []
