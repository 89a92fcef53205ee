"""The corpus as the tests read it: every index entry, the bad and good ones, and each case's file on disk."""
from __future__ import annotations

import json
from pathlib import Path

CORPUS = Path(__file__).parent
INDEX = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
BAD = [case for case in INDEX if case["file"].startswith("bad/")]
GOOD = [case for case in INDEX if case["file"].startswith("good/")]


def case_path(case: dict, tmp_path: Path) -> Path:
    """The case's file: in the corpus, or, for a generated case (too large to commit), written under tmp_path."""
    if not case["generated"]:
        return CORPUS / case["file"]
    from tests.corpus.make_corpus import generated_bytes

    path = tmp_path / Path(case["file"]).name
    path.write_bytes(generated_bytes(case["file"]))
    return path
