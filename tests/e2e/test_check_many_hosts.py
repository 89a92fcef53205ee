"""`az aks http-proxy check --from-cluster` with many distinct hosts behind an intercepting proxy: the real az and the
wheel, the emulator's run commands running the node script against real mitmdump and squid on loopback.

mitmdump mints a leaf of its own for every host (about 570 bytes each as a certificate line) and sends it alone;
squid behind it resolves the hosts' names (all of them this machine) to one origin whose certificate covers them
all. A scale-set run command returns only the last 4,096 bytes of output, so a hundred leaves cannot come back:
the node checks each leaf against the new trustedCa and sends its result line only.
"""
from __future__ import annotations

import pytest

from tests.e2e.test_check_from_cluster import LOCKED, write_config
from tests.proxies import b64_pem, mitm_ca_pem, mitmdump, origin, squid

DOMAIN = "many.aksproxy.test"
HOSTS = [f"h{i}.{DOMAIN}" for i in range(100)]
OUTPUT_TAIL = 4096  # bytes of output a scale-set run command returns (tests/armemu/compute.py)


def check(az_ext, config, env, *targets):
    """check --from-cluster; a hundred probes per run command take a while on a busy machine."""
    args = ["aks", "http-proxy", "check", "-g", "rg1", "-n", "c1", "--from-cluster", "--config", config,
            "--timeout", "10", "-o", "json"]
    for target in targets:
        args += ["--target", target]
    return az_ext.az(*args, env=env, timeout=480)


@pytest.fixture(scope="module")
def wildcard_origin(origin_ca):
    with origin(origin_ca, names=(f"*.{DOMAIN}",)) as o:
        yield o


@pytest.fixture(scope="module")
def intercepting(origin_ca):
    """mitmdump in front of squid, which alone resolves the hosts."""
    with squid(hosts=dict.fromkeys(HOSTS, "127.0.0.1")) as upstream, mitmdump(origin_ca, upstream=upstream.url) as m:
        yield m


@pytest.fixture
def env(origin_ca, tmp_path, wildcard_origin):
    roots = tmp_path / "public-roots.pem"
    origin_ca.cert_pem.write_to_path(str(roots))
    return {"AZURE_AKSPROXY_PUBLIC_CA_BUNDLE": str(roots),
            "AZURE_AKSPROXY_CHECK_TARGETS": f"https://{HOSTS[0]}:{wildcard_origin.port}/"}


@pytest.mark.parametrize("locked", [False, True], ids=["scale-set run command", "probe pod"])
def test_a_hundred_distinct_hosts_behind_an_intercepting_proxy_are_judged_in_a_few_runs(
        az_ext, emu, env, tmp_path, intercepting, wildcard_origin, locked):
    emu.seed_cluster("rg1", "c1", properties=LOCKED if locked else {})
    targets = [f"https://{host}:{wildcard_origin.port}/" for host in HOSTS[1:]] + [
        f"https://{HOSTS[0]}:{wildcard_origin.port}/x"]  # a second path of a host: its leaf again
    config = write_config(tmp_path, intercepting.url, trustedCa=b64_pem(mitm_ca_pem(intercepting)))
    r = check(az_ext, config, env, *targets)
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
                                                                                intercepting, wildcard_origin):
    emu.seed_cluster("rg1", "c1")
    targets = [f"https://{host}:{wildcard_origin.port}/" for host in HOSTS[1:]]
    r = check(az_ext, write_config(tmp_path, intercepting.url), env, *targets)
    assert r.rc == 1, r.stderr[-3000:]
    rows = r.json
    assert len(rows) == 100 and all(row["code"] == "tls-untrusted" for row in rows), [
        row["message"] for row in rows if row["code"] != "tls-untrusted"][:3]
    assert all("'O=mitmproxy,CN=mitmproxy'" in row["message"] for row in rows)
    runs = emu.run_commands()  # two leaves per run come back whole; the other hosts name the first and fail alike
    assert len(runs) <= 3 and all(run["stdout"].count(" cert ") <= 2 for run in runs)
    assert emu.writes() and all(w["path"].lower().endswith("/runcommand") for w in emu.writes())
