"""Editing specs as people do: apply_update keeps comments and key order and never returns an
invalid spec; new_spec_text writes a spec that parse_spec reads back to the same model.
"""

from __future__ import annotations

from typing import Any

import pytest

from compiler.errors import SpecInvalid
from compiler.spec.edit import apply_update, new_spec_text
from compiler.spec.loader import parse_spec, spec_from_mapping
from compiler.spec.models import TenantSpec

COMMENTED = """\
# Support desk for the EU region; owned by the contact-centre team.
tenant_id: eu-desk
name: EU desk  # shown in the console
preset: medium
service_requirements:
  # Channels agreed with the business for 2025.
  callbot: 20
  chatbot: 60  # peak of the spring campaign
  advisor: 10
sla_target:
  availability: "99.9%"
  response_time: 250ms
description: EU support desk
labels:
  cost-center: eu-support
"""


def _top_level_keys(text: str) -> list[str]:
    return [
        line.split(":", 1)[0]
        for line in text.splitlines()
        if line and not line.startswith((" ", "#"))
    ]


def test_an_update_keeps_every_comment() -> None:
    updated = apply_update(COMMENTED, {"service_requirements": {"chatbot": 80}}, "eu-desk.yaml")
    for comment in (
        "# Support desk for the EU region; owned by the contact-centre team.",
        "name: EU desk  # shown in the console",
        "  # Channels agreed with the business for 2025.",
        "  chatbot: 80  # peak of the spring campaign",
    ):
        assert comment in updated


def test_an_update_keeps_the_key_order_and_quotes_a_person_wrote() -> None:
    updated = apply_update(COMMENTED, {"name": "EU desk (renamed)"}, "eu-desk.yaml")
    assert _top_level_keys(updated) == _top_level_keys(COMMENTED)
    assert 'availability: "99.9%"' in updated
    changed = [
        (before, after)
        for before, after in zip(COMMENTED.splitlines(), updated.splitlines(), strict=True)
        if before != after
    ]
    # ruamel keeps an inline comment's column, so a longer value leaves it one space away.
    assert changed == [
        ("name: EU desk  # shown in the console", "name: EU desk (renamed) # shown in the console")
    ]


def test_an_update_merges_nested_service_requirements() -> None:
    updated = apply_update(
        COMMENTED, {"service_requirements": {"chatbot": 80, "stt": 5}}, "eu-desk.yaml"
    )
    spec = parse_spec(updated, "eu-desk.yaml", expected_id="eu-desk")
    assert spec.service_requirements.enabled() == {
        "callbot": 20,
        "chatbot": 80,
        "advisor": 10,
        "stt": 5,
    }
    assert spec.sla_target.response_time == "250ms"


def test_an_update_merges_nested_sla_target_keeping_the_other_field() -> None:
    updated = apply_update(COMMENTED, {"sla_target": {"response_time": "300ms"}}, "eu-desk.yaml")
    spec = parse_spec(updated, "eu-desk.yaml")
    assert (spec.sla_target.availability, spec.sla_target.response_time) == ("99.9%", "300ms")


def test_an_update_with_none_removes_a_key() -> None:
    updated = apply_update(COMMENTED, {"description": None, "preset": None}, "eu-desk.yaml")
    spec = parse_spec(updated, "eu-desk.yaml")
    assert spec.description == ""
    assert spec.preset is None
    assert "description:" not in updated
    assert "preset:" not in updated


def test_an_update_adds_a_new_key_at_the_end() -> None:
    updated = apply_update(COMMENTED, {"gpu_type": "l4"}, "eu-desk.yaml")
    assert _top_level_keys(updated) == [*_top_level_keys(COMMENTED), "gpu_type"]
    assert parse_spec(updated, "eu-desk.yaml").gpu_type == "l4"


@pytest.mark.parametrize(
    "new_id",
    [
        pytest.param("other-desk", id="another-id"),
        pytest.param("eu-desk", id="the-same-id"),
    ],
)
def test_an_update_refuses_to_change_the_tenant_id(new_id: str) -> None:
    with pytest.raises(SpecInvalid, match="tenant_id cannot be changed") as caught:
        apply_update(COMMENTED, {"tenant_id": new_id}, "eu-desk.yaml")
    assert caught.value.location is not None
    assert caught.value.location.field == "tenant_id"


@pytest.mark.parametrize(
    ("patch", "field", "line"),
    [
        pytest.param(
            {"sla_target": {"availability": "101%"}},
            "sla_target.availability",
            11,
            id="availability-101-percent",
        ),
        pytest.param(
            {"service_requirements": {"chatbot": -1}},
            "service_requirements.chatbot",
            8,
            id="negative-count",
        ),
        pytest.param(
            {"service_requirements": {"callbot": 0, "chatbot": 0, "advisor": 0}},
            "service_requirements",
            5,
            id="every-service-off",
        ),
        pytest.param({"owner": "me"}, "owner", 16, id="unknown-key"),
        pytest.param({"name": 5}, "name", 3, id="wrong-type"),
    ],
)
def test_an_update_that_makes_the_spec_invalid_raises_instead_of_returning_text(
    patch: dict[str, Any], field: str, line: int
) -> None:
    with pytest.raises(SpecInvalid) as caught:
        apply_update(COMMENTED, patch, "eu-desk.yaml")
    location = caught.value.location
    assert location is not None
    assert (location.file, location.line, location.field) == ("eu-desk.yaml", line, field)


def test_an_update_of_text_that_is_not_yaml_is_refused() -> None:
    with pytest.raises(SpecInvalid, match="invalid YAML"):
        apply_update("tenant_id: [\n", {"name": "x"}, "broken.yaml")


MINIMAL: dict[str, Any] = {
    "tenant_id": "tiny",
    "name": "Tiny",
    "service_requirements": {"chatbot": 3},
}
FULL: dict[str, Any] = {
    "tenant_id": "everything",
    "name": "내 AI 서비스",
    "preset": "large",
    "service_requirements": {"callbot": 50, "chatbot": 100, "advisor": 25, "stt": 30, "tts": 0},
    "sla_target": {"availability": "99.95%", "response_time": "1.5s", "concurrent_users": 200},
    "description": "Everything a spec can say: 'quotes', colons: and # hashes",
    "gpu_type": "a100",
    "images": {"stt": "registry.local/stt:1.4.2"},
    "ingress_host": "ai.example.com",
    "labels": {"cost-center": "cc-42", "example.com/team": "voice"},
}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(MINIMAL, id="minimal"),
        pytest.param(FULL, id="every-field"),
        pytest.param({**MINIMAL, "sla_target": {"availability": "99.9%"}}, id="default-sla-given"),
        pytest.param({**MINIMAL, "name": "null"}, id="name-null-word"),
        pytest.param({**MINIMAL, "name": "2024-01-01"}, id="name-like-a-date"),
        pytest.param({**MINIMAL, "name": "0x1f"}, id="name-like-hex"),
    ],
)
def test_new_spec_text_round_trips_through_parse_spec(body: dict[str, Any]) -> None:
    spec = spec_from_mapping(body)
    text = new_spec_text(spec)
    assert parse_spec(text, f"{spec.tenant_id}.yaml", expected_id=spec.tenant_id) == spec


@pytest.mark.parametrize("word", ["on", "off", "yes", "No", "1:20"])
def test_new_spec_text_round_trips_yaml_1_1_special_words(word: str) -> None:
    spec = spec_from_mapping({**MINIMAL, "name": word, "description": word})
    assert parse_spec(new_spec_text(spec), "tiny.yaml") == spec


def test_an_update_to_a_yaml_1_1_boolean_word_is_kept_as_text() -> None:
    updated = apply_update(COMMENTED, {"name": "yes"}, "eu-desk.yaml")
    assert parse_spec(updated, "eu-desk.yaml").name == "yes"


def test_new_spec_text_writes_keys_in_the_fixed_order_and_omits_defaults() -> None:
    text = new_spec_text(spec_from_mapping(FULL))
    assert _top_level_keys(text) == [
        "tenant_id",
        "name",
        "preset",
        "service_requirements",
        "sla_target",
        "description",
        "gpu_type",
        "images",
        "ingress_host",
        "labels",
    ]
    assert _top_level_keys(new_spec_text(spec_from_mapping(MINIMAL))) == [
        "tenant_id",
        "name",
        "service_requirements",
    ]


def test_new_spec_text_keeps_a_zero_count_a_person_wrote() -> None:
    spec = spec_from_mapping(FULL)
    back: TenantSpec = parse_spec(new_spec_text(spec), "everything.yaml")
    assert back.service_requirements.given()["tts"] == 0
    assert "tts" not in back.service_requirements.enabled()
