"""The node probe script itself, run as the emulator's "node" runs it (tests/armemu/node.py: `/bin/sh script.sh`,
clean env plus the node's current proxy variables) against real squid and mitmdump on loopback."""
from __future__ import annotations

import pytest
import trustme

from azext_aksproxy.proxy_check import node_probe as np
from azext_aksproxy.proxy_check import parse_targets
from azext_aksproxy.proxy_check.probe import trust_for
from tests.armemu.node import run_script
from tests.proxies import b64_pem, free_port, mitm_ca_pem, squid, tls_front

WHERE = "node aks-nodepool1-00000000-vmss000000"


@pytest.fixture(scope="module")
def squid_proxy():
    with squid() as proxy:
        yield proxy


def run_on_node(config, urls, public_roots, tmp_path, node_env=None, hidden_tools=()):
    probes = np.plan(config, parse_targets(urls))
    script = "\n".join(np.build_script(probes, 5, config)) + "\n"
    temp = tmp_path / "node-tmp"
    temp.mkdir()
    run = run_script(["/bin/sh", "script.sh"], {"script.sh": script.encode()},
                     {"TMPDIR": str(temp), **(node_env or {})}, timeout=60, hidden_tools=hidden_tools)
    assert run.exit_code == 0 and not run.timed_out, run
    assert list(temp.iterdir()) == []  # the script's working directory is gone
    records = np.parse_output(run.stdout)
    return [np.judge(p, records.get(p.index), trust_for(config, public_roots), WHERE, 5) for p in probes], run


def test_new_config_is_used_not_the_nodes_current_proxy(squid_proxy, https_origin, public_roots, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/"
    current = {"HTTP_PROXY": dead, "HTTPS_PROXY": dead, "https_proxy": dead, "NO_PROXY": "", "ALL_PROXY": dead}
    (result,), run = run_on_node({"httpProxy": squid_proxy.url}, [https_origin.url], public_roots, tmp_path, current)
    assert result.summary.code == "reached" and result.status == 200, result.summary
    assert result.tls.trusted_by == "public roots" and result.where == WHERE
    assert f"CONNECT 127.0.0.1:{https_origin.port}" in (squid_proxy.workdir / "access.log").read_text()
    assert run.stderr == ""


def test_intercepting_proxy_chain_comes_back_and_is_judged_against_the_new_trusted_ca(mitm, https_origin, public_roots,
                                                                                       tmp_path):
    config = {"httpProxy": mitm.url, "trustedCa": b64_pem(mitm_ca_pem(mitm))}
    (result,), run = run_on_node(config, [https_origin.url], public_roots, tmp_path)
    assert result.summary.code == "reached" and result.tls.intercepted and result.tls.trusted_by == "trustedCa"
    assert result.tls.chain[0].issuer == "O=mitmproxy,CN=mitmproxy"
    assert len(run.stdout.encode()) < 1500  # one intercepted chain, compressed


def test_everything_is_reported_in_the_order_of_the_targets(squid_proxy, https_origin, public_roots, tmp_path):
    dead_target = f"http://127.0.0.1:{free_port()}/"
    urls = [dead_target, https_origin.url, f"https://localhost:{free_port()}/"]
    config = {"httpProxy": squid_proxy.url, "noProxy": ["localhost"]}
    results, _ = run_on_node(config, urls, public_roots, tmp_path)
    assert [r.target.url for r in results] == urls
    assert [r.summary.code for r in results] == ["proxy-error", "reached", "direct-unreachable"]


def test_a_node_without_curl_says_so_and_probes_nothing(squid_proxy, https_origin, public_roots, tmp_path):
    config = {"httpProxy": squid_proxy.url}
    probes = np.plan(config, parse_targets([https_origin.url]))
    script = "\n".join(np.build_script(probes, 5, config))
    run = run_script(["/bin/bash", "-c", script], hidden_tools=("curl",), timeout=60)
    assert np.missing_tools(run.stdout) == ["curl"] and np.parse_output(run.stdout) == {}


def test_through_an_https_proxy_the_target_is_reached_and_the_chain_left_to_the_local_check(squid_proxy, https_origin,
                                                                                         public_roots, tmp_path):
    with tls_front(squid_proxy.port, trustme.CA(organization_name="Proxy Front CA")) as url:
        (result,), _ = run_on_node({"httpProxy": squid_proxy.url, "httpsProxy": url}, [https_origin.url], public_roots,
                                   tmp_path)
    assert result.summary.code == "reached" and result.status == 200 and result.via == "httpsProxy"
    assert "openssl cannot tunnel through an https:// proxy" in result.summary.message
