"""The change a rollout makes, as an edit of each cluster's own proxy config (clusters differ in noProxy, so one
file pasted over all would drop their entries).

trustedCa is base64 of a PEM bundle (AKS HTTP proxy docs); certificates are added and removed by their SHA-256
fingerprint (of the DER bytes, as `openssl x509 -fingerprint -sha256` prints it) so a bundle's other certificates
are kept as they are.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..config.certs import encode_pem_bundle
from ..config.x509ext import (
    load_pem_certificate,
    parse_fingerprint,
    sha256_fingerprint,
    split_pem,
)

EXPIRED = "expired"  # --remove-trusted-ca expired: every certificate past its notAfter
REFERENCE_FIELDS = ("httpProxy", "httpsProxy", "trustedCa")


class EditError(ValueError):
    """The edit cannot be applied (a certificate that does not parse, a fingerprint that is not one)."""


def trusted_ca_removal(text: str) -> str:
    """One --remove-trusted-ca value: EXPIRED, or a SHA-256 fingerprint (any case, colons optional) in openssl's
    form; EditError when it is neither."""
    if text.strip().lower() == EXPIRED:
        return EXPIRED
    try:
        return parse_fingerprint(text)
    except ValueError as exc:
        raise EditError(f"{exc} nor {EXPIRED!r}.") from None


@dataclass(frozen=True)
class Certificate:
    pem: str  # the PEM block as it was in the bundle or file
    fingerprint: str  # SHA-256 of the DER bytes, as openssl prints it (x509ext.sha256_fingerprint)
    not_after: datetime
    subject: str


def certificates_of_pem(text: str, source: str) -> list[Certificate]:
    """Every CERTIFICATE block of a PEM text; EditError for a block that does not parse or none at all."""
    blocks, broken = split_pem(text)
    certs = []
    for label, block in blocks:
        if label != "CERTIFICATE":
            continue
        try:
            cert = load_pem_certificate(block)
        except ValueError as exc:
            raise EditError(f"{source}: a certificate does not parse ({exc}).") from None
        certs.append(Certificate(block.strip() + "\n", sha256_fingerprint(cert),
                                 cert.not_valid_after_utc, cert.subject.rfc4514_string()))
    if broken or not certs:
        raise EditError(f"{source}: no complete PEM CERTIFICATE block.")
    return certs


def bundle_certificates(trusted_ca: str | None) -> list[Certificate]:
    if not trusted_ca:
        return []
    try:
        text = base64.b64decode(trusted_ca, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise EditError("the cluster's trustedCa is not base64 of a PEM bundle, so certificates cannot be added "
                        "to or removed from it; set it whole with --config.") from None
    return certificates_of_pem(text, "the cluster's trustedCa")


@dataclass(frozen=True)
class Edit:
    """What to change in every selected cluster's user config; empty fields change nothing."""

    reference: Mapping[str, Any] | None = None  # httpProxy/httpsProxy/trustedCa taken from a validated file
    http_proxy: str | None = None
    https_proxy: str | None = None
    add_no_proxy: tuple[str, ...] = ()
    remove_no_proxy: tuple[str, ...] = ()
    add_trusted_ca: tuple[Certificate, ...] = ()
    remove_trusted_ca: tuple[str, ...] = ()  # fingerprints as openssl prints them (trusted_ca_removal()), or EXPIRED

    def is_empty(self) -> bool:
        return not (self.reference or self.http_proxy or self.https_proxy or self.add_no_proxy
                    or self.remove_no_proxy or self.add_trusted_ca or self.remove_trusted_ca)

    def describe(self) -> list[str]:
        """One phrase per operation, for the plan file and its summary (no secret: URLs with credentials are
        refused by validate's rules before any plan is written)."""
        out = []
        if self.reference:
            out.append("httpProxy, httpsProxy and trustedCa from the reference file")
        if self.http_proxy:
            out.append(f"httpProxy = {self.http_proxy}")
        if self.https_proxy:
            out.append(f"httpsProxy = {self.https_proxy}")
        if self.add_no_proxy:
            out.append(f"noProxy += {', '.join(self.add_no_proxy)}")
        if self.remove_no_proxy:
            out.append(f"noProxy -= {', '.join(self.remove_no_proxy)}")
        for cert in self.add_trusted_ca:
            out.append(f"trustedCa += {cert.subject} (SHA-256 {cert.fingerprint})")
        for fingerprint in self.remove_trusted_ca:
            out.append("trustedCa -= every expired certificate" if fingerprint == EXPIRED
                       else f"trustedCa -= SHA-256 {fingerprint}")
        return out


def make_edit(*, reference: Mapping[str, Any] | None = None, http_proxy: str | None = None,
              https_proxy: str | None = None, add_no_proxy: Sequence[str] = (), remove_no_proxy: Sequence[str] = (),
              add_trusted_ca: Sequence[tuple[str, str]] = (), remove_trusted_ca: Sequence[str] = ()) -> Edit:
    """An Edit from command arguments; ``add_trusted_ca`` is (file name, PEM text) pairs."""
    certs: list[Certificate] = []
    for source, text in add_trusted_ca:
        certs += certificates_of_pem(text, source)
    removals = tuple(trusted_ca_removal(r) for r in remove_trusted_ca)
    added = {c.fingerprint for c in certs}
    both = added & set(removals)
    if both:
        raise EditError(f"the same certificate is both added and removed: SHA-256 {', '.join(sorted(both))}.")
    return Edit(dict(reference) if reference else None, http_proxy or None, https_proxy or None,
                tuple(dict.fromkeys(add_no_proxy)), tuple(dict.fromkeys(remove_no_proxy)), tuple(certs), removals)


def apply_edit(user: Mapping[str, Any] | None, edit: Edit, now: datetime) -> dict[str, Any]:
    """The cluster's user config after ``edit`` (``user``: what the user set, noProxy without what AKS adds).
    Order: reference file, proxy URLs, noProxy (removals, then additions keeping the cluster's order),
    certificates (removals, then additions not already in the bundle)."""
    out: dict[str, Any] = dict(user or {})
    if edit.reference:
        for key in REFERENCE_FIELDS:
            if edit.reference.get(key):
                out[key] = edit.reference[key]
            else:
                out.pop(key, None)
    if edit.http_proxy:
        out["httpProxy"] = edit.http_proxy
    if edit.https_proxy:
        out["httpsProxy"] = edit.https_proxy
    if edit.add_no_proxy or edit.remove_no_proxy:
        removed = {e.lower() for e in edit.remove_no_proxy}
        entries = [str(e) for e in out.get("noProxy") or [] if str(e).lower() not in removed]
        present = {e.lower() for e in entries}
        entries += [e for e in edit.add_no_proxy if e.lower() not in present]
        if entries:
            out["noProxy"] = entries
        else:
            out.pop("noProxy", None)
    if edit.add_trusted_ca or edit.remove_trusted_ca:
        certs = bundle_certificates(out.get("trustedCa"))
        drop_expired = EXPIRED in edit.remove_trusted_ca
        kept = [c for c in certs if c.fingerprint not in edit.remove_trusted_ca
                and not (drop_expired and c.not_after <= now)]
        fingerprints = {c.fingerprint for c in kept}
        kept += [c for c in edit.add_trusted_ca if c.fingerprint not in fingerprints]
        if [c.fingerprint for c in kept] != [c.fingerprint for c in certs]:
            if kept:
                out["trustedCa"] = encode_pem_bundle([c.pem.encode("utf-8") for c in kept])
            else:
                out.pop("trustedCa", None)
    return out
