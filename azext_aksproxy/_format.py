"""Table transformers for -o table."""
# Lazy imports: every az aks command loads the command table, and with it this module; what a command needs loads when
# it runs (tests/e2e/test_lazy_imports.py).
from collections import OrderedDict


def findings_table_format(result):
    """validate's rows; a template's or plan's rows also name their resource."""
    def cells(f):
        resource = [("Resource", f["resource"])] if "resource" in f else []
        return OrderedDict([("Severity", f["severity"]), ("Code", f["code"]), *resource, ("Path", f["path"]),
                            ("Message", f["message"]), ("Fix", f["fix"])])

    return [cells(f) for f in result or []]


def node_image_table_format(result):
    from azext_aksproxy.nodes.plan import format_duration

    return [
        OrderedDict([("Pool", r["pool"]), ("FromImage", r["fromImage"] or ""), ("ToImage", r["toImage"] or ""),
                     ("Status", r["status"]), ("Duration", format_duration(r["durationSeconds"])),
                     ("Detail", r["detail"])])
        for r in result or []
    ]


def check_table_format(result):
    """One row per target of `az aks http-proxy check`: how it was reached, and the verdict."""
    def tls(row):
        t = row.get("tls")
        if not t:
            return ""
        trust = f"trusted by {t['trustedBy']}" if t["verified"] else "UNTRUSTED"
        return f"{'intercepted' if t['intercepted'] else 'passthrough'}, {trust}; issuer {t['issuer']}"

    return [
        OrderedDict([("Result", r["severity"]), ("Code", r["code"]), ("Target", r["target"]), ("Via", r["via"]),
                     ("RanOn", r.get("ranOn", "local")),
                     ("Status", r["status"] if r["status"] is not None else ""),
                     ("LatencyMs", r["latencyMs"] if r["latencyMs"] is not None else ""),
                     ("Tls", tls(r)), ("Message", r["message"])])
        for r in result or []
    ]


def _cell(value):
    """One table cell: lists joined, booleans lower-case, None empty (az's table shows nested values poorly)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)


def _pool_state(pool):
    proxy = f"runs current proxy config: {pool['runsCurrentProxyConfig']} ({pool['proxyConfigDetail']})"
    if pool["nodeImageCurrent"]:
        return f"{proxy}; node image current ({pool['nodeImageVersion']})"
    if pool["nodeImageCurrent"] is None:
        return f"{proxy}; node image {pool['nodeImageVersion']}, latest unknown"
    verb = "upgrade pending" if pool["pendingNodeImageUpgrade"] else pool["provisioningState"]
    return f"{proxy}; newer node image, {verb}: {pool['nodeImageVersion']} -> {pool['latestNodeImageVersion']}"


def http_proxy_show_table_format(result):
    rows = [("Enabled", result["enabled"]), ("HttpProxy", result["httpProxy"]), ("HttpsProxy", result["httpsProxy"]),
            ("NoProxy", result["noProxy"]), ("EffectiveNoProxy", result["effectiveNoProxy"])]
    rows += [(label, result[key]) for label, key in (
        ("UserNoProxy", "userNoProxy"), ("AksAddedNoProxy", "aksAddedNoProxy"),
        ("VnetOrUserNoProxy", "possiblyAksAddedNoProxy")) if result.get(key)]
    ca = result.get("trustedCa") or {}
    if ca.get("error"):
        rows.append(("TrustedCa", ca["error"]))
    for cert in ca.get("certificates", []):
        rows.append((f"TrustedCa[{cert['index']}]",
                     (f"{cert['subject']}; expires {cert['notAfter'][:10]} ({cert['daysLeft']} days); "
                      f"SHA-256 {cert['sha256Fingerprint']}")))
    rows += [(f"NodePool {p['name']}", _pool_state(p)) for p in result.get("nodePools", [])]
    rows += [("NextStep", step) for step in result.get("nextSteps", [])]
    return [OrderedDict([("Setting", k), ("Value", _cell(v))]) for k, v in rows]


def _cert_cells(value):
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "; ".join(f"{c['subject']} ({c['sha256Fingerprint'][:11]}...)" for c in value)
    return _cell(value)


def http_proxy_diff_table_format(result):
    rows = [OrderedDict([("Field", c["field"]), ("Action", c["action"]), ("Before", _cert_cells(c["before"])),
                         ("After", _cert_cells(c["after"])), ("Rollout", _cell(c["rollout"])),
                         ("Note", c["note"])])
            for c in result["changes"]]
    rollout = result["rollout"]
    steps = [("apply", "run", rollout["apply"])]
    steps += [(f"rollout: {part}", "required", " ; ".join(rollout[part]["commands"]))
              for part in ("pods", "nodes") if rollout[part]["required"]]
    rows += [OrderedDict([("Field", f), ("Action", a), ("Before", ""), ("After", cmd), ("Rollout", ""), ("Note", "")])
             for f, a, cmd in steps]
    reimage = rollout["nodes"].get("reimage") or {}
    if reimage.get("required"):
        gate = reimage.get("nodeDisruption") or {}
        policy = f"node disruption policy {gate['nodeDisruptionPolicy']}: {gate['reason']}" if gate else ""
        rows.append(OrderedDict([("Field", "reimage"), ("Action", "refused" if gate.get("allowed") is False
                                                        else "all pools"),
                                 ("Before", ""), ("After", reimage["summary"]), ("Rollout", "nodes"),
                                 ("Note", policy)]))
    return rows


def http_proxy_config_table_format(result):
    rows = []
    for key, value in (result or {}).items():
        if key == "trustedCa":
            value = f"<base64, {len(value)} characters>"
        rows.append(OrderedDict([("Setting", key), ("Value", _cell(value))]))
    return rows


def audit_table_format(result):
    """One row per cluster and finding of `az aks http-proxy audit` (a subscription row has no cluster)."""
    return [
        OrderedDict([("Subscription", r["subscription"] or r["subscriptionId"]),
                     ("ResourceGroup", r["resourceGroup"] or ""), ("Cluster", r["cluster"] or ""),
                     ("Severity", r["severity"]), ("Code", r["code"]), ("Message", r["message"])])
        for r in result or []
    ]


def http_proxy_pods_table_format(result):
    """One row per workload of `az aks http-proxy pods`: the stale ones with what to restart, then the opted-out."""
    rows = [OrderedDict([("State", "stale"), ("Namespace", w["namespace"]), ("OwnerKind", w["ownerKind"]),
                         ("Owner", w["owner"]), ("Pods", len(w["pods"])),
                         ("Variables", " ".join(sorted({d["variable"] for d in w["differences"]}))),
                         ("Restart", w["restart"])]) for w in (result or {}).get("stale", [])]
    rows += [OrderedDict([("State", "opted-out"), ("Namespace", w["namespace"]), ("OwnerKind", w["ownerKind"]),
                          ("Owner", w["owner"]), ("Pods", len(w["pods"])), ("Variables", ""), ("Restart", "")])
             for w in (result or {}).get("optedOut", [])]
    return rows


# ---- aks http-proxy rollout ----
def rollout_plan_table_format(result):
    return [OrderedDict([("Stage", r["stage"] or ""), ("Group", r["group"] or ""),
                         ("Subscription", r.get("subscription") or r["subscriptionId"]),
                         ("ResourceGroup", r["resourceGroup"]),
                         ("Cluster", r["name"]), ("Action", r["action"]), ("Changes", ", ".join(r["changedFields"])),
                         ("Nodes", r["nodes"]), ("Reason", r["reason"])]) for r in result or []]


def rollout_table_format(result):
    return [OrderedDict([("Stage", r["stage"]), ("Group", r["group"]),
                         ("Subscription", r.get("subscription") or r["subscriptionId"]),
                         ("ResourceGroup", r["resourceGroup"]), ("Cluster", r["name"]), ("State", r["state"]), ("Seconds", r.get("seconds", "")),
                         ("Detail", r["detail"])]) for r in result or []]
