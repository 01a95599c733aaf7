"""The API server's rules on a corpus of documents a real API server rejects (tests/fixtures/
apiserver, messages from Kubernetes' validation sources) and on documents it accepts."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.validating import ManifestValidator
from compiler.validating.apiserver import KINDS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "apiserver"
VALID = [
    *sorted((ROOT / "tests" / "fixtures" / "validating").glob("*.yaml")),
    *sorted((ROOT / "output").glob("*/manifest.yaml")),
]
_STEP = re.compile(r'\["([^"]+)"\]|\[(\d+)\]|([^.\[\]]+)')
VALIDATOR = ManifestValidator("1.33")


def _steps(path: str) -> list[str | int]:
    return [quoted or (int(index) if index else plain) for quoted, index, plain in
            _STEP.findall(path)]  # fmt: skip


def _expand(value: Any) -> Any:
    if isinstance(value, dict) and "__repeat__" in value:
        text, times = value["__repeat__"]
        return text * times
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    return value


def _apply(doc: dict[str, Any], path: str, value: Any, *, delete: bool = False) -> None:
    *parents, last = _steps(path)
    node: Any = doc
    for step in parents:
        node = node[step] if isinstance(step, int) else node.setdefault(step, {})
    if delete:
        del node[last]
    elif isinstance(last, int) and last == len(node):
        node.append(value)
    else:
        node[last] = value


def _load() -> tuple[list[Any], list[tuple[str, dict[str, Any]]]]:
    cases, bases = [], []
    for file in sorted(CORPUS.glob("*.yaml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        details: dict[str, str] = data.get("details", {})
        for name, base in data["bases"].items():
            bases.append((f"{file.stem}/{name}", base))
        for case in data["cases"]:
            doc = copy.deepcopy(data["bases"][case["base"]])
            for path in case.get("unset", []):
                _apply(doc, path, None, delete=True)
            for path, value in case.get("set", {}).items():
                _apply(doc, path, _expand(value))
            message = case["expect"]["message"]
            for name, text in details.items():
                message = message.replace(f"<<{name}>>", text)
            assert "<<" not in message, f"{case['id']}: unknown detail in {message}"
            expected = (case["expect"]["field"], message)
            cases.append(pytest.param(doc, expected, id=f"{file.stem}/{case['id']}"))
    return cases, bases


CASES, BASES = _load()


def test_the_corpus_holds_at_least_150_rejected_documents_covering_every_kind() -> None:
    assert len(CASES) >= 150
    kinds = {(doc.values[0]["apiVersion"].rpartition("/")[0], doc.values[0]["kind"])
             for doc in CASES}  # fmt: skip
    kinds |= {("", "Namespace"), ("", "ServiceAccount")}
    assert set(KINDS) <= kinds | {("", "Pod")}


@pytest.mark.parametrize(("name", "base"), BASES, ids=[name for name, _ in BASES])
def test_every_base_document_passes_schema_and_api_server_rules(
    name: str, base: dict[str, Any]
) -> None:
    assert VALIDATOR.validate([base], policy=None) == []


@pytest.mark.parametrize(("doc", "expected"), CASES)
def test_a_rejected_document_is_flagged_on_the_api_servers_field_with_its_message(
    doc: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert VALIDATOR.schema_findings([doc]) == [], "the case must pass the schema"
    found = [(f.path, f.message) for f in VALIDATOR.validate([doc], policy=None)]
    assert expected in found, found


@pytest.mark.parametrize("path", VALID, ids=[str(p.relative_to(ROOT)) for p in VALID])
def test_documents_a_real_api_server_accepts_get_no_api_server_errors(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    assert docs
    findings = VALIDATOR.validate(docs, policy=None)
    assert [str(f) for f in findings if f.rule == "apiserver"] == []
