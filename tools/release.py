"""The extension index for a release: dist/index.json beside the wheel, in the shape of azure-cli-extensions'
src/index.json, so that after `az config set extension.index_url=URL` az adds and updates aksproxy by name.

    python -m tools.release --base-url https://example.org/aksproxy/0.4.0 [--dist dist]

What az reads from it (azure/cli/core/extension/_resolve.py, operations.py): `extensions[name]`, a list of
candidates; each one's `filename` (a universal wheel), `metadata.version` (newer than the installed one for
update), `metadata` `azext.isPreview` / `azext.minCliCoreVersion` (which candidates this az may take),
`downloadUrl` (fetched with requests, http or https) and `sha256Digest` (compared with the downloaded file before
anything is installed).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import zipfile
from email.parser import Parser
from pathlib import Path

NAME = "aksproxy"
INDEX_FORMAT = "1"


def _read_member(wheel: zipfile.ZipFile, suffix: str) -> str:
    names = [n for n in wheel.namelist() if n.endswith(suffix)]
    if len(names) != 1:
        raise ValueError(f"{wheel.filename}: expected one {suffix}, found {names}")
    return wheel.read(names[0]).decode("utf-8")


def wheel_metadata(wheel_path: Path) -> dict:
    """The index's `metadata`: the wheel's core metadata (METADATA) in the keys the azure-cli-extensions index
    uses, plus the extension's azext_metadata.json, as az reads them from an installed wheel."""
    with zipfile.ZipFile(wheel_path) as wheel:
        core = Parser().parsestr(_read_member(wheel, ".dist-info/METADATA"), headersonly=True)
        azext = json.loads(_read_member(wheel, "/azext_metadata.json"))
    details: dict = {"contacts": [{"name": core["Author"], "role": "author"}]}
    if core["Home-page"]:
        details["project_urls"] = {"Home": core["Home-page"]}
    metadata = {
        **azext,
        "classifiers": core.get_all("Classifier") or [],
        "extensions": {"python.details": details},
        "license": core["License"],
        "metadata_version": core["Metadata-Version"],
        "name": core["Name"],
        "summary": core["Summary"],
        "version": core["Version"],
    }
    requires = core.get_all("Requires-Dist") or []
    if requires:
        metadata["run_requires"] = [{"requires": requires}]
    return metadata


def index_entry(wheel_path: Path, base_url: str) -> dict:
    if not base_url.startswith(("https://", "http://")):
        raise ValueError(f"the base URL must be an http(s) URL az can download from, not {base_url!r}")
    return {
        "downloadUrl": f"{base_url.rstrip('/')}/{wheel_path.name}",
        "filename": wheel_path.name,
        "metadata": wheel_metadata(wheel_path),
        "sha256Digest": hashlib.sha256(wheel_path.read_bytes()).hexdigest(),
    }


def write_index(dist: Path, base_url: str) -> Path:
    """dist/index.json for every aksproxy wheel in dist (normally the one `make wheel` just built)."""
    wheels = sorted(dist.glob(f"{NAME}-*-py3-none-any.whl"))
    if not wheels:
        raise SystemExit(f"no {NAME} wheel in {dist}: run `make wheel` first")
    index = {"extensions": {NAME: [index_entry(w, base_url) for w in wheels]}, "formatVersion": INDEX_FORMAT}
    path = dist / "index.json"
    path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True,
                        help="where the wheel will be downloaded from (RELEASE_BASE_URL); the index names "
                             "BASE_URL/<wheel file name>")
    parser.add_argument("--dist", type=Path, default=Path("dist"))
    args = parser.parse_args(argv)
    try:
        path = write_index(args.dist, args.base_url)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"{path}: {', '.join(e['filename'] for e in json.loads(path.read_text())['extensions'][NAME])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
