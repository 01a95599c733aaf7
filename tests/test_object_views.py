"""A manifest's object views read from its workloads' documents and the others' kind and metadata
lines equal the views of the whole manifest parsed as YAML, for every manifest the compiler
ships and for text in layouts the emitter never writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.service import object_views as module
from compiler.service.object_views import ObjectView, object_views
from compiler.validating.fast_documents import fast_documents

REPO = Path(__file__).resolve().parent.parent
MANIFESTS = sorted(
    [*(REPO / "output").glob("*/manifest.yaml"), *(REPO / "tests" / "cases").rglob("manifest.yaml")]
)


def _parsed_whole(text: str) -> list[ObjectView]:
    """The reference: every document parsed, as the read model did before."""
    docs = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if isinstance(d, dict)]
    return [module._view(doc) for doc in docs]


def _reference(text: str) -> list[tuple[str, str, Any, Any, Any, Any, Any]]:
    return [
        (v.kind, v.name, v.service, v.replicas, v.image, dict(v.requests), dict(v.limits))
        for v in _parsed_whole(text)
    ]


def _fast(text: str) -> list[tuple[str, str, Any, Any, Any, Any, Any]]:
    return [
        (v.kind, v.name, v.service, v.replicas, v.image, dict(v.requests), dict(v.limits))
        for v in object_views(text)
    ]


def test_there_are_shipped_manifests_to_compare() -> None:
    assert len(MANIFESTS) >= 4


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_manifest_gives_the_views_of_a_whole_parse(path: Path) -> None:
    text = path.read_text("utf-8")
    assert _fast(text) == _reference(text)
    assert any(v.kind == "Deployment" for v in object_views(text))


def test_only_workload_documents_are_parsed_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole parses go to yaml-rs (fast_documents) or PyYAML, and only for the workloads; the
    shipped manifest's plain Deployments are vouched for, so at least one skips PyYAML."""
    text = MANIFESTS[0].read_text("utf-8")
    by_pyyaml: list[Any] = []
    by_yaml_rs: list[Any] = []
    real_load, real_fast = yaml.load, fast_documents

    def recording(stream: str, Loader: Any) -> Any:
        doc = real_load(stream, Loader=Loader)
        by_pyyaml.append(doc)
        return doc

    def recording_fast(chunk: str, max_depth: int, read_alone: Any) -> Any:
        placed = real_fast(chunk, max_depth, read_alone)
        by_yaml_rs.extend(content for content, _ in placed or [])
        return placed

    monkeypatch.setattr(yaml, "load", recording)
    monkeypatch.setattr(module, "fast_documents", recording_fast)
    views = object_views(text)
    parsed = by_pyyaml + by_yaml_rs
    assert by_yaml_rs and all(d["kind"] in ("Deployment", "StatefulSet") for d in parsed)
    workloads = [v for v in views if v.kind in ("Deployment", "StatefulSet")]
    assert len(parsed) == len(workloads) < len(views)


_ODD = {
    "quoted-name": "kind: Service\nmetadata:\n  name: 'svc-a'\n  labels: {a: b}\n",
    "flow-metadata": "kind: Service\nmetadata: {name: svc-b}\n",
    "comment": "kind: Service  # a comment\nmetadata:\n  name: svc-c\n",
    "marker-with-content": "--- !!map\nkind: Service\nmetadata:\n  name: svc-d\n",
    "end-marker": "kind: Service\nmetadata:\n  name: svc-e\n...\n",
    "no-metadata": "kind: ConfigMap\ndata:\n  a: b\n",
    "quoted-kind": "kind: 'Service'\nmetadata:\n  name: svc-f\n",
    "boolean-name": "kind: Service\nmetadata:\n  name: yes\n",
    "null-name": "kind: Service\nmetadata:\n  name: null\n",
    "number-name": "kind: Service\nmetadata:\n  name: 0x1f\n",
    "deeper-keys": "kind: Service\nmetadata:\n    labels:\n      a: b\n    name: svc-i\n",
    "nested-name-only": "kind: Service\nmetadata:\n  labels:\n    name: not-it\n",
    "blank-lines": "kind: Service\nmetadata:\n\n  name: svc-g\n\nspec: {}\n",
    "empty-and-scalar-documents": "---\n---\njust a string\n---\nkind: Service\nmetadata:\n"
    "  name: svc-h\n",
    "workload": "kind: Deployment\nmetadata:\n  name: d\n  labels:\n    ecp.ai/service: llm\n"
    "spec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - image: i:1\n"
    "        resources:\n          limits: {cpu: '2'}\n",
}


@pytest.mark.parametrize("text", list(_ODD.values()), ids=list(_ODD))
def test_text_in_other_layouts_gives_the_views_of_a_whole_parse(text: str) -> None:
    manifest = text + "---\nkind: Namespace\nmetadata:\n  name: ns\n"
    assert _fast(manifest) == _reference(manifest)
