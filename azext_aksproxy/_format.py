"""Table transformers for -o table."""
from collections import OrderedDict


def findings_table_format(result):
    return [
        OrderedDict([("Severity", f["severity"]), ("Code", f["code"]), ("Path", f["path"]),
                     ("Message", f["message"]), ("Fix", f["fix"])])
        for f in result or []
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
                     ("Status", r["status"] if r["status"] is not None else ""),
                     ("LatencyMs", r["latencyMs"] if r["latencyMs"] is not None else ""),
                     ("Tls", tls(r)), ("Message", r["message"])])
        for r in result or []
    ]
