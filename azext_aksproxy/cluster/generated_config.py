"""What `az aks http-proxy generate` writes: a config built from options (noProxy with the in-cluster suffixes), or
a cluster's config as the user's file, each with the notes the command says on stderr.

Pure: takes options, file bytes and a cluster model; returns the document and notes, never logs.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..config import encode_pem_bundle
from ..config.noproxy import missing_in_cluster_suffixes
from .model import ClusterModel


def split_no_proxy(values: Iterable[Any] | None) -> list[str]:
    """``--no-proxy`` entries, space- or comma-separated (NO_PROXY env values paste as they are)."""
    return [part.strip() for value in values or [] for part in str(value).split(",") if part.strip()]


def not_pem_refusal(path: str, blob: bytes) -> str | None:
    """Why a ``--trusted-ca-file`` is refused before it is encoded, naming the file (once encoded it is only
    "certificate N" to the rules); None for a PEM file."""
    if b"-----BEGIN" in blob:
        return None
    return (f"--trusted-ca-file {path} is not a PEM file (no -----BEGIN line; binary DER?). Convert it: "
            f"openssl x509 -inform der -in {path} -out ca.pem")


def build_document(http_proxy: str | None = None, https_proxy: str | None = None,
                   no_proxy: Iterable[Any] | None = None, ca_blobs: Sequence[bytes] | None = None,
                   enabled: bool | None = None, in_cluster_suffixes: bool = True) -> tuple[dict[str, Any], list[str]]:
    """The config object, in the documented key order, with only the keys given, and the notes to say. noProxy gets
    `.svc` and `.cluster.local` (with a note) unless they are covered or ``in_cluster_suffixes`` is false: AKS adds
    CIDRs but no names, and curl and Python ignore CIDRs."""
    doc: dict[str, Any] = {}
    notes: list[str] = []
    if http_proxy is not None:
        doc["httpProxy"] = http_proxy
    if https_proxy is not None:
        doc["httpsProxy"] = https_proxy
    entries = split_no_proxy(no_proxy)
    if in_cluster_suffixes:
        added = missing_in_cluster_suffixes(entries)
        if added:
            entries += added
            notes.append(f"Added {' and '.join(added)} to noProxy so that pods reach in-cluster services (svc.ns.svc, "
                         "svc.ns.svc.cluster.local) directly: curl and Python ignore the CIDRs AKS adds. Pass "
                         "--no-in-cluster-suffixes to leave them out.")
    if entries:
        doc["noProxy"] = entries
    if ca_blobs:
        doc["trustedCa"] = encode_pem_bundle(list(ca_blobs))
    if enabled is not None:
        doc["enabled"] = enabled
    return doc, notes


def from_cluster(model: ClusterModel) -> tuple[dict[str, Any] | None, list[str]]:
    """The cluster's config as the user's file (None when it has no proxy): noProxy without the entries AKS adds, so
    that diff against the same cluster shows no change; the notes say what was left out and what was kept."""
    doc = model.user_config()
    if doc is None:
        return None, []
    split = model.no_proxy_by_origin()
    notes = []
    if split["aksAdded"]:
        notes.append(f"Left out of noProxy, as AKS adds them by itself: {', '.join(split['aksAdded'])}.")
    if split["possiblyAksAdded"]:
        notes.append(f"Kept in noProxy: {', '.join(split['possiblyAksAdded'])}, which may be the address space of a "
                     "VNet that could not be read (AKS adds it) or your own entries; keeping them changes nothing "
                     "either way.")
    return doc, notes
