"""Schema checks and the foreign-manifest loader, against the real bundled schemas."""

from __future__ import annotations

import copy
import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.errors import UsageError
from compiler.validating import Finding, ManifestValidator, load_documents
from compiler.validating.documents import MAX_DEPTH, LoadedDocument
from compiler.validating.findings import json_path
from compiler.validating.schemas import resolve_version, supported_versions

FIXTURES = Path(__file__).parent / "fixtures" / "validating"
OBJECT_META = "/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def fixture_docs(name: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((FIXTURES / name).read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def validator() -> ManifestValidator:
    return ManifestValidator("1.33")


def deployment() -> dict[str, Any]:
    return copy.deepcopy(fixture_docs("differential_valid.yaml")[0])


def errors(validator: ManifestValidator, docs: list[Any]) -> list[Finding]:
    return [f for f in validator.schema_findings(docs) if f.is_error]


def test_every_one_of_three_independent_errors_is_reported_with_its_path(
    validator: ManifestValidator,
) -> None:
    doc = deployment()
    doc["spec"]["replicas"] = "three"
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["requests"]["cpu"] = True
    container["colour"] = "blue"
    found = errors(validator, [doc])
    assert {(f.path, f.rule) for f in found} == {
        ("spec.replicas", "schema"),
        ("spec.template.spec.containers[0].resources.requests.cpu", "schema"),
        ("spec.template.spec.containers[0].colour", "schema"),
    }
    assert all((f.doc_index, f.kind, f.name) == (0, "Deployment", "callbot") for f in found)
    assert any('unknown field "colour"' in f.message for f in found)


def test_a_missing_required_field_is_reported_at_the_field_it_misses(
    validator: ManifestValidator,
) -> None:
    doc = deployment()
    del doc["spec"]["selector"]
    found = errors(validator, [doc])
    assert [(f.path, f.message) for f in found] == [
        ("spec.selector", 'missing required field "selector"')
    ]


def test_errors_carry_the_document_index_in_the_stream(validator: ManifestValidator) -> None:
    good, bad = deployment(), deployment()
    bad["spec"]["replicas"] = "2"
    found = errors(validator, [good, good, bad])
    assert [f.doc_index for f in found] == [2]
    assert str(found[0]) == "doc 2 Deployment/callbot: spec.replicas: expected integer, got string"


def test_error_messages_never_repeat_the_offending_value(validator: ManifestValidator) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "n"},
        "data": {"password": 987654321},
        "stringData": "hunter2-hunter2",
    }
    found = errors(validator, [secret])
    assert len(found) == 2
    assert not any("987654321" in f.message or "hunter2" in f.message for f in found)


def test_validation_leaves_the_objects_unchanged(validator: ManifestValidator) -> None:
    docs = fixture_docs("differential_valid.yaml") + fixture_docs("monitoring.yaml")
    before = copy.deepcopy(docs)
    validator.validate(docs)
    assert docs == before


def test_the_reference_manifests_and_our_monitoring_crds_are_schema_valid(
    validator: ManifestValidator,
) -> None:
    docs = fixture_docs("differential_valid.yaml") + fixture_docs("monitoring.yaml")
    assert errors(validator, docs) == []


@pytest.mark.parametrize(
    ("doc_index", "path", "value", "expected_path"),
    [
        (0, ("spec", "endpoints", 0, "scrapeInterval"), "30s", "spec.endpoints[0].scrapeInterval"),
        (0, ("spec", "endpoints", 0, "interval"), "30 seconds", "spec.endpoints[0].interval"),
        (0, ("spec", "endpoints", 0, "scheme"), "ftp", "spec.endpoints[0].scheme"),
        (0, ("metadata", "labels", "x"), 1, "metadata.labels.x"),
        (
            1,
            ("spec", "groups", 0, "rules", 0, "severity"),
            "high",
            "spec.groups[0].rules[0].severity",
        ),
        (
            1,
            ("spec", "groups", 0, "rules", 0, "for"),
            "five minutes",
            "spec.groups[0].rules[0].for",
        ),
        (1, ("spec", "groups", 0, "name"), "", "spec.groups[0].name"),
    ],
    ids=[
        "servicemonitor-unknown-endpoint-field",
        "servicemonitor-interval-not-a-duration",
        "servicemonitor-bad-scheme",
        "servicemonitor-label-not-a-string",
        "prometheusrule-unknown-rule-field",
        "prometheusrule-for-not-a-duration",
        "prometheusrule-empty-group-name",
    ],
)
def test_monitoring_crds_are_checked_strictly(
    validator: ManifestValidator,
    doc_index: int,
    path: tuple[str | int, ...],
    value: Any,
    expected_path: str,
) -> None:
    doc = fixture_docs("monitoring.yaml")[doc_index]
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert [f.path for f in errors(validator, [doc])] == [expected_path]


def test_a_servicemonitor_without_selector_is_an_error(validator: ManifestValidator) -> None:
    doc = fixture_docs("monitoring.yaml")[0]
    del doc["spec"]["selector"]
    assert [f.path for f in errors(validator, [doc])] == ["spec.selector"]


def test_crd_schemas_close_every_object_they_describe() -> None:
    def open_objects(node: Any, where: str) -> list[str]:
        found = []
        if isinstance(node, dict):
            if "properties" in node and node.get("additionalProperties") is not False:
                found.append(where)
            for key, value in node.items():
                found += open_objects(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                found += open_objects(value, f"{where}/{index}")
        return found

    crds = resources.files("compiler.validating") / "crds"
    names = sorted(entry.name for entry in crds.iterdir() if entry.name.endswith(".json"))
    assert names == ["prometheusrule-monitoring-v1.json", "servicemonitor-monitoring-v1.json"]
    for name in names:
        assert open_objects(json.loads((crds / name).read_text()), name) == []


def test_unknown_kinds_are_errors_in_our_output_and_warnings_for_foreign_files(
    validator: ManifestValidator,
) -> None:
    doc = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    strict = validator.schema_findings([doc])
    lenient = validator.schema_findings([doc], unknown_kind="warning")
    assert [(f.severity, f.rule) for f in strict] == [("error", "unknown-kind")]
    assert [(f.severity, f.rule) for f in lenient] == [("warning", "unknown-kind")]


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("v1", "../../etc"),
        ("../v1", "ConfigMap"),
        ("v1", "Config Map"),
        ("apps/v1/x", "Deployment"),
    ],
    ids=["kind-with-dots", "api-version-with-dots", "kind-with-space", "extra-slash"],
)
def test_names_that_cannot_be_schema_files_are_unknown_kinds(
    validator: ManifestValidator, api_version: str, kind: str
) -> None:
    doc = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    assert [f.rule for f in validator.schema_findings([doc])] == ["unknown-kind"]


def test_an_extra_schema_directory_adds_crds(tmp_path: Path) -> None:
    schema = {
        "x-kubernetes-group-version-kind": [
            {"group": "example.com", "kind": "Widget", "version": "v1"}
        ],
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"$ref": OBJECT_META},
            "size": {"type": "integer"},
        },
        "additionalProperties": False,
    }
    (tmp_path / "widget.json").write_text(json.dumps(schema))
    validator = ManifestValidator("1.33", extra_schemas_dir=tmp_path)
    good = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "size": 2}
    bad = {**good, "size": "big", "metadata": {"name": "w", "nick": "x"}}
    assert validator.schema_findings([good]) == []
    assert sorted(f.path for f in validator.schema_findings([bad])) == ["metadata.nick", "size"]


@pytest.mark.parametrize(
    "doc",
    [
        ["a", "list"],
        "text",
        None,
        {"kind": "Deployment"},
        {"apiVersion": "v1"},
        {"apiVersion": 1, "kind": "Pod"},
        {"apiVersion": "", "kind": "Pod"},
    ],
    ids=["list", "string", "null", "no-apiVersion", "no-kind", "apiVersion-not-a-string", "empty"],
)
def test_a_document_that_is_not_an_object_is_an_error_finding_not_an_exception(
    validator: ManifestValidator, doc: Any
) -> None:
    found = validator.validate([doc])
    assert [(f.severity, f.rule, f.doc_index) for f in found] == [("error", "schema", 0)]


def test_unsupported_kubernetes_versions_are_a_usage_error_listing_supported_ones() -> None:
    with pytest.raises(UsageError) as raised:
        ManifestValidator("1.99")
    assert "1.25" in raised.value.message and "1.37" in raised.value.message
    with pytest.raises(UsageError):
        ManifestValidator("1.20")
    with pytest.raises(UsageError):
        ManifestValidator("latest")


def test_versions_fall_back_like_kubernetes_validate() -> None:
    assert resolve_version("1.33") == "1.33.0"
    assert resolve_version("v1.30.7") == "1.30.0"
    assert supported_versions()[0] == "1.25.0"
    assert ManifestValidator("1.37").schema_version == "1.37.0"


def test_findings_render_as_text_and_as_json() -> None:
    finding = Finding("warning", "latest-tag", "uses :latest", 3, "Deployment", "callbot", "spec")
    assert str(finding) == "doc 3 Deployment/callbot: spec: uses :latest"
    assert json.loads(json.dumps(finding.to_dict()))["rule"] == "latest-tag"
    assert json_path(["resources", "requests", "nvidia.com/gpu"]) == (
        'resources.requests["nvidia.com/gpu"]'
    )
    assert json_path(["containers", 0, "image"]) == "containers[0].image"


# The loader for foreign files.


def test_the_loader_returns_mappings_with_their_starting_lines() -> None:
    text = "# header\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\n\nkind: X\n"
    docs, findings = load_documents(text, "m.yaml")
    assert findings == []
    assert docs == [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
        {"kind": "X"},
    ]
    assert [d.line for d in docs if isinstance(d, LoadedDocument)] == [2, 8]


def test_a_syntax_error_is_a_finding_with_its_line_and_earlier_documents_are_kept() -> None:
    docs, findings = load_documents("a: 1\n---\nb: [1, 2\nc: 3\n", "bad.yaml")
    assert docs == [{"a": 1}]
    assert len(findings) == 1
    assert findings[0].severity == "error" and findings[0].doc_index == 1
    assert findings[0].line == 4
    assert findings[0].message.startswith("YAML syntax error")


def test_aliases_are_refused_so_alias_bombs_cannot_expand() -> None:
    layers = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    layers += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    bomb = "\n".join(layers) + "\n---\nkind: Fine\n"
    started = time.perf_counter()
    docs, findings = load_documents(bomb, "bomb.yaml")
    elapsed = time.perf_counter() - started
    assert docs == [{"kind": "Fine"}]
    assert [f.rule for f in findings] == ["yaml"] and "alias" in findings[0].message
    assert elapsed < 5  # generous sanity bound; the bench measures speed


@pytest.mark.parametrize(
    "depth", [MAX_DEPTH + 1, 5_000, 200_000], ids=["just-over", "deep", "huge"]
)
def test_deeply_nested_documents_are_refused_without_recursion_errors(depth: int) -> None:
    docs, findings = load_documents("a: " + "[" * depth + "]" * depth + "\n", "deep.yaml")
    assert docs == []
    assert len(findings) == 1 and findings[0].severity == "error"


def test_documents_at_the_depth_limit_still_load() -> None:
    depth = MAX_DEPTH - 1  # the top-level mapping is one level
    docs, findings = load_documents("a: " + "[" * depth + "]" * depth + "\n", "ok.yaml")
    assert findings == [] and len(docs) == 1


def test_timestamps_stay_strings_and_non_mappings_are_reported() -> None:
    docs, findings = load_documents("when: 2024-01-01\n---\n- a\n- b\n---\njust text\n", "t.yaml")
    assert docs == [{"when": "2024-01-01"}]
    assert [f.doc_index for f in findings] == [1, 1]
    assert "a list" in findings[0].message and findings[0].line == 3


def test_a_key_given_twice_is_an_error_with_its_line_as_kubectl_reports_it() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: d}\n"
        "data: {a: b}\ndata: {c: d}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: d}\n"
    )
    docs, findings = load_documents(text, "dup.yaml")
    assert [d["kind"] for d in docs] == ["Namespace"]  # the next document is still read
    assert [(f.line, f.message) for f in findings] == [
        (5, "duplicate key 'data' (first on line 4)")
    ]
