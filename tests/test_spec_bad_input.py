"""The issue's bad-input list, through parse_spec / load_spec_file and through `ecp compile`.

Every case must give one error line naming file:line (and the field where there is one), a non-zero
exit, no traceback, and leave the other tenants' output/ alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import EcpRunner, shipped_tenants

from compiler.errors import SpecInvalid, ValidationFailed
from compiler.spec.loader import load_spec_file, parse_spec

GOOD = "tenant_id: {id}\nname: x\nservice_requirements:\n  chatbot: 1\n"


@dataclass(frozen=True)
class Bad:
    """A bad spec file: its name (tenant ID part), its text, and where the error must point."""

    file_id: str
    text: str
    line: int | None
    field: str | None
    message: str


def _bomb() -> str:
    lines = ["tenant_id: bomb", "name: x", "service_requirements:", "  chatbot: 1"]
    lines.append('a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]')
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


LONG_ID = "a" * 64

CASES = [
    pytest.param(
        Bad(
            "broken",
            "tenant_id: broken\nname: x\n  bad: indent\nservice_requirements:\n  chatbot: 1\n",
            3,
            None,
            "invalid YAML",
        ),
        id="broken-yaml",
    ),
    pytest.param(
        Bad(
            "dup",
            "tenant_id: dup\nname: x\nname: y\nservice_requirements:\n  chatbot: 1\n",
            3,
            None,
            "duplicate key 'name' (first on line 2)",
        ),
        id="duplicate-key",
    ),
    pytest.param(
        Bad(
            "dupnested",
            "tenant_id: dupnested\nname: x\nservice_requirements:\n  chatbot: 1\n  chatbot: 2\n",
            5,
            None,
            "duplicate key 'chatbot'",
        ),
        id="duplicate-nested-key",
    ),
    pytest.param(
        Bad("bomb", _bomb(), 5, None, "anchors and aliases are not allowed"),
        id="alias-bomb",
    ),
    pytest.param(
        Bad(
            "svc",
            "tenant_id: svc\nname: x\nservice_requirements:\n  chatbot: 1\n  voicebot: 3\n",
            5,
            "service_requirements.voicebot",
            "unknown field",
        ),
        id="unknown-service",
    ),
    pytest.param(
        Bad(
            "neg",
            "tenant_id: neg\nname: x\nservice_requirements:\n  chatbot: -1\n",
            4,
            "service_requirements.chatbot",
            "greater than or equal to 0",
        ),
        id="count-minus-one",
    ),
    pytest.param(
        Bad(
            "frac",
            "tenant_id: frac\nname: x\nservice_requirements:\n  chatbot: 2.5\n",
            4,
            "service_requirements.chatbot",
            "valid integer (got 2.5)",
        ),
        id="count-two-and-a-half",
    ),
    pytest.param(
        Bad(
            "huge",
            f"tenant_id: huge\nname: x\nservice_requirements:\n  chatbot: {10**9}\n",
            4,
            "service_requirements.chatbot",
            "less than or equal to",
        ),
        id="count-ten-to-the-ninth",
    ),
    pytest.param(
        Bad(
            "boolcount",
            "tenant_id: boolcount\nname: x\nservice_requirements:\n  chatbot: true\n",
            4,
            "service_requirements.chatbot",
            "valid integer",
        ),
        id="count-true",
    ),
    pytest.param(
        Bad(
            "avail",
            "tenant_id: avail\nname: x\nservice_requirements:\n  chatbot: 1\n"
            'sla_target:\n  availability: "101%"\n',
            6,
            "sla_target.availability",
            "'101%'",
        ),
        id="availability-101-percent",
    ),
    pytest.param(
        Bad(
            "fast",
            "tenant_id: fast\nname: x\nservice_requirements:\n  chatbot: 1\n"
            "sla_target:\n  availability: 99.9%\n  response_time: fast\n",
            7,
            "sla_target.response_time",
            "'fast'",
        ),
        id="response-time-fast",
    ),
    pytest.param(
        Bad("etc", GOOD.format(id="../etc"), 1, "tenant_id", "not a DNS-1123 label"),
        id="tenant-id-dot-dot-etc",
    ),
    pytest.param(
        Bad("upper", GOOD.format(id="UPPER"), 1, "tenant_id", "not a DNS-1123 label"),
        id="tenant-id-upper-case",
    ),
    pytest.param(
        Bad("long", GOOD.format(id=LONG_ID), 1, "tenant_id", "has 64 characters"),
        id="tenant-id-64-characters",
    ),
    pytest.param(
        Bad("mismatch", GOOD.format(id="other"), 1, "tenant_id", "differs from the file name"),
        id="file-name-differs-from-tenant-id",
    ),
    pytest.param(
        Bad(
            "extra",
            "# header comment\n\ntenant_id: extra\nname: x\nservice_requirements:\n"
            "  chatbot: 1\nowner: me\n",
            7,
            "owner",
            "unknown field",
        ),
        id="unknown-top-level-key",
    ),
    pytest.param(
        Bad(
            "wrongtype",
            "tenant_id: wrongtype\nname: 5\nservice_requirements:\n  chatbot: 1\n",
            2,
            "name",
            "valid string (got 5)",
        ),
        id="name-is-a-number",
    ),
    pytest.param(
        Bad(
            "noname",
            "# no name\ntenant_id: noname\nservice_requirements:\n  chatbot: 1\n",
            2,
            "name",
            "Field required",
        ),
        id="missing-required-name",
    ),
    pytest.param(
        Bad(
            "allzero",
            "tenant_id: allzero\nname: x\nservice_requirements:\n  chatbot: 0\n",
            3,
            "service_requirements",
            "at least one service",
        ),
        id="every-service-zero",
    ),
    pytest.param(
        Bad("alist", "- tenant_id: alist\n", 1, None, "must be a YAML mapping"),
        id="top-level-list",
    ),
    pytest.param(
        Bad(
            "pytag",
            "tenant_id: !!python/object/apply:os.system [id]\nname: x\n",
            1,
            None,
            "could not determine a constructor",
        ),
        id="python-tag",
    ),
]


def _expected_prefix(path: Path, bad: Bad) -> str:
    where = f"{path}:{bad.line}" if bad.line is not None else str(path)
    return f"{where}: {bad.field}: " if bad.field else f"{where}: "


@pytest.mark.parametrize("bad", CASES)
def test_parse_spec_rejects_bad_input_naming_line_and_field(bad: Bad) -> None:
    with pytest.raises(SpecInvalid) as caught:
        parse_spec(bad.text, f"tenants/{bad.file_id}.yaml", expected_id=bad.file_id)
    error = caught.value
    assert error.location is not None
    assert error.location.file == f"tenants/{bad.file_id}.yaml"
    assert error.location.line == bad.line
    assert error.location.field == bad.field
    assert bad.message in error.message


@pytest.mark.parametrize("bad", CASES)
def test_load_spec_file_rejects_bad_input_naming_line_and_field(
    bad: Bad, bare_workspace: Path
) -> None:
    path = bare_workspace / "tenants" / f"{bad.file_id}.yaml"
    path.write_text(bad.text, encoding="utf-8")
    with pytest.raises(SpecInvalid) as caught:
        load_spec_file(path)
    assert str(caught.value).startswith(_expected_prefix(path, bad))
    assert bad.message in caught.value.message


@pytest.mark.parametrize("bad", CASES)
def test_ecp_compile_prints_one_error_line_per_bad_spec_and_fails(
    bad: Bad, bare_workspace: Path, ecp: EcpRunner
) -> None:
    path = bare_workspace / "tenants" / f"{bad.file_id}.yaml"
    path.write_text(bad.text, encoding="utf-8")
    run = ecp("compile", root=bare_workspace)
    assert run.code == 1
    assert "Traceback" not in run.stderr + run.stdout
    assert len(run.error_lines) == 1, run.stderr
    line = run.error_lines[0].removeprefix("error: ")
    # the CLI shows paths inside the workspace relative to it, as the README does
    assert line.startswith(_expected_prefix(path.relative_to(bare_workspace), bad)), line
    assert bad.message in line
    assert not (bare_workspace / "output" / bad.file_id).exists()


def test_a_ten_megabyte_spec_is_refused_before_parsing(bare_workspace: Path) -> None:
    text = GOOD.format(id="big") + "description: " + "x" * (10 * 1024 * 1024) + "\n"
    path = bare_workspace / "tenants" / "big.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecInvalid, match="KiB") as from_text:
        parse_spec(text, "tenants/big.yaml", expected_id="big")
    assert from_text.value.location is not None
    assert from_text.value.location.file == "tenants/big.yaml"
    with pytest.raises(SpecInvalid, match="KiB") as from_file:
        load_spec_file(path)
    assert str(from_file.value).startswith(f"{path}: ")


def test_ecp_compile_refuses_a_ten_megabyte_spec_in_one_line(
    bare_workspace: Path, ecp: EcpRunner
) -> None:
    path = bare_workspace / "tenants" / "big.yaml"
    path.write_text(
        GOOD.format(id="big") + "description: " + "x" * (10 * 1024 * 1024) + "\n",
        encoding="utf-8",
    )
    run = ecp("compile", root=bare_workspace)
    assert run.code == 1
    assert "Traceback" not in run.stderr
    assert len(run.error_lines) == 1
    assert run.error_lines[0].startswith("error: tenants/big.yaml: ")
    assert "KiB" in run.error_lines[0]


@pytest.mark.parametrize(
    ("file_id", "message"),
    [
        pytest.param("UPPER", "not a DNS-1123 label", id="upper-case-file-name"),
        pytest.param(LONG_ID, "has 64 characters", id="64-character-file-name"),
        pytest.param("-dash", "not a DNS-1123 label", id="leading-dash-file-name"),
    ],
)
def test_a_spec_file_whose_name_is_no_tenant_id_is_refused_naming_the_file_name(
    file_id: str, message: str, bare_workspace: Path, ecp: EcpRunner
) -> None:
    path = bare_workspace / "tenants" / f"{file_id}.yaml"
    path.write_text(GOOD.format(id=file_id), encoding="utf-8")
    with pytest.raises(ValidationFailed, match=message) as caught:
        load_spec_file(path)
    assert str(caught.value).startswith(f"{path}: file name: ")
    run = ecp("compile", root=bare_workspace)
    assert run.code == 1
    assert "Traceback" not in run.stderr
    assert len(run.error_lines) == 1
    assert run.error_lines[0].startswith(f"error: tenants/{file_id}.yaml: file name: ")
    assert message in run.error_lines[0]
    assert not (bare_workspace / "output" / file_id).exists()


def test_a_spec_with_several_errors_prints_one_line_each_in_document_order(
    bare_workspace: Path, ecp: EcpRunner
) -> None:
    path = bare_workspace / "tenants" / "many.yaml"
    path.write_text(
        "tenant_id: many\nname: 5\nservice_requirements:\n  chatbot: -1\nowner: me\n",
        encoding="utf-8",
    )
    run = ecp("compile", root=bare_workspace)
    assert run.code == 1
    shown = path.relative_to(bare_workspace)
    assert run.error_lines == [
        f"error: {shown}:2: name: Input should be a valid string (got 5)",
        f"error: {shown}:4: service_requirements.chatbot: "
        "Input should be greater than or equal to 0",
        f"error: {shown}:5: owner: unknown field",
    ]


def _deployments(manifest: Path) -> set[str]:
    docs = yaml.safe_load_all(manifest.read_text(encoding="utf-8"))
    return {d["metadata"]["name"] for d in docs if d and d["kind"] == "Deployment"}


def test_a_zero_count_disables_a_service_and_renders_no_deployment_for_it(
    bare_workspace: Path, ecp: EcpRunner
) -> None:
    (bare_workspace / "tenants" / "zero.yaml").write_text(
        "tenant_id: zero\nname: x\nservice_requirements:\n  chatbot: 0\n  callbot: 5\n",
        encoding="utf-8",
    )
    run = ecp("compile", root=bare_workspace)
    assert run.code == 0, run.stderr
    deployments = _deployments(bare_workspace / "output" / "zero" / "manifest.yaml")
    assert "callbot" in deployments
    assert "chatbot" not in deployments


def test_one_bad_spec_does_not_stop_the_others_but_the_exit_code_says_it_failed(
    workspace: Path, ecp: EcpRunner
) -> None:
    (workspace / "tenants" / "broken.yaml").write_text(
        "tenant_id: broken\nname: [\n", encoding="utf-8"
    )
    run = ecp("compile")
    assert run.code == 1
    assert "failed: broken" in run.stderr
    index = json.loads((workspace / "output" / "index.json").read_text(encoding="utf-8"))
    assert sorted(index["tenants"]) == shipped_tenants()
    for tenant_id in shipped_tenants():
        assert (workspace / "output" / tenant_id / "manifest.yaml").is_file()
    assert not (workspace / "output" / "broken").exists()


def test_a_bad_tenant_keeps_its_previous_output_and_index_entry(
    workspace: Path, ecp: EcpRunner
) -> None:
    assert ecp("compile").code == 0
    folder = workspace / "output" / "shop-chat-lite"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    index_file = workspace / "output" / "index.json"
    entry_before = json.loads(index_file.read_text(encoding="utf-8"))["tenants"]["shop-chat-lite"]
    spec = workspace / "tenants" / "shop-chat-lite.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "owner: me\n", encoding="utf-8")

    run = ecp("compile")

    assert run.code == 1
    assert len(run.error_lines) == 1
    assert "owner: unknown field" in run.error_lines[0]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    entry_after = json.loads(index_file.read_text(encoding="utf-8"))["tenants"]["shop-chat-lite"]
    assert entry_after == entry_before
