"""`az aks http-proxy check --from-cluster` with many distinct hosts behind an intercepting proxy: the real az and the
wheel, the emulator's run commands running the node script against real mitmdump and squid on loopback.

mitmdump mints a leaf of its own for every host (about 570 bytes each as a certificate line) and sends it alone;
squid behind it resolves the hosts' names (all of them this machine) to one origin whose certificate covers them
all. A scale-set run command returns only the last 4,096 bytes of output, so a hundred leaves cannot come back:
the node checks each leaf against the new trustedCa and sends its result line only.
"""
from __future__ import annotations

import pytest

from tests.e2e.test_check_from_cluster import LOCKED, check
from tests.proxies import MANY_HOSTS as HOSTS
from tests.proxies import b64_pem, check_env, mitm_ca_pem, write_config

OUTPUT_TAIL = 4096  # bytes of output a scale-set run command returns (tests/armemu/compute.py)


def check_many(az_ext, config, env, *targets):
    """A hundred probes per run command take a while on a busy machine."""
    return check(az_ext, config, env, *targets, timeout=10, az_timeout=480)


@pytest.fixture
def env(origin_ca, tmp_path, hosts_origin):
    return check_env(origin_ca, tmp_path, f"https://{HOSTS[0]}:{hosts_origin.port}/")


@pytest.mark.parametrize("locked", [False, True], ids=["scale-set run command", "probe pod"])
def test_a_hundred_distinct_hosts_behind_an_intercepting_proxy_are_judged_in_a_few_runs(
        az_ext, emu, env, tmp_path, hosts_proxy, hosts_origin, locked):
    emu.seed_cluster("rg1", "c1", properties=LOCKED if locked else {})
    targets = [f"https://{host}:{hosts_origin.port}/" for host in HOSTS[1:]] + [
        f"https://{HOSTS[0]}:{hosts_origin.port}/x"]  # a second path of a host: its leaf again
    config = write_config(tmp_path, hosts_proxy.url, trustedCa=b64_pem(mitm_ca_pem(hosts_proxy)))
    r = check_many(az_ext, config, env, *targets)
    assert r.ok, [row["message"] for row in r.json or [] if row["severity"] == "error"][:5] or r.stderr[-3000:]
    rows = r.json
    assert len(rows) == 101 and {row["target"].split("/")[2].split(":")[0] for row in rows} == set(HOSTS)
    assert all(row["code"] == "reached" and row["tls"]["trustedBy"] == "trustedCa" and row["tls"]["intercepted"]
               for row in rows), [row["code"] for row in rows if row["code"] != "reached"]
    runs = [run for run in emu.run_commands() if run["kind"] == ("aks" if locked else "vmss")]
    if locked:
        assert len(runs) == 1  # AKS run command returns up to 512 KB
        return
    assert all(row["tls"]["leafCheckedOn"] == row["ranOn"] for row in rows)
    assert 2 <= len(runs) <= 3  # the README's claim: 100 targets in two or three runs
    assert len(runs[0]["stdout"].encode()) > OUTPUT_TAIL  # the first output was cut: the rest asked again
    assert all(" cert " not in run["stdout"] for run in runs)  # no leaf, and trustedCa is aksproxy's own


def test_a_hundred_hosts_whose_proxy_ca_is_missing_from_trusted_ca_fail_closed(az_ext, emu, env, tmp_path,
                                                                                hosts_proxy, hosts_origin):
    emu.seed_cluster("rg1", "c1")
    targets = [f"https://{host}:{hosts_origin.port}/" for host in HOSTS[1:]]
    r = check_many(az_ext, write_config(tmp_path, hosts_proxy.url), env, *targets)
    assert r.rc == 1, r.stderr[-3000:]
    rows = r.json
    assert len(rows) == 100 and all(row["code"] == "tls-untrusted" for row in rows), [
        row["message"] for row in rows if row["code"] != "tls-untrusted"][:3]
    assert all("'O=mitmproxy,CN=mitmproxy'" in row["message"] for row in rows)
    runs = emu.run_commands()  # two leaves per run come back whole; the other hosts name the first and fail alike
    assert len(runs) <= 3 and all(run["stdout"].count(" cert ") <= 2 for run in runs)
    assert emu.writes() and all(w["path"].lower().endswith("/runcommand") for w in emu.writes())
