"""Images pinned by digest, the setting that requires it, and an explicit imagePullPolicy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler.errors import OrchestratorError, SpecInvalid
from compiler.pipeline import Workspace
from compiler.settings import Settings
from compiler.spec.loader import spec_from_mapping

DIGEST = "sha256:" + "0123456789abcdef" * 4


def _body(**images: str) -> dict[str, Any]:
    return {
        "tenant_id": "pinned",
        "name": "pinned",
        "service_requirements": {"chatbot": 5, "stt": 2},
        "sla_target": {"availability": "99.5%", "response_time": "500ms"},
        "images": images,
    }


def _deployments(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "Deployment"}


def _containers(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: obj["spec"]["template"]["spec"]["containers"][0]
        for name, obj in _deployments(objects).items()
    }


@pytest.mark.parametrize(
    "image",
    [
        pytest.param("registry.local/stt@sha256:abc", id="short-digest"),
        pytest.param("registry.local/stt@md5:" + "0" * 32, id="other-algorithm"),
        pytest.param("registry.local/stt@" + DIGEST.upper(), id="upper-case-hex"),
    ],
)
def test_a_malformed_digest_is_refused_at_spec_load(image: str) -> None:
    with pytest.raises(OrchestratorError, match=r"images\.stt"):
        spec_from_mapping(_body(stt=image))


def test_a_pinned_image_is_rendered_as_given_with_if_not_present(bare_workspace: Path) -> None:
    spec = spec_from_mapping(_body(stt=f"registry.local/stt@{DIGEST}"))
    build = Workspace(Settings.load(bare_workspace)).build(spec)
    containers = _containers(build.objects)
    assert containers["stt"]["image"] == f"registry.local/stt@{DIGEST}"
    assert containers["stt"]["imagePullPolicy"] == "IfNotPresent"
    # a tag can be moved: its pull policy is Always, never left to the API server's default
    assert containers["chatbot"]["imagePullPolicy"] == "Always"
    labels = _deployments(build.objects)["stt"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/version"] == "sha256-0123456789ab"
    assert [str(f) for f in build.findings if f.is_error] == []


def test_require_image_digests_refuses_a_tenant_with_an_unpinned_image(
    bare_workspace: Path,
) -> None:
    settings = Settings.load(bare_workspace, require_image_digests=True)
    spec = spec_from_mapping(_body(stt=f"registry.local/stt@{DIGEST}"))
    with pytest.raises(SpecInvalid) as caught:
        Workspace(settings).build(spec)
    assert caught.value.location is not None
    assert caught.value.location.field == "images.chatbot"
    images = {"stt": f"registry.local/stt@{DIGEST}", "chatbot": f"r.local/chatbot:2.0@{DIGEST}"}
    # the tenant's own Redis runs the preset's image, a tag: pinned services are not enough
    with pytest.raises(SpecInvalid, match="Redis image") as caught:
        Workspace(settings).build(spec_from_mapping(_body(**images)))
    assert caught.value.location is not None
    assert caught.value.location.field == "redis.image"
    pinned = spec_from_mapping({**_body(**images), "redis_url": "redis://cache.example:6379"})
    build = Workspace(settings).build(pinned)
    assert {c["imagePullPolicy"] for c in _containers(build.objects).values()} == {"IfNotPresent"}
    assert (
        _deployments(build.objects)["chatbot"]["metadata"]["labels"]["app.kubernetes.io/version"]
        == "2.0"
    )
