"""The in-cluster check asks again for targets whose lines did not fit into a run command's 4,096-byte output tail,
and stops when a round brings nothing (a record too long to ever fit)."""
from __future__ import annotations

import base64
import gzip
import hashlib
import itertools
import re

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from azext_aksproxy.adapters.check_from_cluster import (
    ToolsMissing,
    _rounds,
    script_output,
)
from azext_aksproxy.check import node_probe as np
from azext_aksproxy.check import parse_targets
from azext_aksproxy.check.probe import trust_for

CONFIG = {"httpProxy": "http://proxy.contoso.com:3128/"}
TRUST = trust_for(CONFIG, [])


def fake_node(sizes):
    """A node whose record for target i carries an error text of sizes[i] bytes; returns the last 4,096 bytes."""
    asked = []

    def run(lines):
        indexes = [int(m[1]) for m in (re.match(r"probe '?(\d+)'? ", ln) for ln in lines) if m]
        asked.append(indexes)
        records = [f"{np.RECORD} {i} 0 200 200 0.010 {base64.b64encode(b'x' * sizes[i]).decode()} -\n"
                   for i in indexes]
        out = "".join(sorted(records, key=len, reverse=True))  # as the script prints them: `ls -S`
        return out.encode()[-np.RUN_COMMAND_OUTPUT_LIMIT:].decode()
    return run, asked


def test_targets_cut_off_are_asked_for_again_until_all_are_in():
    probes = np.plan(CONFIG, parse_targets([f"https://t{i}.example/" for i in range(6)]))
    run, asked = fake_node([1200] * 6)
    records, _ = _rounds(probes, 5, CONFIG, run, TRUST)
    assert sorted(records) == list(range(6))
    assert asked[0] == list(range(6)) and len(asked) >= 3
    assert all(set(later) < set(earlier) for earlier, later in itertools.pairwise(asked))


def test_a_record_that_can_never_fit_ends_the_rounds_without_it():
    probes = np.plan(CONFIG, parse_targets(["https://small.example/", "https://huge.example/"]))
    run, asked = fake_node([100, 5000])
    records, _ = _rounds(probes, 5, CONFIG, run, TRUST)
    assert sorted(records) == [0] and len(asked) == 2 and asked[1] == [1]  # the small one is not starved


class _Status:
    def __init__(self, code, message):
        self.code, self.message = code, message


def test_script_output_reads_the_stdout_of_either_result_form():
    one = [_Status("ProvisioningState/succeeded", "Enable succeeded: \n[stdout]\nA\nB\n\n[stderr]\nwarn\n")]
    assert script_output(one) == ("A\nB\n", None)
    two = [_Status("ComponentStatus/StdOut/succeeded", "A\n"), _Status("ComponentStatus/StdErr/succeeded", "warn")]
    assert script_output(two) == ("A\n", None)
    failed = [_Status("ProvisioningState/failed", "Enable failed: ... exit status=2\n[stdout]\n\n[stderr]\nboom")]
    assert script_output(failed) == ("", failed[0].message)


def test_a_node_without_curl_stops_the_rounds_naming_what_is_missing():
    probes = np.plan(CONFIG, parse_targets(["https://a.example/"]))
    with pytest.raises(ToolsMissing) as info:
        _rounds(probes, 5, CONFIG, lambda lines: f"{np.RECORD} missing curl openssl\n", TRUST)
    assert info.value.tools == ["curl", "openssl"]


def test_rounds_go_on_while_certificates_arrive_even_without_a_complete_record():
    probes = np.plan(CONFIG, parse_targets(["https://a.example/"]))
    ca = trustme.CA()
    der = x509.load_pem_x509_certificate(ca.issue_cert("a.example").cert_chain_pems[0].bytes()).public_bytes(
        Encoding.DER)
    fp = hashlib.sha256(der).hexdigest()[:np.FINGERPRINT_HEX]
    cert_line = f"{np.RECORD} cert {fp} {base64.b64encode(gzip.compress(der)).decode()}\n"
    outputs = iter([cert_line, f"{np.RECORD} 0 0 200 200 0.010 - {fp}\n"])  # the record was cut the first time
    asked = []

    def run(lines):
        asked.append("\n".join(lines))
        return next(outputs)

    records, rounds = _rounds(probes, 5, CONFIG, run, TRUST)
    assert sorted(records) == [0] and rounds == 2 and records[0].chain_der == (der,)
    assert f"known=' {fp} '" in asked[1]  # the second run does not print it again
