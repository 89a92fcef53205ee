"""`az aks http-proxy check` and `--check-proxy` from this machine (from a node: test_check_from_cluster.py), through
the real az with the extension, against real proxies.

Every check names its targets (--target, or AZURE_AKSPROXY_CHECK_TARGETS for --check-proxy): all on 127.0.0.1.
The origins' trustme CA plays the public roots (AZURE_AKSPROXY_PUBLIC_CA_BUNDLE).
"""
from __future__ import annotations

import json

import pytest

from tests.proxies import b64_pem, check_env, dead_proxy, mitm_ca_pem, write_config


@pytest.fixture
def env(origin_ca, tmp_path):
    return check_env(origin_ca, tmp_path)


def test_check_all_good_prints_one_row_per_target_and_exits_0(az_ext, env, tmp_path, squid_proxy, https_origin):
    config = write_config(tmp_path, squid_proxy.url)
    r = az_ext.az("aks", "http-proxy", "check", "--config", config, "--target", https_origin.url,
                  "--target", "https://localhost:9/", "-o", "json", env=env)
    assert r.ok, r
    reached, bypass = r.json
    assert (reached["severity"], reached["code"], reached["path"], reached["via"]) == \
        ("info", "reached", https_origin.url, "httpsProxy")
    assert reached["reached"] is True and reached["status"] == 200 and reached["latencyMs"] >= 0
    assert reached["proxy"] == squid_proxy.url
    assert reached["tls"]["verified"] and reached["tls"]["trustedBy"] == "public roots"
    assert not reached["tls"]["intercepted"] and "IP:127.0.0.1" in reached["tls"]["sans"]
    assert (bypass["code"], bypass["via"], bypass["reached"]) == ("bypass", "noProxy", False)
    assert f"CONNECT 127.0.0.1:{https_origin.port}" in (squid_proxy.workdir / "access.log").read_text()


def test_check_interception_ca_absent_fails_after_printing(az_ext, env, tmp_path, mitm, https_origin):
    config = write_config(tmp_path, mitm.url)
    r = az_ext.az("aks", "http-proxy", "check", "--config", config, "--target", https_origin.url, "-o", "json",
                  env=env)
    assert r.rc == 1, r
    (row,) = r.json  # the rows are printed although the command fails
    assert (row["severity"], row["code"]) == ("error", "tls-untrusted")
    assert "O=mitmproxy,CN=mitmproxy" in row["message"] and row["tls"]["verified"] is False
    assert "1 of 1 target(s) failed" in r.stderr and https_origin.url in r.stderr


def test_check_interception_ca_in_trusted_ca_passes_as_table(az_ext, env, tmp_path, mitm, https_origin):
    config = write_config(tmp_path, mitm.url, trustedCa=b64_pem(mitm_ca_pem(mitm)))
    r = az_ext.az("aks", "http-proxy", "check", "--config", config, "--target", https_origin.url, "-o", "table",
                  env=env)
    assert r.ok, r
    header, _, row = r.stdout.splitlines()[:3]
    assert header.split()[:4] == ["Result", "Code", "Target", "Via"]
    assert row.split()[:4] == ["info", "reached", https_origin.url, "httpsProxy"]
    assert "intercepted, trusted by trustedCa; issuer O=mitmproxy,CN=mitmproxy" in row


def test_check_refuses_bad_input_before_any_traffic(az_ext, env, tmp_path, squid_proxy):
    config = write_config(tmp_path, squid_proxy.url)
    bad_target = az_ext.az("aks", "http-proxy", "check", "--config", config, "--target", "ftp://127.0.0.1/",
                           env=env)
    assert bad_target.rc == 1 and "scheme must be http or https" in bad_target.stderr
    bad_timeout = az_ext.az("aks", "http-proxy", "check", "--config", config, "--target", "https://127.0.0.1:1/",
                            "--timeout", "0", env=env)
    assert bad_timeout.rc == 1 and "--timeout 0" in bad_timeout.stderr
    bad_file = tmp_path / "bad.json"
    bad_file.write_text('{"httpProxy": "https://127.0.0.1:3128/"}')
    bad_config = az_ext.az("aks", "http-proxy", "check", "--config", bad_file, "--target", "https://127.0.0.1:1/",
                           env=env)
    assert bad_config.rc == 1 and "url-scheme" in bad_config.stderr
    assert "CONNECT 127.0.0.1:1 " not in (squid_proxy.workdir / "access.log").read_text()


def update_with_check(az_ext, emu, config, env):
    emu.seed_cluster("rg1", "c1")
    # From this machine; the default on update, from a node, is tests/e2e/test_check_from_cluster.py's.
    return az_ext.az("aks", "update", "-g", "rg1", "-n", "c1", "--http-proxy-config", config, "--check-proxy",
                     "--check-proxy-from", "local", "-o", "json", env=env)


def test_check_proxy_blocks_update_with_dead_proxy_zero_writes(az_ext, emu, env, tmp_path, https_origin):
    config = write_config(tmp_path, dead_proxy())
    r = update_with_check(az_ext, emu, config, {**env, "AZURE_AKSPROXY_CHECK_TARGETS": https_origin.url})
    assert r.rc != 0, r
    assert "--check-proxy: 1 of 1 target(s) failed" in r.stderr and "proxy-unreachable" in r.stderr
    assert "nothing was sent to Azure" in r.stderr
    assert emu.writes() == []
    assert "httpProxyConfig" not in emu.cluster_state("rg1", "c1")["stored"]["properties"]


def test_check_proxy_lets_update_through_with_good_proxy(az_ext, emu, env, tmp_path, squid_proxy, https_origin):
    config = write_config(tmp_path, squid_proxy.url)
    r = update_with_check(az_ext, emu, config, {**env, "AZURE_AKSPROXY_CHECK_TARGETS": https_origin.url})
    assert r.ok, r
    assert "--check-proxy: 1 target(s) checked from this machine, none failed." in r.stderr
    writes = emu.writes()
    assert [w["method"] for w in writes] == ["PUT"]
    assert writes[0]["body"]["properties"]["httpProxyConfig"] == json.loads(config.read_text())


def test_check_proxy_blocks_create_with_untrusted_interception(az_ext, emu, env, tmp_path, mitm, https_origin):
    config = write_config(tmp_path, mitm.url)
    r = az_ext.az("aks", "create", "-g", "rg1", "-n", "c2", "--ssh-key-value", az_ext.ssh_key,
                  "--http-proxy-config", config, "--check-proxy", "-o", "json",
                  env={**env, "AZURE_AKSPROXY_CHECK_TARGETS": https_origin.url})
    assert r.rc != 0, r
    assert "tls-untrusted" in r.stderr and "O=mitmproxy,CN=mitmproxy" in r.stderr
    assert emu.writes() == []
