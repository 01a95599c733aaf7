"""The longest tenant ID: every name and label value the compiler derives from it must fit, and
one character more is refused when the spec loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler.errors import OrchestratorError
from compiler.pipeline import Workspace
from compiler.rendering import RenderOptions
from compiler.settings import Settings
from compiler.spec.ids import MAX_TENANT_ID
from compiler.spec.loader import spec_from_mapping


def _body(tenant_id: str) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "name": "bound",
        "service_requirements": {"callbot": 2, "chatbot": 2, "advisor": 1, "stt": 1, "tts": 1},
        "sla_target": {"availability": "99.9%", "response_time": "500ms"},
    }


def _label_values(node: Any) -> list[str]:
    """Every label value (labels, selectors) anywhere in a rendered object."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("labels", "matchLabels", "selector") and isinstance(value, dict):
                found += [v for v in value.values() if isinstance(v, str)]
            found += _label_values(value)
    elif isinstance(node, list):
        for item in node:
            found += _label_values(item)
    return found


def test_the_longest_tenant_id_renders_manifests_the_api_server_accepts(
    bare_workspace: Path,
) -> None:
    tenant_id = "t" + "-x" * ((MAX_TENANT_ID - 1) // 2) + "y" * ((MAX_TENANT_ID - 1) % 2)
    assert len(tenant_id) == MAX_TENANT_ID
    spec = spec_from_mapping(_body(tenant_id))
    build = Workspace(Settings.load(bare_workspace)).build(
        spec, RenderOptions(include_ingress=True)
    )
    # the API server's rules check every name (per kind) and label of the kinds they know
    assert [str(f) for f in build.findings if f.is_error] == []
    derived = [v for obj in build.objects for v in _label_values(obj) if tenant_id in v]
    # at the bound, the longest derived label value is exactly 63 characters: one more
    # character in the ID would make it 64, which the API server refuses
    assert max(len(v) for v in derived) == 63
    namespaces = {obj["metadata"].get("namespace") for obj in build.objects} - {None}
    assert all(len(ns) <= 63 for ns in namespaces)


def test_one_character_more_is_refused_at_spec_load_naming_the_label_it_would_break() -> None:
    with pytest.raises(OrchestratorError) as caught:
        spec_from_mapping(_body("a" * (MAX_TENANT_ID + 1)))
    message = str(caught.value)
    assert f"at most {MAX_TENANT_ID} fit" in message
    assert "app.kubernetes.io/instance" in message
