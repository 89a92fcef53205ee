"""Test-side API: `start_emulator(tmpdir)` runs the emulator as a subprocess and returns an `EmulatorHandle`;
`EmulatorClient` talks to its control surface and, for raw ARM calls, to ARM itself with a bearer token."""
from __future__ import annotations

import json
import os
import select
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_API = "2026-06-01"


class EmulatorError(RuntimeError):
    pass


class EmulatorClient:
    def __init__(self, arm_url: str, ca_path: str, identity_url: str | None = None) -> None:
        self.arm_url = arm_url.rstrip("/")
        self.identity_url = identity_url
        self._ctx = ssl.create_default_context(cafile=ca_path)

    # raw HTTP
    def request(self, method: str, path: str, body: Any = None, headers: dict | None = None,
                timeout: float = 30) -> tuple:
        """(status, headers dict with lower-case names, parsed JSON body or text or None)."""
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.arm_url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, context=self._ctx, timeout=timeout) as resp:
                status, rh, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            status, rh, raw = exc.code, exc.headers, exc.read()
        text = raw.decode("utf-8", errors="replace")
        try:
            parsed: Any = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = text
        return status, {k.lower(): v for k, v in rh.items()}, parsed

    def arm(self, method: str, path: str, body: Any = None, api_version: str | None = DEFAULT_API,
            headers: dict | None = None) -> tuple:
        """An ARM call as az makes it (bearer token, api-version appended unless the path has one)."""
        if api_version and "api-version=" not in path:
            path += ("&" if "?" in path else "?") + f"api-version={api_version}"
        hdrs = {"Authorization": "Bearer armemu-test-token", **(headers or {})}
        return self.request(method, path, body, hdrs)

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        status, _, parsed = self.request(method, "/_emu" + path, body)
        if status >= 400:
            raise EmulatorError(f"{method} /_emu{path} -> {status}: {parsed}")
        return parsed

    # control surface
    def info(self) -> dict:
        return self._control("GET", "/info")

    def journal(self, since: int = 0) -> list:
        return self._control("GET", f"/journal?since={since}")["entries"]

    def journal_last(self) -> int:
        return self._control("GET", "/journal?since=999999999")["last"]

    def writes(self, since: int = 0) -> list:
        """Journal entries that are ARM writes (PUT/POST/PATCH/DELETE; not token or control requests)."""
        return [e for e in self.journal(since) if e["write"]]

    def clear_journal(self) -> None:
        self._control("DELETE", "/journal")

    def reset(self) -> None:
        self._control("POST", "/reset")

    def configure(self, **config: Any) -> dict:
        return self._control("POST", "/config", config)

    def config(self) -> dict:
        return self._control("GET", "/config")

    def add_fault(self, action: str, *, method: str | None = None, path_regex: str = "",
                  nth: int | None = None, times: int = 1, **params: Any) -> dict:
        """e.g. add_fault("status", method="PUT", path_regex="managedClusters/c1$", code=429, retry_after=1)."""
        match = {"method": method, "path_regex": path_regex}
        if nth is not None:
            match["nth"] = nth
        rule = {"match": match, "action": action, "times": times, **params}
        return self._control("POST", "/faults", rule)["added"][0]

    def faults(self) -> list:
        return self._control("GET", "/faults")["rules"]

    def clear_faults(self) -> None:
        self._control("DELETE", "/faults")

    def seed_cluster(self, rg: str, name: str, *, location: str = "westus2", pools: list | None = None,
                     http_proxy_config: dict | None = None, properties: dict | None = None,
                     **extra: Any) -> dict:
        """Seed a settled cluster. `pools`: agentPoolProfiles entries (osType "Windows", type "AvailabilitySet",
        mode "Machines", nodeImageVersion, latestNodeImageVersion, provisioningState, latestModelApplied false ...
        are all honoured)."""
        props = dict(properties or {})
        if pools is not None:
            props["agentPoolProfiles"] = pools
        if http_proxy_config is not None:
            props["httpProxyConfig"] = http_proxy_config
        spec = {"location": location, "properties": props, **extra}
        return self._control("PUT", f"/clusters/{quote(rg)}/{quote(name)}", spec)

    def seed_vnet(self, sub: str, rg: str, name: str, prefixes: list, subnets: dict, *,
                  location: str = "westus2", readable: bool = True) -> list:
        """Seed a Microsoft.Network VNet (any subscription) with address `prefixes` and `subnets`
        {name: addressPrefix}; returns the subnet ids, in the order given (for pools' vnetSubnetID)."""
        body = {"addressPrefixes": list(prefixes), "subnets": dict(subnets), "location": location,
                "readable": readable}
        vnet = self._control("PUT", f"/vnets/{quote(sub)}/{quote(rg)}/{quote(name)}", body)
        return [s["id"] for s in vnet["properties"]["subnets"]]

    def deny_vnet_read(self, vnet_id: str, denied: bool = True) -> None:
        """Make GETs of a seeded VNet (given by its id, or any of its subnets' ids) answer 403 AuthorizationFailed
        (denied=False allows them again). AKS still sees the VNet: its space stays in noProxy."""
        parts = vnet_id.strip("/").split("/")
        sub, rg, name = parts[1], parts[3], parts[7]
        self._control("PATCH", f"/vnets/{quote(sub)}/{quote(rg)}/{quote(name)}", {"readable": not denied})

    def vnets(self) -> list:
        return self._control("GET", "/vnets")["vnets"]

    def cluster_state(self, rg: str, name: str) -> dict:
        return self._control("GET", f"/clusters/{quote(rg)}/{quote(name)}")

    def delete_cluster(self, rg: str, name: str) -> None:
        self._control("DELETE", f"/clusters/{quote(rg)}/{quote(name)}")

    def seed_fleet(self, subscriptions: list) -> dict:
        """Bulk-seed subscriptions and their settled clusters in one request: ``[{"subscriptionId", "displayName",
        "state", "clusters": [{"resourceGroup", "name", "properties": {...}}]}]`` (see tests/armemu/fleet.py)."""
        return self._control("POST", "/fleet", {"subscriptions": subscriptions})

    def seed_fleet_manager(self, resource_group: str, name: str, members: list, update_strategies: list = (),
                           subscription_id: str | None = None) -> dict:
        """A Fleet Manager fleet: members [{"name", "clusterResourceId", "group"}], update strategies
        [{"name", "strategy": {"stages": [...]}}]."""
        spec = {"resourceGroup": resource_group, "name": name, "members": members,
                "updateStrategies": list(update_strategies)}
        if subscription_id:
            spec["subscriptionId"] = subscription_id
        return self._control("POST", "/fleetmanager", spec)

    def fleet(self) -> list:
        return self._control("GET", "/fleet")["subscriptions"]

    def operations(self) -> list:
        return self._control("GET", "/operations")["operations"]

    def run_commands(self) -> list:
        """Every script a run command received (VMSS or AKS), with the node's output once it has ended."""
        return self._control("GET", "/runcommands")["runs"]

    def seed_pods(self, rg: str, name: str, pods: list) -> list:
        """The pods `kubectl get pods -A` lists in the AKS run command pod (core/v1 Pod objects)."""
        return self._control("PUT", f"/kube/{quote(rg)}/{quote(name)}/pods", pods)["pods"]

    def kube_events(self, rg: str, name: str) -> list:
        """Pod creations (allowed or refused), deletions and pods left running, of every AKS run command."""
        return self._control("GET", f"/kube/{quote(rg)}/{quote(name)}")["events"]

    def finish_operations(self) -> list:
        return self._control("POST", "/operations/finish")["finished"]


class EmulatorHandle:
    """A running emulator subprocess. Attributes: info, arm_url, identity_url, ca_path, client, state_dir."""

    def __init__(self, proc: subprocess.Popen, info: dict, state_dir: Path) -> None:
        self.proc, self.info, self.state_dir = proc, info, state_dir
        self.arm_url: str = info["arm_url"]
        self.identity_url: str = info["identity_url"]
        self.ca_path: str = info["ca_path"]
        self.subscription_id: str = info["subscription_id"]
        self.client = EmulatorClient(self.arm_url, self.ca_path, self.identity_url)

    def __getattr__(self, name: str) -> Any:  # handle.journal(), handle.reset(), ... delegate to the client
        if name in ("proc", "info", "client"):
            raise AttributeError(name)
        return getattr(self.client, name)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10) -> None:
        proc = self.proc
        if proc.poll() is None:
            try:
                proc.stdin.close()  # --exit-with-stdin: the clean way out
            except OSError:
                pass
            try:
                proc.wait(timeout=timeout / 2)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=timeout / 2)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(tmpdir, *, config: dict | None = None, timeout: float = 30,
                   extra_args: tuple = ()) -> EmulatorHandle:
    """Start `python -m tests.armemu` with its CA and log in `tmpdir`; wait for its ready line."""
    state_dir = Path(tmpdir)
    state_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, "-m", "tests.armemu", "--state-dir", str(state_dir), "--exit-with-stdin",
           "--ready-file", str(state_dir / "ready.json"), "--config", json.dumps(config or {}), *extra_args]
    with open(state_dir / "emulator.log", "ab") as log:
        proc = subprocess.Popen(cmd, cwd=str(REPO_ROOT), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=log)
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or proc.poll() is not None:
            proc.kill()
            proc.wait()
            raise EmulatorError(f"emulator did not start; see {state_dir / 'emulator.log'}")
        ready, _, _ = select.select([proc.stdout], [], [], min(remaining, 0.5))
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                continue
            line += chunk
    return EmulatorHandle(proc, json.loads(line.decode()), state_dir)
