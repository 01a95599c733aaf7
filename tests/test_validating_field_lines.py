"""block_line gives every field the line PyYAML's composed node gives it, or says it is unsure.

finding_lines uses block_line for documents the fast YAML path read, so a finding's file:line
must not change: these tests compare it with spec.loader.node_line on composed documents, for
every key and item of real and generated documents, and for paths that run past what exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.spec.loader import node_line
from compiler.validating.documents import finding_lines, load_documents
from compiler.validating.field_lines import block_line
from compiler.validating.findings import Finding, json_path

ROOT = Path(__file__).resolve().parent.parent


def paths(value: Any, prefix: tuple[int | str, ...] = ()) -> Iterator[tuple[int | str, ...]]:
    """Every path into value, and one step past each container's end."""
    yield prefix
    if isinstance(value, dict):
        yield (*prefix, "no-such-key")
        for key, child in value.items():
            yield from paths(child, (*prefix, str(key)))
    elif isinstance(value, list):
        yield (*prefix, len(value))
        for index, child in enumerate(value):
            yield from paths(child, (*prefix, index))
    else:
        yield (*prefix, "below-a-scalar")


def assert_lines_agree(text: str) -> int:
    """Compare for every path of every document; the number of paths block_line answered."""
    answered = 0
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("---")]
    bounds = list(zip([-1, *starts], [*starts, len(lines)], strict=True))
    roots = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    values = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    chunks = [lines[a + 1 : b] for a, b in bounds if any(s.strip() for s in lines[a + 1 : b])]
    pairs = [(r, v) for r, v in zip(roots, values, strict=True) if r is not None]
    assert len(chunks) == len(pairs)
    for (root, value), chunk in zip(pairs, chunks, strict=True):
        offset = root.start_mark.line - next(
            i for i, s in enumerate(chunk) if s.strip() and not s.lstrip().startswith("#")
        )
        for path in paths(value):
            found = block_line(chunk, path)
            if found is not None:
                answered += 1
                assert found + offset == node_line(root, path), (path, chunk)
    return answered


def repository_manifests() -> list[Path]:
    return sorted((ROOT / "output").rglob("manifest.yaml")) + sorted(
        (ROOT / "tests" / "cases").rglob("manifest.yaml")
    )


def test_every_field_of_the_repository_manifests_gets_pyyamls_line() -> None:
    texts = [p.read_text(encoding="utf-8") for p in repository_manifests()]
    answered = sum(assert_lines_agree(text) for text in texts)
    assert answered > 5_000


HAND_WRITTEN = {
    "compact-sequences": "a:\n- x\n- y: 1\n  z: 2\nb: 3\n",
    "indented-sequences": "a:\n  - x\n  -\n    y: 1\n  - - p\n    - q\nb: 3\n",
    "comments-and-blanks": "# c\na:\n\n  # inner\n  b: 1 # x\n\n  c:\n    - 1\n",
    "block-scalars": "a: |\n  x: 1\n  - y\nb: >-\n  folded\nc: 2\n",
    "multi-line-plain": "a: one\n  two three\n  - four\nb: 1\n",
    "quoted-keys": "\"a.b/c\": 1\n'd''e': {x: 1}\nf: [1, {g: 2}]\n",
    "flow-values": "a: {b: 1, c: [2, 3]}\nd: [x, y]\ne: {}\n",
    "empty-values": "a:\nb:\n  c:\n  d: ~\ne: -1\n",
    "keys-with-colons": "a:b: 1\nhttp://x: 2\nc: 'd: e'\n",
    "separators": "a: 1\n---\n# two\nb:\n  c: 2\n---\nd: [1]\n",
    "deep-items": "a:\n  - b:\n      - c:\n          d: 1\n        e: 2\n  - f\n",
}


@pytest.mark.parametrize("text", list(HAND_WRITTEN.values()), ids=list(HAND_WRITTEN))
def test_hand_written_layouts_get_pyyamls_line(text: str) -> None:
    assert_lines_agree(text)


LEAVES = st.one_of(st.integers(-5, 5), st.sampled_from(["x", "a b", "", "1", "y: z", "#"]),
                   st.none(), st.booleans())  # fmt: skip
TREES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "c.d/e", "f g", "1"]), children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["k", "m", "n"]), TREES, min_size=1), min_size=1,
                max_size=3), st.sampled_from([2, 4]), st.booleans())  # fmt: skip
def test_generated_documents_get_pyyamls_line(
    documents: list[dict[str, Any]], indent: int, flow: bool
) -> None:
    style = None if flow else False
    text = "---\n".join(
        yaml.safe_dump(doc, indent=indent, default_flow_style=style) for doc in documents
    )
    assert_lines_agree(text)


def test_finding_lines_points_at_the_field_in_a_fast_read_stream() -> None:
    text = (
        "apiVersion: v1\nkind: A\n---\n# c\napiVersion: apps/v1\nkind: Deployment\n"
        "spec:\n  template:\n    spec:\n      containers:\n      - name: x\n"
        "        image: y\n        ports:\n        - containerPort: 80\n"
    )
    docs, problems = load_documents(text, "f.yaml")
    assert problems == []
    path: list[int | str] = ["spec", "template", "spec", "containers", 0, "ports", 0]
    path.append("containerPort")
    findings = [
        Finding("error", "schema", "m", 1, "Deployment", None, json_path(path)),
        Finding("error", "schema", "m", 1, "Deployment", None, "spec.missing"),
        Finding("error", "schema", "m", 0, "A", None, ""),
    ]
    assert finding_lines(text, docs, findings) == [14, 7, 1]
