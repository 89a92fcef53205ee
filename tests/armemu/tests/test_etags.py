"""The emulator's eTags (AKS docs, "Use eTags in AKS"): on clusters and pools, new ones on every cluster-level write,
If-Match / If-None-Match answered with 412 when they do not hold."""
from __future__ import annotations

import copy

from tests.armemu.fixtures import CREATE, MC


def pool_etags(body: dict) -> list:
    return [p["eTag"] for p in body["properties"]["agentPoolProfiles"]]


def test_etags_change_on_a_cluster_write_and_if_match_guards_it(emu):
    assert emu.arm("PUT", MC + "c1", CREATE, headers={"If-Match": "*"})[0] == 412  # If-Match * on a missing one
    status, _, created = emu.arm("PUT", MC + "c1", CREATE, headers={"If-None-Match": "*"})
    assert status == 201 and created["eTag"] and all(pool_etags(created))
    emu.finish_operations()
    first = emu.arm("GET", MC + "c1")[2]
    assert first["eTag"] == created["eTag"]
    assert emu.arm("PUT", MC + "c1", CREATE, headers={"If-None-Match": "*"})[0] == 412  # it exists now

    update = copy.deepcopy(CREATE)
    update["tags"] = {"team": "a"}
    status, _, body = emu.arm("PUT", MC + "c1", update, headers={"If-Match": "not-the-etag"})
    assert status == 412 and body["error"]["code"] == "PreconditionFailed"
    assert emu.arm("GET", MC + "c1")[2]["eTag"] == first["eTag"]  # refused: nothing changed
    status, _, body = emu.arm("PUT", MC + "c1", update, headers={"If-Match": f'"{first["eTag"]}"'})  # quoted
    assert status == 200
    emu.finish_operations()
    after = emu.arm("GET", MC + "c1")[2]
    assert after["eTag"] != first["eTag"]
    assert not set(pool_etags(after)) & set(pool_etags(first))  # the pools' eTags change with the cluster's
    assert emu.arm("PUT", MC + "c1", update, headers={"If-Match": first["eTag"]})[0] == 412  # the old one
