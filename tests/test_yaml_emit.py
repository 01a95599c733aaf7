"""The YAML emitter: exact round-trip under YAML 1.1 and 1.2 loaders, kubectl layout, bytes."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from required_tools import require_tool
from ruamel.yaml import YAML

from compiler.errors import ManifestInvalid
from compiler.output.yaml_emit import dump_document, dump_documents


def load_yaml_1_2(text: str) -> Any:
    # pure=True: ruamel's own resolver is then YAML 1.2 for certain, with no libyaml in between.
    return YAML(typ="safe", pure=True).load(text)


def load_all_yaml_1_2(text: str) -> list[Any]:
    return list(YAML(typ="safe", pure=True).load_all(text))


def assert_reads_back(obj: dict[str, Any]) -> str:
    text = dump_document(obj)
    assert text.endswith("\n")
    assert yaml.safe_load(text) == obj
    assert yaml.load(text, Loader=yaml.CSafeLoader) == obj
    assert load_yaml_1_2(text) == obj
    return text


# Strings a loader could read as something else, or that break plain style.
TRICKY_STRINGS = [
    "true", "False", "YES", "no", "On", "off", "y", "N", "null", "Null", "~", "", "<<", "=",
    "1", "-1", "+1", "1.0", ".5", "1e3", "1E+3", "0x1F", "0o17", "012", "0b101", "1_000", "1:20",
    "190:20:30", ".inf", "-.Inf", ".NaN", "2024-01-15", "2001-12-14t21:59:43.10-05:00",
    " lead", "trail ", "-", "- item", "---", "--- x", "...", "? q", ":x", "a:", "a: b",
    "a #b", "#c", "[x]", "{y}", ",z", "&a", "*b", "!t", "|", ">", "'s", '"d', "%p", "@a", "`b",
    "tab\there", "line\nbreak", "cr\rhere", "nul\x00", "bell\x07", "del\x7f", "c1\x85nel",
    "ls\u2028", "ps\u2029", "bom\ufeff",
    "a\n", "a\n\n", "\nlead", " a\nb", "a \nb", "a\tb\nc", "x\n  y\n", "\t\n", "\ufffe",
    "\uffff",
]  # fmt: skip

# Strings common in manifests that must stay bare for readability.
PLAIN_STRINGS = [
    "200m", "512Mi", "4Gi", "nvidia.com/gpu", "ecp-ai/callbot:latest", "redis://redis-service:6379",
    "--port=8080", "-v", "ecp-ai-my-ai-service", "/health", "ClusterIP", "app.kubernetes.io/name",
    "callbot", "한국어 텍스트", "10.0.0.1a", "v1.2.3", "a,b", "--", "x[0]", "sum(rate(x[5m]))",
    "yess", "nope", "nbsp\xa0", "\xa0lead", "back\\slash", 'quo"te', "emoji \U0001f600",
]  # fmt: skip


@pytest.mark.parametrize("text", TRICKY_STRINGS, ids=repr)
def test_a_string_a_loader_could_misread_is_quoted_and_reads_back(text: str) -> None:
    emitted = assert_reads_back({"v": text})
    assert emitted.startswith(('v: "', "v: |"))


@pytest.mark.parametrize("text", TRICKY_STRINGS, ids=repr)
def test_a_tricky_key_reads_back_as_the_same_string(text: str) -> None:
    assert_reads_back({text: 1, "other": {text: [text]}})


@pytest.mark.parametrize("text", PLAIN_STRINGS, ids=repr)
def test_a_common_manifest_string_stays_plain(text: str) -> None:
    assert assert_reads_back({"v": text}) == f"v: {text}\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-42, "-42"),
        (10**30, "1" + "0" * 30),
        (1.5, "1.5"),
        (-0.0, "-0.0"),
        (1e16, "1.0e+16"),
        (2.5e-07, "2.5e-07"),
        ({}, "{}"),
        ([], "[]"),
    ],
    ids=repr,
)
def test_a_non_string_scalar_has_its_canonical_spelling(value: Any, expected: str) -> None:
    assert assert_reads_back({"v": value}) == f"v: {expected}\n"


def test_non_ascii_text_is_written_as_utf8_and_non_printables_are_escaped() -> None:
    text = dump_document({"warning": "GPU 리소스가 초과합니다\x01"})
    assert text == 'warning: "GPU 리소스가 초과합니다\\x01"\n'


def test_a_multi_line_expression_becomes_a_literal_block_at_the_right_indent() -> None:
    rule = {
        "groups": [
            {
                "name": "callbot",
                "rules": [
                    {
                        "alert": "HighLatency",
                        "expr": "histogram_quantile(0.95,\n  sum(rate(x[5m])))\n",
                    },
                    {"expr": "a\n\nb"},
                ],
            }
        ]
    }
    expected = (
        "groups:\n"
        "- name: callbot\n"
        "  rules:\n"
        "  - alert: HighLatency\n"
        "    expr: |\n"
        "      histogram_quantile(0.95,\n"
        "        sum(rate(x[5m])))\n"
        "  - expr: |-\n"
        "      a\n"
        "\n"
        "      b\n"
    )
    assert assert_reads_back(rule) == expected


def test_a_key_too_long_for_an_implicit_key_uses_the_explicit_form() -> None:
    long_key = "k" * 1500
    text = assert_reads_back({long_key: {"a": 1}, "seq": [{long_key: [1, 2]}]})
    assert f"? {long_key}\n:\n  a: 1\n" in text


def test_an_empty_document_is_an_empty_flow_mapping() -> None:
    assert dump_document({}) == "{}\n"
    assert yaml.safe_load(dump_document({})) == {}


def test_a_stream_joins_documents_with_separators_and_no_leading_marker() -> None:
    docs: list[dict[str, Any]] = [{"a": 1}, {}, {"b": ["x", "multi\nline"]}]
    text = dump_documents(docs)
    assert text == "a: 1\n---\n{}\n---\nb:\n- x\n- |-\n  multi\n  line\n"
    assert list(yaml.safe_load_all(text)) == docs
    assert load_all_yaml_1_2(text) == docs


def test_an_empty_stream_is_an_empty_string() -> None:
    assert dump_documents([]) == ""


def test_a_non_finite_float_is_rejected_with_its_path() -> None:
    with pytest.raises(ManifestInvalid) as caught:
        dump_documents([{"ok": 1}, {"spec": {"ports": [{"weight": float("nan")}]}}])
    assert caught.value.details["document"] == 1
    assert caught.value.details["path"] == "spec.ports[0].weight"
    assert "nan" in caught.value.message


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ({"a": {1: "x"}}, "a.1"),
        ({"a": [1, {2.5}]}, "a[1]"),
        ({"a": b"bytes"}, "a"),
        ({"a": float("inf")}, "a"),
    ],
    ids=["int key", "set value", "bytes value", "infinity"],
)
def test_a_value_json_cannot_hold_is_rejected_as_manifest_invalid(
    doc: dict[Any, Any], path: str
) -> None:
    with pytest.raises(ManifestInvalid) as caught:
        dump_document(doc)
    assert caught.value.code == "MANIFEST_INVALID"
    assert caught.value.details["path"] == path


def test_a_document_that_is_not_a_mapping_is_rejected() -> None:
    with pytest.raises(ManifestInvalid):
        dump_documents([["not", "a", "mapping"]])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("docs", "message", "details"),
    [
        (
            [{"ok": 1}, ["not", "a", "mapping"]],
            "cannot write YAML for document 1 at <root>: a document must be a mapping",
            {"document": 1, "path": "", "value_type": "list"},
        ),
        (
            [{"Xkeys": {"Xport": float("inf")}}],
            "cannot write YAML for document 0 at Xkeys.Xport: float inf has no JSON form",
            {"document": 0, "path": "Xkeys.Xport", "value_type": "float"},
        ),
        (
            [{"spec": [{"data": b"raw"}]}],
            "cannot write YAML for document 0 at spec[0].data: bytes is not a JSON value",
            {"document": 0, "path": "spec[0].data", "value_type": "bytes"},
        ),
        (
            [{"labels": {3: "x"}}],
            "cannot write YAML for document 0 at labels.3: mapping key of type int is not a string",
            {"document": 0, "path": "labels.3", "value_type": "int"},
        ),
    ],
    ids=["not-a-mapping", "infinity", "bytes", "int-key"],
)
def test_the_rejection_names_the_document_the_path_and_the_value_type(
    docs: list[Any], message: str, details: dict[str, Any]
) -> None:
    """The message and details a reviewer reads, spelled out in full (docs/reference errors)."""
    with pytest.raises(ManifestInvalid) as caught:
        dump_documents(docs)
    assert caught.value.message == message
    assert caught.value.details == details


# The reference's example Deployment (Manifest API section). The reference quotes some label
# values that need no quotes; the emitter writes them bare, everything else is byte for byte.
REFERENCE_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: callbot
  namespace: ecp-ai-my-ai-service
  labels:
    ecp.ai/service: "callbot"
spec:
  replicas: 3
  selector:
    matchLabels:
      app: callbot
  template:
    metadata:
      labels:
        app: callbot
        ecp.ai/service: "callbot"
        ecp.ai/tenant: "my-ai-service"
    spec:
      containers:
      - name: callbot
        image: ecp-ai/callbot:latest
        ports:
        - containerPort: 8080
        resources:
          requests:
            cpu: 200m
            memory: 512Mi
            nvidia.com/gpu: 1
          limits:
            cpu: 2000m
            memory: 4Gi
            nvidia.com/gpu: 1
        env:
        - name: TENANT_ID
          value: "my-ai-service"
        - name: SERVICE_TYPE
          value: "callbot"
        - name: REDIS_URL
          value: "redis://redis-service:6379"
        livenessProbe:
          httpGet:
            path: /health
            port: 8080
          initialDelaySeconds: 30
          periodSeconds: 10
        readinessProbe:
          httpGet:
            path: /ready
            port: 8080
          initialDelaySeconds: 5
          periodSeconds: 5
"""


def reference_deployment() -> dict[str, Any]:
    container = {
        "name": "callbot",
        "image": "ecp-ai/callbot:latest",
        "ports": [{"containerPort": 8080}],
        "resources": {
            "requests": {"cpu": "200m", "memory": "512Mi", "nvidia.com/gpu": 1},
            "limits": {"cpu": "2000m", "memory": "4Gi", "nvidia.com/gpu": 1},
        },
        "env": [
            {"name": "TENANT_ID", "value": "my-ai-service"},
            {"name": "SERVICE_TYPE", "value": "callbot"},
            {"name": "REDIS_URL", "value": "redis://redis-service:6379"},
        ],
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": 8080},
            "initialDelaySeconds": 30,
            "periodSeconds": 10,
        },
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": 8080},
            "initialDelaySeconds": 5,
            "periodSeconds": 5,
        },
    }
    labels = {"app": "callbot", "ecp.ai/service": "callbot", "ecp.ai/tenant": "my-ai-service"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "callbot",
            "namespace": "ecp-ai-my-ai-service",
            "labels": {"ecp.ai/service": "callbot"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "callbot"}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def test_the_reference_deployment_is_written_in_the_references_own_layout() -> None:
    deployment = reference_deployment()
    assert yaml.safe_load(REFERENCE_DEPLOYMENT) == deployment  # the dict is the reference's
    expected = REFERENCE_DEPLOYMENT.replace('"', "")
    assert assert_reads_back(deployment) == expected


def test_kubectl_kustomize_reads_an_emitted_deployment_back_unchanged(tmp_path: Path) -> None:
    kubectl = require_tool("kubectl")
    deployment = reference_deployment()
    deployment["metadata"]["annotations"] = {"note": "on", "script": "echo 1\necho '2'\n"}
    (tmp_path / "deployment.yaml").write_text(dump_document(deployment), encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text(
        dump_document({"resources": ["deployment.yaml"]}), encoding="utf-8"
    )
    result = subprocess.run(
        [kubectl, "kustomize", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert yaml.safe_load(result.stdout) == deployment


# Hypothesis: JSON-like documents with arbitrary unicode, biased towards the strings above.
strings = st.one_of(st.text(), st.sampled_from(TRICKY_STRINGS + PLAIN_STRINGS))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    strings,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(strings, children, max_size=4)
    ),
    max_leaves=20,
)
documents = st.dictionaries(strings, json_values, max_size=5)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_any_json_like_document_reads_back_equal_under_yaml_1_1_and_1_2(
    doc: dict[str, Any],
) -> None:
    assert_reads_back(doc)


@settings(max_examples=100, deadline=None)
@given(st.lists(documents, max_size=4))
def test_a_stream_is_its_documents_joined_and_reads_back_as_the_same_list(
    docs: list[dict[str, Any]],
) -> None:
    text = dump_documents(docs)
    assert text == "---\n".join(dump_document(doc) for doc in docs)
    assert list(yaml.safe_load_all(text)) == docs
    assert load_all_yaml_1_2(text) == docs


@settings(max_examples=100, deadline=None)
@given(documents)
def test_equal_inputs_give_byte_identical_output(doc: dict[str, Any]) -> None:
    first = dump_document(doc).encode("utf-8", "surrogatepass")
    assert dump_document(copy.deepcopy(doc)).encode("utf-8", "surrogatepass") == first


def test_the_scalar_memo_shared_across_calls_never_changes_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A string first met as a literal-block value, then as a key (which must be quoted), and the
    # other way round; with memo texts from earlier calls the bytes equal a fresh emitter's.
    first = {"data": {"a": "line one\nline two\n"}, "plain": "ok", "yes": "no"}
    second = {"data": {"line one\nline two\n": "a"}, "ok": "plain", "no": "yes"}
    fresh = []
    for doc in (first, second):
        monkeypatch.setattr("compiler.output.yaml_emit._MEMO", {})
        fresh.append(dump_document(doc))
    monkeypatch.setattr("compiler.output.yaml_emit._MEMO", {})
    assert [dump_document(first), dump_document(second)] == fresh
    assert [dump_document(second), dump_document(first)] == fresh[::-1]
    assert yaml.safe_load(fresh[1]) == second


def test_the_scalar_memo_is_emptied_once_it_passes_its_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import compiler.output.yaml_emit as emit

    memo: dict[str, str] = {}
    monkeypatch.setattr(emit, "_MEMO", memo)
    monkeypatch.setattr(emit, "_MEMO_LIMIT", 50)
    for i in range(40):
        dump_document({f"key-{i}": f"value-{i}"})
        assert len(memo) <= 50 + 2  # at most one call's strings beyond the limit
    assert "key-0" not in memo  # emptied on the way
    assert dump_document({"key-0": "value-0"}) == "key-0: value-0\n"
