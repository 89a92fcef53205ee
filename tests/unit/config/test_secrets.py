"""A proxy password written into the config never appears in any finding or error text.

Users put `user:password@` into proxy URLs (AKS has no proxy authentication); the findings go to terminals and CI
logs, so the password must be masked wherever the value is echoed, however it is written.
"""
from __future__ import annotations

import json

import pytest

from azext_aksproxy.config import (
    ProxyConfigError,
    check_bytes,
    load_config,
    mask_secrets,
)
from azext_aksproxy.config.urls import mask_url

from ..conftest import NOW

SECRET = "S3cr3t-P@ss"

CASES = {
    "httpProxy": {"httpProxy": f"http://alice:{SECRET}@proxy.contoso.com:3128/"},
    "httpsProxy": {"httpsProxy": f"https://alice:{SECRET}@proxy.contoso.com:3129/"},
    "password only": {"httpProxy": f"http://:{SECRET}@proxy:3128/"},
    "user is the secret": {"httpProxy": f"http://{SECRET}@proxy:3128/"},
    "no scheme": {"httpProxy": f"alice:{SECRET}@proxy:3128"},
    "wrong scheme too": {"httpProxy": f"https://alice:{SECRET}@proxy:3128"},
    "slash in password": {"httpProxy": "http://alice:pa/ss-S3cr3t-P@ss@proxy:3128/"},
    "hash in password": {"httpProxy": "http://alice:S3cr3t#P@ss@proxy:3128/"},
    "whitespace too": {"httpProxy": f"http://alice:{SECRET}@proxy:3128/ "},
    "control char inside": {"httpProxy": f"http://alice:{SECRET}\t@proxy:3128/"},
    "bad port too": {"httpProxy": f"http://alice:{SECRET}@proxy:99999/x?y#z"},
    "in noProxy as URL": {"httpProxy": "http://proxy:3128/", "noProxy": [f"http://alice:{SECRET}@registry"]},
    "in noProxy bare": {"httpProxy": "http://proxy:3128/", "noProxy": [f"alice:{SECRET}@registry"]},
    "in noProxy with comma": {"httpProxy": "http://proxy:3128/", "noProxy": [f"a, http://u:{SECRET}@b"]},
    "in noProxy with space": {"httpProxy": "http://proxy:3128/", "noProxy": [f"a http://u:{SECRET}@b"]},
    "in noProxy as string": {"httpProxy": "http://proxy:3128/", "noProxy": f"a,http://u:{SECRET}@b"},
    "in noProxy before a CIDR": {"httpProxy": "http://proxy:3128/", "noProxy": [f"u:{SECRET}@10.0.0.0/8"]},
    "in noProxy, no colon": {"httpProxy": "http://proxy:3128/", "noProxy": [f"{SECRET}@registry"]},
    "in noProxy with a wildcard": {"httpProxy": "http://proxy:3128/", "noProxy": [f"u:{SECRET}@*.corp"]},
    "in noProxy in brackets": {"httpProxy": "http://proxy:3128/", "noProxy": [f"[u:{SECRET}@::1]"]},
    "wrong type": {"httpProxy": [f"http://alice:{SECRET}@proxy:3128/"]},
    "in a wrapper": {"httpProxyConfig": {"httpProxy": f"http://alice:{SECRET}@proxy:3128/"}},
    "under a snake_case key": {"http_proxy": f"http://alice:{SECRET}@proxy:3128/"},
    "as a key": {"httpProxy": "http://proxy:3128/", f"http://alice:{SECRET}@proxy/": 1},
    "in trustedCa": {"httpProxy": "http://proxy:3128/", "trustedCa": f"http://alice:{SECRET}@proxy/"},
}


def all_text(result, error: Exception | None = None) -> str:
    texts = [f"{f.path} {f.message} {f.fix} {f.value} {f}" for f in result.findings]
    texts.append(json.dumps([f.to_dict() for f in result.findings]))
    if error is not None:
        texts += [str(error), repr(error)]
    return "\n".join(texts)


@pytest.mark.parametrize("doc", CASES.values(), ids=CASES.keys())
def test_the_password_appears_in_no_finding(doc):
    result = check_bytes(json.dumps(doc).encode(), now=NOW)
    assert result.errors, "every case here is an error"
    assert SECRET not in all_text(result)


@pytest.mark.parametrize("doc", CASES.values(), ids=CASES.keys())
def test_the_password_appears_nowhere_in_the_raised_error(doc, tmp_path):
    path = tmp_path / "proxy.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ProxyConfigError) as raised:
        load_config(path, now=NOW)
    assert SECRET not in all_text(raised.value.result, raised.value)


def test_a_syntax_error_on_a_line_with_a_password_does_not_echo_it():
    text = f'{{"httpProxy": "http://alice:{SECRET}@proxy:3128/",}}'.encode()
    result = check_bytes(text)
    assert [f.code for f in result.findings] == ["json-syntax"]
    assert SECRET not in all_text(result)


def test_the_credentials_finding_shows_the_masked_url():
    result = check_bytes(json.dumps(CASES["httpProxy"]).encode(), now=NOW)
    (finding,) = [f for f in result.findings if f.code == "url-credentials"]
    assert finding.value == "http://***@proxy.contoso.com:3128/"
    assert "proxy authentication" in finding.message


@pytest.mark.parametrize(("text", "masked"), [
    ("http://u:p@host/", "http://***@host/"),
    ("http://u:p@ss@host/", "http://***@host/"),
    ("http://u:pa/ss@host/", "http://***@host/"),
    ("see `http://u:p@a/` and `https://v:q@b/`", "see `http://***@a/` and `https://***@b/`"),
    ("http://host:3128/", "http://host:3128/"),
])
def test_mask_secrets_hides_everything_up_to_the_last_at_of_a_url(text, masked):
    assert mask_secrets(text) == masked


@pytest.mark.parametrize(("text", "masked"), [
    ("u:p@proxy:3128", "***@proxy:3128"),
    ("http://u:p@proxy:3128/", "http://***@proxy:3128/"),
    ("proxy:3128", "proxy:3128"),
])
def test_mask_url_covers_urls_without_a_scheme(text, masked):
    assert mask_url(text) == masked
