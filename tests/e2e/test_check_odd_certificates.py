"""What a new user tried: a config whose trustedCa is Azure CLI's sample CA passes `validate`, then `check` runs
against an intercepting proxy. Through the real az and a real mitmdump; the check reads the CA as validate does.
"""
from __future__ import annotations

import json

from tests.proxies import (
    azure_cli_sample_ca_pem,
    b64_pem,
    chain_up_to_the_sample_ca,
    check_env,
    mitmdump,
    odd_key_usage_chain,
)


def config_file(tmp_path, proxy_url, *pems):
    path = tmp_path / "proxy.json"
    path.write_text(json.dumps({"httpProxy": proxy_url, "httpsProxy": proxy_url, "trustedCa": b64_pem(*pems)}))
    return path


def test_validate_then_check_with_the_sample_ca_gives_findings_not_a_traceback(az_ext, origin_ca, https_origin,
                                                                                 tmp_path):
    env = check_env(origin_ca, tmp_path)
    with mitmdump(origin_ca, certs_pem=chain_up_to_the_sample_ca()) as proxy:
        config = config_file(tmp_path, proxy.url, azure_cli_sample_ca_pem())
        validate = az_ext.az("aks", "http-proxy", "validate", "--config", config, "-o", "json")
        assert validate.ok, validate
        r = az_ext.az("aks", "http-proxy", "check", "--config", config, "--target", https_origin.url, "-o", "json",
                      env=env)
    assert r.rc == 1 and "Traceback" not in r.stderr, r
    (row,) = r.json
    assert (row["severity"], row["code"]) == ("error", "tls-untrusted")
    assert [c["subject"] for c in row["tls"]["chain"]] == ["CN=127.0.0.1", "CN=cli-proxy-vm"]
    assert row["tls"]["chain"][1]["sans"] == ["DNS:cli-proxy-vm"]
    assert "1 of 1 target(s) failed" in r.stderr


def test_check_trusts_a_proxy_ca_with_the_sample_key_usage(az_ext, origin_ca, https_origin, tmp_path):
    certs_pem, ca_pem = odd_key_usage_chain()
    env = check_env(origin_ca, tmp_path)
    with mitmdump(origin_ca, certs_pem=certs_pem) as proxy:
        config = config_file(tmp_path, proxy.url, ca_pem)
        r = az_ext.az("aks", "http-proxy", "check", "--config", config, "--target", https_origin.url, "-o", "json",
                      env=env)
    assert r.ok, r
    (row,) = r.json
    assert (row["code"], row["tls"]["trustedBy"], row["tls"]["anchor"]) == \
        ("reached", "trustedCa", "CN=Odd Key Usage Proxy CA")
