"""Golden files: each tests/cases/<case>/ holds a spec and the exact output it must compile to.

A mismatch prints a unified diff per file. To accept new output after a deliberate change, run
`ECP_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py`: it rewrites the expected files in
tests/cases/*/expected/ and FAILS naming them (tests/golden_update.py); review the diff, then run
again without the flag.
"""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest
from golden_update import PROPERTY, review_message, updating, write_expected

from compiler.pipeline import Workspace
from compiler.rendering import RenderOptions
from compiler.settings import Settings
from compiler.spec.loader import load_spec_file, parse_spec

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases"


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "tenant.yaml").is_file())


def compile_case(case: Path, tmp_path: Path) -> dict[str, str]:
    """Compile the case's spec in a scratch workspace with the repo's presets."""
    shutil.copytree(ROOT / "presets", tmp_path / "presets")
    spec = load_spec_file(_spec_copy(case, tmp_path))
    options_file = case / "options.json"
    options = RenderOptions()
    if options_file.is_file():
        options = RenderOptions(**json.loads(options_file.read_text(encoding="utf-8")))
    build = Workspace(Settings.load(tmp_path)).build(spec, options)
    summary = {k: v for k, v in build.index_entry.items() if k != "input_hash"}
    return {
        "manifest.yaml": build.manifest_text,
        "summary.json": json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        "findings.txt": "".join(f"{f}\n" for f in build.findings),
    }


def _spec_copy(case: Path, tmp_path: Path) -> Path:
    spec = parse_spec((case / "tenant.yaml").read_text(encoding="utf-8"), str(case))
    target = tmp_path / "tenants" / f"{spec.tenant_id}.yaml"
    target.parent.mkdir(parents=True)
    shutil.copy(case / "tenant.yaml", target)
    return target


@pytest.mark.parametrize("name", case_names())
def test_the_case_compiles_to_its_golden_files(
    name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    case = CASES / name
    actual = compile_case(case, tmp_path)
    expected_dir = case / "expected"
    if updating():
        written = [
            rel
            for filename, text in actual.items()
            if (rel := write_expected(expected_dir / filename, text)) is not None
        ]
        request.node.user_properties.extend((PROPERTY, rel) for rel in written)
        if written:
            pytest.fail(review_message(written), pytrace=False)
    diffs: list[str] = []
    for filename, text in actual.items():
        path = expected_dir / filename
        expected = path.read_text(encoding="utf-8") if path.is_file() else ""
        if expected != text:
            diffs.extend(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"expected/{filename}",
                    tofile=f"actual/{filename}",
                )
            )
    assert not diffs, "golden mismatch (ECP_UPDATE_GOLDEN=1 rewrites):\n" + "".join(diffs)


def test_there_are_golden_cases_for_both_reference_tenants() -> None:
    assert {"global-call-center", "my-ai-service"} <= set(case_names())
