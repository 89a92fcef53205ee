"""Each fault action works (one test per action type, plus nth/times and one through the real az)."""
from __future__ import annotations

import http.client
import time
import urllib.error

import pytest

from tests.armemu.fixtures import CREATE, MC, local


def _poll(emu, headers, until=("Succeeded", "Failed", "Canceled"), timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = emu.arm("GET", local(headers["azure-asyncoperation"]), api_version=None)
        assert status == 200
        if body["status"] in until or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_status_fault_answers_instead_of_the_service(emu):
    emu.seed_cluster("rg1", "c1")
    rule = emu.add_fault("status", method="GET", path_regex="/managedClusters/c1$", code=429, retry_after=2)
    status, headers, body = emu.arm("GET", MC + "c1")
    assert status == 429 and headers["retry-after"] == "2"
    assert body["error"]["code"] == "InjectedFault"
    assert emu.arm("GET", MC + "c1")[0] == 200  # times=1
    entries = [e for e in emu.journal() if e["path"].endswith("/c1")]
    assert entries[0]["fault"]["id"] == rule["id"] and entries[1]["fault"] is None
    assert emu.faults()[0]["fired"] == 1


def test_status_fault_with_body_on_nth_request_for_several_times(emu):
    emu.add_fault("status", method="PUT", path_regex="/managedClusters/c1$", nth=2, times=2, code=503,
                  body={"error": {"code": "ServiceUnavailable", "message": "try later"}})
    results = [emu.arm("PUT", MC + "c1", CREATE)[0] for _ in range(2)]
    emu.finish_operations()
    results += [emu.arm("PUT", MC + "c1", CREATE)[0]]
    emu.finish_operations()
    results += [emu.arm("PUT", MC + "c1", CREATE)[0]]
    assert results == [201, 503, 503, 200]


def test_az_retries_a_throttled_read(az_stock, emu):
    emu.seed_cluster("rg1", "c1")
    emu.add_fault("status", method="GET", path_regex="/managedClusters/c1$", code=429, retry_after=1)
    r = az_stock.az("aks", "show", "-g", "rg1", "-n", "c1", "-o", "json")
    assert r.ok, r
    assert [e["status"] for e in emu.journal() if e["path"].endswith("/c1")] == [429, 200]


def test_reset_fault_breaks_the_connection_after_applying_the_write(emu):
    emu.add_fault("reset", method="PUT", path_regex="/managedClusters/c1$")
    with pytest.raises((http.client.HTTPException, ConnectionError, urllib.error.URLError, OSError)):
        emu.arm("PUT", MC + "c1", CREATE)
    assert emu.cluster_state("rg1", "c1")["stored"]["properties"]["provisioningState"] == "Creating"
    entry = emu.writes()[0]
    assert entry["status"] == 201 and entry["fault"]["action"] == "reset"
    assert emu.arm("GET", MC + "c1")[0] == 200  # the server keeps serving


def test_reset_fault_without_applying(emu):
    emu.add_fault("reset", method="PUT", path_regex="/managedClusters/c1$", apply=False)
    with pytest.raises((http.client.HTTPException, ConnectionError, urllib.error.URLError, OSError)):
        emu.arm("PUT", MC + "c1", CREATE)
    assert emu.arm("GET", MC + "c1")[0] == 404
    assert emu.writes()[0]["status"] is None


def test_delay_fault_slows_the_answer(emu):
    emu.seed_cluster("rg1", "c1")
    emu.add_fault("delay", method="GET", path_regex="/managedClusters/c1$", seconds=1.0)
    t0 = time.monotonic()
    status, _, _ = emu.arm("GET", MC + "c1")
    assert status == 200 and time.monotonic() - t0 >= 1.0
    t0 = time.monotonic()
    emu.arm("GET", MC + "c1")
    assert time.monotonic() - t0 < 1.0


def test_operation_result_fault_fails_the_started_operation(emu):
    emu.seed_cluster("rg1", "c1")
    emu.configure(pool_upgrade_seconds=0.5)
    err = {"code": "NodeImageUpgradeFailed", "message": "vmss reimage failed"}
    emu.add_fault("operation_result", method="POST", path_regex="/upgradeNodeImageVersion$", status="Failed",
                  error=err)
    status, headers, _ = emu.arm("POST", MC + "c1/agentPools/nodepool1/upgradeNodeImageVersion")
    assert status == 202
    op = _poll(emu, headers)
    assert op["status"] == "Failed" and op["error"] == err and "endTime" in op
    pool = emu.arm("GET", MC + "c1/agentPools/nodepool1")[2]["properties"]
    assert pool["provisioningState"] == "Failed"
    assert pool["nodeImageVersion"] == "AKSUbuntu-2204gen2containerd-202512.01.0"  # not upgraded
    status, _, body = emu.arm("GET", local(headers["location"]), api_version=None)
    assert status >= 400 and body["error"]["code"] == "NodeImageUpgradeFailed"


def test_operation_result_fault_canceled_cluster_update(emu):
    emu.seed_cluster("rg1", "c1")
    emu.configure(cluster_update_seconds=0.3)
    emu.add_fault("operation_result", method="PUT", path_regex="/managedClusters/c1$", status="Canceled")
    status, headers, _ = emu.arm("PUT", MC + "c1", CREATE)
    assert status == 200
    op = _poll(emu, headers)
    assert op["status"] == "Canceled" and op["error"]["code"] == "InjectedOperationFailure"
    assert emu.arm("GET", MC + "c1")[2]["properties"]["provisioningState"] == "Canceled"


def test_bad_fault_rules_are_refused(emu):
    from tests.armemu import EmulatorError

    with pytest.raises(EmulatorError):
        emu.add_fault("explode")
    with pytest.raises(EmulatorError):
        emu.add_fault("operation_result", status="Succeeded")
    emu.configure(faults=[{"match": {"method": "GET"}, "action": {"type": "delay", "seconds": 0}}])
    assert [r["action"] for r in emu.faults()] == ["delay"]
    emu.clear_faults()
    assert emu.faults() == []
