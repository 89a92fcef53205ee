"""Fidelity: replay the recorded Azure traffic (tests/armemu/recordings/) against the emulator and compare.

Each recorded request is sent as recorded (same subscription, group, cluster names, api-versions and bodies; the
group is created first). Compared per interaction: status code; Azure-AsyncOperation and Location present exactly
when Azure sent them; the key sets of the body at the top level, in `properties`, in each agent pool, in
`networkProfile` and in `httpProxyConfig`; cluster and pool provisioningState; resource ids (lowercase
`resourcegroups`); the 404 envelope verbatim; operation-status bodies; the grown noProxy (as a set, with our API
server FQDN in place of Azure's) equal to effectiveNoProxy; trustedCa and the proxy URLs echoed. The recorded test
made its VNet (10.42.0.0/16, subnet 10.42.1.0/24) with `az network vnet create` before the recorded calls: the
replay seeds the same VNet, and the VNet's space, not the subnet's, must appear in noProxy.

Deliberate differences (checked here so they stay deliberate):
- Retry-After: 1 on every LRO response and on in-progress status polls (Azure sent none, so az waited its default
  30 s between polls). With it az polls every second.
- Operation polls are compressed: the recordings polled 7, 4 and 11 times over minutes; operations here take about
  a second, so the replay checks the first InProgress poll and then polls until the terminal status.
- Every status body of the update operation in scenario 1 (InProgress and the final Succeeded) carried
  `error: NotLatestOperation`; the emulator sends `error` only with Failed/Canceled.
- PUT responses in the 2023 recording list `nodeLabels: {}` in pools (GETs do not); the emulator drops empty
  nodeLabels everywhere.
- Scenario 2 was recorded with a 2022 service: the emulator's cluster also has `supportPlan`,
  `autoUpgradeProfile`, `workloadAutoScalerProfile` and `resourceUID` (a 2023+ service returns them).
- The order of the grown noProxy list: the service's order varies between responses; the emulator keeps the
  user's entries first, then its own, deterministically.
- Values that are Azure's choices (versions, node image names, GUIDs, FQDN suffix) are not compared.
"""
from __future__ import annotations

import ast
import re
import time
from pathlib import Path

from tests.armemu.fixtures import CREATE_UPDATE, NODE_IMAGE_UPGRADE, load_recording

OP_ID = re.compile(r"/operations/([0-9a-fA-F-]{36})")
# keys the 2022-recorded service did not return yet (scenario 2), and the PUT-only empty nodeLabels (scenario 1)
NEWER_SERVICE_KEYS = {"supportPlan", "autoUpgradeProfile", "workloadAutoScalerProfile", "resourceUID"}
PUT_ONLY_POOL_KEYS = {"nodeLabels"}
# eTags (a cluster's, and each pool's in its properties) are rendered on every api-version; the recordings'
# 2023-10-01 predates them.
ETAG_KEYS = {"eTag"}


def _keys(d) -> set:
    return set(d) if isinstance(d, dict) else set()


class Replay:
    def __init__(self, emu) -> None:
        self.emu = emu
        self.ops: dict = {}  # recorded operation id -> ours
        self.problems: list = []
        self.pairs: list = []

    def check(self, cond: bool, rec: dict, what: str) -> None:
        if not cond:
            self.problems.append(f"seq {rec['seq']} {rec['method']} {rec['uri'].split('?')[0][-60:]}: {what}")

    def send(self, rec: dict) -> tuple:
        uri = OP_ID.sub(lambda m: "/operations/" + self.ops.get(m.group(1), m.group(1)), rec["uri"])
        return self.emu.arm(rec["method"], uri, rec["request_body"], api_version=None)

    def run(self, recording: list) -> None:
        previous_poll = None
        for rec in recording:
            is_poll = "/operations/" in rec["uri"]
            status_value = (rec["response_body"] or {}).get("status")
            if is_poll and status_value == "InProgress" and previous_poll == "InProgress":
                continue  # compressed: one InProgress poll per operation is enough
            if is_poll and status_value != "InProgress":
                ours = self._poll_until_done(rec)
            else:
                ours = self.send(rec)
            previous_poll = status_value if is_poll else None
            self.pairs.append((rec, ours))
            self.compare(rec, ours)

    def _poll_until_done(self, rec: dict) -> tuple:
        deadline = time.monotonic() + 15
        while True:
            ours = self.send(rec)
            if ours[0] != 200 or (ours[2] or {}).get("status") != "InProgress" or time.monotonic() > deadline:
                return ours
            time.sleep(0.2)

    def compare(self, rec: dict, ours: tuple) -> None:
        status, headers, body = ours
        self.check(status == rec["status"], rec, f"status {status} != recorded {rec['status']}")
        rh = rec["response_headers"]
        for name in ("azure-asyncoperation", "location"):
            self.check((name in headers) == (name in rh), rec,
                       f"{name} {'missing' if name in rh else 'unexpected'}")
        if "azure-asyncoperation" in rh and "azure-asyncoperation" in headers:
            self.ops[OP_ID.search(rh["azure-asyncoperation"]).group(1)] = \
                OP_ID.search(headers["azure-asyncoperation"]).group(1)
            self.check(headers.get("retry-after") == "1", rec, "LRO response without Retry-After: 1")
        recorded = rec["response_body"]
        if "/operations/" in rec["uri"]:
            self._compare_operation(rec, body)
        elif status == 404:
            self.check(body == recorded, rec, f"404 body {body} != {recorded}")
        elif isinstance(recorded, dict) and "properties" in recorded:
            self._compare_resource(rec, recorded, body or {})

    def _compare_operation(self, rec: dict, body: dict) -> None:
        recorded = rec["response_body"]
        not_latest = (recorded.get("error") or {}).get("code") == "NotLatestOperation"
        expected = _keys(recorded) - ({"error"} if not_latest else set())
        self.check(_keys(body) == expected, rec, f"operation keys {_keys(body)} != {expected}")
        self.check(body.get("status") == recorded["status"], rec, f"status {body.get('status')}")
        polled = self.ops.get(OP_ID.search(rec["uri"]).group(1))  # our id for the operation the recording polled
        self.check(polled is not None and body.get("name") == polled, rec, f"operation name {body.get('name')}")

    def _compare_resource(self, rec: dict, recorded: dict, body: dict) -> None:
        self.check(body.get("id") == recorded["id"], rec, f"id {body.get('id')} != {recorded['id']}")
        self.check(_keys(body) - ETAG_KEYS == _keys(recorded) - ETAG_KEYS, rec,
                   f"top-level keys {_keys(body) ^ _keys(recorded)}")
        rp, bp = recorded["properties"], body.get("properties") or {}
        extra, missing = _keys(bp) - _keys(rp), _keys(rp) - _keys(bp)
        self.check(extra <= NEWER_SERVICE_KEYS | ETAG_KEYS and not missing, rec, f"properties: extra {extra} missing {missing}")
        self.check(bp.get("provisioningState") == rp.get("provisioningState"), rec,
                   f"provisioningState {bp.get('provisioningState')} != {rp.get('provisioningState')}")
        rpools, bpools = rp.get("agentPoolProfiles") or [], bp.get("agentPoolProfiles") or []
        self.check(len(rpools) == len(bpools), rec, f"{len(bpools)} pools, recorded {len(rpools)}")
        for rpool, bpool in zip(rpools, bpools):
            diff = (_keys(rpool) ^ _keys(bpool)) - PUT_ONLY_POOL_KEYS - ETAG_KEYS
            self.check(not diff, rec, f"pool keys differ: {diff}")
            self.check(bpool.get("provisioningState") == rpool.get("provisioningState"), rec, "pool state")
        if "networkProfile" in rp:
            rn, bn = rp["networkProfile"], bp.get("networkProfile") or {}
            self.check(_keys(rn) == _keys(bn), rec, f"networkProfile keys {_keys(rn) ^ _keys(bn)}")
            self.check(bn.get("loadBalancerSku") == rn.get("loadBalancerSku"), rec, "loadBalancerSku")
            self.check(_keys(rn.get("loadBalancerProfile")) == _keys(bn.get("loadBalancerProfile")), rec,
                       "loadBalancerProfile keys")
        if "httpProxyConfig" in rp:
            self._compare_proxy(rec, rp, bp)

    def _compare_proxy(self, rec: dict, rp: dict, bp: dict) -> None:
        rh, bh = rp["httpProxyConfig"], bp.get("httpProxyConfig") or {}
        self.check(_keys(rh) == _keys(bh), rec, f"httpProxyConfig keys {_keys(rh) ^ _keys(bh)}")
        self.check(bh.get("effectiveNoProxy") == bh.get("noProxy"), rec, "effectiveNoProxy != noProxy")
        expected = {bp.get("fqdn") if e == rp.get("fqdn") else e for e in rh["noProxy"]}
        self.check(set(bh.get("noProxy") or []) == expected, rec,
                   f"noProxy {sorted(bh.get('noProxy') or [])} != {sorted(expected)}")
        for key in ("httpProxy", "httpsProxy", "trustedCa"):
            self.check(bh.get(key) == rh[key], rec, f"{key} not echoed")


def _replay(emu, name: str, **config) -> Replay:
    emu.configure(**config)
    status, _, _ = emu.arm("PUT", "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/clitest000001",
                           {"location": "westus2"}, api_version="2024-11-01")
    assert status == 201
    replay = Replay(emu)
    replay.run(load_recording(name))
    return replay


def test_create_and_update_with_http_proxy_config(emu):
    # the recorded test's `az network vnet create --address-prefixes 10.42.0.0/16 --subnet-prefix 10.42.1.0/24`
    emu.seed_vnet("00000000-0000-0000-0000-000000000000", "clitest000001", "cliakstest000002", ["10.42.0.0/16"],
                  {"aks-subnet": "10.42.1.0/24"})
    replay = _replay(emu, CREATE_UPDATE, cluster_create_seconds=1.5, cluster_update_seconds=1.5)
    assert replay.problems == []
    sent = {rec["seq"]: rec for rec, _ in replay.pairs}
    assert set(sent) >= {1, 2, 3, 4, 11, 12, 13, 14, 15, 19, 20}
    states = [(ours[2] or {}).get("properties", {}).get("provisioningState") for rec, ours in replay.pairs
              if "/managedClusters/" in rec["uri"] and rec["method"] in ("PUT", "GET") and ours[0] < 300]
    assert states == ["Creating", "Creating", "Succeeded", "Succeeded", "Updating", "Succeeded"]
    # the service stored its own entries with what the update sent (the recorded GETs list them); the VNet's
    # space, not the subnet's
    state = emu.cluster_state("clitest000001", "cliakstest000002")
    stored = state["stored"]["properties"]["httpProxyConfig"]
    assert stored["noProxy"][:2] == ["localhost", "127.0.0.1"] and "10.42.0.0/16" in stored["noProxy"]
    assert "10.42.1.0/24" not in stored["noProxy"]
    assert stored["noProxy"] == state["rendered"]["properties"]["httpProxyConfig"]["effectiveNoProxy"]


def test_the_replay_fails_when_the_vnet_space_is_not_the_recorded_one(emu):
    """The noProxy comparison has teeth: a VNet with another space than the recorded test's shows in every
    cluster response (the recorded 10.42.0.0/16 missing, ours present)."""
    emu.seed_vnet("00000000-0000-0000-0000-000000000000", "clitest000001", "cliakstest000002", ["10.43.0.0/16"],
                  {"aks-subnet": "10.43.1.0/24"})
    replay = _replay(emu, CREATE_UPDATE, cluster_create_seconds=1.5, cluster_update_seconds=1.5)
    noproxy_problems = [p for p in replay.problems if ": noProxy " in p]
    assert noproxy_problems and len(noproxy_problems) == len(replay.problems)
    assert all("10.43.0.0/16" in p and "10.42.0.0/16" in p for p in noproxy_problems)


# A managed-VNet kubenet cluster's effectiveNoProxy as a public AKS http-proxy walkthrough shows it (the facts
# file, "What AKS adds"), the API server FQDN aside; the client sent no noProxy.
WALKTHROUGH_MANAGED_VNET = {"konnectivity", "10.224.0.0/12", "localhost", "127.0.0.1", "169.254.169.254",
                            "10.244.0.0/16", "10.0.0.0/16", "168.63.129.16"}


def test_a_managed_vnet_kubenet_cluster_lists_what_the_walkthrough_shows(emu):
    status, _, body = emu.arm("PUT", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/"
                                     "providers/Microsoft.ContainerService/managedClusters/walk", {
        "location": "westus2", "identity": {"type": "SystemAssigned"},
        "properties": {"dnsPrefix": "walk",
                       "agentPoolProfiles": [{"name": "nodepool1", "count": 1, "mode": "System"}],
                       "networkProfile": {"networkPlugin": "kubenet"},
                       "httpProxyConfig": {"httpProxy": "http://10.0.0.4:3128/",
                                           "httpsProxy": "http://10.0.0.4:3128/"}}})
    assert status == 201
    hpc, fqdn = body["properties"]["httpProxyConfig"], body["properties"]["fqdn"]
    assert set(hpc["effectiveNoProxy"]) == WALKTHROUGH_MANAGED_VNET | {fqdn}
    assert set(hpc["noProxy"]) == WALKTHROUGH_MANAGED_VNET | {fqdn}


def test_upgrade_node_image_only_nodepool(emu):
    replay = _replay(emu, NODE_IMAGE_UPGRADE, cluster_create_seconds=1.5, pool_upgrade_seconds=3)
    assert replay.problems == []
    post = next(ours for rec, ours in replay.pairs if rec["method"] == "POST")
    before = next(ours for rec, ours in replay.pairs if rec["seq"] == 14)[2]
    assert post[2]["properties"]["provisioningState"] == "UpgradingNodeImageVersion"
    assert post[2]["properties"]["nodeImageVersion"] == before["properties"]["agentPoolProfiles"][0][
        "nodeImageVersion"]
    assert post[1]["location"].split("?")[0].endswith("/operationresults/" + OP_ID.search(
        post[1]["azure-asyncoperation"]).group(1))


def test_the_emulator_imports_nothing_of_aksproxy():
    """Evidence, not a copy: no emulator module imports the product (whose rules the tests check)."""
    offenders = []
    for path in sorted((Path(__file__).resolve().parents[2] / "armemu").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "azext_aksproxy"]
    assert offenders == []
