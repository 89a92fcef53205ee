"""The node probe script itself, run as the emulator's "node" runs it (tests/armemu/node.py: `/bin/sh script.sh`,
clean env plus the node's current proxy variables) against real squid and mitmdump on loopback."""
from __future__ import annotations

import trustme

from azext_aksproxy.check import node_probe as np
from azext_aksproxy.check import parse_targets
from azext_aksproxy.check.probe import trust_for
from tests.armemu.node import run_script
from tests.proxies import (
    MANY_HOSTS,
    b64_pem,
    cn_only_chain,
    dead_proxy,
    free_port,
    mitm_ca_pem,
    mitmdump,
    tls_front,
)

WHERE = "node aks-nodepool1-00000000-vmss000000"


def run_on_node(config, urls, public_roots, tmp_path, node_env=None, hidden_tools=()):
    probes = np.plan(config, parse_targets(urls))
    script = "\n".join(np.build_script(probes, 5, config)) + "\n"
    temp = tmp_path / "node-tmp"
    temp.mkdir()
    run = run_script(["/bin/sh", "script.sh"], {"script.sh": script.encode()},
                     {"TMPDIR": str(temp), **(node_env or {})}, timeout=60, hidden_tools=hidden_tools)
    assert run.exit_code == 0 and not run.timed_out, run
    assert list(temp.iterdir()) == []  # the script's working directory is gone
    records = np.parse_output(run.stdout, np.issuer_candidates(config))
    return [np.judge(p, records.get(p.index), trust_for(config, public_roots), WHERE, 5) for p in probes], run


def chain_field(run) -> str:
    (record,) = [line for line in run.stdout.splitlines() if not line.startswith(f"{np.RECORD} cert ")]
    return record.split()[-1]


def test_new_config_is_used_not_the_nodes_current_proxy(squid_proxy, https_origin, public_roots, tmp_path):
    dead = dead_proxy()
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


def test_an_intercepted_leaf_is_checked_on_the_node_against_the_new_trusted_ca_and_nothing_else_comes_back(
        mitm, https_origin, public_roots, tmp_path):
    config = {"httpProxy": mitm.url, "trustedCa": b64_pem(mitm_ca_pem(mitm))}
    (result,), run = run_on_node(config, [https_origin.url], public_roots, tmp_path)
    (ca_fingerprint,) = np.issuer_candidates(config)
    (record,) = run.stdout.splitlines()  # mitmdump sends its leaf alone: the node checked it against trustedCa
    leaf, issuer = record.split()[-1].split(",")
    assert leaf.startswith("=") and issuer == ca_fingerprint and " cert " not in run.stdout
    assert result.summary.code == "reached" and result.tls.trusted_by == "trustedCa"
    assert result.tls.leaf_checked_on == WHERE and result.tls.to_dict()["issuer"] == "O=mitmproxy,CN=mitmproxy"


def test_a_leaf_no_new_trusted_ca_signed_comes_back_whole_and_is_judged_untrusted(mitm, https_origin, public_roots,
                                                                                   tmp_path):
    other_ca = trustme.CA(organization_name="Other Proxy CA").cert_pem.bytes()
    (result,), run = run_on_node({"httpProxy": mitm.url, "trustedCa": b64_pem(other_ca)}, [https_origin.url],
                                 public_roots, tmp_path)
    assert not chain_field(run).startswith("=") and run.stdout.count(" cert ") == 1  # not the node's own store
    assert result.summary.code == "tls-untrusted" and result.tls.leaf_checked_on is None
    assert "'O=mitmproxy,CN=mitmproxy'" in result.summary.message


def test_a_leaf_the_node_cannot_vouch_for_comes_back_whole(origin_ca, https_origin, public_roots, tmp_path):
    certs_pem, ca_pem = cn_only_chain()  # no subjectAltName: openssl would fall back to the CN, Go does not
    with mitmdump(origin_ca, certs_pem=certs_pem) as proxy:
        (result,), run = run_on_node({"httpProxy": proxy.url, "trustedCa": b64_pem(ca_pem)}, [https_origin.url],
                                     public_roots, tmp_path)
    assert not chain_field(run).startswith("=") and result.tls.leaf_checked_on is None
    assert result.summary.code == "tls-no-san"


def test_leaves_of_one_untrusted_issuer_come_back_a_few_times_and_the_rest_fail_alike(hosts_origin, hosts_proxy,
                                                                                       public_roots, tmp_path):
    urls = [f"https://{h}:{hosts_origin.port}/" for h in MANY_HOSTS[:6]]  # hosts_proxy mints a leaf for each host
    results, run = run_on_node({"httpProxy": hosts_proxy.url}, urls, public_roots, tmp_path)
    chains = [line.split()[-1] for line in run.stdout.splitlines() if f"{np.RECORD} cert " not in line]
    named = [c for c in chains if c.startswith("~")]
    assert len(named) == 4 and run.stdout.count(" cert ") == 2  # two leaves whole, the rest named by the first
    assert len({c[1:] for c in named}) == 1 and named[0][1:] in chains
    assert [r.summary.code for r in results] == ["tls-untrusted"] * 6
    assert all("'O=mitmproxy,CN=mitmproxy'" in r.summary.message and r.failed for r in results)
