"""A mixed fleet of AKS clusters across subscriptions, for the emulator (tests/armemu/fleet.py): what the audit's
end-to-end test and bench/audit.py seed, and which clusters each kind of problem went to.

    fleet = mixed_fleet(1000, 20)
    emu.seed_fleet(fleet.subscriptions)
    fleet.reference            # the config every good cluster has (the --config of a drift check)
    fleet.kinds["good"]        # {(subscription id, resource group, name), ...}
"""
from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# One in every 20 clusters of each problem kind, the rest good (so 70% of the fleet is clean).
PROBLEM_KINDS = ("expiring", "expired", "windows", "disabled", "drifted", "unsupported-url")
PERIOD = 20
EXPIRING_IN_DAYS = 10  # inside the audit's default 30-day horizon
PROXY = "http://proxy.contoso.com:3128/"
OLD_PROXY = "http://oldproxy.contoso.com:3128/"
NO_PROXY = ["localhost", "127.0.0.1", ".contoso.com", ".svc", ".cluster.local"]


def _ca(cn: str, not_before: datetime, not_after: datetime) -> str:
    """trustedCa (base64 of PEM) holding one issuing CA: CA=true, keyCertSign, so no rule warns about it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode("ascii")


@dataclass
class Fleet:
    subscriptions: list  # the body of EmulatorClient.seed_fleet
    reference: dict  # the good clusters' httpProxyConfig
    kinds: dict = field(default_factory=dict)  # kind -> {(subscription id, resource group, cluster name)}

    @property
    def problems(self) -> set:
        return set().union(*(v for k, v in self.kinds.items() if k != "good"))


def subscription_id(index: int) -> str:
    return str(uuid.UUID(int=0xF1EE7 << 96 | index))


def mixed_fleet(clusters: int, subscriptions: int, *, now: datetime | None = None) -> Fleet:
    now = now or datetime.now(UTC)
    good_ca = _ca("Contoso Proxy CA", now - timedelta(days=30), now + timedelta(days=730))
    cas = {"expiring": _ca("Contoso Proxy CA 2024", now - timedelta(days=700), now + timedelta(days=EXPIRING_IN_DAYS)),
           "expired": _ca("Contoso Proxy CA 2023", now - timedelta(days=800), now - timedelta(days=5))}
    reference = {"httpProxy": PROXY, "httpsProxy": PROXY, "noProxy": list(NO_PROXY), "trustedCa": good_ca}
    subs = [{"subscriptionId": subscription_id(i), "displayName": f"fleet-{i:02d}", "clusters": []}
            for i in range(subscriptions)]
    kinds: dict = {k: set() for k in ("good", *PROBLEM_KINDS)}
    for i in range(clusters):
        slot = i % PERIOD
        kind = PROBLEM_KINDS[slot] if slot < len(PROBLEM_KINDS) else "good"
        sub = subs[(i + i // PERIOD) % subscriptions]  # every subscription gets every kind
        rg, name = f"rg-{i // 50:03d}", f"aks-{i:05d}"
        config = dict(reference, noProxy=list(NO_PROXY))
        pools = [{"name": "system", "mode": "System", "count": 3}]
        if i % 3 == 0:  # in a custom VNet: AKS adds its address space to noProxy, which is no finding
            pools[0]["vnetSubnetID"] = (f"/subscriptions/{sub['subscriptionId']}/resourceGroups/{rg}-net/providers/"
                                        "Microsoft.Network/virtualNetworks/vnet/subnets/nodes")
        if kind in cas:
            config["trustedCa"] = cas[kind]
        elif kind == "windows":
            pools.append({"name": "win", "mode": "User", "osType": "Windows", "count": 2})
        elif kind == "disabled":
            config["enabled"] = False
        elif kind == "drifted":
            config.update(httpProxy=OLD_PROXY, httpsProxy=OLD_PROXY, noProxy=NO_PROXY[:2] + NO_PROXY[3:])
        elif kind == "unsupported-url":
            config["httpsProxy"] = "https://proxy.contoso.com:3129/"  # httpsProxy may be https; httpProxy not
            config["httpProxy"] = "https://proxy.contoso.com:3129/"
        sub["clusters"].append({"resourceGroup": rg, "name": name, "location": "westus2",
                                "properties": {"dnsPrefix": name, "agentPoolProfiles": pools,
                                               "httpProxyConfig": config}})
        kinds[kind].add((sub["subscriptionId"], rg, name))
    return Fleet(subs, reference, kinds)


def listings(fleet: Fleet) -> list:
    """The fleet as the audit adapter reads it (fleet.audit_rules.SubscriptionListing, clusters as ARM lists
    them), for the pure audit and report without the emulator."""
    from azext_aksproxy.fleet.audit_rules import SubscriptionListing

    out = []
    for sub in fleet.subscriptions:
        listing = SubscriptionListing(sub["subscriptionId"], sub["displayName"])
        for c in sub["clusters"]:
            listing.clusters.append({
                "id": f"/subscriptions/{sub['subscriptionId']}/resourceGroups/{c['resourceGroup']}/providers/"
                      f"Microsoft.ContainerService/managedClusters/{c['name']}",
                "name": c["name"], "location": c["location"], "properties": c["properties"]})
        out.append(listing)
    return out
