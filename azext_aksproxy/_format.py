"""Table transformers for -o table."""
from collections import OrderedDict


def findings_table_format(result):
    return [
        OrderedDict([("Severity", f["severity"]), ("Code", f["code"]), ("Path", f["path"]),
                     ("Message", f["message"]), ("Fix", f["fix"])])
        for f in result or []
    ]
