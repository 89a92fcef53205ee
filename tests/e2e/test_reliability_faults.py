"""Faults injected by the ARM emulator under the real `az aks update|create --http-proxy-config` and
`az aks http-proxy upgrade-nodes`: what azure-core retries, what aksproxy reports when retrying is not safe, and
that no write is applied twice. The emulator's journal is the witness; each test records its outcome for
docs/reliability.md (tests/reliability_report.py)."""
from __future__ import annotations

import json
import re

import pytest

from tests.armemu import fixtures
from tests.armemu.state import DEFAULT_CONFIG
from tests.reliability_report import trial_fixture

RG, NAME = "rg1", "c1"
WHERE = f"-g {RG} -n {NAME}"
CLUSTER = r"/managedClusters/c1$"
POLL = r"/locations/[^/]+/operations/"
C1 = fixtures.MC + "c1"
OLD_PROXY = {"httpProxy": "http://proxy.corp.example:3128/", "httpsProxy": "http://proxy.corp.example:3128/",
             "noProxy": ["localhost", "127.0.0.1", ".corp.example"]}
NEW_PROXY = {**OLD_PROXY, "httpProxy": "http://proxy2.corp.example:3128/",
             "httpsProxy": "http://proxy2.corp.example:3128/"}
UPDATE = f"az aks update {WHERE} --http-proxy-config FILE"
OLD_IMAGE, NEW_IMAGE = DEFAULT_CONFIG["node_images"]["ubuntu"]


trial = trial_fixture("fault")


@pytest.fixture
def new_config(tmp_path):
    path = tmp_path / "proxy.json"
    path.write_text(json.dumps(NEW_PROXY), encoding="utf-8")
    return str(path)


def seed(emu, **config):
    if config:
        emu.configure(**config)
    emu.seed_cluster(RG, NAME, http_proxy_config=OLD_PROXY)


def update(az_ext, config_path, *extra):
    return az_ext.az("aks", "update", "-g", RG, "-n", NAME, "--http-proxy-config", config_path, "-o", "json", *extra)


def calls(emu, method, path_regex=CLUSTER, since=0):
    """Journal entries of ARM requests matching method and path, in order."""
    return [e for e in emu.journal(since) if e["kind"] == "arm" and e["method"] == method
            and re.search(path_regex, e["path"])]


def statuses(entries):
    """(status, fault action) per entry: status None = no answer was written (connection dropped)."""
    return [(e["status"], (e["fault"] or {}).get("action")) for e in entries]


def applied(emu, since=0):
    """Writes the emulator processed (not those a fault answered instead, nor refused with an error)."""
    return [e for e in emu.writes(since) if e["status"] is not None and e["status"] < 400
            and (e["fault"] or {}).get("action") != "status"]


def stored(emu):
    return emu.cluster_state(RG, NAME)["stored"]["properties"]


def stored_proxy(emu, sent: dict) -> dict:
    """The stored httpProxyConfig less the entries the service writes into noProxy after the client's."""
    return fixtures.as_sent(stored(emu)["httpProxyConfig"], sent)


def assert_no_traceback(result):
    assert "Traceback" not in result.stderr and "IncompleteRead" not in result.stderr, result


# --- faults azure-core retries: one effective write --------------------------------------------------------------

RETRIED = [
    pytest.param("GET", 429, 1, id="GET-429-retry-after"),
    pytest.param("GET", 500, None, id="GET-500"),
    pytest.param("GET", 503, None, id="GET-503"),
    pytest.param("PUT", 429, 2, id="PUT-429-retry-after"),
    pytest.param("PUT", 500, None, id="PUT-500"),
    pytest.param("PUT", 503, None, id="PUT-503"),
]


@pytest.mark.parametrize("method, code, retry_after", RETRIED)
def test_throttling_and_server_errors_are_retried_and_the_update_is_applied_once(
        az_ext, emu, new_config, trial, method, code, retry_after):
    what = "the cluster GET" if method == "GET" else "the cluster PUT"
    t = trial(f"HTTP {code}{' + Retry-After' if retry_after else ''} on {what}", UPDATE,
              "journal: the faulted request repeated and answered; exactly one PUT applied; stored config = file")
    seed(emu)
    emu.add_fault("status", method=method, path_regex=CLUSTER, code=code, retry_after=retry_after)
    r = update(az_ext, new_config)
    seen = calls(emu, method)
    t.observed(f"exit {r.rc}; {method} statuses {[s for s, _ in statuses(seen)]}")
    assert r.ok, r
    assert statuses(seen)[:2] == [(code, "status"), (200, None)]
    gap = seen[1]["t"] - seen[0]["t"]
    if retry_after:  # azure-core waits what Retry-After says before the retry
        assert gap >= retry_after - 0.05, gap
    assert len(applied(emu)) == 1 and len(calls(emu, "PUT")) == (2 if method == "PUT" else 1)
    assert stored_proxy(emu, NEW_PROXY) == NEW_PROXY
    assert r.json["httpProxyConfig"]["httpProxy"] == NEW_PROXY["httpProxy"]
    t.passed(f"retried by azure-core after {gap:.1f} s; 1 write applied; exit 0")


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_a_service_that_stays_down_ends_with_a_clear_error_after_the_retries(az_ext, emu, new_config, trial, method):
    t = trial(f"HTTP 503 on every {method} of the cluster (service down)", UPDATE,
              "exit 1; error names the update, the service code and what to do; 4 attempts; nothing applied")
    seed(emu)
    emu.add_fault("status", method=method, path_regex=CLUSTER, code=503, retry_after=1, times=-1,
                  error_code="ServiceUnavailable", message="The service is temporarily unavailable.")
    r = update(az_ext, new_config)
    attempts = calls(emu, method)
    t.observed(f"exit {r.rc}; {len(attempts)} {method}s")
    assert r.rc == 1, r
    assert f"Azure kept failing the update of cluster {NAME} in resource group {RG} after az's retries: " \
           "(ServiceUnavailable) The service is temporarily unavailable. (HTTP 503)" in r.stderr
    assert "Run this command again in a few minutes" in r.stderr
    assert_no_traceback(r)
    assert len(attempts) == 4  # azure-core: the first try and 3 status retries
    assert applied(emu) == []
    assert stored_proxy(emu, OLD_PROXY) == OLD_PROXY
    t.passed(f"{len(attempts)} attempts, then exit 1 naming the update and `run again`; 0 writes applied")


@pytest.mark.parametrize("where, path_regex", [("the cluster GET", CLUSTER), ("the operation status poll", POLL)],
                         ids=["cluster-GET", "status-poll"])
def test_a_connection_reset_mid_response_on_a_read_is_retried(az_ext, emu, new_config, trial, where, path_regex):
    t = trial(f"Connection reset half-way through the response of {where}", UPDATE,
              "journal: the read repeated after the reset; exactly one PUT applied; exit 0")
    seed(emu)
    emu.add_fault("reset", method="GET", path_regex=path_regex)
    r = update(az_ext, new_config)
    reads = calls(emu, "GET", path_regex)
    t.observed(f"exit {r.rc}; reads {statuses(reads)}")
    assert r.ok, r
    assert statuses(reads)[:2] == [(200, "reset"), (200, None)]
    assert len(applied(emu)) == 1 and stored_proxy(emu, NEW_PROXY) == NEW_PROXY
    t.passed("retried by azure-core; 1 write applied; exit 0")


def test_a_put_dropped_before_any_answer_is_retried_and_applied_once(az_ext, emu, new_config, trial):
    t = trial("Connection reset on the cluster PUT before it is processed", UPDATE,
              "journal: PUT without answer, then PUT 200; exactly one PUT applied; exit 0")
    seed(emu)
    emu.add_fault("reset", method="PUT", path_regex=CLUSTER, apply=False)
    r = update(az_ext, new_config)
    puts = calls(emu, "PUT")
    t.observed(f"exit {r.rc}; PUTs {statuses(puts)}")
    assert r.ok, r
    assert statuses(puts) == [(None, "reset"), (200, None)]
    assert len(applied(emu)) == 1 and stored_proxy(emu, NEW_PROXY) == NEW_PROXY
    t.passed("retried by azure-core (PUT is idempotent); 1 write applied; exit 0")


def test_a_put_cut_mid_response_is_not_resent_and_the_error_says_how_to_check_and_rerun(
        az_ext, emu, new_config, trial):
    t = trial("Connection reset half-way through the response of the cluster PUT (request processed)", UPDATE,
              "exit 1 with what to check and `run again`, no traceback; one PUT; a re-run completes")
    seed(emu)
    emu.add_fault("reset", method="PUT", path_regex=CLUSTER)
    r = update(az_ext, new_config)
    t.observed(f"exit {r.rc}; PUTs {statuses(calls(emu, 'PUT'))}")
    assert r.rc == 1, r
    assert f"The connection to Azure broke during the update of cluster {NAME} in resource group {RG}:" in r.stderr
    assert "Azure may have received the request" in r.stderr
    assert f"az aks show {WHERE} --query provisioningState -o tsv" in r.stderr
    assert f"az aks wait {WHERE} --updated" in r.stderr and "repeating it is safe" in r.stderr
    assert_no_traceback(r)
    # azure-core does not resend: the LRO's first response is read after its retry policy has let go.
    assert statuses(calls(emu, "PUT")) == [(200, "reset")]
    assert len(applied(emu)) == 1 and stored_proxy(emu, NEW_PROXY) == NEW_PROXY  # the write did land

    emu.finish_operations()
    since = emu.journal_last()
    again = update(az_ext, new_config)  # what the message says to do
    assert again.ok, again
    assert len(applied(emu, since)) == 1 and stored(emu)["provisioningState"] == "Succeeded"
    t.passed("not resent by azure-core (1 write applied); exit 1 saying check `az aks show`, wait, re-run; "
             "the re-run succeeds")


def test_slow_responses_are_waited_for(az_ext, emu, new_config, trial):
    t = trial("Slow responses: 3 s delay on the cluster GET and on the PUT", UPDATE,
              "exit 0 within 60 s; exactly one PUT applied; stored config = file")
    seed(emu)
    emu.add_fault("delay", method="GET", path_regex=CLUSTER, seconds=3)
    emu.add_fault("delay", method="PUT", path_regex=CLUSTER, seconds=3)
    r = update(az_ext, new_config)
    t.observed(f"exit {r.rc} after {r.seconds:.1f} s")
    assert r.ok, r
    assert 6 <= r.seconds < 60
    assert len(calls(emu, "PUT")) == 1 and len(applied(emu)) == 1
    assert stored_proxy(emu, NEW_PROXY) == NEW_PROXY
    t.passed(f"completed in {r.seconds:.0f} s (6 s of delays); no retry; 1 write applied")


# --- faults where retrying is not safe or not possible: a clear error, and a way back --------------------------

ENDINGS = [
    pytest.param("Failed", {"code": "VMExtensionProvisioningError",
                            "message": "Nodes could not reach mcr.microsoft.com through the proxy (exit status 50)."},
                 id="Failed"),
    pytest.param("Canceled", {"code": "OperationCanceled", "message": "The operation was canceled by the user."},
                 id="Canceled"),
]


@pytest.mark.parametrize("status, error", ENDINGS)
def test_an_update_ending_failed_or_canceled_names_the_operation_and_the_way_back(
        az_ext, emu, new_config, trial, status, error):
    t = trial(f"The update operation ends {status}", UPDATE,
              "exit 1; error names the update, status, service code and message, and what to do; one PUT, not "
              "retried; a re-run succeeds")
    seed(emu)
    emu.add_fault("operation_result", method="PUT", path_regex=CLUSTER, status=status, error=error)
    r = update(az_ext, new_config)
    t.observed(f"exit {r.rc}")
    assert r.rc == 1, r
    assert (f"The update of cluster {NAME} in resource group {RG} ended {status}: "
            f"({error['code']}) {error['message']}") in r.stderr
    assert f"provisioningState {status}" in r.stderr and "run this command again" in r.stderr
    assert "az aks http-proxy check --config FILE" in r.stderr
    assert_no_traceback(r)
    assert len(calls(emu, "PUT")) == 1 and stored(emu)["provisioningState"] == status

    since = emu.journal_last()
    again = update(az_ext, new_config)
    assert again.ok, again
    assert len(applied(emu, since)) == 1 and stored(emu)["provisioningState"] == "Succeeded"
    t.passed(f"exit 1: `The update of cluster c1 ... ended {status}: ({error['code']}) ...` + how to recover; "
             "1 write; the re-run succeeds")


def test_a_create_ending_failed_says_how_to_bring_the_cluster_up(az_ext, emu, new_config, trial):
    create = f"az aks create {WHERE} --http-proxy-config FILE"
    t = trial("The create operation ends Failed", create,
              "exit 1; error names the creation and the commands to recover; one PUT; the advised update succeeds")
    error = {"code": "VMExtensionProvisioningError", "message": "Nodes could not reach the proxy (exit status 50)."}
    emu.add_fault("operation_result", method="PUT", path_regex=CLUSTER, status="Failed", error=error)
    r = az_ext.az("aks", "create", "-g", RG, "-n", NAME, "--ssh-key-value", az_ext.ssh_key,
                  "--http-proxy-config", new_config, "-o", "json")
    t.observed(f"exit {r.rc}")
    assert r.rc == 1, r
    assert (f"The creation of cluster {NAME} in resource group {RG} ended Failed: "
            f"({error['code']}) {error['message']}") in r.stderr
    assert f"az aks update {WHERE} --http-proxy-config FILE" in r.stderr
    assert f"az aks delete {WHERE} --yes" in r.stderr
    assert_no_traceback(r)
    assert len(calls(emu, "PUT")) == 1 and stored(emu)["provisioningState"] == "Failed"

    since = emu.journal_last()
    again = update(az_ext, new_config)  # the first way back the message gives
    assert again.ok, again
    assert len(applied(emu, since)) == 1 and stored(emu)["provisioningState"] == "Succeeded"
    t.passed("exit 1 naming the creation, `az aks update ... --http-proxy-config FILE` or delete; that update "
             "succeeds")


def test_a_throttled_create_is_retried_and_creates_once(az_ext, emu, new_config, trial):
    t = trial("HTTP 429 + Retry-After on the create PUT", f"az aks create {WHERE} --http-proxy-config FILE",
              "journal: PUT 429 then 201; exactly one PUT applied; stored config = file")
    emu.add_fault("status", method="PUT", path_regex=CLUSTER, code=429, retry_after=1)
    r = az_ext.az("aks", "create", "-g", RG, "-n", NAME, "--ssh-key-value", az_ext.ssh_key,
                  "--http-proxy-config", new_config, "-o", "json")
    puts = calls(emu, "PUT")
    t.observed(f"exit {r.rc}; PUTs {statuses(puts)}")
    assert r.ok, r
    assert statuses(puts) == [(429, "status"), (201, None)] and puts[1]["t"] - puts[0]["t"] >= 0.95
    assert len(applied(emu)) == 1 and stored_proxy(emu, NEW_PROXY) == NEW_PROXY
    t.passed("retried after Retry-After; 1 write applied; exit 0")


def test_an_update_while_another_operation_runs_is_refused_clearly_and_changes_nothing(
        az_ext, emu, new_config, trial):
    t = trial("HTTP 409 OperationNotAllowed: another operation is running on the cluster", UPDATE,
              "exit 1; error says busy, quotes the service, says nothing changed and `az aks wait`; no write "
              "applied; a re-run after the other operation succeeds")
    seed(emu, cluster_update_seconds=60)
    body = emu.arm("GET", C1)[2]
    assert emu.arm("PUT", C1, body)[0] == 200  # someone else's update, still running
    before = stored(emu)
    since = emu.journal_last()
    r = update(az_ext, new_config)
    t.observed(f"exit {r.rc}")
    assert r.rc == 1, r
    assert f"Cluster {NAME} in resource group {RG} is busy with another operation, so AKS refused the update: " \
           "(OperationNotAllowed) Operation is not allowed because there's an in progress" in r.stderr
    assert "Nothing was changed" in r.stderr and f"az aks wait {WHERE} --updated" in r.stderr
    assert_no_traceback(r)
    assert statuses(calls(emu, "PUT", since=since)) == [(409, None)] and applied(emu, since) == []
    assert stored(emu) == before

    emu.finish_operations()
    since = emu.journal_last()
    again = update(az_ext, new_config, "--no-wait")  # with --no-wait too: sent once, not followed
    assert again.ok and again.stdout == "", again
    assert len(applied(emu, since)) == 1 and stored_proxy(emu, NEW_PROXY) == NEW_PROXY
    assert not calls(emu, "GET", POLL, since)
    t.passed("exit 1: busy, `(OperationNotAllowed) ...`, nothing changed, `az aks wait ... --updated`; "
             "0 writes; the re-run (--no-wait) is sent once")


# --- node image upgrades: per-pool report, non-zero exit, a re-run finishes the job -----------------------------

def pool_posts(emu, since=0):
    return [(e["path"].split("/")[-2], e["status"], (e["fault"] or {}).get("action")) for e in emu.journal(since)
            if e["method"] == "POST" and e["path"].endswith("/upgradeNodeImageVersion")]


def test_pool_upgrade_faults_are_reported_per_pool_and_a_rerun_finishes_without_restarting_any(
        az_ext, emu, trial):
    command = f"az aks http-proxy upgrade-nodes {WHERE} --yes"
    t = trial("Node image upgrade: 429 on one pool's POST, 500 on every POST of another, one upgrade Canceled, one "
              "POST cut mid-response", command,
              "per-pool rows; a cut answer is followed, not resent; exit 1 naming the pools; re-run starts only "
              "the failed pools and finishes all")
    emu.configure(pool_upgrade_seconds=2)
    emu.seed_cluster(RG, NAME, pools=[{"name": p} for p in ("np1", "np2", "np3", "np4")])

    def on(pool):
        return f"/agentPools/{pool}/upgradeNodeImageVersion$"

    emu.add_fault("status", method="POST", path_regex=on("np1"), code=429, retry_after=1)
    emu.add_fault("status", method="POST", path_regex=on("np2"), code=500, times=-1)
    emu.add_fault("operation_result", method="POST", path_regex=on("np3"), status="Canceled",
                  error={"code": "OperationCanceled", "message": "The upgrade was canceled."})
    emu.add_fault("reset", method="POST", path_regex=on("np4"))
    r = az_ext.az("aks", "http-proxy", "upgrade-nodes", "-g", RG, "-n", NAME, "--yes", "-o", "json")
    rows = {row["pool"]: row for row in (r.json or [])}
    t.observed(f"exit {r.rc}; " + ", ".join(f"{p} {row['status']}" for p, row in rows.items()))
    assert r.rc == 1, r
    posts = pool_posts(emu)
    assert [s for p, s, _ in posts if p == "np1"] == [429, 202] and rows["np1"]["status"] == "Succeeded"
    assert [s for p, s, _ in posts if p == "np2"] == [500] * 4  # POST is retried on 500 too, 3 times
    assert rows["np2"]["status"] == "Failed" and "(InjectedFault) Injected fault: HTTP 500." in rows["np2"]["detail"]
    assert rows["np3"]["status"] == "Failed" and rows["np3"]["detail"] == "(OperationCanceled) The upgrade was canceled."
    # a POST is not resent after a broken response: the pool is read instead, and the upgrade it started followed
    assert [(s, f) for p, s, f in posts if p == "np4"] == [(202, "reset")] and rows["np4"]["status"] == "Succeeded"
    assert rows["np4"]["detail"] == "the answer to the upgrade request was lost; the pool shows the upgrade it started"
    assert rows["np4"]["toImage"] == NEW_IMAGE
    assert "2 of 4 node pool(s) did not finish their node image upgrade" in r.stderr
    assert f"Re-run `az aks http-proxy upgrade-nodes {WHERE}`" in r.stderr

    emu.clear_faults()
    since = emu.journal_last()
    again = az_ext.az("aks", "http-proxy", "upgrade-nodes", "-g", RG, "-n", NAME, "--yes", "-o", "json")
    assert again.ok, again
    # only the pools whose upgrade never started are started again; np4's is followed or already done
    assert sorted(p for p, _, _ in pool_posts(emu, since)) == ["np2", "np3"]
    statuses_now = {row["pool"]: row["status"] for row in again.json}
    assert statuses_now["np1"] == "Skipped" and statuses_now["np2"] == statuses_now["np3"] == "Succeeded"
    assert statuses_now["np4"] == "Skipped"
    pools = stored(emu)["agentPoolProfiles"]
    assert {p["name"]: (p["nodeImageVersion"], p["provisioningState"]) for p in pools} == \
           {p: (NEW_IMAGE, "Succeeded") for p in ("np1", "np2", "np3", "np4")}
    t.passed(f"np1 POSTs {[s for p, s, _ in posts if p == 'np1']} -> Succeeded; np2 POSTs "
             f"{[s for p, s, _ in posts if p == 'np2']} -> Failed; np3 -> Failed ({rows['np3']['detail']}); np4 "
             f"response cut -> pool read, its upgrade followed -> {rows['np4']['status']}; exit {r.rc}; the re-run "
             f"POSTed only {sorted(p for p, _, _ in pool_posts(emu, since))} and every pool ended on {NEW_IMAGE}")


def test_a_pool_post_dropped_before_azure_acted_is_reported_failed_and_not_resent(az_ext, emu, trial):
    command = f"az aks http-proxy upgrade-nodes {WHERE} --yes"
    t = trial("Node image upgrade: the connection drops before Azure acts on a pool's POST", command,
              "the pool is read, not POSTed again; reported Failed saying no upgrade runs; exit 1; a re-run finishes")
    emu.configure(pool_upgrade_seconds=1)
    emu.seed_cluster(RG, NAME, pools=[{"name": "np1"}, {"name": "np2"}])
    emu.add_fault("reset", method="POST", path_regex="/agentPools/np2/upgradeNodeImageVersion$", apply=False)
    r = az_ext.az("aks", "http-proxy", "upgrade-nodes", "-g", RG, "-n", NAME, "--yes", "-o", "json")
    rows = {row["pool"]: row for row in (r.json or [])}
    t.observed(f"exit {r.rc}; np2 {rows.get('np2', {}).get('status')}: {rows.get('np2', {}).get('detail')}")
    assert r.rc == 1 and rows["np1"]["status"] == "Succeeded", r
    assert [(s, f) for p, s, f in pool_posts(emu) if p == "np2"] == [(None, "reset")]
    assert rows["np2"]["status"] == "Failed"
    assert rows["np2"]["detail"].startswith("the answer to the upgrade request was lost (")
    assert rows["np2"]["detail"].endswith(") and the pool shows no upgrade running")
    assert_no_traceback(r)

    emu.clear_faults()
    since = emu.journal_last()
    again = az_ext.az("aks", "http-proxy", "upgrade-nodes", "-g", RG, "-n", NAME, "--yes", "-o", "json")
    assert again.ok and [p for p, _, _ in pool_posts(emu, since)] == ["np2"], again
    assert {row["pool"]: row["status"] for row in again.json} == {"np1": "Skipped", "np2": "Succeeded"}
    t.passed(f"np2's POST dropped unanswered -> Failed ({rows['np2']['detail']}); exit {r.rc}; not resent; "
             "the re-run POSTed np2 only and finished it")
