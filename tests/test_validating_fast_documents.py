"""The fast YAML path agrees with PyYAML on everything it lets through, and lets most through.

load_documents reads foreign streams with yaml-rs where fast_documents vouches for the text and
with PyYAML otherwise; these tests compare both readings, value by value and type by type, on the
repository's manifests and on scalars, layouts and markers chosen to split YAML 1.1 from 1.2.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.validating.documents import (
    MAX_DEPTH,
    LoadedDocument,
    load_documents,
    pyyaml_documents,
)
from compiler.validating.fast_documents import fast_documents

ROOT = Path(__file__).resolve().parent.parent


def typed(value: Any) -> Any:
    """A value with its types spelled out: 1, 1.0 and True are three different readings."""
    if isinstance(value, dict):
        return {"dict": [(typed(k), typed(v)) for k, v in value.items()]}
    if isinstance(value, list):
        return {"list": [typed(v) for v in value]}
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def reading(docs: list[dict[str, Any]], findings: list[Any]) -> Any:
    lines = [doc.line if isinstance(doc, LoadedDocument) else None for doc in docs]
    return [typed(dict(d)) for d in docs], lines, [f.to_dict() for f in findings]


def assert_agrees(text: str) -> None:
    assert reading(*load_documents(text, "f.yaml")) == reading(*pyyaml_documents(text, "f.yaml"))


class Counting:
    """A read_alone that counts the documents the fast path left to PyYAML."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str) -> list[tuple[dict[str, Any], int]] | None:
        self.calls += 1
        docs, findings = pyyaml_documents(text, "")
        return None if findings else [(dict(d), getattr(d, "line", 0)) for d in docs]


def repository_manifests() -> list[Path]:
    found = sorted((ROOT / "output").rglob("*.yaml"))
    found += sorted((ROOT / "tests" / "fixtures" / "apiserver").glob("*.yaml"))
    found += sorted((ROOT / "tests" / "cases").rglob("*.yaml"))
    return found


def test_the_repository_manifests_read_alike_and_mostly_by_the_fast_path() -> None:
    files = repository_manifests()
    assert len(files) > 20
    counted, documents = Counting(), 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert_agrees(text)
        if path.name == "manifest.yaml":
            placed = fast_documents(text, MAX_DEPTH, counted)
            documents += len(placed or [])
    assert documents > 100
    assert counted.calls < documents * 0.1  # the fast path does the bulk of the work


# Scalars: every spelling either version reads as something other than a string.
_SPELLINGS = """
yes Yes YES no No NO on On ON off Off OFF y Y n N true True TRUE false False FALSE
null Null NULL ~ = << - -- . .. ... + .5 -.5 +.5 5. -5. 1e3 1E3 1e+3 1.0e+3 1.5e-3
0 -0 +0 00 007 0777 0o17 0x1F 0X1f 0b101 1_000 1__0 0_7 1:20 -1:20 1:20.5 190:20:30
.inf -.inf .Inf .NaN .nan 3 -1 +1 10 0.5 1.0 -2.25 01.5 1.4.2 500m 10Gi 2024-01-01
2001-12-14t21:59:43.10-05:00 12345678901234567890 1.7976931348623157e309 0.1.2 v1
_1 1_ _.5 1e_3 0B1 0O7 -0x1 1.e3 .InF +.inf inf nan NaN Infinity _ __ 1,000
"""
SPELLINGS = [*_SPELLINGS.split(), "2001-12-14 21:59:43.10 -5"]
LAYOUTS = [
    "k: {s}\n",
    "{s}: v\n",
    "- {s}\n",
    "k: [{s}, x]\n",
    "k: {{a: {s}}}\n",
    'k: {{"a":{s}}}\n',
    "k: [{s}]\n",
    'k: "{s}"\n',
    "k: '{s}'\n",
    "k:\n  - {s}\n",
    "k: a {s} b\n",
    "k: |\n  {s}\n",
    "a: 1\n{s}: 2\n'{s}': 3\n",
    "k: {s} # comment\n",
    "k: {s}\n  x\n",
    "k: {s}\n\n  x\n y: 1\n",
    "k: {s}\nj: 1\n",
    "- {s}\n- x\n",
    "k: |{s}\n  x\n",
    "k: >{s}\n\n  x\n\n",
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=[f"layout-{i}" for i in range(len(LAYOUTS))])
def test_every_tricky_scalar_reads_alike_in_every_layout(layout: str) -> None:
    for spelling in SPELLINGS:
        assert_agrees(layout.format(s=spelling))
        assert_agrees("kind: X\n---\n" + layout.format(s=spelling))


SCALAR_ALPHABET = "0179iI._:+-eExXobBaynNOfFtT~=<# '\"&*!?%@`|>,[]{}"


@settings(max_examples=1500, deadline=None)
@given(
    st.text(alphabet=SCALAR_ALPHABET, min_size=1, max_size=6),
    st.sampled_from(LAYOUTS),
)
def test_generated_scalars_read_alike(spelling: str, layout: str) -> None:
    assert_agrees(layout.format(s=spelling))


PIECES = ["a", "k", "1", "0", "x y", ": ", ":", "- ", "\n", "\n  ", "\n    ", " ", " # c", "[",
          "]", "{", "}", ", ", "'", '"', "|", ">", "|-", ">+", "?", "\n---\n", "...", "true",
          "null", "3.5", "é", "x:y", "http://h:1/p"]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=25))
def test_generated_layouts_read_alike(pieces: list[str]) -> None:
    assert_agrees("".join(pieces))


NUMBERS = ["0644", "644", "00644", "0755", "493", "420", "0", "00", "07", "7", "010", "10", "8",
           "'0644'", '"644"', "0o644", "0644.0", "-0644", "+0644", "0_644", "0644 # c"]  # fmt: skip
NUMBER_LAYOUTS = [
    "k{i}: {t}\n",
    "k{i}: [{t}, {u}]\n",
    "k{i}: {{a: {t}}}\n",
    "k{i}:\n  - {t}\n  - n: {u}\n",
]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NUMBER_LAYOUTS), st.sampled_from(NUMBERS),
                          st.sampled_from(NUMBERS)), min_size=1, max_size=4),
       st.booleans())  # fmt: skip
def test_octals_and_their_twins_read_alike(lines: list[tuple[str, str, str]], split: bool) -> None:
    body = [layout.format(i=i, t=t, u=u) for i, (layout, t, u) in enumerate(lines)]
    if split:
        body.insert(1, "---\n")
    assert_agrees("".join(body))


DOCUMENTS = {
    "block-scalars": "a: |\n  x\n\n  y\nb: >-\n  p\n  q\n\n  r\nc: |+\n  z\n\n---\nd: |2\n   e\n",
    "keep-chomping-at-the-end": "a: |+\n  z\n\n\n",
    "folded-more-indented": "a: >\n  one\n    two\n  three\n\n\n  four\n",
    "multi-line-plain": "a: one\n  two\n\n  three\nb: x\n",
    "multi-line-quoted": "a: \"one\n  two\n\n  three\"\nb: 'it''s\n  here'\n",
    "empty-values": "a:\nb: ''\nc: \"\"\nd: []\ne: {}\nf:\n  -\n  - x\n",
    "comments-everywhere": "# top\na: 1 # one\n# mid\nb:\n  # inner\n  c: 2\n",
    "flow-over-lines": "a: [1,\n  2, {b: c,\n  d: e}]\n",
    "unicode": 'a: 한국어 설명\nb: "✓ é"\nc: 😀\n',
    "colons-and-urls": "a: http://x:80/y\nb: a:b\nc: 'a: b'\nimage: nginx:1.25\n",
    "hash-inside": "a: b#c\nb: 'x # y'\n",
    "separators": "---\na: 1\n--- # second\nb: 2\n---   \n\n# c\nc: 3\n---\n",
    "no-final-newline": "a: 1\n---\nb: 2",
    "block-scalar-without-final-newline": "a: >+\n    b c",
    "empty-block-scalar": "a: |\nb: >-\n\nc: 1\n",
    "windows-line-ends": "a: 1\r\nb: 2\r\n",
    "tabs": "a:\t1\nb: 'x\ty'\n",
    "bom": "\ufeffa: 1\n",
    "nel": "a: x\x85y\n",
    "directive": "%YAML 1.1\n---\na: 1\n",
    "end-marker": "a: 1\n...\n---\nb: 2\n",
    "content-on-marker": "--- {a: 1}\n--- b: 2\n",
    "marker-in-block-scalar": "a: |\n  x\n---\nb: 2\n",
    "escapes": 'a: "\\x41\\u00e9\\t\\/"\n',
    "merge": "a: {x: 1}\nb:\n  <<: {y: 2}\n",
    "anchors": "a: &x 1\nb: *x\n",
    "tags": "a: !!str 3\nb: !custom x\n",
    "complex-key": "? a\n: 1\n",
    "duplicate": "a: 1\na: 2\n",
    "duplicate-quoted": "a: 1\n'a': 2\n",
    "non-string-keys": "1: a\n'1': b\n",
    "long-key": "k" * 1100 + ": 1\n",
    "a-list": "- a\n- b\n",
    "a-scalar": "just text\n",
    "null-document": "~\n---\na: 1\n",
    "syntax-error": "a: [1\n---\nb: 2\n",
    "deep-flow": "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
    "at-the-limit": "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n",
    "deep-block": "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 2)) + "  " * 102 + "x\n",
    "deep-compact": "a:\n" + "- " * 110 + "x\n",
}


@pytest.mark.parametrize("text", list(DOCUMENTS.values()), ids=list(DOCUMENTS))
def test_layouts_markers_and_refusals_read_alike(text: str) -> None:
    assert_agrees(text)


def test_documents_keep_their_first_lines_after_comments_and_separators() -> None:
    text = "# head\n\napiVersion: v1\nkind: A\n--- # two\n\n# c\nkind: B\n---\n---\nkind: C\n"
    docs, findings = load_documents(text, "m.yaml")
    assert findings == []
    assert [(d["kind"], getattr(d, "line", None)) for d in docs] == [("A", 3), ("B", 8), ("C", 11)]


def test_a_plain_stream_is_read_without_pyyaml() -> None:
    counted = Counting()
    text = "".join(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  n: '{i}'\n---\n"
        for i in range(50)
    )
    placed = fast_documents(text, MAX_DEPTH, counted)
    assert placed is not None and len(placed) == 50 and counted.calls == 0
    assert [line for _, line in placed][:3] == [1, 8, 15]


def test_a_risky_document_alone_goes_to_pyyaml_and_the_others_stay_fast() -> None:
    counted = Counting()
    text = "kind: A\n---\nkind: B\nok: yes\n---\nkind: C\n"
    placed = fast_documents(text, MAX_DEPTH, counted)
    assert counted.calls == 1
    assert placed == [({"kind": "A"}, 1), ({"kind": "B", "ok": True}, 3), ({"kind": "C"}, 6)]


def test_octal_file_modes_are_read_as_yaml_1_1_reads_them_without_pyyaml() -> None:
    counted = Counting()
    text = "kind: B\nmodes: [0644, {m: 0755}]\nitems:\n- mode: 0644\n  n: 7\nq: '0644'\n"
    placed = fast_documents(text, MAX_DEPTH, counted)
    assert counted.calls == 0
    expected = {"kind": "B", "modes": [420, {"m": 493}], "items": [{"mode": 420, "n": 7}],
                "q": "0644"}  # fmt: skip
    assert placed == [(expected, 1)]
    assert_agrees(text)


def test_an_octal_beside_its_decimal_twin_goes_to_pyyaml() -> None:
    counted = Counting()
    text = "a: 0644\nb: 644\n"
    assert fast_documents(text, MAX_DEPTH, counted) == [({"a": 420, "b": 644}, 1)]
    assert counted.calls == 1


@pytest.mark.parametrize(
    "text",
    ["a: [1\n", "a: 1\na: 2\n", "- x\n", "a: " + "[" * 300 + "]" * 300 + "\n",
     "a:\n" + "- " * 110 + "x\n"],  # 111 levels by indentation alone, after a shallow document
    ids=["syntax", "duplicate", "list", "deep", "deep-block"],
)  # fmt: skip
def test_anything_wrong_leaves_the_whole_stream_to_pyyaml(text: str) -> None:
    assert fast_documents("kind: A\n---\n" + text, MAX_DEPTH, Counting()) is None


def test_the_two_paths_agree_on_every_pairing_of_documents() -> None:
    pieces = ["kind: A\n", "mode: 0644\n", "a: [1\n", "- x\n", "", "# only a comment\n"]
    for first, second in itertools.product(pieces, repeat=2):
        assert_agrees(first + "---\n" + second)


@pytest.mark.parametrize(
    "text",
    ["{{}}", "a: {[1]: 2}", "[a]: 1", "a: {{b: 1}: 2}", "a: {b: 1, [c]: 2}", "a: {  {b}}",
     "a: [x, {[1]: 2}]", "a: [x, {b: 1, {c: 2}}]", "a: [[b]: 1]", "a: [{b: 1} : 2]"],
)  # fmt: skip
def test_a_collection_used_as_a_key_reads_as_pyyaml_reads_it(text: str) -> None:
    # yaml-rs freezes a flow collection used as a key; PyYAML refuses it (unhashable key).
    assert_agrees(text)
