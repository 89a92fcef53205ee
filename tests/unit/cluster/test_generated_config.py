"""What generate writes: the config built from options, with the in-cluster suffixes and the notes that say so, and
a cluster's config as the user's file."""
import base64
import hashlib

import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from azext_aksproxy._format import http_proxy_config_table_format
from azext_aksproxy.cluster.generated_config import (
    build_document,
    from_cluster,
    not_pem_refusal,
    split_no_proxy,
)
from azext_aksproxy.cluster.model import ClusterModel
from azext_aksproxy.config import check_document, describe_bundle

from .test_no_proxy_origin import read_vnet, recorded_cluster

PROXY = "http://p:3128/"


def ca_pem(name: str) -> bytes:
    return trustme.CA(organization_name=name).cert_pem.bytes()


def fingerprint(pem: bytes) -> str:
    der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
    return hashlib.sha256(der).hexdigest().upper()


def test_no_proxy_entries_split_on_spaces_and_commas():
    assert split_no_proxy(["localhost,127.0.0.1", " .svc ", "10.0.0.0/8,"]) == [
        "localhost", "127.0.0.1", ".svc", "10.0.0.0/8"]
    assert split_no_proxy(None) == []


def test_generated_config_concatenates_pem_files_into_one_base64_value_the_rules_accept():
    one, two = ca_pem("One"), ca_pem("Two")
    doc, _ = build_document(PROXY, None, ["localhost"], [one.replace(b"\n", b"\r\n"), two], False)
    assert list(doc) == ["httpProxy", "noProxy", "trustedCa", "enabled"]
    assert base64.b64decode(doc["trustedCa"]) == one + two  # CRLF normalised, one block after the other
    assert [c.sha256_fingerprint.replace(":", "") for c in describe_bundle(doc["trustedCa"])] == [
        fingerprint(one), fingerprint(two)]
    result = check_document(doc)
    assert result.ok and result.config == doc


def test_generated_config_table_shortens_the_ca():
    doc, _ = build_document(PROXY, None, None, [ca_pem("One")], None)
    rows = {r["Setting"]: r["Value"] for r in http_proxy_config_table_format(doc)}
    assert rows["trustedCa"].startswith("<base64, ") and rows["httpProxy"] == PROXY


def test_the_in_cluster_suffixes_added_are_named_in_a_note_and_only_what_is_missing():
    doc, notes = build_document(PROXY, no_proxy=["localhost"])
    assert doc["noProxy"] == ["localhost", ".svc", ".cluster.local"]
    assert notes == [("Added .svc and .cluster.local to noProxy so that pods reach in-cluster services (svc.ns.svc, "
                      "svc.ns.svc.cluster.local) directly: curl and Python ignore the CIDRs AKS adds. Pass "
                      "--no-in-cluster-suffixes to leave them out.")]
    doc, notes = build_document(PROXY, no_proxy=[".svc"])
    assert doc["noProxy"] == [".svc", ".cluster.local"] and notes[0].startswith("Added .cluster.local to noProxy")
    assert build_document(PROXY, no_proxy=["svc,cluster.local"]) == (
        {"httpProxy": PROXY, "noProxy": ["svc", "cluster.local"]}, [])


def test_without_in_cluster_suffixes_nothing_is_added_and_nothing_said():
    assert build_document(PROXY, in_cluster_suffixes=False) == ({"httpProxy": PROXY}, [])


def test_a_file_without_a_pem_line_is_refused_by_its_name():
    assert not_pem_refusal("ca.pem", ca_pem("One")) is None
    refusal = not_pem_refusal("ca.der", b"\x30\x82\x01\x0a")
    assert refusal.startswith("--trusted-ca-file ca.der is not a PEM file") and "-in ca.der -out ca.pem" in refusal


def test_from_a_cluster_what_aks_added_is_left_out_and_an_unread_vnet_space_kept_with_notes():
    cluster = recorded_cluster()
    doc, notes = from_cluster(ClusterModel(cluster))
    assert doc == ClusterModel(cluster).user_config() and doc["noProxy"] == ["10.42.0.0/16"]
    assert notes[0].startswith("Left out of noProxy, as AKS adds them by itself: ") and "konnectivity" in notes[0]
    assert notes[1] == ("Kept in noProxy: 10.42.0.0/16, which may be the address space of a VNet that could not be "
                        "read (AKS adds it) or your own entries; keeping them changes nothing either way.")
    _, notes = from_cluster(ClusterModel(cluster, read_vnet(cluster)))
    assert len(notes) == 1 and "10.42.0.0/16" in notes[0]  # read: AKS added it, left out


def test_a_cluster_without_a_proxy_gives_no_document():
    cluster = recorded_cluster()
    del cluster["properties"]["httpProxyConfig"]
    assert from_cluster(ClusterModel(cluster)) == (None, [])
