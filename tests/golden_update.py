"""The golden update flag, ECP_UPDATE_GOLDEN=1: write the new expected files, then fail.

An update must never pass: a run that rewrites expected files from the code under test and then
compares the code with them proves nothing. So with the flag set, a golden test that rewrote a
file fails naming it (and records it in its report's user_properties, which xdist workers send
back), and the run as a whole ends non-zero listing every rewritten file for review, even when
nothing changed (conftest.py's session hooks). `.ci/run` refuses to run with the flag set.
"""

from __future__ import annotations

import os
from pathlib import Path

FLAG = "ECP_UPDATE_GOLDEN"
REPO = Path(__file__).resolve().parent.parent

PROPERTY = "golden_rewritten"  # the user_properties key naming a rewritten file


def updating() -> bool:
    return os.environ.get(FLAG) == "1"


def write_expected(path: Path, text: str) -> str | None:
    """Write `text` to expected file `path` if it differs: its repo-relative name, or None."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path.relative_to(REPO))


def review_message(files: list[str]) -> str:
    if not files:
        return f"{FLAG}=1: no expected file changed; run again without it"
    listed = "".join(f"\n  {name}" for name in sorted(files))
    return (
        f"{FLAG}=1 rewrote {len(files)} expected file(s); review them (`git diff tests/`), "
        f"then run again without the flag:{listed}"
    )
